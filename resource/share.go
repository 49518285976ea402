package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/keyleak/keyleak/trail"
)

// Shares: an EBS snapshot or an AMI shared with another account (or made
// public) is how data leaves the account. Both kinds are one shape, so this
// one file declares the two.
const (
	TypeSnapshotShare = "AWS::EC2::SnapshotPermission"
	TypeImageShare    = "AWS::EC2::ImagePermission"
)

// shareNotRemovable is why keyleak leaves a share to the responder.
const shareNotRemovable = "keyleak does not unshare snapshots or images: the data may already be copied; remove the permission by hand and treat the data as disclosed"

func snapshotShareKind() Kind {
	return Kind{
		Type:   TypeSnapshotShare,
		Title:  "EBS snapshot share",
		Events: []string{"ModifySnapshotAttribute"},
		Extract: func(e *trail.Event) []Resource {
			return shares(e, "snapshotId", "createVolumePermission")
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			out, err := c.EC2(r.Region).DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
				SnapshotId: aws.String(r.Details["snapshotId"]), Attribute: ec2types.SnapshotAttributeNameCreateVolumePermission})
			if err != nil {
				return fromErr(err, "InvalidSnapshot.NotFound")
			}
			for _, p := range out.CreateVolumePermissions {
				if aws.ToString(p.UserId) == r.Details["sharedWith"] || string(p.Group) == r.Details["sharedWith"] {
					return StatePresent, "still shared"
				}
			}
			return StateGone, "no longer shared"
		},
		Calls:        []string{"ec2:DescribeSnapshotAttribute"},
		NotRemovable: shareNotRemovable,
	}
}

func imageShareKind() Kind {
	return Kind{
		Type:   TypeImageShare,
		Title:  "AMI share",
		Events: []string{"ModifyImageAttribute"},
		Extract: func(e *trail.Event) []Resource {
			return shares(e, "imageId", "launchPermission")
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			out, err := c.EC2(r.Region).DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
				ImageId: aws.String(r.Details["imageId"]), Attribute: ec2types.ImageAttributeNameLaunchPermission})
			if err != nil {
				return fromErr(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable")
			}
			for _, p := range out.LaunchPermissions {
				if aws.ToString(p.UserId) == r.Details["sharedWith"] || string(p.Group) == r.Details["sharedWith"] {
					return StatePresent, "still shared"
				}
			}
			return StateGone, "no longer shared"
		},
		Calls:        []string{"ec2:DescribeImageAttribute"},
		NotRemovable: shareNotRemovable,
	}
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
