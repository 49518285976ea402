package awssim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestBastionMFAScenario: the responder's key reaches production only
// through the incident-responder role, only with its device's code; the
// attacker's timeline ran as declared.
func TestBastionMFAScenario(t *testing.T) {
	sc, err := LoadScenario("bastion-mfa")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewFromScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ra := sim.ResponderAccess()
	if ra.Key.AccessKeyID == "" || ra.RoleARN != "arn:aws:iam::318457206934:role/incident-responder" ||
		ra.MFASerial != "arn:aws:iam::604173829155:mfa/responder" {
		t.Fatalf("responder access = %+v", ra)
	}
	ctx := context.Background()
	st := sts.NewFromConfig(srv.Config(ra.Key, "us-east-1"))
	who := must(st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(who.Account) != "604173829155" {
		t.Errorf("the responder's key is of account %s, want the bastion", aws.ToString(who.Account))
	}
	// The bastion key itself may do nothing else.
	_, err = iam.NewFromConfig(srv.Config(ra.Key, "us-east-1")).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	in := &sts.AssumeRoleInput{RoleArn: aws.String(ra.RoleARN), RoleSessionName: aws.String("responder")}
	_, err = st.AssumeRole(ctx, in)
	wantCode(t, err, "AccessDenied")
	code, err := sim.MFACode(ra.MFASerial, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in.SerialNumber, in.TokenCode = aws.String(ra.MFASerial), aws.String(code)
	out := must(st.AssumeRole(ctx, in))(t)
	session := Credential{AccessKeyID: *out.Credentials.AccessKeyId, Secret: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	users := must(iam.NewFromConfig(srv.Config(session, "us-east-1")).ListUsers(ctx, &iam.ListUsersInput{}))(t)
	var names []string
	for _, u := range users.Users {
		names = append(names, aws.ToString(u.UserName))
	}
	if got := strings.Join(names, ","); got != "deploy-bot,svc-metrics" {
		t.Errorf("production's users: %s, want deploy-bot and the attacker's svc-metrics", got)
	}
	if _, err := sim.MFACode("arn:aws:iam::604173829155:mfa/other", time.Now()); err == nil {
		t.Error("MFACode reads a device the scenario does not have")
	}
}
