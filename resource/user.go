package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/trail"
)

// TypeUser is an IAM user the chain created: the classic backdoor. It is
// removed completely: keys, console password, inline and attached
// policies, group memberships, then the user.
const TypeUser = "AWS::IAM::User"

func userKind() Kind {
	return Kind{
		Type:   TypeUser,
		Title:  "IAM user",
		Global: true,
		Events: []string{"CreateUser"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("user", "userName"), e.RequestString("userName")), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.IAM == nil {
				return noClient("IAM")
			}
			_, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(r.ID)})
			return fromErr(err, "NoSuchEntity")
		},
		Calls: []string{"iam:GetUser", "iam:ListAccessKeys", "iam:GetLoginProfile", "iam:ListUserPolicies",
			"iam:ListAttachedUserPolicies", "iam:ListGroupsForUser",
			"iam:DeleteAccessKey", "iam:DeleteLoginProfile", "iam:DeleteUserPolicy", "iam:DetachUserPolicy",
			"iam:RemoveUserFromGroup", "iam:DeleteUser", "iam:GetUserPolicy"},
		Evidence:  userEvidence,
		RemovedBy: "iam:DeleteUser (after its keys, password, policies and groups)",
		Plan: func(ctx context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.IAM == nil {
				return nil, errNoClient("IAM")
			}
			return planUser(ctx, c.IAM, r.ID)
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			p := call.Params
			u := aws.String(p["UserName"])
			switch call.API {
			case "DeleteAccessKey":
				return deleteAccessKey(ctx, c, call)
			case "DeleteLoginProfile":
				return deleteLoginProfile(ctx, c, call)
			case "DeleteUserPolicy":
				out, err := c.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: u, PolicyName: aws.String(p["PolicyName"])})
				return out, removed(err, "policy "+p["PolicyName"], iamNotFound...)
			case "DetachUserPolicy":
				out, err := c.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: u, PolicyArn: aws.String(p["PolicyArn"])})
				return out, removed(err, "the attachment of "+p["PolicyArn"], iamNotFound...)
			case "RemoveUserFromGroup":
				out, err := c.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: u, GroupName: aws.String(p["GroupName"])})
				return out, removed(err, "the membership in "+p["GroupName"], iamNotFound...)
			case "DeleteUser":
				out, err := c.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: u})
				return out, removed(err, "user "+p["UserName"], iamNotFound...)
			}
			return nil, fmt.Errorf("apply removal: unknown call %s", call.API)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			switch call.API {
			case "DeleteAccessKey":
				return accessKeyDeleted(ctx, c, call)
			case "DeleteLoginProfile":
				return loginProfileDeleted(ctx, c, call)
			case "DeleteUser":
				_, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(call.Params["UserName"])})
				return absent(call, err, iamNotFound...)
			}
			// Detaching, leaving a group and deleting an inline policy can
			// be repeated safely: not checked, redone.
			return redo(ctx, c, call)
		},
	}
}

// planUser lists everything that must go before DeleteUser succeeds: access
// keys, the console password, inline and attached policies, group
// memberships; then the user.
func planUser(ctx context.Context, api IAM, user string) ([]Call, error) {
	if _, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}); isCode(err, iamNotFound...) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read user %s: %w", user, err)
	}
	var out []Call
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list access keys of %s: %w", user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			out = append(out, deleteAccessKeyCall(user, aws.ToString(k.AccessKeyId)))
		}
	}
	_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	switch {
	case err == nil:
		out = append(out, deleteLoginProfileCall(user))
	case !isCode(err, iamNotFound...):
		return nil, fmt.Errorf("read login profile of %s: %w", user, err)
	}
	ip := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of %s: %w", user, err)
		}
		for _, n := range page.PolicyNames {
			out = append(out, iamCall("DeleteUserPolicy", map[string]string{"UserName": user, "PolicyName": n},
				fmt.Sprintf("iam delete-user-policy --user-name %s --policy-name %s", user, n), user, n))
		}
	}
	ap := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of %s: %w", user, err)
		}
		for _, p := range page.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			out = append(out, iamCall("DetachUserPolicy", map[string]string{"UserName": user, "PolicyArn": arn},
				fmt.Sprintf("iam detach-user-policy --user-name %s --policy-arn %s", user, arn), user, arn))
		}
	}
	gp := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for gp.HasMorePages() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list groups of %s: %w", user, err)
		}
		for _, g := range page.Groups {
			name := aws.ToString(g.GroupName)
			out = append(out, iamCall("RemoveUserFromGroup", map[string]string{"UserName": user, "GroupName": name},
				fmt.Sprintf("iam remove-user-from-group --user-name %s --group-name %s", user, name), user, name))
		}
	}
	return append(out, iamCall("DeleteUser", map[string]string{"UserName": user}, "iam delete-user --user-name "+user, user)), nil
}
