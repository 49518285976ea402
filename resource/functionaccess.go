package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/keyleak/keyleak/trail"
)

// Ways into a Lambda function from outside: a function URL (often with
// AuthType NONE, a public HTTPS endpoint) and a resource-based permission
// (AddPermission, often to principal "*" or another account). On an
// attacker's function they go with it; on the workload's function, alone.
const (
	TypeFunctionURL        = "AWS::Lambda::Url"
	TypeFunctionPermission = "AWS::Lambda::Permission"
)

func hasLambda(c *Clients) bool { return c.Lambda != nil }

// functionOf is the function named by a request's functionName, which may
// be an ARN.
func functionOf(e *trail.Event) string {
	name := e.RequestString("functionName")
	if fn := functionNameOf(name); fn != "" {
		return fn
	}
	return name
}

// functionNameOf takes the name out of a function ARN
// (arn:aws:lambda:region:acct:function:name[:qualifier]).
func functionNameOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function" {
		return parts[6]
	}
	return ""
}

func functionURLKind() Kind {
	return simple{
		Type:   TypeFunctionURL,
		Title:  "Lambda function URL",
		Events: []string{"CreateFunctionUrlConfig20211031", "CreateFunctionUrlConfig"},
		Extract: func(e *trail.Event) []Resource {
			fn := first(functionNameOf(e.ResponseString("functionArn")), functionOf(e))
			return one(fn, map[string]string{"authType": first(e.ResponseString("authType"), e.RequestString("authType")), "url": e.ResponseString("functionUrl")})
		},
		Service:  "Lambda",
		Has:      hasLambda,
		Calls:    []string{"lambda:GetFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig"},
		NotFound: functionNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Lambda(region).GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			return true, "auth " + string(out.AuthType), nil
		},
		API: "DeleteFunctionUrlConfig",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Lambda(region).DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("lambda delete-function-url-config --region %s --function-name %s", region, p["ID"])
		},
		RemovedBy:   "lambda:DeleteFunctionUrlConfig",
		RemovedWith: func(r Resource) (string, string) { return TypeFunction, r.ID },
	}.kind()
}

func functionPermissionKind() Kind {
	return simple{
		Type:   TypeFunctionPermission,
		Title:  "Lambda function permission",
		Events: []string{"AddPermission20150331v2", "AddPermission20150331", "AddPermission"},
		Extract: fromSource("lambda.amazonaws.com", func(e *trail.Event) []Resource {
			fn, sid := functionOf(e), e.RequestString("statementId")
			if fn == "" || sid == "" {
				return nil
			}
			return one(fn+"/"+sid, map[string]string{"function": fn, "statementId": sid, "principal": e.RequestString("principal")})
		}),
		Service:  "Lambda",
		Has:      hasLambda,
		Calls:    []string{"lambda:GetPolicy", "lambda:RemovePermission"},
		NotFound: functionNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Lambda(region).GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(p["function"])})
			if err != nil {
				return false, "", err
			}
			var doc struct{ Statement []struct{ Sid string } }
			if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
				return false, "", fmt.Errorf("read the policy of function %s: %w", p["function"], err)
			}
			for _, st := range doc.Statement {
				if st.Sid == p["statementId"] {
					return true, "principal " + p["principal"], nil
				}
			}
			return false, "statement gone", nil
		},
		API: "RemovePermission",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Lambda(region).RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(p["function"]), StatementId: aws.String(p["statementId"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("lambda remove-permission --region %s --function-name %s --statement-id %s", region, p["function"], p["statementId"])
		},
		RemovedBy:   "lambda:RemovePermission",
		RemovedWith: func(r Resource) (string, string) { return TypeFunction, r.Details["function"] },
	}.kind()
}
