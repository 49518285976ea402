package playbook

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// fakeAWS is a tiny in-memory IAM and STS for unit tests. It implements
// both interfaces with the SDK's exact signatures.
type fakeAWS struct {
	mu        sync.Mutex
	account   string
	callerARN string
	keys      map[string]*fakeKey
	users     map[string]*fakeUser
	groups    map[string]*fakeGroup
	roles     map[string]map[string]string
	managed   map[string]string // ARN -> document
	calls     []string          // "iam:UpdateAccessKey", in order of start
	// fail makes an action return an error.
	fail map[string]error
	// before runs at the start of an action, outside the lock (barriers).
	before map[string]func()
	// noSimulate makes SimulatePrincipalPolicy unknown, as in the simulator.
	noSimulate bool
	// denied are the actions SimulatePrincipalPolicy reports implicitDeny.
	denied map[string]bool
	// mfa are the virtual MFA devices: serial -> the user it is enabled for.
	mfa map[string]string
}

type fakeKey struct {
	user    string // "" for a root key
	status  string
	created time.Time
	last    time.Time
}

type fakeUser struct {
	created  time.Time
	inline   map[string]string
	attached []string
	groups   []string
	login    *time.Time
}

type fakeGroup struct {
	inline   map[string]string
	attached []string
}

const (
	testAccount   = "123456789012"
	testKey       = "AKIAIOSFODNN7EXAMPLE"
	testOtherKey  = "AKIAQYLPMN5HHHFPZAM2"
	testResponder = "arn:aws:iam::123456789012:user/responder"
)

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func newFake() *fakeAWS {
	f := &fakeAWS{
		account:   testAccount,
		callerARN: testResponder,
		keys:      map[string]*fakeKey{},
		users:     map[string]*fakeUser{},
		groups:    map[string]*fakeGroup{},
		roles:     map[string]map[string]string{},
		managed: map[string]string{
			"arn:aws:iam::aws:policy/PowerUserAccess":               `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`,
			"arn:aws:iam::aws:policy/AdministratorAccess":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:CreateUser"],"Resource":"*"}]}`,
		},
		fail:   map[string]error{},
		before: map[string]func(){},
		denied: map[string]bool{},
		mfa:    map[string]string{},
	}
	f.users["ci-deploy"] = &fakeUser{inline: map[string]string{}, attached: []string{"arn:aws:iam::aws:policy/PowerUserAccess"}}
	f.keys[testKey] = &fakeKey{user: "ci-deploy", status: "Active", created: t0.AddDate(-1, 0, 0), last: t0.Add(-time.Hour)}
	f.keys[testOtherKey] = &fakeKey{user: "ci-deploy", status: "Active", created: t0.AddDate(0, -1, 0)}
	return f
}

func apiErr(code, msg string) error {
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient}
}

// enter records a call and returns its injected error, if any.
func (f *fakeAWS) enter(action string) error {
	f.mu.Lock()
	hook := f.before[action]
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, action)
	return f.fail[action]
}

func (f *fakeAWS) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == action {
			n++
		}
	}
	return n
}

func (f *fakeAWS) status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.keys[id]; ok {
		return k.status
	}
	return "deleted"
}

func (f *fakeAWS) user(name string) (*fakeUser, error) {
	u, ok := f.users[name]
	if !ok {
		return nil, apiErr("NoSuchEntity", "The user with name "+name+" cannot be found.")
	}
	return u, nil
}

func (f *fakeAWS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, _ ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if err := f.enter("sts:GetCallerIdentity"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account), Arn: aws.String(f.callerARN), UserId: aws.String("AIDAEXAMPLE")}, nil
}

func (f *fakeAWS) GetAccessKeyInfo(ctx context.Context, in *sts.GetAccessKeyInfoInput, _ ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error) {
	if err := f.enter("sts:GetAccessKeyInfo"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[aws.ToString(in.AccessKeyId)]; !ok {
		return nil, apiErr("InvalidParameterValue", "unknown key")
	}
	return &sts.GetAccessKeyInfoOutput{Account: aws.String(f.account)}, nil
}

func (f *fakeAWS) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if err := f.enter("iam:GetAccessKeyLastUsed"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.AccessKeyId)
	k, ok := f.keys[id]
	if !ok {
		return nil, apiErr("AccessDenied", "User: "+f.callerARN+" is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key "+id)
	}
	user := k.user
	if user == "" {
		user = "root"
	}
	out := &iam.GetAccessKeyLastUsedOutput{UserName: aws.String(user), AccessKeyLastUsed: &types.AccessKeyLastUsed{ServiceName: aws.String("N/A"), Region: aws.String("N/A")}}
	if !k.last.IsZero() {
		out.AccessKeyLastUsed = &types.AccessKeyLastUsed{LastUsedDate: aws.Time(k.last), ServiceName: aws.String("ec2"), Region: aws.String("us-east-1")}
	}
	return out, nil
}

func (f *fakeAWS) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if err := f.enter("iam:ListAccessKeys"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	user := aws.ToString(in.UserName)
	if user != "" {
		if _, err := f.user(user); err != nil {
			return nil, err
		}
	}
	var ids []string
	for id, k := range f.keys {
		if k.user == user {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	out := &iam.ListAccessKeysOutput{}
	for _, id := range ids {
		k := f.keys[id]
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, types.AccessKeyMetadata{AccessKeyId: aws.String(id),
			Status: types.StatusType(k.status), CreateDate: aws.Time(k.created), UserName: in.UserName})
	}
	return out, nil
}

func (f *fakeAWS) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	if err := f.enter("iam:UpdateAccessKey"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[aws.ToString(in.AccessKeyId)]
	if !ok || k.user != aws.ToString(in.UserName) {
		return nil, apiErr("NoSuchEntity", "The Access Key cannot be found.")
	}
	k.status = string(in.Status)
	return &iam.UpdateAccessKeyOutput{}, nil
}

func (f *fakeAWS) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	if err := f.enter("iam:DeleteAccessKey"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.AccessKeyId)
	if _, ok := f.keys[id]; !ok {
		return nil, apiErr("NoSuchEntity", "The Access Key cannot be found.")
	}
	delete(f.keys, id)
	return &iam.DeleteAccessKeyOutput{}, nil
}

func (f *fakeAWS) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	if err := f.enter("iam:ListUserPolicies"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	out := &iam.ListUserPoliciesOutput{}
	for n := range u.inline {
		out.PolicyNames = append(out.PolicyNames, n)
	}
	sort.Strings(out.PolicyNames)
	return out, nil
}

func (f *fakeAWS) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, _ ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	if err := f.enter("iam:GetUserPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	doc, ok := u.inline[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "The user policy cannot be found.")
	}
	// IAM answers URL-encoded documents.
	return &iam.GetUserPolicyOutput{PolicyName: in.PolicyName, UserName: in.UserName, PolicyDocument: aws.String(url.QueryEscape(doc))}, nil
}

func (f *fakeAWS) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, _ ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	if err := f.enter("iam:PutUserPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	u.inline[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutUserPolicyOutput{}, nil
}

func (f *fakeAWS) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, _ ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	if err := f.enter("iam:DeleteUserPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	delete(u.inline, aws.ToString(in.PolicyName))
	return &iam.DeleteUserPolicyOutput{}, nil
}

func (f *fakeAWS) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	if err := f.enter("iam:ListAttachedUserPolicies"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	return &iam.ListAttachedUserPoliciesOutput{AttachedPolicies: attachedList(u.attached)}, nil
}

func attachedList(arns []string) []types.AttachedPolicy {
	var out []types.AttachedPolicy
	for _, a := range arns {
		out = append(out, types.AttachedPolicy{PolicyArn: aws.String(a), PolicyName: aws.String(a[strings.LastIndex(a, "/")+1:])})
	}
	return out
}

func (f *fakeAWS) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	if err := f.enter("iam:GetPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.managed[aws.ToString(in.PolicyArn)]; !ok {
		return nil, apiErr("NoSuchEntity", "no policy")
	}
	return &iam.GetPolicyOutput{Policy: &types.Policy{Arn: in.PolicyArn, DefaultVersionId: aws.String("v1")}}, nil
}

func (f *fakeAWS) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	if err := f.enter("iam:GetPolicyVersion"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	doc, ok := f.managed[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no policy")
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &types.PolicyVersion{Document: aws.String(url.QueryEscape(doc)), VersionId: in.VersionId, IsDefaultVersion: true}}, nil
}

func (f *fakeAWS) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, _ ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	if err := f.enter("iam:ListGroupsForUser"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	out := &iam.ListGroupsForUserOutput{}
	for _, g := range u.groups {
		out.Groups = append(out.Groups, types.Group{GroupName: aws.String(g)})
	}
	return out, nil
}

func (f *fakeAWS) ListGroupPolicies(ctx context.Context, in *iam.ListGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error) {
	if err := f.enter("iam:ListGroupPolicies"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &iam.ListGroupPoliciesOutput{}
	for n := range f.groups[aws.ToString(in.GroupName)].inline {
		out.PolicyNames = append(out.PolicyNames, n)
	}
	return out, nil
}

func (f *fakeAWS) GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, _ ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error) {
	if err := f.enter("iam:GetGroupPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	doc := f.groups[aws.ToString(in.GroupName)].inline[aws.ToString(in.PolicyName)]
	return &iam.GetGroupPolicyOutput{PolicyDocument: aws.String(doc)}, nil
}

func (f *fakeAWS) ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	if err := f.enter("iam:ListAttachedGroupPolicies"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &iam.ListAttachedGroupPoliciesOutput{AttachedPolicies: attachedList(f.groups[aws.ToString(in.GroupName)].attached)}, nil
}

func (f *fakeAWS) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	if err := f.enter("iam:GetRolePolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no role")
	}
	doc, ok := r[aws.ToString(in.PolicyName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no role policy")
	}
	return &iam.GetRolePolicyOutput{PolicyDocument: aws.String(url.QueryEscape(doc))}, nil
}

func (f *fakeAWS) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	if err := f.enter("iam:PutRolePolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no role")
	}
	r[aws.ToString(in.PolicyName)] = aws.ToString(in.PolicyDocument)
	return &iam.PutRolePolicyOutput{}, nil
}

func (f *fakeAWS) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	if err := f.enter("iam:DeleteRolePolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.roles[aws.ToString(in.RoleName)], aws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (f *fakeAWS) GetUser(ctx context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if err := f.enter("iam:GetUser"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	return &iam.GetUserOutput{User: &types.User{UserName: in.UserName, CreateDate: aws.Time(u.created)}}, nil
}

// GetRole answers with the role's trust policy, kept as its inline policy
// "trust" (the fake has no other place for it).
func (f *fakeAWS) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if err := f.enter("iam:GetRole"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no role")
	}
	return &iam.GetRoleOutput{Role: &types.Role{RoleName: in.RoleName, AssumeRolePolicyDocument: aws.String(url.QueryEscape(r["trust"]))}}, nil
}

func (f *fakeAWS) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	if err := f.enter("iam:UpdateAssumeRolePolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.roles[aws.ToString(in.RoleName)]
	if !ok {
		return nil, apiErr("NoSuchEntity", "no role")
	}
	r["trust"] = aws.ToString(in.PolicyDocument)
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (f *fakeAWS) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, _ ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	if err := f.enter("iam:ListMFADevices"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &iam.ListMFADevicesOutput{}
	for serial, user := range f.mfa {
		if user == aws.ToString(in.UserName) {
			out.MFADevices = append(out.MFADevices, types.MFADevice{SerialNumber: aws.String(serial), UserName: aws.String(user), EnableDate: aws.Time(t0)})
		}
	}
	return out, nil
}

func (f *fakeAWS) ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, _ ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error) {
	if err := f.enter("iam:ListVirtualMFADevices"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &iam.ListVirtualMFADevicesOutput{}
	for serial, user := range f.mfa {
		d := types.VirtualMFADevice{SerialNumber: aws.String(serial)}
		if user != "" {
			d.User = &types.User{UserName: aws.String(user)}
		}
		out.VirtualMFADevices = append(out.VirtualMFADevices, d)
	}
	return out, nil
}

func (f *fakeAWS) DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, _ ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error) {
	if err := f.enter("iam:DeactivateMFADevice"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	serial := aws.ToString(in.SerialNumber)
	if user, ok := f.mfa[serial]; !ok || user != aws.ToString(in.UserName) {
		return nil, apiErr("NoSuchEntity", "no such MFA device")
	}
	f.mfa[serial] = ""
	return &iam.DeactivateMFADeviceOutput{}, nil
}

func (f *fakeAWS) DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, _ ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error) {
	if err := f.enter("iam:DeleteVirtualMFADevice"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	serial := aws.ToString(in.SerialNumber)
	user, ok := f.mfa[serial]
	switch {
	case !ok:
		return nil, apiErr("NoSuchEntity", "no such MFA device")
	case user != "":
		return nil, apiErr("DeleteConflict", "MFA device is still in use")
	}
	delete(f.mfa, serial)
	return &iam.DeleteVirtualMFADeviceOutput{}, nil
}

func (f *fakeAWS) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, _ ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	if err := f.enter("iam:GetLoginProfile"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	if u.login == nil {
		return nil, apiErr("NoSuchEntity", "Login Profile cannot be found.")
	}
	return &iam.GetLoginProfileOutput{LoginProfile: &types.LoginProfile{CreateDate: aws.Time(*u.login), UserName: in.UserName}}, nil
}

func (f *fakeAWS) DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput, _ ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error) {
	if err := f.enter("iam:DeleteLoginProfile"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, err := f.user(aws.ToString(in.UserName))
	if err != nil {
		return nil, err
	}
	if u.login == nil {
		return nil, apiErr("NoSuchEntity", "Login Profile cannot be found.")
	}
	u.login = nil
	return &iam.DeleteLoginProfileOutput{}, nil
}

func (f *fakeAWS) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, _ ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	if err := f.enter("iam:SimulatePrincipalPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.noSimulate {
		return nil, apiErr("InvalidAction", "Could not find operation SimulatePrincipalPolicy for version 2010-05-08")
	}
	out := &iam.SimulatePrincipalPolicyOutput{}
	for _, a := range in.ActionNames {
		d := types.PolicyEvaluationDecisionTypeAllowed
		if f.denied[a] {
			d = types.PolicyEvaluationDecisionTypeImplicitDeny
		}
		out.EvaluationResults = append(out.EvaluationResults, types.EvaluationResult{EvalActionName: aws.String(a), EvalDecision: d})
	}
	return out, nil
}

func (f *fakeAWS) inlineDoc(user, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.users[user].inline[name]
}

var (
	_ IAM = (*fakeAWS)(nil)
	_ STS = (*fakeAWS)(nil)
)
