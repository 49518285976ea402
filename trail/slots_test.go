package trail

import (
	"context"
	"testing"
	"time"
)

// waitQueued waits until n requests wait for a slot.
func waitQueued(t *testing.T, s *slots, n int) {
	t.Helper()
	for {
		s.mu.Lock()
		q := len(s.next) + len(s.head)
		s.mu.Unlock()
		if q == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSlotsServeNextPagesFirst(t *testing.T) {
	s := newSlots(1)
	ctx := context.Background()
	if err := s.acquire(ctx, false); err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 4)
	start := func(name string, next bool, queued int) {
		go func() {
			if err := s.acquire(ctx, next); err != nil {
				t.Error(err)
			}
			order <- name
		}()
		waitQueued(t, s, queued)
	}
	start("first page 1", false, 1)
	start("first page 2", false, 2)
	start("next page 1", true, 3)
	start("next page 2", true, 4)
	var got []string
	for range 4 {
		s.release()
		got = append(got, <-order)
	}
	want := []string{"next page 1", "next page 2", "first page 1", "first page 2"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("served %v, want %v", got, want)
		}
	}
	s.release()
	if s.free != 1 {
		t.Fatalf("%d slots free after all were released, want 1", s.free)
	}
}

func TestSlotsGiveUpWhenContextEnds(t *testing.T) {
	s := newSlots(1)
	if err := s.acquire(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.acquire(ctx, true) }()
	waitQueued(t, s, 1)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("acquire succeeded after its context ended with no slot free")
	}
	waitQueued(t, s, 0)
	s.release()
	if s.free != 1 {
		t.Fatalf("%d slots free, want 1: the abandoned wait kept or lost one", s.free)
	}
}
