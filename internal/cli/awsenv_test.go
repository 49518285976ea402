package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/keyleak/keyleak/internal/awsapi"
)

// Tests give keyleak its AWS endpoint and credentials in one of two ways.
// awsEnv sets the process environment, as a user's shell would: the tests
// of the credential chain, profiles and the shared files need that, and run
// one at a time. simAWS keeps them with the test instead: keyleak's runs
// from run and testFactory load the configuration as usual (flags, then
// the process environment, which TestMain empties of AWS settings) and
// then take the test's endpoint, region and key, so those tests run in
// parallel.

// testAWSSettings holds simAWS's settings by top-level test name.
var testAWSSettings sync.Map // string -> awsSettings

type awsSettings struct{ endpoint, keyID, secret, region string }

func rootTestName(tb testing.TB) string {
	name, _, _ := strings.Cut(tb.Name(), "/")
	return name
}

// simAWS points the test's keyleak runs at endpoint with the key, in
// us-east-1 unless a --region flag says otherwise, and returns the same
// variables awsEnv sets, for the AWS CLI (awsCLI takes them explicitly). A
// later call in the same test replaces the settings, as a later awsEnv
// would.
func simAWS(tb testing.TB, endpoint, keyID, secret string) map[string]string {
	tb.Helper()
	dir := tb.TempDir()
	name := rootTestName(tb)
	testAWSSettings.Store(name, awsSettings{endpoint: endpoint, keyID: keyID, secret: secret, region: "us-east-1"})
	tb.Cleanup(func() { testAWSSettings.Delete(name) })
	return awsVars(dir, endpoint, keyID, secret)
}

// awsVars are the environment variables of a run against endpoint with the
// key, in us-east-1, with shared files (absent) in dir.
func awsVars(dir, endpoint, keyID, secret string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           keyID,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	}
}

// testFactory is NewFactory with the test's simAWS settings, if any.
func testFactory(tb testing.TB, io *IOStreams) *Factory {
	f := NewFactory(io)
	v, ok := testAWSSettings.Load(rootTestName(tb))
	if !ok {
		return f
	}
	s := v.(awsSettings)
	f.loadConfig = func(ctx context.Context, o awsapi.Options) (aws.Config, error) {
		if o.Region == "" {
			o.Region = s.region
		}
		if o.EndpointURL == "" {
			o.EndpointURL = s.endpoint
		}
		cfg, err := awsapi.Load(ctx, o)
		if err != nil {
			return cfg, err
		}
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(s.keyID, s.secret, ""))
		return cfg, nil
	}
	return f
}

// clearAWSEnv removes the AWS settings of the environment the tests were
// started in (a developer's profile, region or keys) and points the shared
// files at files that do not exist, for the whole test binary: tests that
// need any set them with t.Setenv.
func clearAWSEnv() (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "keyleak-cli-test-")
	if err != nil {
		return nil, err
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") && k != "AWS_CA_BUNDLE" {
			os.Unsetenv(k)
		}
	}
	os.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	return func() { os.RemoveAll(dir) }, nil
}
