package report

import (
	"time"
)

// maxChartBins bounds the Summary chart: about as many bars as a chart
// 900 pixels wide shows with readable labels every few bars.
const maxChartBins = 60

// chartWidths are the bucket sizes the chart chooses from, smallest first.
var chartWidths = []time.Duration{
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

// Chart is the Summary chart: events per bucket in the incident's window,
// by verdict, with the workload's usual level before the window as
// context. A week of workload with a two-hour attack shows the two hours,
// not a sliver at the edge of a week.
type Chart struct {
	// From and To bound the window: from a margin before the leak (or the
	// first attacker call) to a margin after the response ended (the
	// clean-up, the last attacker call, the revocation).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Width is the bucket size, chosen so that the window has at most 60
	// buckets.
	Width time.Duration `json:"width"`
	// Bins are the buckets From, From+Width, … up to To, empty ones
	// included.
	Bins []Bin `json:"bins"`
	// Usual is the workload's usual level: the mean number of legitimate
	// events per bucket between UsualFrom (the oldest event) and From;
	// zero when there is less than a day of history before the window.
	Usual     float64   `json:"usual"`
	UsualFrom time.Time `json:"usualFrom,omitzero"`
	// Before and After count the events outside the window.
	Before int `json:"before"`
	After  int `json:"after"`
}

// IncidentWindow is the window the Summary chart shows: from a margin
// before the leak (given or inferred) or the first attacker call to a
// margin after the last of the attacker's calls, the deactivation, the
// revocation and the clean-up. With none of those, it is the events'
// span.
func IncidentWindow(m *Model, s *Stats) (from, to time.Time) {
	start := LeakOf(m.Case, s).At
	if s.FirstAttacker != nil && (start.IsZero() || s.FirstAttacker.Time.Before(start)) {
		start = s.FirstAttacker.Time
	}
	var end time.Time
	for _, ms := range Milestones(m, s) {
		switch ms.Kind {
		case MilestoneLastAttacker, MilestoneFirstAttacker, MilestoneContained, MilestoneRevoked,
			MilestoneCleanupStart, MilestoneCleanupEnd, MilestoneKeyDeleted:
			end = latest(end, ms.Time)
		}
	}
	if start.IsZero() || !end.After(start) {
		if start.IsZero() {
			start = s.First
		}
		end = latest(end, s.Last)
	}
	if start.IsZero() {
		return time.Time{}, time.Time{}
	}
	margin := max(10*time.Minute, end.Sub(start)/10)
	return start.Add(-margin), end.Add(margin)
}

// chartWidth is the smallest bucket size that shows the span in at most
// maxChartBins buckets.
func chartWidth(span time.Duration) time.Duration {
	for _, w := range chartWidths {
		if span/w < maxChartBins {
			return w
		}
	}
	return chartWidths[len(chartWidths)-1]
}

// IncidentChart computes the Summary chart with one pass over the events.
func IncidentChart(m *Model, s *Stats) *Chart {
	from, to := IncidentWindow(m, s)
	if from.IsZero() {
		return &Chart{}
	}
	w := chartWidth(to.Sub(from))
	from = from.Truncate(w)
	n := int(to.Sub(from)/w) + 1
	ch := &Chart{From: from, To: from.Add(time.Duration(n) * w), Width: w, Bins: make([]Bin, n)}
	for i := range ch.Bins {
		ch.Bins[i].Start = from.Add(time.Duration(i) * w).UTC()
	}
	legitBefore := 0
	for ev := range m.eventsOf() {
		v := ev.Verdict.Normalize()
		switch {
		case ev.Time.Before(ch.From):
			ch.Before++
			if v == VerdictLegitimate {
				legitBefore++
			}
			continue
		case !ev.Time.Before(ch.To):
			ch.After++
			continue
		}
		b := &ch.Bins[int(ev.Time.Sub(ch.From)/w)]
		switch v {
		case VerdictAttacker:
			b.Attacker++
		case VerdictLegitimate:
			b.Legitimate++
		default:
			b.Unclear++
		}
	}
	if !s.First.IsZero() && ch.From.Sub(s.First) >= 24*time.Hour {
		ch.UsualFrom = s.First.UTC()
		ch.Usual = float64(legitBefore) / (float64(ch.From.Sub(s.First)) / float64(w))
	}
	return ch
}

// chart returns m.Chart or computes it.
func (m *Model) chart(s *Stats) *Chart {
	if m.Chart != nil {
		return m.Chart
	}
	return IncidentChart(m, s)
}
