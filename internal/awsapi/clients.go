package awsapi

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ses"
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

// Organizations returns the Organizations client; its endpoint is in
// us-east-1.
func (c *Clients) Organizations() *organizations.Client {
	return get(c, "organizations", "", func() *organizations.Client {
		return organizations.NewFromConfig(c.cfg, func(o *organizations.Options) { o.Region = "us-east-1" })
	})
}

// regional returns the cached client of a service in a region, made by mk
// with the region set: the resource kinds' services, one per region.
func regional[T any, O any](c *Clients, service, region string, mk func(aws.Config, ...func(*O)) T, set func(*O, string)) T {
	region = c.regionOr(region)
	return get(c, service, region, func() T { return mk(c.cfg, func(o *O) { set(o, region) }) })
}

// AutoScaling returns the Auto Scaling client of a region.
func (c *Clients) AutoScaling(region string) *autoscaling.Client {
	return regional(c, "autoscaling", region, autoscaling.NewFromConfig, func(o *autoscaling.Options, r string) { o.Region = r })
}

// ECS returns the ECS client of a region.
func (c *Clients) ECS(region string) *ecs.Client {
	return regional(c, "ecs", region, ecs.NewFromConfig, func(o *ecs.Options, r string) { o.Region = r })
}

// EKS returns the EKS client of a region.
func (c *Clients) EKS(region string) *eks.Client {
	return regional(c, "eks", region, eks.NewFromConfig, func(o *eks.Options, r string) { o.Region = r })
}

// Batch returns the AWS Batch client of a region.
func (c *Clients) Batch(region string) *batch.Client {
	return regional(c, "batch", region, batch.NewFromConfig, func(o *batch.Options, r string) { o.Region = r })
}

// Lightsail returns the Lightsail client of a region.
func (c *Clients) Lightsail(region string) *lightsail.Client {
	return regional(c, "lightsail", region, lightsail.NewFromConfig, func(o *lightsail.Options, r string) { o.Region = r })
}

// SageMaker returns the SageMaker client of a region.
func (c *Clients) SageMaker(region string) *sagemaker.Client {
	return regional(c, "sagemaker", region, sagemaker.NewFromConfig, func(o *sagemaker.Options, r string) { o.Region = r })
}

// CodeBuild returns the CodeBuild client of a region.
func (c *Clients) CodeBuild(region string) *codebuild.Client {
	return regional(c, "codebuild", region, codebuild.NewFromConfig, func(o *codebuild.Options, r string) { o.Region = r })
}

// Glue returns the Glue client of a region.
func (c *Clients) Glue(region string) *glue.Client {
	return regional(c, "glue", region, glue.NewFromConfig, func(o *glue.Options, r string) { o.Region = r })
}

// SES returns the SES (v1 API) client of a region.
func (c *Clients) SES(region string) *ses.Client {
	return regional(c, "ses", region, ses.NewFromConfig, func(o *ses.Options, r string) { o.Region = r })
}

// Bedrock returns the Bedrock control-plane client of a region.
func (c *Clients) Bedrock(region string) *bedrock.Client {
	return regional(c, "bedrock", region, bedrock.NewFromConfig, func(o *bedrock.Options, r string) { o.Region = r })
}
