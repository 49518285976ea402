package resource_test

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// stratusEvents are the real detonation records of Stratus Red Team
// (trail/testdata, Apache-2.0, licence beside it), by event ID.
func stratusEvents(t *testing.T) map[string]trail.Event {
	t.Helper()
	f, err := os.Open("../trail/testdata/stratus_red_team.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]trail.Event{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var line struct{ Event json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		e, err := trail.ParseRecord(line.Event)
		if err != nil {
			t.Fatal(err)
		}
		out[e.EventID] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExtractRealRecords(t *testing.T) {
	events := stratusEvents(t)
	cases := []struct {
		eventID string
		want    []resource.Resource
	}{
		{"9fd68588-ecbf-4528-a345-199fa6bb0821", []resource.Resource{{Type: resource.TypeIngressRule, ID: "sgr-09b3e3d2ca1edf2a2", Region: "us-northeast-1r",
			Details: map[string]string{"groupId": "sg-003dc7f1f1c686164", "protocol": "tcp", "fromPort": "22", "toPort": "22", "cidr": "208.236.235.254/0"}}}},
		{"1f00bcfa-e050-4c2e-b99b-768ebe3a3dd3", []resource.Resource{{Type: resource.TypeImageShare, ID: "ami-de1fbCab6ccB03e6D/846424999548", Region: "me-south-1r",
			Details: map[string]string{"imageId": "ami-de1fbCab6ccB03e6D", "sharedWith": "846424999548"}}}},
		{"6897ff63-d738-445c-9e86-43e5b1f8e12f", []resource.Resource{{Type: resource.TypeSnapshotShare, ID: "snap-041993b54a9b3af6f/098797384747", Region: "me-central-3r",
			Details: map[string]string{"snapshotId": "snap-041993b54a9b3af6f", "sharedWith": "098797384747"}}}},
		{"94faedcc-0fa4-46e6-9322-022e8e934f04", []resource.Resource{{Type: resource.TypeAccessKey, ID: "AKIAXAFZN8JEPF6L682H", Region: resource.GlobalRegion,
			Details: map[string]string{"userName": "malicious-iam-user"}}}},
		{"3346344c-5a3e-429e-8405-420f98f75d6e", []resource.Resource{{Type: resource.TypeUser, ID: "malicious-iam-user", Region: resource.GlobalRegion}}},
		{"d2905ac3-9898-433f-b10d-9302abe4e208", []resource.Resource{{Type: resource.TypeRole, ID: "stratus-red-team-malicious-iam-role", Region: resource.GlobalRegion}}},
		{"b67a9bba-d9da-4980-bf74-baed881b117d", []resource.Resource{{Type: resource.TypeFunctionPermission, ID: "stratus-red-team-backdoor-f-func/backdoor", Region: "ca-centralnorth-1r",
			Details: map[string]string{"function": "stratus-red-team-backdoor-f-func", "statementId": "backdoor", "principal": "*"}}}},
		{"10163ed2-2253-469d-a5ee-cbc6651f8934", []resource.Resource{{Type: resource.TypeTrailStopped, ID: "stratus-red-team-ct-stop-trail-buykxbqejv", Region: "apiso-centralnorth-2r"}}},
		{"ee73c230-44bc-4492-8542-cfb189eae287", []resource.Resource{{Type: resource.TypeTrailDeleted, ID: "stratus-red-team-cloudtraild-trail-kvrwohmiai", Region: "megov-westwest-1r"}}},
		{"db9c43df-ae6f-4db3-8298-f5f779f74f4d", []resource.Resource{{Type: resource.TypeModelAgreement, ID: "anthropic.claude-3-sonnet-20240229-v1:0", Region: "megov-northeast-1r"}}},
		{"d3906a7d-604b-407f-acb6-fc425742821e", []resource.Resource{{Type: resource.TypeLoginProfile, ID: "stratus-red-team-login-profile-user", Region: resource.GlobalRegion,
			Details: map[string]string{"userName": "stratus-red-team-login-profile-user"}}}},
	}
	for _, c := range cases {
		e, ok := events[c.eventID]
		if !ok {
			t.Fatalf("no event %s in the dataset", c.eventID)
		}
		if got := resource.Extract(&e); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", e.EventName, c.eventID, got, c.want)
		}
	}
}

// record is a minimal CloudTrail record of one call.
func record(t *testing.T, source, name, region, request, response string) trail.Event {
	t.Helper()
	raw := `{"eventVersion":"1.09","eventID":"e-1","eventTime":"2026-01-01T00:00:00Z","eventSource":"` + source + `","eventName":"` + name +
		`","awsRegion":"` + region + `","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAEXAMPLE","userName":"ci"},"requestParameters":` + request +
		`,"responseElements":` + response + `}`
	e, err := trail.ParseRecord([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExtract(t *testing.T) {
	const r = "eu-west-1"
	cases := []struct {
		source, name, request, response string
		want                            []resource.Resource
	}{
		{"ec2.amazonaws.com", "RunInstances", `{}`, `{"instancesSet":{"items":[{"instanceId":"i-1","instanceType":"p3.2xlarge"},{"instanceId":"i-2","instanceType":"p3.2xlarge"}]}}`,
			[]resource.Resource{{Type: resource.TypeInstance, ID: "i-1", Region: r, Details: map[string]string{"instanceType": "p3.2xlarge"}},
				{Type: resource.TypeInstance, ID: "i-2", Region: r, Details: map[string]string{"instanceType": "p3.2xlarge"}}}},
		{"ec2.amazonaws.com", "RequestSpotInstances", `{}`, `{"spotInstanceRequestSet":{"items":[{"spotInstanceRequestId":"sir-1"}]}}`,
			[]resource.Resource{{Type: resource.TypeSpotRequest, ID: "sir-1", Region: r}}},
		{"ec2.amazonaws.com", "ImportKeyPair", `{"keyName":"ops"}`, `null`,
			[]resource.Resource{{Type: resource.TypeKeyPair, ID: "ops", Region: r}}},
		{"ec2.amazonaws.com", "CreateSecurityGroup", `{"groupName":"web"}`, `{"groupId":"sg-1"}`,
			[]resource.Resource{{Type: resource.TypeSecurityGroup, ID: "sg-1", Region: r, Details: map[string]string{"groupName": "web"}}}},
		// Without the response's rule set, the rule is read from the request.
		{"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", `{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}`, `{"_return":true}`,
			[]resource.Resource{{Type: resource.TypeIngressRule, ID: "sg-1/tcp/22-22/0.0.0.0/0", Region: r,
				Details: map[string]string{"groupId": "sg-1", "protocol": "tcp", "fromPort": "22", "toPort": "22", "cidr": "0.0.0.0/0"}}}},
		// A key the caller made for itself belongs to the caller.
		{"iam.amazonaws.com", "CreateAccessKey", `null`, `{"accessKey":{"accessKeyId":"AKIANEW"}}`,
			[]resource.Resource{{Type: resource.TypeAccessKey, ID: "AKIANEW", Region: resource.GlobalRegion, Details: map[string]string{"userName": "ci"}}}},
		{"iam.amazonaws.com", "CreatePolicy", `{"policyName":"p"}`, `{"policy":{"arn":"arn:aws:iam::1:policy/p"}}`,
			[]resource.Resource{{Type: resource.TypePolicy, ID: "arn:aws:iam::1:policy/p", Region: resource.GlobalRegion}}},
		{"lambda.amazonaws.com", "CreateFunction20150331", `{"functionName":"f"}`, `{"functionName":"f"}`,
			[]resource.Resource{{Type: resource.TypeFunction, ID: "f", Region: r}}},
		{"s3.amazonaws.com", "CreateBucket", `{"bucketName":"b"}`, `null`,
			[]resource.Resource{{Type: resource.TypeBucket, ID: "b", Region: r}}},
		{"ecs.amazonaws.com", "CreateCluster", `{"clusterName":"c"}`, `{"cluster":{"clusterName":"c"}}`,
			[]resource.Resource{{Type: resource.TypeECSCluster, ID: "c", Region: r}}},
		{"ecs.amazonaws.com", "CreateService", `{"cluster":"c"}`, `{"service":{"serviceArn":"arn:s"}}`,
			[]resource.Resource{{Type: resource.TypeECSService, ID: "arn:s", Region: r, Details: map[string]string{"cluster": "c"}}}},
		{"sagemaker.amazonaws.com", "CreateNotebookInstance", `{"notebookInstanceName":"n"}`, `null`,
			[]resource.Resource{{Type: resource.TypeNotebook, ID: "n", Region: r}}},
		{"lightsail.amazonaws.com", "CreateInstances", `{"instanceNames":["a","b"]}`, `null`,
			[]resource.Resource{{Type: resource.TypeLightsail, ID: "a", Region: r}, {Type: resource.TypeLightsail, ID: "b", Region: r}}},
		{"codebuild.amazonaws.com", "CreateProject", `{"name":"p"}`, `null`,
			[]resource.Resource{{Type: resource.TypeCodeBuild, ID: "p", Region: r}}},
		{"glue.amazonaws.com", "CreateDevEndpoint", `{"endpointName":"d"}`, `null`,
			[]resource.Resource{{Type: resource.TypeGlueDevEndpoint, ID: "d", Region: r}}},
		{"ec2.amazonaws.com", "RequestSpotFleet", `{}`, `{"spotFleetRequestId":"sfr-1"}`,
			[]resource.Resource{{Type: resource.TypeSpotFleet, ID: "sfr-1", Region: r}}},
		{"ec2.amazonaws.com", "CreateFleet", `{}`, `{"CreateFleetResponse":{"fleetId":"fleet-1"}}`,
			[]resource.Resource{{Type: resource.TypeEC2Fleet, ID: "fleet-1", Region: r}}},
		{"ec2.amazonaws.com", "CreateLaunchTemplate", `{"CreateLaunchTemplateRequest":{"LaunchTemplateName":"m"}}`,
			`{"CreateLaunchTemplateResponse":{"launchTemplate":{"launchTemplateId":"lt-1","launchTemplateName":"m"}}}`,
			[]resource.Resource{{Type: resource.TypeLaunchTemplate, ID: "lt-1", Region: r, Details: map[string]string{"launchTemplateName": "m"}}}},
		{"autoscaling.amazonaws.com", "CreateAutoScalingGroup", `{"autoScalingGroupName":"g"}`, `null`,
			[]resource.Resource{{Type: resource.TypeAutoScalingGroup, ID: "g", Region: r}}},
		{"ecs.amazonaws.com", "RunTask", `{"cluster":"c"}`, `{"tasks":[{"taskArn":"arn:t","clusterArn":"arn:c","launchType":"FARGATE"}],"failures":[]}`,
			[]resource.Resource{{Type: resource.TypeECSTask, ID: "arn:t", Region: r, Details: map[string]string{"cluster": "arn:c", "launchType": "FARGATE"}}}},
		{"eks.amazonaws.com", "CreateCluster", `{"name":"c"}`, `{"cluster":{"name":"c"}}`,
			[]resource.Resource{{Type: resource.TypeEKSCluster, ID: "c", Region: r}}},
		{"eks.amazonaws.com", "CreateNodegroup", `{"name":"c","nodegroupName":"ng"}`, `null`,
			[]resource.Resource{{Type: resource.TypeEKSNodegroup, ID: "c/ng", Region: r, Details: map[string]string{"cluster": "c", "nodegroup": "ng"}}}},
		{"batch.amazonaws.com", "CreateComputeEnvironment", `{"computeEnvironmentName":"ce"}`, `{"computeEnvironmentName":"ce"}`,
			[]resource.Resource{{Type: resource.TypeBatchComputeEnvironment, ID: "ce", Region: r}}},
		{"sagemaker.amazonaws.com", "CreateEndpoint", `{"endpointName":"e","endpointConfigName":"ec"}`, `null`,
			[]resource.Resource{{Type: resource.TypeSageMakerEndpoint, ID: "e", Region: r, Details: map[string]string{"endpointConfigName": "ec"}}}},
		{"sagemaker.amazonaws.com", "CreateTrainingJob", `{"trainingJobName":"t"}`, `null`,
			[]resource.Resource{{Type: resource.TypeTrainingJob, ID: "t", Region: r}}},
		{"glue.amazonaws.com", "CreateJob", `{"name":"j"}`, `{"name":"j"}`,
			[]resource.Resource{{Type: resource.TypeGlueJob, ID: "j", Region: r}}},
		{"iam.amazonaws.com", "CreateOpenIDConnectProvider", `{"url":"https://token.actions.githubusercontent.com"}`,
			`{"openIDConnectProviderArn":"arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com"}`,
			[]resource.Resource{{Type: resource.TypeOIDCProvider, ID: "arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com", Region: resource.GlobalRegion,
				Details: map[string]string{"url": "https://token.actions.githubusercontent.com"}}}},
		{"iam.amazonaws.com", "CreateSAMLProvider", `{"name":"okta"}`, `{"sAMLProviderArn":"arn:aws:iam::1:saml-provider/okta"}`,
			[]resource.Resource{{Type: resource.TypeSAMLProvider, ID: "arn:aws:iam::1:saml-provider/okta", Region: resource.GlobalRegion, Details: map[string]string{"name": "okta"}}}},
		{"lambda.amazonaws.com", "CreateFunctionUrlConfig20211031", `{"functionName":"f","authType":"NONE"}`,
			`{"functionUrl":"https://x.lambda-url.eu-west-1.on.aws/","functionArn":"arn:aws:lambda:eu-west-1:1:function:f","authType":"NONE"}`,
			[]resource.Resource{{Type: resource.TypeFunctionURL, ID: "f", Region: r, Details: map[string]string{"authType": "NONE", "url": "https://x.lambda-url.eu-west-1.on.aws/"}}}},
		{"ses.amazonaws.com", "VerifyEmailIdentity", `{"emailAddress":"billing@example.net"}`, `null`,
			[]resource.Resource{{Type: resource.TypeSESIdentity, ID: "billing@example.net", Region: r}}},
		{"ses.amazonaws.com", "CreateEmailIdentity", `{"emailIdentity":"example.net"}`, `{"identityType":"DOMAIN"}`,
			[]resource.Resource{{Type: resource.TypeSESIdentity, ID: "example.net", Region: r}}},
		{"ses.amazonaws.com", "UpdateAccountSendingEnabled", `{"enabled":true}`, `null`,
			[]resource.Resource{{Type: resource.TypeSESSending, ID: "account-sending", Region: r}}},
		{"bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration", `null`, `null`,
			[]resource.Resource{{Type: resource.TypeInvocationLogging, ID: "model-invocation-logging", Region: r}}},
		{"guardduty.amazonaws.com", "UpdateDetector", `{"detectorId":"d1","enable":false}`, `null`,
			[]resource.Resource{{Type: resource.TypeDetectorDisabled, ID: "d1", Region: r}}},
		{"guardduty.amazonaws.com", "DeleteDetector", `{"detectorId":"d1"}`, `null`,
			[]resource.Resource{{Type: resource.TypeDetectorDeleted, ID: "d1", Region: r}}},
		{"organizations.amazonaws.com", "LeaveOrganization", `null`, `null`,
			[]resource.Resource{{Type: resource.TypeLeftOrganization, ID: "account", Region: resource.GlobalRegion}}},
		{"s3.amazonaws.com", "PutBucketPolicy", `{"bucketName":"b","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject"}]}}`, `null`,
			[]resource.Resource{{Type: resource.TypeBucketPublic, ID: "b", Region: r}}},
		{"s3.amazonaws.com", "DeletePublicAccessBlock", `{"bucketName":"b","publicAccessBlock":[""]}`, `null`,
			[]resource.Resource{{Type: resource.TypeBucketPublic, ID: "b", Region: r}}},
		// What undoes a change or turns a thing on is no attacker's change.
		{"s3.amazonaws.com", "PutBucketPolicy", `{"bucketName":"b","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject"}]}}`, `null`, nil},
		{"s3.amazonaws.com", "PutPublicAccessBlock", `{"bucketName":"b","PublicAccessBlockConfiguration":{"BlockPublicPolicy":true,"RestrictPublicBuckets":true}}`, `null`, nil},
		{"ses.amazonaws.com", "UpdateAccountSendingEnabled", `{"enabled":false}`, `null`, nil},
		{"guardduty.amazonaws.com", "UpdateDetector", `{"detectorId":"d1","enable":true}`, `null`, nil},
		// Same names in other services create nothing keyleak knows.
		{"emr-containers.amazonaws.com", "CreateCluster", `{"name":"c"}`, `null`, nil},
		{"glue.amazonaws.com", "CreateProject", `{"name":"p"}`, `null`, nil},
		{"gamelift.amazonaws.com", "CreateInstances", `{}`, `null`, nil},
		{"ec2.amazonaws.com", "DescribeInstances", `{}`, `null`, nil},
	}
	for _, c := range cases {
		e := record(t, c.source, c.name, r, c.request, c.response)
		if got := resource.Extract(&e); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.source, c.name, got, c.want)
		}
	}
}
