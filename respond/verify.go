package respond

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// VerifyRequest is what a watch for further use needs.
type VerifyRequest struct {
	// For is how long to watch (default trail.DefaultWatch: longer than
	// CloudTrail's delivery delay), Every the pause between polls.
	For, Every time.Duration
	// LookupRate and LookupBurst pace LookupEvents per region (default 2
	// and 1, AWS's quota).
	LookupRate  float64
	LookupBurst int
	// OnCall receives each call not seen before as soon as a poll finds
	// it, and whether it worked after Since (proof that containment is not
	// complete).
	OnCall func(e trail.Event, worked bool)
	// OnPoll receives the watch's state after each poll.
	OnPoll func(trail.WatchPoll)
	// Options are passed to trail.Watch (tests: a clock).
	Options []trail.Option
}

// VerifyResult is what a watch saw: the JSON of keyleak verify.
type VerifyResult struct {
	*trail.WatchResult
	// Since is the time after which a call that worked means containment
	// is not complete: the contain run's read-back, or the watch's start.
	Since time.Time            `json:"since"`
	Calls []trail.EventSummary `json:"calls"`
	// Worked are the calls, among Calls, that worked after Since.
	Worked []trail.EventSummary `json:"worked"`
	Delay  string               `json:"delay"`
}

// VerifySince is the time after which a call that worked means the case's
// containment is not complete: when the contain run last read AWS back,
// or now when nothing was contained.
func (e *Engine) VerifySince(c *playbook.Case) (time.Time, error) {
	w, err := caseview.WatchedOf(c)
	if err != nil {
		return time.Time{}, err
	}
	if w.ContainedAt.IsZero() {
		return e.now(), nil
	}
	return w.ContainedAt, nil
}

// Verify watches CloudTrail for calls of the leaked key and of every
// credential the case found made from it (and any they make), in every
// region where any was seen and in us-east-1, for req.For. Each new call
// is kept in the case's events as soon as it is found. A call that worked
// after containment is a PartialError (containment is not complete), as
// is a region that could not be read; the result is returned with both.
func (e *Engine) Verify(ctx context.Context, c *playbook.Case, req VerifyRequest) (*VerifyResult, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	w, err := caseview.WatchedOf(c)
	if err != nil {
		return nil, err
	}
	since := w.ContainedAt
	if since.IsZero() {
		since = e.now()
	}
	if req.LookupRate <= 0 {
		req.LookupRate = 2
	}
	if req.LookupBurst <= 0 {
		req.LookupBurst = 1
	}
	// The case's events are opened once for the whole watch (opening reads
	// every record the case holds), and each call found is appended and
	// synced at once: a watch stopped half-way loses nothing it saw.
	kept, err := trail.OpenEventsFile(c.Path(playbook.EventsFile))
	if err != nil {
		return nil, fmt.Errorf("keep the calls found: %w", err)
	}
	var keepErr error
	spec := trail.WatchSpec{Keys: w.Keys, Regions: w.Regions, For: req.For, Every: req.Every, Known: w.Known, OnPoll: req.OnPoll,
		OnCall: func(ev trail.Event) {
			if _, err := kept.Append([]trail.Event{ev}); err != nil && keepErr == nil {
				keepErr = fmt.Errorf("keep the calls found: %w", err)
			}
			if req.OnCall != nil {
				req.OnCall(ev, trail.WorkedAfter(ev, since))
			}
		}}
	opts := append([]trail.Option{trail.WithLimiterRate(rate.Limit(req.LookupRate), req.LookupBurst)}, req.Options...)
	res, werr := trail.Watch(ctx, spec, func(region string) cloudtrail.LookupEventsAPIClient { return clients.CloudTrail(region) }, opts...)
	if err := kept.Close(); err != nil && keepErr == nil {
		keepErr = fmt.Errorf("keep the calls found: %w", err)
	}
	if res == nil {
		return nil, werr
	}
	out := &VerifyResult{WatchResult: res, Since: since.UTC(), Calls: []trail.EventSummary{}, Worked: []trail.EventSummary{},
		Delay: playbook.DeliveryDelayNote}
	for _, ev := range res.Calls {
		out.Calls = append(out.Calls, ev.Summary())
	}
	for _, ev := range res.Worked(since) {
		out.Worked = append(out.Worked, ev.Summary())
	}
	switch {
	case werr != nil:
		return out, werr
	case keepErr != nil:
		return out, keepErr
	case len(out.Worked) > 0:
		return out, &PartialError{Err: fmt.Errorf("%d call(s) of attacker credentials worked after %s: containment is not complete; run keyleak contain --key %s again",
			len(out.Worked), since.UTC().Format(time.RFC3339), c.Meta().KeyID)}
	case len(res.Failures) > 0:
		return out, &PartialError{Err: errors.New("CloudTrail could not be read in " + strings.Join(res.Failures, "; ") + ": calls there were not watched")}
	}
	return out, nil
}
