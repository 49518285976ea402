package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// Fleets start instances and start them again when they are terminated:
// a spot fleet request (RequestSpotFleet) and an EC2 Fleet (CreateFleet)
// are removed before the instances, and with them (TerminateInstances).
const (
	TypeSpotFleet = "AWS::EC2::SpotFleet"
	TypeEC2Fleet  = "AWS::EC2::EC2Fleet"
)

func hasEC2(c *Clients) bool { return c.EC2 != nil }

func spotFleetKind() Kind {
	return simple{
		Type:   TypeSpotFleet,
		Title:  "EC2 spot fleet request",
		Events: []string{"RequestSpotFleet"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("spotFleetRequestId"), e.ResponseString("RequestSpotFleetResponse", "spotFleetRequestId")), nil)
		},
		Service:  "EC2",
		Has:      hasEC2,
		Calls:    []string{"ec2:DescribeSpotFleetRequests", "ec2:CancelSpotFleetRequests"},
		NotFound: []string{"InvalidSpotFleetRequestId.NotFound"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EC2(region).DescribeSpotFleetRequests(ctx, &ec2.DescribeSpotFleetRequestsInput{SpotFleetRequestIds: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, f := range out.SpotFleetRequestConfigs {
				switch st := f.SpotFleetRequestState; st {
				case ec2types.BatchStateCancelled, ec2types.BatchStateFailed:
					return false, string(st), nil
				default:
					// cancelled_running still has instances: not done.
					return true, string(st), nil
				}
			}
			return false, "not listed", nil
		},
		API: "CancelSpotFleetRequests",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.EC2(region).CancelSpotFleetRequests(ctx, &ec2.CancelSpotFleetRequestsInput{
				SpotFleetRequestIds: []string{p["ID"]}, TerminateInstances: aws.Bool(true)})
			if err != nil {
				return out, err
			}
			for _, u := range out.UnsuccessfulFleetRequests {
				if u.Error != nil {
					if u.Error.Code == ec2types.CancelBatchErrorCodeFleetRequestIdDoesNotExist {
						return out, &GoneError{What: "spot fleet request " + p["ID"], Err: fmt.Errorf("%s", aws.ToString(u.Error.Message))}
					}
					return out, fmt.Errorf("cancel spot fleet request %s: %s: %s", p["ID"], u.Error.Code, aws.ToString(u.Error.Message))
				}
			}
			return out, nil
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ec2 cancel-spot-fleet-requests --region %s --spot-fleet-request-ids %s --terminate-instances", region, p["ID"])
		},
		RemovedBy: "ec2:CancelSpotFleetRequests (with its instances)",
	}.kind()
}

func ec2FleetKind() Kind {
	return simple{
		Type:   TypeEC2Fleet,
		Title:  "EC2 Fleet",
		Events: []string{"CreateFleet"},
		Extract: fromSource("ec2.amazonaws.com", func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("fleetId"), e.ResponseString("CreateFleetResponse", "fleetId")), nil)
		}),
		Service:  "EC2",
		Has:      hasEC2,
		Calls:    []string{"ec2:DescribeFleets", "ec2:DeleteFleets"},
		NotFound: []string{"InvalidFleetId.NotFound"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EC2(region).DescribeFleets(ctx, &ec2.DescribeFleetsInput{FleetIds: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, f := range out.Fleets {
				switch st := f.FleetState; st {
				case ec2types.FleetStateCodeDeleted, ec2types.FleetStateCodeFailed:
					return false, string(st), nil
				default:
					return true, string(st), nil
				}
			}
			return false, "not listed", nil
		},
		API: "DeleteFleets",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.EC2(region).DeleteFleets(ctx, &ec2.DeleteFleetsInput{FleetIds: []string{p["ID"]}, TerminateInstances: aws.Bool(true)})
			if err != nil {
				return out, err
			}
			for _, u := range out.UnsuccessfulFleetDeletions {
				if u.Error != nil {
					if u.Error.Code == ec2types.DeleteFleetErrorCodeFleetIdDoesNotExist {
						return out, &GoneError{What: "EC2 Fleet " + p["ID"], Err: fmt.Errorf("%s", aws.ToString(u.Error.Message))}
					}
					return out, fmt.Errorf("delete EC2 Fleet %s: %s: %s", p["ID"], u.Error.Code, aws.ToString(u.Error.Message))
				}
			}
			return out, nil
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ec2 delete-fleets --region %s --fleet-ids %s --terminate-instances", region, p["ID"])
		},
		RemovedBy: "ec2:DeleteFleets (with its instances)",
	}.kind()
}
