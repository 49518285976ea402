package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/awssim"
)

// commandPaths lists every command a user can run, by path without
// "keyleak " ("" is the root), cobra's help and completion included.
func commandPaths(t *testing.T) []string {
	t.Helper()
	root := NewCmdRoot(NewFactory(&IOStreams{}))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), "keyleak"), " "))
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return out
}

// isCobraBuiltin reports the commands cobra adds (help, completion and
// its per-shell commands), which have their own help text.
func isCobraBuiltin(path string) bool {
	return path == "help" || path == "completion" || strings.HasPrefix(path, "completion ")
}

func TestEveryCommandHasExamples(t *testing.T) {
	t.Parallel()
	root := NewCmdRoot(NewFactory(&IOStreams{}))
	for _, path := range commandPaths(t) {
		if isCobraBuiltin(path) {
			continue
		}
		c, _, err := root.Find(strings.Fields(path))
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		if c.Runnable() && !c.HasSubCommands() && c.Example == "" {
			t.Errorf("keyleak %s has no Examples section", path)
		}
	}
	code, out, _ := run(t, "contain", "--help")
	if code != ExitOK || !strings.Contains(out, "Examples:\n  # See the exact calls first") {
		t.Errorf("contain --help shows no examples:\n%s", out)
	}
}

func TestMisspeltCommandSuggests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"contian"}, []string{`unknown command "contian" for "keyleak"; did you mean "contain"?`, "See 'keyleak --help'."}},
		{[]string{"sim", "sevre"}, []string{`did you mean "serve"?`, "See 'keyleak sim --help'."}},
		{[]string{"zzzz"}, []string{`unknown command "zzzz" for "keyleak". See`}},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, w)
			}
		}
		if strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: not one line: %q", tc.args, errOut)
		}
	}
}

func TestUsageErrorPointsAtTheCommandsHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		help string
	}{
		{[]string{"contain"}, "See 'keyleak contain --help'."},
		{[]string{"report", "--case", t.TempDir(), "--lang", "fr"}, "See 'keyleak report --help'."},
		{[]string{"athena", "ddl", "--nosuch"}, "See 'keyleak athena ddl --help'."},
		{[]string{"--nosuch"}, "See 'keyleak --help'."},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != ExitUsage || !strings.HasSuffix(strings.TrimSpace(errOut), tc.help) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 ending %q", tc.args, code, errOut, tc.help)
		}
	}
}

// complete asks the completion machinery what the shell would offer.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errOut := run(t, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	var vals []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			v, _, _ := strings.Cut(l, "\t")
			vals = append(vals, v)
		}
	}
	return vals
}

func TestFlagValueCompletions(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[default]\nregion = us-east-1\n[profile bastion]\n[profile prod-admin]\nsource_profile = bastion\n[sso-session corp]\nsso_region = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(creds, []byte("[bastion]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n[ci]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"contain", "-o", ""}, []string{"text", "json"}},
		{[]string{"report", "--lang", ""}, []string{"en", "ja"}},
		{[]string{"contain", "--profile", ""}, []string{"bastion", "ci", "default", "prod-admin"}},
		{[]string{"rotate", "--to", "credentials:pr"}, []string{"credentials:prod-admin"}},
	} {
		if got := complete(t, tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("%v: completions %q, want %q", tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--scenario", ""}, "github-push"},
		{[]string{"investigate", "--region", ""}, "ap-northeast-1"},
		{[]string{"investigate", "--regions", "us-east-1,"}, "us-east-1,eu-west-1"},
		{[]string{"report", "--format", "xlsx,"}, "xlsx,timesketch"},
	} {
		if got := complete(t, tc.args...); !slices.Contains(got, tc.want) {
			t.Errorf("%v: completions %q lack %q", tc.args, got, tc.want)
		}
	}
}

// Every command either prints one JSON document with -o json or refuses
// it with exit 2 before doing anything. A command added without an entry
// here fails the test.
func TestEveryCommandJSONOrExit2(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50))
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	key := srv.Sim.LeakedKey()
	dir := t.TempDir()
	repo := t.TempDir()
	gitCmd(t, repo, "init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(repo, "deploy.sh"), []byte("export AWS_ACCESS_KEY_ID="+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gitCmd(t, repo, "add", ".")
	gitCmd(t, repo, "commit", "-q", "-m", "deploy script")
	health, ok := srv.Sim.HealthEvent()
	if !ok {
		t.Fatal("github-push emits no Health event")
	}
	event := filepath.Join(t.TempDir(), "health.json")
	if err := os.WriteFile(event, health, 0o600); err != nil {
		t.Fatal(err)
	}
	caseDir := func() string {
		cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-"+key+"-*"))
		if len(cases) != 1 {
			t.Fatalf("cases: %v", cases)
		}
		return cases[0]
	}
	// In order: contain makes the case the later commands read.
	steps := []struct {
		path string
		args func() []string
		json bool
	}{
		{"version", func() []string { return nil }, true},
		{"contain", func() []string { return []string{"--key", key, "--yes", "--dir", dir} }, true},
		{"investigate", func() []string { return []string{"--key", key, "--dir", dir, "--lookup-rate", "40"} }, true},
		{"report", func() []string { return []string{"--case", caseDir(), "--offline", "--tz", "UTC"} }, true},
		{"eradicate", func() []string { return []string{"--key", key, "--dir", dir} }, true},
		{"verify", func() []string {
			return []string{"--key", key, "--dir", dir, "--for", "1s", "--every", "200ms", "--lookup-rate", "50"}
		}, true},
		{"rotate", func() []string {
			return []string{"--key", key, "--dir", dir, "--to", "secretsmanager:ci/deploy", "--dry-run"}
		}, true},
		{"scan", func() []string { return []string{repo} }, true},
		{"audit", func() []string { return nil }, true},
		{"athena ddl", func() []string { return []string{"--bucket", "s3://trail-bucket", "--account", "123456789012"} }, true},
		{"case verify", func() []string { return []string{caseDir()} }, true},
		{"eval", func() []string { return []string{"--scenarios=false"} }, true},
		{"respond", func() []string { return []string{"--event", event, "--plan", "--dir", t.TempDir()} }, true},
		{"", func() []string { return []string{"--key", key} }, false},
		{"demo", func() []string { return nil }, false},
		{"sim", func() []string { return nil }, false},
		{"sim serve", func() []string { return nil }, false},
		{"athena", func() []string { return nil }, false},
		{"case", func() []string { return nil }, false},
		{"help", func() []string { return nil }, false},
		{"completion", func() []string { return nil }, false},
		{"completion bash", func() []string { return nil }, false},
		{"completion zsh", func() []string { return nil }, false},
		{"completion fish", func() []string { return nil }, false},
		{"completion powershell", func() []string { return nil }, false},
	}
	covered := map[string]bool{}
	for _, s := range steps {
		covered[s.path] = true
		args := append(append(strings.Fields(s.path), s.args()...), "-o", "json")
		code, out, errOut := run(t, args...)
		switch {
		case !s.json && (code != ExitUsage || out != ""):
			t.Errorf("keyleak %s -o json: exit %d, stdout %q; want exit 2 and nothing on stdout", s.path, code, out)
		case s.json && (code == ExitUsage || !json.Valid([]byte(out)) || strings.TrimSpace(out) == ""):
			t.Errorf("keyleak %s -o json: exit %d, stdout not one JSON document:\n%s\nstderr: %s", s.path, code, out, errOut)
		}
	}
	for _, p := range commandPaths(t) {
		if !covered[p] {
			t.Errorf("keyleak %s is not checked with -o json", p)
		}
	}
}

func TestManPages(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := WriteManPages(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range commandPaths(t) {
		if isCobraBuiltin(p) {
			continue
		}
		name := "keyleak"
		if p != "" {
			name += "-" + strings.ReplaceAll(p, " ", "-")
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".1"))
		if err != nil {
			t.Errorf("no man page for keyleak %s: %v", p, err)
			continue
		}
		if c := string(b); !strings.Contains(c, ".SH SYNOPSIS") || (p != "" && p != "sim" && p != "athena" && p != "case" && !strings.Contains(c, ".SH EXAMPLE")) {
			t.Errorf("%s.1 lacks its synopsis or examples", name)
		}
	}
}
