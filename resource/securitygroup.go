package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/keyleak/keyleak/trail"
)

// TypeSecurityGroup is an EC2 security group, usually opened to the world
// for the attacker's instances.
const TypeSecurityGroup = "AWS::EC2::SecurityGroup"

var groupNotFound = []string{"InvalidGroup.NotFound", "InvalidGroupId.NotFound"}

func securityGroupKind() Kind {
	return Kind{
		Type:   TypeSecurityGroup,
		Title:  "EC2 security group",
		Events: []string{"CreateSecurityGroup"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.ResponseString("groupId"), map[string]string{"groupName": e.RequestString("groupName")})
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			_, err := c.EC2(r.Region).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{r.ID}})
			return fromErr(err, groupNotFound...)
		},
		Calls:     []string{"ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup"},
		RemovedBy: "ec2:DeleteSecurityGroup",
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			return []Call{newCall("ec2", "DeleteSecurityGroup", r.Region, map[string]string{"GroupId": r.ID},
				fmt.Sprintf("ec2 delete-security-group --region %s --group-id %s", r.Region, r.ID), r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			id := call.Params["GroupId"]
			out, err := c.EC2(call.Region()).DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			if isCode(err, "DependencyViolation") {
				return out, fmt.Errorf("instances still use security group %s; run again once they are terminated: %w", id, err)
			}
			return out, removed(err, "security group "+id, groupNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			_, err := c.EC2(call.Region()).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{call.Params["GroupId"]}})
			return absent(call, err, groupNotFound...)
		},
	}
}
