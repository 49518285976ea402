package playbook

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/keyleak/keyleak/internal/awssim"
)

// simAccount starts the simulator with a leaked key of ci-deploy (power
// user) and a responder with AdministratorAccess.
type simAccount struct {
	sim       *awssim.Sim
	srv       *awssim.Server
	leaked    *awssim.Credential
	responder *awssim.Credential
	iam       *iam.Client
	sts       *sts.Client
}

func startSim(t *testing.T, leakedPolicies ...string) *simAccount {
	t.Helper()
	s := awssim.New()
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	created := time.Now().Add(-30 * 24 * time.Hour)
	if err := s.AddUser("ci-deploy", created, append([]string{"PowerUserAccess"}, leakedPolicies...)...); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.AddAccessKey("ci-deploy", created, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("responder", created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "responder")
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeakedKey(leaked.AccessKeyID)
	cfg := srv.Config(*resp, "us-east-1")
	return &simAccount{sim: s, srv: srv, leaked: leaked, responder: resp, iam: iam.NewFromConfig(cfg), sts: sts.NewFromConfig(cfg)}
}

func TestSimContain(t *testing.T) {
	a := startSim(t, "AWSCompromisedKeyQuarantineV2")
	ctx := context.Background()

	// The attacker makes a session token from the key before containment.
	attacker := sts.NewFromConfig(a.srv.Config(*a.leaked, "us-east-1"))
	tok, err := attacker.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatalf("attacker GetSessionToken: %v", err)
	}
	session := awssim.Credential{AccessKeyID: aws.ToString(tok.Credentials.AccessKeyId),
		Secret: aws.ToString(tok.Credentials.SecretAccessKey), SessionToken: aws.ToString(tok.Credentials.SessionToken)}
	attackerSession := ec2.NewFromConfig(a.srv.Config(session, "us-east-1"))
	if _, err := attackerSession.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("attacker session before containment: %v", err)
	}

	c, err := CreateCase(t.TempDir(), a.leaked.AccessKeyID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum, err := NewRunner(c, a.iam, a.sts, WithResponderKeyID(a.responder.AccessKeyID)).Run(ctx, StepPreflight, StepContain, StepRevokeSessions, StepScope)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if k, _ := a.sim.Key(a.leaked.AccessKeyID); k.Status != "Inactive" {
		t.Errorf("leaked key status %s, want Inactive", k.Status)
	}
	if _, err := attacker.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Error("the leaked key still works after containment")
	}
	if _, err := attackerSession.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err == nil {
		t.Error("the attacker's session still works after the revocation")
	}
	if sum.Owner != "ci-deploy" || sum.Account != a.sim.AccountID() || sum.KeyStatus != "Inactive" {
		t.Errorf("summary %+v", sum)
	}
	if sum.Access == nil || sum.Access.Level != AccessPowerUser {
		t.Errorf("access %+v, want power-user", sum.Access)
	}
	if len(sum.Quarantine) != 1 || sum.Quarantine[0] != "AWSCompromisedKeyQuarantineV2" {
		t.Errorf("quarantine %v", sum.Quarantine)
	}
	if sum.Preflight == nil {
		t.Error("no preflight result")
	} else if !sum.Preflight.Checked && !strings.Contains(sum.Preflight.Note, "preflight skipped") {
		t.Errorf("preflight %+v", sum.Preflight)
	}
	if res, err := Verify(c.Journal().Path()); err != nil || !res.OK {
		t.Errorf("journal: %v %v", res, err)
	}

	// A second run on the case changes nothing.
	sum, err = NewRunner(c, a.iam, a.sts, WithResponderKeyID(a.responder.AccessKeyID)).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stepStatus(sum, StepContain) != StatusAlreadyDone || stepStatus(sum, StepRevokeSessions) != StatusAlreadyDone {
		t.Errorf("resume: contain %s, revoke %s", stepStatus(sum, StepContain), stepStatus(sum, StepRevokeSessions))
	}
	n := 0
	for _, e := range journalEntries(t, c) {
		if e.Kind == KindIntent && e.Action == "iam:UpdateAccessKey" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("UpdateAccessKey journaled %d times over two runs, want 1", n)
	}
}

func TestSimRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("unknown key", func(t *testing.T) {
		a := startSim(t)
		c, _ := CreateCase(t.TempDir(), "AKIAZZZZZZZZZZZZZZZZ", time.Now())
		defer c.Close()
		_, err := NewRunner(c, a.iam, a.sts).Run(ctx)
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("Run = %v, want *NotFoundError", err)
		}
	})
	t.Run("root key", func(t *testing.T) {
		a := startSim(t)
		root := a.sim.AddRootKey(time.Now())
		c, _ := CreateCase(t.TempDir(), root.AccessKeyID, time.Now())
		defer c.Close()
		_, err := NewRunner(c, a.iam, a.sts).Run(ctx)
		var rk *RootKeyError
		if !errors.As(err, &rk) {
			t.Fatalf("Run = %v, want *RootKeyError", err)
		}
	})
	t.Run("responder is the leaked key", func(t *testing.T) {
		a := startSim(t)
		cfg := a.srv.Config(*a.leaked, "us-east-1")
		c, _ := CreateCase(t.TempDir(), a.leaked.AccessKeyID, time.Now())
		defer c.Close()
		_, err := NewRunner(c, iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), WithResponderKeyID(a.leaked.AccessKeyID)).Run(ctx)
		var sl *SelfLockoutError
		if !errors.As(err, &sl) {
			t.Fatalf("Run = %v, want *SelfLockoutError", err)
		}
		if k, _ := a.sim.Key(a.leaked.AccessKeyID); k.Status != "Active" {
			t.Error("the key was changed")
		}
	})
	t.Run("access denied names the action", func(t *testing.T) {
		a := startSim(t)
		// A responder whose own policy denies UpdateAccessKey.
		if _, err := a.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("responder"), PolicyName: aws.String("no-update"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:UpdateAccessKey","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		c, _ := CreateCase(t.TempDir(), a.leaked.AccessKeyID, time.Now())
		defer c.Close()
		_, err := NewRunner(c, a.iam, a.sts, WithResponderKeyID(a.responder.AccessKeyID)).Run(ctx)
		var ad *AccessDeniedError
		if !errors.As(err, &ad) || ad.Action != "iam:UpdateAccessKey" {
			t.Fatalf("Run = %v, want *AccessDeniedError for iam:UpdateAccessKey", err)
		}
	})
}
