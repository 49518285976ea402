package trail

import (
	"fmt"
	"strings"
	"time"
)

// State is where a region's sweep or a file set's scan stands.
type State string

// States of a source. StateOK is the finished-without-error state that a
// progress display may show as "done".
const (
	StateQueued     State = "queued"
	StateRunning    State = "running"
	StateOK         State = "ok"
	StateError      State = "error"
	StateNotEnabled State = "not enabled" // region not opted in: listed, never queried
	StateDenied     State = "denied"      // the caller may not read this region
	// StatePartial is a region read to its end, but not for every key of
	// the investigation: a key derived where the sweep could not read (a
	// denied or failed region) was never looked up here.
	StatePartial State = "partial"
)

// SourceStatus is the progress and, at the end, the coverage of one source:
// a region of the API sweep, or a set of log files (one region of an S3
// layout, or "files" for logs outside it).
type SourceStatus struct {
	Name      string `json:"name"`
	State     State  `json:"state"`
	Err       string `json:"error,omitempty"` // why, for StateError and StateDenied
	Pages     int    `json:"pages"`           // LookupEvents pages received
	Events    int    `json:"events"`          // events found (after de-duplication for logs)
	Throttles int    `json:"throttles"`       // ThrottlingException answers
	Retries   int    `json:"retries"`         // requests repeated after a throttle or 5xx
	Lookups   int    `json:"lookups"`         // keys looked up in the region so far
	// Keys are the keys the source was searched for in full, in the order
	// of the key chain: a key that is missing here was not searched there.
	Keys     []string    `json:"keys,omitempty"`
	Files    int         `json:"files,omitempty"` // log files in the set
	Scanned  int         `json:"scanned,omitempty"`
	Records  int         `json:"records,omitempty"` // records read from the set's files
	Bytes    int64       `json:"bytes,omitempty"`   // bytes read from the set's files (compressed)
	BadFiles []FileError `json:"badFiles,omitempty"`
	// Skipped names what was left out on purpose and why: files that are
	// not regular files, records that are not JSON objects or are nested
	// too deep. Unlike BadFiles, it is no failure of the read.
	Skipped  []FileError   `json:"skipped,omitempty"`
	Duration time.Duration `json:"duration"`
}

// FileError names a log file that could not be read to its end and why.
// Events before the point of failure were kept.
type FileError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Failed tells whether this source was not read completely.
func (s SourceStatus) Failed() bool {
	return (s.State != StateOK && s.State != StateNotEnabled) || len(s.BadFiles) > 0
}

// Coverage accounts for every source of an investigation, in name order.
type Coverage struct {
	Sources []SourceStatus `json:"sources"`
}

// Failed tells whether any region or file set was not read completely
// (errors, denied regions, unreadable files, an interrupted run); the CLI
// then exits with the "partial" code. Regions that are not enabled are not
// failures: there is nothing in them to read.
func (c Coverage) Failed() bool {
	for _, s := range c.Sources {
		if s.Failed() {
			return true
		}
	}
	return false
}

// Summary is one sentence about what failed, for the CLI's error line; ""
// when nothing did. Sources that failed the same way are named together
// ("denied (…): 3 sources: 111…, 222…, 333…"), so that an organization of
// a thousand accounts, a hundred of them without the role, reads as one
// part naming them, not a hundred.
func (c Coverage) Summary() string {
	var parts []string
	groups := map[string][]string{}
	var order []string
	for _, s := range c.Sources {
		switch {
		case len(s.BadFiles) > 0:
			parts = append(parts, fmt.Sprintf("%s: %d unreadable file(s)", s.Name, len(s.BadFiles)))
		case s.Failed():
			why := string(s.State)
			if s.Err != "" {
				why = fmt.Sprintf("%s (%s)", s.State, s.Err)
			}
			if _, ok := groups[why]; !ok {
				order = append(order, why)
			}
			groups[why] = append(groups[why], s.Name)
		}
	}
	for _, why := range order {
		names := groups[why]
		if len(names) == 1 {
			parts = append(parts, names[0]+": "+why)
			continue
		}
		parts = append(parts, fmt.Sprintf("%s: %d sources: %s", why, len(names), strings.Join(names, ", ")))
	}
	if len(parts) == 0 {
		return ""
	}
	return "incomplete: " + strings.Join(parts, "; ")
}
