package respond

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awserr"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// defaultOrgRole is the role AWS Organizations creates in every account it
// creates, trusted by the management account.
const defaultOrgRole = "OrganizationAccountAccessRole"

// orgAccess reaches the accounts of an organization for --org: the
// responder's own account with the responder's credentials, any other by
// assuming --role-name there from them. Clients are made once per account.
type orgAccess struct {
	base    *awsapi.Clients // the responder's
	own     string          // the responder's account
	role    string
	mu      sync.Mutex
	clients map[string]*awsapi.Clients
	errs    map[string]error
}

func newOrgAccess(ctx context.Context, base *awsapi.Clients, role string) (*orgAccess, error) {
	who, err := base.STS("").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, &AuthError{Err: fmt.Errorf("identify responder: %w", err)}
	}
	own := aws.ToString(who.Account)
	return &orgAccess{base: base, own: own, role: role,
		clients: map[string]*awsapi.Clients{own: base}, errs: map[string]error{}}, nil
}

// roleARN is the role assumed in account.
func (a *orgAccess) roleARN(account string) string {
	return "arn:aws:iam::" + account + ":role/" + a.role
}

// account returns the clients of an account. Assuming the role is checked
// at once, so that a missing role is one clear sentence here rather than an
// AccessDenied on some later call.
func (a *orgAccess) account(ctx context.Context, account string) (*awsapi.Clients, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[account]; ok {
		return c, nil
	}
	if err, ok := a.errs[account]; ok {
		return nil, err
	}
	cfg := a.base.Config().Copy()
	// The responder's credentials, MFA-backed profiles included, are the
	// source; the SDK's provider renews the role session as it expires.
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(a.base.Config()), a.roleARN(account), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "keyleak-" + time.Now().UTC().Format("20060102T150405Z")
	})
	cfg.Credentials = aws.NewCredentialsCache(prov)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		// The sentence is the same for every account that lacks the role
		// (the AWS error code, not its message with a request ID), so that
		// the coverage names those accounts together.
		why := awserr.Code(err)
		if why == "" {
			why = err.Error()
		}
		err = &accountError{err: err, msg: fmt.Sprintf("needs role %s assumable by %s (pass --role-name for another role): %s", a.role, a.own, why)}
		a.errs[account] = err
		return nil, err
	}
	c := awsapi.NewClients(cfg)
	a.clients[account] = c
	return c, nil
}

// openKeyAccount sets up --org: the access to the organization's accounts
// and the clients of the key's own account, assumed into when it is not the
// responder's.
func openKeyAccount(ctx context.Context, base *awsapi.Clients, key, role string) (*orgAccess, string, *awsapi.Clients, error) {
	if role == "" {
		return nil, "", nil, Usagef("--role-name must not be empty")
	}
	access, err := newOrgAccess(ctx, base, role)
	if err != nil {
		return nil, "", nil, err
	}
	acct, err := access.keyAccount(ctx, key)
	if err != nil {
		return nil, "", nil, &AuthError{Err: err}
	}
	c, err := access.account(ctx, acct)
	if err != nil {
		return nil, "", nil, &AuthError{Err: fmt.Errorf("reach the key's account: %w", err)}
	}
	return access, acct, c, nil
}

// keyAccount returns the account of the leaked key (sts GetAccessKeyInfo).
func (a *orgAccess) keyAccount(ctx context.Context, key string) (string, error) {
	out, err := a.base.STS("").GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(key)})
	if err != nil {
		return "", fmt.Errorf("look up the key's account: %w", err)
	}
	return aws.ToString(out.Account), nil
}

// opener is the trail.AccountOpener of an organization sweep: the account's
// regions (narrowed by names) and CloudTrail clients.
func (a *orgAccess) opener(names []string) trail.AccountOpener {
	return func(ctx context.Context, account string) ([]trail.Region, func(string) cloudtrail.LookupEventsAPIClient, error) {
		c, err := a.account(ctx, account)
		if err != nil {
			return nil, nil, err
		}
		known, err := trail.ListRegions(ctx, c.EC2(""))
		if err != nil {
			return nil, nil, fmt.Errorf("list regions of account %s: %w", account, err)
		}
		regions, err := trail.SelectRegions(known, names)
		if err != nil {
			return nil, nil, err
		}
		return regions, func(region string) cloudtrail.LookupEventsAPIClient { return c.CloudTrail(region) }, nil
	}
}

// describeOrg writes the organization the key's account belongs to and its
// accounts. An account outside any organization, or a member account that
// may not list the others, is said, not an error: the sweep follows the
// key's pivots whatever the listing shows.
func describeOrg(ctx context.Context, w io.Writer, c *awsapi.Clients) {
	info, listErr, err := trail.ListOrganization(ctx, c.Config())
	if err != nil {
		fmt.Fprintf(w, "Organization: not available (%v)\n", err)
		return
	}
	fmt.Fprintf(w, "Organization %s (management account %s)", info.ID, info.Master)
	if listErr != nil {
		fmt.Fprintf(w, ": accounts not listed (%v)\n", listErr)
		return
	}
	fmt.Fprintf(w, ", %d accounts:", len(info.Accounts))
	for _, acct := range info.Accounts {
		fmt.Fprintf(w, " %s (%s)", acct.ID, acct.Name)
	}
	fmt.Fprintln(w)
}

// orgRoleSessions groups the role sessions of an investigation by the
// account of their role, sorted.
func orgRoleSessions(inv *trail.Investigation) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, k := range inv.Derived() {
		if !k.RoleSession || k.RoleARN == "" || seen[k.RoleARN] {
			continue
		}
		seen[k.RoleARN] = true
		acct := trail.ARNAccount(k.RoleARN)
		out[acct] = append(out[acct], k.RoleARN)
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// keyAccounts maps each key of an investigation to its account, so that
// what a key made is checked where it lives: a role session's resources are
// in the role's account, not in the leaked key's.
type keyAccounts struct {
	access *orgAccess
	home   string
	of     map[string]string // key ID -> account
}

func newKeyAccounts(access *orgAccess, home string, inv *trail.Investigation) *keyAccounts {
	k := &keyAccounts{access: access, home: home, of: map[string]string{}}
	// inv.Keys lists parents before the keys they made.
	for _, l := range inv.Keys {
		acct := home
		if p, ok := k.of[l.Parent]; ok {
			acct = p
		}
		if id := trail.ARNAccount(l.RoleARN); l.RoleSession && id != "" {
			acct = id
		}
		k.of[l.AccessKeyID] = acct
	}
	return k
}

// inventory checks the resources' live state, each with the clients of its
// creator's account; those of an account out of reach stay unknown, with
// the reason. A nil k checks all with clients.
func (k *keyAccounts) inventory(ctx context.Context, clients *awsapi.Clients, resources []assess.Resource) ([]assess.Resource, error) {
	if k == nil {
		return assess.Inventory(ctx, resource.NewClients(clients), resources)
	}
	byAccount := map[string][]int{}
	for i, r := range resources {
		acct, ok := k.of[r.CreatedBy]
		if !ok {
			acct = k.home
		}
		byAccount[acct] = append(byAccount[acct], i)
	}
	out := make([]assess.Resource, len(resources))
	copy(out, resources)
	for acct, idx := range byAccount {
		group := make([]assess.Resource, len(idx))
		for j, i := range idx {
			group[j] = resources[i]
		}
		c, err := k.access.account(ctx, acct)
		if err != nil {
			for _, i := range idx {
				out[i].State, out[i].StateReason = assess.StateUnknown, err.Error()
			}
			continue
		}
		checked, err := assess.Inventory(ctx, resource.NewClients(c), group)
		if err != nil {
			return nil, fmt.Errorf("check resources in account %s: %w", acct, err)
		}
		for j, i := range idx {
			out[i] = checked[j]
		}
	}
	return out, nil
}

// memberRoleIAM is the IAM of the key's account with the calls on roles
// sent to another account: the revoke step identifies the key where it
// lives and puts the revoke policy on the role where the role lives.
type memberRoleIAM struct {
	playbook.IAM
	roles *iam.Client
}

func (m memberRoleIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, opts ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return m.roles.GetRolePolicy(ctx, in, opts...)
}

func (m memberRoleIAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, opts ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	return m.roles.PutRolePolicy(ctx, in, opts...)
}

func (m memberRoleIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, opts ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	return m.roles.DeleteRolePolicy(ctx, in, opts...)
}

// orgRevoke revokes the sessions of the roles the investigation found, in
// each role's account, with runners built by newRunner. It returns the
// summaries and one error naming every account it could not reach.
func orgRevoke(ctx context.Context, access *orgAccess, keyClients *awsapi.Clients, inv *trail.Investigation,
	newRunner orgRunner) ([]*playbook.Summary, error) {
	byAccount := orgRoleSessions(inv)
	var sums []*playbook.Summary
	var problems []string
	for _, acct := range slices.Sorted(maps.Keys(byAccount)) {
		member, err := access.account(ctx, acct)
		if err != nil {
			problems = append(problems, fmt.Sprintf("the sessions of %s are not revoked: %v", strings.Join(byAccount[acct], ", "), err))
			continue
		}
		sum, err := newRunner(memberRoleIAM{IAM: keyClients.IAM(), roles: member.IAM()}, keyClients.STS("")).RevokeRoleSessions(ctx, byAccount[acct])
		if sum != nil {
			sums = append(sums, sum)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("revoke role sessions in account %s: %v", acct, err))
		}
	}
	if len(problems) > 0 {
		return sums, errors.New(strings.Join(problems, "; "))
	}
	return sums, nil
}

// orgRunner builds a runner on the case with the given clients and extra
// options.
type orgRunner func(iamAPI playbook.IAM, stsAPI playbook.STS, more ...playbook.Option) *playbook.Runner

// orgContainFound stops, in each account other than the key's that the
// organization-wide sweep found its credentials acting in, what they minted
// there (keys, users, passwords, trust policies, MFA devices), with that
// account's clients and the sweep's events: the key's own account is
// contain's own run. It returns one summary an account, the credentials
// read back, and an error naming each account left partly or wholly open.
func orgContainFound(ctx context.Context, access *orgAccess, keyAccount string, inv *trail.Investigation,
	h Hooks, newRunner orgRunner) ([]*playbook.Summary, error) {
	byAccount := map[string][]trail.Event{}
	for _, e := range inv.Events {
		if acct := e.AccountID(); acct != "" && acct != keyAccount {
			byAccount[acct] = append(byAccount[acct], e)
		}
	}
	var sums []*playbook.Summary
	var problems []string
	for _, acct := range slices.Sorted(maps.Keys(byAccount)) {
		member, err := access.account(ctx, acct)
		if err != nil {
			problems = append(problems, fmt.Sprintf("what the key's sessions minted in account %s is not stopped: %v", acct, err))
			continue
		}
		h.note("Stopping what the key's sessions minted in account %s", acct)
		sum, err := newRunner(member.IAM(), member.STS(""), playbook.WithFoundEvents(acct, byAccount[acct])).ContainFound(ctx)
		if sum != nil {
			sum.Account = acct
			sums = append(sums, sum)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("account %s: %v", acct, err))
			continue
		}
		if sum != nil && !sum.DryRun {
			var open []string
			for _, cr := range sum.Credentials {
				if cr.State == playbook.CredWorking && !cr.BeforeLeak {
					open = append(open, cr.Label())
				}
			}
			if len(open) > 0 {
				problems = append(problems, fmt.Sprintf("in account %s, still working: %s", acct, strings.Join(open, ", ")))
			}
		}
	}
	if len(problems) > 0 {
		return sums, errors.New(strings.Join(problems, "; "))
	}
	return sums, nil
}

// accountError is an account the responder cannot reach: one sentence
// that says what access is needed, the same for every such account, with
// the AWS error under it.
type accountError struct {
	err error
	msg string
}

func (e *accountError) Error() string { return e.msg }
func (e *accountError) Unwrap() error { return e.err }
