package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// startSim runs `keyleak sim serve` in-process and returns the environment
// it printed. The server stops when the test ends.
func startSim(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut strings.Builder
	var wg sync.WaitGroup
	wg.Add(1)
	code := -1
	go func() {
		defer wg.Done()
		code = Run(ctx, append([]string{"sim", "serve", "--tick", "50ms"}, args...), &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: &errOut})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if code != ExitOK {
			t.Errorf("sim serve exited %d: %s", code, errOut.String())
		}
	})
	env := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		kv, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			t.Fatalf("unexpected output line %q", sc.Text())
		}
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		if k == "KEYLEAK_LEAKED_KEY" {
			break // the last line
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(env) < 6 {
		t.Fatalf("sim serve printed %v; stderr: %s", env, errOut.String())
	}
	return env
}

// awsCLI runs the AWS CLI against the environment and decodes its JSON.
func awsCLI(t *testing.T, env map[string]string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	none := filepath.Join(t.TempDir(), "none")
	b, err := awsclitest.Output(ctx, append([]string{
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none,
		"AWS_MAX_ATTEMPTS=20", "AWS_RETRY_MODE=standard"}, envList(env)...), append(args, "--output", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("aws %s printed non-JSON: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// envList is env as KEY=value lines, for awsclitest.Run.
func envList(env map[string]string) []string {
	var l []string
	for k, v := range env {
		l = append(l, k+"="+v)
	}
	return l
}

func needAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is not on PATH; CI must provide it")
		}
		t.Skip("the AWS CLI is not on PATH; install it to run this test")
	}
}

// The AWS CLI, an independent client, works against `keyleak sim serve`.
func TestSimServeWithAWSCLI(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	env := startSim(t, "--scenario", "github-push", "--lookup-rate", "50")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "KEYLEAK_LEAKED_KEY"} {
		if env[k] == "" {
			t.Fatalf("sim serve did not print %s", k)
		}
	}
	if !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on loopback", env["AWS_ENDPOINT_URL"])
	}

	var who struct{ Account, Arn string }
	awsCLI(t, env, &who, "sts", "get-caller-identity")
	if len(who.Account) != 12 || !strings.Contains(who.Arn, ":user/") {
		t.Errorf("get-caller-identity = %+v", who)
	}

	var truth struct {
		LeakedKey string
		Events    []struct {
			EventID, Region, AccessKeyID string
		}
	}
	getJSON(t, env["AWS_ENDPOINT_URL"]+"/_sim/truth", &truth)
	// The leaked key's owner, found the way a responder would: one call
	// names it, the owner's key list confirms it (one AWS CLI run costs a
	// second of Python start-up, so not one per user).
	var lastUsed struct{ UserName string }
	awsCLI(t, env, &lastUsed, "iam", "get-access-key-last-used", "--access-key-id", env["KEYLEAK_LEAKED_KEY"])
	var users struct{ Users []struct{ UserName string } }
	awsCLI(t, env, &users, "iam", "list-users")
	owner := ""
	for _, u := range users.Users {
		if u.UserName == lastUsed.UserName {
			owner = u.UserName
		}
	}
	if owner == "" {
		t.Fatalf("get-access-key-last-used names %q, not a user list-users lists", lastUsed.UserName)
	}
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId, Status, UserName string }
	}
	awsCLI(t, env, &keys, "iam", "list-access-keys", "--user-name", owner)
	listed := false
	for _, k := range keys.AccessKeyMetadata {
		listed = listed || k.AccessKeyId == env["KEYLEAK_LEAKED_KEY"]
	}
	if !listed {
		t.Fatalf("%s does not list the leaked key %s", owner, env["KEYLEAK_LEAKED_KEY"])
	}

	var regions struct {
		Regions []struct{ RegionName, OptInStatus string }
	}
	awsCLI(t, env, &regions, "ec2", "describe-regions", "--all-regions")
	notOpted := 0
	for _, r := range regions.Regions {
		if r.OptInStatus == "not-opted-in" {
			notOpted++
		}
	}
	if len(regions.Regions) < 20 || notOpted == 0 {
		t.Errorf("describe-regions --all-regions gave %d regions, %d not opted in", len(regions.Regions), notOpted)
	}

	// Every event of the leaked key in us-east-1, paginated by the CLI.
	want := map[string]bool{}
	for _, e := range truth.Events {
		if e.Region == "us-east-1" && e.AccessKeyID == truth.LeakedKey {
			want[e.EventID] = true
		}
	}
	if len(want) <= 50 {
		t.Fatalf("scenario has only %d events of the leaked key in us-east-1; pagination is not exercised", len(want))
	}
	var got struct {
		Events []struct{ EventId, AccessKeyId string }
	}
	awsCLI(t, env, &got, "cloudtrail", "lookup-events", "--region", "us-east-1",
		"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+env["KEYLEAK_LEAKED_KEY"])
	seen := map[string]bool{}
	for _, e := range got.Events {
		if seen[e.EventId] {
			t.Errorf("event %s returned twice", e.EventId)
		}
		seen[e.EventId] = true
		if e.AccessKeyId != env["KEYLEAK_LEAKED_KEY"] {
			t.Errorf("event %s is of key %s", e.EventId, e.AccessKeyId)
		}
	}
	// The ongoing attacker may have acted since the truth was read: every
	// event of the truth must be there; newer ones may be too.
	for id := range want {
		if !seen[id] {
			t.Errorf("event %s of the leaked key is missing from lookup-events", id)
		}
	}
}

func TestSimServeBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sim", "serve", "--scenario", "no-such-scenario"},
		{"sim", "serve", "--addr", "0.0.0.0:0"},
		{"sim", "serve", "--faults", "latency=banana"},
		{"sim", "serve", "--volume", "-1"},
		{"sim", "serve", "--volume", "2000000000"}, // refused before a byte is allocated, not OOM-killed
	} {
		code, out, errOut := run(t, args...)
		if code != ExitUsage || out != "" || !strings.HasPrefix(errOut, "keyleak: ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// sim serve --health-event writes the scenario's Health event to a file or
// posts it to a loopback URL, and refuses any other place.
func TestEmitHealthEvent(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	ev, ok := srv.Sim.HealthEvent()
	if !ok {
		t.Fatal("github-push declares no detection")
	}
	file := filepath.Join(t.TempDir(), "health.json")
	var log strings.Builder
	emitHealthEvent(t.Context(), &log, file, ev)
	b, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(b), srv.Sim.LeakedKey()) || !strings.Contains(string(b), `"source": "aws.health"`) {
		t.Errorf("file: %v\n%s", err, b)
	}
	got := make(chan string, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- string(body)
	}))
	defer hook.Close()
	emitHealthEvent(t.Context(), &log, hook.URL, ev)
	if body := <-got; body != string(ev) {
		t.Errorf("posted %q", body)
	}
	for _, bad := range []string{"https://example.com/hook", "http://10.0.0.1/hook", "ftp://127.0.0.1/x"} {
		if err := checkHealthTarget(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if err := checkHealthTarget(file); err != nil {
		t.Errorf("a file refused: %v", err)
	}
}

// TestSimServeBastionMFAWithAWSCLI: `sim serve --scenario bastion-mfa` names
// the role and the MFA device, and a file where the simulated device shows
// its code; with them the AWS CLI reaches production through the role.
func TestSimServeBastionMFAWithAWSCLI(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	env := startSim(t, "--scenario", "bastion-mfa", "--lookup-rate", "50")
	if env["KEYLEAK_ROLE_ARN"] != "arn:aws:iam::318457206934:role/incident-responder" || env["KEYLEAK_MFA_SERIAL"] == "" {
		t.Fatalf("sim serve printed %v", env)
	}
	code, err := os.ReadFile(env["KEYLEAK_MFA_CODE_FILE"])
	if err != nil {
		t.Fatalf("read the MFA code file: %v", err)
	}
	var role struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	}
	awsCLI(t, env, &role, "sts", "assume-role", "--role-arn", env["KEYLEAK_ROLE_ARN"], "--role-session-name", "responder",
		"--serial-number", env["KEYLEAK_MFA_SERIAL"], "--token-code", strings.TrimSpace(string(code)))
	session := maps.Clone(env)
	session["AWS_ACCESS_KEY_ID"], session["AWS_SECRET_ACCESS_KEY"] = role.Credentials.AccessKeyId, role.Credentials.SecretAccessKey
	session["AWS_SESSION_TOKEN"] = role.Credentials.SessionToken
	var who struct{ Account, Arn string }
	awsCLI(t, session, &who, "sts", "get-caller-identity")
	if who.Account != "318457206934" || !strings.Contains(who.Arn, ":assumed-role/incident-responder/") {
		t.Errorf("get-caller-identity with the role session = %+v", who)
	}
}
