package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

// runAt is run with the command's clock set to now.
func runAt(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	io := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	f := testFactory(t, io)
	f.Now = func() time.Time { return now }
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	cmd, err := root.ExecuteContextC(context.Background())
	if err == nil {
		return ExitOK, out.String(), errOut.String()
	}
	code := exitCode(err)
	errOut.WriteString("keyleak: " + message(err, code, cmd.CommandPath()) + "\n")
	return code, out.String(), errOut.String()
}

// TestLostJournalIsDamageNotAFreshStart: a contained case whose journal is
// deleted fails case verify (case.json and contain.json both remember it),
// is refused on resume, and a new case for the key hours later changes
// nothing in AWS: planning reads the account, not the journal.
func TestLostJournalIsDamageNotAFreshStart(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	responder := srv.Sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	key := srv.Sim.LeakedKey()
	dir := t.TempDir()
	now := time.Now()
	if code, _, errOut := runAt(t, now, "contain", "--key", key, "--yes", "--dir", dir); code != ExitOK {
		t.Fatalf("contain: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	caseDir := cases[0]
	if code, out, errOut := run(t, "case", "verify", caseDir); code != ExitOK || !strings.Contains(out, "agrees with case.json") || !strings.Contains(out, "contain.json") {
		t.Fatalf("case verify of an intact case: exit %d %s %s", code, out, errOut)
	}
	if err := os.Remove(filepath.Join(caseDir, playbook.JournalFile)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "case", "verify", caseDir)
	if code == ExitOK || !strings.Contains(out+errOut, "missing or empty") {
		t.Errorf("case verify of a case without its journal: exit %d\n%s\n%s", code, out, errOut)
	}
	// contain.json alone still shows it when case.json's anchor is gone too.
	stripAnchor(t, filepath.Join(caseDir, playbook.CaseFile))
	if code, out, errOut := run(t, "case", "verify", caseDir); code == ExitOK || !strings.Contains(out+errOut, "contain.json records") {
		t.Errorf("case verify without case.json's anchor: exit %d\n%s\n%s", code, out, errOut)
	}

	before := srv.Sim.Truth()
	later := now.Add(3 * time.Hour)
	if code, _, errOut := runAt(t, later, "contain", "--key", key, "--yes", "--case", caseDir); code == ExitOK || !strings.Contains(errOut, "damaged") {
		t.Errorf("resume on a case without its journal: exit %d: %s", code, errOut)
	}
	newDir := t.TempDir()
	if code, out, errOut := runAt(t, later, "contain", "--key", key, "--yes", "--dir", newDir); code != ExitOK || !strings.Contains(out, "Already contained") {
		t.Errorf("a new case for the contained key: exit %d\n%s\n%s", code, out, errOut)
	}
	if changes := writesBy(srv.Sim.Truth(), responder.AccessKeyID, before); len(changes) > 0 {
		t.Errorf("containment repeated after the journal was lost: %v", changes)
	}

	// The new case's journal records what it found in AWS, so its report
	// does not say "not done" of a key deactivated and sessions revoked.
	newCases, _ := filepath.Glob(filepath.Join(newDir, "keyleak-case-*"))
	if len(newCases) != 1 {
		t.Fatalf("new cases: %v", newCases)
	}
	if code, _, errOut := runAt(t, later, "report", "--case", newCases[0], "--format", "json"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	var rep struct {
		Case struct {
			ContainedAt time.Time `json:"containedAt"`
			RevokedAt   time.Time `json:"revokedAt"`
		} `json:"case"`
	}
	b, err := os.ReadFile(filepath.Join(newCases[0], "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Case.ContainedAt.IsZero() || rep.Case.RevokedAt.IsZero() {
		t.Errorf("report of the new case: contained at %v, sessions revoked at %v; want both found in AWS", rep.Case.ContainedAt, rep.Case.RevokedAt)
	}
}

func stripAnchor(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "journal")
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
