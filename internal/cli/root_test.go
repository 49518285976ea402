package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyleak/keyleak/internal/awsapi"
)

// run runs keyleak in-process and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runFactory(context.Background(), testFactory(t, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}), args)
	return code, out.String(), errOut.String()
}

func TestHelpListsCommands(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range []string{"contain", "investigate", "report", "demo", "sim", "version", "--profile", "--region", "--endpoint-url", "--output"} {
		if !strings.Contains(out, c) {
			t.Errorf("--help does not mention %s", c)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "version")
	if code != ExitOK || !strings.HasPrefix(out, "keyleak ") {
		t.Fatalf("exit %d, out %q", code, out)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"no-such-command"},
		{"--no-such-flag"},
		{"-o", "yaml", "version"},
		{"version", "extra"},
		{"contain", "--no-such-flag"},
		{"contain"}, // required flag(s) "key" not set
		{"report"},  // required flag(s) "case" not set
		{"sim", "no-such-command"},
		{"case", "no-such-command"},
		{"case", "verify"},
	} {
		code, out, errOut := run(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
		if out != "" {
			t.Errorf("%v: printed %q on stdout", args, out)
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%v: want one line on stderr, got %q", args, errOut)
		}
	}
}

// TestMissingRequiredFlagsExit2 walks the command tree: every command run
// without one of its required flags is a usage error.
func TestMissingRequiredFlagsExit2(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(fl *pflag.Flag) {
			if _, required := fl.Annotations[cobra.BashCompOneRequiredFlag]; !required {
				return
			}
			checked++
			args := strings.Fields(c.CommandPath())[1:]
			code, out, errOut := run(t, args...)
			if code != ExitUsage || out != "" || !strings.Contains(errOut, fl.Name) {
				t.Errorf("%v without --%s: exit %d, stdout %q, stderr %q; want %d and a sentence naming the flag", args, fl.Name, code, out, errOut, ExitUsage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCmdRoot(NewFactory(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})))
	if checked == 0 {
		t.Fatal("no command has a required flag; the walk is broken")
	}
}

// TestNoCredentialsExit4 runs contain where there are no AWS credentials at
// all: no AWS_* variables, an empty home, and instance metadata that is not
// there. It must fail with the auth exit code and one sentence, with none of
// the SDK's own log lines or wording, on either stream or on the process's
// stderr (where the SDK's default logger writes).
func TestNoCredentialsExit4(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", t.TempDir())
	// A test must never reach a real instance's metadata: a stand-in on
	// loopback answers as the metadata address of a machine that is no
	// EC2 instance often does.
	noMetadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			http.Error(w, "forbidden", http.StatusForbidden) // the SDK falls back to IMDSv1 and logs a warning
			return
		}
		http.NotFound(w, r)
	}))
	defer noMetadata.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", noMetadata.URL)

	stderr, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	saved := os.Stderr
	os.Stderr = stderr
	code, out, errOut := run(t, "contain", "--key", "AKIAIOSFODNN7EXAMPLE", "--dry-run", "--dir", t.TempDir())
	os.Stderr = saved
	process, err := os.ReadFile(stderr.Name())
	if err != nil {
		t.Fatal(err)
	}

	if code != ExitAuth {
		t.Errorf("exit %d, want %d (stderr %q)", code, ExitAuth, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); len(lines) != 1 || !strings.Contains(errOut, "no AWS credentials") {
		t.Errorf("stderr %q: want one sentence saying there are no credentials", errOut)
	}
	for name, s := range map[string]string{"stdout": out, "stderr": errOut, "process stderr": string(process)} {
		for _, bad := range []string{"SDK", "IMDS", "ec2imds"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s has %q: %q", name, bad, s)
			}
		}
	}
}

func TestExitCodeTable(t *testing.T) {
	t.Parallel()
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	tests := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("boom"), ExitError},
		{usageErrorf("bad key"), ExitUsage},
		{&PartialError{Err: errors.New("eu-west-1 failed")}, ExitPartial},
		{&AuthError{Err: errors.New("no credentials")}, ExitAuth},
		{fmt.Errorf("get caller identity: %w", &awsapi.NoCredentialsError{Err: errors.New("no EC2 IMDS role found")}), ExitAuth},
		{fmt.Errorf("update access key: %w", denied), ExitAuth},
		{fmt.Errorf("run: %w", context.Canceled), ExitCancelled},
		{&smithy.GenericAPIError{Code: "Throttling"}, ExitError},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestHelpDoesNotLoadAWSConfig(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	loaded := false
	f.loadConfig = func(context.Context, awsapi.Options) (aws.Config, error) {
		loaded = true
		return aws.Config{}, nil
	}
	root := NewCmdRoot(f)
	root.SetArgs([]string{"contain", "--help"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatalf("contain --help: %v", err)
	}
	if loaded {
		t.Fatal("--help loaded the AWS config")
	}
}
