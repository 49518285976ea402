package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/trail"
)

// TypeRole is an IAM role the chain created, often one another account may
// assume. It is removed with its inline and attached policies.
const TypeRole = "AWS::IAM::Role"

func roleKind() Kind {
	return Kind{
		Type:   TypeRole,
		Title:  "IAM role",
		Global: true,
		Events: []string{"CreateRole"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("role", "roleName"), e.RequestString("roleName")), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.IAM == nil {
				return noClient("IAM")
			}
			_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.ID)})
			return fromErr(err, "NoSuchEntity")
		},
		Calls: []string{"iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
			"iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRole", "iam:GetRolePolicy"},
		Evidence:  roleEvidence,
		RemovedBy: "iam:DeleteRole (after its policies)",
		Plan: func(ctx context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.IAM == nil {
				return nil, errNoClient("IAM")
			}
			return planRole(ctx, c.IAM, r.ID)
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			p := call.Params
			role := aws.String(p["RoleName"])
			switch call.API {
			case "DeleteRolePolicy":
				out, err := c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String(p["PolicyName"])})
				return out, removed(err, "policy "+p["PolicyName"], iamNotFound...)
			case "DetachRolePolicy":
				out, err := c.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String(p["PolicyArn"])})
				return out, removed(err, "the attachment of "+p["PolicyArn"], iamNotFound...)
			case "DeleteRole":
				out, err := c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role})
				return out, removed(err, "role "+p["RoleName"], iamNotFound...)
			}
			return nil, fmt.Errorf("apply removal: unknown call %s", call.API)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			if call.API == "DeleteRole" {
				_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(call.Params["RoleName"])})
				return absent(call, err, iamNotFound...)
			}
			// Detaching and deleting an inline policy can be repeated
			// safely: not checked, redone.
			return redo(ctx, c, call)
		},
	}
}

// planRole lists the role's inline and attached policies, then the role.
func planRole(ctx context.Context, api IAM, role string) ([]Call, error) {
	if _, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); isCode(err, iamNotFound...) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read role %s: %w", role, err)
	}
	var out []Call
	ip := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of role %s: %w", role, err)
		}
		for _, n := range page.PolicyNames {
			out = append(out, iamCall("DeleteRolePolicy", map[string]string{"RoleName": role, "PolicyName": n},
				fmt.Sprintf("iam delete-role-policy --role-name %s --policy-name %s", role, n), role, n))
		}
	}
	ap := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of role %s: %w", role, err)
		}
		for _, p := range page.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			out = append(out, iamCall("DetachRolePolicy", map[string]string{"RoleName": role, "PolicyArn": arn},
				fmt.Sprintf("iam detach-role-policy --role-name %s --policy-arn %s", role, arn), role, arn))
		}
	}
	return append(out, iamCall("DeleteRole", map[string]string{"RoleName": role}, "iam delete-role --role-name "+role, role)), nil
}
