package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"golang.org/x/time/rate"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// InvestigateRequest is one investigation of the case's key.
type InvestigateRequest struct {
	Source       Source
	Since, Until time.Time
	// Regions narrows the API sweep (and Athena's partitions); nil is all.
	Regions []string
	// LeakedAt is when the key leaked, if the responder knows (zero:
	// inferred).
	LeakedAt time.Time
	// Rules are extra rule directories added to the built-in catalog.
	Rules []string
	// Offline makes no live check of the account (with log files, in a
	// directory or S3): no live state of resources, no GuardDuty, no
	// quarantine lookup. With a directory it makes no AWS call at all.
	Offline bool
	// LookupRate and LookupBurst pace LookupEvents per region (default 2
	// and 1, AWS's quota).
	LookupRate  rate.Limit
	LookupBurst int
	// Options are extra collector options (the command's --retry-wait).
	Options []trail.Option
	// Budget, when set, bounds the search for events: when it runs out,
	// what was found is kept and judged, and the result is a
	// *PartialError that says so (re-running resumes).
	Budget time.Duration
	// WrapCloudTrail, when set, wraps each region's LookupEvents client.
	WrapCloudTrail func(region string, c cloudtrail.LookupEventsAPIClient) cloudtrail.LookupEventsAPIClient
}

// Investigation is what an investigation found and how it was judged.
type Investigation struct {
	Trail      *trail.Investigation
	Assessment *assess.Assessment
	GuardDuty  *assess.GuardDutyResult
}

// Result is the investigation's stable JSON form.
func (i *Investigation) Result() assess.Result { return i.Assessment.Result(i.Trail, i.GuardDuty) }

// Investigate finds every event of the case's key and of the credentials
// derived from it, keeps them in the case (whatever was found is kept even
// when the run is cut short), judges them, checks the live state of what
// the keys created, and writes the findings. Sources that failed in part
// (a region, a file, GuardDuty) make a *PartialError beside the result.
func (e *Engine) Investigate(ctx context.Context, c *playbook.Case, req InvestigateRequest, h Hooks) (*Investigation, error) {
	key := c.Meta().KeyID
	if err := req.Source.Validate(); err != nil {
		return nil, err
	}
	if req.Offline && req.Source.Logs == "" {
		return nil, Usagef("offline works only with log files (--logs): every other source is an AWS call")
	}
	if !req.Since.IsZero() && !req.Until.IsZero() && !req.Since.Before(req.Until) {
		return nil, Usagef("the window's start (%s) must be before its end (%s)", req.Since.Format(time.RFC3339), req.Until.Format(time.RFC3339))
	}
	catalog, err := assess.LoadCatalog(req.Rules...)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("load rules: %w", err)}
	}
	var clients *awsapi.Clients
	offline := req.Offline
	switch {
	case req.Source.Local() && !offline:
		// Log files a customer exported are often read on a laptop with
		// no AWS credentials: then the analysis runs offline, and says so.
		if clients, err = e.Clients(ctx); err == nil {
			_, err = responderKeyID(ctx, clients)
		}
		if err != nil {
			offline, clients = true, nil
			h.note("no AWS credentials: the live checks (resources' state, GuardDuty, AWS's quarantine) are skipped; configure credentials, or use --profile, to run them")
		}
	case !req.Source.Local():
		if clients, err = e.Clients(ctx); err != nil {
			return nil, err
		}
	}
	since, until := req.Since, req.Until
	if until.IsZero() {
		until = e.now().UTC()
	}
	if since.IsZero() {
		since = until.Add(-90 * 24 * time.Hour)
	}
	rateLimit, burst := req.LookupRate, req.LookupBurst
	if rateLimit <= 0 {
		rateLimit, burst = 2, 1
	}
	opts := []trail.Option{
		trail.WithWindow(since, until),
		trail.WithLimiterRate(rateLimit, max(1, burst)),
	}
	if h.Source != nil {
		opts = append(opts, trail.WithProgress(h.Source))
	}
	// What a sweep fetches is kept in the case page by page, with how far it
	// got, so that a run killed half-way resumes where it stopped instead
	// of sweeping again, and a later run reads only what is new.
	var keep *keeper
	if k := req.Source.Kind(); k == "api" || k == "org" {
		if keep, err = openKeeper(c, k == "api"); err != nil {
			return nil, err
		}
		defer keep.close()
		opts = append(opts, keep.options()...)
	}
	opts = append(opts, req.Options...)
	src, keyClients, err := req.Source.open(ctx, clients, key, req.Regions, opts, req.WrapCloudTrail, h)
	if err != nil {
		return nil, err
	}
	runCtx := ctx
	if req.Budget > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, req.Budget)
		defer cancel()
	}
	inv, runErr := src.Run(runCtx, key)
	if keep != nil {
		if err := keep.flush(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr != nil && req.Budget > 0 && ctx.Err() == nil && errors.Is(runErr, context.DeadlineExceeded) {
		runErr = &PartialError{Err: fmt.Errorf("the investigation's time budget of %s ran out; what was found is saved in %s, and re-running investigate resumes",
			req.Budget.Round(time.Second), c.Dir())}
	}
	if inv == nil {
		if runErr != nil && src.enabled == nil && src.org == nil && !errors.Is(runErr, context.Canceled) {
			var usage *UsageError
			if !errors.As(runErr, &usage) && (req.Source.Athena != "" || req.Source.Lake != "") {
				runErr = &UsageError{Err: runErr}
			}
		}
		return nil, runErr
	}
	if _, err := casefile.SaveInvestigation(c, inv, keep.count()); err != nil {
		return nil, err
	}
	if err := casefile.SaveAssessOptions(c, casefile.AssessOptions{LeakedAt: req.LeakedAt, Rules: req.Rules}); err != nil {
		return nil, err
	}
	live := keyClients
	if offline {
		live = nil
	}
	if live != nil && req.Source.Local() && inv.Account != "" {
		// Ask AWS nothing about the key with another account's credentials.
		if acct, err := callerAccount(ctx, live); err != nil {
			live = nil
			h.note("could not tell which account your credentials belong to (%v): the live checks are skipped", err)
		} else if acct != inv.Account {
			live = nil
			h.note("your credentials are of account %s and the logs of account %s: the live checks are skipped; use a profile of %s to run them", acct, inv.Account, inv.Account)
		}
	}
	var accounts *keyAccounts
	if src.org != nil && live != nil {
		accounts = newKeyAccounts(src.org, src.keyAccount, inv)
	}
	out, assessErr := e.assess(ctx, c, live, accounts, src.enabled, inv, catalog, req.LeakedAt, true)
	if out == nil {
		return nil, assessErr
	}
	if runErr != nil {
		return out, runErr
	}
	var failed []string
	if s := inv.Coverage.Summary(); s != "" {
		failed = append(failed, s)
	}
	if gd := out.GuardDuty; gd != nil && gd.Failed() {
		for _, r := range gd.Regions {
			if r.Error != "" {
				failed = append(failed, "GuardDuty in "+r.Region+": "+r.Error)
			}
		}
	}
	if assessErr != nil {
		failed = append(failed, assessErr.Error())
	}
	if len(failed) > 0 {
		return out, &PartialError{Err: errors.New(strings.Join(failed, "; ") + "; what was found is saved in " + c.Dir() + ", and re-running resumes")}
	}
	return out, nil
}

// assess judges the investigation's events, checks the live state of what
// the keys created (clients nil: offline) and, when searchGuardDuty, the
// GuardDuty findings in regions, and writes findings.json. A failed live
// check is returned beside a usable result.
func (e *Engine) assess(ctx context.Context, c *playbook.Case, clients *awsapi.Clients, accounts *keyAccounts, regions []string,
	inv *trail.Investigation, catalog *assess.Catalog, leakedAt time.Time, searchGuardDuty bool) (*Investigation, error) {
	opts := assess.Options{Catalog: catalog, LeakedAt: leakedAt}
	sum, err := casefile.LoadContain(c)
	if err != nil {
		return nil, err
	}
	if sum != nil {
		opts.Owner = sum.Owner
	}
	var liveErr error
	prev, _ := casefile.LoadFindings(c)
	if clients != nil {
		q, err := assess.QuarantineEvents(ctx, clients.CloudTrailRetrying("us-east-1"), opts.Owner, inv.Window)
		if err != nil {
			liveErr = fmt.Errorf("look up AWS's quarantine of the key: %w", err)
		}
		opts.Context = q
	} else if prev != nil {
		// Offline, AWS's quarantine found by the last online run still
		// dates the leak.
		opts.Context = priorQuarantine(prev.Leak)
	}
	a, err := assess.Assess(inv, opts)
	if err != nil {
		return nil, fmt.Errorf("assess events: %w", err)
	}
	out := &Investigation{Trail: inv, Assessment: a}
	if clients != nil {
		res, err := accounts.inventory(ctx, clients, a.Resources)
		if err != nil {
			return nil, fmt.Errorf("check resources: %w", err)
		}
		a.Resources = res
		if searchGuardDuty && len(regions) > 0 {
			var keys []string
			for _, k := range inv.Keys {
				keys = append(keys, k.AccessKeyID)
			}
			g, err := assess.GuardDuty(ctx, func(r string) assess.GuardDutyAPI { return clients.GuardDuty(r) }, regions, keys)
			if err != nil {
				return nil, fmt.Errorf("search GuardDuty: %w", err)
			}
			out.GuardDuty = &g
		}
	}
	if !searchGuardDuty && prev != nil {
		// A rebuild keeps the GuardDuty findings of the last search.
		out.GuardDuty = prev.GuardDuty
	}
	f := a.Findings(inv, out.GuardDuty, e.now())
	switch {
	case clients != nil:
		f.ResourcesCheckedAt = e.now().UTC()
	case prev != nil:
		// Offline, the states are those of the last read, and so is
		// their time: a rebuild never forgets what AWS said.
		f.ResourcesCheckedAt = prev.ResourcesCheckedAt
		keepStates(f.Resources, prev.Resources)
	}
	if err := casefile.SaveFindings(c, f); err != nil {
		return nil, fmt.Errorf("save findings: %w", err)
	}
	return out, liveErr
}

// priorQuarantine is the AttachUserPolicy record of AWS's quarantine as an
// earlier run found it in CloudTrail (the findings keep its time, policy
// and user), so that a rebuild without AWS dates the leak the same way.
func priorQuarantine(l assess.Leak) []trail.Event {
	if l.DetectedAt.IsZero() || l.QuarantinePolicy == "" {
		return nil
	}
	rec, err := json.Marshal(map[string]any{
		"eventVersion": "1.09", "eventID": "keyleak-prior-quarantine", "eventTime": l.DetectedAt.UTC().Format(time.RFC3339),
		"eventSource": "iam.amazonaws.com", "eventName": "AttachUserPolicy", "awsRegion": "us-east-1",
		"sourceIPAddress": "AWS Internal", "userIdentity": map[string]any{"type": "AWSService", "invokedBy": "AWS Internal"},
		"requestParameters": map[string]any{"userName": l.QuarantinedUser, "policyArn": "arn:aws:iam::aws:policy/" + l.QuarantinePolicy},
	})
	if err != nil {
		return nil
	}
	e, err := trail.ParseRecord(rec)
	if err != nil {
		return nil
	}
	return []trail.Event{e}
}

// keepStates copies the live states last read into resources extracted
// again from the events, which carry none.
func keepStates(now, before []assess.Resource) {
	last := make(map[string]assess.Resource, len(before))
	for _, r := range before {
		last[r.Key()] = r
	}
	for i, r := range now {
		if b, ok := last[r.Key()]; ok && r.State == "" {
			now[i].State, now[i].StateReason = b.State, b.StateReason
		}
	}
}

// Reassess rebuilds the findings from everything the case holds now —
// every event fetched by any run, judged again with the options the
// responder gave — and, online, from the live state of every resource the
// keys created. It is how every report starts, so that no event is left
// unjudged and no resource is reported as it was before eradication.
// Events kept by a run that stopped before it saved its result are judged
// too (the investigation is rebuilt from them). Without any event in the
// case it returns nil, nil.
func (e *Engine) Reassess(ctx context.Context, c *playbook.Case, online bool) (*Investigation, error) {
	inv, err := casefile.LoadInvestigation(c)
	if err == nil && inv == nil {
		inv, err = casefile.RebuildInvestigation(c, e.now())
	}
	if err != nil || inv == nil {
		return nil, err
	}
	o, err := casefile.LoadAssessOptions(c)
	if err != nil {
		return nil, err
	}
	catalog, err := assess.LoadCatalog(o.Rules...)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("load rules: %w", err)}
	}
	var clients *awsapi.Clients
	if online {
		if clients, err = e.Clients(ctx); err != nil {
			return nil, err
		}
	}
	return e.assess(ctx, c, clients, nil, nil, inv, catalog, o.LeakedAt, false)
}

// inventoryClients are the clients the live checks and removals of
// resources use.
func inventoryClients(clients *awsapi.Clients) resource.Clients { return resource.NewClients(clients) }

// callerAccount is the account the clients' credentials belong to.
func callerAccount(ctx context.Context, clients *awsapi.Clients) (string, error) {
	out, err := clients.STS("").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("identify the caller: %w", err)
	}
	return aws.ToString(out.Account), nil
}
