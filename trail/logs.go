package trail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"path"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrNoLogFiles is returned by ScanLogs when the source holds no log file
// within the window: most likely a wrong path, which must not pass for
// "the key did nothing".
var ErrNoLogFiles = errors.New("no log files found")

// maxRecord bounds one record (and any other value of a log document), so
// that a file that is not what it claims cannot make a worker buffer it
// whole. CloudTrail records are far smaller.
const maxRecord = 32 << 20

// maxDepth is the deepest nesting a record may have: encoding/json's limit,
// beyond which ParseRecord cannot read it.
const maxDepth = 10000

// ScanLogs reads the events of key, and of every key derived from it, from
// CloudTrail log files. Files are read in parallel (WithConcurrency) and
// streamed: a {"Records":[…]} document is cut record by record by a framer
// that decodes nothing, and each record's accessKeyId values are looked up
// in the set of wanted keys, so only the records of those keys cost a parse.
//
// The pivot costs about one read of the data. Every file is read once, in
// the order of the times in their names, for every key known at the moment
// each record is read, so keys found early are searched in the files read
// after. The first read also leaves a small index of the file (a Bloom
// filter of every access key ID it holds). A key found after a file was
// read is searched there again only if the file's index holds it and the
// file is dated within the key's life (from its issue to its expiration);
// such follow-up reads run before new files, until no new key appears.
// Memory stays bounded: no record is kept but the events found, and an
// index costs about a byte and a quarter a distinct key of a file.
//
// Corrupt or truncated files never stop the scan: the events before the
// damage are kept and the file is named in the coverage. Files that are not
// regular files (a FIFO, a device) are not opened; records that are not
// objects or are nested too deep are left out; both are noted in the
// coverage. Like Sweep.Run, ScanLogs returns what it found together with an
// error.
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
		seed:   maphash.MakeSeed(),
	}
	s.keys.Store(&keySet{byID: map[string]int{}})
	files, err := src.List(ctx, s.window)
	if err != nil {
		return s.coll.investigation(key, s.window, Coverage{}, cfg.clock.Now()), fmt.Errorf("scan logs: %w", err)
	}
	for _, k := range s.coll.order {
		s.addKey(KeyLink{AccessKeyID: k})
	}
	start := cfg.clock.Now()
	for _, f := range files {
		l := parseLayout(f.Path)
		sf := &scanFile{LogFile: f, set: "files"}
		if l.ok {
			sf.set = l.region
			sf.day, sf.hasDay = l.day()
		}
		set := s.sets[sf.set]
		if set == nil {
			set = &setRun{status: SourceStatus{Name: sf.set, State: StateQueued}, started: start}
			s.sets[sf.set] = set
		}
		if f.Skip != "" {
			set.status.Skipped = append(set.status.Skipped, FileError{Path: f.Path, Reason: f.Skip})
			continue
		}
		set.status.Files++
		s.files = append(s.files, sf)
	}
	if len(s.files) == 0 {
		return s.coll.investigation(key, s.window, s.coverage(nil), cfg.clock.Now()), fmt.Errorf("scan logs: %w", ErrNoLogFiles)
	}
	sortForScan(s.files)
	for _, name := range s.setNames() {
		s.emit(s.sets[name])
	}
	err = s.run(ctx)
	inv := s.coll.investigation(key, s.window, s.coverage(err), cfg.clock.Now())
	if err != nil {
		return inv, fmt.Errorf("scan logs: %w", err)
	}
	return inv, nil
}

// ReadRecords calls fn with every record of the source's files within w,
// file after file, for tools that need whole logs (the simulator's
// replay): raw is valid only during the call. Records that are not JSON
// objects or are nested too deep are left out; an unreadable file stops
// the read with an error that names it.
func ReadRecords(ctx context.Context, src LogSource, w Window, fn func(raw []byte) error) error {
	files, err := src.List(ctx, w)
	if err != nil {
		return fmt.Errorf("read records: %w", err)
	}
	s := &logScan{cfg: newConfig(nil), src: src, window: w, sets: map[string]*setRun{}}
	s.keys.Store(&keySet{byID: map[string]int{}})
	for _, f := range files {
		if f.Skip != "" {
			continue
		}
		sf := &scanFile{LogFile: f, set: "files"}
		s.sets[sf.set] = &setRun{}
		sc := &fileScan{s: s, ctx: ctx, unit: "record", all: fn}
		if err := s.read(ctx, sf, sc); err != nil {
			return fmt.Errorf("read %s: %w", f.Path, err)
		}
		if sc.bad != "" {
			return fmt.Errorf("read %s: %s", f.Path, sc.bad)
		}
	}
	return nil
}

// coverage closes every set's status: err is the scan's.
func (s *logScan) coverage(err error) Coverage {
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
	return cov
}

type logScan struct {
	cfg    config
	src    LogSource
	window Window
	coll   *collector
	seed   maphash.Seed
	// keys is the set of wanted keys, replaced whole when a key is added,
	// so that a worker reads it without a lock for every record.
	keys   atomic.Pointer[keySet]
	mu     sync.Mutex // guards the files' scan state, sets and adding keys
	emitMu sync.Mutex
	files  []*scanFile
	sets   map[string]*setRun
	// The schedule, under mu: files[:unread] were given out for a first
	// read; queue holds follow-ups; checked counts the keys every idle
	// file was checked for.
	unread  int
	queue   []scanTask
	checked int
}

// keySet is the wanted keys in the order they were found.
type keySet struct {
	list []keyScope
	byID map[string]int
}

// keyScope is a key searched in the files, with the days its events can be
// in.
type keyScope struct {
	id   string
	days dayRange
}

type scanFile struct {
	LogFile
	set    string
	day    time.Time
	hasDay bool
	// upto counts the keys (in keySet.list) this file was searched for or
	// ruled out for by its index and day.
	upto  int
	index keyIndex // the key IDs of the file, built by the first read
	read  bool     // read once: counted, indexed
	busy  bool     // being read
	bad   bool
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

// fileStamp finds the time CloudTrail puts in a log file's name:
// <account>_CloudTrail_<region>_20240501T1305Z_<id>.json.gz.
var fileStamp = regexp.MustCompile(`_(\d{8}T\d{4}Z)_`)

// sortForScan orders the files by the time in their names (else the day of
// their path), so that the call that issues a key is most often read
// before the files that hold the key's use, in every region: keys found
// early cost no second read. Of files of the same time, us-east-1's come
// first: IAM's calls (CreateAccessKey) and those of STS's global endpoint
// are logged there. Files without a date come first, in path order.
func sortForScan(files []*scanFile) {
	keys := make(map[*scanFile]string, len(files))
	for _, f := range files {
		var k string
		if m := fileStamp.FindStringSubmatch(path.Base(f.Path)); m != nil {
			k = m[1]
		} else if f.hasDay {
			k = f.day.Format("20060102")
		}
		keys[f] = k
	}
	slices.SortStableFunc(files, func(a, b *scanFile) int {
		if c := cmpString(keys[a], keys[b]); c != 0 {
			return c
		}
		if ea, eb := a.set == "us-east-1", b.set == "us-east-1"; ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		return cmpString(a.Path, b.Path)
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
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
	defer s.mu.Unlock()
	old := s.keys.Load()
	if _, ok := old.byID[l.AccessKeyID]; ok {
		return
	}
	next := &keySet{list: append(slices.Clip(old.list), keyScope{id: l.AccessKeyID, days: days}), byID: make(map[string]int, len(old.byID)+1)}
	for k, v := range old.byID {
		next.byID[k] = v
	}
	next.byID[l.AccessKeyID] = len(next.list) - 1
	s.keys.Store(next)
}

// scanTask is one read of a file: the first (keys nil: every key known as
// each record is read) or a follow-up for keys found after it.
type scanTask struct {
	f    *scanFile
	keys map[string]bool
}

// next returns the read to do now, if any: follow-ups before first reads,
// so that the keys they find are known to the files read after.
func (s *logScan) next() (scanTask, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.keys.Load().list); n > s.checked {
		for _, f := range s.files[:s.unread] {
			if f.read && !f.busy {
				s.followUp(f)
			}
		}
		s.checked = n
	}
	var t scanTask
	switch {
	case len(s.queue) > 0:
		t = s.queue[0]
		s.queue = s.queue[1:]
	case s.unread < len(s.files):
		t = scanTask{f: s.files[s.unread]}
		s.unread++
	default:
		return t, false
	}
	t.f.busy = true
	return t, true
}

// followUp queues a read of f for the keys found since f was last read
// that its index holds, within each key's days. s.mu is held.
func (s *logScan) followUp(f *scanFile) {
	ks := s.keys.Load()
	var want map[string]bool
	for _, k := range ks.list[f.upto:] {
		if f.index.has(s.hash([]byte(k.id))) && (!f.hasDay || k.days.overlaps(f.day, f.day)) {
			if want == nil {
				want = map[string]bool{}
			}
			want[k.id] = true
		}
	}
	f.upto = len(ks.list)
	if want != nil {
		s.queue = append(s.queue, scanTask{f: f, keys: want})
	}
}

func (s *logScan) hash(id []byte) uint64 { return maphash.Bytes(s.seed, id) }

// run reads the files until none has a key left to be searched for.
func (s *logScan) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.concurrency)
	done := make(chan struct{}, s.cfg.concurrency)
	inflight := 0
	for gctx.Err() == nil {
		t, ok := s.next()
		if !ok {
			if inflight == 0 {
				break
			}
			select {
			case <-done:
				inflight--
			case <-gctx.Done():
			}
			continue
		}
		inflight++
		g.Go(func() error {
			err := s.scan(gctx, t)
			done <- struct{}{}
			return err
		})
		// Collect finished reads without waiting, so that the count is
		// right when the next call finds nothing to do.
		for drained := false; !drained; {
			select {
			case <-done:
				inflight--
			default:
				drained = true
			}
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// fileScan is the state of one read of one file.
type fileScan struct {
	s     *logScan
	ctx   context.Context
	keys  map[string]bool // a follow-up's keys; nil on the first read
	first bool
	seen  map[uint64]struct{} // key IDs of the file, on the first read
	unit  string              // "record" or "line"

	records   int
	added     int
	bad       string // the first record of the key that could not be read
	notObj    int    // records that are not JSON objects
	firstNot  int
	deep      int // records nested deeper than maxDepth
	firstDeep int
	// all, when set, receives every record (ReadRecords).
	all     func(raw []byte) error
	counter *countingReader
}

// readers are the buffers a read needs, pooled: real trails hold many
// small files, and a buffer a file would be most of the garbage.
type readers struct {
	br  *bufio.Reader
	zr  *gzip.Reader
	buf []byte
}

var readerPool = sync.Pool{New: func() any {
	return &readers{br: bufio.NewReaderSize(nil, 256<<10), buf: make([]byte, 256<<10)}
}}

// scan reads one file for the task's keys.
func (s *logScan) scan(ctx context.Context, t scanTask) error {
	f := t.f
	s.mu.Lock()
	first := !f.read
	if first {
		f.upto = len(s.keys.Load().list)
	}
	s.mu.Unlock()
	sc := &fileScan{s: s, ctx: ctx, keys: t.keys, first: first, unit: "record"}
	if first {
		sc.seen = map[uint64]struct{}{}
	}
	cr := &countingReader{}
	sc.counter = cr
	err := s.read(ctx, f, sc)
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if err == nil && sc.bad != "" {
		err = errors.New(sc.bad)
	}
	s.mu.Lock()
	set := s.sets[f.set]
	f.busy = false
	if first {
		f.read = true
		f.index = newKeyIndex(sc.seen)
		set.status.Scanned++
		set.status.Records += sc.records
		if sc.notObj > 0 {
			set.status.Skipped = append(set.status.Skipped, FileError{Path: f.Path,
				Reason: fmt.Sprintf("%s left out: not a JSON object (first: %s %d)", count(sc.notObj, sc.unit), sc.unit, sc.firstNot)})
		}
		if sc.deep > 0 {
			set.status.Skipped = append(set.status.Skipped, FileError{Path: f.Path,
				Reason: fmt.Sprintf("%s left out: nested deeper than %d levels (first: %s %d)", count(sc.deep, sc.unit), maxDepth, sc.unit, sc.firstDeep)})
		}
	}
	set.status.Bytes += cr.n
	set.status.Events += sc.added
	if err != nil && !f.bad {
		f.bad = true
		set.status.BadFiles = append(set.status.BadFiles, FileError{Path: f.Path, Reason: err.Error()})
	}
	set.status.State = StateRunning
	set.last = s.cfg.clock.Now()
	s.followUp(f)
	s.mu.Unlock()
	s.emit(set)
	return nil
}

// read opens f and walks its records with sc.
func (s *logScan) read(ctx context.Context, f *scanFile, sc *fileScan) error {
	cr := sc.counter
	if cr == nil {
		cr = &countingReader{}
	}
	return func() error {
		rd := readerPool.Get().(*readers)
		defer func() {
			rd.br.Reset(nil)
			if len(rd.buf) == 256<<10 {
				readerPool.Put(rd)
			}
		}()
		read := func(r io.Reader) error {
			if isJSONLines(f.Path) {
				sc.unit = "line"
				return sc.readLines(r)
			}
			fr := newFramer(ctx, r, 0, maxRecord)
			fr.buf = rd.buf
			defer func() { rd.buf = fr.buf }()
			return sc.readRecords(fr)
		}
		rc, err := s.src.Open(ctx, f.LogFile)
		if err != nil {
			return err
		}
		defer rc.Close()
		cr.r = rc
		rd.br.Reset(cr)
		var r io.Reader = rd.br
		if magic, _ := rd.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			if rd.zr == nil {
				zr, err := gzip.NewReader(rd.br)
				if err != nil {
					return fmt.Errorf("read gzip header: %w", err)
				}
				rd.zr = zr
			} else if err := rd.zr.Reset(rd.br); err != nil {
				return fmt.Errorf("read gzip header: %w", err)
			}
			r = rd.zr
		}
		return read(r)
	}()
}

// count says "1 record", "3 lines".
func count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// readRecords walks {"Records":[…]} documents (one or more, as some
// exporters concatenate them) and bare arrays of records. Fields other
// than Records are skipped, each bounded as a record is.
func (sc *fileScan) readRecords(fr *framer) error {
	for {
		c, err := fr.peek()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		switch c {
		case '[':
			if err := sc.readArray(fr); err != nil {
				return err
			}
		case '{':
			fr.lo++
			if err := sc.readObject(fr); err != nil {
				return err
			}
		default:
			return fmt.Errorf(`read document: invalid character %q, want {"Records":[…]}`, c)
		}
	}
}

// readObject reads a document whose '{' was consumed.
func (sc *fileScan) readObject(fr *framer) error {
	c, err := fr.peek()
	if err != nil {
		return fmt.Errorf("read document: %w", unexpected(err))
	}
	if c == '}' {
		fr.lo++
		return nil
	}
	for {
		name, err := fr.name()
		if err != nil {
			return fmt.Errorf("read document: %w", tooLong(err, "a field name"))
		}
		if c, err = fr.peek(); err != nil {
			return fmt.Errorf("read document: %w", unexpected(err))
		}
		switch {
		case name == "Records" && c == '[':
			if err := sc.readArray(fr); err != nil {
				return err
			}
		case name == "Records" && c != 'n':
			return errors.New("read Records: not an array")
		default: // "Records": null, or another field
			if _, err := fr.value(); err != nil {
				return fmt.Errorf("read document: %w", tooLong(err, fmt.Sprintf("field %.40q", name)))
			}
		}
		if c, err = fr.peek(); err != nil {
			return fmt.Errorf("read document: %w", unexpected(err))
		}
		fr.lo++
		switch c {
		case '}':
			return nil
		case ',':
		default:
			return fmt.Errorf("read document: invalid character %q after field %.40q", c, name)
		}
	}
}

// tooLong says what a value longer than maxRecord was; other errors pass.
func tooLong(err error, what string) error {
	if errors.Is(err, errRecordTooLong) {
		return fmt.Errorf("%s is longer than %d MiB: the rest of the file was skipped", what, maxRecord>>20)
	}
	return err
}

// readArray reads the records of an array, at its '['.
func (sc *fileScan) readArray(fr *framer) error {
	if err := fr.array(); err != nil {
		return fmt.Errorf("read Records: %w", err)
	}
	for {
		v, err := fr.next()
		if err != nil {
			return fmt.Errorf("%s %d: %w", sc.unit, sc.records+1, tooLong(err, "it"))
		}
		if v == nil {
			return nil
		}
		if err := sc.record(v, fr.depth); err != nil {
			return err
		}
	}
}

// readLines reads one record a line. Lines are independent, unlike the
// records of a document: an unreadable one is noted and the next read.
func (sc *fileScan) readLines(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 256<<10)
	}
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > maxRecord {
				return fmt.Errorf("line %d: longer than %d MiB: the rest of the file was skipped", sc.records+1, maxRecord>>20)
			}
			long = append(growBuf(long, len(long)+len(chunk), maxRecord), chunk...)
			if cerr := sc.ctx.Err(); cerr != nil {
				return cerr
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("line %d: %w", sc.records+1, err)
		}
		rec := chunk
		if len(long) > 0 {
			long = append(growBuf(long, len(long)+len(chunk), maxRecord), chunk...)
			rec = long
		}
		if rec = bytes.TrimSpace(rec); len(rec) > 0 {
			if cerr := sc.record(rec, depthOf(rec)); cerr != nil {
				return cerr
			}
		}
		long = long[:0]
		if err != nil { // io.EOF
			return nil
		}
	}
}

// depthOf is the deepest nesting of a JSON value, for lines, which no
// framer cuts.
func depthOf(raw []byte) int {
	d, deepest, inStr := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// accessKeyField is the field name every key ID of a record is under:
// userIdentity's, and responseElements' of the calls that issue keys.
var accessKeyField = []byte(`"accessKeyId"`)

// record considers one record: it indexes its key IDs (first read) and,
// when one of them is wanted, parses it and keeps it if it is an event of
// a wanted key in the window.
func (sc *fileScan) record(raw []byte, depth int) error {
	sc.records++
	if len(raw) == 0 || raw[0] != '{' {
		if sc.notObj++; sc.notObj == 1 {
			sc.firstNot = sc.records
		}
		return sc.tick()
	}
	if sc.all != nil {
		if depth > maxDepth {
			return sc.tick()
		}
		if err := sc.all(raw); err != nil {
			return err
		}
		return sc.tick()
	}
	ks := sc.s.keys.Load()
	hit := false
	for rest := raw; ; {
		i := bytes.Index(rest, accessKeyField)
		if i < 0 {
			break
		}
		rest = rest[i+len(accessKeyField):]
		id, n := keyValue(rest)
		rest = rest[n:]
		if id == nil {
			continue
		}
		if sc.seen != nil {
			sc.seen[sc.s.hash(id)] = struct{}{}
		}
		if sc.keys != nil {
			hit = hit || sc.keys[string(id)]
		} else if _, ok := ks.byID[string(id)]; ok {
			hit = true
		}
	}
	if depth > maxDepth {
		if sc.deep++; sc.deep == 1 {
			sc.firstDeep = sc.records
		}
		if hit && sc.bad == "" {
			sc.bad = fmt.Sprintf("%s %d: an event of a wanted key nested deeper than %d levels", sc.unit, sc.records, maxDepth)
		}
		return sc.tick()
	}
	if !hit {
		return sc.tick()
	}
	e, err := ParseRecord(raw)
	if err != nil {
		if sc.bad == "" {
			sc.bad = fmt.Sprintf("%s %d: %v", sc.unit, sc.records, err)
		}
		return sc.tick()
	}
	id := e.UserIdentity.AccessKeyID
	wanted := sc.keys[id]
	if sc.keys == nil {
		_, wanted = sc.s.keys.Load().byID[id]
	}
	if wanted && sc.s.window.Contains(e.EventTime) {
		added, fresh := sc.s.coll.add(e)
		if added {
			sc.added++
		}
		for _, l := range fresh {
			sc.s.addKey(l)
		}
	}
	return sc.tick()
}

// keyValue reads the string value after a field name ("accessKeyId"): it
// returns the value, or nil when it is not a string, and how many bytes it
// looked at. An escaped value is decoded; CloudTrail writes none.
func keyValue(b []byte) (id []byte, n int) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) || b[i] != ':' {
		return nil, i
	}
	i++
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	if i == len(b) || b[i] != '"' {
		return nil, i
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return nil, len(b)
	}
	v := b[i+1 : i+1+end]
	if bytes.IndexByte(v, '\\') < 0 {
		return v, i + 2 + end
	}
	// An escape: find the real end of the string and decode it.
	j := i + 1
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(b) {
		return nil, len(b)
	}
	var s string
	if json.Unmarshal(b[i:j+1], &s) != nil {
		return nil, j + 1
	}
	return []byte(s), j + 1
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
	st.Skipped = slices.Clone(st.Skipped)
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

// keyIndex is a Bloom filter of the access key IDs of a file: a follow-up
// read of the file for a key it does not hold is skipped. At ten bits a key
// and four probes, about one key in a hundred is taken for present when it
// is not, which costs only a needless read.
type keyIndex []uint64

func newKeyIndex(hashes map[uint64]struct{}) keyIndex {
	bits := 64
	for bits < 10*len(hashes) {
		bits *= 2
	}
	ix := make(keyIndex, bits/64)
	for h := range hashes {
		ix.probe(h, func(w int, m uint64) bool { ix[w] |= m; return true })
	}
	return ix
}

// has tells whether the file may hold the key of hash h.
func (ix keyIndex) has(h uint64) bool {
	if len(ix) == 0 {
		return false
	}
	return ix.probe(h, func(w int, m uint64) bool { return ix[w]&m != 0 })
}

// probe visits the four bits of h (double hashing) while fn says true.
func (ix keyIndex) probe(h uint64, fn func(word int, mask uint64) bool) bool {
	n := uint64(len(ix) * 64)
	h1, h2 := h, h>>32|1
	for i := range uint64(4) {
		bit := (h1 + i*h2) & (n - 1)
		if !fn(int(bit/64), 1<<(bit%64)) {
			return false
		}
	}
	return true
}
