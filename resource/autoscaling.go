package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"

	"github.com/keyleak/keyleak/trail"
)

// TypeAutoScalingGroup is an Auto Scaling group: it starts instances again
// as fast as they are terminated, so it goes first among the compute, and
// with its instances (ForceDelete).
const TypeAutoScalingGroup = "AWS::AutoScaling::AutoScalingGroup"

func autoScalingGroupKind() Kind {
	return simple{
		Type:   TypeAutoScalingGroup,
		Title:  "Auto Scaling group",
		Events: []string{"CreateAutoScalingGroup"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.RequestString("autoScalingGroupName"), nil)
		},
		Service: "Auto Scaling",
		Has:     func(c *Clients) bool { return c.AutoScaling != nil },
		Calls:   []string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DeleteAutoScalingGroup"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.AutoScaling(region).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, g := range out.AutoScalingGroups {
				// A group being deleted is gone: its instances go with it.
				if st := aws.ToString(g.Status); st != "" {
					return false, st, nil
				}
				return true, fmt.Sprintf("%d instances", len(g.Instances)), nil
			}
			return false, "not listed", nil
		},
		API: "DeleteAutoScalingGroup",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.AutoScaling(region).DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
				AutoScalingGroupName: aws.String(p["ID"]), ForceDelete: aws.Bool(true)})
			return out, goneIf(err, "Auto Scaling group "+p["ID"], "ValidationError", "not found")
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("autoscaling delete-auto-scaling-group --region %s --auto-scaling-group-name %s --force-delete", region, p["ID"])
		},
		RemovedBy: "autoscaling:DeleteAutoScalingGroup (with its instances)",
	}.kind()
}
