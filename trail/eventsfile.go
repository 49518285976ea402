package trail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/keyleak/keyleak/internal/redact"
)

// WriteEvents writes the raw record of each event whose Key is not in seen,
// one compact record a line with its secrets redacted (internal/redact:
// the session token of a GetSessionToken response never reaches a file),
// and adds the keys to seen. If w can Sync (an *os.File), it is synced
// before WriteEvents returns, so that the records survive a crash. It
// returns how many records it wrote.
func WriteEvents(w io.Writer, events []Event, seen map[string]bool) (int, error) {
	bw := bufio.NewWriter(w)
	n := 0
	var buf bytes.Buffer
	for i := range events {
		k := events[i].Key()
		if seen[k] {
			continue
		}
		buf.Reset()
		if err := redact.Record(&buf, events[i].Raw); err != nil {
			return n, fmt.Errorf("write event %s: %w", k, err)
		}
		buf.WriteByte('\n')
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return n, fmt.Errorf("write events: %w", err)
		}
		seen[k] = true
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("write events: %w", err)
	}
	if s, ok := w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return n, fmt.Errorf("sync events: %w", err)
		}
	}
	return n, nil
}

// AppendEventsFile appends to a JSON Lines file of records (a case's
// events.jsonl) the events it does not hold yet, by eventID, creating it
// with mode 0600, and fsyncs it. A torn last line left by a crash is cut
// off first: its record is incomplete, and is fetched again by the run that
// appends. It returns how many records it added.
func AppendEventsFile(path string, events []Event) (int, error) {
	w, err := OpenEventsFile(path)
	if err != nil {
		return 0, err
	}
	n, err := w.Append(events)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// EventsFile is a JSON Lines file of records opened for appending as
// events arrive (a sweep's pages): it holds the keys of the records it has,
// so each append writes only new ones, without reading the file again.
// It is safe for concurrent use.
type EventsFile struct {
	mu   sync.Mutex
	f    *os.File
	seen map[string]bool
}

// OpenEventsFile opens path (created with mode 0600) for appending, after
// reading the keys it holds. A torn last line left by a crash is cut off
// first: its record is incomplete, and is fetched again.
func OpenEventsFile(path string) (*EventsFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open events file: %w", err)
	}
	w := &EventsFile{f: f, seen: map[string]bool{}}
	held, err := readEvents(f, func(e Event) { w.seen[e.Key()] = true })
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read events file: %w", err)
	}
	if held.torn {
		if err := f.Truncate(held.complete); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut torn event line: %w", err)
		}
	}
	if _, err := f.Seek(held.complete, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("append events file: %w", err)
	}
	return w, nil
}

// Append writes the events the file does not hold yet, redacted, and
// syncs them to disk before it returns. It returns how many it wrote.
func (w *EventsFile) Append(events []Event) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, errors.New("append events: file is closed")
	}
	return WriteEvents(w.f, events, w.seen)
}

// Close closes the file.
func (w *EventsFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close events file: %w", err)
	}
	return nil
}

// ReadEventsFile reads a JSON Lines file of records written by
// AppendEventsFile (or any other), in file order. Lines that are not records
// (a torn last line) are skipped and counted in skipped.
func ReadEventsFile(path string) (events []Event, skipped int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open events file: %w", err)
	}
	defer f.Close()
	st, err := readEvents(f, func(e Event) { events = append(events, e) })
	if err != nil {
		return nil, 0, fmt.Errorf("read events file: %w", err)
	}
	return events, st.skipped, nil
}

type readStats struct {
	skipped  int
	torn     bool  // the file does not end with a newline
	complete int64 // bytes up to and including the last newline
}

// readEvents parses each line of r as a record and hands it to fn.
func readEvents(r io.Reader, fn func(Event)) (readStats, error) {
	var st readStats
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			st.torn = line[len(line)-1] != '\n'
			if !st.torn {
				st.complete += int64(len(line))
			}
			if rec := bytes.TrimSpace(line); len(rec) > 0 {
				if e, perr := ParseRecord(rec); perr == nil {
					fn(e)
				} else {
					st.skipped++
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, err
		}
	}
}
