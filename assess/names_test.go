package assess_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/assess"
)

// eventNames are the names CloudTrail writes, by eventSource: the SDK's
// operations (testdata/eventnames.txt, generated from the service models by
// internal/gennames, one source a line) and the short documented list of
// names that are no operation (testdata/cloudtrail-only.txt, one pair a
// line).
type eventNames map[string]map[string]bool

func loadEventNames(t testing.TB) eventNames {
	t.Helper()
	names := eventNames{}
	for _, f := range []string{"testdata/eventnames.txt", "testdata/cloudtrail-only.txt"} {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			if len(fields) < 2 {
				t.Fatalf("%s:%d: want an eventSource and its event names", f, n)
			}
			if names[fields[0]] == nil {
				names[fields[0]] = map[string]bool{}
			}
			for _, name := range fields[1:] {
				names[fields[0]][name] = true
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// check returns what is wrong with the rules' event names: a rule that names
// events must name their sources, every name must be one CloudTrail writes
// for one of them, and every source must have one of the names.
func (v eventNames) check(rules []assess.Rule) []string {
	var bad []string
	for _, r := range rules {
		m := r.Match
		if len(m.Name) == 0 {
			continue
		}
		if len(m.Source) == 0 {
			bad = append(bad, fmt.Sprintf("%s: names events but no eventSource", r.ID))
			continue
		}
		for _, src := range m.Source {
			if v[src] == nil {
				bad = append(bad, fmt.Sprintf("%s: no event names known for %s (regenerate testdata/eventnames.txt, or fix the source)", r.ID, src))
			}
		}
		used := map[string]bool{}
		for _, n := range m.Name {
			found := false
			for _, src := range m.Source {
				if v[src][n] {
					found, used[src] = true, true
				}
			}
			if !found {
				bad = append(bad, fmt.Sprintf("%s: %s is no event CloudTrail writes for %s%s", r.ID, n, strings.Join(m.Source, ", "), v.hint(n)))
			}
		}
		for _, src := range m.Source {
			if v[src] != nil && !used[src] {
				bad = append(bad, fmt.Sprintf("%s: none of its names is an event of %s", r.ID, src))
			}
		}
	}
	return bad
}

// hint names the sources that do have the event name, for a name given
// under the wrong source.
func (v eventNames) hint(name string) string {
	var in []string
	for src, ns := range v {
		if ns[name] {
			in = append(in, src)
		}
	}
	if len(in) == 0 {
		return ""
	}
	slices.Sort(in)
	return " (it is one of " + strings.Join(in, ", ") + ")"
}

// TestRuleEventNamesAreCloudTrailNames checks every built-in rule's event
// names against the SDK's service models, so that a misspelt name, an IAM
// permission name or an unversioned Lambda name fails here instead of
// silently never matching.
func TestRuleEventNamesAreCloudTrailNames(t *testing.T) {
	for _, msg := range loadEventNames(t).check(builtin(t).Rules()) {
		t.Error(msg)
	}
}

// TestNameCheckCatchesMisspelling makes sure the check above can fail: a
// misspelt name, a permission name, an unversioned Lambda name and a name
// under the wrong service are each reported.
func TestNameCheckCatchesMisspelling(t *testing.T) {
	dir := t.TempDir()
	rules := `rules:
  - id: site.typo
    category: persistence
    severity: high
    technique: T1136.003
    explanation: x
    action: x
    match:
      source: iam.amazonaws.com
      name: [CreateUser, CreatUser]
  - id: site.permission-name
    category: defense-evasion
    severity: high
    technique: T1562.008
    explanation: x
    action: x
    match:
      source: s3.amazonaws.com
      name: PutEncryptionConfiguration
  - id: site.lambda-unversioned
    category: execution
    severity: high
    technique: T1648
    explanation: x
    action: x
    match:
      source: lambda.amazonaws.com
      name: CreateFunction
  - id: site.wrong-service
    category: impact
    severity: high
    technique: T1485
    explanation: x
    action: x
    match:
      source: route53.amazonaws.com
      name: TransferDomainToAnotherAwsAccount
`
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := assess.LoadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	var site []assess.Rule
	for _, r := range cat.Rules() {
		if strings.HasPrefix(r.ID, "site.") {
			site = append(site, r)
		}
	}
	got := strings.Join(loadEventNames(t).check(site), "\n")
	for _, want := range []string{
		"site.typo: CreatUser is no event",
		"site.permission-name: PutEncryptionConfiguration is no event",
		"site.lambda-unversioned: CreateFunction is no event",
		"site.wrong-service: TransferDomainToAnotherAwsAccount is no event CloudTrail writes for route53.amazonaws.com (it is one of route53domains.amazonaws.com)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("check did not report %q; it said:\n%s", want, got)
		}
	}
	if strings.Contains(got, "CreateUser is no event") {
		t.Errorf("check reported a correct name:\n%s", got)
	}
}
