package playbook

import (
	"context"
	"errors"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/keyleak/keyleak/internal/awserr"
)

// STS is the part of *sts.Client the playbook calls.
type STS interface {
	GetCallerIdentity(ctx context.Context, params *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	GetAccessKeyInfo(ctx context.Context, params *sts.GetAccessKeyInfoInput, optFns ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error)
}

// KeyAPI reads and changes access keys.
type KeyAPI interface {
	GetAccessKeyLastUsed(ctx context.Context, params *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	UpdateAccessKey(ctx context.Context, params *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, params *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
}

// PolicyReader reads what a user may do: inline, attached and group policies.
type PolicyReader interface {
	ListUserPolicies(ctx context.Context, params *iam.ListUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	GetUserPolicy(ctx context.Context, params *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	ListAttachedUserPolicies(ctx context.Context, params *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	GetPolicy(ctx context.Context, params *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, params *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListGroupsForUser(ctx context.Context, params *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	ListGroupPolicies(ctx context.Context, params *iam.ListGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error)
	GetGroupPolicy(ctx context.Context, params *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, params *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
}

// RevokeAPI writes and removes the session revocation policies.
type RevokeAPI interface {
	GetUserPolicy(ctx context.Context, params *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	PutUserPolicy(ctx context.Context, params *iam.PutUserPolicyInput, optFns ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	DeleteUserPolicy(ctx context.Context, params *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	GetRolePolicy(ctx context.Context, params *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, params *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, params *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// LoginProfileAPI reads and removes a user's console password.
type LoginProfileAPI interface {
	GetLoginProfile(ctx context.Context, params *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	DeleteLoginProfile(ctx context.Context, params *iam.DeleteLoginProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
}

// PrincipalAPI reads users and roles: whether a user the attacker made is
// still the one it made, and what a role's trust policy admits.
type PrincipalAPI interface {
	GetUser(ctx context.Context, params *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// RevertAPI undoes what an attacker changed so that no key is needed to
// come back: a role's trust policy, and MFA devices.
type RevertAPI interface {
	UpdateAssumeRolePolicy(ctx context.Context, params *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	ListMFADevices(ctx context.Context, params *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListVirtualMFADevices(ctx context.Context, params *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	DeactivateMFADevice(ctx context.Context, params *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
	DeleteVirtualMFADevice(ctx context.Context, params *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
}

// PolicySimulator is the preflight's one call.
type PolicySimulator interface {
	SimulatePrincipalPolicy(ctx context.Context, params *iam.SimulatePrincipalPolicyInput, optFns ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// IAM is every IAM call of the playbook; *iam.Client satisfies it.
type IAM interface {
	KeyAPI
	PolicyReader
	RevokeAPI
	LoginProfileAPI
	PolicySimulator
	PrincipalAPI
	RevertAPI
}

var (
	_ IAM = (*iam.Client)(nil)
	_ STS = (*sts.Client)(nil)
)

// errorCode returns the AWS error code of err, "" if AWS did not answer.
func errorCode(err error) string { return awserr.Code(err) }

// isCode reports whether err is an AWS error with one of the codes.
func isCode(err error, codes ...string) bool { return awserr.Is(err, codes...) }

// definite reports whether AWS answered err with a client error, so the
// call had no effect. Network errors and 5xx answers leave it unknown.
func definite(err error) bool {
	if errorCode(err) == "" {
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() < 500
	}
	return true
}

// classify turns AWS permission and credential errors into the playbook's
// typed errors, keeping the AWS error inside.
func classify(action, principal string, err error) error {
	switch {
	case err == nil:
		return nil
	case awserr.IsDenied(err):
		return &AccessDeniedError{Action: action, Principal: principal, Err: err}
	case awserr.IsCredentials(err):
		return &CredentialsError{Action: action, Code: errorCode(err), Err: err}
	}
	return err
}

// errorInfo is the journal's view of an error.
func errorInfo(err error) *ErrorInfo {
	info := &ErrorInfo{Message: err.Error(), Definite: definite(err)}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		info.Code = ae.ErrorCode()
		info.Message = ae.ErrorMessage()
	}
	return info
}

// callContext is what the runner tells the journaling clients about a call.
type callContext struct {
	step   string
	action *Action // set only around Step.Apply: the planned action
}

type callKey struct{}

func withStep(ctx context.Context, step string) context.Context {
	return context.WithValue(ctx, callKey{}, callContext{step: step})
}

func withAction(ctx context.Context, step string, a *Action) context.Context {
	return context.WithValue(ctx, callKey{}, callContext{step: step, action: a})
}

func callFrom(ctx context.Context) callContext {
	c, _ := ctx.Value(callKey{}).(callContext)
	return c
}

// recorder journals every AWS call: intent before, outcome after. A nil
// journal (dry run) records nothing.
type recorder struct {
	j     *Journal
	now   func() time.Time
	state *State // for the responder ARN in access-denied errors
}

// record makes one journaled AWS call.
func record[In, Out any](ctx context.Context, r *recorder, service, action string, in In, call func() (Out, error)) (Out, error) {
	return recordAs(ctx, r, service, action, in, call, nil)
}

// recordAs is record with the response journaled as keep returns it (nil:
// whole), for reads whose answers are bulky and kept elsewhere (CloudTrail
// pages).
func recordAs[In, Out any](ctx context.Context, r *recorder, service, action string, in In, call func() (Out, error), keep func(Out) any) (Out, error) {
	name := service + ":" + action
	cc := callFrom(ctx)
	var zero Out
	if r.j != nil {
		e := Entry{Time: r.now(), Kind: KindIntent, Step: cc.step, Action: name, Request: in}
		if cc.action != nil {
			e.ActionID, e.Description, e.Params = cc.action.ID, cc.action.Description, cc.action.Params
		}
		if _, err := r.j.Append(e); err != nil {
			return zero, err // no journal, no call
		}
	}
	out, err := call()
	if r.j != nil {
		e := Entry{Time: r.now(), Kind: KindOutcome, Step: cc.step, Action: name}
		if cc.action != nil {
			e.ActionID = cc.action.ID
		}
		switch {
		case err != nil:
			e.Error = errorInfo(err)
		case keep != nil:
			e.Response = keep(out)
		default:
			e.Response = out
		}
		if _, jerr := r.j.Append(e); jerr != nil && err == nil {
			return out, jerr
		}
	}
	if err != nil {
		return out, classify(name, r.state.responderARN(), err)
	}
	return out, nil
}

// journaledSTS is an STS that journals each call.
type journaledSTS struct {
	c STS
	r *recorder
}

func (s journaledSTS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return record(ctx, s.r, "sts", "GetCallerIdentity", in, func() (*sts.GetCallerIdentityOutput, error) { return s.c.GetCallerIdentity(ctx, in, o...) })
}

func (s journaledSTS) GetAccessKeyInfo(ctx context.Context, in *sts.GetAccessKeyInfoInput, o ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error) {
	return record(ctx, s.r, "sts", "GetAccessKeyInfo", in, func() (*sts.GetAccessKeyInfoOutput, error) { return s.c.GetAccessKeyInfo(ctx, in, o...) })
}

// journaledIAM is an IAM that journals each call.
type journaledIAM struct {
	c IAM
	r *recorder
}

func (s journaledIAM) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, o ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return record(ctx, s.r, "iam", "GetAccessKeyLastUsed", in, func() (*iam.GetAccessKeyLastUsedOutput, error) { return s.c.GetAccessKeyLastUsed(ctx, in, o...) })
}

func (s journaledIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return record(ctx, s.r, "iam", "ListAccessKeys", in, func() (*iam.ListAccessKeysOutput, error) { return s.c.ListAccessKeys(ctx, in, o...) })
}

func (s journaledIAM) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, o ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return record(ctx, s.r, "iam", "UpdateAccessKey", in, func() (*iam.UpdateAccessKeyOutput, error) { return s.c.UpdateAccessKey(ctx, in, o...) })
}

func (s journaledIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteAccessKey", in, func() (*iam.DeleteAccessKeyOutput, error) { return s.c.DeleteAccessKey(ctx, in, o...) })
}

func (s journaledIAM) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, o ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListUserPolicies", in, func() (*iam.ListUserPoliciesOutput, error) { return s.c.ListUserPolicies(ctx, in, o...) })
}

func (s journaledIAM) GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, o ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error) {
	return record(ctx, s.r, "iam", "GetUserPolicy", in, func() (*iam.GetUserPolicyOutput, error) { return s.c.GetUserPolicy(ctx, in, o...) })
}

func (s journaledIAM) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListAttachedUserPolicies", in, func() (*iam.ListAttachedUserPoliciesOutput, error) {
		return s.c.ListAttachedUserPolicies(ctx, in, o...)
	})
}

func (s journaledIAM) GetPolicy(ctx context.Context, in *iam.GetPolicyInput, o ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	return record(ctx, s.r, "iam", "GetPolicy", in, func() (*iam.GetPolicyOutput, error) { return s.c.GetPolicy(ctx, in, o...) })
}

func (s journaledIAM) GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, o ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	return record(ctx, s.r, "iam", "GetPolicyVersion", in, func() (*iam.GetPolicyVersionOutput, error) { return s.c.GetPolicyVersion(ctx, in, o...) })
}

func (s journaledIAM) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, o ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	return record(ctx, s.r, "iam", "ListGroupsForUser", in, func() (*iam.ListGroupsForUserOutput, error) { return s.c.ListGroupsForUser(ctx, in, o...) })
}

func (s journaledIAM) ListGroupPolicies(ctx context.Context, in *iam.ListGroupPoliciesInput, o ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListGroupPolicies", in, func() (*iam.ListGroupPoliciesOutput, error) { return s.c.ListGroupPolicies(ctx, in, o...) })
}

func (s journaledIAM) GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, o ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error) {
	return record(ctx, s.r, "iam", "GetGroupPolicy", in, func() (*iam.GetGroupPolicyOutput, error) { return s.c.GetGroupPolicy(ctx, in, o...) })
}

func (s journaledIAM) ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListAttachedGroupPolicies", in, func() (*iam.ListAttachedGroupPoliciesOutput, error) {
		return s.c.ListAttachedGroupPolicies(ctx, in, o...)
	})
}

func (s journaledIAM) PutUserPolicy(ctx context.Context, in *iam.PutUserPolicyInput, o ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error) {
	return record(ctx, s.r, "iam", "PutUserPolicy", in, func() (*iam.PutUserPolicyOutput, error) { return s.c.PutUserPolicy(ctx, in, o...) })
}

func (s journaledIAM) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, o ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteUserPolicy", in, func() (*iam.DeleteUserPolicyOutput, error) { return s.c.DeleteUserPolicy(ctx, in, o...) })
}

func (s journaledIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, o ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "GetRolePolicy", in, func() (*iam.GetRolePolicyOutput, error) { return s.c.GetRolePolicy(ctx, in, o...) })
}

func (s journaledIAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, o ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "PutRolePolicy", in, func() (*iam.PutRolePolicyOutput, error) { return s.c.PutRolePolicy(ctx, in, o...) })
}

func (s journaledIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, o ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteRolePolicy", in, func() (*iam.DeleteRolePolicyOutput, error) { return s.c.DeleteRolePolicy(ctx, in, o...) })
}

func (s journaledIAM) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, o ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	return record(ctx, s.r, "iam", "GetLoginProfile", in, func() (*iam.GetLoginProfileOutput, error) { return s.c.GetLoginProfile(ctx, in, o...) })
}

func (s journaledIAM) DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput, o ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error) {
	return record(ctx, s.r, "iam", "DeleteLoginProfile", in, func() (*iam.DeleteLoginProfileOutput, error) { return s.c.DeleteLoginProfile(ctx, in, o...) })
}

func (s journaledIAM) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, o ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	return record(ctx, s.r, "iam", "SimulatePrincipalPolicy", in, func() (*iam.SimulatePrincipalPolicyOutput, error) {
		return s.c.SimulatePrincipalPolicy(ctx, in, o...)
	})
}

func (s journaledIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return record(ctx, s.r, "iam", "GetUser", in, func() (*iam.GetUserOutput, error) { return s.c.GetUser(ctx, in, o...) })
}

func (s journaledIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return record(ctx, s.r, "iam", "GetRole", in, func() (*iam.GetRoleOutput, error) { return s.c.GetRole(ctx, in, o...) })
}

func (s journaledIAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, o ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "UpdateAssumeRolePolicy", in, func() (*iam.UpdateAssumeRolePolicyOutput, error) { return s.c.UpdateAssumeRolePolicy(ctx, in, o...) })
}

func (s journaledIAM) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, o ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	return record(ctx, s.r, "iam", "ListMFADevices", in, func() (*iam.ListMFADevicesOutput, error) { return s.c.ListMFADevices(ctx, in, o...) })
}

func (s journaledIAM) ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, o ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error) {
	return record(ctx, s.r, "iam", "ListVirtualMFADevices", in, func() (*iam.ListVirtualMFADevicesOutput, error) { return s.c.ListVirtualMFADevices(ctx, in, o...) })
}

func (s journaledIAM) DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, o ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error) {
	return record(ctx, s.r, "iam", "DeactivateMFADevice", in, func() (*iam.DeactivateMFADeviceOutput, error) { return s.c.DeactivateMFADevice(ctx, in, o...) })
}

func (s journaledIAM) DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, o ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error) {
	return record(ctx, s.r, "iam", "DeleteVirtualMFADevice", in, func() (*iam.DeleteVirtualMFADeviceOutput, error) { return s.c.DeleteVirtualMFADevice(ctx, in, o...) })
}

// isNotFound reports whether err is IAM's NoSuchEntity.
func isNotFound(err error) bool { return awserr.IsNotFound(err) }

// deniedOnMissingKey reports whether an AccessDenied on GetAccessKeyLastUsed
// is AWS's way of saying the key is not in the account: it names the key as
// the resource it could not authorize.
func deniedOnMissingKey(err error) bool {
	var ad *AccessDeniedError
	if !errors.As(err, &ad) {
		return false
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "resource: access key")
}
