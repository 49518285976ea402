package trail

import (
	"slices"
	"time"
)

// DeliveryLag is how long CloudTrail may take to make an event visible to
// LookupEvents (typically minutes; 15 at most as AWS documents it, with a
// margin here). A window that ends less than DeliveryLag before a sweep
// read it may still receive events, so it is never recorded as covered:
// a later run reads it again.
const DeliveryLag = 20 * time.Minute

// Progress is how far sweeps of a key got: for each region and key, the
// windows of time read in full. A run cut short (killed, cancelled, a
// region that failed) resumes from it instead of sweeping everything
// again, and a later run reads only what is new.
type Progress struct {
	Key string `json:"key"`
	// Covered maps region -> access key ID -> windows read in full, sorted
	// and disjoint.
	Covered map[string]map[string][]Window `json:"covered"`
}

// clone is a deep copy.
func (p Progress) clone() Progress {
	out := Progress{Key: p.Key, Covered: make(map[string]map[string][]Window, len(p.Covered))}
	for r, keys := range p.Covered {
		m := make(map[string][]Window, len(keys))
		for k, ws := range keys {
			m[k] = slices.Clone(ws)
		}
		out.Covered[r] = m
	}
	return out
}

// add records w as covered for key in region.
func (p *Progress) add(region, key string, w Window) {
	if w.Since.After(w.Until) {
		return
	}
	if p.Covered == nil {
		p.Covered = map[string]map[string][]Window{}
	}
	if p.Covered[region] == nil {
		p.Covered[region] = map[string][]Window{}
	}
	p.Covered[region][key] = union(p.Covered[region][key], w)
}

// union adds w to sorted, disjoint windows, merging what overlaps or
// touches.
func union(ws []Window, w Window) []Window {
	out := make([]Window, 0, len(ws)+1)
	for _, x := range ws {
		switch {
		case x.Until.Add(time.Nanosecond).Before(w.Since):
			out = append(out, x)
		case w.Until.Add(time.Nanosecond).Before(x.Since):
			out = append(out, w)
			w = x
		default:
			if x.Since.Before(w.Since) {
				w.Since = x.Since
			}
			if x.Until.After(w.Until) {
				w.Until = x.Until
			}
		}
	}
	return append(out, w)
}

// gaps returns the parts of w not covered by the sorted, disjoint windows,
// newest first (the order LookupEvents answers in).
func gaps(w Window, covered []Window) []Window {
	var out []Window
	at := w.Until
	for _, c := range slices.Backward(covered) {
		if c.Since.After(at) {
			continue
		}
		if c.Until.Before(w.Since) {
			break
		}
		if c.Until.Before(at) {
			out = append(out, Window{Since: maxTime(c.Until.Add(time.Nanosecond), w.Since), Until: at})
		}
		at = c.Since.Add(-time.Nanosecond)
		if at.Before(w.Since) {
			return out
		}
	}
	if !at.Before(w.Since) {
		out = append(out, Window{Since: w.Since, Until: at})
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// WithEventSink hands the events each LookupEvents page adds to fn as soon
// as they arrive, so that a caller keeps them (a case's events.jsonl)
// before the sweep counts their window as covered. Calls are serialized;
// an error stops the sweep.
func WithEventSink(fn func([]Event) error) Option { return func(c *config) { c.sink = fn } }

// WithCheckpoint calls fn with the sweep's progress after every page whose
// events the sink has taken. Calls are serialized and fn must return
// quickly (write at most every so often).
func WithCheckpoint(fn func(Progress)) Option { return func(c *config) { c.checkpoint = fn } }

// WithResume resumes from an earlier run's progress of the same key:
// windows it covered are not looked up again, and its events (those kept,
// within the window) are part of the result, with the keys they derive
// searched too.
func WithResume(p Progress, kept []Event) Option {
	return func(c *config) {
		cp := p.clone()
		c.resume = &cp
		c.kept = kept
	}
}
