package resource

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeBatchComputeEnvironment is an AWS Batch compute environment: the
// instances behind the attacker's job queues. Batch deletes one only once
// it is disabled.
const TypeBatchComputeEnvironment = "AWS::Batch::ComputeEnvironment"

func batchComputeEnvironmentKind() Kind {
	name := func(p map[string]string) *string { return aws.String(p["ID"]) }
	return simple{
		Type:   TypeBatchComputeEnvironment,
		Title:  "Batch compute environment",
		Events: []string{"CreateComputeEnvironment"},
		Extract: fromSource("batch.amazonaws.com", func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("computeEnvironmentName"), e.RequestString("computeEnvironmentName")), nil)
		}),
		Service: "Batch",
		Has:     func(c *Clients) bool { return c.Batch != nil },
		Calls:   []string{"batch:DescribeComputeEnvironments", "batch:UpdateComputeEnvironment", "batch:DeleteComputeEnvironment"},
		// Look's status is "STATE STATUS", e.g. "ENABLED VALID".
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Batch(region).DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, ce := range out.ComputeEnvironments {
				st := string(ce.State) + " " + string(ce.Status)
				return ce.Status != batchtypes.CEStatusDeleting && ce.Status != batchtypes.CEStatusDeleted, st, nil
			}
			return false, "not listed", nil
		},
		First: &firstCall{
			API:    "UpdateComputeEnvironment",
			Needed: func(status string) bool { return !strings.HasPrefix(status, string(batchtypes.CEStateDisabled)) },
			Do: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
				return c.Batch(region).UpdateComputeEnvironment(ctx, &batch.UpdateComputeEnvironmentInput{ComputeEnvironment: name(p), State: batchtypes.CEStateDisabled})
			},
			CLI: func(region string, p map[string]string) string {
				return fmt.Sprintf("batch update-compute-environment --region %s --compute-environment %s --state DISABLED", region, p["ID"])
			},
		},
		API: "DeleteComputeEnvironment",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.Batch(region).DeleteComputeEnvironment(ctx, &batch.DeleteComputeEnvironmentInput{ComputeEnvironment: name(p)})
			return out, goneIf(err, "Batch compute environment "+p["ID"], "ClientException", "does not exist")
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("batch delete-compute-environment --region %s --compute-environment %s", region, p["ID"])
		},
		RemovedBy: "batch:DeleteComputeEnvironment (after disabling it)",
	}.kind()
}
