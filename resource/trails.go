package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/trail"
)

// Defence evasion in CloudTrail: a trail stopped (StopLogging), which
// keyleak starts again, and a trail deleted, which it cannot bring back.
// They come first in the removal order: what keyleak does next is then
// logged.
const (
	TypeTrailStopped = "AWS::CloudTrail::TrailStopped"
	TypeTrailDeleted = "AWS::CloudTrail::TrailDeleted"
)

const cloudTrailSource = "cloudtrail.amazonaws.com"

var trailNotFound = []string{"TrailNotFoundException"}

func hasCloudTrail(c *Clients) bool { return c.CloudTrail != nil }

func trailStoppedKind() Kind {
	return simple{
		Type:   TypeTrailStopped,
		Title:  "CloudTrail trail stopped",
		Events: []string{"StopLogging"},
		Extract: fromSource(cloudTrailSource, func(e *trail.Event) []Resource {
			return one(e.RequestString("name"), nil)
		}),
		Service:  "CloudTrail",
		Has:      hasCloudTrail,
		Calls:    []string{"cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"},
		NotFound: trailNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.CloudTrail(region).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			if aws.ToBool(out.IsLogging) {
				return false, "logging", nil
			}
			return true, "not logging", nil
		},
		API: "StartLogging",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.CloudTrail(region).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("cloudtrail start-logging --region %s --name %s", region, p["ID"])
		},
		RemovedBy: "cloudtrail:StartLogging (logging restored)",
	}.kind()
}

func trailDeletedKind() Kind {
	return simple{
		Type:   TypeTrailDeleted,
		Title:  "CloudTrail trail deleted",
		Events: []string{"DeleteTrail"},
		Extract: fromSource(cloudTrailSource, func(e *trail.Event) []Resource {
			return one(e.RequestString("name"), nil)
		}),
		Service: "CloudTrail",
		Has:     hasCloudTrail,
		Calls:   []string{"cloudtrail:GetTrail"},
		// Present while no trail of the name exists: the deletion stands.
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			_, err := c.CloudTrail(region).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(p["ID"])})
			switch {
			case isCode(err, trailNotFound...):
				return true, "no such trail", nil
			case err != nil:
				return false, "", err
			}
			return false, "the trail exists again", nil
		},
		NotRemovable: "a deleted trail cannot be restored: create it again (aws cloudtrail create-trail, then start-logging) " +
			"with its bucket; the log files it delivered before are still in that bucket unless they were deleted too",
	}.kind()
}
