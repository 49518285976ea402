package playbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Case file names.
const (
	CaseFile     = "case.json"
	JournalFile  = "journal.jsonl"
	EventsFile   = "events.jsonl"
	FindingsFile = "findings.json"
)

// caseTimeLayout is the UTC time in case directory names.
const caseTimeLayout = "20060102T150405Z"

const casePrefix = "keyleak-case-"

// Meta is case.json: what the case is about.
type Meta struct {
	KeyID   string    `json:"keyId"`
	Account string    `json:"account,omitempty"`
	Created time.Time `json:"created"`
	// Journal is the journal's length and head after its last append: the
	// anchor that shows a journal deleted, emptied, cut short or rewritten
	// with its hashes recomputed (see VerifyCase).
	Journal *JournalAnchor `json:"journal,omitempty"`
}

// anchors are the journal anchors case.json holds.
func (m Meta) anchors() []NamedAnchor {
	if m.Journal == nil {
		return nil
	}
	return []NamedAnchor{{Where: CaseFile, JournalAnchor: *m.Journal}}
}

// Case is an incident's directory: keyleak-case-<KEYID>-<UTC time>/, mode
// 0700, every file 0600. It holds the journal, the raw CloudTrail events,
// the findings and the reports. Methods are safe for concurrent use.
type Case struct {
	dir     string
	mu      sync.Mutex // guards meta
	writeMu sync.Mutex // serializes writes of case.json, so the newest wins
	meta    Meta
	journal *Journal
}

// CaseDirName is the directory name of a case for key created at t.
func CaseDirName(keyID string, t time.Time) string {
	return casePrefix + keyID + "-" + t.UTC().Format(caseTimeLayout)
}

// CreateCase makes a new case directory for keyID under parent and opens it.
func CreateCase(parent, keyID string, now time.Time) (*Case, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, CaseDirName(keyID, now))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, fmt.Errorf("create case parent: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create case directory: %w", err)
	}
	return initCase(dir, keyID, now)
}

// CreateCaseAt makes a new case in dir, which must not exist or be empty
// (--case DIR naming a new directory).
func CreateCaseAt(dir, keyID string, now time.Time) (*Case, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create case directory: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("create case directory: %w", err)
	} else if len(ents) > 0 {
		return nil, &UsageError{Reason: fmt.Sprintf("%s is not empty: a new case needs a new or empty directory", dir)}
	}
	return initCase(dir, keyID, now)
}

func initCase(dir, keyID string, now time.Time) (*Case, error) {
	// The umask may have removed bits we want, never added any; chmod makes
	// the mode exact.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("set case directory mode: %w", err)
	}
	c := &Case{dir: dir, meta: Meta{KeyID: keyID, Created: now.UTC()}}
	if err := c.writeMeta(); err != nil {
		return nil, err
	}
	j, err := openJournal(filepath.Join(dir, JournalFile))
	if err != nil {
		return nil, err
	}
	c.attach(j)
	return c, nil
}

// OpenCase opens an existing case directory to resume it. Its journal must
// verify, against its own chain and against the anchor in case.json: a
// journal deleted, emptied, cut or rewritten is a *JournalError, never a
// fresh start that would forget what was done.
func OpenCase(dir string) (*Case, error) {
	meta, err := readMeta(dir)
	if err != nil {
		return nil, err
	}
	c := &Case{dir: dir, meta: meta}
	j, err := openJournal(filepath.Join(dir, JournalFile), meta.anchors()...)
	if err != nil {
		return nil, err
	}
	c.attach(j)
	return c, nil
}

// readMeta reads and checks case.json.
func readMeta(dir string) (Meta, error) {
	var meta Meta
	b, err := os.ReadFile(filepath.Join(dir, CaseFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return meta, fmt.Errorf("open case %s: not a keyleak case directory (no %s)", dir, CaseFile)
		}
		return meta, fmt.Errorf("open case: %w", err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, fmt.Errorf("read %s: %w", CaseFile, err)
	}
	if err := ValidateKeyID(meta.KeyID); err != nil {
		return meta, fmt.Errorf("read %s: %w", CaseFile, err)
	}
	return meta, nil
}

// attach makes j the case's journal and keeps its anchor in case.json
// after every append.
func (c *Case) attach(j *Journal) {
	c.journal = j
	j.anchored = func(a JournalAnchor) error {
		c.mu.Lock()
		c.meta.Journal = &a
		c.mu.Unlock()
		return c.writeMeta()
	}
}

// FindCase returns the newest case directory for keyID under parent, or ""
// when there is none. The CLI uses it to resume without --case.
func FindCase(parent, keyID string) (string, error) {
	ents, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("list cases: %w", err)
	}
	prefix := casePrefix + keyID + "-"
	var names []string
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if _, err := time.Parse(caseTimeLayout, strings.TrimPrefix(e.Name(), prefix)); err == nil {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	sort.Strings(names) // the time layout sorts chronologically
	return filepath.Join(parent, names[len(names)-1]), nil
}

// OpenOrCreateCase resumes the newest case of keyID under parent, or creates
// one. created reports which happened.
func OpenOrCreateCase(parent, keyID string, now time.Time) (c *Case, created bool, err error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, false, err
	}
	dir, err := FindCase(parent, keyID)
	if err != nil {
		return nil, false, err
	}
	if dir != "" {
		c, err := OpenCase(dir)
		return c, false, err
	}
	c, err = CreateCase(parent, keyID, now)
	return c, err == nil, err
}

// Dir returns the case directory.
func (c *Case) Dir() string { return c.dir }

// Path returns the path of a file in the case directory.
func (c *Case) Path(name string) string { return filepath.Join(c.dir, name) }

// Meta returns case.json's content.
func (c *Case) Meta() Meta {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta
}

// Journal returns the case's journal.
func (c *Case) Journal() *Journal { return c.journal }

// SetAccount records the key's account in case.json once it is known.
func (c *Case) SetAccount(account string) error {
	c.mu.Lock()
	if c.meta.Account == account {
		c.mu.Unlock()
		return nil
	}
	c.meta.Account = account
	c.mu.Unlock()
	return c.writeMeta()
}

func (c *Case) writeMeta() error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.Lock()
	b, err := json.MarshalIndent(c.meta, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode %s: %w", CaseFile, err)
	}
	return c.WriteFile(CaseFile, append(b, '\n'))
}

// Close closes the journal.
func (c *Case) Close() error { return c.journal.Close() }

// checkName refuses names that would leave the case directory.
func checkName(name string) error {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("case file %q: must be a plain file name", name)
	}
	return nil
}

// WriteFile writes a file of the case atomically (temporary file, sync,
// rename), mode 0600: a crash leaves the old version or the new one, never
// half of one. Reports use it.
func (c *Case) WriteFile(name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, "."+name+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), c.Path(name)); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// CreateFile creates (or truncates) a file of the case, mode 0600, for
// writers that stream (the Excel report). The caller closes it.
func (c *Case) CreateFile(name string) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(c.Path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	return f, nil
}

// WriteFindings stores v as findings.json.
func (c *Case) WriteFindings(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode findings: %w", err)
	}
	return c.WriteFile(FindingsFile, append(b, '\n'))
}

// ReadFindings loads findings.json into v; fs.ErrNotExist when there is none.
func (c *Case) ReadFindings(v any) error {
	b, err := os.ReadFile(c.Path(FindingsFile))
	if err != nil {
		return fmt.Errorf("read findings: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode findings: %w", err)
	}
	return nil
}
