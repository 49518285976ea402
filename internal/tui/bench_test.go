package tui

import (
	"testing"
	"time"
)

// BenchmarkAssessFrame measures one frame of the Assess screen with
// 100,000 events: a key press handled by Update and the whole View drawn.
// The goal is under 16 ms a frame (60 frames a second); it is reported,
// not asserted. filter-ms is one change of the verdict filter, which walks
// every event.
func BenchmarkAssessFrame(b *testing.B) {
	const n = 100_000
	m := newTestModel(b, 120, 40)
	withCase(b, m)
	inv := fixtureEvents(b, n)
	m.s.inv = inv
	a := fixtureAssessment(inv)
	m.Update(assessDoneMsg{found: a, rows: buildRows(inv, a)})
	m.cur = stepAssess
	press(m, "0")
	if v := m.screens[stepAssess].(*eventsView); len(v.shown) != n {
		b.Fatalf("%d rows shown, want %d", len(v.shown), n)
	}
	down, pgdown, top := keyMsg("j"), keyMsg("pgdown"), keyMsg("g")
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		switch {
		case i%1000 == 999:
			m.Update(top)
		case i%50 == 49:
			m.Update(pgdown)
		default:
			m.Update(down)
		}
		_ = m.View()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms/frame")
	fstart := time.Now()
	const filters = 10
	for range filters {
		m.Update(keyMsg("v"))
		_ = m.View()
	}
	b.ReportMetric(float64(time.Since(fstart).Microseconds())/1000/filters, "filter-ms")
}
