package awssim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// smCall runs a Secrets Manager action as the key and decodes the answer.
func smCall(t *testing.T, s *Sim, key Credential, action string, body map[string]any) (map[string]any, error) {
	t.Helper()
	b, _ := json.Marshal(body)
	res, err := s.Do(&Call{Service: "secretsmanager", Action: action, Region: "eu-west-1", AccessKeyID: key.AccessKeyID, Body: b})
	if err != nil {
		return nil, err
	}
	var out map[string]any
	raw, _ := json.Marshal(res.JSON)
	_ = json.Unmarshal(raw, &out)
	return out, nil
}

func smCode(err error) string {
	if e, ok := err.(*APIError); ok {
		return e.Code
	}
	return ""
}

func TestSecretsManagerVersionsAndIdempotency(t *testing.T) {
	s := New(WithClock(func() time.Time { return idtStart }))
	if err := s.AddUser("ops", idtStart); err != nil {
		t.Fatal(err)
	}
	key, err := s.AddAccessKey("ops", idtStart, "")
	if err != nil {
		t.Fatal(err)
	}
	const token1 = "keyleak-rotate-00000000000000000001"
	const token2 = "keyleak-rotate-00000000000000000002"
	out, err := smCall(t, s, *key, "CreateSecret", map[string]any{"Name": "app/aws", "SecretString": "v1", "ClientRequestToken": token1})
	if err != nil {
		t.Fatal(err)
	}
	arn, _ := out["ARN"].(string)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/aws-") || len(arn) != len("arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/aws-")+6 || out["VersionId"] != token1 {
		t.Fatalf("CreateSecret = %v", out)
	}
	if _, err := smCall(t, s, *key, "CreateSecret", map[string]any{"Name": "app/aws", "SecretString": "x"}); smCode(err) != "ResourceExistsException" {
		t.Fatalf("second CreateSecret: %v", err)
	}
	// A retried put with the same token and value is the same request.
	for range 2 {
		out, err = smCall(t, s, *key, "PutSecretValue", map[string]any{"SecretId": arn, "SecretString": "v2", "ClientRequestToken": token2})
		if err != nil || out["VersionId"] != token2 {
			t.Fatalf("PutSecretValue = %v, %v", out, err)
		}
	}
	if _, err := smCall(t, s, *key, "PutSecretValue", map[string]any{"SecretId": "app/aws", "SecretString": "other", "ClientRequestToken": token2}); smCode(err) != "ResourceExistsException" {
		t.Fatalf("same token, other value: %v", err)
	}
	desc, err := smCall(t, s, *key, "DescribeSecret", map[string]any{"SecretId": "app/aws"})
	if err != nil {
		t.Fatal(err)
	}
	stages, _ := desc["VersionIdsToStages"].(map[string]any)
	if len(stages) != 2 || stages[token2].([]any)[0] != "AWSCURRENT" || stages[token1].([]any)[0] != "AWSPREVIOUS" {
		t.Errorf("VersionIdsToStages = %v", stages)
	}
	got, err := smCall(t, s, *key, "GetSecretValue", map[string]any{"SecretId": "app/aws"})
	if err != nil || got["SecretString"] != "v2" {
		t.Fatalf("GetSecretValue = %v, %v", got, err)
	}
	prev, err := smCall(t, s, *key, "GetSecretValue", map[string]any{"SecretId": "app/aws", "VersionStage": "AWSPREVIOUS"})
	if err != nil || prev["SecretString"] != "v1" {
		t.Fatalf("GetSecretValue AWSPREVIOUS = %v, %v", prev, err)
	}
	if _, err := smCall(t, s, *key, "GetSecretValue", map[string]any{"SecretId": "nope"}); smCode(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown secret: %v", err)
	}
	// Secrets are regional.
	b, _ := json.Marshal(map[string]any{"SecretId": "app/aws"})
	if _, err := s.Do(&Call{Service: "secretsmanager", Action: "GetSecretValue", Region: "us-east-1", AccessKeyID: key.AccessKeyID, Body: b}); smCode(err) != "ResourceNotFoundException" {
		t.Fatalf("secret seen in another region: %v", err)
	}

	// CloudTrail has every call, in the region called, and never a value.
	n := 0
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		for _, e := range s.acct.region(region).Trail.events {
			if e.Source != "secretsmanager.amazonaws.com" {
				continue
			}
			n++
			for _, v := range []string{`"v1"`, `"v2"`, `"other"`, "SecretString", "secretString"} {
				if strings.Contains(string(e.Raw), v) {
					t.Errorf("CloudTrail record of %s holds %s: %s", e.Name, v, e.Raw)
				}
			}
		}
	}
	if n != 10 {
		t.Errorf("%d Secrets Manager events recorded, want 10", n)
	}
}

// TestSecretsManagerAWSCLI checks the wire format with an independent
// client: the AWS CLI.
func TestSecretsManagerAWSCLI(t *testing.T) {
	awsclitest.Need(t)
	f := newIDTFixture(t)
	cli := func(out any, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := awsclitest.Output(ctx, []string{"AWS_ACCESS_KEY_ID=" + f.admin.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + f.admin.Secret,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"},
			append(args, "--region", "us-east-2", "--endpoint-url", f.srv.URL, "--output", "json")...)
		if err != nil {
			t.Fatal(err)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, b)
			}
		}
	}
	var created struct{ ARN, Name, VersionId string }
	cli(&created, "secretsmanager", "create-secret", "--name", "ci/key", "--secret-string", `{"AccessKeyId":"AKIAEXAMPLE"}`)
	if created.Name != "ci/key" || created.VersionId == "" {
		t.Fatalf("create-secret = %+v", created)
	}
	cli(nil, "secretsmanager", "put-secret-value", "--secret-id", "ci/key", "--secret-string", "second")
	var desc struct {
		Name               string
		CreatedDate        float64
		VersionIdsToStages map[string][]string
	}
	cli(&desc, "secretsmanager", "describe-secret", "--secret-id", created.ARN)
	if desc.Name != "ci/key" || len(desc.VersionIdsToStages) != 2 || desc.CreatedDate != float64(idtStart.Unix()) {
		t.Errorf("describe-secret = %+v", desc)
	}
	var val struct{ SecretString string }
	cli(&val, "secretsmanager", "get-secret-value", "--secret-id", "ci/key")
	if val.SecretString != "second" {
		t.Errorf("get-secret-value = %+v", val)
	}
}
