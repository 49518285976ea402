package awssim

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// mfaGatedTrust lets principals of the account assume a role only with MFA.
const mfaGatedTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},` +
	`"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`

// bastionPolicy is seed 003's bastion user: it may assume roles, only with
// MFA, and do nothing else.
const bastionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*",` +
	`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`

// mfaFixture is an account that evaluates Allow statements, with a user
// "ops" allowed only to assume roles with MFA, its MFA device, and a role
// "admin" whose trust policy requires MFA.
func mfaFixture(t *testing.T) (*idtFixture, Credential, string, string) {
	t.Helper()
	f := newIDTFixture(t)
	f.sim.SetImplicitDeny(true)
	ops := f.user("ops")
	ctx := context.Background()
	must(f.iam(f.admin).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("bastion"),
		PolicyDocument: aws.String(bastionPolicy)}))(t)
	if err := f.sim.AddRole("admin", mfaGatedTrust, idtStart.Add(-time.Hour), "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	serial, seed, err := f.sim.AddMFADevice("ops", "ops", idtStart.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return f, ops, serial, seed
}

func totpNow(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	code, err := TOTP(seed, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestMFAGetSessionTokenAndAssumeRole: codes are checked against the
// device's seed; MFA reaches the conditions (aws:MultiFactorAuthPresent,
// aws:MultiFactorAuthAge) and CloudTrail; Allow statements are needed in
// an account that evaluates them.
func TestMFAGetSessionTokenAndAssumeRole(t *testing.T) {
	f, ops, serial, seed := mfaFixture(t)
	ctx := context.Background()
	role := "arn:aws:iam::123456789012:role/admin"
	st := sts.NewFromConfig(f.srv.Config(ops, "us-east-1"))

	// Nothing but AssumeRole is allowed to the bastion user.
	_, err := f.iam(ops).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	// The role refuses a caller without a code, with a wrong one, with
	// another user's device.
	assume := func(serialNumber, code string) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("responder")}
		if serialNumber != "" {
			in.SerialNumber, in.TokenCode = aws.String(serialNumber), aws.String(code)
		}
		return st.AssumeRole(ctx, in)
	}
	_, err = assume("", "")
	wantCode(t, err, "AccessDenied")
	right := totpNow(t, seed, f.clock.Now())
	wrong := "000000"
	if right == wrong {
		wrong = "000001"
	}
	_, err = assume(serial, wrong)
	wantCode(t, err, "AccessDenied")
	_, err = assume("arn:aws:iam::123456789012:mfa/nobody", right)
	wantCode(t, err, "AccessDenied")

	// The right code opens the role, once.
	f.tick()
	out := must(assume(serial, right))(t)
	if arn := aws.ToString(out.AssumedRoleUser.Arn); arn != "arn:aws:sts::123456789012:assumed-role/admin/responder" {
		t.Errorf("assumed %s", arn)
	}
	rec := f.last("us-east-1", "AssumeRole")
	if req := rec["requestParameters"].(map[string]any); req["serialNumber"] != serial || req["tokenCode"] != nil {
		t.Errorf("AssumeRole record: %v, want the serial number and no code", req)
	}
	_, err = assume(serial, right)
	wantCode(t, err, "AccessDenied")

	// The session carries MFA: its calls are recorded as MFA-authenticated.
	session := Credential{AccessKeyID: *out.Credentials.AccessKeyId, Secret: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	must(f.iam(session).ListUsers(ctx, &iam.ListUsersInput{}))(t)
	attrs := f.last("us-east-1", "ListUsers")["userIdentity"].(map[string]any)["sessionContext"].(map[string]any)["attributes"].(map[string]any)
	if attrs["mfaAuthenticated"] != "true" {
		t.Errorf("the MFA session's record says mfaAuthenticated %v", attrs["mfaAuthenticated"])
	}

	// aws:MultiFactorAuthAge: a deny on MFA older than 30 minutes stops
	// the session once that is past.
	must(f.iam(f.admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("admin"), PolicyName: aws.String("fresh-mfa"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*",` +
			`"Condition":{"NumericGreaterThan":{"aws:MultiFactorAuthAge":"1800"}}}]}`)}))(t)
	must(f.iam(session).ListUsers(ctx, &iam.ListUsersInput{}))(t)
	f.clock.Advance(31 * time.Minute)
	_, err = f.iam(session).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")

	// GetSessionToken: without MFA its session may not call IAM; with a
	// wrong code there is none; with the right one it may, as far as the
	// user's policies allow (here: not at all).
	plain := must(st.GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)
	_, err = f.iam(Credential{AccessKeyID: *plain.Credentials.AccessKeyId, Secret: *plain.Credentials.SecretAccessKey,
		SessionToken: *plain.Credentials.SessionToken}).ListUsers(ctx, &iam.ListUsersInput{})
	if err == nil || !strings.Contains(err.Error(), "without MFA") {
		t.Errorf("a session without MFA called IAM: %v", err)
	}
	_, err = st.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(wrong)})
	wantCode(t, err, "AccessDenied")
	code := totpNow(t, seed, f.clock.Now())
	withMFA := must(st.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String(serial), TokenCode: aws.String(code)}))(t)
	mfaSession := Credential{AccessKeyID: *withMFA.Credentials.AccessKeyId, Secret: *withMFA.Credentials.SecretAccessKey,
		SessionToken: *withMFA.Credentials.SessionToken}
	_, err = f.iam(mfaSession).ListUsers(ctx, &iam.ListUsersInput{})
	if err == nil || strings.Contains(err.Error(), "without MFA") {
		t.Errorf("an MFA session of a user allowed no IAM call: %v, want the implicit deny", err)
	}
	// ... and its AssumeRole carries the MFA to the trust policy.
	must(sts.NewFromConfig(f.srv.Config(mfaSession, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("from-session")}))(t)
}

// TestImplicitDenyIsOptIn: an account that does not evaluate Allow
// statements still lets every principal do what nothing denies, and lets
// anyone assume its roles, as the older scenarios need.
func TestImplicitDenyIsOptIn(t *testing.T) {
	f := newIDTFixture(t)
	plain := f.user("plain")
	if err := f.sim.AddRole("admin", mfaGatedTrust, idtStart.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must(f.iam(plain).ListUsers(ctx, &iam.ListUsersInput{}))(t)
	must(sts.NewFromConfig(f.srv.Config(plain, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/admin"), RoleSessionName: aws.String("xx")}))(t)
}

// TestMFAWithAWSCLI drives the MFA-gated role with the AWS CLI, an
// independent client: no code and a wrong code are refused, the device's
// current code is accepted. The device is made and enabled through the CLI
// too, its seed read from the file the CLI writes.
func TestMFAWithAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the AWS CLI is not on PATH; CI must provide it")
		}
		t.Skip("the AWS CLI is not on PATH")
	}
	sim := New()
	created := time.Now().Add(-24 * time.Hour)
	for _, u := range []string{"admin", "ops"} {
		if err := sim.AddUser(u, created); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.AddRole("admin", mfaGatedTrust, created, "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	sim.SetImplicitDeny(true)
	srv, err := Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	admin, err := sim.AddAccessKey("admin", created, "")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := sim.AddAccessKey("ops", created, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	aws := func(key *Credential, out any, args ...string) error {
		t.Helper()
		res, err := awsclitest.Run(context.Background(), []string{"HOME=" + dir, "AWS_ACCESS_KEY_ID=" + key.AccessKeyID,
			"AWS_SECRET_ACCESS_KEY=" + key.Secret, "AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1",
			"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none")},
			append(append([]string{}, args...), "--endpoint-url", srv.URL, "--output", "json")...)
		switch {
		case err != nil:
			return err
		case res.Code != 0:
			return &cliError{msg: string(res.Stderr)}
		case out != nil:
			return json.Unmarshal(res.Stdout, out)
		}
		return nil
	}
	// The administrator's own allow comes from the account's policies.
	if err := aws(admin, nil, "iam", "put-user-policy", "--user-name", "admin", "--policy-name", "all",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`); err == nil {
		t.Fatal("a user without any Allow changed policies")
	}
	sim.mu.Lock()
	sim.acct.Users["admin"].Attached = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	sim.mu.Unlock()
	if err := aws(admin, nil, "iam", "put-user-policy", "--user-name", "ops", "--policy-name", "bastion", "--policy-document", bastionPolicy); err != nil {
		t.Fatal(err)
	}
	var dev struct{ VirtualMFADevice struct{ SerialNumber string } }
	seedFile := filepath.Join(dir, "seed.txt")
	if err := aws(admin, &dev, "iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "ops",
		"--outfile", seedFile, "--bootstrap-method", "Base32StringSeed"); err != nil {
		t.Fatal(err)
	}
	seedBytes, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	seed, serial := string(seedBytes), dev.VirtualMFADevice.SerialNumber
	now := time.Now()
	if err := aws(admin, nil, "iam", "enable-mfa-device", "--user-name", "ops", "--serial-number", serial,
		"--authentication-code1", totpNow(t, seed, now.Add(-30*time.Second)), "--authentication-code2", totpNow(t, seed, now)); err != nil {
		t.Fatal(err)
	}

	role := "arn:aws:iam::123456789012:role/admin"
	err = aws(ops, nil, "sts", "assume-role", "--role-arn", role, "--role-session-name", "responder")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("assume-role without a code: %v, want AccessDenied", err)
	}
	code := totpNow(t, seed, time.Now())
	wrong := "123456"
	if code == wrong {
		wrong = "654321"
	}
	err = aws(ops, nil, "sts", "assume-role", "--role-arn", role, "--role-session-name", "responder", "--serial-number", serial, "--token-code", wrong)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("assume-role with a wrong code: %v, want AccessDenied", err)
	}
	// A code a step ahead is still within the skew AWS allows, and unused:
	// enable-mfa-device spent the current one.
	var out struct{ AssumedRoleUser struct{ Arn string } }
	if err := aws(ops, &out, "sts", "assume-role", "--role-arn", role, "--role-session-name", "responder",
		"--serial-number", serial, "--token-code", totpNow(t, seed, time.Now().Add(30*time.Second))); err != nil {
		t.Fatalf("assume-role with the device's code: %v", err)
	}
	if out.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/admin/responder" {
		t.Errorf("assumed %s", out.AssumedRoleUser.Arn)
	}
}

type cliError struct{ msg string }

func (e *cliError) Error() string { return e.msg }
