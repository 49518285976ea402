package awsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// isolate points the SDK at empty config files and clears credentials from
// the environment, so the test sees only what it sets.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	credFile := filepath.Join(dir, "credentials")
	if err := os.WriteFile(cfgFile, []byte("[profile mfa]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte("[mfa]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	for _, v := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func TestLoadDefaultsRegion(t *testing.T) {
	isolate(t)
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != DefaultRegion {
		t.Errorf("region = %q, want %q", cfg.Region, DefaultRegion)
	}
}

func TestLoadProfileAndEndpoint(t *testing.T) {
	isolate(t)
	cfg, err := Load(context.Background(), Options{Profile: "mfa", EndpointURL: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region = %q, want the profile's eu-west-1", cfg.Region)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:9" {
		t.Errorf("endpoint = %v, want the flag's", cfg.BaseEndpoint)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("retrieve credentials: %v", err)
	}
	if creds.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
		t.Errorf("access key = %q, want the profile's", creds.AccessKeyID)
	}
}

func TestLoadEndpointFromEnvironment(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:7" {
		t.Errorf("endpoint = %v, want AWS_ENDPOINT_URL's", cfg.BaseEndpoint)
	}
}

func TestLoadUnknownProfile(t *testing.T) {
	isolate(t)
	_, err := Load(context.Background(), Options{Profile: "nope"})
	if err == nil || !strings.Contains(err.Error(), `profile "nope"`) {
		t.Fatalf("err = %v, want a sentence naming the profile", err)
	}
}

func TestLoadWithCABundle(t *testing.T) {
	isolate(t)
	bundle := os.Getenv("AWS_CA_BUNDLE")
	if bundle == "" {
		bundle = "/etc/ssl/certs/ca-certificates.crt"
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("no CA bundle at %s", bundle)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if _, err := Load(context.Background(), Options{}); err != nil {
		t.Fatalf("Load with AWS_CA_BUNDLE set: %v", err)
	}
}

func TestReadToken(t *testing.T) {
	var out bytes.Buffer
	got, err := ReadToken(strings.NewReader(" 123456 \n"), &out, "")
	if err != nil || got != "123456" {
		t.Fatalf("readToken = %q, %v", got, err)
	}
	if out.String() != "MFA code: " {
		t.Errorf("prompt = %q", out.String())
	}
}

func TestClientsCachePerRegion(t *testing.T) {
	isolate(t)
	cfg, err := Load(context.Background(), Options{Region: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewClients(cfg)
	if c.CloudTrail("eu-west-1") != c.CloudTrail("eu-west-1") {
		t.Error("same region gave two clients")
	}
	if c.CloudTrail("eu-west-1") == c.CloudTrail("eu-west-2") {
		t.Error("two regions share a client")
	}
	if c.EC2("") != c.EC2("us-west-2") {
		t.Error(`"" is not the configuration's region`)
	}
}

// fakeInstanceMetadata serves the EC2 instance-metadata API on loopback and
// points the SDK at it, so no test reaches a real instance's metadata. With
// role "" it answers as a machine that is no EC2 instance behind a proxy
// does: 500 to everything. The function it returns counts the requests
// so far per method and path.
func fakeInstanceMetadata(t *testing.T, role string) func() map[string]int {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		switch {
		case role == "":
			http.Error(w, "no metadata here", http.StatusInternalServerError)
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			fmt.Fprint(w, "token")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			fmt.Fprint(w, role)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/"+role:
			fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SecretAccessKey":"x","Token":"t","Expiration":%q}`,
				time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	for _, v := range []string{"AWS_EC2_METADATA_DISABLED", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	return func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

func TestNoCredentialsIsOneSentence(t *testing.T) {
	isolate(t)
	requests := fakeInstanceMetadata(t, "")
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	_, err = cfg.Credentials.Retrieve(context.Background())
	var noCreds *NoCredentialsError
	if !errors.As(err, &noCreds) {
		t.Fatalf("Retrieve: %v, want a NoCredentialsError", err)
	}
	if msg := err.Error(); strings.Contains(msg, "IMDS") || strings.Contains(msg, "ec2imds") || !strings.Contains(msg, "--profile") {
		t.Errorf("message %q: want one sentence that says what to do, without the SDK's account", msg)
	}
	// Off EC2, asking again only delays the answer: each request once.
	seen := requests()
	for req, n := range seen {
		if n != 1 {
			t.Errorf("%s: %d requests, want 1 (no retries)", req, n)
		}
	}
	if len(seen) == 0 {
		t.Error("the instance metadata was not asked")
	}
}

func TestInstanceRoleCredentials(t *testing.T) {
	isolate(t)
	fakeInstanceMetadata(t, "responder")
	cfg, err := Load(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("Retrieve on an instance with a role: %v", err)
	}
	if creds.AccessKeyID != "ASIAIOSFODNN7EXAMPLE" {
		t.Errorf("access key = %q, want the instance role's", creds.AccessKeyID)
	}
}
