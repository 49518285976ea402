package trail

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/time/rate"
)

// Window bounds an investigation in time. A zero bound is open.
type Window struct {
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Contains tells whether t lies in the window. An unknown (zero) time is
// kept: an event is never dropped for a timestamp nobody could read.
func (w Window) Contains(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	return (w.Since.IsZero() || !t.Before(w.Since)) && (w.Until.IsZero() || !t.After(w.Until))
}

// LookbackLimit is how far back LookupEvents reaches, and the default window
// of a sweep.
const LookbackLimit = 90 * 24 * time.Hour

// Clock is the time source of a sweep: Now for durations and windows, After
// for back-off sleeps. Tests pass a virtual clock so that nothing sleeps.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Limiter paces requests; *rate.Limiter satisfies it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Option configures a Sweep or ScanLogs. Options that concern only one of
// them are ignored by the other.
type Option func(*config)

type config struct {
	window      Window
	clock       Clock
	progress    func(SourceStatus)
	rate        rate.Limit
	burst       int
	limiter     func(region string) Limiter
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	pivot       bool
	known       []string
	concurrency int
	onEvent     func(Event)
	sink        func([]Event) error
	checkpoint  func(Progress)
	resume      *Progress
	kept        []Event
}

func newConfig(opts []Option) config {
	c := config{
		clock:       realClock{},
		rate:        2,
		burst:       1,
		maxAttempts: 8,
		backoffBase: 500 * time.Millisecond,
		backoffMax:  8 * time.Second,
		pivot:       true,
		concurrency: runtime.GOMAXPROCS(0),
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithWindow limits the search to [since, until]. For a sweep a zero until
// is now and a zero since is 90 days before until (LookupEvents' reach); for
// log files zero bounds are open.
func WithWindow(since, until time.Time) Option {
	return func(c *config) { c.window = Window{Since: since.UTC(), Until: until.UTC()} }
}

// WithClock replaces the wall clock (tests).
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithProgress receives a snapshot of a source's status whenever it changes:
// a page or a file read, a throttle, a state change. Calls are serialized
// (the callback needs no locking) and made from the worker goroutines, so it
// must return quickly, e.g. by sending to a buffered channel or a tea.Program.
func WithProgress(fn func(SourceStatus)) Option { return func(c *config) { c.progress = fn } }

// WithLimiterRate sets the pace of LookupEvents per region (default 2
// requests per second, burst 1: AWS's quota, so that the sweep is never
// throttled by its own requests).
func WithLimiterRate(perSecond rate.Limit, burst int) Option {
	return func(c *config) { c.rate, c.burst = perSecond, max(burst, 1) }
}

// WithLimiter replaces the per-region rate limiters, e.g. with
// trailtest.Limiter so that unit tests do not sleep. newLimiter is called
// once per region and run.
func WithLimiter(newLimiter func(region string) Limiter) Option {
	return func(c *config) { c.limiter = newLimiter }
}

// WithMaxAttempts bounds the attempts of one LookupEvents page (default 8)
// before the region is reported as failed.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = max(n, 1) } }

// WithBackoff sets the first and the longest wait between attempts (default
// 500 ms doubling up to 8 s, with jitter).
func WithBackoff(base, maxWait time.Duration) Option {
	return func(c *config) { c.backoffBase, c.backoffMax = base, max(maxWait, base) }
}

// WithPivot turns following derived keys on or off (default on).
func WithPivot(on bool) Option { return func(c *config) { c.pivot = on } }

// WithKnownKeys searches these keys from the start too, as roots of their
// own (e.g. derived keys an earlier run of the same case found).
func WithKnownKeys(keys ...string) Option {
	return func(c *config) { c.known = append(c.known, keys...) }
}

// WithOnEvent receives every event a sweep collects, once (after
// de-duplication on eventID), as soon as its page is read: containment acts
// on what a key minted while the sweep is still paging through older
// events. Calls are serialized and made from the worker goroutines, so fn
// must return quickly. ScanLogs ignores it.
func WithOnEvent(fn func(Event)) Option { return func(c *config) { c.onEvent = fn } }

// WithConcurrency sets how many log files are read at once (default
// GOMAXPROCS).
func WithConcurrency(n int) Option { return func(c *config) { c.concurrency = max(n, 1) } }
