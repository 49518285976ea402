package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/trail"
)

// githubPushCase contains and investigates the github-push scenario and
// returns the case directory.
func githubPushCase(t *testing.T) (string, *awssim.Server) {
	t.Helper()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50))
	sim := srv.Sim
	r := sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	dir := t.TempDir()
	key := sim.LeakedKey()
	if code, _, errOut := run(t, "contain", "--key", key, "--yes", "--dir", dir); code != ExitOK {
		t.Fatalf("contain: exit %d: %s", code, errOut)
	}
	if code, _, errOut := run(t, "investigate", "--key", key, "--dir", dir, "--lookup-rate", "40"); code != ExitOK {
		t.Fatalf("investigate: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-"+key+"-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	return cases[0], srv
}

func TestReportOfGitHubPushCase(t *testing.T) {
	t.Parallel()
	caseDir, _ := githubPushCase(t)
	code, out, errOut := run(t, "report", "--case", caseDir, "--tz", "Asia/Tokyo")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	for _, name := range []string{"report.xlsx", "report.md", "report.json"} {
		p := filepath.Join(caseDir, name)
		if !strings.Contains(out, p) {
			t.Errorf("report did not print %s", p)
		}
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", name, err, st.Mode())
		}
	}
	events, _, err := trail.ReadEventsFile(filepath.Join(caseDir, playbook.EventsFile))
	if err != nil || len(events) == 0 {
		t.Fatalf("case events: %d, %v", len(events), err)
	}

	// The workbook, read back.
	x, err := excelize.OpenFile(filepath.Join(caseDir, "report.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheets := map[string]bool{}
	for _, s := range x.GetSheetList() {
		sheets[s] = true
	}
	for _, s := range []string{"Summary", "Timeline", "Attacker", "Resources", "Actions", "Credentials", "Coverage"} {
		if !sheets[s] {
			t.Errorf("workbook has no %s sheet (has %v)", s, x.GetSheetList())
		}
	}
	rows, err := x.GetRows("Timeline")
	if err != nil {
		t.Fatal(err)
	}
	header, body := rows[0], rows[1:]
	if len(body) != len(events) {
		t.Errorf("timeline has %d rows, the case %d events", len(body), len(events))
	}
	col := func(name string) int {
		for i, h := range header {
			if strings.HasPrefix(strings.ToLower(h), strings.ToLower(name)) {
				return i
			}
		}
		t.Fatalf("timeline has no %q column: %v", name, header)
		return -1
	}
	idCol, timeCol := col("Event ID"), col("Time (UTC)")
	seen := map[string]bool{}
	var times []string
	for _, r := range body {
		seen[r[idCol]] = true
		times = append(times, r[timeCol])
	}
	for _, e := range events {
		if !seen[e.EventID] {
			t.Errorf("event %s is not in the timeline", e.EventID)
		}
	}
	if !sort.StringsAreSorted(times) {
		t.Error("timeline is not oldest first")
	}
	// What a reader scans comes first, in --tz's zone; an attacker's row
	// is filled from end to end, a legitimate one is not.
	if want := []string{"Time (JST)", "Verdict", "Severity", "Event name", "Region"}; !slices.Equal(header[:5], want) {
		t.Errorf("timeline starts with %q, want %q", header[:5], want)
	}
	attackerRows, legitRows := 0, 0
	for i, r := range body {
		for c := range header {
			if c == 1 || c == 2 {
				continue // verdict and severity have their own colours
			}
			cell, _ := excelize.CoordinatesToCellName(c+1, i+2)
			id, _ := x.GetCellStyle("Timeline", cell)
			st, _ := x.GetStyle(id)
			filled := st != nil && len(st.Fill.Color) > 0 && st.Fill.Color[0] == report.AttackerRowFill
			if filled != (r[1] == "attacker") {
				t.Fatalf("row %d (%s) cell %s filled=%v", i+2, r[1], cell, filled)
			}
		}
		if r[1] == "attacker" {
			attackerRows++
		} else {
			legitRows++
		}
	}
	if attackerRows == 0 || legitRows == 0 {
		t.Errorf("timeline has %d attacker and %d other rows", attackerRows, legitRows)
	}
	summary, _ := x.GetRows("Summary")
	if !rowHas(summary, "Events", len(events)) {
		t.Errorf("summary does not count %d events: %v", len(events), summary)
	}

	// The Markdown names every action of the journal with its time.
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := playbook.ReadJournal(filepath.Join(caseDir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	actions := 0
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, e := range entries {
		if e.Kind != playbook.KindOutcome || e.ActionID == "" {
			continue
		}
		actions++
		// Every time carries its zone, the one --tz named.
		line := e.Time.In(tokyo).Format("2006-01-02 15:04:05") + " JST | "
		if !strings.Contains(string(md), line) || !strings.Contains(string(md), e.Action) {
			t.Errorf("report.md does not name %s at %s", e.Action, line)
		}
	}
	if actions < 2 {
		t.Errorf("journal has %d actions, want contain and revoke at least", actions)
	}

	// The JSON has its schema version and every event.
	b, err := os.ReadFile(filepath.Join(caseDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"schemaVersion": 1`) && !strings.Contains(string(b), `"schemaVersion":1`) {
		t.Error("report.json has no schemaVersion 1")
	}
}

func TestReportJapanese(t *testing.T) {
	t.Parallel()
	caseDir, _ := githubPushCase(t)
	code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md", "--lang", "ja")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	md, err := os.ReadFile(filepath.Join(caseDir, "report.ja.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "アクセスキー") {
		t.Errorf("report.ja.md is not in Japanese:\n%.400s", md)
	}
}

func TestReportBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"report", "--case", filepath.Join(t.TempDir(), "missing")},
		{"report", "--case", t.TempDir(), "--format", "pdf"},
		{"report", "--case", t.TempDir(), "--lang", "fr"},
		{"report", "--case", t.TempDir(), "--tz", "Mars/Olympus"},
	} {
		code, out, errOut := run(t, args...)
		if code != ExitUsage || out != "" {
			t.Errorf("%v: exit %d, out %q, err %q", args, code, out, errOut)
		}
	}
}

// rowHas reports whether some row has label in one cell and n in another.
func rowHas(rows [][]string, label string, n int) bool {
	for _, r := range rows {
		hasLabel, hasN := false, false
		for _, c := range r {
			if strings.Contains(c, label) {
				hasLabel = true
			}
			if c == itoa(n) {
				hasN = true
			}
		}
		if hasLabel && hasN {
			return true
		}
	}
	return false
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The account's key audit, kept in the case, becomes a section of the
// report's recommendations.
func TestReportCarriesTheAudit(t *testing.T) {
	t.Parallel()
	caseDir, _ := githubPushCase(t)
	if code, _, errOut := run(t, "audit", "--case", caseDir); code != ExitOK {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(caseDir, "audit.json")); err != nil {
		t.Fatalf("audit.json: %v", err)
	}
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "md"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(md), "### The account's other keys")
	if i < 0 {
		t.Fatalf("report.md has no audit section:\n%s", md)
	}
	// The responder is an administrator with a long-term key: the advice
	// names it. The attacker's backdoor user is an administrator too but
	// gets no advice (it is to be removed, not kept with a role), and the
	// leaked key is the report's subject.
	section := string(md)[i:]
	advice, attackers, _ := strings.Cut(section, "Left out of this advice")
	if !strings.Contains(advice, "`responder/") || strings.Contains(advice, "backup-admin") || strings.Contains(advice, "ci-deploy") {
		t.Errorf("the audit should advise on the responder alone:\n%s", section)
	}
	if !strings.Contains(attackers, "`AWS::IAM::User` `backup-admin` — ") {
		t.Errorf("the attacker's user is not listed with its state:\n%s", section)
	}
}
