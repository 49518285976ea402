package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/trail"
)

// TypePolicy is a customer managed IAM policy the chain created; its ID is
// the policy's ARN.
const TypePolicy = "AWS::IAM::ManagedPolicy"

func policyKind() Kind {
	return Kind{
		Type:   TypePolicy,
		Title:  "IAM managed policy",
		Global: true,
		Events: []string{"CreatePolicy"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.ResponseString("policy", "arn"), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.IAM == nil {
				return noClient("IAM")
			}
			_, err := c.IAM.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(r.ID)})
			return fromErr(err, "NoSuchEntity")
		},
		Calls: []string{"iam:GetPolicy"},
		NotRemovable: "keyleak does not delete managed policies: detach it from every user, group and role and delete its versions by hand; " +
			"removing the attacker's users and roles already takes away what it grants them",
	}
}
