package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	bedrocktypes "github.com/aws/aws-sdk-go-v2/service/bedrock/types"

	"github.com/keyleak/keyleak/trail"
)

// LLMjacking: access to a foundation model the chain agreed to (its
// marketplace agreement), and model invocation logging it turned off so
// that the prompts it sells leave no trace.
const (
	TypeModelAgreement    = "AWS::Bedrock::ModelAgreement"
	TypeInvocationLogging = "AWS::Bedrock::InvocationLoggingOff"
)

const bedrockSource = "bedrock.amazonaws.com"

func hasBedrock(c *Clients) bool { return c.Bedrock != nil }

func modelAgreementKind() Kind {
	return simple{
		Type:   TypeModelAgreement,
		Title:  "Bedrock model agreement",
		Events: []string{"CreateFoundationModelAgreement"},
		Extract: fromSource(bedrockSource, func(e *trail.Event) []Resource {
			// The response names the model without its version suffix
			// (":0"); the request names it as the API takes it.
			return one(first(e.RequestString("modelId"), e.ResponseString("modelId")), nil)
		}),
		Service:  "Bedrock",
		Has:      hasBedrock,
		Calls:    []string{"bedrock:GetFoundationModelAvailability", "bedrock:DeleteFoundationModelAgreement"},
		NotFound: []string{"ResourceNotFoundException"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Bedrock(region).GetFoundationModelAvailability(ctx, &bedrock.GetFoundationModelAvailabilityInput{ModelId: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			st := bedrocktypes.AgreementStatus("")
			if out.AgreementAvailability != nil {
				st = out.AgreementAvailability.Status
			}
			return st == bedrocktypes.AgreementStatusAvailable || st == bedrocktypes.AgreementStatusPending, "agreement " + string(st), nil
		},
		API: "DeleteFoundationModelAgreement",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Bedrock(region).DeleteFoundationModelAgreement(ctx, &bedrock.DeleteFoundationModelAgreementInput{ModelId: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("bedrock delete-foundation-model-agreement --region %s --model-id %s", region, p["ID"])
		},
		RemovedBy: "bedrock:DeleteFoundationModelAgreement",
	}.kind()
}

func invocationLoggingKind() Kind {
	return simple{
		Type:   TypeInvocationLogging,
		Title:  "Bedrock invocation logging turned off",
		Events: []string{"DeleteModelInvocationLoggingConfiguration"},
		Extract: fromSource(bedrockSource, func(*trail.Event) []Resource {
			return one("model-invocation-logging", nil)
		}),
		Service: "Bedrock",
		Has:     hasBedrock,
		Calls:   []string{"bedrock:GetModelInvocationLoggingConfiguration"},
		Look: func(ctx context.Context, c *Clients, region string, _ map[string]string) (bool, string, error) {
			out, err := c.Bedrock(region).GetModelInvocationLoggingConfiguration(ctx, &bedrock.GetModelInvocationLoggingConfigurationInput{})
			if err != nil {
				return false, "", err
			}
			if out.LoggingConfig == nil {
				return true, "logging still off", nil
			}
			return false, "logging on again", nil
		},
		NotRemovable: "the deleted configuration named where the logs went, which CloudTrail does not record: " +
			"turn logging back on with aws bedrock put-model-invocation-logging-configuration and your own log group or bucket",
	}.kind()
}
