package trail

import (
	"slices"
	"testing"
	"time"
)

func TestProgressWindows(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	win := func(a, b int) Window { return Window{Since: at(a), Until: at(b)} }
	var p Progress
	p.add("r", "k", win(10, 12))
	p.add("r", "k", win(2, 4))
	p.add("r", "k", win(4, 6)) // touches: merged
	p.add("r", "k", win(11, 14))
	if got, want := p.Covered["r"]["k"], []Window{win(2, 6), win(10, 14)}; !slices.Equal(got, want) {
		t.Errorf("covered %v, want %v", got, want)
	}
	ns := time.Nanosecond
	got := gaps(win(0, 20), p.Covered["r"]["k"])
	want := []Window{{Since: at(14).Add(ns), Until: at(20)}, {Since: at(6).Add(ns), Until: at(10).Add(-ns)}, {Since: at(0), Until: at(2).Add(-ns)}}
	if !slices.Equal(got, want) {
		t.Errorf("gaps %v, want %v (newest first)", got, want)
	}
	if g := gaps(win(3, 5), p.Covered["r"]["k"]); len(g) != 0 {
		t.Errorf("a covered window has gaps %v", g)
	}
	if g := gaps(win(0, 20), nil); !slices.Equal(g, []Window{win(0, 20)}) {
		t.Errorf("nothing covered: gaps %v", g)
	}
	if g := gaps(win(5, 11), p.Covered["r"]["k"]); !slices.Equal(g, []Window{{Since: at(6).Add(ns), Until: at(10).Add(-ns)}}) {
		t.Errorf("inner gap %v", g)
	}
}
