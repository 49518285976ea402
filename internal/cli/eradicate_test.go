package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/playbook"
)

func TestEradicateGitHubPush(t *testing.T) {
	t.Parallel()
	caseDir, srv := githubPushCase(t)
	key := srv.Sim.LeakedKey()
	attackerLeft := func() []string {
		var out []string
		for _, r := range srv.Sim.Truth().Resources {
			if r.Attacker && r.Present() {
				out = append(out, r.Type+" "+r.ID)
			}
		}
		return out
	}
	if len(attackerLeft()) == 0 {
		t.Fatal("the scenario left no attacker resource to remove")
	}
	// --yes without a list is refused.
	if code, _, errOut := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes"); code != ExitUsage {
		t.Errorf("--yes without --only: exit %d, %s", code, errOut)
	}
	// The plan changes nothing.
	before := srv.Sim.Truth()
	code, out, errOut := run(t, "eradicate", "--key", key, "--case", caseDir)
	if code != ExitOK || !strings.Contains(out, "terminate-instances") || !strings.Contains(out, "delete-user") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	if w := writesBy(srv.Sim.Truth(), srv.Sim.Responder().AccessKeyID, before); len(w) > 0 {
		t.Errorf("the plan made write calls: %v", w)
	}
	// Remove everything the findings list, by explicit list.
	var f assess.Findings
	b, err := os.ReadFile(filepath.Join(caseDir, playbook.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tg := range assess.Targets(f.Resources, false) {
		ids = append(ids, tg.Key())
	}
	code, out, errOut = run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", strings.Join(ids, ","))
	if code != ExitOK {
		t.Fatalf("eradicate: exit %d\n%s\n%s", code, out, errOut)
	}
	if left := attackerLeft(); len(left) > 0 {
		t.Errorf("still present after eradication: %v", left)
	}
	// A second run finds nothing to do and changes nothing.
	before = srv.Sim.Truth()
	if code, out, _ := run(t, "eradicate", "--key", key, "--case", caseDir, "--apply", "--yes", "--only", strings.Join(ids, ",")); code != ExitOK && code != ExitUsage {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if w := writesBy(srv.Sim.Truth(), srv.Sim.Responder().AccessKeyID, before); len(w) > 0 {
		t.Errorf("second run made write calls: %v", w)
	}
	// The report says what was removed.
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md"); code != ExitOK {
		t.Fatalf("report: %s", errOut)
	}
	md, _ := os.ReadFile(filepath.Join(caseDir, "report.md"))
	removed := 0
	for _, line := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(line, "| `AWS::") && strings.Contains(line, "removed by keyleak") {
			removed++
		}
	}
	if removed < len(ids) {
		t.Errorf("report.md shows %d resources removed by keyleak, want %d:\n%s", removed, len(ids), md)
	}
}
