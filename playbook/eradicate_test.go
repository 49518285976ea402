package playbook_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/evaluate"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
)

// TestEradicateScenario removes what the attacker of github-push created,
// with real SDK clients against the simulator: a dry run changes nothing,
// the run asks once per resource and leaves nothing, and a re-run does
// nothing twice.
func TestEradicateScenario(t *testing.T) {
	ctx := context.Background()
	run, err := evaluate.StartScenario(ctx, "github-push")
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	a, err := run.Assess(assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before, err := assess.Inventory(ctx, run.Clients(), a.Resources)
	if err != nil {
		t.Fatal(err)
	}
	targets := assess.Targets(before, false)
	if len(targets) != 18 {
		t.Fatalf("%d targets, want the 18 resources the attacker made: %+v", len(targets), targets)
	}
	leaked := run.Sim.LeakedKey()
	c, err := playbook.CreateCase(t.TempDir(), leaked, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := run.Config("us-east-1")
	iamc, stsc := iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	newRunner := func(opts ...playbook.Option) *playbook.Runner {
		return playbook.NewRunner(c, iamc, stsc, append(opts, playbook.WithResponderKeyID(run.Responder.AccessKeyID))...)
	}

	// Dry run: the plan, and nothing changed.
	sum, err := newRunner(playbook.WithDryRun(true)).Eradicate(ctx, targets, run.Clients())
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	planned := 0
	for _, s := range sum.Steps[1:] {
		if s.Status != playbook.StatusPlanned {
			t.Errorf("dry run: %s is %s", s.Title, s.Status)
		}
		planned += len(s.Actions)
	}
	var user []string
	for _, s := range sum.Steps {
		if strings.Contains(s.Title, "backup-admin") {
			for _, a := range s.Actions {
				user = append(user, a.Description)
			}
		}
	}
	wantUser := []string{"iam delete-access-key --user-name backup-admin", "iam detach-user-policy --user-name backup-admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess", "iam delete-user --user-name backup-admin"}
	if len(user) != len(wantUser) {
		t.Errorf("user removal plan %q, want %q", user, wantUser)
	}
	for i := range min(len(user), len(wantUser)) {
		if !strings.HasPrefix(user[i], wantUser[i]) {
			t.Errorf("user removal step %d: %q, want %q", i, user[i], wantUser[i])
		}
	}
	same, err := assess.Inventory(ctx, run.Clients(), a.Resources)
	if err != nil {
		t.Fatal(err)
	}
	for i := range same {
		if same[i].State != before[i].State {
			t.Errorf("dry run changed %s %s: %s -> %s", same[i].Type, same[i].ID, before[i].State, same[i].State)
		}
	}

	// Without a confirmation nothing destructive happens.
	sum, err = newRunner().Eradicate(ctx, targets, run.Clients())
	if err != nil {
		t.Fatalf("unconfirmed run: %v", err)
	}
	for _, s := range sum.Steps[1:] {
		if s.Status != playbook.StatusDeclined {
			t.Errorf("unconfirmed: %s is %s", s.Title, s.Status)
		}
	}

	// The run: one confirmation per resource.
	var asked []string
	confirm := func(ctx context.Context, s playbook.Step, actions []playbook.Action) (bool, error) {
		asked = append(asked, s.Title)
		return true, nil
	}
	sum, err = newRunner(playbook.WithConfirm(confirm)).Eradicate(ctx, targets, run.Clients())
	if err != nil {
		t.Fatalf("eradicate: %v", err)
	}
	// The key and the ingress rules go with their user and groups.
	if len(asked) != 14 {
		t.Errorf("asked %d times, want once for each of 14 resources: %q", len(asked), asked)
	}
	done := 0
	for _, s := range sum.Steps[1:] {
		if s.Status != playbook.StatusDone {
			t.Errorf("%s: %s %s", s.Title, s.Status, s.Error)
		}
		done += len(s.Actions)
	}
	if done != planned {
		t.Errorf("done %d actions, the dry run planned %d", done, planned)
	}
	after, err := assess.Inventory(ctx, run.Clients(), a.Resources)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after {
		if r.Verdict == assess.Attacker && r.State != assess.StateGone {
			t.Errorf("%s %s in %s is still %s %s", r.Type, r.ID, r.Region, r.State, r.StateReason)
		}
	}
	for _, tr := range run.Sim.Truth().Resources {
		if tr.Attacker && tr.State != "terminated" && tr.State != "deleted" {
			t.Errorf("truth: attacker's %s %s in %s is %s", tr.Type, tr.ID, tr.Region, tr.State)
		}
	}
	entries, err := playbook.ReadJournal(c.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	intents := map[string]int{}
	step, declared := playbook.LookupStep(playbook.StepEradicate)
	if !declared {
		t.Error("the eradicate step is not in playbook.Steps(), so RequiredActions lacks its calls")
	}
	for _, e := range entries {
		if e.Kind == playbook.KindIntent && e.ActionID != "" {
			intents[e.ActionID]++
		}
		if declared && e.Kind == playbook.KindIntent && e.Step == playbook.StepEradicate && !slices.Contains(step.Calls, e.Action) {
			t.Errorf("eradicate called %s, which it does not declare", e.Action)
		}
	}
	for id, n := range intents {
		if n != 1 {
			t.Errorf("action %s journaled %d times", id, n)
		}
	}
	if len(intents) == 0 || intents["eradicate/DeleteUser/global/backup-admin"] != 1 {
		t.Errorf("journal lacks the user's deletion: %v", intents)
	}

	// Again: nothing is asked or done twice.
	asked = nil
	sum, err = newRunner(playbook.WithConfirm(confirm)).Eradicate(ctx, targets, run.Clients())
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if len(asked) != 0 {
		t.Errorf("re-run asked %q", asked)
	}
	for _, s := range sum.Steps[1:] {
		if s.Status != playbook.StatusAlreadyDone && s.Status != playbook.StatusNothingToDo {
			t.Errorf("re-run: %s is %s", s.Title, s.Status)
		}
	}
}

func TestSelectTargets(t *testing.T) {
	all := []playbook.Target{
		{Type: resource.TypeKeyPair, ID: "aws-mgmt-key", Region: "us-east-1"},
		{Type: resource.TypeKeyPair, ID: "aws-mgmt-key", Region: "eu-west-1"},
		{Type: resource.TypeInstance, ID: "i-0123", Region: "us-east-1"},
	}
	got, err := playbook.SelectTargets(all, []string{"i-0123", "AWS::EC2::KeyPair|eu-west-1|aws-mgmt-key", "i-0123"})
	if err != nil || len(got) != 2 || got[0].ID != "i-0123" || got[1].Region != "eu-west-1" {
		t.Errorf("got %+v, %v", got, err)
	}
	var usage *playbook.UsageError
	if _, err := playbook.SelectTargets(all, []string{"aws-mgmt-key"}); !errors.As(err, &usage) || !strings.Contains(err.Error(), "TYPE|REGION|ID") {
		t.Errorf("ambiguous name: %v", err)
	}
	if _, err := playbook.SelectTargets(all, []string{"i-nope"}); !errors.As(err, &usage) || !strings.Contains(err.Error(), "i-0123") {
		t.Errorf("unknown name: %v", err)
	}
	if playbook.Removable("AWS::S3::Bucket") || !playbook.Removable(resource.TypeUser) {
		t.Error("Removable")
	}
}

// TestEradicateEveryKind removes one resource of each kind the simulator
// serves (a role with its policies, a user with a console password, a
// group membership and an inline policy, a key and a password of an
// existing user, an ingress rule, a key pair, an instance) and reconciles
// an action a crash left unfinished.
func TestEradicateEveryKind(t *testing.T) {
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
	leaked, err := s.AddAccessKey("ci", created, "attacker")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "responder")
	if err != nil {
		t.Fatal(err)
	}
	s.SetLeakedKey(leaked.AccessKeyID)
	const region = "eu-west-1"
	atk := srv.Config(*leaked, region)
	ai, ae := iam.NewFromConfig(atk), ec2.NewFromConfig(atk)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`
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
	key, err := ai.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	must(ai.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("An0ther-secret-pw!")}))
	must(ae.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ops")}))
	sg, err := ae.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	perm := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	must(ae.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{perm}}))
	inst, err := ae.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), KeyName: aws.String("ops")})
	if err != nil {
		t.Fatal(err)
	}
	instanceID := aws.ToString(inst.Instances[0].InstanceId)
	sgID := aws.ToString(sg.GroupId)

	targets := []playbook.Target{
		{Type: resource.TypeRole, ID: "ops-backdoor", Region: "us-east-1"},
		{Type: resource.TypeUser, ID: "svc-sync", Region: "us-east-1"},
		{Type: resource.TypeAccessKey, ID: aws.ToString(key.AccessKey.AccessKeyId), Region: "us-east-1", Details: map[string]string{"userName": "alice"}},
		{Type: resource.TypeLoginProfile, ID: "alice", Region: "us-east-1", Details: map[string]string{"userName": "alice"}},
		{Type: resource.TypeIngressRule, ID: "sgr-1", Region: region, Details: map[string]string{"groupId": sgID, "protocol": "tcp", "fromPort": "22", "toPort": "22", "cidr": "0.0.0.0/0"}},
		{Type: resource.TypeKeyPair, ID: "ops", Region: region},
		{Type: resource.TypeInstance, ID: instanceID, Region: region},
	}
	c, err := playbook.CreateCase(t.TempDir(), leaked.AccessKeyID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A crash after TerminateInstances was sent: the journal has the
	// intent, the instance is terminated, the outcome was never written.
	terminate := "eradicate/TerminateInstances/" + region + "/" + instanceID
	if _, err := c.Journal().Append(playbook.Entry{Time: time.Now(), Kind: playbook.KindIntent, Step: playbook.StepEradicate,
		ActionID: terminate, Action: "ec2:TerminateInstances", Params: map[string]string{"InstanceId": instanceID, "Region": region}}); err != nil {
		t.Fatal(err)
	}
	rc := srv.Config(*resp, region)
	must(ec2.NewFromConfig(rc).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{instanceID}}))

	clients := resource.Clients{
		IAM:    iam.NewFromConfig(rc),
		EC2:    func(r string) resource.EC2 { return ec2.NewFromConfig(srv.Config(*resp, r)) },
		Lambda: func(r string) resource.Lambda { return lambda.NewFromConfig(srv.Config(*resp, r)) },
	}
	yes := playbook.WithConfirm(func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil })
	sum, err := playbook.NewRunner(c, iam.NewFromConfig(rc), sts.NewFromConfig(rc), yes, playbook.WithResponderKeyID(resp.AccessKeyID)).
		Eradicate(ctx, targets, clients)
	if err != nil {
		t.Fatalf("eradicate: %v", err)
	}
	for _, st := range sum.Steps[1:] {
		want := playbook.StatusDone
		if strings.Contains(st.Title, instanceID) {
			want = playbook.StatusAlreadyDone // reconciled with the live state, not redone
		}
		if st.Status != want {
			t.Errorf("%s: %s %s, want %s", st.Title, st.Status, st.Error, want)
		}
	}
	if rec := c.Journal().Action(terminate); !rec.Done {
		t.Errorf("the interrupted termination was not reconciled: %+v", rec)
	}
	ri := iam.NewFromConfig(rc)
	if _, err := ri.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops-backdoor")}); err == nil {
		t.Error("role ops-backdoor still exists")
	}
	if _, err := ri.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("svc-sync")}); err == nil {
		t.Error("user svc-sync still exists")
	}
	if _, err := ri.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}); err == nil {
		t.Error("alice's console password still exists")
	}
	keys, err := ri.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(keys.AccessKeyMetadata) != 0 {
		t.Errorf("alice's keys: %+v %v", keys, err)
	}
	if _, err := ri.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")}); err != nil {
		t.Errorf("alice herself must stay: %v", err)
	}
	groups, err := ec2.NewFromConfig(rc).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgID}})
	if err != nil || len(groups.SecurityGroups) != 1 || len(groups.SecurityGroups[0].IpPermissions) != 0 {
		t.Errorf("group %s: %+v %v, want it kept without its rule", sgID, groups, err)
	}
	if _, err := ec2.NewFromConfig(rc).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"ops"}}); err == nil {
		t.Error("key pair ops still exists")
	}
}
