package awsapi

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	got, err := readToken(strings.NewReader(" 123456 \n"), &out)
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
