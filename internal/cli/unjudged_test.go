package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// keptByKilledRun sweeps the whole window and appends what it finds to the
// case's events.jsonl, as an investigation killed after it kept its events
// and before it wrote its findings leaves the case.
func keptByKilledRun(t *testing.T, caseDir, key string) int {
	t.Helper()
	f := testFactory(t, &IOStreams{In: strings.NewReader("")})
	clients, err := f.Clients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	inv, err := respond.Source{}.Sweep(context.Background(), clients, key, nil, trail.WithLimiterRate(40, 20))
	if err != nil {
		t.Fatal(err)
	}
	n, err := trail.AppendEventsFile(filepath.Join(caseDir, playbook.EventsFile), inv.Events)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// reportVerdicts writes the case's JSON report and returns the verdict of
// each event by ID, and the Markdown report.
func reportVerdicts(t *testing.T, caseDir string) (map[string]report.Event, string) {
	t.Helper()
	if code, _, errOut := run(t, "report", "--case", caseDir, "--format", "json,md"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(caseDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Events []report.Event `json:"events"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]report.Event{}
	for _, e := range doc.Events {
		out[e.EventID] = e
	}
	md, err := os.ReadFile(filepath.Join(caseDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	return out, string(md)
}

// TestKilledReinvestigationIsNotLegitimate: one full investigation (of the
// week before the leak), then a second one killed after it kept the
// attacker's events and before it rewrote findings.json. Until they are
// judged, those events read "unjudged", never legitimate; the report judges
// them, and calls the attacker's calls the attacker's.
func TestKilledReinvestigationIsNotLegitimate(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	key := srv.Sim.LeakedKey()
	dir := t.TempDir()
	pushed := time.Now().Add(-2*time.Hour - 20*time.Minute).UTC().Format(time.RFC3339)
	if code, _, errOut := run(t, "investigate", "--key", key, "--dir", dir, "--until", pushed, "--lookup-rate", "40"); code != ExitOK {
		t.Fatalf("investigate: exit %d: %s", code, errOut)
	}
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*"))
	if len(cases) != 1 {
		t.Fatalf("cases: %v", cases)
	}
	caseDir := cases[0]
	if n := keptByKilledRun(t, caseDir, key); n < 20 {
		t.Fatalf("the killed run kept %d new events, want the attack's", n)
	}

	// Read as the case stands: the new events are unjudged.
	c, err := casefile.OpenExisting(caseDir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := caseview.Load(c, caseview.Options{Now: time.Now()})
	c.Close()
	if err != nil {
		t.Fatal(err)
	}
	unjudged := 0
	for e := range m.Events {
		if e.Time.After(time.Now().Add(-2*time.Hour-20*time.Minute)) && e.Name != "GetCallerIdentity" && e.Name != "DescribeInstances" && e.Name != "ListFunctions" {
			if e.Verdict == report.VerdictLegitimate {
				t.Errorf("%s %s by %s, never judged, reads legitimate", e.EventID, e.Name, e.AccessKeyID)
			}
		}
		if e.Verdict == report.VerdictUnjudged {
			unjudged++
		}
	}
	if unjudged == 0 {
		t.Error("no event reads unjudged before the report judges them")
	}

	// The report judges every event of the case.
	verdicts, md := reportVerdicts(t, caseDir)
	attacker := 0
	for _, e := range verdicts {
		switch e.Verdict {
		case report.VerdictUnjudged:
			t.Errorf("%s %s left unjudged by the report", e.EventID, e.Name)
		case report.VerdictAttacker:
			attacker++
		}
		if e.Name == "CreateUser" && e.Verdict != report.VerdictAttacker {
			t.Errorf("the backdoor user's CreateUser reads %s", e.Verdict)
		}
	}
	if attacker < 10 || strings.Contains(md, "was classified as attacker activity") {
		t.Errorf("the report found %d attacker calls; markdown says none: %v", attacker, strings.Contains(md, "was classified as attacker activity"))
	}
}

// TestKilledFirstInvestigationIsJudged: a case whose only investigation was
// killed after it kept events, before any result or findings: the report
// rebuilds the investigation from the events and judges them, and says its
// coverage is not known.
func TestKilledFirstInvestigationIsJudged(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	key := srv.Sim.LeakedKey()
	caseDir := filepath.Join(t.TempDir(), "case")
	c, err := casefile.Open(casefile.Ref{Dir: caseDir, Key: key}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	keptByKilledRun(t, caseDir, key)
	verdicts, md := reportVerdicts(t, caseDir)
	attacker := 0
	for _, e := range verdicts {
		if e.Verdict == report.VerdictAttacker {
			attacker++
		}
		if e.Verdict == report.VerdictUnjudged {
			t.Errorf("%s %s left unjudged", e.EventID, e.Name)
		}
	}
	if attacker < 10 || strings.Contains(md, "No call in the investigated period was classified as attacker activity") {
		t.Errorf("attacker calls: %d; markdown:\n%s", attacker, md)
	}
	if !strings.Contains(md, trail.Interrupted) {
		t.Errorf("the report does not say the coverage is unknown:\n%s", md)
	}
}
