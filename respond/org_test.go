package respond

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/playbook"
)

// TestOrgRevokeAgainstMoto runs the organization wiring (the member-role
// IAM seam of contain --org) against moto's IAM, an independent emulator:
// the revoke policy lands on the role of the member-account client while
// the key is identified in its own account.
func TestOrgRevokeAgainstMoto(t *testing.T) {
	m := mototest.Start(t)
	ctx := context.Background()
	home := awsapi.NewClients(m.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1"))
	if _, err := home.IAM().CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	key, err := home.IAM().CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := home.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("platform-deploy"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	c, _, err := playbook.OpenOrCreateCase(t.TempDir(), aws.ToString(key.AccessKey.AccessKeyId), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := playbook.NewRunner(c, memberRoleIAM{IAM: home.IAM(), roles: home.IAM()}, home.STS(""), playbook.WithResponderKeyID("AKIARESPONDER0000000"))
	sum, err := r.RevokeRoleSessions(ctx, []string{"arn:aws:iam::123456789012:role/platform-deploy"})
	if err != nil {
		t.Fatalf("revoke: %v (%+v)", err, sum)
	}
	pol, err := home.IAM().GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("platform-deploy"), PolicyName: aws.String(playbook.RevokePolicyName)})
	if err != nil {
		t.Fatalf("revoke policy not on the role: %v", err)
	}
	if _, ok := playbook.RevokeTimeOf(aws.ToString(pol.PolicyDocument)); !ok {
		t.Errorf("policy %s has no TokenIssueTime condition", aws.ToString(pol.PolicyDocument))
	}
}
