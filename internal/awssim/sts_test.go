package awssim

import (
	"context"
	"errors"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// idtRole creates a role through IAM with the given longest session.
func (f *idtFixture) role(name string, maxSession int32) string {
	f.t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	out := must(f.iam(f.admin).CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(maxSession)}))(f.t)
	return aws.ToString(out.Role.Arn)
}

func credsOf(c *ststypes.Credentials) Credential {
	return idtSession(c.AccessKeyId, c.SecretAccessKey, c.SessionToken)
}

func TestSTSGetCallerIdentity(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	root := f.sim.AddRootKey(idtStart.Add(-time.Hour))
	f.role("ops", 3600)

	user := must(f.sts(f.admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	adminID := must(f.iam(f.admin).GetUser(ctx, &iam.GetUserInput{}))(t).User.UserId
	if aws.ToString(user.Account) != "123456789012" || aws.ToString(user.Arn) != "arn:aws:iam::123456789012:user/admin" ||
		aws.ToString(user.UserId) != aws.ToString(adminID) {
		t.Errorf("user identity = %s %s %s", aws.ToString(user.UserId), aws.ToString(user.Account), aws.ToString(user.Arn))
	}
	r := must(f.sts(*root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(r.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(r.UserId) != "123456789012" {
		t.Errorf("root identity = %s %s", aws.ToString(r.UserId), aws.ToString(r.Arn))
	}
	sess := must(f.sts(f.admin).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)
	s := must(f.sts(credsOf(sess.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(s.Arn) != "arn:aws:iam::123456789012:user/admin" || aws.ToString(s.UserId) != aws.ToString(adminID) {
		t.Errorf("session identity = %s %s, want the user's", aws.ToString(s.UserId), aws.ToString(s.Arn))
	}
	fed := must(f.sts(f.admin).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("mallory")}))(t)
	fi := must(f.sts(credsOf(fed.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(fi.Arn) != "arn:aws:sts::123456789012:federated-user/mallory" || aws.ToString(fi.UserId) != "123456789012:mallory" {
		t.Errorf("federated identity = %s %s", aws.ToString(fi.UserId), aws.ToString(fi.Arn))
	}
	as := must(f.sts(f.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ops"), RoleSessionName: aws.String("s1")}))(t)
	ai := must(f.sts(credsOf(as.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(ai.Arn) != "arn:aws:sts::123456789012:assumed-role/ops/s1" || !strings.HasSuffix(aws.ToString(ai.UserId), ":s1") ||
		!strings.HasPrefix(aws.ToString(ai.UserId), "AROA") {
		t.Errorf("role identity = %s %s", aws.ToString(ai.UserId), aws.ToString(ai.Arn))
	}
	if rec := f.records("us-east-1", "GetCallerIdentity"); len(rec) != 5 {
		t.Errorf("GetCallerIdentity records = %d, want 5", len(rec))
	}
}

func TestSTSGetAccessKeyInfo(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.sts(f.admin)
	bob := f.user("bob")
	old := f.key("bob")
	admin := f.iam(f.admin)
	must(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID), Status: iamtypes.StatusTypeInactive}))(t)
	must(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(old.AccessKeyID)}))(t)
	sess := must(c.GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)

	for _, k := range []struct{ what, id string }{{"own", f.admin.AccessKeyID}, {"inactive", bob.AccessKeyID},
		{"deleted", old.AccessKeyID}, {"session", aws.ToString(sess.Credentials.AccessKeyId)}} {
		f.tick()
		out, err := c.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(k.id)})
		if err != nil || aws.ToString(out.Account) != "123456789012" {
			t.Errorf("GetAccessKeyInfo of the %s key: %v, %v", k.what, out, err)
		}
		jsonEqual(t, "requestParameters", f.last("us-east-1", "GetAccessKeyInfo")["requestParameters"], `{"accessKeyId":"`+k.id+`"}`)
	}
	_, err := c.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String("AKIAZZZZZZZZZZZZZZZZ")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = c.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String("AKIA-short")})
	wantCode(t, err, "ValidationError")
}

func TestSTSGetSessionToken(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	leaked := f.user("leaky")
	f.sim.SetLeakedKey(leaked.AccessKeyID)
	c := f.sts(leaked)

	out := must(c.GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" || len(aws.ToString(cr.SecretAccessKey)) != 40 ||
		!cr.Expiration.Equal(idtStart.Add(43200*time.Second)) {
		t.Errorf("GetSessionToken = %s expires %v", aws.ToString(cr.AccessKeyId), cr.Expiration)
	}
	rec := f.last("us-east-1", "GetSessionToken")
	if rec["requestParameters"] != nil {
		t.Errorf("requestParameters = %v, want null", rec["requestParameters"])
	}
	jsonEqual(t, "responseElements", rec["responseElements"], `{"credentials":{"accessKeyId":"`+aws.ToString(cr.AccessKeyId)+
		`","sessionToken":"`+aws.ToString(cr.SessionToken)+`","expiration":"Jun 2, 2024, 12:00:00 AM"}}`)

	// The derivation chain: leaked key -> session -> a key made with the session.
	truth := f.sim.Truth()
	var got *TruthKey
	for _, k := range truth.DerivedKeys {
		if k.AccessKeyID == aws.ToString(cr.AccessKeyId) {
			got = &k
		}
	}
	if got == nil || got.Parent != leaked.AccessKeyID || got.Via != "GetSessionToken" || got.Kind != KindSession ||
		got.EventID == "" || got.EventID != rec["eventID"] || got.UserName != "leaky" || got.Status != "Active" {
		t.Fatalf("truth of the session key = %+v, want parent %s and event %v", got, leaked.AccessKeyID, rec["eventID"])
	}
	// Without MFA, a GetSessionToken session may not call IAM at all, so it
	// cannot make keys of its own (AWS's rule, whatever the policies say).
	f.tick()
	_, err := f.iam(credsOf(cr)).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	wantCode(t, err, "AccessDenied")

	short := must(c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}))(t)
	if !short.Credentials.Expiration.Equal(f.clock.Now().Add(15 * time.Minute)) {
		t.Errorf("900 s session expires %v", short.Credentials.Expiration)
	}
	long := must(c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}))(t)
	if !long.Credentials.Expiration.Equal(f.clock.Now().Add(36 * time.Hour)) {
		t.Errorf("129600 s session expires %v", long.Credentials.Expiration)
	}
	for _, d := range []int32{899, 129601} {
		_, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(d)})
		wantCode(t, err, "ValidationError")
	}
	_, err = f.sts(credsOf(cr)).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, err, "AccessDenied")
	if err == nil || !strings.Contains(err.Error(), "Cannot call GetSessionToken with session credentials") {
		t.Errorf("session credentials: err = %v", err)
	}
	_, err = c.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::123456789012:mfa/leaky"), TokenCode: aws.String("123456")})
	wantCode(t, err, "AccessDenied")

	// The root user's sessions last an hour at most.
	root := f.sim.AddRootKey(idtStart.Add(-time.Hour))
	rs := must(f.sts(*root).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)}))(t)
	if !rs.Credentials.Expiration.Equal(f.clock.Now().Add(time.Hour)) {
		t.Errorf("root session expires %v, want in an hour", rs.Credentials.Expiration)
	}
}

func TestSTSSessionOutlivesKeyUntilRevoked(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	leaked := f.user("leaky")
	spare := f.key("leaky")
	admin := f.iam(f.admin)

	sess := must(f.sts(leaked).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)
	token := credsOf(sess.Credentials)
	f.clock.Advance(10 * time.Minute)
	must(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("leaky"), AccessKeyId: aws.String(leaked.AccessKeyID), Status: iamtypes.StatusTypeInactive}))(t)

	_, err := f.sts(leaked).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	// Deactivating the key does not end the session it issued.
	must(f.ec2(token).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))(t)
	must(f.sts(token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)

	// Only a deny on the user conditioned on the token's issue time does.
	f.clock.Advance(time.Minute)
	revoke := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",` +
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + f.clock.Now().Format(time.RFC3339) + `"}}}]}`
	must(admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("leaky"), PolicyName: aws.String("revoke-older-sessions"),
		PolicyDocument: aws.String(revoke)}))(t)
	f.tick()
	_, err = f.ec2(token).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	wantCode(t, err, "UnauthorizedOperation")
	if rec := f.last("us-east-1", "DescribeRegions"); rec["errorCode"] != "Client.UnauthorizedOperation" {
		t.Errorf("denied session call recorded with errorCode %v", rec["errorCode"])
	}
	// The policy leaves long-term keys and sessions issued after it alone.
	f.clock.Advance(time.Minute)
	must(f.iam(spare).ListUsers(ctx, &iam.ListUsersInput{}))(t)
	fresh := must(f.sts(spare).GetSessionToken(ctx, &sts.GetSessionTokenInput{}))(t)
	must(f.ec2(credsOf(fresh.Credentials)).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))(t)

	// Sessions end with their user: deleting and recreating the user does
	// not bring the old token back.
	for _, k := range []string{leaked.AccessKeyID, spare.AccessKeyID} {
		must(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("leaky"), AccessKeyId: aws.String(k)}))(t)
	}
	must(admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("leaky"), PolicyName: aws.String("revoke-older-sessions")}))(t)
	must(admin.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("leaky")}))(t)
	must(admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("leaky")}))(t)
	_, err = f.sts(credsOf(fresh.Credentials)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
}

func TestSTSSessionExpires(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	sess := must(f.sts(f.admin).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)}))(t)
	token := credsOf(sess.Credentials)
	f.clock.Advance(14 * time.Minute)
	must(f.sts(token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	f.clock.Advance(time.Minute)
	_, err := f.sts(token).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken")
}

func TestSTSGetFederationToken(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	leaked := f.user("leaky")
	f.sim.SetLeakedKey(leaked.AccessKeyID)
	c := f.sts(leaked)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"ec2:DescribeRegions","Resource":"*"}]}`

	out := must(c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("stratus"), Policy: aws.String(policy)}))(t)
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || !cr.Expiration.Equal(idtStart.Add(12*time.Hour)) {
		t.Errorf("credentials %s expire %v", aws.ToString(cr.AccessKeyId), cr.Expiration)
	}
	if aws.ToString(out.FederatedUser.Arn) != "arn:aws:sts::123456789012:federated-user/stratus" ||
		aws.ToString(out.FederatedUser.FederatedUserId) != "123456789012:stratus" || aws.ToInt32(out.PackedPolicySize) < 1 {
		t.Errorf("FederatedUser = %+v, PackedPolicySize %d", out.FederatedUser, aws.ToInt32(out.PackedPolicySize))
	}
	rec := f.last("us-east-1", "GetFederationToken")
	jsonEqual(t, "requestParameters", rec["requestParameters"], `{"name":"stratus","policy":`+mustJSON(policy)+`}`)
	resp := rec["responseElements"].(map[string]any)
	jsonEqual(t, "federatedUser", resp["federatedUser"], `{"arn":"arn:aws:sts::123456789012:federated-user/stratus","federatedUserId":"123456789012:stratus"}`)
	jsonEqual(t, "credentials", resp["credentials"], `{"accessKeyId":"`+aws.ToString(cr.AccessKeyId)+`","sessionToken":"`+
		aws.ToString(cr.SessionToken)+`","expiration":"Jun 2, 2024, 12:00:00 AM"}`)
	k, _ := f.sim.Key(aws.ToString(cr.AccessKeyId))
	if k.Kind != KindFederation || k.InlinePolicy != policy || k.Parent != leaked.AccessKeyID || k.SessionName != "stratus" || k.ViaEventID != rec["eventID"] {
		t.Errorf("federation key = %+v", k)
	}
	// The session policy's deny applies to the federated session only.
	fed := f.ec2(credsOf(cr))
	_, err := fed.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	wantCode(t, err, "UnauthorizedOperation")
	must(fed.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}))(t)
	must(f.ec2(leaked).DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))(t)
	// Federated users may call neither IAM nor STS (but GetCallerIdentity).
	_, err = f.iam(credsOf(cr)).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	must(f.sts(credsOf(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)

	_, err = c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("x"), Policy: aws.String(`{"Statement":`)})
	wantCode(t, err, "ValidationError") // the name is too short before the policy is read
	_, err = c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("xy"), Policy: aws.String(`{"Statement":`)})
	var mal *ststypes.MalformedPolicyDocumentException
	if !errors.As(err, &mal) {
		t.Errorf("malformed policy: err = %v", err)
	}
	_, err = c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("xy"), DurationSeconds: aws.Int32(129601)})
	wantCode(t, err, "ValidationError")
	_, err = f.sts(credsOf(cr)).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("again")})
	wantCode(t, err, "AccessDenied")
	_, err = f.sim.Do(&Call{Service: "sts", Action: "GetFederationToken", Region: "us-east-1", AccessKeyID: leaked.AccessKeyID})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "MissingParameter" || !strings.Contains(apiErr.Message, "Name") {
		t.Errorf("GetFederationToken without Name: err = %v", err)
	}
	// The quarantine policy V2 denies sts:GetFederationToken.
	must(f.iam(f.admin).AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("leaky"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")}))(t)
	_, err = c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("stratus")})
	wantCode(t, err, "AccessDenied")
}

func TestSTSAssumeRole(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	leaked := f.user("leaky")
	f.sim.SetLeakedKey(leaked.AccessKeyID)
	c := f.sts(leaked)
	arn := f.role("ops", 7200)

	f.tick()
	out := must(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("sess-1")}))(t)
	now := f.clock.Now()
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || !cr.Expiration.Equal(now.Add(time.Hour)) {
		t.Errorf("AssumeRole credentials %s expire %v, want in an hour", aws.ToString(cr.AccessKeyId), cr.Expiration)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/ops/sess-1" ||
		!strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":sess-1") {
		t.Errorf("AssumedRoleUser = %+v", out.AssumedRoleUser)
	}
	rec := f.last("us-east-1", "AssumeRole")
	jsonEqual(t, "requestParameters", rec["requestParameters"], `{"roleArn":"`+arn+`","roleSessionName":"sess-1"}`)
	resp := rec["responseElements"].(map[string]any)
	jsonEqual(t, "assumedRoleUser", resp["assumedRoleUser"], `{"arn":"arn:aws:sts::123456789012:assumed-role/ops/sess-1","assumedRoleId":"`+
		aws.ToString(out.AssumedRoleUser.AssumedRoleId)+`"}`)
	if cred := resp["credentials"].(map[string]any); cred["accessKeyId"] != aws.ToString(cr.AccessKeyId) || cred["expiration"] != "Jun 1, 2024, 1:00:01 PM" {
		t.Errorf("credentials record = %v", cred)
	}
	if got := f.resources("us-east-1", "AssumeRole"); len(got) != 1 || got[0] != (EventResource{Type: "AWS::IAM::Role", Name: arn}) {
		t.Errorf("AssumeRole resources = %v", got)
	}
	var inTruth bool
	for _, k := range f.sim.Truth().DerivedKeys {
		inTruth = inTruth || k.AccessKeyID == aws.ToString(cr.AccessKeyId) && k.Kind == KindRole && k.RoleName == "ops" &&
			k.Parent == leaked.AccessKeyID && k.EventID == rec["eventID"]
	}
	if !inTruth {
		t.Errorf("the role session is not in the leaked key's derivation chain")
	}

	long := must(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(7200)}))(t)
	if !long.Credentials.Expiration.Equal(now.Add(2 * time.Hour)) {
		t.Errorf("7200 s role session expires %v", long.Credentials.Expiration)
	}
	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s3"), DurationSeconds: aws.Int32(7201)})
	wantCode(t, err, "ValidationError")
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s3"), DurationSeconds: aws.Int32(600)})
	wantCode(t, err, "ValidationError")
	for _, bad := range []string{"arn:aws:iam::123456789012:role/nope", "arn:aws:iam::999999999999:role/ops"} {
		_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(bad), RoleSessionName: aws.String("s4")})
		wantCode(t, err, "AccessDenied")
	}
	_, err = f.sim.Do(&Call{Service: "sts", Action: "AssumeRole", Region: "us-east-1", AccessKeyID: leaked.AccessKeyID, Params: map[string]string{"RoleArn": arn}})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "MissingParameter" || !strings.Contains(apiErr.Message, "RoleSessionName") {
		t.Errorf("AssumeRole without RoleSessionName: err = %v", err)
	}
	root := f.sim.AddRootKey(idtStart)
	_, err = f.sts(*root).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("rr")})
	wantCode(t, err, "AccessDenied")

	// Role chaining is limited to an hour; the chained session is derived
	// from the first one.
	roleCreds := credsOf(cr)
	_, err = f.sts(roleCreds).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(3601)})
	wantCode(t, err, "ValidationError")
	chained := must(f.sts(roleCreds).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("chain")}))(t)
	if k, _ := f.sim.Key(aws.ToString(chained.Credentials.AccessKeyId)); k.Parent != aws.ToString(cr.AccessKeyId) {
		t.Errorf("chained session parent = %s", k.Parent)
	}

	// A deny on the role conditioned on the issue time ends its sessions.
	f.clock.Advance(time.Minute)
	revoke := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",` +
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + f.clock.Now().Format(time.RFC3339) + `"}}}]}`
	must(f.iam(f.admin).PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("revoke"), PolicyDocument: aws.String(revoke)}))(t)
	_, err = f.iam(roleCreds).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	// A role session may not name a user implicitly.
	f.clock.Advance(time.Minute)
	fresh := must(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("late")}))(t)
	_, err = f.iam(credsOf(fresh.Credentials)).GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "ValidationError")
}
