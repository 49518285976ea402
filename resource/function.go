package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/keyleak/keyleak/trail"
)

// TypeFunction is a Lambda function the chain created: a foothold that
// runs with its role's permissions.
const TypeFunction = "AWS::Lambda::Function"

var functionNotFound = []string{"ResourceNotFoundException"}

func functionKind() Kind {
	return Kind{
		Type:  TypeFunction,
		Title: "Lambda function",
		// CloudTrail names Lambda's events after the API version.
		Events: []string{"CreateFunction20150331", "CreateFunction"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("functionName"), e.RequestString("functionName")), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.Lambda == nil {
				return noClient("Lambda")
			}
			_, err := c.Lambda(r.Region).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.ID)})
			return fromErr(err, functionNotFound...)
		},
		Calls:     []string{"lambda:GetFunction", "lambda:DeleteFunction"},
		RemovedBy: "lambda:DeleteFunction",
		Evidence:  functionEvidence,
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.Lambda == nil {
				return nil, errNoClient("Lambda")
			}
			return []Call{newCall("lambda", "DeleteFunction", r.Region, map[string]string{"FunctionName": r.ID},
				fmt.Sprintf("lambda delete-function --region %s --function-name %s", r.Region, r.ID), r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			name := call.Params["FunctionName"]
			out, err := c.Lambda(call.Region()).DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
			return out, removed(err, "function "+name, functionNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			_, err := c.Lambda(call.Region()).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(call.Params["FunctionName"])})
			return absent(call, err, functionNotFound...)
		},
	}
}
