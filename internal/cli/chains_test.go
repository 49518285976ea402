package cli

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/mototest"
)

// The responder's credentials, set up the ways the practice teaches: each
// chain runs `keyleak contain --dry-run` end to end against the bastion-mfa
// scenario (or moto), with every request held to loopback.

// offLoopback refuses and records every request and connection that would
// leave loopback; a test that ends with one recorded fails.
type offLoopback struct {
	mu   sync.Mutex
	seen []string
}

func guardLoopback(t *testing.T) *offLoopback {
	g := &offLoopback{}
	t.Cleanup(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.seen) > 0 {
			t.Errorf("requests left loopback: %v", g.seen)
		}
	})
	return g
}

func (g *offLoopback) refuse(where string) error {
	g.mu.Lock()
	g.seen = append(g.seen, where)
	g.mu.Unlock()
	return fmt.Errorf("refused off loopback: %s", where)
}

func loopbackIP(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (g *offLoopback) transport(t *http.Transport) {
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if !loopbackIP(r.URL.Hostname()) {
			return nil, g.refuse(r.URL.String())
		}
		return nil, nil
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, err := net.SplitHostPort(addr); err != nil || !loopbackIP(host) {
			return nil, g.refuse(addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// chainEnv clears every AWS variable, points the SDK at a config file with
// the given text and a HOME of its own (for the SSO cache), and returns the
// HOME.
func chainEnv(t *testing.T, configText string) string {
	t.Helper()
	home := t.TempDir()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") && k != "AWS_CA_BUNDLE" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	cfgFile := filepath.Join(home, "config")
	if err := os.WriteFile(cfgFile, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", home)
	return home
}

// mfaPrompt answers the MFA prompt with the simulated device's current
// code (or a fixed one) through the terminal prompt's own reader, and
// remembers what it was asked.
type mfaPrompt struct {
	code  func(serial string) string
	asked []string
	shown bytes.Buffer
}

func (p *mfaPrompt) read(serial string) (string, error) {
	p.asked = append(p.asked, serial)
	return awsapi.ReadToken(strings.NewReader(p.code(serial)+"\n"), &p.shown, serial)
}

func deviceCode(t *testing.T, sim *awssim.Sim) func(string) string {
	return func(serial string) string {
		code, err := sim.MFACode(serial, time.Now())
		if err != nil {
			t.Error(err)
		}
		return code
	}
}

// runChain runs keyleak with the prompt and the loopback guard injected.
func runChain(t *testing.T, prompt *mfaPrompt, guard *offLoopback, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(&IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if prompt != nil {
		f.AWSOptions.TokenPrompt = prompt.read
	}
	f.AWSOptions.Transport = guard.transport
	code := runFactory(context.Background(), f, args)
	return code, out.String(), errOut.String()
}

// bastionProfiles is the AWS config of a responder who follows seed 003:
// the bastion user's key, and prod-admin, the MFA-gated role reached from
// it, with the endpoint in the profile.
func bastionProfiles(ra awssim.ResponderAccess, endpoint string) string {
	return fmt.Sprintf(`[profile bastion]
aws_access_key_id = %s
aws_secret_access_key = %s
region = us-east-1

[profile prod-admin]
source_profile = bastion
role_arn = %s
mfa_serial = %s
endpoint_url = %s
region = us-east-1
`, ra.Key.AccessKeyID, ra.Key.Secret, ra.RoleARN, ra.MFASerial, endpoint)
}

func containDryRun(key string, t *testing.T, extra ...string) []string {
	return append([]string{"contain", "--key", key, "--dry-run", "--dir", t.TempDir(), "--lookup-rate", "50"}, extra...)
}

// oneSentence checks that a failure is one line on stderr that names the
// profile and the step of the chain.
func oneSentence(t *testing.T, errOut string, wants ...string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("want one line on stderr, got:\n%s", errOut)
	}
	for _, w := range wants {
		if !strings.Contains(errOut, w) {
			t.Errorf("stderr lacks %q: %s", w, errOut)
		}
	}
}

// TestChainBastionMFARole is the profile of the issue: prod-admin with
// source_profile, role_arn, mfa_serial and endpoint_url. keyleak asks for
// the code, the provider's AssumeRole goes to the simulator, and
// `contain --dry-run` exits 0; a wrong code is named and exits 4.
func TestChainBastionMFARole(t *testing.T) {
	srv := serveScenario(t, "bastion-mfa", awssim.WithLookupRate(100, 100))
	ra := srv.Sim.ResponderAccess()
	leaked := srv.Sim.LeakedKey()
	chainEnv(t, bastionProfiles(ra, srv.URL))

	prompt := &mfaPrompt{code: deviceCode(t, srv.Sim)}
	code, out, errOut := runChain(t, prompt, guardLoopback(t), containDryRun(leaked, t, "--profile", "prod-admin")...)
	if code != ExitOK {
		t.Fatalf("contain --dry-run through the MFA role: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(prompt.asked) != 1 || prompt.asked[0] != ra.MFASerial {
		t.Errorf("MFA prompts: %v, want one for %s", prompt.asked, ra.MFASerial)
	}
	if got := prompt.shown.String(); got != "MFA code for "+ra.MFASerial+": " {
		t.Errorf("prompt = %q", got)
	}
	if !strings.Contains(out, "iam UpdateAccessKey") {
		t.Errorf("dry run does not show the deactivation:\n%s", out)
	}
	if k, _ := srv.Sim.Key(leaked); k.Status != "Active" {
		t.Errorf("the dry run changed the key: %s", k.Status)
	}
	// deploy-bot, the leaked key's owner, is what seed 003 forbids: the
	// run says so in plain words.
	for _, want := range []string{"user deploy-bot has no MFA device", "assume roles (", "without aws:MultiFactorAuthPresent"} {
		if !strings.Contains(out+errOut, want) {
			t.Errorf("contain does not name the MFA gap (%q):\n%s\n%s", want, out, errOut)
		}
	}

	wrong := &mfaPrompt{code: func(string) string { return "000000" }}
	if deviceCode(t, srv.Sim)(ra.MFASerial) == "000000" {
		wrong.code = func(string) string { return "000001" }
	}
	code, _, errOut = runChain(t, wrong, guardLoopback(t), containDryRun(leaked, t, "--profile", "prod-admin")...)
	if code != ExitAuth {
		t.Fatalf("wrong MFA code: exit %d, want %d\n%s", code, ExitAuth, errOut)
	}
	oneSentence(t, errOut, `profile "prod-admin"`, "AssumeRole of "+ra.RoleARN, `profile "bastion"`, "MFA device "+ra.MFASerial, "AccessDenied")
}

// TestChainTwoHops: a role assumed from the MFA-gated role (role chaining):
// one prompt, both hops to the simulator; a hop whose trust policy refuses
// is named with its profile and its source.
func TestChainTwoHops(t *testing.T) {
	srv := serveScenario(t, "bastion-mfa", awssim.WithLookupRate(100, 100))
	ra := srv.Sim.ResponderAccess()
	trust := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
	}
	created := time.Now().Add(-time.Hour)
	if err := srv.Sim.AddRole("case-worker", trust(ra.RoleARN), created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Sim.AddRole("closed-room", trust("arn:aws:iam::318457206934:role/ops-admin"), created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	profiles := bastionProfiles(ra, srv.URL) + fmt.Sprintf(`
[profile case-worker]
source_profile = prod-admin
role_arn = arn:aws:iam::318457206934:role/case-worker
endpoint_url = %[1]s

[profile closed-room]
source_profile = prod-admin
role_arn = arn:aws:iam::318457206934:role/closed-room
endpoint_url = %[1]s
`, srv.URL)
	chainEnv(t, profiles)

	prompt := &mfaPrompt{code: deviceCode(t, srv.Sim)}
	code, out, errOut := runChain(t, prompt, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "case-worker")...)
	if code != ExitOK {
		t.Fatalf("two hops: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(prompt.asked) != 1 {
		t.Errorf("MFA prompts: %v, want one", prompt.asked)
	}
	// The role session of the second hop made the calls.
	var byCaseWorker int
	for _, e := range srv.Sim.Truth().Events {
		if k, ok := srv.Sim.Key(e.AccessKeyID); ok && k.RoleName == "case-worker" && e.EventName == "UpdateAccessKey" {
			t.Errorf("the dry run deactivated a key: %+v", e)
		} else if ok && k.RoleName == "case-worker" {
			byCaseWorker++
		}
	}
	if byCaseWorker == 0 {
		t.Error("no call of a case-worker session reached the simulator")
	}

	prompt = &mfaPrompt{code: func(serial string) string {
		// The first run spent the current code; the next step's is
		// still within the skew AWS allows.
		code, _ := srv.Sim.MFACode(serial, time.Now().Add(30*time.Second))
		return code
	}}
	code, _, errOut = runChain(t, prompt, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "closed-room")...)
	if code != ExitAuth {
		t.Fatalf("refused second hop: exit %d, want %d\n%s", code, ExitAuth, errOut)
	}
	oneSentence(t, errOut, `profile "closed-room"`, "AssumeRole of arn:aws:iam::318457206934:role/closed-room", `profile "prod-admin"`, "AccessDenied")
}

// roleSession is a session of the responder's role, made as aws-vault or
// an SSO portal would make it (with the device's code).
func roleSession(t *testing.T, srv *awssim.Server, ra awssim.ResponderAccess, at time.Time) *sts.AssumeRoleOutput {
	t.Helper()
	code, err := srv.Sim.MFACode(ra.MFASerial, at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(srv.Config(ra.Key, "us-east-1")).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(ra.RoleARN), RoleSessionName: aws.String("responder"),
		SerialNumber: aws.String(ra.MFASerial), TokenCode: aws.String(code)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestChainAWSVaultEnvironment: `aws-vault exec prod-admin -- keyleak …`
// hands keyleak the role session in the environment; an expired one is
// named as aws-vault's and exits 4.
func TestChainAWSVaultEnvironment(t *testing.T) {
	srv := serveScenario(t, "bastion-mfa", awssim.WithLookupRate(100, 100))
	ra := srv.Sim.ResponderAccess()
	s := roleSession(t, srv, ra, time.Now())
	chainEnv(t, "")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": *s.Credentials.AccessKeyId, "AWS_SECRET_ACCESS_KEY": *s.Credentials.SecretAccessKey,
		"AWS_SESSION_TOKEN": *s.Credentials.SessionToken, "AWS_VAULT": "prod-admin",
		"AWS_SESSION_EXPIRATION": s.Credentials.Expiration.UTC().Format(time.RFC3339),
		"AWS_ENDPOINT_URL":       srv.URL, "AWS_REGION": "us-east-1",
	} {
		t.Setenv(k, v)
	}
	code, out, errOut := runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t)...)
	if code != ExitOK {
		t.Fatalf("aws-vault exec environment: exit %d\n%s\n%s", code, out, errOut)
	}

	t.Setenv("AWS_SESSION_EXPIRATION", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
	code, _, errOut = runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t)...)
	if code != ExitAuth {
		t.Fatalf("expired aws-vault session: exit %d, want %d\n%s", code, ExitAuth, errOut)
	}
	oneSentence(t, errOut, "'aws-vault exec prod-admin'", "expired", "AWS_SESSION_EXPIRATION")
}

// TestChainCredentialProcess: a profile whose credential_process prints a
// session; a process that fails is named with its profile.
func TestChainCredentialProcess(t *testing.T) {
	srv := serveScenario(t, "bastion-mfa", awssim.WithLookupRate(100, 100))
	ra := srv.Sim.ResponderAccess()
	s := roleSession(t, srv, ra, time.Now())
	dir := t.TempDir()
	file := filepath.Join(dir, "creds.json")
	doc, _ := json.Marshal(map[string]any{"Version": 1, "AccessKeyId": s.Credentials.AccessKeyId, "SecretAccessKey": s.Credentials.SecretAccessKey,
		"SessionToken": s.Credentials.SessionToken, "Expiration": s.Credentials.Expiration.UTC().Format(time.RFC3339)})
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	chainEnv(t, fmt.Sprintf(`[profile vault]
credential_process = cat %s
endpoint_url = %s
region = us-east-1

[profile broken]
credential_process = false
endpoint_url = %s
region = us-east-1
`, file, srv.URL, srv.URL))
	code, out, errOut := runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "vault")...)
	if code != ExitOK {
		t.Fatalf("credential_process: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "broken")...)
	if code != ExitAuth {
		t.Fatalf("failing credential_process: exit %d, want %d\n%s", code, ExitAuth, errOut)
	}
	oneSentence(t, errOut, `profile "broken"`, `the credential_process of profile "broken"`)
}

// ssoPortal serves the IAM Identity Center portal's GetRoleCredentials on
// loopback for one access token, handing out the given session.
func ssoPortal(t *testing.T, token string, s *sts.AssumeRoleOutput) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/federation/credentials" || r.Header.Get("x-amz-sso_bearer_token") != token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Session token not found or invalid"}`)
			return
		}
		if r.URL.Query().Get("account_id") != "318457206934" || r.URL.Query().Get("role_name") != "incident-responder" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"message":"No access"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"roleCredentials": map[string]any{
			"accessKeyId": s.Credentials.AccessKeyId, "secretAccessKey": s.Credentials.SecretAccessKey,
			"sessionToken": s.Credentials.SessionToken, "expiration": s.Credentials.Expiration.UnixMilli()}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestChainSSOCachedToken: an SSO profile whose token `aws sso login` left
// in the cache; the portal is reached through the profile's services
// section, the simulator through its endpoint_url. An expired token is
// named with the profile and exits 4.
func TestChainSSOCachedToken(t *testing.T) {
	srv := serveScenario(t, "bastion-mfa", awssim.WithLookupRate(100, 100))
	ra := srv.Sim.ResponderAccess()
	portal := ssoPortal(t, "sso-access-token", roleSession(t, srv, ra, time.Now()))
	const startURL = "https://heron.awsapps.com/start"
	home := chainEnv(t, fmt.Sprintf(`[profile sso-prod]
sso_start_url = %s
sso_region = us-east-1
sso_account_id = 318457206934
sso_role_name = incident-responder
region = us-east-1
endpoint_url = %s
services = portal

[services portal]
sso =
  endpoint_url = %s
`, startURL, srv.URL, portal.URL))
	writeToken := func(expires time.Time) {
		sum := sha1.Sum([]byte(startURL))
		path := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(map[string]string{"accessToken": "sso-access-token", "expiresAt": expires.UTC().Format(time.RFC3339),
			"region": "us-east-1", "startUrl": startURL})
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeToken(time.Now().Add(time.Hour))
	code, out, errOut := runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "sso-prod")...)
	if code != ExitOK {
		t.Fatalf("SSO profile: exit %d\n%s\n%s", code, out, errOut)
	}

	writeToken(time.Now().Add(-time.Hour))
	code, _, errOut = runChain(t, nil, guardLoopback(t), containDryRun(srv.Sim.LeakedKey(), t, "--profile", "sso-prod")...)
	if code != ExitAuth {
		t.Fatalf("expired SSO token: exit %d, want %d\n%s", code, ExitAuth, errOut)
	}
	oneSentence(t, errOut, `profile "sso-prod"`, "SSO token", "aws sso login --profile sso-prod")
}

// TestChainBastionMFARoleAgainstMoto: the same profile against moto, the
// independent emulator: keyleak prompts for the code, the AssumeRole goes
// to moto, nothing leaves loopback. moto checks no MFA and has no
// CloudTrail, so only the chain and the deactivation plan are asserted.
func TestChainBastionMFARoleAgainstMoto(t *testing.T) {
	moto := mototest.Start(t)
	ctx := context.Background()
	admin := iam.NewFromConfig(moto.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1"))
	key := func(user string) (string, string) {
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		made, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(made.AccessKey.AccessKeyId), aws.ToString(made.AccessKey.SecretAccessKey)
	}
	leaked, _ := key("deploy-bot")
	id, secret := key("responder")
	role, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("incident-responder"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	ra := awssim.ResponderAccess{Key: awssim.Credential{AccessKeyID: id, Secret: secret}, RoleARN: aws.ToString(role.Role.Arn),
		MFASerial: "arn:aws:iam::123456789012:mfa/responder"}
	chainEnv(t, bastionProfiles(ra, moto.URL))
	prompt := &mfaPrompt{code: func(string) string { return "123456" }}
	code, out, errOut := runChain(t, prompt, guardLoopback(t), containDryRun(leaked, t, "--profile", "prod-admin")...)
	if code != ExitOK && code != ExitPartial {
		t.Fatalf("contain --dry-run against moto through the MFA role: exit %d\n%s\n%s", code, out, errOut)
	}
	if len(prompt.asked) != 1 || prompt.asked[0] != ra.MFASerial {
		t.Errorf("MFA prompts: %v", prompt.asked)
	}
	if !strings.Contains(out, "iam UpdateAccessKey") {
		t.Errorf("dry run does not show the deactivation:\n%s\n%s", out, errOut)
	}
}
