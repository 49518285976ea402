package awsapi

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM returns the IAM client. IAM is global; its endpoint is in us-east-1.
func (c *Clients) IAM() *iam.Client {
	return get(c, "iam", "", func() *iam.Client { return iam.NewFromConfig(c.cfg) })
}

// STS returns the STS client of a region ("" is the configuration's region).
func (c *Clients) STS(region string) *sts.Client {
	region = c.regionOr(region)
	return get(c, "sts", region, func() *sts.Client {
		return sts.NewFromConfig(c.cfg, func(o *sts.Options) { o.Region = region })
	})
}

// EC2 returns the EC2 client of a region.
func (c *Clients) EC2(region string) *ec2.Client {
	region = c.regionOr(region)
	return get(c, "ec2", region, func() *ec2.Client {
		return ec2.NewFromConfig(c.cfg, func(o *ec2.Options) { o.Region = region })
	})
}

// Lambda returns the Lambda client of a region.
func (c *Clients) Lambda(region string) *lambda.Client {
	region = c.regionOr(region)
	return get(c, "lambda", region, func() *lambda.Client {
		return lambda.NewFromConfig(c.cfg, func(o *lambda.Options) { o.Region = region })
	})
}

// GuardDuty returns the GuardDuty client of a region.
func (c *Clients) GuardDuty(region string) *guardduty.Client {
	region = c.regionOr(region)
	return get(c, "guardduty", region, func() *guardduty.Client {
		return guardduty.NewFromConfig(c.cfg, func(o *guardduty.Options) { o.Region = region })
	})
}

// S3 returns the S3 client of a region. With an endpoint override it uses
// path-style addressing, which every S3 emulator understands.
func (c *Clients) S3(region string) *s3.Client {
	region = c.regionOr(region)
	return get(c, "s3", region, func() *s3.Client {
		return s3.NewFromConfig(c.cfg, func(o *s3.Options) {
			o.Region = region
			o.UsePathStyle = c.cfg.BaseEndpoint != nil
		})
	})
}

// SecretsManager returns the Secrets Manager client of a region.
func (c *Clients) SecretsManager(region string) *secretsmanager.Client {
	region = c.regionOr(region)
	return get(c, "secretsmanager", region, func() *secretsmanager.Client {
		return secretsmanager.NewFromConfig(c.cfg, func(o *secretsmanager.Options) { o.Region = region })
	})
}

// Pricing returns the Price List client, in us-east-1 where the API is
// served.
func (c *Clients) Pricing() *pricing.Client {
	return get(c, "pricing", "us-east-1", func() *pricing.Client {
		return pricing.NewFromConfig(c.cfg, func(o *pricing.Options) { o.Region = "us-east-1" })
	})
}

// CostExplorer returns the Cost Explorer client, in us-east-1 where the API
// is served.
func (c *Clients) CostExplorer() *costexplorer.Client {
	return get(c, "ce", "us-east-1", func() *costexplorer.Client {
		return costexplorer.NewFromConfig(c.cfg, func(o *costexplorer.Options) { o.Region = "us-east-1" })
	})
}

// HTTP is the configuration's HTTP client (its CA bundle, its proxy), for
// downloads from the presigned URLs AWS hands out: Lambda's code package.
func (c *Clients) HTTP() aws.HTTPClient { return c.cfg.HTTPClient }

// CloudTrail returns a CloudTrail client of a region whose SDK retries are
// off: the sweep paces LookupEvents with its own per-region limiter and
// retries throttles itself, so it can count them and keep the limiter true.
func (c *Clients) CloudTrail(region string) *cloudtrail.Client {
	region = c.regionOr(region)
	return get(c, "cloudtrail", region, func() *cloudtrail.Client {
		return cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) {
			o.Region = region
			o.Retryer = aws.NopRetryer{}
		})
	})
}

// CloudTrailRetrying returns a CloudTrail client with the SDK's standard
// retries, for the few lookups that are not part of a paced sweep (the
// quarantine lookup): they should survive a throttle or a 5xx on their own.
func (c *Clients) CloudTrailRetrying(region string) *cloudtrail.Client {
	region = c.regionOr(region)
	return get(c, "cloudtrail-retrying", region, func() *cloudtrail.Client {
		return cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) { o.Region = region })
	})
}

func (c *Clients) regionOr(region string) string {
	if region == "" {
		return c.cfg.Region
	}
	return region
}
