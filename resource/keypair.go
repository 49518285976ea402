package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/keyleak/keyleak/trail"
)

// TypeKeyPair is an EC2 key pair: the attacker's SSH way into instances.
const TypeKeyPair = "AWS::EC2::KeyPair"

var keyPairNotFound = []string{"InvalidKeyPair.NotFound"}

func keyPairKind() Kind {
	return Kind{
		Type:   TypeKeyPair,
		Title:  "EC2 key pair",
		Events: []string{"CreateKeyPair", "ImportKeyPair"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("keyName"), e.RequestString("keyName")), nil)
		},
		Check: func(ctx context.Context, c *Clients, r *Resource) (string, string) {
			if c.EC2 == nil {
				return noClient("EC2")
			}
			_, err := c.EC2(r.Region).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{r.ID}})
			return fromErr(err, keyPairNotFound...)
		},
		Calls:     []string{"ec2:DescribeKeyPairs", "ec2:DeleteKeyPair"},
		RemovedBy: "ec2:DeleteKeyPair",
		Plan: func(_ context.Context, c *Clients, r Resource) ([]Call, error) {
			if c.EC2 == nil {
				return nil, errNoClient("EC2")
			}
			return []Call{newCall("ec2", "DeleteKeyPair", r.Region, map[string]string{"KeyName": r.ID},
				fmt.Sprintf("ec2 delete-key-pair --region %s --key-name %s", r.Region, r.ID), r.ID)}, nil
		},
		Apply: func(ctx context.Context, c *Clients, call Call) (any, error) {
			name := call.Params["KeyName"]
			out, err := c.EC2(call.Region()).DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(name)})
			return out, removed(err, "key pair "+name, keyPairNotFound...)
		},
		Done: func(ctx context.Context, c *Clients, call Call) (bool, error) {
			_, err := c.EC2(call.Region()).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{call.Params["KeyName"]}})
			return absent(call, err, keyPairNotFound...)
		},
	}
}
