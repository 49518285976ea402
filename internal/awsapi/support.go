package awsapi

import "github.com/aws/aws-sdk-go-v2/service/support"

// SupportRegion is where the AWS Support API answers: its endpoint is in
// us-east-1 whatever the account's regions.
const SupportRegion = "us-east-1"

// Support returns the AWS Support API client.
func (c *Clients) Support() *support.Client {
	return get(c, "support", SupportRegion, func() *support.Client {
		return support.NewFromConfig(c.cfg, func(o *support.Options) { o.Region = SupportRegion })
	})
}
