package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/keyleak/keyleak/trail"
)

// Glue's compute: a development endpoint (an SSH-reachable machine with
// the role it was given) and a job (a script run on Glue's workers).
const (
	TypeGlueDevEndpoint = "AWS::Glue::DevEndpoint"
	TypeGlueJob         = "AWS::Glue::Job"
)

const glueSource = "glue.amazonaws.com"

var glueNotFound = []string{"EntityNotFoundException"}

func hasGlue(c *Clients) bool { return c.Glue != nil }

func glueDevEndpointKind() Kind {
	return simple{
		Type:   TypeGlueDevEndpoint,
		Title:  "Glue development endpoint",
		Events: []string{"CreateDevEndpoint"},
		Extract: fromSource(glueSource, func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("endpointName"), e.RequestString("endpointName")), nil)
		}),
		Service:  "Glue",
		Has:      hasGlue,
		Calls:    []string{"glue:GetDevEndpoint", "glue:DeleteDevEndpoint"},
		NotFound: glueNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.Glue(region).GetDevEndpoint(ctx, &glue.GetDevEndpointInput{EndpointName: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			return true, aws.ToString(out.DevEndpoint.Status), nil
		},
		API: "DeleteDevEndpoint",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Glue(region).DeleteDevEndpoint(ctx, &glue.DeleteDevEndpointInput{EndpointName: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("glue delete-dev-endpoint --region %s --endpoint-name %s", region, p["ID"])
		},
		RemovedBy: "glue:DeleteDevEndpoint",
	}.kind()
}

func glueJobKind() Kind {
	return simple{
		Type:   TypeGlueJob,
		Title:  "Glue job",
		Events: []string{"CreateJob"},
		Extract: fromSource(glueSource, func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("name"), e.RequestString("name")), nil)
		}),
		Service:  "Glue",
		Has:      hasGlue,
		Calls:    []string{"glue:GetJob", "glue:DeleteJob"},
		NotFound: glueNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			_, err := c.Glue(region).GetJob(ctx, &glue.GetJobInput{JobName: aws.String(p["ID"])})
			return err == nil, "", err
		},
		API: "DeleteJob",
		// Glue answers a missing job's deletion with success.
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.Glue(region).DeleteJob(ctx, &glue.DeleteJobInput{JobName: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("glue delete-job --region %s --job-name %s", region, p["ID"])
		},
		RemovedBy: "glue:DeleteJob",
	}.kind()
}
