package trail

import (
	"slices"
	"strings"
	"time"
)

// Interrupted is the coverage source of an investigation rebuilt from the
// events an interrupted run kept: which regions or files it had searched,
// and for which keys, is not known.
const Interrupted = "interrupted run"

// Rebuild makes an investigation of key from events kept by a run that
// stopped before it saved its result (killed, or the machine went down):
// the events, the chain of keys they show, the window they span, and a
// coverage that says plainly it is not known. now decides which derived
// keys may still be valid.
func Rebuild(key string, events []Event, now time.Time) *Investigation {
	sorted := slices.Clone(events)
	// Oldest first, so that a key is in the chain before the events that
	// derive keys from it.
	slices.SortStableFunc(sorted, func(a, b Event) int {
		if c := a.EventTime.Compare(b.EventTime); c != 0 {
			return c
		}
		return strings.Compare(a.Key(), b.Key())
	})
	c := newCollector(true, []string{key})
	var w Window
	for _, e := range sorted {
		c.add(e)
		if e.EventTime.IsZero() {
			continue
		}
		if w.Since.IsZero() || e.EventTime.Before(w.Since) {
			w.Since = e.EventTime
		}
		if e.EventTime.After(w.Until) {
			w.Until = e.EventTime
		}
	}
	cov := Coverage{Sources: []SourceStatus{{Name: Interrupted, State: StateError,
		Err: "the run stopped before it saved its coverage: which regions were searched, and for which keys, is not known"}}}
	return c.investigation(key, w, cov, now)
}
