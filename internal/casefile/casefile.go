// Package casefile is the one store of a case directory's files: typed
// save and load for each file keyleak keeps beside the journal, and the one
// way a case is opened from what the user typed. Every front end (the
// commands, the runbook, the demo, the unattended responder) reads and writes
// a case through it, so a case looks the same whichever wrote it.
//
// The case directory must be safe to attach to a support case: the events
// writer redacts every record (internal/redact), and nothing here stores a
// secret access key or a session token.
package casefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/audit"
	"github.com/keyleak/keyleak/bill"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trigger"
)

// The case's files beside the playbook's own (case.json, journal.jsonl,
// events.jsonl, findings.json).
const (
	// ContainFile is the summary of the last contain run (playbook.Summary).
	ContainFile = "contain.json"
	// InvestigationFile is the investigation's result without its events
	// (trail.Result): window, key chain, coverage.
	InvestigationFile = "investigation.json"
	// AssessFile holds what the responder told the assessment (the leak
	// time, extra rule directories), so that findings can be rebuilt later
	// with the same judgement.
	AssessFile = "assess.json"
	// AuditFile is the account's key audit (audit.Report), when one was run
	// for the case (keyleak audit --case DIR).
	AuditFile = "audit.json"
	// ProgressFile is how far the sweeps of the key got (trail.Progress):
	// the windows read in full per region and key, so that a run cut short
	// resumes and a later run reads only what is new.
	ProgressFile = "sweep.json"
	// TriggerFile is the event that started an unattended response
	// (trigger.Trigger: the keys, the account, where the leak was found),
	// never the event itself, which may carry a secret.
	TriggerFile = "trigger.json"
	// BillFile is what the leak costs, as last priced (package bill).
	BillFile = "bill.json"
	// FindingsFile and EventsFile are the playbook's names, repeated here
	// so that callers need one package.
	FindingsFile = playbook.FindingsFile
	EventsFile   = playbook.EventsFile
)

// Ref names a case as the user gave it: a directory (--case), or the key
// and where its cases live (--dir).
type Ref struct {
	Dir    string // --case: a case to resume, or a directory to create it in
	Parent string // --dir: where new cases are made and old ones looked for
	Key    string
}

// Open opens the case a Ref names, validating the key first so that a
// mistyped key ID leaves no directory behind:
//   - Dir that does not exist: a new case is created there;
//   - Dir that is a case: it is resumed (it must be the same key's);
//   - Dir that exists, is empty: a new case is created in it;
//   - Dir that holds other files: refused, nothing is written;
//   - no Dir: the key's newest case under Parent, or a new one there.
//
// Errors that are the user's to fix are *playbook.UsageError or wrap
// playbook.ErrInvalidKeyID.
func Open(ref Ref, now time.Time) (*playbook.Case, error) {
	if err := playbook.ValidateKeyID(ref.Key); err != nil {
		return nil, err
	}
	if ref.Dir == "" {
		parent := ref.Parent
		if parent == "" {
			parent = "."
		}
		if st, err := os.Stat(parent); err == nil && !st.IsDir() {
			return nil, &playbook.UsageError{Reason: fmt.Sprintf("%s is a file, not a directory for cases", parent)}
		}
		c, _, err := playbook.OpenOrCreateCase(parent, ref.Key, now)
		if err != nil {
			return nil, fmt.Errorf("open case: %w", err)
		}
		return checked(c)
	}
	st, err := os.Stat(ref.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return playbook.CreateCaseAt(ref.Dir, ref.Key, now)
	case err != nil:
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("case directory %s: %v", ref.Dir, err)}
	case !st.IsDir():
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("%s is a file, not a case directory", ref.Dir)}
	}
	if _, err := os.Stat(filepath.Join(ref.Dir, playbook.CaseFile)); err == nil {
		c, err := playbook.OpenCase(ref.Dir)
		if err != nil {
			return nil, err
		}
		if c.Meta().KeyID != ref.Key {
			c.Close()
			return nil, &playbook.UsageError{Reason: fmt.Sprintf("case %s is for key %s, not %s", ref.Dir, c.Meta().KeyID, ref.Key)}
		}
		return checked(c)
	}
	ents, err := os.ReadDir(ref.Dir)
	if err != nil {
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("case directory %s: %v", ref.Dir, err)}
	}
	if len(ents) > 0 {
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("%s is not a keyleak case and is not empty: give a new or empty directory, or an existing case", ref.Dir)}
	}
	return playbook.CreateCaseAt(ref.Dir, ref.Key, now)
}

// OpenExisting opens a case that must exist already (report, case verify).
func OpenExisting(dir string) (*playbook.Case, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("case directory %s does not exist", dir)}
	}
	if _, err := os.Stat(filepath.Join(dir, playbook.CaseFile)); err != nil {
		return nil, &playbook.UsageError{Reason: fmt.Sprintf("%s is not a keyleak case directory (no %s)", dir, playbook.CaseFile)}
	}
	c, err := playbook.OpenCase(dir)
	if err != nil {
		return nil, err
	}
	return checked(c)
}

// Verify checks the journal of the case in dir against its hash chain and
// against every anchor the case keeps: case.json's and contain.json's.
func Verify(dir string) (playbook.VerifyResult, error) {
	anchors, err := fileAnchors(dir)
	if err != nil {
		return playbook.VerifyResult{}, err
	}
	return playbook.VerifyCase(dir, anchors...)
}

// checked returns the opened case once its journal agrees with the anchors
// of the case's other files (playbook.OpenCase checks case.json's); it
// closes the case when it does not.
func checked(c *playbook.Case) (*playbook.Case, error) {
	anchors, err := fileAnchors(c.Dir())
	if err == nil {
		for _, a := range anchors {
			if err = c.Journal().CheckAnchor(a); err != nil {
				break
			}
		}
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// fileAnchors are the journal anchors kept beside case.json's: the head
// the last contain run left in contain.json.
func fileAnchors(dir string) ([]playbook.NamedAnchor, error) {
	b, err := os.ReadFile(filepath.Join(dir, ContainFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", ContainFile, err)
	}
	var sum playbook.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, fmt.Errorf("read %s: %w", ContainFile, err)
	}
	if sum.JournalEntries <= 0 || sum.JournalHead == "" {
		return nil, nil
	}
	return []playbook.NamedAnchor{{Where: ContainFile, JournalAnchor: playbook.JournalAnchor{Entries: sum.JournalEntries, Head: sum.JournalHead}}}, nil
}

// readJSON decodes one of the case's JSON files; a missing file reports
// false, not an error.
func readJSON(c *playbook.Case, name string, v any) (bool, error) {
	b, err := os.ReadFile(c.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	return true, nil
}

func writeJSON(c *playbook.Case, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	if err := c.WriteFile(name, append(b, '\n')); err != nil {
		return fmt.Errorf("save %s: %w", name, err)
	}
	return nil
}

// SaveContain keeps a playbook run's summary for the report.
func SaveContain(c *playbook.Case, sum *playbook.Summary) error {
	return writeJSON(c, ContainFile, sum)
}

// LoadContain reads the last contain run's summary; nil when none ran.
func LoadContain(c *playbook.Case) (*playbook.Summary, error) {
	var sum playbook.Summary
	ok, err := readJSON(c, ContainFile, &sum)
	if err != nil || !ok {
		return nil, err
	}
	return &sum, nil
}

// SaveInvestigation appends the events found (de-duplicated, redacted),
// keeps the result without its events, records the account, and notes the
// run in the journal. kept is how many new events the run already appended
// as they arrived (a sweep's event sink). It returns how many events were
// new in all.
func SaveInvestigation(c *playbook.Case, inv *trail.Investigation, kept int) (int, error) {
	added, err := trail.AppendEventsFile(c.Path(EventsFile), inv.Events)
	added += kept
	if err != nil {
		return added, fmt.Errorf("save events: %w", err)
	}
	res := inv.Result()
	res.Events = nil
	if err := writeJSON(c, InvestigationFile, res); err != nil {
		return added, err
	}
	if inv.Account != "" && c.Meta().Account == "" {
		if err := c.SetAccount(inv.Account); err != nil {
			return added, fmt.Errorf("save account: %w", err)
		}
	}
	msg := fmt.Sprintf("investigation: %d events (%d new) of %d keys", len(inv.Events), added, len(inv.Keys))
	if s := inv.Coverage.Summary(); s != "" {
		msg += "; " + s
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "investigate", Message: msg}); err != nil {
		return added, fmt.Errorf("journal investigation: %w", err)
	}
	return added, nil
}

// SaveProgress keeps how far the sweeps of the key got.
func SaveProgress(c *playbook.Case, p trail.Progress) error {
	return writeJSON(c, ProgressFile, p)
}

// LoadProgress reads it; nil when there is none (or it is another key's).
func LoadProgress(c *playbook.Case) (*trail.Progress, error) {
	var p trail.Progress
	ok, err := readJSON(c, ProgressFile, &p)
	if err != nil || !ok || p.Key != c.Meta().KeyID {
		return nil, err
	}
	return &p, nil
}

// LoadResult reads the last investigation's result (no events); nil when
// none ran.
func LoadResult(c *playbook.Case) (*trail.Result, error) {
	var res trail.Result
	ok, err := readJSON(c, InvestigationFile, &res)
	if err != nil || !ok {
		return nil, err
	}
	return &res, nil
}

// LoadInvestigation rebuilds the investigation kept in the case: the last
// sweep's coverage and key chain and every event fetched by any run, oldest
// first. nil when no investigation has run.
func LoadInvestigation(c *playbook.Case) (*trail.Investigation, error) {
	res, err := LoadResult(c)
	if err != nil || res == nil {
		return nil, err
	}
	inv := &trail.Investigation{Key: res.Key, Account: res.Account, Window: res.Window, Keys: res.Keys}
	roles := map[string]bool{}
	for _, k := range res.Keys {
		if k.RoleARN != "" && !roles[k.RoleARN] {
			roles[k.RoleARN] = true
			inv.RoleARNs = append(inv.RoleARNs, k.RoleARN)
		}
	}
	slices.Sort(inv.RoleARNs)
	for _, r := range res.Regions {
		inv.Coverage.Sources = append(inv.Coverage.Sources, trail.SourceStatus{
			Name: r.Region, State: r.Status, Err: r.Error, Pages: r.Pages, Events: r.Events, Keys: r.Keys,
			Throttles: r.Throttled, Retries: r.Retries, Files: r.Files, BadFiles: r.BadFiles, Skipped: r.Skipped,
		})
	}
	events, _, err := trail.ReadEventsFile(c.Path(EventsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read events: %w", err)
	}
	slices.SortStableFunc(events, func(a, b trail.Event) int {
		if x := a.EventTime.Compare(b.EventTime); x != 0 {
			return x
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	inv.Events = events
	return inv, nil
}

// RebuildInvestigation rebuilds the investigation of a case whose events
// were kept by a run that stopped before it saved its result: the events,
// the key chain they show, and a coverage that says it is not known. It
// saves that result as investigation.json and notes the rebuild in the
// journal. nil when the case holds no event.
func RebuildInvestigation(c *playbook.Case, now time.Time) (*trail.Investigation, error) {
	events, _, err := trail.ReadEventsFile(c.Path(EventsFile))
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(events) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	inv := trail.Rebuild(c.Meta().KeyID, events, now)
	res := inv.Result()
	res.Events = nil
	if err := writeJSON(c, InvestigationFile, res); err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("investigation rebuilt from %d events kept by an interrupted run; its coverage is not known", len(events))
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "investigate", Message: msg}); err != nil {
		return nil, fmt.Errorf("journal rebuild: %w", err)
	}
	return inv, nil
}

// AssessOptions is what the responder told the assessment.
type AssessOptions struct {
	// LeakedAt is the leak time given with --leaked-at (zero: inferred).
	LeakedAt time.Time `json:"leakedAt,omitzero"`
	// Rules are extra rule directories given with --rules.
	Rules []string `json:"rules,omitempty"`
}

// SaveAssessOptions keeps the assessment's options for later rebuilds.
func SaveAssessOptions(c *playbook.Case, o AssessOptions) error {
	return writeJSON(c, AssessFile, o)
}

// LoadAssessOptions reads them; zero when never saved.
func LoadAssessOptions(c *playbook.Case) (AssessOptions, error) {
	var o AssessOptions
	_, err := readJSON(c, AssessFile, &o)
	return o, err
}

// SaveFindings keeps the assessment's findings.
func SaveFindings(c *playbook.Case, f assess.Findings) error {
	return writeJSON(c, FindingsFile, f)
}

// LoadFindings reads the findings; nil when the case has none yet.
func LoadFindings(c *playbook.Case) (*assess.Findings, error) {
	var f assess.Findings
	ok, err := readJSON(c, FindingsFile, &f)
	if err != nil || !ok {
		return nil, err
	}
	return &f, nil
}

// SaveAudit keeps the account's key audit with the case.
func SaveAudit(c *playbook.Case, rep *audit.Report) error {
	return writeJSON(c, AuditFile, rep)
}

// LoadAudit reads the audit; nil when none was kept.
func LoadAudit(c *playbook.Case) (*audit.Report, error) {
	var rep audit.Report
	ok, err := readJSON(c, AuditFile, &rep)
	if err != nil || !ok {
		return nil, err
	}
	return &rep, nil
}

// SaveBill keeps the bill as priced now.
func SaveBill(c *playbook.Case, b *bill.Bill) error {
	return writeJSON(c, BillFile, b)
}

// LoadBill reads the last bill; nil when none was priced.
func LoadBill(c *playbook.Case) (*bill.Bill, error) {
	var b bill.Bill
	ok, err := readJSON(c, BillFile, &b)
	if err != nil || !ok {
		return nil, err
	}
	return &b, nil
}

// SaveTrigger keeps what the event that started the response said.
func SaveTrigger(c *playbook.Case, t *trigger.Trigger) error {
	return writeJSON(c, TriggerFile, t)
}

// LoadTrigger reads the event that started the response; nil when the
// case was not started by one.
func LoadTrigger(c *playbook.Case) (*trigger.Trigger, error) {
	var t trigger.Trigger
	ok, err := readJSON(c, TriggerFile, &t)
	if err != nil || !ok {
		return nil, err
	}
	return &t, nil
}

// HasFile reports whether the case holds the named file.
func HasFile(c *playbook.Case, name string) bool {
	_, err := os.Stat(c.Path(name))
	return err == nil
}
