package awssim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestParseSigV4(t *testing.T) {
	tests := []struct {
		header string
		want   sigv4Scope
		ok     bool
	}{
		{"AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/eu-west-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			sigv4Scope{"AKIAEXAMPLE", "eu-west-1", "ec2"}, true},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, Credential=ASIAX/20240101/us-east-1/sts/aws4_request, Signature=abc",
			sigv4Scope{"ASIAX", "us-east-1", "sts"}, true},
		{"AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/sts, Signature=abc", sigv4Scope{}, false},
		{"Basic dXNlcjpwYXNz", sigv4Scope{}, false},
		{"", sigv4Scope{}, false},
	}
	for _, tt := range tests {
		got, ok := parseSigV4(tt.header)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseSigV4(%q) = %+v, %v; want %+v, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

// TestSignatureChecked: a request signed with a wrong secret is refused as
// each service refuses it, and a temporary key is valid only with its own
// session token; the right secret passes. Nothing refused is recorded.
func TestSignatureChecked(t *testing.T) {
	s := New(WithLookupRate(100, 100))
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	now := time.Now()
	if err := s.AddUser("u", now, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	k, err := s.AddAccessKey("u", now, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := *k
	wrong := *k
	wrong.Secret = "not-the-secret"
	if _, err := sts.NewFromConfig(srv.Config(good, "us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	calls := map[string]func(aws.Config) error{
		"SignatureDoesNotMatch": func(c aws.Config) error {
			_, err := iam.NewFromConfig(c).ListUsers(ctx, &iam.ListUsersInput{})
			return err
		},
		"AuthFailure": func(c aws.Config) error {
			_, err := ec2.NewFromConfig(c).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
			return err
		},
		"InvalidSignatureException": func(c aws.Config) error {
			_, err := cloudtrail.NewFromConfig(c).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
			return err
		},
	}
	for code, call := range calls {
		if got := apiCode(call(srv.Config(wrong, "us-east-1"))); got != code {
			t.Errorf("wrong secret: %s, want %s", got, code)
		}
	}

	out, err := sts.NewFromConfig(srv.Config(good, "us-east-1")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	session := Credential{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), Secret: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken)}
	getCaller := func(c Credential) error {
		_, err := sts.NewFromConfig(srv.Config(c, "us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}
	if err := getCaller(session); err != nil {
		t.Fatalf("session with its token: %v", err)
	}
	noToken := session
	noToken.SessionToken = ""
	if got := apiCode(getCaller(noToken)); got != "InvalidClientTokenId" {
		t.Errorf("session without its token: %s, want InvalidClientTokenId", got)
	}
	withToken := good
	withToken.SessionToken = session.SessionToken
	if got := apiCode(getCaller(withToken)); got != "InvalidClientTokenId" {
		t.Errorf("long-term key with a token: %s, want InvalidClientTokenId", got)
	}
	for _, e := range s.Truth().Events {
		if e.ErrorCode != "" {
			t.Errorf("refused call recorded: %s %s", e.EventName, e.ErrorCode)
		}
	}
}
