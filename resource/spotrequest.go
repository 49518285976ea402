package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeSpotRequest is an EC2 spot instance request: it starts instances
// again after they are terminated, so it goes first. Cancelling it leaves
// the instance it started running (EC2 starts it, so no RunInstances of
// the key's names it): its removal terminates that instance too.
const TypeSpotRequest = "AWS::EC2::SpotInstanceRequest"

var spotRequestNotFound = []string{"InvalidSpotInstanceRequestID.NotFound"}

// spotRequest reads a request's state and the instance it started.
func spotRequest(ctx context.Context, api EC2, id string) (ec2types.SpotInstanceState, string, error) {
	out, err := api.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{id}})
	if err != nil {
		return "", "", err
	}
	for _, s := range out.SpotInstanceRequests {
		return s.State, aws.ToString(s.InstanceId), nil
	}
	return ec2types.SpotInstanceStateClosed, "", nil
}

// instanceRunning tells whether an instance is neither terminated nor
// being terminated.
func instanceRunning(ctx context.Context, api EC2, id string) (bool, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if isCode(err, instanceNotFound...) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	for _, res := range out.Reservations {
		for _, in := range res.Instances {
			if in.State != nil && in.State.Name != ec2types.InstanceStateNameTerminated && in.State.Name != ec2types.InstanceStateNameShuttingDown {
				return true, nil
			}
		}
	}
	return false, nil
}

func spotOpen(st ec2types.SpotInstanceState) bool {
	return st != ec2types.SpotInstanceStateCancelled && st != ec2types.SpotInstanceStateClosed
}

func spotRequestKind() Kind {
	return Kind{
		Type:   TypeSpotRequest,
		Title:  "EC2 spot instance request",
		Events: []string{"RequestSpotInstances"},
		Extract: func(e *trail.Event) []Resource {
			var out []Resource
			for _, it := range items(e.Response("spotInstanceRequestSet")) {
				if id := field(it, "spotInstanceRequestId"); id != "" {
					out = append(out, Resource{ID: id})
				}
			}
			return out
		},
		// Present while the request is open or active, or the instance it
		// started still runs.
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			st, inst, err := spotRequest(ctx, c.EC2(r.Region), r.ID)
			if err != nil {
				return fromErr(err, spotRequestNotFound...)
			}
			if spotOpen(st) {
				return StatePresent, string(st)
			}
			if inst != "" {
				running, err := instanceRunning(ctx, c.EC2(r.Region), inst)
				if err != nil {
					return StateUnknown, err.Error()
				}
				if running {
					return StatePresent, string(st) + ", its instance " + inst + " still running"
				}
			}
			return StateGone, string(st)
		},
		Calls:     []string{"ec2:DescribeSpotInstanceRequests", "ec2:CancelSpotInstanceRequests", "ec2:DescribeInstances", "ec2:TerminateInstances"},
		RemovedBy: "ec2:CancelSpotInstanceRequests (and ec2:TerminateInstances for the instance it started)",
		Plan: func(ctx context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			st, inst, err := spotRequest(ctx, c.EC2(r.Region), r.ID)
			if isCode(err, spotRequestNotFound...) {
				return nil, nil
			} else if err != nil {
				return nil, fmt.Errorf("read spot request %s: %w", r.ID, err)
			}
			var out []Call
			if spotOpen(st) {
				out = append(out, newCall("ec2", "CancelSpotInstanceRequests", r.Region, map[string]string{"SpotInstanceRequestId": r.ID},
					fmt.Sprintf("ec2 cancel-spot-instance-requests --region %s --spot-instance-request-ids %s", r.Region, r.ID), r.ID))
			}
			if inst != "" {
				running, err := instanceRunning(ctx, c.EC2(r.Region), inst)
				if err != nil {
					return nil, fmt.Errorf("read instance %s of spot request %s: %w", inst, r.ID, err)
				}
				if running {
					out = append(out, newCall("ec2", "TerminateInstances", r.Region, map[string]string{"InstanceId": inst, "SpotInstanceRequestId": r.ID},
						fmt.Sprintf("ec2 terminate-instances --region %s --instance-ids %s", r.Region, inst), inst))
				}
			}
			return out, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			if call.API == "TerminateInstances" {
				id := call.Params["InstanceId"]
				out, err := c.EC2(call.Region()).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
				return out, removed(err, "instance "+id, instanceNotFound...)
			}
			id := call.Params["SpotInstanceRequestId"]
			out, err := c.EC2(call.Region()).CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{id}})
			return out, removed(err, "spot request "+id, spotRequestNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			if call.API == "TerminateInstances" {
				running, err := instanceRunning(ctx, c.EC2(call.Region()), call.Params["InstanceId"])
				if err != nil {
					return false, fmt.Errorf("check removal %s: %w", call.ID, err)
				}
				return !running, nil
			}
			st, _, err := spotRequest(ctx, c.EC2(call.Region()), call.Params["SpotInstanceRequestId"])
			if err != nil {
				return absent(call, err, spotRequestNotFound...)
			}
			return !spotOpen(st), nil
		},
	}
}
