package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/keyleak/keyleak/trail"
)

// Defence evasion in GuardDuty: a detector disabled (UpdateDetector
// enable=false), which keyleak enables again, and a detector deleted,
// which it leaves to the responder with the command that makes a new one.
const (
	TypeDetectorDisabled = "AWS::GuardDuty::DetectorDisabled"
	TypeDetectorDeleted  = "AWS::GuardDuty::DetectorDeleted"
)

const guardDutySource = "guardduty.amazonaws.com"

func hasGuardDuty(c *Clients) bool { return c.GuardDuty != nil }

func detectorDisabledKind() Kind {
	return simple{
		Type:   TypeDetectorDisabled,
		Title:  "GuardDuty detector disabled",
		Events: []string{"UpdateDetector"},
		Extract: fromSource(guardDutySource, func(e *trail.Event) []Resource {
			if e.RequestString("enable") != "false" {
				return nil
			}
			return one(e.RequestString("detectorId"), nil)
		}),
		Service:  "GuardDuty",
		Has:      hasGuardDuty,
		Calls:    []string{"guardduty:GetDetector", "guardduty:UpdateDetector"},
		NotFound: []string{"BadRequestException"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.GuardDuty(region).GetDetector(ctx, &guardduty.GetDetectorInput{DetectorId: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			return out.Status == gdtypes.DetectorStatusDisabled, string(out.Status), nil
		},
		API: "UpdateDetector",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.GuardDuty(region).UpdateDetector(ctx, &guardduty.UpdateDetectorInput{DetectorId: aws.String(p["ID"]), Enable: aws.Bool(true)})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("guardduty update-detector --region %s --detector-id %s --enable", region, p["ID"])
		},
		RemovedBy: "guardduty:UpdateDetector --enable (detector enabled again)",
	}.kind()
}

func detectorDeletedKind() Kind {
	return simple{
		Type:   TypeDetectorDeleted,
		Title:  "GuardDuty detector deleted",
		Events: []string{"DeleteDetector"},
		Extract: fromSource(guardDutySource, func(e *trail.Event) []Resource {
			return one(e.RequestString("detectorId"), nil)
		}),
		Service: "GuardDuty",
		Has:     hasGuardDuty,
		Calls:   []string{"guardduty:ListDetectors"},
		// Present while the region has no detector at all.
		Look: func(ctx context.Context, c *Clients, region string, _ map[string]string) (bool, string, error) {
			out, err := c.GuardDuty(region).ListDetectors(ctx, &guardduty.ListDetectorsInput{})
			if err != nil {
				return false, "", err
			}
			if len(out.DetectorIds) == 0 {
				return true, "no detector in the region", nil
			}
			return false, "the region has a detector again", nil
		},
		NotRemovable: "a deleted detector and its findings cannot be restored: make a new one with aws guardduty create-detector --enable in the region",
	}.kind()
}
