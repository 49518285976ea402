package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/playbook"
)

// TestContainAgainAfterReactivation is the response engine's first promise:
// AWS is the truth, the journal the evidence. After containment, someone
// with the AWS CLI turns the key back on and deletes the revoke policy; a
// second `contain --yes -o json` on the same case must find that, contain
// again, and say the key had been found Active — not "Already contained".
func TestContainAgainAfterReactivation(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	srv, leaked := simScenario(t, "github-push")
	responder := srv.Sim.Responder()
	env := simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	caseDir := filepath.Join(t.TempDir(), "new-case")

	if code, out, errOut := run(t, "contain", "--key", leaked.AccessKeyID, "--yes", "--case", caseDir); code != ExitOK {
		t.Fatalf("contain exit %d: %s\n%s", code, errOut, out)
	}
	owner := leaked.UserName
	ctx := context.Background()
	for _, args := range [][]string{
		{"iam", "update-access-key", "--user-name", owner, "--access-key-id", leaked.AccessKeyID, "--status", "Active"},
		{"iam", "delete-user-policy", "--user-name", owner, "--policy-name", playbook.RevokePolicyName},
	} {
		if _, err := awsCLIOutput(ctx, env, args...); err != nil {
			t.Fatal(err)
		}
	}
	if k, _ := srv.Sim.Key(leaked.AccessKeyID); k.Status != "Active" {
		t.Fatalf("the AWS CLI left the key %s", k.Status)
	}

	// A dry run on the case says what AWS says: Active.
	code, out, errOut := run(t, "contain", "--key", leaked.AccessKeyID, "--dry-run", "--case", caseDir, "-o", "json")
	if code != ExitOK {
		t.Fatalf("dry run exit %d: %s", code, errOut)
	}
	var dry playbook.Summary
	if err := json.Unmarshal([]byte(out), &dry); err != nil || dry.KeyStatus != "Active" {
		t.Fatalf("dry run keyStatus %q (%v), want Active", dry.KeyStatus, err)
	}

	code, out, errOut = run(t, "contain", "--key", leaked.AccessKeyID, "--yes", "--case", caseDir, "-o", "json")
	if code != ExitOK {
		t.Fatalf("second contain exit %d: %s\n%s", code, errOut, out)
	}
	var sum playbook.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if sum.KeyStatus != "Inactive" || sum.FoundActiveAgain.IsZero() || sum.RevokedBefore.IsZero() {
		t.Errorf("keyStatus %q, foundActiveAgain %v, sessionsRevokedBefore %v", sum.KeyStatus, sum.FoundActiveAgain, sum.RevokedBefore)
	}
	got, err := awsCLIOutput(ctx, env, "iam", "list-access-keys", "--user-name", owner)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `"Inactive"`) {
		t.Errorf("the AWS CLI lists the key as:\n%s", got)
	}
	if _, err := awsCLIOutput(ctx, env, "iam", "get-user-policy", "--user-name", owner, "--policy-name", playbook.RevokePolicyName); err != nil {
		t.Errorf("the revoke policy is not back: %v", err)
	}
	journal, err := os.ReadFile(filepath.Join(caseDir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(journal), "was found Active at") {
		t.Error("the journal does not say when the key was found Active again")
	}

	// Then investigate and report on the same directory, which did not
	// exist before the first command.
	if code, _, errOut := run(t, "investigate", "--key", leaked.AccessKeyID, "--case", caseDir, "--lookup-rate", "200"); code != ExitOK && code != ExitPartial {
		t.Fatalf("investigate exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "json,md"); code != ExitOK {
		t.Fatalf("report exit %d: %s", code, errOut)
	}
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil || len(md) == 0 {
		t.Fatalf("report.md: %v", err)
	}

	// No file of the case holds a secret or a session token the simulator
	// issued: the leaked key's, or those of every credential made from it.
	secrets := []string{leaked.Secret}
	for _, k := range srv.Sim.Truth().DerivedKeys {
		if c, ok := srv.Sim.Key(k.AccessKeyID); ok {
			secrets = append(secrets, c.Secret, c.SessionToken)
		}
	}
	files, _ := os.ReadDir(caseDir)
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(caseDir, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			if secret != "" && strings.Contains(string(b), secret) {
				t.Errorf("%s holds a secret or session token the simulator issued", f.Name())
			}
		}
	}
}

// TestCaseFlagRefusesAForeignDirectory: --case on a non-empty directory
// that is not a case is refused, and a mistyped key leaves no directory.
func TestCaseFlagRefusesAForeignDirectory(t *testing.T) {
	t.Parallel()
	srv, leaked := simScenario(t, "github-push")
	responder := srv.Sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "contain", "--key", leaked.AccessKeyID, "--yes", "--case", foreign); code != ExitUsage || !strings.Contains(errOut, "not a keyleak case") {
		t.Errorf("foreign dir: exit %d, %q", code, errOut)
	}
	parent := t.TempDir()
	if code, _, _ := run(t, "contain", "--key", "AKIA-NOT-A-KEY", "--yes", "--dir", parent); code != ExitUsage {
		t.Errorf("bad key: exit %d, want %d", code, ExitUsage)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("a mistyped key left %d entries in --dir", len(ents))
	}
}
