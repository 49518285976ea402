package trail

import (
	"context"
	"sync"
)

// slots bounds the requests in flight over an organization sweep. A
// request waiting for a slot is served before any that came after it,
// except that a lookup's next page goes before every first page: a lookup
// that has begun is on the way to the keys its events make, which later
// lookups wait for, while a first page is most often all its lookup needs.
// Without that, the first pages of the hundreds of accounts one page of
// AssumeRole calls names queue in front of the pages that name the next
// accounts.
type slots struct {
	mu   sync.Mutex
	free int
	next []chan struct{} // waiting next pages, oldest first
	head []chan struct{} // waiting first pages, oldest first
}

func newSlots(n int) *slots { return &slots{free: max(n, 1)} }

// acquire takes a slot, waiting in turn for one; next says the request is
// the next page of a lookup under way. It fails only when ctx ends.
func (s *slots) acquire(ctx context.Context, next bool) error {
	s.mu.Lock()
	if s.free > 0 && len(s.next) == 0 && len(s.head) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if next {
		s.next = append(s.next, ch)
	} else {
		s.head = append(s.head, ch)
	}
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		if removed(&s.next, ch) || removed(&s.head, ch) {
			return ctx.Err()
		}
		// Granted while ctx ended: give the slot on.
		s.releaseLocked()
		return ctx.Err()
	}
}

// release gives the slot to the first waiting request, or frees it.
func (s *slots) release() {
	s.mu.Lock()
	s.releaseLocked()
	s.mu.Unlock()
}

func (s *slots) releaseLocked() {
	for _, q := range []*[]chan struct{}{&s.next, &s.head} {
		if len(*q) > 0 {
			ch := (*q)[0]
			(*q)[0] = nil
			*q = (*q)[1:]
			close(ch)
			return
		}
	}
	s.free++
}

// removed takes ch out of the queue q and reports whether it was there.
func removed(q *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *q {
		if c == ch {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}
