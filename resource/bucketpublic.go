package resource

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/keyleak/keyleak/trail"
)

// TypeBucketPublic is a bucket the chain made public: a bucket policy
// granting anyone access, or the bucket's Block Public Access turned off.
// keyleak closes it by turning Block Public Access on for the bucket; the
// attacker's policy stays, as evidence, without effect.
const TypeBucketPublic = "AWS::S3::BucketPublic"

func hasS3(c *Clients) bool { return c.S3 != nil }

// grantsEveryone tells whether a bucket policy allows Principal "*" (or
// {"AWS": "*"}) without a condition.
func grantsEveryone(raw json.RawMessage) bool {
	var doc struct{ Statement []map[string]any }
	if len(raw) > 0 && raw[0] == '"' { // a policy recorded as a string
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false
		}
		raw = json.RawMessage(s)
	}
	if json.Unmarshal(raw, &doc) != nil {
		return false
	}
	for _, st := range doc.Statement {
		if st["Effect"] != "Allow" || st["Condition"] != nil {
			continue
		}
		switch p := st["Principal"].(type) {
		case string:
			if p == "*" {
				return true
			}
		case map[string]any:
			if p["AWS"] == "*" {
				return true
			}
		}
	}
	return false
}

func bucketPublicKind() Kind {
	return simple{
		Type:   TypeBucketPublic,
		Title:  "S3 bucket made public",
		Events: []string{"PutBucketPolicy", "DeletePublicAccessBlock", "PutPublicAccessBlock"},
		Extract: fromSource("s3.amazonaws.com", func(e *trail.Event) []Resource {
			bucket := e.RequestString("bucketName")
			switch e.EventName {
			case "PutBucketPolicy":
				if !grantsEveryone(e.Request("bucketPolicy")) {
					return nil
				}
			case "PutPublicAccessBlock":
				if e.RequestString("PublicAccessBlockConfiguration", "RestrictPublicBuckets") != "false" &&
					e.RequestString("PublicAccessBlockConfiguration", "BlockPublicPolicy") != "false" {
					return nil
				}
			}
			return one(bucket, nil)
		}),
		Service:  "S3",
		Has:      hasS3,
		Calls:    []string{"s3:GetBucketPublicAccessBlock", "s3:GetBucketPolicyStatus", "s3:PutBucketPublicAccessBlock"},
		NotFound: []string{"NoSuchBucket"},
		// Public while its policy is and Block Public Access does not
		// restrict it.
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			api := c.S3(region)
			pab, err := api.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(p["ID"])})
			switch {
			case isCode(err, "NoSuchPublicAccessBlockConfiguration"):
			case err != nil:
				return false, "", err
			case pab.PublicAccessBlockConfiguration != nil && aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets):
				return false, "Block Public Access restricts it", nil
			}
			st, err := api.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(p["ID"])})
			switch {
			case isCode(err, "NoSuchBucketPolicy"):
				return false, "no bucket policy", nil
			case err != nil:
				return false, "", err
			case st.PolicyStatus != nil && aws.ToBool(st.PolicyStatus.IsPublic):
				return true, "its policy grants anyone access", nil
			}
			return false, "its policy is not public", nil
		},
		API: "PutPublicAccessBlock",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.S3(region).PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(p["ID"]),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
					BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("s3api put-public-access-block --region %s --bucket %s --public-access-block-configuration "+
				"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true", region, p["ID"])
		},
		RemovedBy: "s3:PutBucketPublicAccessBlock (closed; the policy kept as evidence)",
	}.kind()
}
