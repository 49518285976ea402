package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The narrated demo runs by itself, contains the key against the simulator
// and leaves a case with its reports.
func TestDemoPlain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, "demo", "--plain", "--tick", "50ms", "--watch", "1s", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"iam UpdateAccessKey", "iam PutUserPolicy", "REGION", "report.xlsx", "Done."} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// Between deactivation and revocation the session key still works;
	// after revocation it is refused.
	before := tally(section(out, "calling AWS right now", "1. Identify"))
	afterContain := tally(section(out, "1. Identify", "2. Revoke"))
	afterRevoke := tally(section(out, "2. Revoke", "3. Investigate"))
	if before["leaked key"] == 0 || before["session key"] == 0 {
		t.Errorf("before containment the attacker should call with the key and the session: %v\n%s", before, out)
	}
	if afterContain["leaked key"] != 0 || afterContain["session key"] == 0 {
		t.Errorf("after deactivation the key must stop and the session go on: %v", afterContain)
	}
	if afterRevoke["session key"] != 0 || afterRevoke["backdoor key"] == 0 {
		t.Errorf("after revocation the session must stop, the backdoor key go on: %v", afterRevoke)
	}
	// After eradication nothing of the attacker's works any more.
	if after := section(out, "4. Remove", "5. Write"); !strings.Contains(after, "delete-user --user-name backup-admin") ||
		!strings.Contains(after, "no call from the attacker") {
		t.Errorf("after eradication the backdoor user must be gone and the attacker silent:\n%s", after)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	for _, f := range []string{"journal.jsonl", "events.jsonl", "report.xlsx", "report.md", "report.json"} {
		if _, err := os.Stat(filepath.Join(cases[0], f)); err != nil {
			t.Errorf("demo case lacks %s: %v", f, err)
		}
	}
	if code, _, errOut := run(t, "case", "verify", cases[0]); code != ExitOK {
		t.Errorf("demo journal does not verify: %s", errOut)
	}
}

// tally reads the watch's summary line ("in 1s: leaked key 3 ok · …") into
// successful calls per key.
func tally(s string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		_, rest, ok := strings.Cut(line, "s: ")
		if !ok || !strings.HasPrefix(strings.TrimSpace(line), "in ") {
			continue
		}
		for _, part := range strings.Split(rest, " · ") {
			var who1, who2 string
			var n int
			if _, err := fmt.Sscanf(part, "%s %s %d ok", &who1, &who2, &n); err == nil {
				out[who1+" "+who2] = n
			}
		}
	}
	return out
}

// section returns the text between two markers.
func section(s, from, to string) string {
	i := strings.Index(s, from)
	j := strings.Index(s, to)
	if i < 0 || j < i {
		return ""
	}
	return s[i:j]
}

// The unattended demo: the scenario's Health event starts respond, which
// contains every credential of the attacker without a question.
func TestDemoUnattended(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := run(t, "demo", "--unattended", "--tick", "50ms", "--watch", "1s", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"AWS_RISK_CREDENTIALS_EXPOSED", "Left for a person", "keyleak eradicate", "Done."} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	before := tally(section(out, "calling AWS right now", "The EventBridge rule"))
	after := tally(section(out, "is refused now", "Done."))
	if before["leaked key"] == 0 {
		t.Errorf("before the response the attacker should call with the key: %v\n%s", before, out)
	}
	for who, n := range after {
		if n > 0 {
			t.Errorf("after the response the %s still works (%d calls):\n%s", who, n, out)
		}
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	if _, err := os.Stat(filepath.Join(cases[0], "trigger.json")); err != nil {
		t.Errorf("the case does not keep the event: %v", err)
	}
}
