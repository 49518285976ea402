package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/bedrock"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// Clients are the one set of clients every kind is checked and removed
// with: IAM and Organizations, which are global, and one per region of
// every other service. A nil field leaves the resources it would check
// unknown, with the reason, and their removal fails to plan. Each field's
// name, lower-cased, is its service's prefix in IAM action names.
type Clients struct {
	IAM           IAM
	Organizations Organizations
	EC2           func(region string) EC2
	Lambda        func(region string) Lambda
	S3            func(region string) S3
	AutoScaling   func(region string) AutoScaling
	ECS           func(region string) ECS
	EKS           func(region string) EKS
	Batch         func(region string) Batch
	Lightsail     func(region string) Lightsail
	SageMaker     func(region string) SageMaker
	CodeBuild     func(region string) CodeBuild
	Glue          func(region string) Glue
	SES           func(region string) SES
	Bedrock       func(region string) Bedrock
	CloudTrail    func(region string) CloudTrail
	GuardDuty     func(region string) GuardDuty
}

// SDK makes the SDK clients, cached per region; *awsapi.Clients satisfies
// it.
type SDK interface {
	IAM() *iam.Client
	Organizations() *organizations.Client
	EC2(region string) *ec2.Client
	Lambda(region string) *lambda.Client
	S3(region string) *s3.Client
	AutoScaling(region string) *autoscaling.Client
	ECS(region string) *ecs.Client
	EKS(region string) *eks.Client
	Batch(region string) *batch.Client
	Lightsail(region string) *lightsail.Client
	SageMaker(region string) *sagemaker.Client
	CodeBuild(region string) *codebuild.Client
	Glue(region string) *glue.Client
	SES(region string) *ses.Client
	Bedrock(region string) *bedrock.Client
	CloudTrailRetrying(region string) *cloudtrail.Client
	GuardDuty(region string) *guardduty.Client
}

// NewClients returns the kinds' clients made by sdk: the CLI, the TUI and
// the evaluation build the one set the same way.
func NewClients(sdk SDK) Clients {
	return Clients{
		IAM:           sdk.IAM(),
		Organizations: sdk.Organizations(),
		EC2:           func(region string) EC2 { return sdk.EC2(region) },
		Lambda:        func(region string) Lambda { return sdk.Lambda(region) },
		S3:            func(region string) S3 { return sdk.S3(region) },
		AutoScaling:   func(region string) AutoScaling { return sdk.AutoScaling(region) },
		ECS:           func(region string) ECS { return sdk.ECS(region) },
		EKS:           func(region string) EKS { return sdk.EKS(region) },
		Batch:         func(region string) Batch { return sdk.Batch(region) },
		Lightsail:     func(region string) Lightsail { return sdk.Lightsail(region) },
		SageMaker:     func(region string) SageMaker { return sdk.SageMaker(region) },
		CodeBuild:     func(region string) CodeBuild { return sdk.CodeBuild(region) },
		Glue:          func(region string) Glue { return sdk.Glue(region) },
		SES:           func(region string) SES { return sdk.SES(region) },
		Bedrock:       func(region string) Bedrock { return sdk.Bedrock(region) },
		CloudTrail:    func(region string) CloudTrail { return sdk.CloudTrailRetrying(region) },
		GuardDuty:     func(region string) GuardDuty { return sdk.GuardDuty(region) },
	}
}

// EC2 is every EC2 call of the kinds in a region; *ec2.Client satisfies
// it. Each method is in the Calls of the kinds that make it (a test checks
// both ways), and the responder policy is checked against it by reflection.
type EC2 interface {
	DescribeInstances(ctx context.Context, params *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(ctx context.Context, params *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DescribeSpotInstanceRequests(ctx context.Context, params *ec2.DescribeSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error)
	CancelSpotInstanceRequests(ctx context.Context, params *ec2.CancelSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.CancelSpotInstanceRequestsOutput, error)
	DescribeKeyPairs(ctx context.Context, params *ec2.DescribeKeyPairsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
	DeleteKeyPair(ctx context.Context, params *ec2.DeleteKeyPairInput, optFns ...func(*ec2.Options)) (*ec2.DeleteKeyPairOutput, error)
	DescribeSecurityGroups(ctx context.Context, params *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DeleteSecurityGroup(ctx context.Context, params *ec2.DeleteSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, params *ec2.RevokeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	DescribeSnapshotAttribute(ctx context.Context, params *ec2.DescribeSnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotAttributeOutput, error)
	DescribeImageAttribute(ctx context.Context, params *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
	CreateSnapshot(ctx context.Context, params *ec2.CreateSnapshotInput, optFns ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	GetConsoleOutput(ctx context.Context, params *ec2.GetConsoleOutputInput, optFns ...func(*ec2.Options)) (*ec2.GetConsoleOutputOutput, error)
	DescribeInstanceAttribute(ctx context.Context, params *ec2.DescribeInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
	ModifySnapshotAttribute(ctx context.Context, params *ec2.ModifySnapshotAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifySnapshotAttributeOutput, error)
	ModifyImageAttribute(ctx context.Context, params *ec2.ModifyImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error)
	DescribeSpotFleetRequests(ctx context.Context, params *ec2.DescribeSpotFleetRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotFleetRequestsOutput, error)
	CancelSpotFleetRequests(ctx context.Context, params *ec2.CancelSpotFleetRequestsInput, optFns ...func(*ec2.Options)) (*ec2.CancelSpotFleetRequestsOutput, error)
	DescribeFleets(ctx context.Context, params *ec2.DescribeFleetsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeFleetsOutput, error)
	DeleteFleets(ctx context.Context, params *ec2.DeleteFleetsInput, optFns ...func(*ec2.Options)) (*ec2.DeleteFleetsOutput, error)
	DescribeLaunchTemplates(ctx context.Context, params *ec2.DescribeLaunchTemplatesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error)
	DeleteLaunchTemplate(ctx context.Context, params *ec2.DeleteLaunchTemplateInput, optFns ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error)
}

// IAM is every IAM call of the kinds; *iam.Client satisfies it.
type IAM interface {
	GetUser(ctx context.Context, params *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	DeleteUser(ctx context.Context, params *iam.DeleteUserInput, optFns ...func(*iam.Options)) (*iam.DeleteUserOutput, error)
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	DeleteAccessKey(ctx context.Context, params *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetLoginProfile(ctx context.Context, params *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	DeleteLoginProfile(ctx context.Context, params *iam.DeleteLoginProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error)
	ListUserPolicies(ctx context.Context, params *iam.ListUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	DeleteUserPolicy(ctx context.Context, params *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	ListAttachedUserPolicies(ctx context.Context, params *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	DetachUserPolicy(ctx context.Context, params *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	ListGroupsForUser(ctx context.Context, params *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	RemoveUserFromGroup(ctx context.Context, params *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	DeleteRole(ctx context.Context, params *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	ListRolePolicies(ctx context.Context, params *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	DeleteRolePolicy(ctx context.Context, params *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, params *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	DetachRolePolicy(ctx context.Context, params *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	GetPolicy(ctx context.Context, params *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetUserPolicy(ctx context.Context, params *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	GetRolePolicy(ctx context.Context, params *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	GetOpenIDConnectProvider(ctx context.Context, params *iam.GetOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	DeleteOpenIDConnectProvider(ctx context.Context, params *iam.DeleteOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.DeleteOpenIDConnectProviderOutput, error)
	GetSAMLProvider(ctx context.Context, params *iam.GetSAMLProviderInput, optFns ...func(*iam.Options)) (*iam.GetSAMLProviderOutput, error)
	DeleteSAMLProvider(ctx context.Context, params *iam.DeleteSAMLProviderInput, optFns ...func(*iam.Options)) (*iam.DeleteSAMLProviderOutput, error)
}

// Lambda is every Lambda call of the kinds in a region; *lambda.Client
// satisfies it.
type Lambda interface {
	GetFunction(ctx context.Context, params *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
	DeleteFunction(ctx context.Context, params *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	GetFunctionUrlConfig(ctx context.Context, params *lambda.GetFunctionUrlConfigInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionUrlConfigOutput, error)
	DeleteFunctionUrlConfig(ctx context.Context, params *lambda.DeleteFunctionUrlConfigInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionUrlConfigOutput, error)
	GetPolicy(ctx context.Context, params *lambda.GetPolicyInput, optFns ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	RemovePermission(ctx context.Context, params *lambda.RemovePermissionInput, optFns ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

// S3 is every S3 call of the kinds; *s3.Client satisfies it.
type S3 interface {
	HeadBucket(ctx context.Context, params *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	GetPublicAccessBlock(ctx context.Context, params *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketPolicyStatus(ctx context.Context, params *s3.GetBucketPolicyStatusInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyStatusOutput, error)
	PutPublicAccessBlock(ctx context.Context, params *s3.PutPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error)
}

// AutoScaling is every Auto Scaling call of the kinds in a region.
type AutoScaling interface {
	DescribeAutoScalingGroups(ctx context.Context, params *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
	DeleteAutoScalingGroup(ctx context.Context, params *autoscaling.DeleteAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DeleteAutoScalingGroupOutput, error)
}

// ECS is every ECS call of the kinds in a region.
type ECS interface {
	DescribeClusters(ctx context.Context, params *ecs.DescribeClustersInput, optFns ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	DeleteCluster(ctx context.Context, params *ecs.DeleteClusterInput, optFns ...func(*ecs.Options)) (*ecs.DeleteClusterOutput, error)
	DescribeServices(ctx context.Context, params *ecs.DescribeServicesInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DeleteService(ctx context.Context, params *ecs.DeleteServiceInput, optFns ...func(*ecs.Options)) (*ecs.DeleteServiceOutput, error)
	DescribeTasks(ctx context.Context, params *ecs.DescribeTasksInput, optFns ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, params *ecs.StopTaskInput, optFns ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// EKS is every EKS call of the kinds in a region.
type EKS interface {
	DescribeCluster(ctx context.Context, params *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	DeleteCluster(ctx context.Context, params *eks.DeleteClusterInput, optFns ...func(*eks.Options)) (*eks.DeleteClusterOutput, error)
	DescribeNodegroup(ctx context.Context, params *eks.DescribeNodegroupInput, optFns ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error)
	DeleteNodegroup(ctx context.Context, params *eks.DeleteNodegroupInput, optFns ...func(*eks.Options)) (*eks.DeleteNodegroupOutput, error)
}

// Batch is every AWS Batch call of the kinds in a region.
type Batch interface {
	DescribeComputeEnvironments(ctx context.Context, params *batch.DescribeComputeEnvironmentsInput, optFns ...func(*batch.Options)) (*batch.DescribeComputeEnvironmentsOutput, error)
	UpdateComputeEnvironment(ctx context.Context, params *batch.UpdateComputeEnvironmentInput, optFns ...func(*batch.Options)) (*batch.UpdateComputeEnvironmentOutput, error)
	DeleteComputeEnvironment(ctx context.Context, params *batch.DeleteComputeEnvironmentInput, optFns ...func(*batch.Options)) (*batch.DeleteComputeEnvironmentOutput, error)
}

// Lightsail is every Lightsail call of the kinds in a region.
type Lightsail interface {
	GetInstance(ctx context.Context, params *lightsail.GetInstanceInput, optFns ...func(*lightsail.Options)) (*lightsail.GetInstanceOutput, error)
	DeleteInstance(ctx context.Context, params *lightsail.DeleteInstanceInput, optFns ...func(*lightsail.Options)) (*lightsail.DeleteInstanceOutput, error)
}

// SageMaker is every SageMaker call of the kinds in a region.
type SageMaker interface {
	DescribeNotebookInstance(ctx context.Context, params *sagemaker.DescribeNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeNotebookInstanceOutput, error)
	StopNotebookInstance(ctx context.Context, params *sagemaker.StopNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopNotebookInstanceOutput, error)
	DeleteNotebookInstance(ctx context.Context, params *sagemaker.DeleteNotebookInstanceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteNotebookInstanceOutput, error)
	DescribeEndpoint(ctx context.Context, params *sagemaker.DescribeEndpointInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeEndpointOutput, error)
	DeleteEndpoint(ctx context.Context, params *sagemaker.DeleteEndpointInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteEndpointOutput, error)
	DescribeTrainingJob(ctx context.Context, params *sagemaker.DescribeTrainingJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeTrainingJobOutput, error)
	StopTrainingJob(ctx context.Context, params *sagemaker.StopTrainingJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopTrainingJobOutput, error)
}

// CodeBuild is every CodeBuild call of the kinds in a region.
type CodeBuild interface {
	BatchGetProjects(ctx context.Context, params *codebuild.BatchGetProjectsInput, optFns ...func(*codebuild.Options)) (*codebuild.BatchGetProjectsOutput, error)
	DeleteProject(ctx context.Context, params *codebuild.DeleteProjectInput, optFns ...func(*codebuild.Options)) (*codebuild.DeleteProjectOutput, error)
}

// Glue is every Glue call of the kinds in a region.
type Glue interface {
	GetDevEndpoint(ctx context.Context, params *glue.GetDevEndpointInput, optFns ...func(*glue.Options)) (*glue.GetDevEndpointOutput, error)
	DeleteDevEndpoint(ctx context.Context, params *glue.DeleteDevEndpointInput, optFns ...func(*glue.Options)) (*glue.DeleteDevEndpointOutput, error)
	GetJob(ctx context.Context, params *glue.GetJobInput, optFns ...func(*glue.Options)) (*glue.GetJobOutput, error)
	DeleteJob(ctx context.Context, params *glue.DeleteJobInput, optFns ...func(*glue.Options)) (*glue.DeleteJobOutput, error)
}

// SES is every SES call of the kinds in a region.
type SES interface {
	GetIdentityVerificationAttributes(ctx context.Context, params *ses.GetIdentityVerificationAttributesInput, optFns ...func(*ses.Options)) (*ses.GetIdentityVerificationAttributesOutput, error)
	DeleteIdentity(ctx context.Context, params *ses.DeleteIdentityInput, optFns ...func(*ses.Options)) (*ses.DeleteIdentityOutput, error)
	GetAccountSendingEnabled(ctx context.Context, params *ses.GetAccountSendingEnabledInput, optFns ...func(*ses.Options)) (*ses.GetAccountSendingEnabledOutput, error)
	UpdateAccountSendingEnabled(ctx context.Context, params *ses.UpdateAccountSendingEnabledInput, optFns ...func(*ses.Options)) (*ses.UpdateAccountSendingEnabledOutput, error)
}

// Bedrock is every Bedrock call of the kinds in a region.
type Bedrock interface {
	GetFoundationModelAvailability(ctx context.Context, params *bedrock.GetFoundationModelAvailabilityInput, optFns ...func(*bedrock.Options)) (*bedrock.GetFoundationModelAvailabilityOutput, error)
	DeleteFoundationModelAgreement(ctx context.Context, params *bedrock.DeleteFoundationModelAgreementInput, optFns ...func(*bedrock.Options)) (*bedrock.DeleteFoundationModelAgreementOutput, error)
	GetModelInvocationLoggingConfiguration(ctx context.Context, params *bedrock.GetModelInvocationLoggingConfigurationInput, optFns ...func(*bedrock.Options)) (*bedrock.GetModelInvocationLoggingConfigurationOutput, error)
}

// CloudTrail is every CloudTrail call of the kinds in a region.
type CloudTrail interface {
	GetTrailStatus(ctx context.Context, params *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	StartLogging(ctx context.Context, params *cloudtrail.StartLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
	GetTrail(ctx context.Context, params *cloudtrail.GetTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
}

// GuardDuty is every GuardDuty call of the kinds in a region.
type GuardDuty interface {
	ListDetectors(ctx context.Context, params *guardduty.ListDetectorsInput, optFns ...func(*guardduty.Options)) (*guardduty.ListDetectorsOutput, error)
	GetDetector(ctx context.Context, params *guardduty.GetDetectorInput, optFns ...func(*guardduty.Options)) (*guardduty.GetDetectorOutput, error)
	UpdateDetector(ctx context.Context, params *guardduty.UpdateDetectorInput, optFns ...func(*guardduty.Options)) (*guardduty.UpdateDetectorOutput, error)
}

// Organizations is every Organizations call of the kinds.
type Organizations interface {
	DescribeOrganization(ctx context.Context, params *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
}

var (
	_ EC2           = (*ec2.Client)(nil)
	_ IAM           = (*iam.Client)(nil)
	_ Lambda        = (*lambda.Client)(nil)
	_ S3            = (*s3.Client)(nil)
	_ AutoScaling   = (*autoscaling.Client)(nil)
	_ ECS           = (*ecs.Client)(nil)
	_ EKS           = (*eks.Client)(nil)
	_ Batch         = (*batch.Client)(nil)
	_ Lightsail     = (*lightsail.Client)(nil)
	_ SageMaker     = (*sagemaker.Client)(nil)
	_ CodeBuild     = (*codebuild.Client)(nil)
	_ Glue          = (*glue.Client)(nil)
	_ SES           = (*ses.Client)(nil)
	_ Bedrock       = (*bedrock.Client)(nil)
	_ CloudTrail    = (*cloudtrail.Client)(nil)
	_ GuardDuty     = (*guardduty.Client)(nil)
	_ Organizations = (*organizations.Client)(nil)
)

// s3Actions are the IAM actions of the S3 calls, whose names differ.
var s3Actions = map[string]string{"HeadBucket": "ListBucket",
	"GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock"}

// ActionOf returns the IAM action that allows the API call of a service:
// "ec2:TerminateInstances", or "s3:ListBucket" for S3's HeadBucket.
func ActionOf(service, api string) string {
	if a, ok := s3Actions[api]; ok && service == "s3" {
		api = a
	}
	return service + ":" + api
}
