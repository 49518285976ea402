package assess

import (
	"fmt"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// rec is one CloudTrail record of the attacker's session key.
func rec(t *testing.T, id, source, name, region, req string, extra string) *trail.Event {
	t.Helper()
	raw := fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventTime":"2024-05-01T10:%s:00Z","eventSource":%q,"eventName":%q,`+
		`"awsRegion":%q,"sourceIPAddress":"45.155.205.233","userAgent":"Boto3/1.28.57",`+
		`"userIdentity":{"type":"IAMUser","accessKeyId":"ASIAEXAMPLEATTACKER1","userName":"ci-deploy"},"requestParameters":%s%s}`,
		id, id[len(id)-2:], source, name, region, req, extra)
	e, err := trail.ParseRecord([]byte(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return &e
}

func TestSecretsRead(t *testing.T) {
	events := []*trail.Event{
		rec(t, "e-01", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1", `{"secretId":"prod/db"}`, ""),
		rec(t, "e-02", "ssm.amazonaws.com", "GetParameter", "eu-west-1", `{"name":"/prod/pw","withDecryption":true}`, ""),
		rec(t, "e-03", "ssm.amazonaws.com", "GetParameter", "eu-west-1", `{"name":"/prod/plain"}`, ""),
		rec(t, "e-04", "ssm.amazonaws.com", "GetParameters", "eu-west-1", `{"names":["/a","/b"],"withDecryption":true}`, ""),
		rec(t, "e-05", "kms.amazonaws.com", "Decrypt", "us-east-1", `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`,
			`,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/k-1"}]`),
		rec(t, "e-06", "lambda.amazonaws.com", "GetFunction20150331v2", "us-east-1", `{"functionName":"billing"}`, ""),
		rec(t, "e-07", "lambda.amazonaws.com", "GetFunctionUrlConfig20211031", "us-east-1", `{"functionName":"billing"}`, ""),
		rec(t, "e-08", "ec2.amazonaws.com", "DescribeInstanceAttribute", "us-east-1", `{"instanceId":"i-1","attribute":"userData"}`, ""),
		rec(t, "e-09", "ec2.amazonaws.com", "DescribeInstanceAttribute", "us-east-1", `{"instanceId":"i-1","attribute":"instanceType"}`, ""),
		rec(t, "e-10", "s3.amazonaws.com", "GetObject", "us-east-1", `{"bucketName":"app","key":"deploy/.env"}`, ""),
		rec(t, "e-11", "s3.amazonaws.com", "GetObject", "us-east-1", `{"bucketName":"app","key":"img/logo.png"}`, ""),
		rec(t, "e-12", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1", `{"secretId":"prod/db"}`, ""),
		rec(t, "e-13", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1", `{"secretId":"denied"}`, `,"errorCode":"AccessDeniedException"`),
		rec(t, "e-14", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1", `{"secretId":"workload"}`, ""),
		rec(t, "e-15", "kms.amazonaws.com", "Decrypt", "us-east-1", `{"keyId":"k-2"}`, ``),
		rec(t, "e-16", "secretsmanager.amazonaws.com", "GetSecretValue", "us-east-1", `{"secretId":"before-leak"}`, ""),
	}
	events[14].UserIdentity.InvokedBy = "secretsmanager.amazonaws.com"
	events[15].EventTime = time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	order := make([]int, len(events))
	verdicts := make([]EventAssessment, len(events))
	for i := range events {
		order[i] = i
		verdicts[i].Verdict = Attacker
	}
	verdicts[13].Verdict = Legitimate
	got := secretsRead(events, order, verdicts, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	want := []string{
		"secretsmanager-secret us-east-1 prod/db 2",
		"ssm-parameter eu-west-1 /prod/pw 1",
		"ssm-parameter eu-west-1 /a 1",
		"ssm-parameter eu-west-1 /b 1",
		"kms-key us-east-1 arn:aws:kms:us-east-1:111122223333:key/k-1 1",
		"lambda-environment us-east-1 billing 1",
		"ec2-user-data us-east-1 i-1 1",
		"s3-object us-east-1 s3://app/deploy/.env 1",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d secrets, want %d: %+v", len(got), len(want), got)
	}
	for i, s := range got {
		if line := fmt.Sprintf("%s %s %s %d", s.Kind, s.Region, s.Name, len(s.Reads)); line != want[i] {
			t.Errorf("secret %d = %s, want %s", i, line, want[i])
		}
	}
	first := got[0].Reads[0]
	if first.EventID != "e-01" || first.SourceIP != "45.155.205.233" || first.AccessKeyID != "ASIAEXAMPLEATTACKER1" || first.Verdict != Attacker {
		t.Errorf("first read = %+v", first)
	}
}

func TestCredentialObject(t *testing.T) {
	for key, want := range map[string]bool{
		".env": true, "app/.env.production": true, "home/u/.aws/credentials": true, "keys/id_rsa": true,
		"tls/server.pem": true, "state/terraform.tfstate": true, "env/prod/terraform.tfstate.backup": true,
		"u/.aws/config": true, "img/logo.png": false, "docs/readme.md": false, "dir/": false, "": false,
	} {
		if got := CredentialObject(key); got != want {
			t.Errorf("CredentialObject(%q) = %v, want %v", key, got, want)
		}
	}
}
