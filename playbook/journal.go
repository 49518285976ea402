package playbook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/keyleak/keyleak/internal/redact"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Kind is the kind of a journal entry.
type Kind string

// Journal entry kinds. An intent is written before every AWS call and an
// outcome after it, so a crash between the two is visible on resume.
const (
	KindIntent     Kind = "intent"     // an AWS call is about to be made
	KindOutcome    Kind = "outcome"    // its response or error
	KindNote       Kind = "note"       // something the responder should be able to read later
	KindPlan       Kind = "plan"       // a dry run's plan of a step
	KindDecision   Kind = "decision"   // the responder declined or approved a step
	KindReconciled Kind = "reconciled" // an action found done without (re)doing it
	KindUndone     Kind = "undone"     // an action reverted by its step's Undo
)

// GenesisHash is the previous-entry hash of the first entry: the SHA-256 of
// the empty string.
var GenesisHash = hashLine(nil)

// Entry is one line of the journal.
type Entry struct {
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Prev is the hex SHA-256 of the previous line (without its newline),
	// GenesisHash for the first entry.
	Prev        string            `json:"prev"`
	Kind        Kind              `json:"kind"`
	Step        string            `json:"step,omitempty"`
	ActionID    string            `json:"actionId,omitempty"`
	Caller      string            `json:"caller,omitempty"` // ARN of the responder making the call
	Action      string            `json:"action,omitempty"` // AWS action, "iam:UpdateAccessKey"
	Description string            `json:"description,omitempty"`
	Params      map[string]string `json:"params,omitempty"`
	Request     any               `json:"request,omitempty"`
	Response    any               `json:"response,omitempty"`
	Error       *ErrorInfo        `json:"error,omitempty"`
	Message     string            `json:"message,omitempty"`
}

// ErrorInfo is the error of an AWS call as journaled.
type ErrorInfo struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	// Definite is true when AWS answered with a client error, so the call
	// certainly had no effect; false for network errors and 5xx answers,
	// after which the call may or may not have happened.
	Definite bool `json:"definite"`
}

// ActionRecord is what the journal says about one planned action.
type ActionRecord struct {
	Started bool // an intent was written
	Done    bool // an outcome without error, or a reconciliation
	// Reconciled is set when the action is done by a reconciliation alone:
	// found done in AWS, so DoneAt is when it was found, not when it
	// happened.
	Reconciled bool
	Pending    bool      // started, and no definite outcome since
	DoneAt     time.Time // time of the successful outcome
	Step       string
	Action     string
	Params     map[string]string
	Failed     *ErrorInfo // last definite error, if the action is not done
}

// Journal is the case's append-only, hash-chained log. Append is safe for
// concurrent use.
type Journal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	seq     int64
	prev    string
	heads   []string // heads[i] is the hash of entry i+1, for anchor checks
	caller  string
	actions map[string]*ActionRecord
	// anchored, when set, is told the new head after every append (the
	// case keeps it in case.json), with mu held so that anchors are
	// written in order.
	anchored func(JournalAnchor) error
}

// JournalAnchor is the journal's length and head hash as another file of
// the case recorded them. The chain alone cannot show that its last lines
// were deleted, that the whole file was emptied or replaced, or that every
// hash was recomputed after an edit; a copy of the head kept elsewhere can.
type JournalAnchor struct {
	Entries int64  `json:"entries"`
	Head    string `json:"head"`
}

// NamedAnchor is an anchor and the file that holds it, for messages.
type NamedAnchor struct {
	Where string
	JournalAnchor
}

// OpenJournal opens the journal at path for appending, creating it (mode
// 0600) if needed. An existing journal is verified first: appending to a
// damaged one would hide the damage, so that is a *JournalError.
func OpenJournal(path string) (*Journal, error) { return openJournal(path) }

// openJournal is OpenJournal that also checks the journal against anchors
// kept elsewhere in the case: a journal missing, emptied, cut short or
// rewritten below an anchor is a *JournalError too.
func openJournal(path string, anchors ...NamedAnchor) (*Journal, error) {
	j := &Journal{path: path, prev: GenesisHash, actions: map[string]*ActionRecord{}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	res, entries, heads := verify(data)
	res = checkAnchors(res, heads, anchors)
	if !res.OK {
		return nil, &JournalError{Path: path, Result: res}
	}
	for _, e := range entries {
		j.track(e)
	}
	j.seq = int64(len(entries))
	j.prev = res.Head
	j.heads = heads
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j.f = f
	return j, nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.path }

// SetCaller sets the responder ARN written into later entries.
func (j *Journal) SetCaller(arn string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.caller = arn
}

// Append writes e as the next entry and syncs it to disk before returning.
// Seq, Prev and Caller are set by the journal, Time when zero; request,
// response and text are scrubbed of secrets first. It returns the entry as
// written.
func (j *Journal) Append(e Entry) (Entry, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	e.Request = redact.Value(e.Request)
	e.Response = redact.Value(e.Response)
	e.Message = redact.Text(e.Message)
	e.Description = redact.Text(e.Description)
	if e.Error != nil {
		cp := *e.Error
		cp.Message = redact.Text(cp.Message)
		e.Error = &cp
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return Entry{}, errors.New("append journal entry: journal is closed")
	}
	e.Seq = j.seq + 1
	e.Prev = j.prev
	if e.Caller == "" {
		e.Caller = j.caller
	}
	line, err := json.Marshal(e)
	if err != nil {
		return Entry{}, fmt.Errorf("encode journal entry: %w", err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return Entry{}, fmt.Errorf("write journal entry: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("sync journal: %w", err)
	}
	j.seq = e.Seq
	j.prev = hashLine(line)
	j.heads = append(j.heads, j.prev)
	j.track(e)
	if j.anchored != nil {
		if err := j.anchored(JournalAnchor{Entries: j.seq, Head: j.prev}); err != nil {
			return e, fmt.Errorf("anchor journal entry %d: %w", e.Seq, err)
		}
	}
	return e, nil
}

// Anchor returns the journal's length and head, for other files of the
// case to keep.
func (j *Journal) Anchor() JournalAnchor {
	j.mu.Lock()
	defer j.mu.Unlock()
	return JournalAnchor{Entries: j.seq, Head: j.prev}
}

// CheckAnchor reports, as a *JournalError, whether the journal disagrees
// with an anchor another file of the case kept: fewer entries, or another
// entry at the anchored place.
func (j *Journal) CheckAnchor(a NamedAnchor) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	res := VerifyResult{OK: true, Entries: int(j.seq), Head: j.prev}
	if res = checkAnchors(res, j.heads, []NamedAnchor{a}); !res.OK {
		return &JournalError{Path: j.path, Result: res}
	}
	return nil
}

// Action returns what the journal records about a planned action.
func (j *Journal) Action(id string) ActionRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	if r, ok := j.actions[id]; ok {
		return *r
	}
	return ActionRecord{}
}

// Head returns the hash of the last entry written (GenesisHash when empty).
// Quoting it elsewhere (the support case, the report) makes later edits of the
// last line detectable too.
func (j *Journal) Head() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.prev
}

// Close closes the file; later appends fail.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// track updates the action index with an entry. Called with mu held.
func (j *Journal) track(e Entry) {
	if e.ActionID == "" {
		return
	}
	r := j.actions[e.ActionID]
	if r == nil {
		r = &ActionRecord{}
		j.actions[e.ActionID] = r
	}
	switch e.Kind {
	case KindIntent:
		r.Started, r.Pending, r.Failed = true, true, nil
		r.Step, r.Action, r.Params = e.Step, e.Action, e.Params
	case KindOutcome:
		switch {
		case e.Error == nil:
			r.Done, r.Pending, r.DoneAt, r.Reconciled = true, false, e.Time, false
		case e.Error.Definite:
			r.Pending, r.Failed = false, e.Error
		}
	case KindReconciled:
		r.Done, r.Pending, r.DoneAt, r.Reconciled = true, false, e.Time, true
		if r.Step == "" {
			r.Step, r.Action, r.Params = e.Step, e.Action, e.Params
		}
	case KindUndone:
		r.Done, r.Pending, r.Reconciled = false, false, false
	}
}

// ReadJournal returns the entries of the journal at path, after checking the
// chain; a damaged journal is a *JournalError.
func ReadJournal(path string) ([]Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	res, entries, _ := verify(data)
	if !res.OK {
		return entries, &JournalError{Path: path, Result: res}
	}
	return entries, nil
}

// VerifyResult is the verdict on a journal's hash chain.
type VerifyResult struct {
	OK      bool
	Entries int    // entries checked and found intact
	Line    int    // first broken line (1-based), 0 when OK
	Problem string // one sentence on what is wrong, "" when OK
	// Head is the hash of the last intact line. An edit of the very last line
	// can only be detected by comparing Head with a copy kept elsewhere.
	Head string
	// Anchors name the other files whose copy of the head was checked
	// (VerifyCase), e.g. "case.json at entry 12".
	Anchors []string `json:",omitempty"`
}

// String is the verdict in one sentence.
func (r VerifyResult) String() string {
	if r.OK {
		s := fmt.Sprintf("journal intact: %d entries, head %s", r.Entries, r.Head)
		if len(r.Anchors) > 0 {
			s += "; agrees with " + strings.Join(r.Anchors, ", ")
		} else {
			s += "; no anchor to check it against (its last lines could have been deleted unseen)"
		}
		return s
	}
	return fmt.Sprintf("journal damaged at line %d: %s", r.Line, r.Problem)
}

// Verify checks the hash chain of the journal at path and reports the first
// broken line: a line edited after it was written, lines deleted or
// reordered, or a last line cut short. The error is for I/O only; a damaged
// journal is a result with OK false.
func Verify(path string) (VerifyResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("read journal: %w", err)
	}
	res, _, _ := verify(data)
	return res, nil
}

// VerifyCase checks the journal of the case in dir: its hash chain, and its
// length and head against the anchor case.json keeps and against the
// extra anchors given (other files of the case). Unlike Verify, it finds a
// journal that is missing, emptied, cut after its last intact line, or
// rewritten with every hash recomputed.
func VerifyCase(dir string, extra ...NamedAnchor) (VerifyResult, error) {
	meta, err := readMeta(dir)
	if err != nil {
		return VerifyResult{}, err
	}
	data, err := os.ReadFile(filepath.Join(dir, JournalFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return VerifyResult{}, fmt.Errorf("read journal: %w", err)
	}
	res, _, heads := verify(data)
	return checkAnchors(res, heads, append(meta.anchors(), extra...)), nil
}

// checkAnchors checks an intact chain (heads[i] the hash of entry i+1)
// against anchors kept elsewhere. A journal may be longer than an anchor
// (a crash between the journal's write and the anchor's), never shorter,
// and the anchored entry must be the one anchored.
func checkAnchors(res VerifyResult, heads []string, anchors []NamedAnchor) VerifyResult {
	if !res.OK {
		return res
	}
	for _, a := range anchors {
		if a.Entries <= 0 {
			continue
		}
		n := int64(len(heads))
		switch {
		case n == 0:
			res.OK, res.Line = false, 1
			res.Problem = fmt.Sprintf("the journal is missing or empty, but %s records %d %s: it was deleted, emptied or replaced",
				a.Where, a.Entries, plural(a.Entries, "entry", "entries"))
		case n < a.Entries:
			missing := a.Entries - n
			res.OK, res.Line = false, int(n)+1
			res.Problem = fmt.Sprintf("the journal ends at entry %d, but %s records %d entries: the last %d %s deleted or cut off",
				n, a.Where, a.Entries, missing, plural(missing, "was", "were"))
		case heads[a.Entries-1] != a.Head:
			res.OK, res.Line = false, int(a.Entries)
			res.Problem = fmt.Sprintf("entry %d is not the entry %s records (its hash differs): the journal was rewritten up to there, hashes and all",
				a.Entries, a.Where)
		default:
			res.Anchors = append(res.Anchors, fmt.Sprintf("%s at entry %d", a.Where, a.Entries))
			continue
		}
		res.Anchors = nil
		return res
	}
	return res
}

func verify(data []byte) (VerifyResult, []Entry, []string) {
	res := VerifyResult{Head: GenesisHash}
	var entries []Entry
	var heads []string
	prevLine := []byte(nil)
	headBefore := GenesisHash // the head before prevLine
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			res.Line = n
			res.Problem = fmt.Sprintf("the journal ends in the middle of line %d (no final newline): it was cut short, by a crash while writing or by truncation", n)
			return res, entries, heads
		}
		line := data[:i]
		data = data[i+1:]
		fail := func(format string, args ...any) (VerifyResult, []Entry, []string) {
			res.Line = n
			res.Problem = fmt.Sprintf(format, args...)
			return res, entries, heads
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return fail("line %d is empty: the journal was edited", n)
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return fail("line %d is not a journal entry (not valid JSON): it was edited or damaged", n)
		}
		want := int64(n)
		switch {
		case e.Seq > want && n == 1:
			return fail("line 1 is entry %d: the first %d entries were deleted", e.Seq, e.Seq-1)
		case e.Seq > want && holdsEntry(data, want):
			return fail("line %d is entry %d but entry %d was expected, and entry %d comes later: lines were reordered", n, e.Seq, want, want)
		case e.Seq > want:
			missing := e.Seq - want
			return fail("line %d is entry %d but entry %d was expected: %d %s between line %d and line %d %s deleted",
				n, e.Seq, want, missing, plural(missing, "entry", "entries"), n-1, n, plural(missing, "was", "were"))
		case e.Seq < want:
			return fail("line %d is entry %d but entry %d was expected: lines were reordered or copied", n, e.Seq, want)
		}
		if e.Prev != hashLine(prevLine) {
			if n == 1 {
				return fail("line 1 does not start the chain (its previous-entry hash is not the genesis hash): it was edited")
			}
			res.Line = n - 1 // the edited line is the one before
			res.Entries, res.Head = n-2, headBefore
			res.Problem = fmt.Sprintf("line %d was changed after it was written: its hash no longer matches the one line %d recorded", n-1, n)
			return res, entries[:len(entries)-1], heads[:len(heads)-1]
		}
		entries = append(entries, e)
		headBefore = res.Head
		prevLine = line
		res.Head = hashLine(line)
		heads = append(heads, res.Head)
		res.Entries = n
	}
	res.OK = true
	return res, entries, heads
}

// holdsEntry reports whether a later line of the journal is entry seq, so
// that lines moved out of order are not reported as deleted.
func holdsEntry(rest []byte, seq int64) bool {
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		var e struct {
			Seq int64 `json:"seq"`
		}
		if json.Unmarshal(line, &e) == nil && e.Seq == seq {
			return true
		}
	}
	return false
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// hashLine is the chain hash of a line: hex SHA-256 of its bytes.
func hashLine(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}
