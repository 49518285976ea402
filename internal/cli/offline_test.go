package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noAWS leaves the process with no AWS configuration at all: no
// credentials, no profile, no shared files, and the instance metadata
// service off (tests send nothing beyond loopback).
func noAWS(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestLogsWithoutCredentialsAndAnAnonymisedKey: exported logs analysed on
// a laptop with no AWS credentials, for a key ID in the form an anonymised
// data set has it: the analysis runs offline, says so in one note, notes
// the key's form, and exits 0.
func TestLogsWithoutCredentialsAndAnAnonymisedKey(t *testing.T) {
	noAWS(t)
	const key = "AKIATFQR7NSC8Q4X20BJ"
	logs := t.TempDir()
	rec := `{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","accessKeyId":"` + key + `","userName":"ci"},` +
		`"eventTime":"2026-11-20T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",` +
		`"userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"requestID":"r1","eventID":"e1","readOnly":true,"eventType":"AwsApiCall",` +
		`"managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}]}`
	dir := filepath.Join(logs, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2026", "11", "20")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "111122223333_CloudTrail_us-east-1_20261120T1000Z_x.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "investigate", "--key", key, "--logs", logs, "--dir", t.TempDir(), "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-30T00:00:00Z")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "ListUsers") || !strings.Contains(out, "1 events") {
		t.Errorf("the analysis does not show the key's event:\n%s", out)
	}
	if !strings.Contains(errOut, "anonymised data?") || !strings.Contains(errOut, "no AWS credentials") {
		t.Errorf("stderr lacks the key-form note or the offline note:\n%s", errOut)
	}
	for _, bad := range []string{"SDK", "IMDS", "imds", "ec2imds"} {
		if strings.Contains(errOut, bad) || strings.Contains(out, bad) {
			t.Errorf("output mentions %q:\n%s\n%s", bad, out, errOut)
		}
	}
}
