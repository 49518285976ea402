package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeInstance is an EC2 instance, the usual miner.
const TypeInstance = "AWS::EC2::Instance"

var instanceNotFound = []string{"InvalidInstanceID.NotFound"}

func instanceKind() Kind {
	return Kind{
		Type:   TypeInstance,
		Title:  "EC2 instance",
		Events: []string{"RunInstances"},
		Extract: func(e *trail.Event) []Resource {
			var out []Resource
			for _, it := range items(e.Response("instancesSet")) {
				if id := field(it, "instanceId"); id != "" {
					out = append(out, Resource{ID: id, Details: map[string]string{"instanceType": field(it, "instanceType")}})
				}
			}
			return out
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			out, err := c.EC2(r.Region).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.ID}})
			if err != nil {
				return fromErr(err, instanceNotFound...)
			}
			for _, res := range out.Reservations {
				for _, in := range res.Instances {
					if aws.ToString(in.InstanceId) != r.ID || in.State == nil {
						continue
					}
					if in.State.Name == ec2types.InstanceStateNameTerminated {
						return StateGone, "terminated"
					}
					return StatePresent, string(in.State.Name)
				}
			}
			return StateGone, "not listed"
		},
		Calls: []string{"ec2:DescribeInstances", "ec2:TerminateInstances",
			"ec2:CreateSnapshot", "ec2:GetConsoleOutput", "ec2:DescribeInstanceAttribute"},
		RemovedBy: "ec2:TerminateInstances",
		Evidence:  instanceEvidence,
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			return []Call{newCall("ec2", "TerminateInstances", r.Region, map[string]string{"InstanceId": r.ID},
				fmt.Sprintf("ec2 terminate-instances --region %s --instance-ids %s", r.Region, r.ID), r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			id := call.Params["InstanceId"]
			out, err := c.EC2(call.Region()).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
			return out, removed(err, "instance "+id, instanceNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			out, err := c.EC2(call.Region()).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{call.Params["InstanceId"]}})
			if err != nil {
				return absent(call, err, instanceNotFound...)
			}
			for _, res := range out.Reservations {
				for _, in := range res.Instances {
					if in.State != nil && in.State.Name != ec2types.InstanceStateNameTerminated && in.State.Name != ec2types.InstanceStateNameShuttingDown {
						return false, nil
					}
				}
			}
			return true, nil
		},
	}
}
