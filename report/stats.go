package report

import (
	"cmp"
	"iter"
	"slices"
	"time"
)

// BinWidth is the width of one histogram bin.
const BinWidth = 10 * time.Minute

// maxFilledBins bounds the histogram when gaps between events are filled
// with empty bins: a stray timestamp years away must not make a million
// empty bins. Past it only non-empty bins are kept.
const maxFilledBins = 20000

// topN bounds the lists of attacker source IPs and user agents kept in Stats.
const topN = 20

// Stats is a one-pass summary of a model's events.
type Stats struct {
	// Events is the number of events.
	Events int `json:"events"`
	// Verdicts, Severities count events per normalised verdict and severity.
	Verdicts   map[Verdict]int  `json:"verdicts"`
	Severities map[Severity]int `json:"severities"`
	// Tactics counts events per ATT&CK tactic, Categories per keyleak
	// category; events without one are not counted.
	Tactics    map[string]int `json:"tactics,omitempty"`
	Categories map[string]int `json:"categories,omitempty"`
	// Regions lists every region with events, sorted by name.
	Regions []RegionCount `json:"regions,omitempty"`
	// Keys counts events per signing access key ID.
	Keys map[string]int `json:"keys,omitempty"`
	// Failed counts events with an error code (denied or failed calls).
	Failed int `json:"failed"`
	// First and Last are the times of the oldest and newest event.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// FirstAttacker is the oldest attacker event (without Raw), nil when
	// there is none; LastAttacker is the time of the newest.
	FirstAttacker *Event    `json:"firstAttacker,omitempty"`
	LastAttacker  time.Time `json:"lastAttacker,omitzero"`
	// AttackerIPs and AttackerUserAgents are the most frequent attacker
	// source IPs and user agents (at most 20 each), most frequent first;
	// AttackerIPCount is the number of distinct attacker source IPs.
	AttackerIPs        []Count `json:"attackerIPs,omitempty"`
	AttackerIPCount    int     `json:"attackerIPCount"`
	AttackerUserAgents []Count `json:"attackerUserAgents,omitempty"`
	// Activity groups attacker events by ATT&CK tactic and API call,
	// tactics in ATT&CK's order, calls by first occurrence.
	Activity []Activity `json:"activity,omitempty"`
	// Histogram counts events per BinWidth, split by verdict.
	Histogram []Bin `json:"histogram,omitempty"`
	// Ordered is true when the events came oldest first, as the Timeline
	// sheet needs.
	Ordered bool `json:"ordered"`
}

// RegionCount counts events in one region.
type RegionCount struct {
	Region     string `json:"region"`
	Events     int    `json:"events"`
	Attacker   int    `json:"attacker"`
	Legitimate int    `json:"legitimate"`
}

// Count pairs a value with how often it occurred.
type Count struct {
	Value string `json:"value"`
	N     int    `json:"n"`
}

// Activity is the attacker's use of one API call.
type Activity struct {
	Tactic string `json:"tactic"`
	// Category is keyleak's category of the call's first event.
	Category string    `json:"category"`
	Source   string    `json:"eventSource"`
	Name     string    `json:"eventName"`
	Calls    int       `json:"calls"`
	Failed   int       `json:"failed"`
	Regions  []string  `json:"regions"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

// API renders the call as service:Name, e.g. iam:CreateUser.
func (a Activity) API() string { return apiName(a.Source, a.Name) }

// Bin is one histogram bar: events in [Start, Start+BinWidth).
type Bin struct {
	Start      time.Time `json:"start"`
	Attacker   int       `json:"attacker"`
	Legitimate int       `json:"legitimate"`
	Unclear    int       `json:"unclear"`
}

// Total is the number of events in the bin.
func (b Bin) Total() int { return b.Attacker + b.Legitimate + b.Unclear }

// Attacker reports the number of attacker events.
func (s *Stats) Attacker() int { return s.Verdicts[VerdictAttacker] }

// RegionNames lists the regions with events.
func (s *Stats) RegionNames() []string {
	out := make([]string, len(s.Regions))
	for i, r := range s.Regions {
		out[i] = r.Region
	}
	return out
}

// ComputeStats summarises events in one pass. Memory grows with the number
// of distinct regions, keys, attacker IPs and API calls and with the
// incident's duration, never with the number of events.
func ComputeStats(events iter.Seq[Event]) *Stats {
	s := &Stats{
		Verdicts:   map[Verdict]int{},
		Severities: map[Severity]int{},
		Tactics:    map[string]int{},
		Categories: map[string]int{},
		Keys:       map[string]int{},
		Ordered:    true,
	}
	regions := map[string]*RegionCount{}
	ips := map[string]int{}
	uas := map[string]int{}
	type actKey struct{ cat, src, name string }
	acts := map[actKey]*Activity{}
	actRegions := map[actKey]map[string]bool{}
	h := newHistogram(BinWidth)
	var prev time.Time
	for ev := range events {
		s.Events++
		v := ev.Verdict.Normalize()
		s.Verdicts[v]++
		s.Severities[ev.Severity.Normalize()]++
		tactic := ev.tactic()
		if tactic != "" {
			s.Tactics[tactic]++
		}
		if ev.Category != "" {
			s.Categories[ev.Category]++
		}
		if ev.AccessKeyID != "" {
			s.Keys[ev.AccessKeyID]++
		}
		if ev.ErrorCode != "" {
			s.Failed++
		}
		if s.Events > 1 && ev.Time.Before(prev) {
			s.Ordered = false
		}
		prev = ev.Time
		if s.First.IsZero() || ev.Time.Before(s.First) {
			s.First = ev.Time
		}
		if ev.Time.After(s.Last) {
			s.Last = ev.Time
		}
		rc := regions[ev.Region]
		if rc == nil {
			rc = &RegionCount{Region: ev.Region}
			regions[ev.Region] = rc
		}
		rc.Events++
		h.add(ev.Time, v)
		switch v {
		case VerdictLegitimate:
			rc.Legitimate++
		case VerdictAttacker:
			rc.Attacker++
			if s.FirstAttacker == nil || ev.Time.Before(s.FirstAttacker.Time) {
				first := ev
				first.Raw = nil
				s.FirstAttacker = &first
			}
			if ev.Time.After(s.LastAttacker) {
				s.LastAttacker = ev.Time
			}
			if ev.SourceIP != "" {
				ips[ev.SourceIP]++
			}
			if ev.UserAgent != "" {
				uas[ev.UserAgent]++
			}
			k := actKey{tactic, ev.Source, ev.Name}
			a := acts[k]
			if a == nil {
				a = &Activity{Tactic: tactic, Category: ev.Category, Source: ev.Source, Name: ev.Name, First: ev.Time, Last: ev.Time}
				acts[k] = a
				actRegions[k] = map[string]bool{}
			}
			a.Calls++
			if ev.ErrorCode != "" {
				a.Failed++
			}
			if ev.Time.Before(a.First) {
				a.First = ev.Time
			}
			if ev.Time.After(a.Last) {
				a.Last = ev.Time
			}
			actRegions[k][ev.Region] = true
		}
	}
	for _, rc := range regions {
		s.Regions = append(s.Regions, *rc)
	}
	slices.SortFunc(s.Regions, func(a, b RegionCount) int { return cmp.Compare(a.Region, b.Region) })
	s.AttackerIPCount = len(ips)
	s.AttackerIPs = topCounts(ips, topN)
	s.AttackerUserAgents = topCounts(uas, topN)
	for k, a := range acts {
		a.Regions = sortedKeys(actRegions[k])
		s.Activity = append(s.Activity, *a)
	}
	slices.SortFunc(s.Activity, func(a, b Activity) int {
		if c := compareCategory(a.Tactic, b.Tactic); c != 0 {
			return c
		}
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		return cmp.Compare(a.API(), b.API())
	})
	s.Histogram = h.bins()
	return s
}

// AttackerEvents yields only the events whose verdict is attacker.
func AttackerEvents(events iter.Seq[Event]) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		for ev := range events {
			if ev.Verdict.Normalize() == VerdictAttacker && !yield(ev) {
				return
			}
		}
	}
}

// FirstAttackerCall returns the oldest attacker event. It reads every event,
// so it is right even when events are not ordered.
func FirstAttackerCall(events iter.Seq[Event]) (Event, bool) {
	var first Event
	found := false
	for ev := range AttackerEvents(events) {
		if !found || ev.Time.Before(first.Time) {
			first, found = ev, true
		}
	}
	return first, found
}

// Histogram counts events per bin of the given width, split by verdict.
// Bins are aligned to multiples of width since the Unix epoch and run from
// the oldest event's bin to the newest's, empty ones included, unless that
// would exceed 20,000 bins; then only non-empty bins are returned.
func Histogram(events iter.Seq[Event], width time.Duration) []Bin {
	h := newHistogram(width)
	for ev := range events {
		h.add(ev.Time, ev.Verdict.Normalize())
	}
	return h.bins()
}

type histogram struct {
	width  time.Duration
	counts map[int64]*Bin
}

func newHistogram(width time.Duration) *histogram {
	if width <= 0 {
		width = BinWidth
	}
	return &histogram{width: width, counts: map[int64]*Bin{}}
}

func (h *histogram) slot(t time.Time) int64 {
	d := t.UnixNano()
	w := int64(h.width)
	q := d / w
	if d%w < 0 {
		q--
	}
	return q
}

func (h *histogram) add(t time.Time, v Verdict) {
	k := h.slot(t)
	b := h.counts[k]
	if b == nil {
		b = &Bin{Start: time.Unix(0, k*int64(h.width)).UTC()}
		h.counts[k] = b
	}
	switch v {
	case VerdictAttacker:
		b.Attacker++
	case VerdictLegitimate:
		b.Legitimate++
	default:
		b.Unclear++
	}
}

func (h *histogram) bins() []Bin {
	if len(h.counts) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(h.counts))
	for k := range h.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	lo, hi := keys[0], keys[len(keys)-1]
	if hi-lo >= maxFilledBins {
		out := make([]Bin, len(keys))
		for i, k := range keys {
			out[i] = *h.counts[k]
		}
		return out
	}
	out := make([]Bin, 0, hi-lo+1)
	for k := lo; k <= hi; k++ {
		if b := h.counts[k]; b != nil {
			out = append(out, *b)
		} else {
			out = append(out, Bin{Start: time.Unix(0, k*int64(h.width)).UTC()})
		}
	}
	return out
}

// tactics is the ATT&CK enterprise tactic order; tactics are reported in
// it so that a reader follows the attack's logic.
var tactics = []string{
	"reconnaissance", "resource-development", "initial-access", "execution",
	"persistence", "privilege-escalation", "defense-evasion", "credential-access",
	"discovery", "lateral-movement", "collection", "command-and-control",
	"exfiltration", "impact",
}

// compareCategory orders tactics (or categories) in ATT&CK's order, unknown
// ones after the known ones alphabetically, and the empty one last.
func compareCategory(a, b string) int {
	rank := func(c string) int {
		if c == "" {
			return len(tactics) + 2
		}
		if i := slices.Index(tactics, c); i >= 0 {
			return i
		}
		return len(tactics) + 1
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// tactic is the event's ATT&CK tactic: its own, or for cases written
// before tactics had their own field the category when that is a tactic.
func (ev *Event) tactic() string {
	if ev.Tactic != "" || slices.Contains(tactics, ev.Category) {
		return cmp.Or(ev.Tactic, ev.Category)
	}
	return ""
}

func topCounts(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for v, c := range m {
		out = append(out, Count{Value: v, N: c})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Value, b.Value)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
