package trigger

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The four shapes of event keyleak reads, each as AWS or GitHub delivers it.
func TestParseEvents(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Trigger
	}{
		{"health-eventbridge.json", Trigger{Source: SourceHealth, Type: "AWS_RISK_CREDENTIALS_EXPOSED",
			ID:   "arn:aws:health:global::event/RISK/AWS_RISK_CREDENTIALS_EXPOSED/AWS_RISK_CREDENTIALS_EXPOSED_EXAMPLE",
			Keys: []string{"AKIAIOSFODNN7EXAMPLE"}, Account: "123456789012", Region: "us-east-1",
			DetectedAt: time.Date(2016, 6, 5, 6, 27, 57, 0, time.UTC),
			ExposedURL: "https://github.com/example-org/example-repo/blob/0123abc/deploy.sh", Channel: "public GitHub repository"}},
		{"health-bare.json", Trigger{Source: SourceHealth, Type: "AWS_RISK_IAM_QUARANTINE",
			ID:   "arn:aws:health:global::event/RISK/AWS_RISK_IAM_QUARANTINE/AWS_RISK_IAM_QUARANTINE_EXAMPLE",
			Keys: []string{"AKIAIOSFODNN7EXAMPLE"}, Account: "123456789012", Region: "global",
			DetectedAt: time.Date(2016, 6, 5, 6, 30, 0, 0, time.UTC), Channel: "found in public by AWS"}},
		{"github-alert.json", Trigger{Source: SourceGitHub, Type: "secret_scanning_alert.created",
			ID:   "https://github.com/example-org/example-repo/security/secret-scanning/42",
			Keys: []string{"AKIAIOSFODNN7EXAMPLE"}, DetectedAt: time.Date(2026, 1, 5, 19, 11, 2, 0, time.UTC),
			ExposedURL: "https://github.com/example-org/example-repo/security/secret-scanning/42",
			Channel:    "public GitHub repository example-org/example-repo"}},
		{"guardduty.json", Trigger{Source: SourceGuardDuty, Type: "UnauthorizedAccess:IAMUser/TorIPCaller",
			ID: "16afba5c5c43e07c9e3e5e2e544e95df", Keys: []string{"AKIAIOSFODNN7EXAMPLE"}, Account: "123456789012",
			User: "ci-deploy", Region: "us-east-1", DetectedAt: time.Date(2026, 1, 5, 19, 20, 0, 0, time.UTC),
			Channel: "seen misused by GuardDuty"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := Parse(read(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := *got, tc.want; g.Source != w.Source || g.Type != w.Type || g.ID != w.ID || strings.Join(g.Keys, ",") != strings.Join(w.Keys, ",") ||
				g.Account != w.Account || g.Region != w.Region || !g.DetectedAt.Equal(w.DetectedAt) || g.ExposedURL != w.ExposedURL ||
				g.Channel != w.Channel || g.User != w.User {
				t.Errorf("got  %+v\nwant %+v", g, w)
			}
		})
	}
}

// Every RISK type is read; any other Health event is refused.
func TestHealthTypes(t *testing.T) {
	base := string(read(t, "health-eventbridge.json"))
	for _, ty := range HealthTypes {
		ev := strings.ReplaceAll(base, `"eventTypeCode": "AWS_RISK_CREDENTIALS_EXPOSED"`, `"eventTypeCode": "`+ty+`"`)
		got, err := Parse([]byte(ev))
		if err != nil || got.Type != ty {
			t.Errorf("%s: %+v, %v", ty, got, err)
		}
	}
	ev := strings.ReplaceAll(base, `"eventTypeCode": "AWS_RISK_CREDENTIALS_EXPOSED"`, `"eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED"`)
	if _, err := Parse([]byte(ev)); err == nil || !strings.Contains(err.Error(), "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED") {
		t.Errorf("another Health event: %v", err)
	}
}

// What cannot start a response is one sentence, never the secret.
func TestParseRefuses(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	gh := string(read(t, "github-alert.json"))
	for _, tc := range []struct{ name, event, says string }{
		{"empty", "  ", "empty"},
		{"not JSON", "{not json", "not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"other source", `{"source":"aws.ec2","detail":{}}`, `"aws.ec2"`},
		{"unknown shape", `{"hello":"world"}`, "neither"},
		{"health without keys", strings.ReplaceAll(string(read(t, "health-eventbridge.json")), `{"entityValue": "AKIAIOSFODNN7EXAMPLE"}`, ""), "names no access key"},
		{"health with a bad key", strings.ReplaceAll(string(read(t, "health-eventbridge.json")), `"entityValue": "AKIAIOSFODNN7EXAMPLE"`, `"entityValue": "AIDACKCEVSQ6C2EXAMPLE"`), "unique ID of an IAM user"},
		{"github secret key alert", strings.ReplaceAll(strings.ReplaceAll(gh, `"aws_access_key_id"`, `"aws_secret_access_key"`), "AKIAIOSFODNN7EXAMPLE", secret), "aws_secret_access_key"},
		{"github resolved", strings.ReplaceAll(gh, `"created"`, `"resolved"`), `"resolved"`},
		{"github without secret", strings.ReplaceAll(gh, `"secret": "AKIAIOSFODNN7EXAMPLE",`, ""), "does not carry the key ID"},
		{"guardduty about an instance", `{"source":"aws.guardduty","detail":{"type":"Recon:EC2/PortProbeUnprotectedPort","resource":{"resourceType":"Instance"}}}`, "about Instance, and names no access key"},
		{"guardduty sample", strings.ReplaceAll(string(read(t, "guardduty.json")), "AKIAIOSFODNN7EXAMPLE", "GeneratedFindingAccessKeyId"), "sample finding"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.event))
			var ee *EventError
			if !errors.As(err, &ee) {
				t.Fatalf("got %+v, %v; want an EventError", got, err)
			}
			if !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line saying %q, without the secret", err, tc.says)
			}
		})
	}
}
