package tui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/internal/tui"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// The flows drive the runbook with key presses against the simulated
// account of the demo, through the CLI's own backend (the same playbook,
// trail and report code as the commands).

// demoSim starts the github-push scenario with its attacker acting.
func demoSim(t *testing.T) *awssim.Server {
	t.Helper()
	srv := scenarioSim(t, "github-push", awssim.WithLookupRate(50, 50), awssim.WithSeed(1))
	srv.Sim.StartActors(50 * time.Millisecond)
	return srv
}

// scenarioSim serves a shipped scenario's simulator on loopback until the
// test ends, its actors idle.
func scenarioSim(t *testing.T, name string, opts ...awssim.Option) *awssim.Server {
	t.Helper()
	sc, err := awssim.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		sim.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return srv
}

type flowOptions struct {
	caseDir string
	rate    rate.Limit
	cred    awssim.Credential
	// source is the investigation's source (--logs, --org, …); the
	// zero value sweeps the API.
	source respond.Source
}

// startRunbook runs the runbook on a 120x40 terminal without colour.
func startRunbook(t *testing.T, srv *awssim.Server, parent string, o flowOptions) *teatest.TestModel {
	t.Helper()
	if o.rate == 0 {
		o.rate = 40
	}
	if o.cred.AccessKeyID == "" {
		o.cred = srv.Sim.Responder()
	}
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := tui.New(ctx, tui.Config{
		SuggestKey:  srv.Sim.LeakedKey(),
		CaseDir:     o.caseDir,
		Parent:      parent,
		Renderer:    r,
		LookupRate:  o.rate,
		LookupBurst: max(1, int(o.rate/2)),
		VerifyEvery: 200 * time.Millisecond,
		VerifyFor:   []time.Duration{2 * time.Second},
		Investigate: respond.InvestigateRequest{Source: o.source},
		Engine: respond.New(func(context.Context) (*awsapi.Clients, error) {
			cfg := srv.Config(o.cred, "us-east-1")
			cfg.RetryMaxAttempts = 3
			return awsapi.NewClients(cfg), nil
		}),
	})
	t.Cleanup(func() { m.Close() })
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
}

// waitFor waits (bounded) until the screen shows text.
func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	var seen []byte
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		seen = b
		return bytes.Contains(b, []byte(text))
	}, teatest.WithDuration(60*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	_ = seen
}

func send(tm *teatest.TestModel, keys ...string) {
	for _, k := range keys {
		switch k {
		case "enter":
			tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
		case "tab":
			tm.Send(tea.KeyMsg{Type: tea.KeyTab})
		default:
			tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)})
		}
	}
}

// finish quits and returns the case directory the runbook used.
func finish(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	send(tm, "q")
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(30*time.Second)).(*tui.Model)
	dir := fm.CaseDir()
	if err := fm.Close(); err != nil {
		t.Error(err)
	}
	return dir
}

// contain walks from the key entry through identify and containment.
func contain(t *testing.T, tm *teatest.TestModel, srv *awssim.Server) {
	t.Helper()
	waitFor(t, tm, "a valid access key ID")
	send(tm, "enter")
	waitFor(t, tm, "enter: go on to containment")
	send(tm, "enter", "enter")
	waitFor(t, tm, "Y (shift+y): make these calls")
	send(tm, "Y")
	waitFor(t, tm, "until this policy is in place")
	if k, _ := srv.Sim.Key(srv.Sim.LeakedKey()); k.Status != "Inactive" {
		t.Fatalf("after the first confirmation the key is %s", k.Status)
	}
	confirmUntil(t, tm, "enter: go on to the investigation")
}

// confirmUntil answers Y to every confirmation until the screen shows
// text: containment asks once per round of what the key minted, and how
// many rounds there are depends on the scenario.
func confirmUntil(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	last := time.Now()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		if bytes.Contains(b, []byte(text)) {
			return true
		}
		if time.Since(last) > 300*time.Millisecond {
			last = time.Now()
			send(tm, "Y")
		}
		return false
	}, teatest.WithDuration(90*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestDemoFlowFromKeyEntryToReport(t *testing.T) {
	srv := demoSim(t)
	parent := t.TempDir()
	tm := startRunbook(t, srv, parent, flowOptions{})
	contain(t, tm, srv)
	send(tm, "enter")
	waitFor(t, tm, "sweep complete")
	send(tm, "enter")
	waitFor(t, tm, "shown · enter: details")
	send(tm, "tab")
	waitFor(t, tm, "still present")
	send(tm, "tab", "enter")
	waitFor(t, tm, "enter: go on to the report")
	send(tm, "tab", "enter")
	waitFor(t, tm, "report.xlsx (")
	send(tm, "enter", " ")
	waitFor(t, tm, "[x] Create a new access key")
	dir := finish(t, tm)

	if k, _ := srv.Sim.Key(srv.Sim.LeakedKey()); k.Status != "Inactive" {
		t.Errorf("leaked key is %s, want Inactive", k.Status)
	}
	for _, f := range []string{"report.xlsx", "report.md", "report.json", playbook.FindingsFile, casefile.ContainFile, casefile.InvestigationFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("case lacks %s: %v", f, err)
		}
	}
	res, err := playbook.Verify(filepath.Join(dir, playbook.JournalFile))
	if err != nil || !res.OK {
		t.Errorf("journal does not verify: %v %+v", err, res)
	}
	entries, err := playbook.ReadJournal(filepath.Join(dir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	noted := false
	for _, e := range entries {
		noted = noted || (e.Step == "recover" && strings.Contains(e.Message, "second key slot"))
	}
	if !noted {
		t.Error("the ticked recovery item is not in the journal")
	}
	var rep struct {
		Case struct {
			ContainedAt time.Time `json:"containedAt"`
		} `json:"case"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Errorf("report.json: %v", err)
	}
	if !bytes.Contains(b, []byte(srv.Sim.LeakedKey())) {
		t.Error("report.json does not name the leaked key")
	}
}

func TestResumeAfterQuittingMidSweep(t *testing.T) {
	srv := demoSim(t)
	parent := t.TempDir()
	// One LookupEvents a second: us-east-1 alone needs several seconds.
	tm := startRunbook(t, srv, parent, flowOptions{rate: 1})
	contain(t, tm, srv)
	send(tm, "enter")
	waitFor(t, tm, "sweeping…")
	waitFor(t, tm, "eu-north-1      done")
	dir := finish(t, tm)

	var res trail.Result
	readJSON(t, filepath.Join(dir, casefile.InvestigationFile), &res)
	interrupted := false
	for _, r := range res.Regions {
		if r.Error == "interrupted" {
			interrupted = true
		}
	}
	if !interrupted {
		t.Fatalf("the sweep finished before the quit; the test needs it cut short: %+v", res.Regions)
	}
	before, _, err := trail.ReadEventsFile(filepath.Join(dir, playbook.EventsFile))
	if err != nil || len(before) == 0 {
		t.Fatalf("events fetched before the quit were not kept: %d, %v", len(before), err)
	}

	tm = startRunbook(t, srv, parent, flowOptions{caseDir: dir})
	waitFor(t, tm, "resumed case")
	waitFor(t, tm, "sweep complete")
	if got := finish(t, tm); got != dir {
		t.Errorf("resumed %s, want %s", got, dir)
	}
	readJSON(t, filepath.Join(dir, casefile.InvestigationFile), &res)
	for _, r := range res.Regions {
		if r.Status != trail.StateOK && r.Status != trail.StateNotEnabled {
			t.Errorf("after resuming, %s is %s (%s)", r.Region, r.Status, r.Error)
		}
	}
	after, _, err := trail.ReadEventsFile(filepath.Join(dir, playbook.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range after {
		if ids[e.EventID] {
			t.Fatalf("event %s kept twice", e.EventID)
		}
		ids[e.EventID] = true
	}
	for _, e := range before {
		if !ids[e.EventID] {
			t.Fatalf("event %s fetched before the quit was lost", e.EventID)
		}
	}
	if len(after) <= len(before) {
		t.Errorf("resuming found nothing more: %d then %d events", len(before), len(after))
	}
	// Containment was done once: the resumed run did not repeat it (the
	// leaked key's deactivation; the backdoor key's is another action).
	entries, err := playbook.ReadJournal(filepath.Join(dir, playbook.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Kind == playbook.KindOutcome && e.Action == "iam:UpdateAccessKey" && e.ActionID == playbook.StepContain+"/UpdateAccessKey/"+srv.Sim.LeakedKey() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the leaked key's UpdateAccessKey made %d times", n)
	}
}

func TestRefusesTheLeakedKeyAsResponder(t *testing.T) {
	srv := demoSim(t)
	leaked, ok := srv.Sim.Key(srv.Sim.LeakedKey())
	if !ok {
		t.Fatal("no leaked key")
	}
	tm := startRunbook(t, srv, t.TempDir(), flowOptions{cred: leaked})
	waitFor(t, tm, "a valid access key ID")
	send(tm, "enter")
	waitFor(t, tm, "STOP: YOU ARE SIGNED IN WITH THE LEAKED KEY ITSELF")
	send(tm, "tab", "enter")
	waitFor(t, tm, "containment is blocked")
	finish(t, tm)
	if k, _ := srv.Sim.Key(leaked.AccessKeyID); k.Status != "Active" {
		t.Errorf("the key is %s: the runbook acted with the leaked key", k.Status)
	}
	for _, e := range srv.Sim.Truth().Events {
		if e.AccessKeyID == leaked.AccessKeyID && !e.Attacker && strings.HasPrefix(e.EventName, "UpdateAccessKey") {
			t.Errorf("the runbook called %s with the leaked key", e.EventName)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Investigation and removal wait for a deliberate Y while the key is not
// contained, saying what is still open; Y goes on.
func TestWarnsBeforeWorkWhileUncontained(t *testing.T) {
	srv := demoSim(t)
	tm := startRunbook(t, srv, t.TempDir(), flowOptions{})
	waitFor(t, tm, "a valid access key ID")
	send(tm, "enter")
	waitFor(t, tm, "enter: go on to containment")
	send(tm, "enter", "enter")
	waitFor(t, tm, "Y (shift+y): make these calls")
	send(tm, "n")
	send(tm, "tab")
	waitFor(t, tm, "Not contained yet: the key is Active")
	if k, _ := srv.Sim.Key(srv.Sim.LeakedKey()); k.Status != "Active" {
		t.Fatalf("declined, the key is %s", k.Status)
	}
	send(tm, "Y")
	waitFor(t, tm, "sweep complete")
	send(tm, "enter")
	waitFor(t, tm, "shown · enter: details")
	send(tm, "tab")
	waitFor(t, tm, "still present")
	send(tm, "D")
	waitFor(t, tm, "while you are removing what the attacker made")
	send(tm, "n")
	finish(t, tm)
}
