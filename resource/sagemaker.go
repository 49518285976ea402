package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/keyleak/keyleak/trail"
)

// SageMaker's GPU time: notebook instances, endpoints and training jobs
// the chain started. A notebook is stopped, then deleted; an endpoint is
// deleted; a training job is stopped (SageMaker keeps its record).
const (
	TypeNotebook          = "AWS::SageMaker::NotebookInstance"
	TypeSageMakerEndpoint = "AWS::SageMaker::Endpoint"
	TypeTrainingJob       = "AWS::SageMaker::TrainingJob"
)

const sageMakerSource = "sagemaker.amazonaws.com"

func hasSageMaker(c *Clients) bool { return c.SageMaker != nil }

// sageMakerMissing tells SageMaker's answer for a missing notebook or
// endpoint: a ValidationException whose message says so.
func sageMakerMissing(err error) bool {
	return messageSays(err, "ValidationException", "RecordNotFound") || messageSays(err, "ValidationException", "could not find")
}

func notebookKind() Kind {
	return simple{
		Type:   TypeNotebook,
		Title:  "SageMaker notebook instance",
		Events: []string{"CreateNotebookInstance"},
		Extract: fromSource(sageMakerSource, func(e *trail.Event) []Resource {
			return one(e.RequestString("notebookInstanceName"), nil)
		}),
		Service: "SageMaker",
		Has:     hasSageMaker,
		Calls:   []string{"sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance", "sagemaker:DeleteNotebookInstance"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.SageMaker(region).DescribeNotebookInstance(ctx, &sagemaker.DescribeNotebookInstanceInput{NotebookInstanceName: aws.String(p["ID"])})
			switch {
			case sageMakerMissing(err):
				return false, "not found", nil
			case err != nil:
				return false, "", err
			}
			st := out.NotebookInstanceStatus
			return st != smtypes.NotebookInstanceStatusDeleting, string(st), nil
		},
		First: &firstCall{
			API: "StopNotebookInstance",
			Needed: func(status string) bool {
				return status != string(smtypes.NotebookInstanceStatusStopped) && status != string(smtypes.NotebookInstanceStatusFailed) &&
					status != string(smtypes.NotebookInstanceStatusStopping)
			},
			Do: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
				out, err := c.SageMaker(region).StopNotebookInstance(ctx, &sagemaker.StopNotebookInstanceInput{NotebookInstanceName: aws.String(p["ID"])})
				return out, sageMakerGone(err, "notebook instance "+p["ID"])
			},
			CLI: func(region string, p map[string]string) string {
				return fmt.Sprintf("sagemaker stop-notebook-instance --region %s --notebook-instance-name %s", region, p["ID"])
			},
		},
		API: "DeleteNotebookInstance",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.SageMaker(region).DeleteNotebookInstance(ctx, &sagemaker.DeleteNotebookInstanceInput{NotebookInstanceName: aws.String(p["ID"])})
			if messageSays(err, "ValidationException", "Stopping") {
				return out, fmt.Errorf("notebook instance %s is still stopping; run again in a few minutes to delete it: %w", p["ID"], err)
			}
			return out, sageMakerGone(err, "notebook instance "+p["ID"])
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("sagemaker delete-notebook-instance --region %s --notebook-instance-name %s", region, p["ID"])
		},
		RemovedBy: "sagemaker:DeleteNotebookInstance (after stopping it)",
	}.kind()
}

// sageMakerGone is Apply's error for a missing notebook or endpoint.
func sageMakerGone(err error, what string) error {
	if sageMakerMissing(err) {
		return &GoneError{What: what, Err: err}
	}
	return err
}

func sageMakerEndpointKind() Kind {
	return simple{
		Type:   TypeSageMakerEndpoint,
		Title:  "SageMaker endpoint",
		Events: []string{"CreateEndpoint"},
		Extract: fromSource(sageMakerSource, func(e *trail.Event) []Resource {
			return one(e.RequestString("endpointName"), map[string]string{"endpointConfigName": e.RequestString("endpointConfigName")})
		}),
		Service: "SageMaker",
		Has:     hasSageMaker,
		Calls:   []string{"sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.SageMaker(region).DescribeEndpoint(ctx, &sagemaker.DescribeEndpointInput{EndpointName: aws.String(p["ID"])})
			switch {
			case sageMakerMissing(err):
				return false, "not found", nil
			case err != nil:
				return false, "", err
			}
			st := out.EndpointStatus
			return st != smtypes.EndpointStatusDeleting, string(st), nil
		},
		API: "DeleteEndpoint",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.SageMaker(region).DeleteEndpoint(ctx, &sagemaker.DeleteEndpointInput{EndpointName: aws.String(p["ID"])})
			return out, sageMakerGone(err, "endpoint "+p["ID"])
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("sagemaker delete-endpoint --region %s --endpoint-name %s", region, p["ID"])
		},
		RemovedBy: "sagemaker:DeleteEndpoint",
	}.kind()
}

func trainingJobKind() Kind {
	return simple{
		Type:   TypeTrainingJob,
		Title:  "SageMaker training job",
		Events: []string{"CreateTrainingJob"},
		Extract: fromSource(sageMakerSource, func(e *trail.Event) []Resource {
			return one(e.RequestString("trainingJobName"), nil)
		}),
		Service:  "SageMaker",
		Has:      hasSageMaker,
		Calls:    []string{"sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"},
		NotFound: []string{"ResourceNotFound"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.SageMaker(region).DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			st := out.TrainingJobStatus
			return st == smtypes.TrainingJobStatusInProgress, string(st), nil
		},
		API: "StopTrainingJob",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.SageMaker(region).StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(p["ID"])})
			// A job no longer in progress is refused: it ended already.
			return out, goneIf(err, "training job "+p["ID"], "ValidationException", "status")
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("sagemaker stop-training-job --region %s --training-job-name %s", region, p["ID"])
		},
		RemovedBy: "sagemaker:StopTrainingJob",
	}.kind()
}
