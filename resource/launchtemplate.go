package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/keyleak/keyleak/trail"
)

// TypeLaunchTemplate is an EC2 launch template: what the attacker's Auto
// Scaling groups and fleets start, user data (the miner) included. It goes
// after them, since a group in use keeps it.
const TypeLaunchTemplate = "AWS::EC2::LaunchTemplate"

func launchTemplateKind() Kind {
	return simple{
		Type:   TypeLaunchTemplate,
		Title:  "EC2 launch template",
		Events: []string{"CreateLaunchTemplate"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("launchTemplate", "launchTemplateId"), e.ResponseString("CreateLaunchTemplateResponse", "launchTemplate", "launchTemplateId")),
				map[string]string{"launchTemplateName": first(e.ResponseString("launchTemplate", "launchTemplateName"), e.RequestString("CreateLaunchTemplateRequest", "LaunchTemplateName"))})
		},
		Service:  "EC2",
		Has:      hasEC2,
		Calls:    []string{"ec2:DescribeLaunchTemplates", "ec2:DeleteLaunchTemplate"},
		NotFound: []string{"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateId.Malformed"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EC2(region).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			return len(out.LaunchTemplates) > 0, "", nil
		},
		API: "DeleteLaunchTemplate",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.EC2(region).DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ec2 delete-launch-template --region %s --launch-template-id %s", region, p["ID"])
		},
		RemovedBy: "ec2:DeleteLaunchTemplate",
	}.kind()
}
