package trailtest

import (
	"context"
	"sync"
	"time"
)

// Limiter is a rate limiter on virtual time with a burst of one: Wait never
// sleeps, it books the next free slot (one every 1/rate) and returns at once.
// Elapsed then tells how long the requests it let through would have taken
// on a real limiter, which is what a sweep's pacing is judged by, without a
// test measuring wall time. It satisfies trail.Limiter.
type Limiter struct {
	mu       sync.Mutex
	interval time.Duration
	waits    int
}

// NewLimiter returns a virtual limiter of perSecond requests a second.
func NewLimiter(perSecond float64) *Limiter {
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

// Wait books a slot; it fails only when ctx is done.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return nil
}

// Waits returns how many requests the limiter let through.
func (l *Limiter) Waits() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits
}

// Elapsed returns the virtual time at which the last request went out: the
// first goes at zero, each next one interval later.
func (l *Limiter) Elapsed() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.waits == 0 {
		return 0
	}
	return time.Duration(l.waits-1) * l.interval
}

// Limiters hands out one virtual Limiter per region and keeps them, so a
// test can read each region's count afterwards.
type Limiters struct {
	mu        sync.Mutex
	perSecond float64
	byRegion  map[string]*Limiter
}

// NewLimiters returns a set of virtual limiters of perSecond each.
func NewLimiters(perSecond float64) *Limiters {
	return &Limiters{perSecond: perSecond, byRegion: map[string]*Limiter{}}
}

// For returns the region's limiter, creating it on first use.
func (ls *Limiters) For(region string) *Limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.byRegion[region]
	if l == nil {
		l = NewLimiter(ls.perSecond)
		ls.byRegion[region] = l
	}
	return l
}

// Elapsed returns the longest virtual time over all regions: regions run in
// parallel, so that is the sweep's virtual duration.
func (ls *Limiters) Elapsed() time.Duration {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var m time.Duration
	for _, l := range ls.byRegion {
		m = max(m, l.Elapsed())
	}
	return m
}

// Clock is a clock on virtual time: After fires at once and moves the clock
// forward by the duration waited. It satisfies trail.Clock.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After advances the clock by d and returns a channel that has already
// fired.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Slept returns the total of the waits asked through After.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}
