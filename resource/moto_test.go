package resource_test

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/resource"
)

// TestKindsAgainstMoto takes the kinds moto_server serves through their
// life with the same code as against the simulator: each resource is made
// with the SDK, then Check finds it present, Plan and Apply remove (or
// undo) it, Done and Check find it gone. moto, an independent emulator,
// proves the calls' wire shapes; it keeps no CloudTrail, so the resources
// are named as Extract would name them. Kinds whose calls this moto lacks
// are said in the log; the core ones (EC2, ECS, IAM, Lambda, SES,
// SageMaker's notebook) must pass.
func TestKindsAgainstMoto(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	const region = "us-east-1"
	cfg := srv.Config("AKIAIOSFODNN7EXAMPLE", "moto-secret", region)
	clients := resource.NewClients(awsapi.NewClients(cfg))
	ie, ii, il := ec2.NewFromConfig(cfg), iam.NewFromConfig(cfg), lambda.NewFromConfig(cfg)

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com","sagemaker.amazonaws.com","codebuild.amazonaws.com","glue.amazonaws.com","eks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	role, err := ii.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)

	type maker func() (resource.Resource, error)
	one := func(typ, id string, d map[string]string) resource.Resource {
		return resource.Resource{Type: typ, ID: id, Region: region, Details: d}
	}
	cases := []struct {
		typ  string
		core bool
		make maker
	}{
		{resource.TypeInstance, true, func() (resource.Resource, error) {
			out, err := ie.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeInstance, aws.ToString(out.Instances[0].InstanceId), nil), nil
		}},
		{resource.TypeKeyPair, true, func() (resource.Resource, error) {
			_, err := ie.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ops")})
			return one(resource.TypeKeyPair, "ops", nil), err
		}},
		{resource.TypeIngressRule, true, func() (resource.Resource, error) {
			sg, err := ie.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("open"), Description: aws.String("open")})
			if err != nil {
				return resource.Resource{}, err
			}
			g := aws.ToString(sg.GroupId)
			_, err = ie.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{{
				IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
			return one(resource.TypeIngressRule, g+"/tcp/22-22/0.0.0.0/0", map[string]string{"groupId": g, "protocol": "tcp", "fromPort": "22", "toPort": "22", "cidr": "0.0.0.0/0"}), err
		}},
		{resource.TypeSecurityGroup, true, func() (resource.Resource, error) {
			sg, err := ie.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeSecurityGroup, aws.ToString(sg.GroupId), nil), nil
		}},
		{resource.TypeLaunchTemplate, true, func() (resource.Resource, error) {
			out, err := ie.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("miner"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeC5Large}})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeLaunchTemplate, aws.ToString(out.LaunchTemplate.LaunchTemplateId), nil), nil
		}},
		{resource.TypeSpotRequest, false, func() (resource.Resource, error) {
			out, err := ie.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{InstanceCount: aws.Int32(1),
				LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-12c6146b"), InstanceType: ec2types.InstanceTypeP32xlarge}})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeSpotRequest, aws.ToString(out.SpotInstanceRequests[0].SpotInstanceRequestId), nil), nil
		}},
		{resource.TypeAutoScalingGroup, false, func() (resource.Resource, error) {
			lt, err := ie.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("asg-lt"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12c6146b")}})
			if err != nil {
				return resource.Resource{}, err
			}
			_, err = autoscaling.NewFromConfig(cfg).CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("fleet"),
				MinSize: aws.Int32(0), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1), AvailabilityZones: []string{"us-east-1a"},
				LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId}})
			return one(resource.TypeAutoScalingGroup, "fleet", nil), err
		}},
		{resource.TypeUser, true, func() (resource.Resource, error) {
			if _, err := ii.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("svc-sync")}); err != nil {
				return resource.Resource{}, err
			}
			if _, err := ii.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-sync")}); err != nil {
				return resource.Resource{}, err
			}
			_, err := ii.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("svc-sync"), Password: aws.String("An0ther-secret-pw!")})
			return one(resource.TypeUser, "svc-sync", nil), err
		}},
		{resource.TypeRole, true, func() (resource.Resource, error) {
			_, err := ii.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("backdoor"), AssumeRolePolicyDocument: aws.String(trust)})
			return one(resource.TypeRole, "backdoor", nil), err
		}},
		{resource.TypeOIDCProvider, true, func() (resource.Resource, error) {
			out, err := ii.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"),
				ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeOIDCProvider, aws.ToString(out.OpenIDConnectProviderArn), nil), nil
		}},
		{resource.TypeSAMLProvider, true, func() (resource.Resource, error) {
			out, err := ii.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("okta"),
				SAMLMetadataDocument: aws.String(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://idp.example/x"></EntityDescriptor>`)})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeSAMLProvider, aws.ToString(out.SAMLProviderArn), nil), nil
		}},
		{resource.TypeFunctionURL, true, func() (resource.Resource, error) {
			if err := makeFunction(ctx, il, "with-url", roleARN); err != nil {
				return resource.Resource{}, err
			}
			_, err := il.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("with-url"), AuthType: lambdatypes.FunctionUrlAuthTypeNone})
			return one(resource.TypeFunctionURL, "with-url", nil), err
		}},
		{resource.TypeFunctionPermission, true, func() (resource.Resource, error) {
			if err := makeFunction(ctx, il, "with-perm", roleARN); err != nil {
				return resource.Resource{}, err
			}
			_, err := il.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("with-perm"), StatementId: aws.String("public"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
			return one(resource.TypeFunctionPermission, "with-perm/public", map[string]string{"function": "with-perm", "statementId": "public", "principal": "*"}), err
		}},
		{resource.TypeFunction, true, func() (resource.Resource, error) {
			return one(resource.TypeFunction, "sync", nil), makeFunction(ctx, il, "sync", roleARN)
		}},
		{resource.TypeECSService, true, func() (resource.Resource, error) {
			ec := ecs.NewFromConfig(cfg)
			if _, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("jobs")}); err != nil {
				return resource.Resource{}, err
			}
			if _, err := registerTask(ctx, ec); err != nil {
				return resource.Resource{}, err
			}
			out, err := ec.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("jobs"), ServiceName: aws.String("worker"),
				TaskDefinition: aws.String("worker"), DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeFargate})
			if err != nil {
				return resource.Resource{}, err
			}
			return one(resource.TypeECSService, aws.ToString(out.Service.ServiceArn), map[string]string{"cluster": "jobs"}), nil
		}},
		{resource.TypeECSTask, false, func() (resource.Resource, error) {
			ec := ecs.NewFromConfig(cfg)
			out, err := ec.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("jobs"), TaskDefinition: aws.String("worker"), LaunchType: ecstypes.LaunchTypeFargate,
				NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1234"}}}})
			if err != nil {
				return resource.Resource{}, err
			}
			if len(out.Tasks) == 0 {
				return resource.Resource{}, errNotServed("RunTask started no task")
			}
			return one(resource.TypeECSTask, aws.ToString(out.Tasks[0].TaskArn), map[string]string{"cluster": "jobs"}), nil
		}},
		{resource.TypeECSCluster, true, func() (resource.Resource, error) {
			_, err := ecs.NewFromConfig(cfg).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("empty")})
			return one(resource.TypeECSCluster, "empty", nil), err
		}},
		{resource.TypeEKSCluster, false, func() (resource.Resource, error) {
			_, err := eks.NewFromConfig(cfg).CreateCluster(ctx, &eks.CreateClusterInput{Name: aws.String("k8s"), RoleArn: aws.String(roleARN),
				ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1234"}}})
			return one(resource.TypeEKSCluster, "k8s", nil), err
		}},
		{resource.TypeNotebook, true, func() (resource.Resource, error) {
			_, err := sagemaker.NewFromConfig(cfg).CreateNotebookInstance(ctx, &sagemaker.CreateNotebookInstanceInput{NotebookInstanceName: aws.String("nb"),
				InstanceType: smtypes.InstanceTypeMlT2Medium, RoleArn: aws.String(roleARN)})
			return one(resource.TypeNotebook, "nb", nil), err
		}},
		{resource.TypeCodeBuild, false, func() (resource.Resource, error) {
			_, err := codebuild.NewFromConfig(cfg).CreateProject(ctx, &codebuild.CreateProjectInput{Name: aws.String("cache"), ServiceRole: aws.String(roleARN),
				Source:      &cbtypes.ProjectSource{Type: cbtypes.SourceTypeS3, Location: aws.String("build-src/src.zip")},
				Artifacts:   &cbtypes.ProjectArtifacts{Type: cbtypes.ArtifactsTypeNoArtifacts},
				Environment: &cbtypes.ProjectEnvironment{Type: cbtypes.EnvironmentTypeLinuxContainer, Image: aws.String("aws/codebuild/standard:7.0"), ComputeType: cbtypes.ComputeTypeBuildGeneral1Small}})
			return one(resource.TypeCodeBuild, "cache", nil), err
		}},
		{resource.TypeGlueJob, false, func() (resource.Resource, error) {
			_, err := glue.NewFromConfig(cfg).CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("etl"), Role: aws.String(roleARN),
				Command: &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://b/k.py")}})
			return one(resource.TypeGlueJob, "etl", nil), err
		}},
		{resource.TypeSESIdentity, true, func() (resource.Resource, error) {
			_, err := ses.NewFromConfig(cfg).VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("billing@example.net")})
			return one(resource.TypeSESIdentity, "billing@example.net", nil), err
		}},
		{resource.TypeBucketPublic, false, func() (resource.Resource, error) {
			api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
			if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("exports")}); err != nil {
				return resource.Resource{}, err
			}
			_, err := api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("exports"),
				Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::exports/*"}]}`)})
			return one(resource.TypeBucketPublic, "exports", nil), err
		}},
		{resource.TypeTrailStopped, false, func() (resource.Resource, error) {
			ct := cloudtrail.NewFromConfig(cfg)
			if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail-bucket")}); err != nil {
				return resource.Resource{}, err
			}
			if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("trail-bucket")}); err != nil {
				return resource.Resource{}, err
			}
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main")})
			return one(resource.TypeTrailStopped, "main", nil), err
		}},
		{resource.TypeDetectorDisabled, false, func() (resource.Resource, error) {
			gd := guardduty.NewFromConfig(cfg)
			out, err := gd.CreateDetector(ctx, &guardduty.CreateDetectorInput{Enable: aws.Bool(true)})
			if err != nil {
				return resource.Resource{}, err
			}
			_, err = gd.UpdateDetector(ctx, &guardduty.UpdateDetectorInput{DetectorId: out.DetectorId, Enable: aws.Bool(false)})
			return one(resource.TypeDetectorDisabled, aws.ToString(out.DetectorId), nil), err
		}},
	}
	for _, c := range cases {
		k, _ := resource.Lookup(c.typ)
		r, err := c.make()
		if err != nil {
			if c.core {
				t.Errorf("make %s in moto: %v", c.typ, err)
			} else {
				t.Logf("%s: moto does not serve what makes it (%v)", c.typ, err)
			}
			continue
		}
		if state, reason := k.Check(ctx, &clients, &r); state != resource.StatePresent {
			report(t, c.core, "%s %s: %s (%s) before removal", c.typ, r.ID, state, reason)
			continue
		}
		calls, err := k.Plan(ctx, &clients, r)
		if err != nil || len(calls) == 0 {
			report(t, c.core, "%s %s: plan %v, %v", c.typ, r.ID, calls, err)
			continue
		}
		failed := false
		for _, call := range calls {
			if _, err := k.Apply(ctx, &clients, call); err != nil {
				report(t, c.core, "%s %s: %s: %v", c.typ, r.ID, call.Description, err)
				failed = true
			}
		}
		if failed {
			continue
		}
		if done, err := k.Done(ctx, &clients, calls[len(calls)-1]); !done || err != nil {
			report(t, c.core, "%s %s: Done = %v, %v", c.typ, r.ID, done, err)
		}
		if state, reason := k.Check(ctx, &clients, &r); state != resource.StateGone {
			report(t, c.core, "%s %s: %s (%s) after removal", c.typ, r.ID, state, reason)
		}
	}
}

// report fails the test for the core kinds, and logs what moto lacks for
// the others.
func report(t *testing.T, core bool, format string, args ...any) {
	t.Helper()
	if core {
		t.Errorf(format, args...)
		return
	}
	t.Logf("moto: "+format, args...)
}

type errNotServed string

func (e errNotServed) Error() string { return string(e) }

func makeFunction(ctx context.Context, l *lambda.Client, name, role string) error {
	_, err := l.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String(role), Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: zipOf("index.py", "def handler(e, c):\n    return 1\n")}})
	return err
}

func registerTask(ctx context.Context, ec *ecs.Client) (*ecs.RegisterTaskDefinitionOutput, error) {
	return ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("worker"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("w"), Image: aws.String("busybox"), Essential: aws.Bool(true)}}})
}

// zipOf is a deployment package of one file.
func zipOf(name, body string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.Create(name)
	_, _ = f.Write([]byte(body))
	_ = w.Close()
	return b.Bytes()
}
