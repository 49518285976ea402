package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeSpotRequest is an EC2 spot instance request: it starts instances
// again after they are terminated, so it goes first.
const TypeSpotRequest = "AWS::EC2::SpotInstanceRequest"

var spotRequestNotFound = []string{"InvalidSpotInstanceRequestID.NotFound"}

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
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			out, err := c.EC2(r.Region).DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{r.ID}})
			if err != nil {
				return fromErr(err, spotRequestNotFound...)
			}
			for _, s := range out.SpotInstanceRequests {
				switch s.State {
				case ec2types.SpotInstanceStateCancelled, ec2types.SpotInstanceStateClosed:
					return StateGone, string(s.State)
				default:
					return StatePresent, string(s.State)
				}
			}
			return StateGone, "not listed"
		},
		Calls:     []string{"ec2:DescribeSpotInstanceRequests", "ec2:CancelSpotInstanceRequests"},
		RemovedBy: "ec2:CancelSpotInstanceRequests",
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			return []Call{newCall("ec2", "CancelSpotInstanceRequests", r.Region, map[string]string{"SpotInstanceRequestId": r.ID},
				fmt.Sprintf("ec2 cancel-spot-instance-requests --region %s --spot-instance-request-ids %s", r.Region, r.ID), r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			id := call.Params["SpotInstanceRequestId"]
			out, err := c.EC2(call.Region()).CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{id}})
			return out, removed(err, "spot request "+id, spotRequestNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			out, err := c.EC2(call.Region()).DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{call.Params["SpotInstanceRequestId"]}})
			if err != nil {
				return absent(call, err, spotRequestNotFound...)
			}
			for _, s := range out.SpotInstanceRequests {
				if s.State != ec2types.SpotInstanceStateCancelled && s.State != ec2types.SpotInstanceStateClosed {
					return false, nil
				}
			}
			return true, nil
		},
	}
}
