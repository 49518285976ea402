package respond

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// keeper keeps a sweep's events in the case as they arrive, and how far the
// sweep got, so that a run killed half-way resumes where it stopped. The
// sweep hands it each page's events before it counts the page's window as
// covered, so the progress on disk never claims an event the case lacks.
type keeper struct {
	c      *playbook.Case
	events *trail.EventsFile
	resume *trail.Progress
	kept   []trail.Event

	mu      sync.Mutex
	n       int             // events appended
	last    *trail.Progress // the newest progress, not yet written when dirty
	dirty   bool
	saveErr error

	// The progress is written by one goroutine, always the newest: the
	// sweep never waits for the disk, and a kill loses at most the write
	// in flight.
	kick     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// openKeeper opens the case's events for appending; with progress, it also
// loads how far earlier sweeps got, to resume from.
func openKeeper(c *playbook.Case, progress bool) (*keeper, error) {
	events, err := trail.OpenEventsFile(c.Path(casefile.EventsFile))
	if err != nil {
		return nil, err
	}
	k := &keeper{c: c, events: events, kick: make(chan struct{}, 1), done: make(chan struct{})}
	if progress {
		// Unreadable progress only costs a full sweep.
		if p, err := casefile.LoadProgress(c); err == nil && p != nil {
			k.resume = p
			if k.kept, _, err = trail.ReadEventsFile(c.Path(casefile.EventsFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				events.Close()
				return nil, fmt.Errorf("read kept events: %w", err)
			}
		}
	}
	go k.writer()
	return k, nil
}

func (k *keeper) options() []trail.Option {
	opts := []trail.Option{trail.WithEventSink(k.sink), trail.WithCheckpoint(k.checkpoint)}
	if k.resume != nil {
		opts = append(opts, trail.WithResume(*k.resume, k.kept))
	}
	return opts
}

func (k *keeper) sink(events []trail.Event) error {
	n, err := k.events.Append(events)
	k.mu.Lock()
	k.n += n
	k.mu.Unlock()
	return err
}

func (k *keeper) checkpoint(p trail.Progress) {
	k.mu.Lock()
	k.last, k.dirty = &p, true
	k.mu.Unlock()
	select {
	case k.kick <- struct{}{}:
	default: // a write is due already; it takes the newest
	}
}

func (k *keeper) writer() {
	defer close(k.done)
	for range k.kick {
		k.write()
	}
}

func (k *keeper) write() {
	k.mu.Lock()
	if !k.dirty {
		k.mu.Unlock()
		return
	}
	p := *k.last
	k.dirty = false
	k.mu.Unlock()
	if err := casefile.SaveProgress(k.c, p); err != nil {
		k.mu.Lock()
		if k.saveErr == nil {
			k.saveErr = fmt.Errorf("save sweep progress: %w", err)
		}
		k.mu.Unlock()
	}
}

// flush writes the newest progress once the sweep is over (no checkpoint
// may come after it) and stops the writer.
func (k *keeper) flush() error {
	k.stop()
	k.write()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.saveErr
}

func (k *keeper) stop() {
	k.stopOnce.Do(func() {
		close(k.kick)
		<-k.done
	})
}

// count is how many events were appended as they arrived; 0 for nil.
func (k *keeper) count() int {
	if k == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n
}

// close stops the writer (when the run ended before flush) and closes the
// events file.
func (k *keeper) close() {
	k.stop()
	k.events.Close()
}
