package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// Shares: an EBS snapshot or an AMI shared with another account (or made
// public, group "all") is how data leaves the account. Both kinds are one
// shape, so this one file declares the two. Removing one takes the
// permission back; what was copied while it stood is gone all the same,
// which the report says.
const (
	TypeSnapshotShare = "AWS::EC2::SnapshotPermission"
	TypeImageShare    = "AWS::EC2::ImagePermission"
)

func snapshotShareKind() Kind {
	return simple{
		Type:   TypeSnapshotShare,
		Title:  "EBS snapshot share",
		Events: []string{"ModifySnapshotAttribute"},
		Extract: func(e *trail.Event) []Resource {
			return shares(e, "snapshotId", "createVolumePermission")
		},
		Service:  "EC2",
		Has:      hasEC2,
		Calls:    []string{"ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute"},
		NotFound: []string{"InvalidSnapshot.NotFound"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EC2(region).DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
				SnapshotId: aws.String(p["snapshotId"]), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
			if err != nil {
				return false, "", err
			}
			for _, perm := range out.CreateVolumePermissions {
				if aws.ToString(perm.UserId) == p["sharedWith"] || string(perm.Group) == p["sharedWith"] {
					return true, "still shared", nil
				}
			}
			return false, "no longer shared", nil
		},
		API: "ModifySnapshotAttribute",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			perm := ec2types.CreateVolumePermission{UserId: aws.String(p["sharedWith"])}
			if p["sharedWith"] == "all" {
				perm = ec2types.CreateVolumePermission{Group: ec2types.PermissionGroupAll}
			}
			return c.EC2(region).ModifySnapshotAttribute(ctx, &ec2.ModifySnapshotAttributeInput{SnapshotId: aws.String(p["snapshotId"]),
				CreateVolumePermission: &ec2types.CreateVolumePermissionModifications{Remove: []ec2types.CreateVolumePermission{perm}}})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ec2 modify-snapshot-attribute --region %s --snapshot-id %s --attribute createVolumePermission --operation-type remove %s",
				region, p["snapshotId"], shareTarget(p["sharedWith"]))
		},
		RemovedBy: "ec2:ModifySnapshotAttribute (permission removed; copies already made stay with their taker)",
	}.kind()
}

func imageShareKind() Kind {
	return simple{
		Type:   TypeImageShare,
		Title:  "AMI share",
		Events: []string{"ModifyImageAttribute"},
		Extract: func(e *trail.Event) []Resource {
			return shares(e, "imageId", "launchPermission")
		},
		Service:  "EC2",
		Has:      hasEC2,
		Calls:    []string{"ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute"},
		NotFound: []string{"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EC2(region).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
				ImageId: aws.String(p["imageId"]), Attribute: ec2types.ImageAttributeNameLaunchPermission})
			if err != nil {
				return false, "", err
			}
			for _, perm := range out.LaunchPermissions {
				if aws.ToString(perm.UserId) == p["sharedWith"] || string(perm.Group) == p["sharedWith"] {
					return true, "still shared", nil
				}
			}
			return false, "no longer shared", nil
		},
		API: "ModifyImageAttribute",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			perm := ec2types.LaunchPermission{UserId: aws.String(p["sharedWith"])}
			if p["sharedWith"] == "all" {
				perm = ec2types.LaunchPermission{Group: ec2types.PermissionGroupAll}
			}
			return c.EC2(region).ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{ImageId: aws.String(p["imageId"]),
				LaunchPermission: &ec2types.LaunchPermissionModifications{Remove: []ec2types.LaunchPermission{perm}}})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ec2 modify-image-attribute --region %s --image-id %s --attribute launchPermission --operation-type remove %s",
				region, p["imageId"], shareTarget(p["sharedWith"]))
		},
		RemovedBy: "ec2:ModifyImageAttribute (permission removed; copies already made stay with their taker)",
	}.kind()
}

// shareTarget is the CLI's way to name who loses the permission.
func shareTarget(who string) string {
	if who == "all" {
		return "--group-names all"
	}
	return "--user-ids " + who
}

// shares reads who a snapshot or image was shared with: one resource per
// account or group added to its permission.
func shares(e *trail.Event, idKey, permKey string) []Resource {
	id := e.RequestString(idKey)
	var out []Resource
	for _, it := range items(e.Request(permKey, "add")) {
		who := field(it, "userId")
		if who == "" {
			who = field(it, "group")
		}
		if who != "" {
			out = append(out, Resource{ID: id + "/" + who, Details: map[string]string{idKey: id, "sharedWith": who}})
		}
	}
	return out
}
