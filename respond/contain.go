package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
	"golang.org/x/time/rate"
	"slices"
	"time"
)

// DefaultOrgRole is the role AWS Organizations creates in every account it
// creates, trusted by the management account.
const DefaultOrgRole = defaultOrgRole

// ContainRequest is what to run of the containment runbook.
type ContainRequest struct {
	// Steps are playbook step IDs (playbook.DefaultSteps when empty);
	// identify always runs first.
	Steps  []string
	DryRun bool
	// Force lets the responder act as the key's owner through a session
	// (losing it); never with the leaked key itself.
	Force bool
	// Org contains the key from its own account (assuming RoleName there
	// when it is not the responder's); in every other account of the
	// organization its role sessions reach, it revokes them and stops what
	// they minted there.
	Org      bool
	RoleName string
	// LeakedAt, when given, leaves alone what the key minted before it.
	LeakedAt time.Time
	// LookupRate paces LookupEvents per region while looking for what the
	// key minted (default 2, AWS's quota); Options are extra collector
	// options (the command's --retry-wait).
	LookupRate rate.Limit
	Options    []trail.Option
}

// ContainResult is the outcome of a containment run, read back from AWS.
type ContainResult struct {
	*playbook.Summary
	// RoleSessions are the role-session revocations in other accounts
	// (with Org).
	RoleSessions []*playbook.Summary `json:"roleSessions,omitempty"`
	// Accounts are the runs, with Org, that stopped what the key's role
	// sessions minted in the other accounts they reached (keys, users,
	// passwords, trust policies), one an account, each with its
	// credentials read back.
	Accounts []*playbook.Summary `json:"accounts,omitempty"`
}

// Contain runs the containment steps on the case: live state read first,
// each change confirmed through the hooks and journaled, the result read
// back from AWS and kept in the case. A run that leaves the key contained
// but its sessions unrevoked (declined, failed) is a *PartialError.
func (e *Engine) Contain(ctx context.Context, c *playbook.Case, req ContainRequest, h Hooks) (*ContainResult, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	key := c.Meta().KeyID
	var access *orgAccess
	var keyAccount string
	if req.Org {
		role := req.RoleName
		if role == "" {
			role = DefaultOrgRole
		}
		if access, keyAccount, clients, err = openKeyAccount(ctx, clients, key, role); err != nil {
			return nil, err
		}
	}
	keyID, err := responderKeyID(ctx, clients)
	if err != nil {
		return nil, err
	}
	steps := req.Steps
	if len(steps) == 0 {
		steps = playbook.DefaultSteps()
	}
	opts := append(e.runnerOptions(keyID, req.DryRun, req.Force, h), playbook.WithLeakedAt(req.LeakedAt))
	lookupRate := req.LookupRate
	if lookupRate <= 0 {
		lookupRate = 2
	}
	// The key's own account is searched for what it minted; the
	// organization's other accounts get their role sessions revoked below.
	keyClients := clients
	withTrail := append(slices.Clone(opts), playbook.WithTrail(playbook.TrailClients{
		Regions:    keyClients.EC2("us-east-1"),
		CloudTrail: func(region string) cloudtrail.LookupEventsAPIClient { return keyClients.CloudTrail(region) },
		Options:    append([]trail.Option{trail.WithLimiterRate(lookupRate, 1)}, req.Options...),
	}))
	sum, runErr := playbook.NewRunner(c, clients.IAM(), clients.STS(""), withTrail...).Run(ctx, steps...)
	if sum == nil {
		return nil, playbookError(runErr)
	}
	res := &ContainResult{Summary: sum}
	if !sum.DryRun {
		if err := casefile.SaveContain(c, sum); err != nil {
			return res, err
		}
	}
	if runErr != nil {
		return res, playbookError(runErr)
	}
	if err := uncontained(sum, steps); err != nil {
		return res, err
	}
	if !req.Org {
		return res, nil
	}
	sessions, accounts, orgErr := containOrg(ctx, key, access, keyAccount, clients, h, func(i playbook.IAM, s playbook.STS, more ...playbook.Option) *playbook.Runner {
		return playbook.NewRunner(c, i, s, append(slices.Clone(opts), more...)...)
	})
	res.RoleSessions, res.Accounts = sessions, accounts
	if orgErr != nil {
		var pe *PartialError
		if errors.As(orgErr, &pe) {
			return res, orgErr
		}
		return res, &PartialError{Err: orgErr}
	}
	return res, nil
}

// uncontained says, as a *PartialError, what a finished run left open: the
// key not inactive, or its sessions not revoked, as AWS showed them when the
// run read them back. A dry run and a root key (whose sessions no policy
// can revoke) are judged only on the key.
func uncontained(sum *playbook.Summary, steps []string) error {
	var open []string
	wanted := func(id string) bool {
		for _, s := range steps {
			if s == id {
				return true
			}
		}
		return false
	}
	if sum.DryRun {
		return nil
	}
	if wanted(playbook.StepContain) && sum.KeyStatus != "Inactive" && sum.KeyStatus != "Deleted" {
		open = append(open, fmt.Sprintf("the key is %s", sum.KeyStatus))
	}
	if wanted(playbook.StepRevokeSessions) && !sum.RootKey && sum.RevokedBefore.IsZero() {
		open = append(open, "sessions made from the key are not revoked (no revoke policy on the user)")
	}
	if len(open) == 0 {
		return nil
	}
	return &PartialError{Err: errors.New("not contained: " + strings.Join(open, "; ") + "; run contain again to finish")}
}

// Run runs playbook steps on the case (identify alone, say) and keeps the
// summary, as Contain does but without judging containment.
func (e *Engine) Run(ctx context.Context, c *playbook.Case, steps []string, h Hooks) (*playbook.Summary, error) {
	r, err := e.runnerFor(ctx, c, false, h)
	if err != nil {
		return nil, err
	}
	sum, runErr := r.Run(ctx, steps...)
	if sum != nil && !sum.DryRun {
		if err := casefile.SaveContain(c, sum); err != nil && runErr == nil {
			runErr = err
		}
	}
	return sum, playbookError(runErr)
}

// RevokeRoleSessions revokes the sessions of the given roles (as the
// investigation found them) with the same deny policy, time moving forward
// only.
func (e *Engine) RevokeRoleSessions(ctx context.Context, c *playbook.Case, roles []string, h Hooks) (*playbook.Summary, error) {
	r, err := e.runnerFor(ctx, c, false, h)
	if err != nil {
		return nil, err
	}
	sum, err := r.RevokeRoleSessions(ctx, roles)
	return sum, playbookError(err)
}

// containOrg sweeps the key's trail across the organization for the role
// sessions it made, revokes them in each role's account, and stops what
// they minted in the other accounts they reached.
func containOrg(ctx context.Context, key string, access *orgAccess, keyAccount string,
	clients *awsapi.Clients, h Hooks, newRunner orgRunner) (sessions, accounts []*playbook.Summary, err error) {
	h.note("Looking for role sessions of %s across the organization", key)
	inv, err := trail.NewOrgSweep(keyAccount, access.opener(nil), nil).Run(ctx, key)
	if inv == nil {
		return nil, nil, err
	}
	sessions, revokeErr := orgRevoke(ctx, access, clients, inv, newRunner)
	accounts, mintedErr := orgContainFound(ctx, access, keyAccount, inv, h, newRunner)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	if s := inv.Coverage.Summary(); s != "" {
		problems = append(problems, "role sessions and what they minted may be missed: "+s)
	}
	for _, e := range []error{revokeErr, mintedErr} {
		if e != nil {
			problems = append(problems, e.Error())
		}
	}
	if len(problems) > 0 {
		return sessions, accounts, &PartialError{Err: errors.New(strings.Join(problems, "; "))}
	}
	return sessions, accounts, nil
}

// StillOpen says in plain words what of the attacker's access the contain
// summary shows still working: the key, its sessions, each credential it
// minted that nothing stops. Empty when everything is stopped. A nil
// summary (nothing contained yet) is open as a whole.
func StillOpen(sum *playbook.Summary) []string {
	if sum == nil || sum.DryRun {
		return []string{"the key has not been contained yet"}
	}
	var open []string
	if sum.KeyStatus != "Inactive" && sum.KeyStatus != "Deleted" {
		open = append(open, fmt.Sprintf("the key is %s", sum.KeyStatus))
	}
	if !sum.RootKey && sum.RevokedBefore.IsZero() {
		open = append(open, "sessions made from the key are not revoked")
	}
	for _, cr := range sum.Credentials {
		if cr.State == playbook.CredWorking && !cr.BeforeLeak && cr.ID != sum.KeyID {
			open = append(open, cr.Label()+" still works")
		}
	}
	return open
}
