package trail

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"golang.org/x/sync/errgroup"
)

// AccountOpener gives an organization sweep access to one account: its
// regions (from ListRegions and SelectRegions) and the CloudTrail client of
// each region. It is called at most once per account and run, only for
// accounts a key of the investigation belongs to, from a worker goroutine.
// An error (no role to assume there, say) is reported in the coverage as
// that account's single source, so it should be one sentence that says what
// access is needed.
type AccountOpener func(ctx context.Context, account string) ([]Region, func(region string) cloudtrail.LookupEventsAPIClient, error)

// OrgSweep is a Sweep across the accounts of an organization. A key is
// looked up in the account it belongs to: the leaked key in its own, a key
// derived from it in its parent's, except role sessions (AssumeRole*),
// which belong to the role's account, and whose calls CloudTrail logs
// there. Every (account, region) pair has its own limiter paced at the
// CloudTrail quota, and WithMaxInFlight bounds the requests in flight over
// all of them.
type OrgSweep struct {
	home     string
	open     AccountOpener
	cfg      config
	inFlight int
}

// OrgOption configures an OrgSweep beyond the Sweep options.
type OrgOption func(*OrgSweep)

// WithMaxInFlight bounds the LookupEvents requests in flight over all
// accounts and regions (default 64): 50 accounts of 17 regions would
// otherwise open 850 connections at once.
func WithMaxInFlight(n int) OrgOption { return func(s *OrgSweep) { s.inFlight = max(n, 1) } }

// NewOrgSweep prepares a sweep that starts in the account home (the leaked
// key's). Options apply as for NewSweep; the limiter factory of WithLimiter
// is called with "account/region".
func NewOrgSweep(home string, open AccountOpener, opts []Option, orgOpts ...OrgOption) *OrgSweep {
	s := &OrgSweep{home: home, open: open, cfg: newConfig(opts), inFlight: 64}
	for _, o := range orgOpts {
		o(s)
	}
	return s
}

// OrgSourceName is the coverage name of a region of an account.
func OrgSourceName(account, region string) string { return account + "/" + region }

// orgAccount is the state of one account during a run, guarded by
// sweepRun.mu.
type orgAccount struct {
	id      string
	opened  bool         // Open has returned
	regions []*regionRun // all regions, for the coverage
	enabled []*regionRun
	failed  *regionRun // the account's single source when Open failed
	pending []string   // keys to start once the account is open
	seen    map[string]bool
}

// orgRun is one run of an OrgSweep.
type orgRun struct {
	*sweepRun
	sweep    *OrgSweep
	accounts map[string]*orgAccount
	order    []*orgAccount
}

// Run sweeps key in the home account and every key derived from it in the
// account it belongs to, until no key is new. Like Sweep.Run it returns what
// was fetched even with an error; accounts that could not be opened and
// regions that failed are in the coverage.
func (s *OrgSweep) Run(ctx context.Context, key string) (*Investigation, error) {
	sw := &Sweep{cfg: s.cfg}
	w := sw.Window()
	if w.Since.After(w.Until) {
		return nil, fmt.Errorf("sweep organization: window starts (%s) after it ends (%s)", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	roots := append([]string{key}, s.cfg.known...)
	g, gctx := errgroup.WithContext(ctx)
	run := &orgRun{
		sweepRun: &sweepRun{cfg: s.cfg, window: w, coll: newCollector(s.cfg.pivot, roots), seen: map[string]bool{},
			g: g, ctx: gctx, inFlight: newSlots(s.inFlight)},
		sweep:    s,
		accounts: map[string]*orgAccount{},
	}
	run.route = func(l KeyLink, rr *regionRun) { run.addKey(l.AccessKeyID, linkAccount(l, rr.account)) }
	for _, k := range roots {
		run.addKey(k, s.home)
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	cov := Coverage{}
	run.mu.Lock()
	for _, a := range run.order {
		if a.failed != nil {
			cov.Sources = append(cov.Sources, a.failed.status)
			continue
		}
		if !a.opened {
			cov.Sources = append(cov.Sources, SourceStatus{Name: a.id, State: StateError, Err: "interrupted"})
			continue
		}
		// An account's regions are searched for the keys routed to it.
		var keys []string
		for _, k := range run.coll.keyIDs() {
			if a.seen[k] {
				keys = append(keys, k)
			}
		}
		run.settle(a.regions, keys)
		for _, rr := range a.regions {
			cov.Sources = append(cov.Sources, rr.status)
		}
	}
	run.mu.Unlock()
	sort.SliceStable(cov.Sources, func(i, j int) bool { return cov.Sources[i].Name < cov.Sources[j].Name })
	inv := run.coll.investigation(key, w, cov, s.cfg.clock.Now())
	if err != nil {
		return inv, fmt.Errorf("sweep organization: %w", err)
	}
	return inv, nil
}

// addKey looks key up in account, opening the account first if this is the
// first key there.
func (r *orgRun) addKey(key, account string) {
	r.mu.Lock()
	a := r.accounts[account]
	if a == nil {
		a = &orgAccount{id: account, seen: map[string]bool{}}
		r.accounts[account] = a
		r.order = append(r.order, a)
		r.g.Go(func() error { return r.openAccount(a) })
	}
	if a.seen[key] {
		r.mu.Unlock()
		return
	}
	a.seen[key] = true
	if !a.opened {
		a.pending = append(a.pending, key)
		r.mu.Unlock()
		return
	}
	started := r.startLocked(key, a.enabled)
	r.mu.Unlock()
	for _, rr := range started {
		r.emit(rr)
	}
}

// openAccount gets the account's regions and clients, then starts the keys
// that waited for them.
func (r *orgRun) openAccount(a *orgAccount) error {
	regions, client, err := r.sweep.open(r.ctx, a.id)
	if err != nil && r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	r.mu.Lock()
	a.opened = true
	if err != nil {
		st := StateError
		if isDenied(err) {
			st = StateDenied
		}
		// The opener's own sentence says which access is missing; keep it
		// whole rather than only the AWS error code under it.
		a.failed = &regionRun{account: a.id, status: SourceStatus{Name: a.id, State: st, Err: strings.TrimSpace(err.Error())}}
		a.pending = nil
		r.mu.Unlock()
		r.emit(a.failed)
		return nil
	}
	for _, reg := range regions {
		rr := &regionRun{account: a.id, status: SourceStatus{Name: OrgSourceName(a.id, reg.Name), State: StateQueued}}
		if !reg.Enabled {
			rr.status.State = StateNotEnabled
		} else {
			rr.client = client(reg.Name)
			rr.lim = r.newLimiter(OrgSourceName(a.id, reg.Name))
			a.enabled = append(a.enabled, rr)
		}
		a.regions = append(a.regions, rr)
	}
	var started []*regionRun
	for _, k := range a.pending {
		started = append(started, r.startLocked(k, a.enabled)...)
	}
	a.pending = nil
	all := a.regions
	r.mu.Unlock()
	for _, rr := range all {
		r.emit(rr)
	}
	for _, rr := range started {
		r.emit(rr)
	}
	return nil
}

// linkAccount is the account a derived key belongs to: the role's for a
// role session, else the account of the key that made it.
func linkAccount(l KeyLink, parent string) string {
	if id := ARNAccount(l.RoleARN); l.RoleSession && id != "" {
		return id
	}
	return parent
}

// ARNAccount returns the account ID of an ARN ("" when it has none).
func ARNAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || len(parts[4]) != 12 {
		return ""
	}
	return parts[4]
}

// OrgAccountInfo is one account of an AWS Organizations organization.
type OrgAccountInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Status string `json:"status"`
}

// OrgInfo is an organization and its accounts.
type OrgInfo struct {
	ID       string           `json:"id"`
	Master   string           `json:"masterAccountId"`
	Accounts []OrgAccountInfo `json:"accounts"`
}

// OrganizationsAPI is what ListOrganization calls; *organizations.Client
// satisfies it.
type OrganizationsAPI interface {
	DescribeOrganization(ctx context.Context, params *organizations.DescribeOrganizationInput, optFns ...func(*organizations.Options)) (*organizations.DescribeOrganizationOutput, error)
	ListAccounts(ctx context.Context, params *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

var _ OrganizationsAPI = (*organizations.Client)(nil)

// ListOrganization describes the organization of cfg's credentials and,
// from the management account, lists its accounts (ListAccounts, paged).
// From a member account Accounts stays empty and listErr says why.
// Organizations is global: its endpoint is in us-east-1 whatever cfg's
// region.
func ListOrganization(ctx context.Context, cfg aws.Config) (info OrgInfo, listErr error, err error) {
	api := organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Region = "us-east-1" })
	return listOrganization(ctx, api)
}

func listOrganization(ctx context.Context, api OrganizationsAPI) (info OrgInfo, listErr error, err error) {
	d, err := api.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return OrgInfo{}, nil, fmt.Errorf("describe organization: %w", err)
	}
	info = OrgInfo{Accounts: []OrgAccountInfo{}}
	if d.Organization != nil {
		info.ID, info.Master = aws.ToString(d.Organization.Id), aws.ToString(d.Organization.MasterAccountId)
	}
	p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return info, fmt.Errorf("list accounts: %w", err), nil
		}
		for _, a := range page.Accounts {
			info.Accounts = append(info.Accounts, OrgAccountInfo{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name),
				Email: aws.ToString(a.Email), Status: string(a.Status)})
		}
	}
	return info, nil, nil
}
