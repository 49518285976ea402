package resource

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeAccessKey is an IAM access key the chain created, for a backdoor user
// or an existing one. It goes with its user when the user is removed too.
const TypeAccessKey = "AWS::IAM::AccessKey"

func accessKeyKind() Kind {
	return Kind{
		Type:   TypeAccessKey,
		Title:  "IAM access key",
		Global: true,
		Events: []string{"CreateAccessKey"},
		Extract: func(e *trail.Event) []Resource {
			user := first(e.ResponseString("accessKey", "userName"), e.RequestString("userName"), e.UserIdentity.UserName)
			return one(e.ResponseString("accessKey", "accessKeyId"), map[string]string{"userName": user})
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.IAM == nil {
				return noClient("IAM")
			}
			user := r.Details["userName"]
			p := iam.NewListAccessKeysPaginator(c.IAM, &iam.ListAccessKeysInput{UserName: aws.String(user)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					state, reason := fromErr(err, "NoSuchEntity")
					if state == StateGone {
						reason = "its user " + user + " is gone"
					}
					return state, reason
				}
				for _, k := range page.AccessKeyMetadata {
					if aws.ToString(k.AccessKeyId) == r.ID {
						return StatePresent, string(k.Status)
					}
				}
			}
			return StateGone, "deleted"
		},
		Calls:     []string{"iam:ListAccessKeys", "iam:DeleteAccessKey"},
		RemovedBy: "iam:DeleteAccessKey",
		RemovedWith: func(r Resource) (string, string) {
			return TypeUser, r.Details["userName"]
		},
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.IAM == nil {
				return nil, errNoClient("IAM")
			}
			return []Call{deleteAccessKeyCall(r.Details["userName"], r.ID)}, nil
		},
		Apply: deleteAccessKey,
		Done:  accessKeyDeleted,
	}
}

func deleteAccessKeyCall(user, id string) Call {
	return iamCall("DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": id},
		fmt.Sprintf("iam delete-access-key --user-name %s --access-key-id %s", user, id), user, id)
}

func deleteAccessKey(ctx context.Context, c *Clients, call Call) (any, error) {
	p := call.Params
	out, err := c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(p["UserName"]), AccessKeyId: aws.String(p["AccessKeyId"])})
	return out, removed(err, "access key "+p["AccessKeyId"], iamNotFound...)
}

func accessKeyDeleted(ctx context.Context, c *Clients, call Call) (bool, error) {
	p := call.Params
	out, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(p["UserName"])})
	if err != nil {
		return absent(call, err, iamNotFound...)
	}
	return !slices.ContainsFunc(out.AccessKeyMetadata, func(k iamtypes.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == p["AccessKeyId"] }), nil
}
