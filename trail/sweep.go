package trail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	"github.com/keyleak/keyleak/internal/awserr"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// pageSize is LookupEvents' largest page.
const pageSize = 50

// Sweep reads every event of a key, and of every key derived from it, from
// the CloudTrail LookupEvents API in all given regions at once.
//
// Regions run in parallel. Within a region every lookup (the leaked key's
// and each derived key's) goes through one rate limiter paced at the
// CloudTrail quota, so a key found mid-sweep fills the gaps of the others
// instead of waiting for them, and the region never throttles itself.
// Throttles and 5xx answers are retried here with back-off, so the clients
// must not retry them too: build them with NoSDKRetries (or an aws.Config
// with RetryMaxAttempts 1), or each throttle is paid for twice and
// uncounted.
type Sweep struct {
	regions []Region
	client  func(region string) cloudtrail.LookupEventsAPIClient
	cfg     config
}

// NewSweep prepares a sweep over regions (from ListRegions and
// SelectRegions; those not enabled are reported, not queried). client
// returns the CloudTrail client of a region; it is called once per enabled
// region and run.
func NewSweep(regions []Region, client func(region string) cloudtrail.LookupEventsAPIClient, opts ...Option) *Sweep {
	return &Sweep{regions: regions, client: client, cfg: newConfig(opts)}
}

// NoSDKRetries turns off the SDK's own retries of a CloudTrail client, for
// use as cloudtrail.NewFromConfig(cfg, trail.NoSDKRetries). The sweep
// retries throttles itself, paced by its limiter, and counts them.
func NoSDKRetries(o *cloudtrail.Options) { o.Retryer = aws.NopRetryer{} }

// Window returns the time window the sweep searches, with defaults applied
// at the moment of the call.
func (s *Sweep) Window() Window {
	w := s.cfg.window
	if w.Until.IsZero() {
		w.Until = s.cfg.clock.Now().UTC()
	}
	if w.Since.IsZero() {
		w.Since = w.Until.Add(-LookbackLimit)
	}
	return w
}

// Run sweeps key (and the keys of WithKnownKeys) through every enabled
// region and follows derived keys until none is new. It returns the
// investigation even when it also returns an error (the context was
// cancelled): what was fetched is never thrown away. Failures of single
// regions are not errors; they are in the coverage (see Coverage.Failed).
func (s *Sweep) Run(ctx context.Context, key string) (*Investigation, error) {
	w := s.Window()
	if w.Since.After(w.Until) {
		return nil, fmt.Errorf("sweep cloudtrail: window starts (%s) after it ends (%s)", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	roots := append([]string{key}, s.cfg.known...)
	r := &sweepRun{
		cfg:      s.cfg,
		window:   w,
		coll:     newCollector(s.cfg.pivot, roots),
		seen:     map[string]bool{},
		progress: Progress{Key: key},
		started:  s.cfg.clock.Now(),
	}
	if p := s.cfg.resume; p != nil && p.Key == key {
		r.progress = p.clone()
	}
	var all []*regionRun
	for _, reg := range s.regions {
		rr := &regionRun{status: SourceStatus{Name: reg.Name, State: StateQueued}}
		if !reg.Enabled {
			rr.status.State = StateNotEnabled
		} else {
			rr.client = s.client(reg.Name)
			rr.lim = r.newLimiter(reg.Name)
			rr.listedOff = reg.OptInStatus == "not-opted-in"
			r.enabled = append(r.enabled, rr)
		}
		all = append(all, rr)
	}
	// Events an earlier run kept are part of this one: counted in their
	// region, and the keys they derive are searched (in the windows not
	// covered yet).
	r.byRegion = map[string]*regionRun{}
	for _, rr := range all {
		r.byRegion[rr.status.Name] = rr
	}
	for _, l := range r.seed(s.cfg.kept) {
		roots = append(roots, l.AccessKeyID)
	}
	for _, rr := range all {
		r.emit(rr)
	}
	g, gctx := errgroup.WithContext(ctx)
	r.g, r.ctx = g, gctx
	for _, k := range roots {
		r.addKey(k)
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	cov := Coverage{}
	r.mu.Lock()
	r.settle(all, r.coll.keyIDs())
	for _, rr := range all {
		cov.Sources = append(cov.Sources, rr.status)
	}
	r.mu.Unlock()
	inv := r.coll.investigation(key, r.window, cov, s.cfg.clock.Now())
	if err != nil {
		return inv, fmt.Errorf("sweep cloudtrail: %w", err)
	}
	return inv, nil
}

// regionRun is the state of one region during a run. Fields other than
// client and lim are guarded by sweepRun.mu.
type regionRun struct {
	account string // the account the region belongs to; "" for a one-account sweep
	client  cloudtrail.LookupEventsAPIClient
	lim     Limiter
	status  SourceStatus
	active  int // lookups running
	started time.Time
	failed  bool // an error or denial is recorded and stays
	// searched are the keys whose lookup in the region read to its end.
	searched map[string]bool
	// listedOff marks a region listed as not opted in that is searched
	// anyway (it cannot be disabled): a failure there says so.
	listedOff bool
}

type sweepRun struct {
	cfg     config
	window  Window
	started time.Time // when the run began: windows later than this minus DeliveryLag are never covered
	coll    *collector
	// progress is what is covered so far (guarded by mu); keepMu
	// serializes the event sink and the checkpoint.
	progress Progress
	keepMu   sync.Mutex
	byRegion map[string]*regionRun
	g        *errgroup.Group
	ctx      context.Context
	mu       sync.Mutex
	eventMu  sync.Mutex // serializes cfg.onEvent
	emitMu   sync.Mutex
	enabled  []*regionRun
	seen     map[string]bool
	// route, when set, receives the derived keys a lookup in rr found,
	// instead of addKey: an organization sweep looks a key up in the
	// account it belongs to.
	route func(l KeyLink, rr *regionRun)
	// inFlight, when set, bounds the LookupEvents requests in flight over
	// all regions (and accounts).
	inFlight *slots
}

func (r *sweepRun) newLimiter(region string) Limiter {
	if r.cfg.limiter != nil {
		return r.cfg.limiter(region)
	}
	return rate.NewLimiter(r.cfg.rate, r.cfg.burst)
}

// emit hands a snapshot of rr's status to the progress callback. Snapshot
// and call happen under emitMu so that a later state is never overtaken by
// an earlier one.
func (r *sweepRun) emit(rr *regionRun) {
	if r.cfg.progress == nil {
		return
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	r.mu.Lock()
	st := rr.status
	r.mu.Unlock()
	r.cfg.progress(st)
}

// addKey starts the lookups of a key in every enabled region, once per key.
func (r *sweepRun) addKey(key string) {
	r.mu.Lock()
	if r.seen[key] {
		r.mu.Unlock()
		return
	}
	r.seen[key] = true
	started := r.startLocked(key, r.enabled)
	r.mu.Unlock()
	for _, rr := range started {
		r.emit(rr)
	}
}

// startLocked starts the lookups of key in the given enabled regions and
// returns those started, to be emitted once mu is released. Called with mu
// held.
func (r *sweepRun) startLocked(key string, regions []*regionRun) []*regionRun {
	var started []*regionRun
	for _, rr := range regions {
		if rr.status.State == StateDenied {
			continue // every further lookup would be denied as well
		}
		rr.active++
		rr.status.Lookups++
		if rr.started.IsZero() {
			rr.started = r.cfg.clock.Now()
		}
		if !rr.failed {
			rr.status.State = StateRunning
		}
		started = append(started, rr)
		r.g.Go(func() error { return r.lookup(rr, key) })
	}
	return started
}

// seed adds the events an earlier run kept (those in the window, oldest
// first, so that a key is in the chain before the events it derives keys
// with) and returns the keys they derive.
func (r *sweepRun) seed(kept []Event) []KeyLink {
	var in []Event
	for _, e := range kept {
		if r.window.Contains(e.EventTime) {
			in = append(in, e)
		}
	}
	slices.SortStableFunc(in, func(a, b Event) int { return a.EventTime.Compare(b.EventTime) })
	var derived []KeyLink
	for _, e := range in {
		ok, links := r.coll.add(e)
		if rr := r.byRegion[e.Region]; ok && rr != nil {
			rr.status.Events++
		}
		derived = append(derived, links...)
	}
	return derived
}

// lookup reads the events of key in one region, in the parts of the window
// that no run has covered yet.
func (r *sweepRun) lookup(rr *regionRun, key string) error {
	defer r.finish(rr)
	r.mu.Lock()
	todo := gaps(r.window, r.progress.Covered[rr.status.Name][key])
	r.mu.Unlock()
	for _, w := range todo {
		done, err := r.lookupWindow(rr, key, w)
		if err != nil || !done {
			return err
		}
	}
	r.mu.Lock()
	if rr.searched == nil {
		rr.searched = map[string]bool{}
	}
	rr.searched[key] = true
	r.mu.Unlock()
	return nil
}

// lookupWindow pages through the events of key in one region and window.
// It reports whether it read the window to its end.
func (r *sweepRun) lookupWindow(rr *regionRun, key string, w Window) (bool, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{
			AttributeKey:   types.LookupAttributeKeyAccessKeyId,
			AttributeValue: aws.String(key),
		}},
		StartTime:  aws.Time(w.Since),
		EndTime:    aws.Time(w.Until),
		MaxResults: aws.Int32(pageSize),
	}
	for {
		out, err := r.page(rr, in)
		if err != nil {
			if r.ctx.Err() != nil {
				return false, r.ctx.Err()
			}
			r.fail(rr, err)
			return false, nil
		}
		var fresh []KeyLink
		var added []Event
		var oldest time.Time
		for _, ev := range out.Events {
			e := ParseLookupEvent(ev)
			if e.Region == "" {
				e.Region = rr.status.Name
			}
			ok, links := r.coll.add(e)
			if ok {
				added = append(added, e)
				if r.cfg.onEvent != nil {
					r.eventMu.Lock()
					r.cfg.onEvent(e)
					r.eventMu.Unlock()
				}
			}
			if !e.EventTime.IsZero() && (oldest.IsZero() || e.EventTime.Before(oldest)) {
				oldest = e.EventTime
			}
			fresh = append(fresh, links...)
		}
		last := aws.ToString(out.NextToken) == ""
		// Newest first: with more pages to come, everything after the
		// page's oldest event has been read (events in that very instant
		// may go on in the next page).
		covered := Window{Since: w.Since, Until: w.Until}
		if !last {
			covered.Since = oldest.Add(time.Nanosecond)
			if oldest.IsZero() {
				covered = Window{Since: w.Until, Until: w.Since} // nothing to record
			}
		}
		if err := r.keep(rr, key, added, covered); err != nil {
			return false, err
		}
		r.mu.Lock()
		rr.status.Pages++
		rr.status.Events += len(added)
		r.mu.Unlock()
		r.emit(rr)
		for _, l := range fresh {
			if r.route != nil {
				r.route(l, rr)
			} else {
				r.addKey(l.AccessKeyID)
			}
		}
		if last {
			return true, nil
		}
		in.NextToken = out.NextToken
	}
}

// keep hands a page's new events to the sink, then records the window the
// page covered (never the last DeliveryLag before the run began, which may
// still receive events) and tells the checkpoint.
func (r *sweepRun) keep(rr *regionRun, key string, added []Event, covered Window) error {
	r.keepMu.Lock()
	defer r.keepMu.Unlock()
	if r.cfg.sink != nil && len(added) > 0 {
		if err := r.cfg.sink(added); err != nil {
			return fmt.Errorf("keep events: %w", err)
		}
	}
	if limit := r.started.Add(-DeliveryLag); covered.Until.After(limit) {
		covered.Until = limit
	}
	r.mu.Lock()
	r.progress.add(rr.status.Name, key, covered)
	var snap Progress
	if r.cfg.checkpoint != nil {
		snap = r.progress.clone()
	}
	r.mu.Unlock()
	if r.cfg.checkpoint != nil {
		r.cfg.checkpoint(snap)
	}
	return nil
}

// settle ends a run over regions (those of one account) that know of the
// given keys: a region still queued or running was interrupted; every
// region lists the keys it was searched for in full; and a region read to
// its end is partial when it was not searched for every key, or when
// another region could not be read. A key is derived where its issuing
// call is logged (IAM and STS's global endpoint in us-east-1, STS's
// regional endpoints in their region), so a region that could not be read
// may hide keys that were then looked up nowhere. Called with mu held.
func (r *sweepRun) settle(regions []*regionRun, keys []string) {
	var failed []string
	for _, rr := range regions {
		if rr.status.State == StateQueued || rr.status.State == StateRunning {
			// Only an interrupted run leaves a region unfinished.
			rr.status.State = StateError
			rr.status.Err = "interrupted"
		}
		rr.status.Keys = nil
		for _, k := range keys {
			if rr.searched[k] {
				rr.status.Keys = append(rr.status.Keys, k)
			}
		}
		if rr.status.State == StateError || rr.status.State == StateDenied {
			failed = append(failed, rr.status.Name)
		}
	}
	for _, rr := range regions {
		if rr.status.State != StateOK {
			continue
		}
		var missing []string
		for _, k := range keys {
			if !rr.searched[k] {
				missing = append(missing, k)
			}
		}
		switch {
		case len(missing) > 0:
			rr.status.State = StatePartial
			rr.status.Err = "not searched for " + strings.Join(missing, ", ")
		case len(failed) > 0:
			rr.status.State = StatePartial
			rr.status.Err = fmt.Sprintf("keys derived in %s, which could not be read, were not searched for here", strings.Join(failed, ", "))
		}
	}
}

// page fetches one page, retrying throttles and server errors with
// back-off. Every attempt waits for the region's limiter.
func (r *sweepRun) page(rr *regionRun, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	for attempt := 1; ; attempt++ {
		if err := rr.lim.Wait(r.ctx); err != nil {
			return nil, fmt.Errorf("wait for rate limiter: %w", err)
		}
		out, err := r.send(rr, in)
		if err == nil {
			return out, nil
		}
		if r.ctx.Err() != nil {
			return nil, r.ctx.Err()
		}
		throttle := isThrottle(err)
		if !throttle && !isRetryable(err) || attempt >= r.cfg.maxAttempts {
			if throttle {
				r.mu.Lock()
				rr.status.Throttles++
				r.mu.Unlock()
			}
			return nil, err
		}
		r.mu.Lock()
		if throttle {
			rr.status.Throttles++
		}
		rr.status.Retries++
		r.mu.Unlock()
		r.emit(rr)
		select {
		case <-r.cfg.clock.After(r.backoff(attempt)):
		case <-r.ctx.Done():
			return nil, r.ctx.Err()
		}
	}
}

// send makes one LookupEvents request, within the bound on requests in
// flight when there is one (next pages first, see slots). The bound is
// taken after the region's limiter,
// so that a region waiting for its quota never holds a slot another region
// could use.
func (r *sweepRun) send(rr *regionRun, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	if r.inFlight != nil {
		if err := r.inFlight.acquire(r.ctx, in.NextToken != nil); err != nil {
			return nil, err
		}
		defer r.inFlight.release()
	}
	return rr.client.LookupEvents(r.ctx, in)
}

// backoff is the wait before attempt+1: exponential, capped, with half of
// it random so that regions throttled together do not retry together.
func (r *sweepRun) backoff(attempt int) time.Duration {
	d := r.cfg.backoffBase << min(attempt-1, 20)
	if d > r.cfg.backoffMax || d <= 0 {
		d = r.cfg.backoffMax
	}
	half := d / 2
	return half + rand.N(half+1)
}

// fail records the first error of a region; later lookups in it still run
// (a new key may be readable) but the region stays failed.
func (r *sweepRun) fail(rr *regionRun, err error) {
	r.mu.Lock()
	if !rr.failed {
		rr.failed = true
		rr.status.State = StateError
		if isDenied(err) {
			rr.status.State = StateDenied
		}
		rr.status.Err = errorReason(err)
		if rr.listedOff {
			rr.status.Err = "listed as not opted in, although this region cannot be disabled: " + rr.status.Err
		}
	}
	r.mu.Unlock()
	r.emit(rr)
}

// finish ends one lookup; the region is done when its last lookup ends (a
// key found later reopens it).
func (r *sweepRun) finish(rr *regionRun) {
	r.mu.Lock()
	rr.active--
	if rr.active == 0 {
		rr.status.Duration = r.cfg.clock.Now().Sub(rr.started)
		if !rr.failed && r.ctx.Err() == nil {
			rr.status.State = StateOK
		}
	}
	r.mu.Unlock()
	r.emit(rr)
}

var (
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
)

func isThrottle(err error) bool { return throttles.IsErrorThrottle(err) == aws.TrueTernary }

// isRetryable covers 5xx answers, broken connections and timeouts, as the
// SDK's standard retryer does.
func isRetryable(err error) bool { return retryables.IsErrorRetryable(err) == aws.TrueTernary }

// isDenied reports whether err means the caller may not read a region: no
// permission, a credential the region does not accept, or a region that
// turned out not to be enabled.
func isDenied(err error) bool { return awserr.IsAuth(err) || awserr.IsOptIn(err) }

// errorReason is the short reason shown in the coverage: the AWS error code
// and message when there is one.
func errorReason(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if msg := ae.ErrorMessage(); msg != "" {
			return ae.ErrorCode() + ": " + msg
		}
		return ae.ErrorCode()
	}
	return strings.TrimSpace(err.Error())
}

// ParseLookupEvent turns one LookupEvents result into an Event. It parses
// the CloudTrailEvent record and falls back to the summary fields of the
// answer for anything the record lacks, so it never loses an event.
func ParseLookupEvent(ev types.Event) Event {
	var e Event
	if ev.CloudTrailEvent != nil {
		if p, err := parseRecordString(*ev.CloudTrailEvent); err == nil {
			e = p
		}
	}
	if e.Raw == nil {
		e = synthesize(ev)
	}
	if e.EventID == "" {
		e.EventID = aws.ToString(ev.EventId)
	}
	if e.EventName == "" {
		e.EventName = aws.ToString(ev.EventName)
	}
	if e.EventSource == "" {
		e.EventSource = aws.ToString(ev.EventSource)
	}
	if e.EventTime.IsZero() && ev.EventTime != nil {
		e.EventTime = ev.EventTime.UTC()
	}
	if e.UserIdentity.AccessKeyID == "" {
		e.UserIdentity.AccessKeyID = aws.ToString(ev.AccessKeyId)
	}
	return e
}

// synthesize builds a minimal record from LookupEvents' summary fields, for
// an answer without a readable CloudTrailEvent.
func synthesize(ev types.Event) Event {
	rec := map[string]any{
		"eventID":     aws.ToString(ev.EventId),
		"eventName":   aws.ToString(ev.EventName),
		"eventSource": aws.ToString(ev.EventSource),
		"readOnly":    strings.EqualFold(aws.ToString(ev.ReadOnly), "true"),
		"userIdentity": map[string]any{
			"accessKeyId": aws.ToString(ev.AccessKeyId),
			"userName":    aws.ToString(ev.Username),
		},
	}
	if ev.EventTime != nil {
		rec["eventTime"] = ev.EventTime.UTC().Format(time.RFC3339)
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		panic(err) // a map of strings and bools always marshals
	}
	e, err := ParseRecord(raw)
	if err != nil {
		panic(err) // raw is a JSON object by construction
	}
	return e
}
