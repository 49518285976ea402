package trail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrNoLogFiles is returned by ScanLogs when the source holds no log file
// within the window: most likely a wrong path, which must not pass for
// "the key did nothing".
var ErrNoLogFiles = errors.New("no log files found")

// maxRecord bounds one record, so that a file that is not what it claims
// cannot make a worker buffer it whole. CloudTrail records are far smaller.
const maxRecord = 32 << 20

// ScanLogs reads the events of key, and of every key derived from it, from
// CloudTrail log files. Files are read in parallel (WithConcurrency) and
// streamed: a {"Records":[…]} document is walked record by record with a
// json.Decoder, and a record that does not contain a wanted key ID anywhere
// is skipped before it is decoded, so only candidates cost a full parse.
//
// The pivot runs in passes. Each file is scanned for every key known when
// its scan starts, so keys found early in a pass are searched in the files
// read after; a follow-up pass rescans only the files read before a key was
// found, for that key alone, and only those dated within the key's life
// (from its issue to its expiration). This costs less than buffering every
// record that might belong to a key not yet known, and keeps memory bounded.
//
// Corrupt or truncated files never stop the scan: the events before the
// damage are kept and the file is named in the coverage. Like Sweep.Run,
// ScanLogs returns what it found together with an error.
func ScanLogs(ctx context.Context, src LogSource, key string, opts ...Option) (*Investigation, error) {
	cfg := newConfig(opts)
	if w := cfg.window; !w.Since.IsZero() && !w.Until.IsZero() && w.Since.After(w.Until) {
		return nil, fmt.Errorf("scan logs: window starts (%s) after it ends (%s)", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	s := &logScan{
		cfg:    cfg,
		src:    src,
		window: cfg.window,
		coll:   newCollector(cfg.pivot, append([]string{key}, cfg.known...)),
		sets:   map[string]*setRun{},
	}
	files, err := src.List(ctx, s.window)
	if err != nil {
		return s.coll.investigation(key, s.window, Coverage{}, cfg.clock.Now()), fmt.Errorf("scan logs: %w", err)
	}
	if len(files) == 0 {
		return s.coll.investigation(key, s.window, Coverage{}, cfg.clock.Now()), fmt.Errorf("scan logs: %w", ErrNoLogFiles)
	}
	for _, k := range s.coll.order {
		s.addKey(KeyLink{AccessKeyID: k})
	}
	start := cfg.clock.Now()
	for _, f := range files {
		l := parseLayout(f.Path)
		sf := &scanFile{LogFile: f, set: "files", covered: map[string]bool{}}
		if l.ok {
			sf.set = l.region
			sf.day, sf.hasDay = l.day()
		}
		set := s.sets[sf.set]
		if set == nil {
			set = &setRun{status: SourceStatus{Name: sf.set, State: StateQueued}, started: start}
			s.sets[sf.set] = set
		}
		set.status.Files++
		s.files = append(s.files, sf)
	}
	for _, name := range s.setNames() {
		s.emit(s.sets[name])
	}
	err = s.run(ctx)
	cov := Coverage{}
	for _, name := range s.setNames() {
		set := s.sets[name]
		s.mu.Lock()
		st := &set.status
		switch {
		case err != nil:
			st.State, st.Err = StateError, "interrupted"
		case len(st.BadFiles) > 0:
			st.State, st.Err = StateError, fmt.Sprintf("%d of %d files unreadable", len(st.BadFiles), st.Files)
		default:
			st.State = StateOK
		}
		if !set.last.IsZero() {
			st.Duration = set.last.Sub(set.started)
		}
		cov.Sources = append(cov.Sources, *st)
		s.mu.Unlock()
		s.emit(set)
	}
	inv := s.coll.investigation(key, s.window, cov, cfg.clock.Now())
	if err != nil {
		return inv, fmt.Errorf("scan logs: %w", err)
	}
	return inv, nil
}

type logScan struct {
	cfg    config
	src    LogSource
	window Window
	coll   *collector
	mu     sync.Mutex // guards keys, files' covered/scanned, sets
	emitMu sync.Mutex
	keys   []keyScope
	files  []*scanFile
	sets   map[string]*setRun
}

// keyScope is a key searched in the files, with the days its events can be
// in.
type keyScope struct {
	id   string
	b    []byte
	days dayRange
}

type scanFile struct {
	LogFile
	set     string
	day     time.Time
	hasDay  bool
	covered map[string]bool // keys this file was scanned for
	scanned bool
	bad     bool
}

type setRun struct {
	status  SourceStatus
	started time.Time
	last    time.Time
}

func (s *logScan) setNames() []string {
	names := make([]string, 0, len(s.sets))
	for n := range s.sets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// addKey makes a key wanted from now on, limited to the days it can have
// been used: a derived key not before it was issued, a temporary one not
// after it expired.
func (s *logScan) addKey(l KeyLink) {
	days := windowDays(s.window)
	if l.Parent != "" && !l.EventTime.IsZero() {
		from := l.EventTime.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
		if days.from.IsZero() || from.After(days.from) {
			days.from = from
		}
		if !l.Expiration.IsZero() && l.Via != "CreateAccessKey" {
			to := l.Expiration.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
			if days.to.IsZero() || to.Before(days.to) {
				days.to = to
			}
		}
	}
	s.mu.Lock()
	s.keys = append(s.keys, keyScope{id: l.AccessKeyID, b: []byte(l.AccessKeyID), days: days})
	s.mu.Unlock()
}

// wanted returns the keys f must still be scanned for, and marks them as
// covered: the scan that asks is the one that covers them.
func (s *logScan) wanted(f *scanFile) []keyScope {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []keyScope
	for _, k := range s.keys {
		if f.covered[k.id] {
			continue
		}
		f.covered[k.id] = true
		if !f.hasDay || k.days.overlaps(f.day, f.day) {
			out = append(out, k)
		}
	}
	return out
}

// run scans the files in passes until no file has a key left to be
// scanned for.
func (s *logScan) run(ctx context.Context) error {
	for {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(s.cfg.concurrency)
		busy := false
		for _, f := range s.files {
			s.mu.Lock()
			pending := len(f.covered) < len(s.keys)
			s.mu.Unlock()
			if !pending {
				continue
			}
			busy = true
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				want := s.wanted(f)
				if len(want) == 0 {
					return nil
				}
				return s.scan(gctx, f, want)
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !busy {
			return nil
		}
	}
}

// fileScan is the state of one scan of one file.
type fileScan struct {
	s       *logScan
	ctx     context.Context
	want    []keyScope
	wantSet map[string]bool
	records int
	added   int
	badLine string // first unreadable record of a JSON Lines file
}

// scan reads one file for the wanted keys.
func (s *logScan) scan(ctx context.Context, f *scanFile, want []keyScope) error {
	sc := &fileScan{s: s, ctx: ctx, want: want, wantSet: make(map[string]bool, len(want))}
	for _, k := range want {
		sc.wantSet[k.id] = true
	}
	cr := &countingReader{}
	err := func() error {
		rc, err := s.src.Open(ctx, f.LogFile)
		if err != nil {
			return err
		}
		defer rc.Close()
		cr.r = rc
		br := bufio.NewReaderSize(cr, 256<<10)
		var r io.Reader = br
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return fmt.Errorf("read gzip header: %w", err)
			}
			defer zr.Close()
			r = zr
		}
		if isJSONLines(f.Path) {
			return sc.readLines(r)
		}
		return sc.readRecords(r)
	}()
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil && sc.badLine != "" {
		err = errors.New(sc.badLine)
	}
	s.mu.Lock()
	set := s.sets[f.set]
	first := !f.scanned
	f.scanned = true
	if first {
		set.status.Scanned++
		set.status.Records += sc.records
	}
	set.status.Bytes += cr.n
	set.status.Events += sc.added
	if err != nil && !f.bad {
		f.bad = true
		set.status.BadFiles = append(set.status.BadFiles, FileError{Path: f.Path, Reason: err.Error()})
	}
	set.status.State = StateRunning
	set.last = s.cfg.clock.Now()
	s.mu.Unlock()
	s.emit(set)
	return nil
}

// readRecords walks {"Records":[…]} documents (one or more, as some
// exporters concatenate them) and bare arrays of records. A json.Decoder
// streams the document's tokens; the elements of a Records array are cut
// out by a framer, and the decoder resumes after the array.
func (sc *fileScan) readRecords(r io.Reader) error {
	src := r
	dec := json.NewDecoder(src)
	// records reads the array whose '[' dec has just returned. resume is
	// the JSON that puts a new decoder back in the array's context (inside
	// the document object), followed by the bytes after the array.
	records := func(resume string, resumeTokens int) error {
		fr := newFramer(io.MultiReader(dec.Buffered(), src), 256<<10, maxRecord)
		for {
			v, err := fr.next()
			if err != nil {
				return fmt.Errorf("record %d: %w", sc.records+1, err)
			}
			if v == nil {
				break
			}
			if err := sc.consider(v); err != nil {
				return err
			}
		}
		src = io.MultiReader(strings.NewReader(resume), fr.rest())
		dec = json.NewDecoder(src)
		for range resumeTokens {
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("read document: %w", err)
			}
		}
		return nil
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		switch tok {
		case json.Delim('['):
			if err := records("", 0); err != nil {
				return err
			}
		case json.Delim('{'):
			for dec.More() {
				name, err := dec.Token()
				if err != nil {
					return fmt.Errorf("read document: %w", err)
				}
				if name != "Records" {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return fmt.Errorf("read document: %w", err)
					}
					continue
				}
				open, err := dec.Token()
				if err != nil {
					return fmt.Errorf("read Records: %w", err)
				}
				if open == nil {
					continue // "Records": null
				}
				if open != json.Delim('[') {
					return fmt.Errorf("read Records: not an array")
				}
				if err := records(`{"Records":null`, 3); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // }
				return fmt.Errorf("read document: %w", err)
			}
		default:
			return fmt.Errorf("read document: unexpected %v", tok)
		}
	}
}

// readLines reads one record a line. An unreadable line is noted and
// skipped: lines are independent, unlike the records of a document.
func (sc *fileScan) readLines(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	var long []byte
	line := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > maxRecord {
				return fmt.Errorf("line %d: longer than %d bytes", line+1, maxRecord)
			}
			long = append(long, chunk...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", line+1, err)
		}
		rec := chunk
		if len(long) > 0 {
			long = append(long, chunk...)
			rec = long
		}
		if len(rec) > 0 {
			line++
		}
		if rec = bytes.TrimSpace(rec); len(rec) > 0 {
			if cerr := sc.considerLine(rec, line); cerr != nil {
				return cerr
			}
		}
		long = nil
		if err != nil { // io.EOF
			return nil
		}
	}
}

func (sc *fileScan) considerLine(rec []byte, line int) error {
	if !sc.candidate(rec) {
		sc.records++
		return sc.tick()
	}
	if !json.Valid(rec) {
		sc.records++
		if sc.badLine == "" {
			sc.badLine = fmt.Sprintf("line %d: invalid JSON", line)
		}
		return sc.tick()
	}
	return sc.consider(rec)
}

// candidate is the cheap test run on every record before any decoding:
// does the raw record mention a wanted key at all?
func (sc *fileScan) candidate(raw []byte) bool {
	for i := range sc.want {
		if bytes.Contains(raw, sc.want[i].b) {
			return true
		}
	}
	return false
}

// consider keeps a record if it is an event of a wanted key in the window.
func (sc *fileScan) consider(raw []byte) error {
	sc.records++
	if sc.candidate(raw) {
		e, err := ParseRecord(raw)
		if err == nil && sc.wantSet[e.UserIdentity.AccessKeyID] && sc.s.window.Contains(e.EventTime) {
			added, fresh := sc.s.coll.add(e)
			if added {
				sc.added++
			}
			for _, l := range fresh {
				sc.s.addKey(l)
			}
		}
	}
	return sc.tick()
}

// tick checks for cancellation now and then.
func (sc *fileScan) tick() error {
	if sc.records%512 == 0 {
		return sc.ctx.Err()
	}
	return nil
}

func (s *logScan) emit(set *setRun) {
	if s.cfg.progress == nil {
		return
	}
	s.emitMu.Lock()
	defer s.emitMu.Unlock()
	s.mu.Lock()
	st := set.status
	st.BadFiles = slices.Clone(st.BadFiles)
	s.mu.Unlock()
	s.cfg.progress(st)
}

// countingReader counts the bytes read from a file as stored.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
