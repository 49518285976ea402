package assess

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// EC2API is what the inventory reads in a region; *ec2.Client satisfies it.
type EC2API interface {
	DescribeInstances(ctx context.Context, params *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeKeyPairs(ctx context.Context, params *ec2.DescribeKeyPairsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
	DescribeSecurityGroups(ctx context.Context, params *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeSpotInstanceRequests(ctx context.Context, params *ec2.DescribeSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error)
	DescribeSnapshotAttribute(ctx context.Context, params *ec2.DescribeSnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error)
	DescribeImageAttribute(ctx context.Context, params *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
}

// IAMAPI is what the inventory reads in IAM; *iam.Client satisfies it.
type IAMAPI interface {
	GetUser(ctx context.Context, params *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetLoginProfile(ctx context.Context, params *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetPolicy(ctx context.Context, params *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
}

// LambdaAPI is what the inventory reads in Lambda; *lambda.Client
// satisfies it.
type LambdaAPI interface {
	GetFunction(ctx context.Context, params *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
}

// S3API is what the inventory reads in S3; *s3.Client satisfies it.
type S3API interface {
	HeadBucket(ctx context.Context, params *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

var (
	_ EC2API    = (*ec2.Client)(nil)
	_ IAMAPI    = (*iam.Client)(nil)
	_ LambdaAPI = (*lambda.Client)(nil)
	_ S3API     = (*s3.Client)(nil)
)

// Clients are the per-region clients the inventory uses. A nil field
// leaves the resources it would check unknown, with the reason.
type Clients struct {
	IAM    IAMAPI
	EC2    func(region string) EC2API
	Lambda func(region string) LambdaAPI
	S3     func(region string) S3API
}

// inventoryLimit bounds the describe calls in flight: enough to check a few
// hundred resources in seconds, few enough not to hit EC2's request limits.
const inventoryLimit = 8

// Inventory checks the live state of each resource in its region,
// concurrently, and returns the resources with State and StateReason set
// (present, gone, or unknown with the reason). A failed check never fails
// the inventory; only a cancelled context does.
func Inventory(ctx context.Context, c Clients, resources []Resource) ([]Resource, error) {
	out := slices.Clone(resources)
	for i := range out {
		out[i].Details = cloneMap(out[i].Details)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inventoryLimit)
	for i := range out {
		g.Go(func() error {
			state, reason := c.check(gctx, &out[i])
			if gctx.Err() != nil {
				return gctx.Err()
			}
			out[i].State, out[i].StateReason = state, reason
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return out, fmt.Errorf("check resources: %w", err)
	}
	return out, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// check returns the live state of one resource and why.
func (c Clients) check(ctx context.Context, r *Resource) (string, string) {
	noClient := func(svc string) (string, string) {
		return StateUnknown, "no " + svc + " client to check it with"
	}
	switch r.Type {
	case TypeInstance, TypeKeyPair, TypeSecurityGroup, TypeIngressRule, TypeSpotRequest, TypeSnapshotShare, TypeImageShare:
		if c.EC2 == nil {
			return noClient("EC2")
		}
		return checkEC2(ctx, c.EC2(r.Region), r)
	case TypeUser, TypeAccessKey, TypeLoginProfile, TypeRole, TypePolicy:
		if c.IAM == nil {
			return noClient("IAM")
		}
		return checkIAM(ctx, c.IAM, r)
	case TypeFunction:
		if c.Lambda == nil {
			return noClient("Lambda")
		}
		_, err := c.Lambda(r.Region).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.ID)})
		return fromErr(err, "ResourceNotFoundException")
	case TypeBucket:
		if c.S3 == nil {
			return noClient("S3")
		}
		_, err := c.S3(r.Region).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(r.ID)})
		return fromErr(err, "NotFound", "NoSuchBucket")
	}
	return StateUnknown, fmt.Sprintf("keyleak cannot check %s resources; look in the console, region %s", r.Type, r.Region)
}

// fromErr turns a describe call's outcome into a state: no error is
// present, one of the not-found codes is gone, anything else unknown.
func fromErr(err error, notFound ...string) (string, string) {
	if err == nil {
		return StatePresent, ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && slices.Contains(notFound, ae.ErrorCode()) {
		return StateGone, ae.ErrorCode()
	}
	return StateUnknown, err.Error()
}

func checkEC2(ctx context.Context, api EC2API, r *Resource) (string, string) {
	switch r.Type {
	case TypeInstance:
		out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.ID}})
		if err != nil {
			return fromErr(err, "InvalidInstanceID.NotFound")
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
	case TypeKeyPair:
		_, err := api.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{r.ID}})
		return fromErr(err, "InvalidKeyPair.NotFound")
	case TypeSecurityGroup:
		_, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{r.ID}})
		return fromErr(err, "InvalidGroup.NotFound", "InvalidGroupId.NotFound")
	case TypeIngressRule:
		group := r.Details["groupId"]
		out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{group}})
		if err != nil {
			state, reason := fromErr(err, "InvalidGroup.NotFound", "InvalidGroupId.NotFound")
			if state == StateGone {
				reason = "its security group " + group + " is gone"
			}
			return state, reason
		}
		for _, sg := range out.SecurityGroups {
			for _, p := range sg.IpPermissions {
				if permissionMatches(p, r.Details) {
					return StatePresent, ""
				}
			}
		}
		return StateGone, "the rule is no longer in " + group
	case TypeSpotRequest:
		out, err := api.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{r.ID}})
		if err != nil {
			return fromErr(err, "InvalidSpotInstanceRequestID.NotFound")
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
	case TypeSnapshotShare:
		out, err := api.DescribeSnapshotAttribute(ctx, &ec2.DescribeSnapshotAttributeInput{
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
	case TypeImageShare:
		out, err := api.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
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
	}
	return StateUnknown, "unexpected type " + r.Type
}

// permissionMatches tells whether an ingress permission holds the rule
// described by details (protocol, ports, CIDR).
func permissionMatches(p ec2types.IpPermission, d map[string]string) bool {
	proto := aws.ToString(p.IpProtocol)
	if proto != d["protocol"] && !(proto == "-1" && (d["protocol"] == "all" || d["protocol"] == "-1")) {
		return false
	}
	if d["fromPort"] != "" && d["fromPort"] != strconv.Itoa(int(aws.ToInt32(p.FromPort))) {
		return false
	}
	if d["toPort"] != "" && d["toPort"] != strconv.Itoa(int(aws.ToInt32(p.ToPort))) {
		return false
	}
	for _, r := range p.IpRanges {
		if aws.ToString(r.CidrIp) == d["cidr"] {
			return true
		}
	}
	for _, r := range p.Ipv6Ranges {
		if aws.ToString(r.CidrIpv6) == d["cidr"] {
			return true
		}
	}
	return false
}

func checkIAM(ctx context.Context, api IAMAPI, r *Resource) (string, string) {
	switch r.Type {
	case TypeUser:
		_, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(r.ID)})
		return fromErr(err, "NoSuchEntity")
	case TypeAccessKey:
		user := r.Details["userName"]
		p := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				state, reason := fromErr(err, "NoSuchEntity")
				if state == StateGone {
					reason = "its user " + user + " is gone"
				}
				return state, reason
			}
			for _, k := range page.AccessKeyMetadata {
				if aws.ToString(k.AccessKeyId) == r.ID {
					return StatePresent, string(k.Status)
				}
			}
		}
		return StateGone, "deleted"
	case TypeLoginProfile:
		_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(r.Details["userName"])})
		return fromErr(err, "NoSuchEntity")
	case TypeRole:
		_, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.ID)})
		return fromErr(err, "NoSuchEntity")
	case TypePolicy:
		_, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(r.ID)})
		return fromErr(err, "NoSuchEntity")
	}
	return StateUnknown, "unexpected type " + r.Type
}
