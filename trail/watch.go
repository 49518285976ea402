package trail

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// DeliveryDelay is how late CloudTrail's LookupEvents may show a call:
// usually about 5 minutes, at worst some 15. A watch looks that far back
// on every poll, and should last longer than it.
const DeliveryDelay = 15 * time.Minute

// DefaultWatch is how long a watch lasts unless told: longer than
// CloudTrail's delivery delay, so that a call made when it starts is seen
// before it ends.
const DefaultWatch = 20 * time.Minute

// watchPages bounds the pages read per key, region and poll: a key
// making more than that many calls a quarter of an hour is not contained,
// and the first page says so.
const watchPages = 5

// WatchSpec says what a watch watches.
type WatchSpec struct {
	// Keys are the access key IDs to watch: the leaked key and every
	// credential made from it. Keys their calls make are watched too.
	Keys []string
	// Regions to poll; us-east-1 (IAM, global STS) is always added.
	Regions []string
	// For is how long to watch (default DefaultWatch), Every the pause
	// between polls (default 30 s).
	For, Every time.Duration
	// Known are the Event.Key of calls already seen (by the investigation):
	// they are not reported again.
	Known map[string]bool
	// OnCall receives each call not seen before, as soon as a poll finds
	// it, from the watch's goroutine.
	OnCall func(Event)
	// OnPoll receives the watch's state before the first poll (Polls 0)
	// and after each poll, from the watch's goroutine: how many polls, the
	// keys and regions watched, the lookups that failed so far.
	OnPoll func(WatchPoll)
}

// WatchPoll is the state of a watch after a poll.
type WatchPoll struct {
	Polls    int
	Keys     []string
	Regions  []string
	Failures []string
}

// WatchResult is what a watch saw.
type WatchResult struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Polls   int       `json:"polls"`
	Keys    []string  `json:"keys"`
	Regions []string  `json:"regions"`
	// Calls are the calls of the watched keys not seen before, oldest
	// first, whether they worked or not.
	Calls []Event `json:"-"`
	// Failures are the lookups that failed, "region: reason", once each.
	Failures []string `json:"failures,omitempty"`
}

// WorkedAfter tells whether a call proves its credential still works: it
// succeeded, at or after since, and is not sts:GetCallerIdentity, which
// answers whatever a policy says.
func WorkedAfter(e Event, since time.Time) bool {
	return e.ErrorCode == "" && e.EventName != "GetCallerIdentity" && !e.EventTime.Before(since)
}

// Worked returns the calls that worked at or after since: proof that a
// watched credential still works. sts:GetCallerIdentity is left out: it
// answers whatever a policy says.
func (r *WatchResult) Worked(since time.Time) []Event {
	var out []Event
	for _, e := range r.Calls {
		if WorkedAfter(e, since) {
			out = append(out, e)
		}
	}
	return out
}

// Watch polls LookupEvents for calls of the keys in every region given and
// us-east-1, for spec.For (the last poll begins once that has passed, however
// long the polls take), each poll looking DeliveryDelay back, and hands
// each call not seen before to spec.OnCall at once. A key a watched key
// makes (a session token, a new access key) is watched from the next poll.
// Regions poll in parallel, each paced by its limiter (WithLimiterRate,
// WithLimiter); WithClock drives the time. A failed lookup is recorded in
// the result and the watch goes on; it returns early only when ctx ends,
// with what it saw.
func Watch(ctx context.Context, spec WatchSpec, client func(region string) cloudtrail.LookupEventsAPIClient, opts ...Option) (*WatchResult, error) {
	cfg := newConfig(opts)
	if spec.For <= 0 {
		spec.For = DefaultWatch
	}
	if spec.Every <= 0 {
		spec.Every = 30 * time.Second
	}
	regions := slices.Clone(spec.Regions)
	if !slices.Contains(regions, "us-east-1") {
		regions = append(regions, "us-east-1")
	}
	sort.Strings(regions)
	regions = slices.Compact(regions)
	res := &WatchResult{Start: cfg.clock.Now().UTC(), Regions: regions}
	keys := slices.Clone(spec.Keys)
	seen := map[string]bool{}
	for k := range spec.Known {
		seen[k] = true
	}
	limiters := map[string]Limiter{}
	for _, r := range regions {
		if cfg.limiter != nil {
			limiters[r] = cfg.limiter(r)
		} else {
			limiters[r] = rate.NewLimiter(cfg.rate, cfg.burst)
		}
	}
	failed := map[string]bool{}
	end := res.Start.Add(spec.For)
	var mu sync.Mutex
	if spec.OnPoll != nil {
		spec.OnPoll(WatchPoll{Keys: slices.Clone(keys), Regions: regions})
	}
	for {
		res.Polls++
		pollStart := cfg.clock.Now()
		since := pollStart.Add(-DeliveryDelay)
		watched := slices.Clone(keys)
		var fresh []Event
		g, gctx := errgroup.WithContext(ctx)
		for _, region := range regions {
			g.Go(func() error {
				for _, k := range watched {
					evs, err := lookupSince(gctx, client(region), limiters[region], k, since)
					mu.Lock()
					if err != nil && gctx.Err() == nil {
						if why := region + ": " + errorReason(err); !failed[why] {
							failed[why] = true
							res.Failures = append(res.Failures, why)
						}
					}
					for _, e := range evs {
						if e.Region == "" {
							e.Region = region
						}
						if seen[e.Key()] {
							continue
						}
						seen[e.Key()] = true
						fresh = append(fresh, e)
						if l, ok := e.Derivation(); ok && !slices.Contains(keys, l.AccessKeyID) {
							keys = append(keys, l.AccessKeyID)
						}
					}
					mu.Unlock()
				}
				return nil
			})
		}
		_ = g.Wait() // lookups record their errors; only ctx ends the watch
		sort.Slice(fresh, func(i, j int) bool { return fresh[i].EventTime.Before(fresh[j].EventTime) })
		for _, e := range fresh {
			if spec.OnCall != nil {
				spec.OnCall(e)
			}
		}
		res.Calls = append(res.Calls, fresh...)
		if spec.OnPoll != nil && ctx.Err() == nil {
			mu.Lock()
			p := WatchPoll{Polls: res.Polls, Keys: slices.Clone(keys), Regions: regions, Failures: slices.Clone(res.Failures)}
			mu.Unlock()
			spec.OnPoll(p)
		}
		if ctx.Err() != nil || !pollStart.Before(end) {
			break
		}
		if !cfg.clock.Now().Before(end) {
			// The poll began inside the window and ended after it (a slow
			// account, a throttle): one more poll, so that calls made
			// until the window's end are looked for too.
			continue
		}
		select {
		case <-cfg.clock.After(min(spec.Every, end.Sub(cfg.clock.Now()))):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	res.End = cfg.clock.Now().UTC()
	res.Keys = keys
	sort.Strings(res.Failures)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("watch keys: %w", err)
	}
	return res, nil
}

// lookupSince reads the key's events in a region since a time, newest
// first, watchPages pages at most.
func lookupSince(ctx context.Context, api cloudtrail.LookupEventsAPIClient, lim Limiter, keyID string, since time.Time) ([]Event, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}},
		StartTime:        aws.Time(since),
		MaxResults:       aws.Int32(pageSize),
	}
	var out []Event
	for range watchPages {
		if err := lim.Wait(ctx); err != nil {
			return out, fmt.Errorf("wait for rate limiter: %w", err)
		}
		page, err := api.LookupEvents(ctx, in)
		if err != nil {
			return out, err
		}
		for _, ev := range page.Events {
			out = append(out, ParseLookupEvent(ev))
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}
