package resource_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// callRecorder records the IAM action of every SDK call made with its
// config.
type callRecorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *callRecorder) config(cfg aws.Config) aws.Config {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("recordCall", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			r.mu.Lock()
			// Service IDs are names ("Auto Scaling"); IAM prefixes are one word.
			svc := strings.ReplaceAll(strings.ToLower(awsmiddleware.GetServiceID(ctx)), " ", "")
			r.calls = append(r.calls, resource.ActionOf(svc, middleware.GetOperationName(ctx)))
			r.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
	return cfg
}

func (r *callRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// TestKindsAgainstSimulator has an attacker make IAM, EC2 and Lambda
// resources through the SDK, some the attacker's own and some on the
// account's (a key of an existing user, a rule in the default group), finds
// them in its CloudTrail with Extract, and takes each through its kind's
// life with exercise.
func TestKindsAgainstSimulator(t *testing.T) {
	ctx := context.Background()
	s := awssim.New()
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	created := time.Now().Add(-100 * 24 * time.Hour)
	for _, u := range []string{"ci", "responder", "alice"} {
		if err := s.AddUser(u, created, "AdministratorAccess"); err != nil {
			t.Fatal(err)
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	if err := s.AddRole("lambda-exec", trust, created); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.AddAccessKey("ci", created, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "responder")
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeakedKey(leaked.AccessKeyID)

	// The attacker's doing, one of each kind.
	const region = "eu-west-1"
	atk := srv.Config(*leaked, region)
	ai, ae, al := iam.NewFromConfig(atk), ec2.NewFromConfig(atk), lambda.NewFromConfig(atk)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	admin := aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	must(ai.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops-backdoor"), AssumeRolePolicyDocument: aws.String(trust)}))
	must(ai.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ops-backdoor"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allow)}))
	must(ai.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ops-backdoor"), PolicyArn: admin}))
	must(ai.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("svc-sync")}))
	must(ai.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("svc-sync"), Password: aws.String("Sup3r-secret-pw!")}))
	must(ai.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	must(ai.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("svc-sync")}))
	must(ai.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("svc-sync"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allow)}))
	must(ai.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("svc-sync"), PolicyArn: admin}))
	must(ai.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-sync")}))
	must(ai.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))
	must(ai.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("An0ther-secret-pw!")}))
	must(ae.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ops")}))
	sg, err := ae.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	perm := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	must(ae.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{perm}}))
	// A rule in the default group, which is not the attacker's, goes alone.
	def, err := ae.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
	if err != nil || len(def.SecurityGroups) != 1 {
		t.Fatalf("default group: %+v %v", def, err)
	}
	must(ae.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: def.SecurityGroups[0].GroupId, IpPermissions: []ec2types.IpPermission{perm}}))
	must(ae.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		KeyName: aws.String("ops"), SecurityGroupIds: []string{aws.ToString(sg.GroupId)}}))
	must(al.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("sync"), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String("arn:aws:iam::" + s.AccountID() + ":role/lambda-exec"), Handler: aws.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04 code")}}))

	exercised := exercise(t, srv, *resp, leaked.AccessKeyID, []string{"us-east-1", region})
	// The IAM and EC2 kinds' own cases: what goes with its user or group
	// and what goes alone (TestEveryKindAgainstSimulator has every kind).
	for _, typ := range []string{resource.TypeInstance, resource.TypeIngressRule, resource.TypeSecurityGroup, resource.TypeAccessKey,
		resource.TypeLoginProfile, resource.TypeUser, resource.TypeRole, resource.TypeFunction} {
		if !exercised[typ] {
			t.Errorf("no %s was exercised", typ)
		}
	}
}

// exercise finds what the leaked key made in the regions' CloudTrail with
// Extract, and takes each resource through its kind's life with real SDK
// clients of the responder: Check finds it present, Plan and Apply remove
// it, Done and Check find it gone, and removing it again changes nothing.
// Every call made is one the kind declares. It returns the types
// exercised.
func exercise(t *testing.T, srv *awssim.Server, resp awssim.Credential, leaked string, regions []string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	// What the kinds find in the attacker's CloudTrail.
	var found []resource.Resource
	for _, reg := range regions {
		ct := cloudtrail.NewFromConfig(srv.Config(resp, reg), func(o *cloudtrail.Options) { o.RetryMaxAttempts = 10 })
		p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(leaked)}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range page.Events {
				e := trail.ParseLookupEvent(ev)
				if e.ErrorCode == "" {
					found = append(found, resource.Extract(&e)...)
				}
			}
		}
	}
	slices.SortStableFunc(found, func(a, b resource.Resource) int { return resource.Order(a.Type) - resource.Order(b.Type) })
	// A resource several events name (a bucket's policy and its Block
	// Public Access) is one, as the assessment counts it.
	seen := map[string]bool{}
	found = slices.DeleteFunc(found, func(r resource.Resource) bool {
		dup := seen[r.Key()]
		seen[r.Key()] = true
		return dup
	})

	rec := &callRecorder{}
	clients := resource.NewClients(awsapi.NewClients(rec.config(srv.Config(resp, "us-east-1"))))
	keys := map[string]bool{}
	for _, r := range found {
		keys[r.Key()] = true
	}
	exercised := map[string]bool{}
	for _, r := range found {
		k, _ := resource.Lookup(r.Type)
		name := r.Type + " " + r.ID
		if k.RemovedWith != nil {
			// svc-sync's key and password go with svc-sync, alice's alone.
			typ, id := k.RemovedWith(r)
			if keys[resource.Resource{Type: typ, ID: id, Region: r.Region}.Key()] {
				continue
			}
		}
		declared := func() {
			for _, c := range rec.take() {
				if !slices.Contains(k.Calls, c) {
					t.Errorf("%s called %s, which its kind does not declare", name, c)
				}
			}
		}
		if state, reason := k.Check(ctx, &clients, &r); state != resource.StatePresent {
			t.Errorf("%s: %s (%s) before removal", name, state, reason)
			declared()
			continue
		}
		if !k.Removable() {
			declared()
			exercised[r.Type] = true
			continue
		}
		calls, err := k.Plan(ctx, &clients, r)
		if err != nil || len(calls) == 0 {
			t.Errorf("%s: plan %v, %v", name, calls, err)
			continue
		}
		for _, c := range calls {
			if c.Region() == "" || c.Description == "" || c.ID == "" || !strings.HasPrefix(c.ID, c.API+"/") {
				t.Errorf("%s: call %+v is not complete", name, c)
			}
			if _, err := k.Apply(ctx, &clients, c); err != nil {
				t.Errorf("%s: %s: %v", name, c.Description, err)
			}
		}
		last := calls[len(calls)-1]
		if done, err := k.Done(ctx, &clients, last); !done || err != nil {
			t.Errorf("%s: after %s, Done = %v, %v", name, last.Description, done, err)
		}
		if state, reason := k.Check(ctx, &clients, &r); state != resource.StateGone {
			t.Errorf("%s: %s (%s) after removal", name, state, reason)
		}
		// Removal is safe to repeat: done again, it is done or already gone.
		if _, err := k.Apply(ctx, &clients, last); err != nil {
			if _, gone := errors.AsType[*resource.GoneError](err); !gone {
				t.Errorf("%s: %s again: %v", name, last.Description, err)
			}
		}
		declared()
		exercised[r.Type] = true
	}
	return exercised
}

// TestEveryKindAgainstSimulator takes one resource of every kind, made by
// the every-kind scenario's attacker in three regions, through its kind's
// life: every kind keyleak knows is found in CloudTrail, checked, and
// removed or restored, except the managed policy, whose call the
// simulator does not serve (iam:CreatePolicy).
func TestEveryKindAgainstSimulator(t *testing.T) {
	sc, err := awssim.LoadScenario("every-kind")
	if err != nil {
		t.Fatal(err)
	}
	s, err := awssim.NewFromScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	exercised := exercise(t, srv, s.Responder(), s.LeakedKey(), []string{"us-east-1", "eu-west-1", "ap-southeast-1"})
	for _, k := range resource.Kinds() {
		if !exercised[k.Type] && k.Type != resource.TypePolicy {
			t.Errorf("no %s was found and exercised: the every-kind scenario's attacker must make one", k.Type)
		}
	}
	// What keyleak removed is what the simulator shows gone.
	for _, r := range s.Truth().Resources {
		if !r.Attacker || !r.Present() {
			continue
		}
		if k, ok := resource.Lookup(r.Type); ok && k.Removable() {
			t.Errorf("%s %s in %s is still %s after its removal", r.Type, r.ID, r.Region, r.State)
		}
	}
}
