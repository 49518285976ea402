package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/trail"
)

// TypeLoginProfile is an IAM user's console password the chain set. Its ID
// is the user's name; it goes with the user when the user is removed too.
const TypeLoginProfile = "AWS::IAM::LoginProfile"

func loginProfileKind() Kind {
	return Kind{
		Type:   TypeLoginProfile,
		Title:  "IAM console password",
		Global: true,
		Events: []string{"CreateLoginProfile"},
		Extract: func(e *trail.Event) []Resource {
			user := first(e.RequestString("userName"), e.ResponseString("loginProfile", "userName"), e.UserIdentity.UserName)
			return one(user, map[string]string{"userName": user})
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.IAM == nil {
				return noClient("IAM")
			}
			_, err := c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(r.Details["userName"])})
			return fromErr(err, "NoSuchEntity")
		},
		Calls:     []string{"iam:GetLoginProfile", "iam:DeleteLoginProfile"},
		RemovedBy: "iam:DeleteLoginProfile",
		RemovedWith: func(r Resource) (string, string) {
			return TypeUser, r.Details["userName"]
		},
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.IAM == nil {
				return nil, errNoClient("IAM")
			}
			u := r.Details["userName"]
			if u == "" {
				u = r.ID
			}
			return []Call{deleteLoginProfileCall(u)}, nil
		},
		Apply: deleteLoginProfile,
		Done:  loginProfileDeleted,
	}
}

func deleteLoginProfileCall(user string) Call {
	return iamCall("DeleteLoginProfile", map[string]string{"UserName": user}, "iam delete-login-profile --user-name "+user, user)
}

func deleteLoginProfile(ctx context.Context, c *Clients, call Call) (any, error) {
	u := call.Params["UserName"]
	out, err := c.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(u)})
	return out, removed(err, "the console password of "+u, iamNotFound...)
}

func loginProfileDeleted(ctx context.Context, c *Clients, call Call) (bool, error) {
	_, err := c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(call.Params["UserName"])})
	return absent(call, err, iamNotFound...)
}
