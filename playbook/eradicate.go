package playbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// StepEradicate removes what the attacker created, one confirmation per
// resource.
const StepEradicate = "eradicate"

// Resource types the eradicate step removes (CloudFormation style, as the
// assessment names them).
const (
	TargetInstance      = "AWS::EC2::Instance"
	TargetSpotRequest   = "AWS::EC2::SpotInstanceRequest"
	TargetKeyPair       = "AWS::EC2::KeyPair"
	TargetSecurityGroup = "AWS::EC2::SecurityGroup"
	TargetIngressRule   = "AWS::EC2::SecurityGroupIngress"
	TargetFunction      = "AWS::Lambda::Function"
	TargetUser          = "AWS::IAM::User"
	TargetAccessKey     = "AWS::IAM::AccessKey"
	TargetLoginProfile  = "AWS::IAM::LoginProfile"
	TargetRole          = "AWS::IAM::Role"
)

// targetOrder is the order of removal: what runs first (instances, which
// hold security groups and key pairs in use), IAM last, so that a
// responder who stops halfway has stopped the spending first.
var targetOrder = []string{TargetSpotRequest, TargetInstance, TargetFunction, TargetIngressRule, TargetSecurityGroup,
	TargetKeyPair, TargetAccessKey, TargetLoginProfile, TargetUser, TargetRole}

// Target is one resource to remove, as the assessment's inventory lists it.
// Details carry what removal needs besides the ID: userName for an access
// key or login profile; groupId, protocol, fromPort, toPort and cidr for an
// ingress rule.
type Target struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Region  string            `json:"region"`
	Details map[string]string `json:"details,omitempty"`
}

// Key names the target: type, region and ID, as --yes lists take them.
func (t Target) Key() string { return t.Type + "|" + t.Region + "|" + t.ID }

// String is how the plan and the prompt name the target.
func (t Target) String() string {
	return fmt.Sprintf("%s %s (%s)", strings.TrimPrefix(t.Type, "AWS::"), t.ID, t.Region)
}

// EradicateEC2 is the EC2 part of eradication in one region; *ec2.Client
// satisfies it.
type EradicateEC2 interface {
	TerminateInstances(ctx context.Context, params *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DescribeInstances(ctx context.Context, params *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	CancelSpotInstanceRequests(ctx context.Context, params *ec2.CancelSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.CancelSpotInstanceRequestsOutput, error)
	DeleteKeyPair(ctx context.Context, params *ec2.DeleteKeyPairInput, optFns ...func(*ec2.Options)) (*ec2.DeleteKeyPairOutput, error)
	DescribeKeyPairs(ctx context.Context, params *ec2.DescribeKeyPairsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error)
	RevokeSecurityGroupIngress(ctx context.Context, params *ec2.RevokeSecurityGroupIngressInput, optFns ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
	DeleteSecurityGroup(ctx context.Context, params *ec2.DeleteSecurityGroupInput, optFns ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error)
	DescribeSecurityGroups(ctx context.Context, params *ec2.DescribeSecurityGroupsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// EradicateLambda is the Lambda part of eradication in one region;
// *lambda.Client satisfies it.
type EradicateLambda interface {
	DeleteFunction(ctx context.Context, params *lambda.DeleteFunctionInput, optFns ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	GetFunction(ctx context.Context, params *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
}

// EradicateIAM is the IAM part of eradication: removing a user completely
// (keys, login profile, inline and attached policies, groups) or a role;
// *iam.Client satisfies it.
type EradicateIAM interface {
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
}

var (
	_ EradicateEC2    = (*ec2.Client)(nil)
	_ EradicateLambda = (*lambda.Client)(nil)
	_ EradicateIAM    = (*iam.Client)(nil)
)

// EradicateClients are the clients the eradicate step removes resources
// with: IAM, and EC2 and Lambda per region.
type EradicateClients struct {
	IAM    EradicateIAM
	EC2    func(region string) EradicateEC2
	Lambda func(region string) EradicateLambda
}

// eradicateCalls is every AWS action eradication may make, in Plan, Check
// or Apply; RequiredActions derives from it through the step's Calls.
var eradicateCalls = []string{
	"ec2:TerminateInstances", "ec2:DescribeInstances", "ec2:CancelSpotInstanceRequests",
	"ec2:DeleteKeyPair", "ec2:DescribeKeyPairs", "ec2:RevokeSecurityGroupIngress",
	"ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups",
	"lambda:DeleteFunction", "lambda:GetFunction",
	"iam:GetUser", "iam:DeleteUser", "iam:ListAccessKeys", "iam:DeleteAccessKey",
	"iam:GetLoginProfile", "iam:DeleteLoginProfile", "iam:ListUserPolicies", "iam:DeleteUserPolicy",
	"iam:ListAttachedUserPolicies", "iam:DetachUserPolicy", "iam:ListGroupsForUser", "iam:RemoveUserFromGroup",
	"iam:GetRole", "iam:DeleteRole", "iam:ListRolePolicies", "iam:DeleteRolePolicy",
	"iam:ListAttachedRolePolicies", "iam:DetachRolePolicy",
}

const eradicateWhy = "Whatever the attacker created keeps costing money or keeps a door open after the key is stopped: " +
	"instances mine, backdoor users and keys let the attacker back in. Each resource is removed only when you confirm it."

// eradicateStep is the step's declaration in Steps(): its Calls feed
// RequiredActions. It needs the resources the investigation found, so it
// does its work through Runner.Eradicate; run by ID alone it plans nothing.
func eradicateStep() Step {
	return Step{
		ID:          StepEradicate,
		Title:       "Remove what the attacker created",
		Why:         eradicateWhy,
		Destructive: true,
		Idempotent:  true,
		Optional:    true,
		Calls:       eradicateCalls,
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			st.Warn("step %s removes the resources an investigation found: it runs through Runner.Eradicate with them, and has nothing to do on its own", StepEradicate)
			return nil, nil
		},
	}
}

// SelectTargets picks the targets named by keys (Target.Key, or the bare
// resource ID when it is unambiguous), for --yes with an explicit list. An
// unknown name is a usage error that lists the known ones.
func SelectTargets(all []Target, names []string) ([]Target, error) {
	var out []Target
	for _, n := range names {
		var hits []Target
		for _, t := range all {
			if t.Key() == n || t.ID == n {
				hits = append(hits, t)
			}
		}
		switch len(hits) {
		case 1:
			if !slices.ContainsFunc(out, func(t Target) bool { return t.Key() == hits[0].Key() }) {
				out = append(out, hits[0])
			}
		case 0:
			var known []string
			for _, t := range all {
				known = append(known, t.ID)
			}
			return nil, &UsageError{Reason: fmt.Sprintf("no resource %q to remove; the resources are: %s", n, strings.Join(known, ", "))}
		default:
			return nil, &UsageError{Reason: fmt.Sprintf("%q names %d resources (one per region); give TYPE|REGION|ID", n, len(hits))}
		}
	}
	return out, nil
}

// Eradicate removes the targets, one step run per resource: the runner
// plans its exact calls (reading the live state, e.g. a user's keys and
// policies), asks the confirm hook once for that resource, journals every
// call before and after, and on a re-run skips what the journal shows done.
// Identify runs first, as in every run. Without a confirm hook nothing is
// removed (the step is destructive); in a dry run the plan is journaled
// only. Resources made moot by another target (a user's keys when the user
// goes) are folded into it. A failed resource does not stop the others;
// the run then returns a *PartialError.
func (r *Runner) Eradicate(ctx context.Context, targets []Target, clients EradicateClients) (*Summary, error) {
	if err := ValidateKeyID(r.c.Meta().KeyID); err != nil {
		return nil, err
	}
	targets, err := orderTargets(targets)
	if err != nil {
		return nil, err
	}
	st := r.newState(nil)
	sum := &Summary{Case: r.c.Dir(), KeyID: st.KeyID, DryRun: r.dryRun}
	mode := ""
	if r.dryRun {
		mode = " (dry run: nothing will be changed)"
	}
	if err := r.journal(Entry{Kind: KindNote, Message: fmt.Sprintf("eradicate started for %s: %d resource(s)%s", st.KeyID, len(targets), mode)}); err != nil {
		return nil, err
	}
	finish := func(runErr error) (*Summary, error) {
		r.readBack(ctx, st)
		r.fillSummary(sum, st)
		if runErr == nil {
			_ = r.journal(Entry{Kind: KindNote, Message: "eradicate finished"})
		} else {
			_ = r.journal(Entry{Kind: KindNote, Message: "eradicate stopped: " + runErr.Error()})
		}
		if !r.dryRun {
			sum.JournalHead = r.c.Journal().Head()
		}
		return sum, runErr
	}
	sr, err := r.runStep(ctx, st, identifyStep(), true, nil)
	sum.Steps = append(sum.Steps, sr)
	if err != nil {
		return finish(err)
	}
	if !r.dryRun && st.Responder.Account != "" {
		if err := r.c.SetAccount(st.Responder.Account); err != nil {
			return finish(err)
		}
	}
	rec := &recorder{j: st.journal, now: st.Now, state: st}
	var jc EradicateClients
	if clients.IAM != nil {
		jc.IAM = journaledEradicateIAM{c: clients.IAM, r: rec}
	}
	if clients.EC2 != nil {
		jc.EC2 = func(region string) EradicateEC2 { return journaledEC2{c: clients.EC2(region), r: rec} }
	}
	if clients.Lambda != nil {
		jc.Lambda = func(region string) EradicateLambda { return journaledLambda{c: clients.Lambda(region), r: rec} }
	}
	var (
		done      []string
		firstFail error
	)
	for _, t := range targets {
		s := targetStep(t, jc)
		sr, err := r.runStep(ctx, st, s, false, nil)
		sr.Title = s.Title
		sum.Steps = append(sum.Steps, sr)
		if err == nil {
			if sr.Status == StatusDone || sr.Status == StatusAlreadyDone {
				done = append(done, t.Key())
			}
			continue
		}
		if ctx.Err() != nil {
			return finish(errors.Join(err, ctx.Err()))
		}
		if firstFail == nil {
			firstFail = fmt.Errorf("remove %s: %w", t, err)
		}
	}
	if firstFail != nil {
		return finish(&PartialError{Step: StepEradicate, Done: done, Err: firstFail})
	}
	return finish(nil)
}

// orderTargets checks the targets, drops those another target removes with
// it (an access key or login profile of a user being removed, an ingress
// rule of a group being deleted) and sorts them into removal order.
func orderTargets(in []Target) ([]Target, error) {
	users, groups := map[string]bool{}, map[string]bool{}
	for _, t := range in {
		if !slices.Contains(targetOrder, t.Type) {
			return nil, &UsageError{Reason: fmt.Sprintf("keyleak cannot remove %s %s; remove it by hand", t.Type, t.ID)}
		}
		if t.ID == "" {
			return nil, &UsageError{Reason: fmt.Sprintf("a %s target has no ID", t.Type)}
		}
		switch t.Type {
		case TargetUser:
			users[t.ID] = true
		case TargetSecurityGroup:
			groups[t.Region+"|"+t.ID] = true
		}
	}
	var out []Target
	seen := map[string]bool{}
	for _, t := range in {
		switch {
		case seen[t.Key()]:
			continue
		case (t.Type == TargetAccessKey || t.Type == TargetLoginProfile) && users[t.Details["userName"]]:
			continue
		case t.Type == TargetIngressRule && groups[t.Region+"|"+t.Details["groupId"]]:
			continue
		}
		seen[t.Key()] = true
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return slices.Index(targetOrder, out[i].Type) < slices.Index(targetOrder, out[j].Type)
	})
	return out, nil
}

// targetStep is the eradicate step for one resource: the runner confirms
// each resource on its own.
func targetStep(t Target, c EradicateClients) Step {
	s := eradicateStep()
	s.Title = "Remove " + t.String()
	s.Plan = func(ctx context.Context, st *State) ([]Action, error) { return planTarget(ctx, c, t) }
	s.Apply = func(ctx context.Context, st *State, a Action) error { return applyRemoval(ctx, c, a) }
	s.Check = func(ctx context.Context, st *State, a Action) (bool, error) { return checkRemoval(ctx, c, a) }
	return s
}

// removal builds one planned call. The ID names the API and the object, so
// the journal tells whether it was done.
func removal(service, api, region string, params map[string]string, desc string, idParts ...string) Action {
	params["Region"] = region
	return Action{
		ID:      StepEradicate + "/" + api + "/" + strings.Join(append([]string{region}, idParts...), "/"),
		Service: service, Name: api, Params: params, Description: desc,
	}
}

func needClient[T any](f func(string) T, svc string) error {
	if f == nil {
		return fmt.Errorf("plan removal: no %s client", svc)
	}
	return nil
}

// planTarget returns the exact calls that remove t, reading the live state
// where the calls depend on it. A resource already gone plans nothing.
func planTarget(ctx context.Context, c EradicateClients, t Target) ([]Action, error) {
	reg := t.Region
	if strings.HasPrefix(t.Type, "AWS::IAM::") && c.IAM == nil {
		return nil, fmt.Errorf("plan removal: no IAM client")
	}
	switch t.Type {
	case TargetInstance:
		if err := needClient(c.EC2, "EC2"); err != nil {
			return nil, err
		}
		return []Action{removal("ec2", "TerminateInstances", reg, map[string]string{"InstanceId": t.ID},
			fmt.Sprintf("ec2 terminate-instances --region %s --instance-ids %s", reg, t.ID), t.ID)}, nil
	case TargetSpotRequest:
		if err := needClient(c.EC2, "EC2"); err != nil {
			return nil, err
		}
		return []Action{removal("ec2", "CancelSpotInstanceRequests", reg, map[string]string{"SpotInstanceRequestId": t.ID},
			fmt.Sprintf("ec2 cancel-spot-instance-requests --region %s --spot-instance-request-ids %s", reg, t.ID), t.ID)}, nil
	case TargetKeyPair:
		if err := needClient(c.EC2, "EC2"); err != nil {
			return nil, err
		}
		return []Action{removal("ec2", "DeleteKeyPair", reg, map[string]string{"KeyName": t.ID},
			fmt.Sprintf("ec2 delete-key-pair --region %s --key-name %s", reg, t.ID), t.ID)}, nil
	case TargetSecurityGroup:
		if err := needClient(c.EC2, "EC2"); err != nil {
			return nil, err
		}
		return []Action{removal("ec2", "DeleteSecurityGroup", reg, map[string]string{"GroupId": t.ID},
			fmt.Sprintf("ec2 delete-security-group --region %s --group-id %s", reg, t.ID), t.ID)}, nil
	case TargetIngressRule:
		if err := needClient(c.EC2, "EC2"); err != nil {
			return nil, err
		}
		d := t.Details
		p := map[string]string{"GroupId": d["groupId"], "Protocol": d["protocol"], "FromPort": d["fromPort"], "ToPort": d["toPort"], "Cidr": d["cidr"], "RuleId": t.ID}
		desc := fmt.Sprintf("ec2 revoke-security-group-ingress --region %s --group-id %s --ip-permissions IpProtocol=%s,FromPort=%s,ToPort=%s,IpRanges=[{CidrIp=%s}]",
			reg, d["groupId"], d["protocol"], d["fromPort"], d["toPort"], d["cidr"])
		return []Action{removal("ec2", "RevokeSecurityGroupIngress", reg, p, desc, t.ID)}, nil
	case TargetFunction:
		if err := needClient(c.Lambda, "Lambda"); err != nil {
			return nil, err
		}
		return []Action{removal("lambda", "DeleteFunction", reg, map[string]string{"FunctionName": t.ID},
			fmt.Sprintf("lambda delete-function --region %s --function-name %s", reg, t.ID), t.ID)}, nil
	case TargetAccessKey:
		u := t.Details["userName"]
		return []Action{removal("iam", "DeleteAccessKey", "global", map[string]string{"UserName": u, "AccessKeyId": t.ID},
			fmt.Sprintf("iam delete-access-key --user-name %s --access-key-id %s", u, t.ID), u, t.ID)}, nil
	case TargetLoginProfile:
		u := t.Details["userName"]
		if u == "" {
			u = t.ID
		}
		return []Action{removal("iam", "DeleteLoginProfile", "global", map[string]string{"UserName": u},
			fmt.Sprintf("iam delete-login-profile --user-name %s", u), u)}, nil
	case TargetUser:
		return planUser(ctx, c.IAM, t.ID)
	case TargetRole:
		return planRole(ctx, c.IAM, t.ID)
	}
	return nil, &UsageError{Reason: fmt.Sprintf("keyleak cannot remove %s %s", t.Type, t.ID)}
}

// planUser lists everything that must go before DeleteUser succeeds: access
// keys, the console password, inline and attached policies, group
// memberships; then the user.
func planUser(ctx context.Context, api EradicateIAM, user string) ([]Action, error) {
	if _, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)}); isNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read user %s: %w", user, err)
	}
	var out []Action
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list access keys of %s: %w", user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			id := aws.ToString(k.AccessKeyId)
			out = append(out, removal("iam", "DeleteAccessKey", "global", map[string]string{"UserName": user, "AccessKeyId": id},
				fmt.Sprintf("iam delete-access-key --user-name %s --access-key-id %s", user, id), user, id))
		}
	}
	_, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	switch {
	case err == nil:
		out = append(out, removal("iam", "DeleteLoginProfile", "global", map[string]string{"UserName": user},
			"iam delete-login-profile --user-name "+user, user))
	case !isNotFound(err):
		return nil, fmt.Errorf("read login profile of %s: %w", user, err)
	}
	ip := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of %s: %w", user, err)
		}
		for _, n := range page.PolicyNames {
			out = append(out, removal("iam", "DeleteUserPolicy", "global", map[string]string{"UserName": user, "PolicyName": n},
				fmt.Sprintf("iam delete-user-policy --user-name %s --policy-name %s", user, n), user, n))
		}
	}
	ap := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of %s: %w", user, err)
		}
		for _, p := range page.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			out = append(out, removal("iam", "DetachUserPolicy", "global", map[string]string{"UserName": user, "PolicyArn": arn},
				fmt.Sprintf("iam detach-user-policy --user-name %s --policy-arn %s", user, arn), user, arn))
		}
	}
	gp := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for gp.HasMorePages() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list groups of %s: %w", user, err)
		}
		for _, g := range page.Groups {
			name := aws.ToString(g.GroupName)
			out = append(out, removal("iam", "RemoveUserFromGroup", "global", map[string]string{"UserName": user, "GroupName": name},
				fmt.Sprintf("iam remove-user-from-group --user-name %s --group-name %s", user, name), user, name))
		}
	}
	return append(out, removal("iam", "DeleteUser", "global", map[string]string{"UserName": user}, "iam delete-user --user-name "+user, user)), nil
}

// planRole lists the role's inline and attached policies, then the role.
func planRole(ctx context.Context, api EradicateIAM, role string) ([]Action, error) {
	if _, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); isNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read role %s: %w", role, err)
	}
	var out []Action
	ip := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(role)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list inline policies of role %s: %w", role, err)
		}
		for _, n := range page.PolicyNames {
			out = append(out, removal("iam", "DeleteRolePolicy", "global", map[string]string{"RoleName": role, "PolicyName": n},
				fmt.Sprintf("iam delete-role-policy --role-name %s --policy-name %s", role, n), role, n))
		}
	}
	ap := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list attached policies of role %s: %w", role, err)
		}
		for _, p := range page.AttachedPolicies {
			arn := aws.ToString(p.PolicyArn)
			out = append(out, removal("iam", "DetachRolePolicy", "global", map[string]string{"RoleName": role, "PolicyArn": arn},
				fmt.Sprintf("iam detach-role-policy --role-name %s --policy-arn %s", role, arn), role, arn))
		}
	}
	return append(out, removal("iam", "DeleteRole", "global", map[string]string{"RoleName": role}, "iam delete-role --role-name "+role, role)), nil
}

// ec2NotFound are the codes of EC2 objects that do not exist (any more).
var ec2NotFound = []string{"InvalidInstanceID.NotFound", "InvalidKeyPair.NotFound", "InvalidGroup.NotFound",
	"InvalidGroupId.NotFound", "InvalidSpotInstanceRequestID.NotFound", "InvalidPermission.NotFound"}

// applyRemoval makes the one call of a planned removal. A resource found
// already gone is AlreadyDone, not an error.
func applyRemoval(ctx context.Context, c EradicateClients, a Action) error {
	p := a.Params
	reg := p["Region"]
	gone := func(err error, what string) error {
		if isNotFound(err) || isCode(err, ec2NotFound...) || isCode(err, "ResourceNotFoundException") {
			return AlreadyDone(what + " was already gone")
		}
		if err != nil {
			return fmt.Errorf("%s: %w", strings.ToLower(a.Name[:1])+a.Name[1:], err)
		}
		return nil
	}
	var err error
	switch a.Name {
	case "TerminateInstances":
		_, err = c.EC2(reg).TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{p["InstanceId"]}})
		return gone(err, "instance "+p["InstanceId"])
	case "CancelSpotInstanceRequests":
		_, err = c.EC2(reg).CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{p["SpotInstanceRequestId"]}})
		return gone(err, "spot request "+p["SpotInstanceRequestId"])
	case "DeleteKeyPair":
		_, err = c.EC2(reg).DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(p["KeyName"])})
		return gone(err, "key pair "+p["KeyName"])
	case "DeleteSecurityGroup":
		_, err = c.EC2(reg).DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(p["GroupId"])})
		if isCode(err, "DependencyViolation") {
			return fmt.Errorf("delete security group %s: instances still use it; run again once they are terminated: %w", p["GroupId"], err)
		}
		return gone(err, "security group "+p["GroupId"])
	case "RevokeSecurityGroupIngress":
		perm, perr := ingressPermission(p)
		if perr != nil {
			return perr
		}
		_, err = c.EC2(reg).RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(p["GroupId"]), IpPermissions: []ec2types.IpPermission{perm}})
		return gone(err, "the rule of "+p["GroupId"])
	case "DeleteFunction":
		_, err = c.Lambda(reg).DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(p["FunctionName"])})
		return gone(err, "function "+p["FunctionName"])
	case "DeleteAccessKey":
		_, err = c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(p["UserName"]), AccessKeyId: aws.String(p["AccessKeyId"])})
		return gone(err, "access key "+p["AccessKeyId"])
	case "DeleteLoginProfile":
		_, err = c.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(p["UserName"])})
		return gone(err, "the console password of "+p["UserName"])
	case "DeleteUserPolicy":
		_, err = c.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(p["UserName"]), PolicyName: aws.String(p["PolicyName"])})
		return gone(err, "policy "+p["PolicyName"])
	case "DetachUserPolicy":
		_, err = c.IAM.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(p["UserName"]), PolicyArn: aws.String(p["PolicyArn"])})
		return gone(err, "the attachment of "+p["PolicyArn"])
	case "RemoveUserFromGroup":
		_, err = c.IAM.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String(p["UserName"]), GroupName: aws.String(p["GroupName"])})
		return gone(err, "the membership in "+p["GroupName"])
	case "DeleteUser":
		_, err = c.IAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(p["UserName"])})
		return gone(err, "user "+p["UserName"])
	case "DeleteRolePolicy":
		_, err = c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(p["RoleName"]), PolicyName: aws.String(p["PolicyName"])})
		return gone(err, "policy "+p["PolicyName"])
	case "DetachRolePolicy":
		_, err = c.IAM.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(p["RoleName"]), PolicyArn: aws.String(p["PolicyArn"])})
		return gone(err, "the attachment of "+p["PolicyArn"])
	case "DeleteRole":
		_, err = c.IAM.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(p["RoleName"])})
		return gone(err, "role "+p["RoleName"])
	}
	return fmt.Errorf("apply removal: unknown call %s", a.Name)
}

// ingressPermission rebuilds the permission to revoke from the action.
func ingressPermission(p map[string]string) (ec2types.IpPermission, error) {
	perm := ec2types.IpPermission{IpProtocol: aws.String(p["Protocol"])}
	for _, f := range []struct {
		name string
		dst  **int32
	}{{"FromPort", &perm.FromPort}, {"ToPort", &perm.ToPort}} {
		if v := p[f.name]; v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				return perm, fmt.Errorf("revoke ingress: %s %q is not a port", f.name, v)
			}
			*f.dst = aws.Int32(int32(n))
		}
	}
	if cidr := p["Cidr"]; strings.Contains(cidr, ":") {
		perm.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(cidr)}}
	} else {
		perm.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr)}}
	}
	return perm, nil
}

// checkRemoval reads whether an interrupted removal took effect.
func checkRemoval(ctx context.Context, c EradicateClients, a Action) (bool, error) {
	p := a.Params
	reg := p["Region"]
	absent := func(err error) (bool, error) {
		switch {
		case err == nil:
			return false, nil
		case isNotFound(err) || isCode(err, ec2NotFound...) || isCode(err, "ResourceNotFoundException"):
			return true, nil
		}
		return false, fmt.Errorf("check removal %s: %w", a.ID, err)
	}
	switch a.Name {
	case "TerminateInstances":
		out, err := c.EC2(reg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{p["InstanceId"]}})
		if err != nil {
			return absent(err)
		}
		for _, res := range out.Reservations {
			for _, in := range res.Instances {
				if in.State != nil && in.State.Name != ec2types.InstanceStateNameTerminated && in.State.Name != ec2types.InstanceStateNameShuttingDown {
					return false, nil
				}
			}
		}
		return true, nil
	case "DeleteKeyPair":
		_, err := c.EC2(reg).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{p["KeyName"]}})
		return absent(err)
	case "DeleteSecurityGroup":
		_, err := c.EC2(reg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p["GroupId"]}})
		return absent(err)
	case "RevokeSecurityGroupIngress":
		out, err := c.EC2(reg).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p["GroupId"]}})
		if err != nil {
			return absent(err)
		}
		for _, sg := range out.SecurityGroups {
			for _, perm := range sg.IpPermissions {
				if aws.ToString(perm.IpProtocol) == p["Protocol"] && portIs(perm.FromPort, p["FromPort"]) && portIs(perm.ToPort, p["ToPort"]) &&
					slices.ContainsFunc(perm.IpRanges, func(r ec2types.IpRange) bool { return aws.ToString(r.CidrIp) == p["Cidr"] }) {
					return false, nil
				}
			}
		}
		return true, nil
	case "DeleteFunction":
		_, err := c.Lambda(reg).GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(p["FunctionName"])})
		return absent(err)
	case "DeleteAccessKey":
		out, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(p["UserName"])})
		if err != nil {
			return absent(err)
		}
		return !slices.ContainsFunc(out.AccessKeyMetadata, func(k iamtypes.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == p["AccessKeyId"] }), nil
	case "DeleteLoginProfile":
		_, err := c.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(p["UserName"])})
		return absent(err)
	case "DeleteUser":
		_, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(p["UserName"])})
		return absent(err)
	case "DeleteRole":
		_, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(p["RoleName"])})
		return absent(err)
	}
	// Detaching, removing from a group, deleting an inline policy and
	// cancelling a spot request can be repeated safely: not checked, redone.
	return false, nil
}

func portIs(p *int32, want string) bool {
	return want == "" || strconv.Itoa(int(aws.ToInt32(p))) == want
}

// journaledEC2 is an EradicateEC2 that journals each call.
type journaledEC2 struct {
	c EradicateEC2
	r *recorder
}

// journaledLambda is an EradicateLambda that journals each call.
type journaledLambda struct {
	c EradicateLambda
	r *recorder
}

// journaledEradicateIAM is an EradicateIAM that journals each call.
type journaledEradicateIAM struct {
	c EradicateIAM
	r *recorder
}

func (s journaledEC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, o ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	return record(ctx, s.r, "ec2", "TerminateInstances", in, func() (*ec2.TerminateInstancesOutput, error) { return s.c.TerminateInstances(ctx, in, o...) })
}

func (s journaledEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return record(ctx, s.r, "ec2", "DescribeInstances", in, func() (*ec2.DescribeInstancesOutput, error) { return s.c.DescribeInstances(ctx, in, o...) })
}

func (s journaledEC2) CancelSpotInstanceRequests(ctx context.Context, in *ec2.CancelSpotInstanceRequestsInput, o ...func(*ec2.Options)) (*ec2.CancelSpotInstanceRequestsOutput, error) {
	return record(ctx, s.r, "ec2", "CancelSpotInstanceRequests", in, func() (*ec2.CancelSpotInstanceRequestsOutput, error) {
		return s.c.CancelSpotInstanceRequests(ctx, in, o...)
	})
}

func (s journaledEC2) DeleteKeyPair(ctx context.Context, in *ec2.DeleteKeyPairInput, o ...func(*ec2.Options)) (*ec2.DeleteKeyPairOutput, error) {
	return record(ctx, s.r, "ec2", "DeleteKeyPair", in, func() (*ec2.DeleteKeyPairOutput, error) { return s.c.DeleteKeyPair(ctx, in, o...) })
}

func (s journaledEC2) DescribeKeyPairs(ctx context.Context, in *ec2.DescribeKeyPairsInput, o ...func(*ec2.Options)) (*ec2.DescribeKeyPairsOutput, error) {
	return record(ctx, s.r, "ec2", "DescribeKeyPairs", in, func() (*ec2.DescribeKeyPairsOutput, error) { return s.c.DescribeKeyPairs(ctx, in, o...) })
}

func (s journaledEC2) RevokeSecurityGroupIngress(ctx context.Context, in *ec2.RevokeSecurityGroupIngressInput, o ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	return record(ctx, s.r, "ec2", "RevokeSecurityGroupIngress", in, func() (*ec2.RevokeSecurityGroupIngressOutput, error) {
		return s.c.RevokeSecurityGroupIngress(ctx, in, o...)
	})
}

func (s journaledEC2) DeleteSecurityGroup(ctx context.Context, in *ec2.DeleteSecurityGroupInput, o ...func(*ec2.Options)) (*ec2.DeleteSecurityGroupOutput, error) {
	return record(ctx, s.r, "ec2", "DeleteSecurityGroup", in, func() (*ec2.DeleteSecurityGroupOutput, error) { return s.c.DeleteSecurityGroup(ctx, in, o...) })
}

func (s journaledEC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, o ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return record(ctx, s.r, "ec2", "DescribeSecurityGroups", in, func() (*ec2.DescribeSecurityGroupsOutput, error) { return s.c.DescribeSecurityGroups(ctx, in, o...) })
}

func (s journaledLambda) DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, o ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error) {
	return record(ctx, s.r, "lambda", "DeleteFunction", in, func() (*lambda.DeleteFunctionOutput, error) { return s.c.DeleteFunction(ctx, in, o...) })
}

func (s journaledLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, o ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	return record(ctx, s.r, "lambda", "GetFunction", in, func() (*lambda.GetFunctionOutput, error) { return s.c.GetFunction(ctx, in, o...) })
}

func (s journaledEradicateIAM) GetUser(ctx context.Context, in *iam.GetUserInput, o ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return record(ctx, s.r, "iam", "GetUser", in, func() (*iam.GetUserOutput, error) { return s.c.GetUser(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteUser(ctx context.Context, in *iam.DeleteUserInput, o ...func(*iam.Options)) (*iam.DeleteUserOutput, error) {
	return record(ctx, s.r, "iam", "DeleteUser", in, func() (*iam.DeleteUserOutput, error) { return s.c.DeleteUser(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, o ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return record(ctx, s.r, "iam", "ListAccessKeys", in, func() (*iam.ListAccessKeysOutput, error) { return s.c.ListAccessKeys(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, o ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteAccessKey", in, func() (*iam.DeleteAccessKeyOutput, error) { return s.c.DeleteAccessKey(ctx, in, o...) })
}

func (s journaledEradicateIAM) GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, o ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error) {
	return record(ctx, s.r, "iam", "GetLoginProfile", in, func() (*iam.GetLoginProfileOutput, error) { return s.c.GetLoginProfile(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteLoginProfile(ctx context.Context, in *iam.DeleteLoginProfileInput, o ...func(*iam.Options)) (*iam.DeleteLoginProfileOutput, error) {
	return record(ctx, s.r, "iam", "DeleteLoginProfile", in, func() (*iam.DeleteLoginProfileOutput, error) { return s.c.DeleteLoginProfile(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, o ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListUserPolicies", in, func() (*iam.ListUserPoliciesOutput, error) { return s.c.ListUserPolicies(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, o ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteUserPolicy", in, func() (*iam.DeleteUserPolicyOutput, error) { return s.c.DeleteUserPolicy(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListAttachedUserPolicies", in, func() (*iam.ListAttachedUserPoliciesOutput, error) {
		return s.c.ListAttachedUserPolicies(ctx, in, o...)
	})
}

func (s journaledEradicateIAM) DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, o ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error) {
	return record(ctx, s.r, "iam", "DetachUserPolicy", in, func() (*iam.DetachUserPolicyOutput, error) { return s.c.DetachUserPolicy(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, o ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	return record(ctx, s.r, "iam", "ListGroupsForUser", in, func() (*iam.ListGroupsForUserOutput, error) { return s.c.ListGroupsForUser(ctx, in, o...) })
}

func (s journaledEradicateIAM) RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, o ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error) {
	return record(ctx, s.r, "iam", "RemoveUserFromGroup", in, func() (*iam.RemoveUserFromGroupOutput, error) { return s.c.RemoveUserFromGroup(ctx, in, o...) })
}

func (s journaledEradicateIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return record(ctx, s.r, "iam", "GetRole", in, func() (*iam.GetRoleOutput, error) { return s.c.GetRole(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, o ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	return record(ctx, s.r, "iam", "DeleteRole", in, func() (*iam.DeleteRoleOutput, error) { return s.c.DeleteRole(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListRolePolicies", in, func() (*iam.ListRolePoliciesOutput, error) { return s.c.ListRolePolicies(ctx, in, o...) })
}

func (s journaledEradicateIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, o ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "DeleteRolePolicy", in, func() (*iam.DeleteRolePolicyOutput, error) { return s.c.DeleteRolePolicy(ctx, in, o...) })
}

func (s journaledEradicateIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return record(ctx, s.r, "iam", "ListAttachedRolePolicies", in, func() (*iam.ListAttachedRolePoliciesOutput, error) {
		return s.c.ListAttachedRolePolicies(ctx, in, o...)
	})
}

func (s journaledEradicateIAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, o ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	return record(ctx, s.r, "iam", "DetachRolePolicy", in, func() (*iam.DetachRolePolicyOutput, error) { return s.c.DetachRolePolicy(ctx, in, o...) })
}

// Removable tells whether the eradicate step can remove resources of the
// type.
func Removable(typ string) bool { return slices.Contains(targetOrder, typ) }
