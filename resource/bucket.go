package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keyleak/keyleak/trail"
)

// TypeBucket is an S3 bucket the chain created, often the destination of
// exfiltrated data.
const TypeBucket = "AWS::S3::Bucket"

func bucketKind() Kind {
	return Kind{
		Type:   TypeBucket,
		Title:  "S3 bucket",
		Events: []string{"CreateBucket"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.RequestString("bucketName"), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.S3 == nil {
				return noClient("S3")
			}
			_, err := c.S3(r.Region).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(r.ID)})
			return fromErr(err, "NotFound", "NoSuchBucket")
		},
		// HeadBucket is allowed by s3:ListBucket.
		Calls:        []string{"s3:ListBucket"},
		NotRemovable: "keyleak does not delete buckets: what the attacker put there is evidence; examine it, then empty and delete the bucket by hand",
	}
}
