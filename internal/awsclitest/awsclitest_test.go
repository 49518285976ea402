package awsclitest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awssim"
)

// TestWarmAnswersAsTheCommand runs the same calls through the warm
// interpreter and as `aws` commands and wants the same output and exit
// status: a success, a service error, a usage error, and calls whose
// environment differs (what one call set must not reach the next).
func TestWarmAnswersAsTheCommand(t *testing.T) {
	Need(t)
	bin, _ := exec.LookPath("aws")
	py := pythonOf(bin)
	if py == "" {
		t.Skipf("%s is not the AWS CLI's Python script (a shim or the CLI v2): Run runs it as a command", bin)
	}
	sim, err := awssim.NewFromScenario(mustScenario(t, "github-push"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	r := sim.Responder()
	env := []string{"AWS_ACCESS_KEY_ID=" + r.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + r.Secret,
		"AWS_ENDPOINT_URL=" + srv.URL, "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1"}
	noRegion := []string{"AWS_ACCESS_KEY_ID=" + r.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + r.Secret,
		"AWS_ENDPOINT_URL=" + srv.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}

	calls := []struct {
		name string
		env  []string
		args []string
		code func(int) bool
	}{
		{"success", env, []string{"sts", "get-caller-identity", "--output", "json"}, func(c int) bool { return c == 0 }},
		{"service error", env, []string{"iam", "get-user", "--user-name", "nobody-here", "--output", "json"}, func(c int) bool { return c != 0 }},
		{"usage error", env, []string{"iam", "no-such-operation"}, func(c int) bool { return c != 0 }},
		// The previous calls set a region; this one has none and must
		// fail as a fresh `aws` would.
		{"no region", noRegion, []string{"ec2", "describe-regions", "--output", "json"}, func(c int) bool { return c != 0 }},
		{"region again", env, []string{"ec2", "describe-regions", "--output", "json"}, func(c int) bool { return c == 0 }},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, c := range calls {
		cold, err := runCommand(ctx, bin, c.env, c.args)
		if err != nil {
			t.Fatalf("%s: as a command: %v", c.name, err)
		}
		hot, err := warm.run(ctx, py, c.env, c.args)
		if err != nil {
			t.Fatalf("%s: warm: %v", c.name, err)
		}
		if !c.code(cold.Code) {
			t.Errorf("%s: the command exited %d: %s", c.name, cold.Code, cold.Stderr)
		}
		if hot.Code != cold.Code {
			t.Errorf("%s: warm exit %d, command exit %d\nwarm: %s\ncommand: %s", c.name, hot.Code, cold.Code, hot.Stderr, cold.Stderr)
		}
		if !sameJSON(hot.Stdout, cold.Stdout) {
			t.Errorf("%s: warm printed\n%s\nthe command printed\n%s", c.name, hot.Stdout, cold.Stdout)
		}
		if got, want := firstLine(hot.Stderr), firstLine(cold.Stderr); got != want {
			t.Errorf("%s: warm error %q, command error %q", c.name, got, want)
		}
	}
}

// TestRunEndsWithItsContext: a call whose context ends gets the context's
// error, and the next call is answered (by a fresh interpreter).
func TestRunEndsWithItsContext(t *testing.T) {
	Need(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, nil, "--version"); err == nil {
		t.Fatal("a call with an ended context succeeded")
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, nil, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Stdout)+string(res.Stderr), "aws-cli/") {
		t.Errorf("aws --version printed %q %q", res.Stdout, res.Stderr)
	}
}

func TestPythonOf(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ first, want string }{
		{"#!/usr/bin/python3\n", "/usr/bin/python3"},
		{"#!/root/.pyenv/versions/3.11.7/bin/python\nimport sys\n", "/root/.pyenv/versions/3.11.7/bin/python"},
		{"#!/usr/bin/env bash\n", ""},
		{"#!/usr/bin/env python3\n", ""},
		{"\x7fELF", ""},
	} {
		p := dir + "/aws"
		if err := os.WriteFile(p, []byte(c.first), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := pythonOf(p); got != c.want {
			t.Errorf("pythonOf(%q) = %q, want %q", c.first, got, c.want)
		}
	}
}

func mustScenario(t *testing.T, name string) *awssim.Scenario {
	t.Helper()
	sc, err := awssim.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func sameJSON(a, b []byte) bool {
	if len(strings.TrimSpace(string(a))) == 0 || len(strings.TrimSpace(string(b))) == 0 {
		return strings.TrimSpace(string(a)) == strings.TrimSpace(string(b))
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
