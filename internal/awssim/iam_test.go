package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// idtClock is a settable clock for the identity (IAM/STS) tests; the server
// reads it from its handler goroutines.
type idtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *idtClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *idtClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idtStart is when every identity test begins.
var idtStart = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// idtFixture is a running simulator with one administrator, "admin", whose
// key the tests call with unless they say otherwise.
type idtFixture struct {
	t     *testing.T
	srv   *Server
	sim   *Sim
	clock *idtClock
	admin Credential
}

func newIDTFixture(t *testing.T) *idtFixture {
	t.Helper()
	clock := &idtClock{t: idtStart}
	sim := New(WithClock(clock.Now))
	srv, err := Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close simulator: %v", err)
		}
	})
	f := &idtFixture{t: t, srv: srv, sim: sim, clock: clock}
	f.admin = f.user("admin", "AdministratorAccess")
	return f
}

// user creates a user with one access key, made a day before the test.
func (f *idtFixture) user(name string, policies ...string) Credential {
	f.t.Helper()
	created := idtStart.Add(-24 * time.Hour)
	if err := f.sim.AddUser(name, created, policies...); err != nil {
		f.t.Fatalf("add user: %v", err)
	}
	return f.key(name)
}

// key gives an existing user one more access key.
func (f *idtFixture) key(user string) Credential {
	f.t.Helper()
	k, err := f.sim.AddAccessKey(user, idtStart.Add(-24*time.Hour), "")
	if err != nil {
		f.t.Fatalf("add access key: %v", err)
	}
	return *k
}

func (f *idtFixture) iam(cred Credential) *iam.Client {
	return iam.NewFromConfig(f.srv.Config(cred, "us-east-1"))
}

func (f *idtFixture) ec2(cred Credential) *ec2.Client {
	return ec2.NewFromConfig(f.srv.Config(cred, "us-east-1"))
}

func (f *idtFixture) sts(cred Credential) *sts.Client {
	return sts.NewFromConfig(f.srv.Config(cred, "us-east-1"))
}

// session turns STS credentials into a Credential to call with.
func idtSession(id, secret, token *string) Credential {
	return Credential{AccessKeyID: aws.ToString(id), Secret: aws.ToString(secret), SessionToken: aws.ToString(token)}
}

// records returns the CloudTrail records of an event name in a region,
// oldest first.
func (f *idtFixture) records(region, name string) []map[string]any {
	f.t.Helper()
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	var out []map[string]any
	for _, e := range f.sim.acct.region(region).Trail.events {
		if e.Name != name {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(e.Raw, &rec); err != nil {
			f.t.Fatalf("decode record: %v", err)
		}
		out = append(out, rec)
	}
	return out
}

// last returns the newest record of an event name; it fails when there is none.
func (f *idtFixture) last(region, name string) map[string]any {
	f.t.Helper()
	recs := f.records(region, name)
	if len(recs) == 0 {
		f.t.Fatalf("no %s record in %s", name, region)
	}
	return recs[len(recs)-1]
}

// tick moves the clock a second on. CloudTrail orders events of the same
// second by event ID, so a test that reads "the newest record" of a call
// ticks before making it.
func (f *idtFixture) tick() { f.clock.Advance(time.Second) }

// resources returns the LookupEvents resources of the newest event of a name.
func (f *idtFixture) resources(region, name string) []EventResource {
	f.t.Helper()
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	evs := f.sim.acct.region(region).Trail.events
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Name == name {
			return evs[i].Resources
		}
	}
	f.t.Fatalf("no %s event in %s", name, region)
	return nil
}

// idtCode is the AWS error code of an SDK error, "" for nil.
func idtCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

// wantCode fails unless err carries the AWS error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := idtCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// must turns a call's (value, error) into the value, failing the test on
// an error: must(c.GetUser(ctx, in))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// jsonEqual compares a record field with a JSON literal.
func jsonEqual(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s = %s, want %s", what, gb, wb)
	}
}

func TestIAMCreateGetListUsers(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)

	out := must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor"), Path: aws.String("/ops/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}))(t)
	u := out.User
	if aws.ToString(u.UserName) != "backdoor" || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") ||
		aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/ops/backdoor" || !u.CreateDate.Equal(idtStart) {
		t.Errorf("CreateUser answer = %+v", u)
	}
	rec := f.last("us-east-1", "CreateUser")
	jsonEqual(t, "requestParameters", rec["requestParameters"], `{"userName":"backdoor","path":"/ops/","tags":[{"key":"team","value":"red"}]}`)
	jsonEqual(t, "responseElements", rec["responseElements"], `{"user":{"arn":"arn:aws:iam::123456789012:user/ops/backdoor",
		"createDate":"Jun 1, 2024 12:00:00 PM","path":"/ops/","tags":[{"key":"team","value":"red"}],"userId":"`+aws.ToString(u.UserId)+`","userName":"backdoor"}}`)
	if got := f.resources("us-east-1", "CreateUser"); !slices.Equal(got, []EventResource{{Type: "AWS::IAM::User", Name: "backdoor"}}) {
		t.Errorf("CreateUser resources = %v", got)
	}
	var found bool
	for _, r := range f.sim.Truth().Resources {
		if r.Type == "AWS::IAM::User" && r.ID == "backdoor" {
			found = r.CreatedBy == f.admin.AccessKeyID
		}
	}
	if !found {
		t.Errorf("truth does not list backdoor as created by the admin key")
	}

	f.tick()
	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("BACKDOOR")})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("CreateUser of an existing name (other case): err = %v, want EntityAlreadyExists", err)
	}
	f.tick()
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name!")})
	wantCode(t, err, "ValidationError")
	if rec := f.last("us-east-1", "CreateUser"); rec["errorCode"] != "ValidationError" {
		t.Errorf("failed CreateUser record errorCode = %v", rec["errorCode"])
	}

	got := must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("backdoor")}))(t)
	if len(got.User.Tags) != 1 || aws.ToString(got.User.Tags[0].Value) != "red" || aws.ToString(got.User.Path) != "/ops/" {
		t.Errorf("GetUser = %+v", got.User)
	}
	me := must(c.GetUser(ctx, &iam.GetUserInput{}))(t)
	if aws.ToString(me.User.UserName) != "admin" {
		t.Errorf("GetUser without name = %q, want the caller admin", aws.ToString(me.User.UserName))
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("GetUser of unknown user: err = %v, want NoSuchEntity", err)
	}
	root := f.sim.AddRootKey(idtStart.Add(-48 * time.Hour))
	rootUser := must(f.iam(*root).GetUser(ctx, &iam.GetUserInput{}))(t)
	if aws.ToString(rootUser.User.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(rootUser.User.UserId) != "123456789012" {
		t.Errorf("GetUser as root = %+v", rootUser.User)
	}
	rootKeys := must(f.iam(*root).ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))(t)
	if len(rootKeys.AccessKeyMetadata) != 1 || aws.ToString(rootKeys.AccessKeyMetadata[0].AccessKeyId) != root.AccessKeyID ||
		rootKeys.AccessKeyMetadata[0].UserName != nil {
		t.Errorf("ListAccessKeys as root = %+v, want the root key without a user name", rootKeys.AccessKeyMetadata)
	}

	for _, n := range []string{"carol", "dave"} {
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}))(t)
	}
	var names []string
	pages := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	npages := 0
	for pages.HasMorePages() {
		p := must(pages.NextPage(ctx))(t)
		npages++
		for _, u := range p.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if want := []string{"admin", "backdoor", "carol", "dave"}; !slices.Equal(names, want) || npages != 2 {
		t.Errorf("ListUsers pages = %d, names = %v, want 2 pages of %v", npages, names, want)
	}
	ops := must(c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/ops/")}))(t)
	if len(ops.Users) != 1 || aws.ToString(ops.Users[0].UserName) != "backdoor" {
		t.Errorf("ListUsers /ops/ = %v", ops.Users)
	}
}

func TestIAMDeleteUserConflicts(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	victimKey := f.user("victim")
	mustNil := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	mustNil(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("victim"), Password: aws.String("Sup3r-secret-pw")}))
	mustNil(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("victim"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}))
	mustNil(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("victim"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	mustNil(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	mustNil(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("victim")}))

	// Each step removes one thing that still blocks the deletion.
	steps := []func(){
		func() {
			mustNil(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("victim")}))
		},
		func() {
			mustNil(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("victim"), AccessKeyId: aws.String(victimKey.AccessKeyID)}))
		},
		func() {
			mustNil(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("victim"), PolicyName: aws.String("p")}))
		},
		func() {
			mustNil(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("victim"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
		},
		func() {
			mustNil(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("victim")}))
		},
	}
	for i, step := range steps {
		_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("victim")})
		var conflict *iamtypes.DeleteConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("DeleteUser before step %d: err = %v, want DeleteConflict", i, err)
		}
		step()
	}
	mustNil(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("victim")}))
	_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("victim")})
	wantCode(t, err, "NoSuchEntity")
	f.tick()
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("victim")})
	wantCode(t, err, "NoSuchEntity")
	if k, ok := f.sim.Key(victimKey.AccessKeyID); !ok || !k.Deleted {
		t.Errorf("deleted key: present %v, Deleted %v; want kept and marked deleted", ok, k.Deleted)
	}
	rec := f.last("us-east-1", "DeleteUser")
	if rec["errorCode"] != "NoSuchEntity" {
		t.Errorf("last DeleteUser record errorCode = %v", rec["errorCode"])
	}
	jsonEqual(t, "requestParameters", rec["requestParameters"], `{"userName":"victim"}`)
}

func TestIAMAccessKeys(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	admin := f.iam(f.admin)
	f.sim.SetLeakedKey(f.admin.AccessKeyID)

	mine := must(admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))(t)
	if len(mine.AccessKeyMetadata) != 1 || aws.ToString(mine.AccessKeyMetadata[0].AccessKeyId) != f.admin.AccessKeyID ||
		aws.ToString(mine.AccessKeyMetadata[0].UserName) != "admin" || mine.AccessKeyMetadata[0].Status != iamtypes.StatusTypeActive {
		t.Errorf("ListAccessKeys of the caller = %+v", mine.AccessKeyMetadata)
	}
	if rec := f.last("us-east-1", "ListAccessKeys"); rec["requestParameters"] != nil {
		t.Errorf("ListAccessKeys without UserName: requestParameters = %v, want null", rec["requestParameters"])
	}

	f.clock.Advance(time.Minute)
	created := must(admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")}))(t)
	ak := created.AccessKey
	if !strings.HasPrefix(aws.ToString(ak.AccessKeyId), "AKIA") || len(aws.ToString(ak.SecretAccessKey)) != 40 ||
		ak.Status != iamtypes.StatusTypeActive || aws.ToString(ak.UserName) != "admin" {
		t.Errorf("CreateAccessKey = %+v", ak)
	}
	rec := f.last("us-east-1", "CreateAccessKey")
	jsonEqual(t, "responseElements", rec["responseElements"], `{"accessKey":{"accessKeyId":"`+aws.ToString(ak.AccessKeyId)+
		`","createDate":"Jun 1, 2024 12:01:00 PM","status":"Active","userName":"admin"}}`)
	raw, _ := json.Marshal(rec)
	if strings.Contains(string(raw), aws.ToString(ak.SecretAccessKey)) {
		t.Errorf("the CloudTrail record holds the new secret")
	}
	var derived *TruthKey
	for _, k := range f.sim.Truth().DerivedKeys {
		if k.AccessKeyID == aws.ToString(ak.AccessKeyId) {
			derived = &k
		}
	}
	if derived == nil || derived.Parent != f.admin.AccessKeyID || derived.Via != "CreateAccessKey" || derived.EventID != rec["eventID"] {
		t.Errorf("truth of the new key = %+v, want parent %s via CreateAccessKey, event %v", derived, f.admin.AccessKeyID, rec["eventID"])
	}
	newKey := idtSession(ak.AccessKeyId, ak.SecretAccessKey, nil)
	if id := must(f.sts(newKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t); aws.ToString(id.Arn) != "arn:aws:iam::123456789012:user/admin" {
		t.Errorf("the new key calls as %s", aws.ToString(id.Arn))
	}
	_, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	var limit *iamtypes.LimitExceededException
	if !errors.As(err, &limit) {
		t.Errorf("third key: err = %v, want LimitExceeded", err)
	}

	// A second user's key, deactivated and reactivated by the admin.
	bob := f.user("bob")
	_, err = admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(bob.AccessKeyID), Status: iamtypes.StatusTypeInactive})
	wantCode(t, err, "NoSuchEntity") // without UserName IAM looks among the caller's own keys
	_, err = admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID), Status: "Disabled"})
	wantCode(t, err, "ValidationError")
	f.tick()
	must(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID), Status: iamtypes.StatusTypeInactive}))(t)
	jsonEqual(t, "UpdateAccessKey requestParameters", f.last("us-east-1", "UpdateAccessKey")["requestParameters"],
		`{"accessKeyId":"`+bob.AccessKeyID+`","status":"Inactive","userName":"bob"}`)
	if got := f.resources("us-east-1", "UpdateAccessKey"); !slices.Contains(got, EventResource{Type: "AWS::IAM::AccessKey", Name: bob.AccessKeyID}) {
		t.Errorf("UpdateAccessKey resources = %v", got)
	}
	_, err = f.iam(bob).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	wantCode(t, err, "InvalidClientTokenId")
	_, err = f.sts(bob).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	bobKeys := must(admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")}))(t)
	if len(bobKeys.AccessKeyMetadata) != 1 || bobKeys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeInactive {
		t.Errorf("ListAccessKeys bob = %+v, want one inactive key", bobKeys.AccessKeyMetadata)
	}
	must(admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID), Status: iamtypes.StatusTypeActive}))(t)
	must(f.sts(bob).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)

	f.tick()
	must(admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID)}))(t)
	jsonEqual(t, "DeleteAccessKey requestParameters", f.last("us-east-1", "DeleteAccessKey")["requestParameters"],
		`{"accessKeyId":"`+bob.AccessKeyID+`","userName":"bob"}`)
	if k, ok := f.sim.Key(bob.AccessKeyID); !ok || !k.Deleted {
		t.Errorf("deleted key kept = %v, Deleted = %v", ok, k.Deleted)
	}
	if left := must(admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")}))(t); len(left.AccessKeyMetadata) != 0 {
		t.Errorf("ListAccessKeys after delete = %+v", left.AccessKeyMetadata)
	}
	_, err = admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bob.AccessKeyID)})
	wantCode(t, err, "NoSuchEntity")
	_, err = f.sts(bob).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	_, err = admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("ghost")})
	wantCode(t, err, "NoSuchEntity")
}

func TestIAMGetAccessKeyLastUsed(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	admin := f.iam(f.admin)
	worker := f.user("worker")

	never := must(admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(worker.AccessKeyID)}))(t)
	if aws.ToString(never.UserName) != "worker" || never.AccessKeyLastUsed.LastUsedDate != nil ||
		aws.ToString(never.AccessKeyLastUsed.ServiceName) != "N/A" || aws.ToString(never.AccessKeyLastUsed.Region) != "N/A" {
		t.Errorf("never used key = %+v / %+v", never, never.AccessKeyLastUsed)
	}
	f.clock.Advance(5 * time.Minute)
	must(sts.NewFromConfig(f.srv.Config(worker, "eu-west-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	used := must(admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(worker.AccessKeyID)}))(t)
	lu := used.AccessKeyLastUsed
	if lu.LastUsedDate == nil || !lu.LastUsedDate.Equal(idtStart.Add(5*time.Minute)) ||
		aws.ToString(lu.ServiceName) != "sts" || aws.ToString(lu.Region) != "eu-west-1" {
		t.Errorf("used key = %+v", lu)
	}
	jsonEqual(t, "requestParameters", f.last("us-east-1", "GetAccessKeyLastUsed")["requestParameters"], `{"accessKeyId":"`+worker.AccessKeyID+`"}`)
	_, err := admin.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA")})
	wantCode(t, err, "AccessDenied")
}

func TestIAMInlineUserPolicies(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	f.user("bob")
	doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Deny\", \"Action\": \"iam:*\", \"Resource\": \"*\"}]\n}"

	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no-iam"), PolicyDocument: aws.String(doc)}))(t)
	jsonEqual(t, "requestParameters", f.last("us-east-1", "PutUserPolicy")["requestParameters"],
		`{"userName":"bob","policyName":"no-iam","policyDocument":`+mustJSON(doc)+`}`)
	got := must(c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no-iam")}))(t)
	if strings.ContainsAny(aws.ToString(got.PolicyDocument), "{ \"") {
		t.Errorf("GetUserPolicy document is not URL-encoded: %q", aws.ToString(got.PolicyDocument))
	}
	if dec, err := url.QueryUnescape(aws.ToString(got.PolicyDocument)); err != nil || dec != doc {
		t.Errorf("decoded document = %q (%v), want %q", dec, err, doc)
	}
	if aws.ToString(got.UserName) != "bob" || aws.ToString(got.PolicyName) != "no-iam" {
		t.Errorf("GetUserPolicy = %+v", got)
	}
	names := must(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("bob")}))(t)
	if !slices.Equal(names.PolicyNames, []string{"no-iam"}) {
		t.Errorf("ListUserPolicies = %v", names.PolicyNames)
	}

	for _, bad := range []string{
		`not json`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*"}]}`,                                 // no Resource
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`,                 // bad Effect
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ListUsers","Resource":"*"}]}`,         // no service prefix
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, // principal
		`{"Version":"2019-01-01","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,                 // version
	} {
		_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(bad)})
		var mal *iamtypes.MalformedPolicyDocumentException
		if !errors.As(err, &mal) {
			t.Errorf("PutUserPolicy(%s): err = %v, want MalformedPolicyDocument", bad, err)
		}
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Repeat(`"s3:GetObject",`, 150) + `"s3:GetObject"],"Resource":"*"}]}`
	_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantCode(t, err, "LimitExceeded")
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	wantCode(t, err, "NoSuchEntity")

	must(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no-iam")}))(t)
	_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no-iam")})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("no-iam")})
	wantCode(t, err, "NoSuchEntity")
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestIAMManagedPolicies(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	f.user("bob")
	v2 := "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"

	_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("attach unknown ARN: err = %v, want NoSuchEntity", err)
	}
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("AdministratorAccess")})
	wantCode(t, err, "InvalidInput")
	f.tick()
	must(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(v2)}))(t)
	jsonEqual(t, "requestParameters", f.last("us-east-1", "AttachUserPolicy")["requestParameters"], `{"userName":"bob","policyArn":"`+v2+`"}`)
	if got := f.resources("us-east-1", "AttachUserPolicy"); !slices.Equal(got, []EventResource{{Type: "AWS::IAM::User", Name: "bob"}, {Type: "AWS::IAM::Policy", Name: v2}}) {
		t.Errorf("AttachUserPolicy resources = %v", got)
	}
	att := must(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")}))(t)
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != v2 ||
		aws.ToString(att.AttachedPolicies[0].PolicyName) != "AWSCompromisedKeyQuarantineV2" {
		t.Errorf("ListAttachedUserPolicies = %+v", att.AttachedPolicies)
	}

	pol := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(v2)}))(t)
	if aws.ToInt32(pol.Policy.AttachmentCount) != 1 || aws.ToString(pol.Policy.DefaultVersionId) == "" {
		t.Errorf("GetPolicy = %+v", pol.Policy)
	}
	ver := must(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(v2), VersionId: pol.Policy.DefaultVersionId}))(t)
	doc, err := url.QueryUnescape(aws.ToString(ver.PolicyVersion.Document))
	if err != nil || !strings.Contains(doc, `"cloudtrail:LookupEvents"`) || !ver.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion document = %q (%v)", doc, err)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(v2), VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity")

	must(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(v2)}))(t)
	_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(v2)})
	wantCode(t, err, "NoSuchEntity")
	if att := must(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")}))(t); len(att.AttachedPolicies) != 0 {
		t.Errorf("after detach: %+v", att.AttachedPolicies)
	}
}

func TestIAMQuarantineDeniesCreateUser(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	leaked := f.user("leaky", "AWSCompromisedKeyQuarantineV2")
	c := f.iam(leaked)

	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")})
	wantCode(t, err, "AccessDenied")
	rec := f.last("us-east-1", "CreateUser")
	if rec["errorCode"] != "AccessDenied" || !strings.Contains(rec["errorMessage"].(string), "iam:CreateUser") {
		t.Errorf("denied CreateUser record: errorCode %v, errorMessage %v", rec["errorCode"], rec["errorMessage"])
	}
	if _, err := f.iam(f.admin).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("backdoor")}); idtCode(err) != "NoSuchEntity" {
		t.Errorf("the denied user exists: %v", err)
	}
	// The quarantine lets the key read (what an attacker does first).
	must(c.ListUsers(ctx, &iam.ListUsersInput{}))(t)
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(leaked.AccessKeyID), Status: iamtypes.StatusTypeInactive})
	wantCode(t, err, "AccessDenied")
}

func TestIAMGroupsAndLoginProfile(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	dev := f.user("dev")

	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))(t)
	_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nogroup"), UserName: aws.String("dev")})
	wantCode(t, err, "NoSuchEntity")
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("dev")}))(t)
	groups := must(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("dev")}))(t)
	if len(groups.Groups) != 1 || aws.ToString(groups.Groups[0].GroupName) != "devs" ||
		aws.ToString(groups.Groups[0].Arn) != "arn:aws:iam::123456789012:group/devs" {
		t.Errorf("ListGroupsForUser = %+v", groups.Groups)
	}
	must(c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("no-users"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ListUsers","Resource":"*"}]}`)}))(t)
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	if gp := must(c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("devs")}))(t); !slices.Equal(gp.PolicyNames, []string{"no-users"}) {
		t.Errorf("ListGroupPolicies = %v", gp.PolicyNames)
	}
	if ga := must(c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")}))(t); len(ga.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedGroupPolicies = %+v", ga.AttachedPolicies)
	}
	// The group's deny applies to its members.
	_, err = f.iam(dev).ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantCode(t, err, "DeleteConflict")

	_, err = c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("dev")})
	wantCode(t, err, "NoSuchEntity")
	f.clock.Advance(time.Hour)
	lp := must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dev"), Password: aws.String("Corr3ct-horse-battery"), PasswordResetRequired: true}))(t)
	if aws.ToString(lp.LoginProfile.UserName) != "dev" || !lp.LoginProfile.PasswordResetRequired || !lp.LoginProfile.CreateDate.Equal(idtStart.Add(time.Hour)) {
		t.Errorf("CreateLoginProfile = %+v", lp.LoginProfile)
	}
	rec := f.last("us-east-1", "CreateLoginProfile")
	jsonEqual(t, "requestParameters", rec["requestParameters"], `{"userName":"dev","passwordResetRequired":true}`)
	jsonEqual(t, "responseElements", rec["responseElements"], `{"loginProfile":{"createDate":"Jun 1, 2024 1:00:00 PM","passwordResetRequired":true,"userName":"dev"}}`)
	if raw, _ := json.Marshal(rec); strings.Contains(string(raw), "Corr3ct") {
		t.Errorf("the password is in the record")
	}
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("dev"), Password: aws.String("Corr3ct-horse-battery")})
	wantCode(t, err, "EntityAlreadyExists")
	if got := must(f.iam(dev).GetLoginProfile(ctx, &iam.GetLoginProfileInput{}))(t); aws.ToString(got.LoginProfile.UserName) != "dev" {
		t.Errorf("GetLoginProfile of the caller = %+v", got.LoginProfile)
	}
	must(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("dev")}))(t)
	_, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("dev")})
	wantCode(t, err, "NoSuchEntity")
}

func TestIAMRoles(t *testing.T) {
	f := newIDTFixture(t)
	ctx := context.Background()
	c := f.iam(f.admin)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`

	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)})
	wantCode(t, err, "MalformedPolicyDocument")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(60)})
	wantCode(t, err, "ValidationError")
	f.tick()
	out := must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(7200)}))(t)
	if aws.ToString(out.Role.Arn) != "arn:aws:iam::123456789012:role/ops" || !strings.HasPrefix(aws.ToString(out.Role.RoleId), "AROA") {
		t.Errorf("CreateRole = %+v", out.Role)
	}
	rec := f.last("us-east-1", "CreateRole")
	resp, _ := rec["responseElements"].(map[string]any)
	role, _ := resp["role"].(map[string]any)
	if dec, _ := url.QueryUnescape(role["assumeRolePolicyDocument"].(string)); dec != trust || role["roleName"] != "ops" {
		t.Errorf("CreateRole responseElements = %v", resp)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("OPS"), AssumeRolePolicyDocument: aws.String(trust)})
	wantCode(t, err, "EntityAlreadyExists")

	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops")}))(t)
	if dec, _ := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument)); dec != trust || aws.ToInt32(got.Role.MaxSessionDuration) != 7200 {
		t.Errorf("GetRole = %+v", got.Role)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	if roles := must(c.ListRoles(ctx, &iam.ListRolesInput{}))(t); len(roles.Roles) != 1 {
		t.Errorf("ListRoles = %+v", roles.Roles)
	}

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("deny"), PolicyDocument: aws.String(doc)}))(t)
	jsonEqual(t, "PutRolePolicy requestParameters", f.last("us-east-1", "PutRolePolicy")["requestParameters"],
		`{"roleName":"ops","policyName":"deny","policyDocument":`+mustJSON(doc)+`}`)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{}`)})
	wantCode(t, err, "MalformedPolicyDocument")
	if names := must(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ops")}))(t); !slices.Equal(names.PolicyNames, []string{"deny"}) {
		t.Errorf("ListRolePolicies = %v", names.PolicyNames)
	}
	rp := must(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("deny")}))(t)
	if dec, _ := url.QueryUnescape(aws.ToString(rp.PolicyDocument)); dec != doc || aws.ToString(rp.RoleName) != "ops" {
		t.Errorf("GetRolePolicy = %+v", rp)
	}
	must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ops"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	if att := must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ops")}))(t); len(att.AttachedPolicies) != 1 {
		t.Errorf("ListAttachedRolePolicies = %+v", att.AttachedPolicies)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops")})
	wantCode(t, err, "DeleteConflict")
	must(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("deny")}))(t)
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ops"), PolicyName: aws.String("deny")})
	wantCode(t, err, "NoSuchEntity")
	must(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ops"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops")}))(t)

	var created bool
	for _, r := range f.sim.Truth().Resources {
		created = created || r.Type == "AWS::IAM::Role"
	}
	if created {
		t.Errorf("truth still lists the deleted role")
	}
}

func TestIAMMissingParameters(t *testing.T) {
	f := newIDTFixture(t)
	for _, c := range []struct {
		action, missing string
		params          map[string]string
	}{
		{"CreateUser", "UserName", nil},
		{"DeleteUser", "UserName", nil},
		{"UpdateAccessKey", "Status", map[string]string{"AccessKeyId": f.admin.AccessKeyID}},
		{"DeleteAccessKey", "AccessKeyId", map[string]string{"UserName": "admin"}},
		{"GetAccessKeyLastUsed", "AccessKeyId", nil},
		{"PutUserPolicy", "PolicyDocument", map[string]string{"UserName": "admin", "PolicyName": "p"}},
		{"AttachUserPolicy", "PolicyArn", map[string]string{"UserName": "admin"}},
		{"GetRole", "RoleName", nil},
	} {
		_, err := f.sim.Do(&Call{Service: "iam", Action: c.action, Region: "us-east-1", AccessKeyID: f.admin.AccessKeyID, Params: c.params})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "MissingParameter" || !strings.Contains(apiErr.Message, c.missing) || apiErr.Status != 400 {
			t.Errorf("%s without %s: err = %v, want MissingParameter naming it", c.action, c.missing, err)
		}
	}
}

// TestIAMAndSTSWithAWSCLI checks that the AWS CLI (botocore's parsers)
// reads the simulator's answers.
func TestIAMAndSTSWithAWSCLI(t *testing.T) {
	awsclitest.Need(t)
	f := newIDTFixture(t)
	second := f.key("admin")
	run := func(args ...string) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append(args, "--endpoint-url", f.srv.URL, "--region", "us-east-1", "--output", "json")
		out, err := awsclitest.Output(ctx, []string{"AWS_ACCESS_KEY_ID=" + f.admin.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + f.admin.Secret,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}, args...)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %s printed no JSON: %v: %s", strings.Join(args[:2], " "), err, out)
		}
		return v
	}

	keys := run("iam", "list-access-keys", "--user-name", "admin")
	list, _ := keys["AccessKeyMetadata"].([]any)
	var ids []string
	for _, k := range list {
		m, _ := k.(map[string]any)
		if m["UserName"] != "admin" || m["Status"] != "Active" || m["CreateDate"] == nil {
			t.Errorf("CLI key entry = %v", m)
		}
		ids = append(ids, m["AccessKeyId"].(string))
	}
	want := []string{f.admin.AccessKeyID, second.AccessKeyID}
	slices.Sort(want)
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Errorf("CLI list-access-keys = %v, want %v", ids, want)
	}

	id := run("sts", "get-caller-identity")
	if id["Account"] != "123456789012" || id["Arn"] != "arn:aws:iam::123456789012:user/admin" || !strings.HasPrefix(id["UserId"].(string), "AIDA") {
		t.Errorf("CLI get-caller-identity = %v", id)
	}
	if rec := f.last("us-east-1", "GetCallerIdentity"); !strings.HasPrefix(rec["userAgent"].(string), "aws-cli/") {
		t.Errorf("GetCallerIdentity record userAgent = %v", rec["userAgent"])
	}
}
