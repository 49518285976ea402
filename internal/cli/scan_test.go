package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/leakscan"
)

// runRecovery runs scan, rotate or audit under a root command built like
// NewCmdRoot's, with the factory given (tests set its clock and AWS config).
func runRecovery(t *testing.T, f *Factory, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f.IO = &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	g := &globalFlags{output: outputText}
	root := &cobra.Command{Use: "keyleak", SilenceUsage: true, SilenceErrors: true}
	pf := root.PersistentFlags()
	pf.StringVar(&f.AWSOptions.Profile, "profile", "", "")
	pf.StringVar(&f.AWSOptions.Region, "region", "", "")
	pf.StringVar(&f.AWSOptions.EndpointURL, "endpoint-url", "", "")
	pf.VarP(&g.output, "output", "o", "")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	root.AddCommand(newCmdScan(f, g), newCmdRotate(f, g), newCmdAudit(f, g))
	for _, c := range root.Commands() {
		usageErrors(c)
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	cmd, err := root.ExecuteContextC(context.Background())
	code := exitCode(err)
	if err != nil {
		errOut.WriteString("keyleak: " + message(err, code, cmd.CommandPath()) + "\n")
	}
	return code, out.String(), errOut.String()
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestScanCommand(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	const key = "AKIAIOSFODNN7EXAMPLE"
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	root := t.TempDir()
	repo, remote := filepath.Join(root, "repo"), filepath.Join(root, "remote.git")
	gitCmd(t, root, "init", "-q", "--bare", "-b", "main", remote)
	gitCmd(t, root, "init", "-q", "-b", "main", repo)
	gitCmd(t, repo, "remote", "add", "origin", remote)
	if err := os.WriteFile(filepath.Join(repo, "deploy.sh"), []byte("export AWS_ACCESS_KEY_ID="+key+"\nexport AWS_SECRET_ACCESS_KEY="+secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, repo, "add", ".")
	gitCmd(t, repo, "commit", "-q", "-m", "deploy script")
	gitCmd(t, repo, "push", "-q", "origin", "main")
	gitCmd(t, repo, "rm", "-q", "deploy.sh")
	gitCmd(t, repo, "commit", "-q", "-m", "remove it")

	code, out, errOut := runRecovery(t, &Factory{}, "scan", repo, "--key", key)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{key, "PUSHED to origin/main", "deploy.sh:1", "deploy script", "removed from the checked-out tree", "even if the commit is removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, secret) || strings.Contains(out, "wJalr") {
		t.Errorf("the secret is in the output:\n%s", out)
	}

	code, out, _ = runRecovery(t, &Factory{}, "scan", repo, "-o", "json")
	var res struct {
		leakscan.Result
		Guidance []string
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &res) != nil || len(res.Findings) != 2 || len(res.Guidance) == 0 {
		t.Fatalf("-o json: exit %d, %s", code, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("the secret is in the JSON")
	}

	for _, args := range [][]string{
		{"scan", t.TempDir()},                           // not a repository
		{"scan", repo, "--key", secret},                 // a secret as the key
		{"scan", repo, "--key", "AIDAIOSFODNN7EXAMPLE"}, // not an access key
		{"scan"},
	} {
		code, out, errOut := runRecovery(t, &Factory{}, args...)
		if code != ExitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, secret) {
			t.Errorf("%v: exit %d, stderr %q, out %q", args[1:], code, errOut, out)
		}
	}
}
