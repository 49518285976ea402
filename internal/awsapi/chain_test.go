package awsapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
)

// loopbackGuard refuses every request and connection that would leave
// loopback and remembers where it would have gone. A test that ends with
// anything remembered fails: no credential provider may call real AWS.
type loopbackGuard struct {
	mu  sync.Mutex
	off []string
}

func newLoopbackGuard(t *testing.T) *loopbackGuard {
	g := &loopbackGuard{}
	t.Cleanup(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.off) > 0 {
			t.Errorf("requests left loopback: %v", g.off)
		}
	})
	return g
}

func (g *loopbackGuard) refuse(where string) error {
	g.mu.Lock()
	g.off = append(g.off, where)
	g.mu.Unlock()
	return fmt.Errorf("refused off loopback: %s", where)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Transport is the awsapi.Options.Transport that applies the guard: the
// proxy hook sees every request's URL, the dialer every address (a proxy's
// included).
func (g *loopbackGuard) Transport(t *http.Transport) {
	t.Proxy = func(r *http.Request) (*url.URL, error) {
		if !isLoopback(r.URL.Hostname()) {
			return nil, g.refuse(r.URL.String())
		}
		return nil, nil
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || !isLoopback(host) {
			return nil, g.refuse(addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// awsFiles points the SDK at a config file with the given text and an empty
// credentials file, and clears every AWS variable of the environment.
func awsFiles(t *testing.T, configText string) string {
	t.Helper()
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") && k != "AWS_CA_BUNDLE" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	cfgFile, credFile := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfgFile, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
	return dir
}

// simWithRole serves an empty simulated account with a user "bastion-ops"
// (a long-term key) and a role "ops" it may assume.
func simWithRole(t *testing.T) (*awssim.Server, awssim.Credential, string) {
	t.Helper()
	sim := awssim.New()
	created := time.Now().Add(-time.Hour)
	if err := sim.AddUser("bastion-ops", created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	key, err := sim.AddAccessKey("bastion-ops", created, "responder")
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if err := sim.AddRole("ops", trust, created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, *key, "arn:aws:iam::123456789012:role/ops"
}

// TestRoleProfileHonoursEndpoint assumes a role through a source profile
// with the endpoint given each way the SDK and the AWS CLI document: the
// AssumeRole call of the credential provider goes there, and nothing leaves
// loopback.
func TestRoleProfileHonoursEndpoint(t *testing.T) {
	srv, key, role := simWithRole(t)
	profiles := func(extra string) string {
		return fmt.Sprintf("[profile bastion]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"+
			"[profile ops]\nsource_profile = bastion\nrole_arn = %s\n%s\n", key.AccessKeyID, key.Secret, role, extra) +
			"[services sim]\nsts =\n  endpoint_url = " + srv.URL + "\n"
	}
	for _, tc := range []struct {
		name   string
		config string
		env    map[string]string
		flag   string
	}{
		{name: "--endpoint-url", config: profiles(""), flag: srv.URL},
		{name: "AWS_ENDPOINT_URL", config: profiles(""), env: map[string]string{"AWS_ENDPOINT_URL": srv.URL}},
		{name: "AWS_ENDPOINT_URL_STS", config: profiles(""), env: map[string]string{"AWS_ENDPOINT_URL_STS": srv.URL}},
		{name: "profile endpoint_url", config: profiles("endpoint_url = " + srv.URL)},
		{name: "profile services section", config: profiles("services = sim")},
		{name: "flag under ignore_configured_endpoint_urls", config: profiles(""), flag: srv.URL,
			env: map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awsFiles(t, tc.config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			guard := newLoopbackGuard(t)
			cfg, err := awsapi.Load(context.Background(), awsapi.Options{Profile: "ops", EndpointURL: tc.flag, Transport: guard.Transport, MaxAttempts: 1})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if arn := *out.Arn; !strings.HasPrefix(arn, "arn:aws:sts::123456789012:assumed-role/ops/") {
				t.Errorf("caller = %s, want a session of the role", arn)
			}
		})
	}
}

// TestWebIdentityHonoursEndpoint: the web identity provider's
// AssumeRoleWithWebIdentity goes to AWS_ENDPOINT_URL_STS. The simulator
// serves no web identity, so a loopback handler answers as STS does.
func TestWebIdentityHonoursEndpoint(t *testing.T) {
	var hits atomic.Int32
	stsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("WebIdentityToken") != "oidc-token" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
			`<Credentials><AccessKeyId>ASIAWEBIDENTITY00001</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>`+
			`<Expiration>%s</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	t.Cleanup(stsSrv.Close)
	dir := awsFiles(t, "")
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("oidc-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile)
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
	t.Setenv("AWS_ENDPOINT_URL_STS", stsSrv.URL)
	guard := newLoopbackGuard(t)
	cfg, err := awsapi.Load(context.Background(), awsapi.Options{Transport: guard.Transport, MaxAttempts: 1})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if creds.AccessKeyID != "ASIAWEBIDENTITY00001" || hits.Load() != 1 {
		t.Errorf("credentials %s after %d calls to the configured STS", creds.AccessKeyID, hits.Load())
	}
}
