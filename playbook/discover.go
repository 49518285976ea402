package playbook

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/keyleak/keyleak/trail"
)

// TrailClients are what containment reads CloudTrail with, to find what the
// leaked key minted: the account's regions, and each region's CloudTrail.
type TrailClients struct {
	// Regions lists the account's regions (ec2:DescribeRegions).
	Regions trail.RegionsAPI
	// CloudTrail returns a region's client. The search paces and retries
	// LookupEvents itself: build the clients without SDK retries
	// (trail.NoSDKRetries).
	CloudTrail func(region string) cloudtrail.LookupEventsAPIClient
	// Options tune the search (trail.WithLimiterRate, trail.WithClock …);
	// the default paces LookupEvents at AWS's 2 requests a second a region.
	Options []trail.Option
	// Found, when not nil, stands in for the search: events an
	// organization-wide sweep already read, of the credentials that live in
	// Account (another account of the organization than the responder's).
	// What they minted there is found in them, and CloudTrail is not asked.
	Found   []trail.Event
	Account string
}

// WithFoundEvents lets a run stop what the events show minted in account,
// without searching CloudTrail: contain --org, in the accounts the key's
// role sessions reached, with the events of its organization-wide sweep.
func WithFoundEvents(account string, events []trail.Event) Option {
	return func(r *Runner) {
		r.trail = &TrailClients{Found: append([]trail.Event{}, events...), Account: account}
	}
}

// WithTrail lets contain look in CloudTrail for what the key minted and
// stop it in the same run (step contain-minted). Without it that step
// warns that it could not look.
func WithTrail(tc TrailClients) Option { return func(r *Runner) { r.trail = &tc } }

// WithLeakedAt sets when the key leaked: what it minted before is listed
// and left alone (the legitimate workload's users and keys). Zero, the
// default, treats everything the key minted as the attacker's.
func WithLeakedAt(t time.Time) Option { return func(r *Runner) { r.leakedAt = t.UTC() } }

// discovery is the search of one run for what the key minted: a CloudTrail
// sweep of the key and, recursively, of every credential made from it,
// whose events are turned into credentials as their pages arrive. It is
// safe for concurrent use.
type discovery struct {
	start sync.Once

	mu       sync.Mutex
	account  string
	wake     chan struct{} // closed when something is found or the search ends
	creds    []AttackerCredential
	index    map[string]int // Key -> index in creds
	events   int
	seenIn   map[string]map[string]bool // access key ID -> regions where it made a call
	consumed int                        // creds a Plan has seen
	started  bool
	done     bool
	err      error
	cov      MintedSearch
	warned   map[string]bool
}

func newDiscovery() *discovery {
	return &discovery{wake: make(chan struct{}), index: map[string]int{}, warned: map[string]bool{}, seenIn: map[string]map[string]bool{}}
}

// signal wakes whoever waits for news. Called with mu held.
func (d *discovery) signal() {
	close(d.wake)
	d.wake = make(chan struct{})
}

// add takes one event of the chain from the sweep.
func (d *discovery) add(e trail.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events++
	if k := e.UserIdentity.AccessKeyID; k != "" && e.Region != "" {
		if d.seenIn[k] == nil {
			d.seenIn[k] = map[string]bool{}
		}
		d.seenIn[k][e.Region] = true
	}
	for _, c := range credentialsOf(&e, d.account) {
		if i, ok := d.index[c.Key()]; ok {
			// The same credential changed again (a trust policy updated
			// twice): the latest change is the one in force.
			if c.Issued.After(d.creds[i].Issued) {
				d.creds[i] = c
			}
			continue
		}
		d.index[c.Key()] = len(d.creds)
		d.creds = append(d.creds, c)
		d.signal()
	}
}

// finish records the end of the search.
func (d *discovery) finish(inv *trail.Investigation, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done, d.err = true, err
	if inv != nil {
		d.cov.Since, d.cov.Until = inv.Window.Since, inv.Window.Until
		for _, s := range inv.Coverage.Sources {
			if s.State == trail.StateNotEnabled {
				continue
			}
			d.cov.Regions++
			d.cov.Lookups += s.Lookups
			if s.State == trail.StateError || s.State == trail.StateDenied {
				d.cov.Failed = append(d.cov.Failed, s.Name+": "+s.Err)
			}
		}
		sort.Strings(d.cov.Failed)
	}
	d.signal()
}

// take returns every credential found so far and marks them seen by a Plan.
func (d *discovery) take() []AttackerCredential {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.consumed = len(d.creds)
	return append([]AttackerCredential(nil), d.creds...)
}

// all returns every credential found, without marking them seen.
func (d *discovery) all() []AttackerCredential {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]AttackerCredential(nil), d.creds...)
}

// regionsOf returns the regions where CloudTrail shows a call of the key,
// sorted.
func (d *discovery) regionsOf(key string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for r := range d.seenIn[key] {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// next blocks until a credential no Plan has seen is found (true), or the
// search is over with nothing new (false, and the search's error).
func (d *discovery) next(ctx context.Context) (bool, error) {
	for {
		d.mu.Lock()
		switch {
		case len(d.creds) > d.consumed:
			d.mu.Unlock()
			return true, nil
		case d.done:
			err := d.err
			d.mu.Unlock()
			return false, err
		}
		wake := d.wake
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// once reports whether key is seen for the first time in this run, so that
// a warning about it is given once over the step's rounds.
func (d *discovery) once(key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.warned[key] {
		return false
	}
	d.warned[key] = true
	return true
}

// result is the search as the summary shows it; nil when no step of the
// run searched.
func (d *discovery) result() *MintedSearch {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started {
		return nil
	}
	s := d.cov
	s.Searched = true
	s.Events = d.events
	s.Delay = DeliveryDelayNote
	s.Failed = append([]string(nil), d.cov.Failed...)
	return &s
}

// run searches, or, when another step of the run already does, waits for
// its search to end.
func (d *discovery) run(ctx context.Context, st *State) error {
	first := false
	d.start.Do(func() { first = true })
	if first {
		d.mu.Lock()
		d.account, d.started = st.Responder.Account, true
		if st.trail.Found != nil {
			d.account = st.trail.Account
		}
		d.mu.Unlock()
		if st.trail.Found != nil {
			d.replay(st.trail.Found)
			return nil
		}
		return d.search(ctx, st)
	}
	for {
		d.mu.Lock()
		if d.done {
			err := d.err
			d.mu.Unlock()
			return err
		}
		wake := d.wake
		d.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// replay takes events another sweep read, as the search would have: every
// credential in them is found, and the regions they came from count as
// searched.
func (d *discovery) replay(events []trail.Event) {
	regions := map[string]bool{}
	for _, e := range events {
		d.add(e)
		regions[e.Region] = true
	}
	d.finish(nil, nil)
	d.mu.Lock()
	d.cov.Regions = len(regions)
	d.mu.Unlock()
}

// search runs the sweep: the key in every enabled region, newest events
// first, and every credential made from it as soon as its minting event is
// read (trail's pivot). us-east-1 holds IAM and the global STS endpoint;
// the regional STS endpoints log in their regions, searched beside it, each
// at its own quota. It blocks until the sweep ends.
func (d *discovery) search(ctx context.Context, st *State) error {
	tc := st.trail
	regions, err := trail.ListRegions(ctx, journaledRegions{c: tc.Regions, r: st.rec})
	if err != nil {
		err = fmt.Errorf("look for what the key minted: %w", err)
		d.finish(nil, err)
		return err
	}
	select {
	case <-st.containEnded:
	case <-ctx.Done():
		d.finish(nil, ctx.Err())
		return ctx.Err()
	}
	until := st.Now()
	// Containment gives up on a region sooner than an investigation: a
	// region that keeps failing is reported (the run ends partial and says
	// to run again) rather than holding the summary back for half a minute.
	opts := append([]trail.Option{trail.WithWindow(until.Add(-trail.LookbackLimit), until), trail.WithOnEvent(d.add),
		trail.WithMaxAttempts(3), trail.WithBackoff(250*time.Millisecond, 2*time.Second)}, tc.Options...)
	client := func(region string) cloudtrail.LookupEventsAPIClient {
		return journaledLookup{c: tc.CloudTrail(region), r: st.rec, region: region}
	}
	inv, err := trail.NewSweep(regions, client, opts...).Run(ctx, st.KeyID)
	if err != nil {
		err = fmt.Errorf("look for what the key minted: %w", err)
	}
	d.finish(inv, err)
	return err
}

// journaledRegions journals DescribeRegions.
type journaledRegions struct {
	c trail.RegionsAPI
	r *recorder
}

func (j journaledRegions) DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, o ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	return record(ctx, j.r, "ec2", "DescribeRegions", in, func() (*ec2.DescribeRegionsOutput, error) { return j.c.DescribeRegions(ctx, in, o...) })
}

// journaledLookup journals LookupEvents with the region asked and, of the
// answer, the IDs of the events only: the records themselves are
// CloudTrail's, and the credentials found in them are in the summary.
type journaledLookup struct {
	c      cloudtrail.LookupEventsAPIClient
	r      *recorder
	region string
}

// lookupRequest is a LookupEvents request as journaled: with its region.
type lookupRequest struct {
	Region string                        `json:"region"`
	Input  *cloudtrail.LookupEventsInput `json:"input"`
}

func (j journaledLookup) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, o ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	return recordAs(ctx, j.r, "cloudtrail", "LookupEvents", lookupRequest{Region: j.region, Input: in},
		func() (*cloudtrail.LookupEventsOutput, error) { return j.c.LookupEvents(ctx, in, o...) },
		func(out *cloudtrail.LookupEventsOutput) any {
			ids := make([]string, 0, len(out.Events))
			for _, e := range out.Events {
				ids = append(ids, aws.ToString(e.EventId))
			}
			return map[string]any{"eventIds": ids, "more": aws.ToString(out.NextToken) != ""}
		})
}
