package tui

import (
	"encoding/json"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"context"
	"errors"
	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

func TestKeyEntryValidatesAsTyped(t *testing.T) {
	m := newTestModel(t, 80, 24)
	press(m, "A", "K", "I", "A")
	if v := m.View(); !strings.Contains(v, "AKIA is 4 characters long") {
		t.Errorf("partial ID not explained:\n%s", v)
	}
	press(m, "enter")
	if m.state != stateKeyEntry {
		t.Fatalf("an invalid ID was accepted: state %d", m.state)
	}
	press(m, "backspace", "backspace", "backspace", "backspace")
	for _, r := range fixtureKey {
		press(m, string(r))
	}
	if v := m.View(); !strings.Contains(v, "a valid access key ID") {
		t.Errorf("valid ID not recognised:\n%s", v)
	}
	m.Update(keyMsg("enter"))
	if m.state != stateOpening {
		t.Errorf("valid ID not submitted: state %d", m.state)
	}
}

func TestPastedSecretIsRefusedAndForgotten(t *testing.T) {
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for name, msgs := range map[string][]tea.KeyMsg{
		"pasted":        {{Type: tea.KeyRunes, Runes: []rune(secret), Paste: true}},
		"with the ID":   {{Type: tea.KeyRunes, Runes: []rune(fixtureKey + " " + secret), Paste: true}},
		"typed by hand": runeKeys(secret),
	} {
		t.Run(name, func(t *testing.T) {
			m := newTestModel(t, 80, 24)
			for _, k := range msgs {
				m.Update(k)
			}
			if m.entry.value != "" {
				t.Errorf("the secret was kept in the entry: %q", m.entry.value)
			}
			v := m.View()
			if strings.Contains(v, secret) || strings.Contains(v, "bPxRfiCY") {
				t.Errorf("the secret is drawn:\n%s", v)
			}
			if !strings.Contains(v, "secret access key") {
				t.Errorf("no refusal shown:\n%s", v)
			}
			m.Update(keyMsg("enter"))
			if m.state != stateKeyEntry {
				t.Errorf("state %d after enter, want key entry", m.state)
			}
		})
	}
}

func runeKeys(s string) []tea.KeyMsg {
	var out []tea.KeyMsg
	for _, r := range s {
		out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	return out
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestQuitWaitsForRunningWork(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	m.s.jobs["investigate"] = true
	_, cmd := m.Update(keyMsg("q"))
	if isQuit(cmd) {
		t.Fatal("quit while the sweep runs: its events would not be saved")
	}
	if m.s.work.Err() == nil {
		t.Error("running work was not told to stop")
	}
	if !strings.Contains(m.View(), "stopping") {
		t.Error("the status line does not say the runbook is stopping")
	}
	_, cmd = m.Update(jobDoneMsg{job: "investigate"})
	if !isQuit(cmd) {
		t.Error("did not quit once the work had stopped")
	}

	m = newTestModel(t, 80, 24)
	withCase(t, m)
	m.s.jobs["verify"] = true
	if _, cmd := m.Update(keyMsg("ctrl+c")); isQuit(cmd) {
		t.Fatal("the first ctrl+c should wait for the work")
	}
	if _, cmd := m.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Error("a second ctrl+c should leave at once")
	}
}

func TestQuitWhenIdleAndCtrlCInTextEntry(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	if _, cmd := m.Update(keyMsg("q")); !isQuit(cmd) {
		t.Error("q did not quit")
	}
	m = newTestModel(t, 80, 24)
	press(m, "q")
	if m.entry.value != "q" {
		t.Errorf("q in the key entry should be typed, value %q", m.entry.value)
	}
	if _, cmd := m.Update(keyMsg("ctrl+c")); !isQuit(cmd) {
		t.Error("ctrl+c did not quit from the key entry")
	}
}

func TestConfirmNeedsDeliberateKey(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
	step, _ := playbook.LookupStep(playbook.StepContain)
	reply := make(chan bool, 1)
	m.Update(confirmMsg{job: "contain", step: step, reply: reply, actions: []playbook.Action{{Description: "iam UpdateAccessKey"}}})
	m.cur = stepContain
	press(m, "y", "enter", " ")
	select {
	case ok := <-reply:
		t.Fatalf("answered %v without shift+y", ok)
	default:
	}
	press(m, "Y")
	if ok := <-reply; !ok {
		t.Error("Y did not approve")
	}
	m.Update(confirmMsg{job: "contain", step: step, reply: reply})
	press(m, "n")
	if ok := <-reply; ok {
		t.Error("n approved")
	}
}

func TestContainBlockedAfterRefusal(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false), err: &playbook.SelfLockoutError{Reason: "you are signed in with the leaked key itself"}})
	m.cur = stepContain
	m.Update(keyMsg("enter"))
	if m.s.busy("contain") {
		t.Fatal("containment started although identify refused the responder")
	}
	if v := m.View(); !strings.Contains(v, "blocked") {
		t.Errorf("no reason shown:\n%s", v)
	}
}

func TestStepKeys(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	m.cur = stepAssess
	press(m, "tab")
	if m.cur != stepResources {
		t.Errorf("tab: step %v", m.cur)
	}
	press(m, "h")
	m.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	if m.cur != stepInvestigate {
		t.Errorf("h and shift+tab: step %v", m.cur)
	}
	press(m, "?")
	if !m.showHelp || !strings.Contains(m.View(), "previous step") {
		t.Error("? does not show the keys")
	}
	press(m, "esc")
	if m.showHelp {
		t.Error("esc does not close the help")
	}
}

func TestAssessFiltersAndSearch(t *testing.T) {
	m := newTestModel(t, 120, 40)
	withCase(t, m)
	inv := fixtureEvents(t, 500)
	m.s.inv = inv
	a := fixtureAssessment(inv)
	m.Update(assessDoneMsg{found: a, rows: buildRows(inv, a)})
	m.cur = stepAssess
	v := m.screens[stepAssess].(*eventsView)
	if len(v.shown) != a.Counts.Attacker {
		t.Fatalf("the table starts with the attacker's %d events, shows %d", a.Counts.Attacker, len(v.shown))
	}
	press(m, "0")
	if len(v.shown) != len(inv.Events) {
		t.Fatalf("0 shows %d of %d", len(v.shown), len(inv.Events))
	}
	press(m, "v")
	for _, i := range v.shown {
		if v.rows[i].verdict != string(assess.Attacker) {
			t.Fatalf("verdict filter lets %s through", v.rows[i].verdict)
		}
	}
	press(m, "s", "s")
	for _, i := range v.shown {
		if v.rows[i].severity != string(assess.SeverityHigh) {
			t.Fatalf("second severity should be high, got %s", v.rows[i].severity)
		}
	}
	press(m, "0", "/", "c", "r", "e", "a", "t", "e", "u", "s", "e", "r", "enter")
	if len(v.shown) == 0 {
		t.Fatal("search found nothing")
	}
	for _, i := range v.shown {
		if v.rows[i].ev.EventName != "CreateUser" {
			t.Fatalf("search createuser shows %s", v.rows[i].ev.EventName)
		}
	}
	press(m, "G")
	if v.cursor != len(v.shown)-1 {
		t.Errorf("G: cursor %d of %d", v.cursor, len(v.shown))
	}
	press(m, "enter")
	if !v.detail || !strings.Contains(m.View(), `"eventName": "CreateUser"`) {
		t.Errorf("enter does not show the raw record:\n%s", m.View())
	}
	press(m, "esc")
	if v.detail {
		t.Error("esc does not close the detail")
	}
}

func TestResumeStartsWhereTheCaseStopped(t *testing.T) {
	m := newTestModel(t, 80, 24)
	c := withCase(t, m)
	rs, err := loadResume(c)
	if err != nil {
		t.Fatal(err)
	}
	if !rs.fresh || rs.apply(m.s) != stepIdentify {
		t.Fatalf("an empty case should start at identify: %+v", rs)
	}
	b, _ := json.Marshal(fixtureSummary(true))
	if err := c.WriteFile(casefile.ContainFile, b); err != nil {
		t.Fatal(err)
	}
	inv := fixtureEvents(t, 30)
	inv.Coverage.Sources[0].State, inv.Coverage.Sources[0].Err = trail.StateError, "interrupted"
	res := inv.Result()
	res.Events = nil
	b, _ = json.Marshal(res)
	if err := c.WriteFile(casefile.InvestigationFile, b); err != nil {
		t.Fatal(err)
	}
	if _, err := trail.AppendEventsFile(c.Path(playbook.EventsFile), inv.Events[:10]); err != nil {
		t.Fatal(err)
	}
	rs, err = loadResume(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.apply(m.s); got != stepInvestigate {
		t.Errorf("interrupted sweep: resume at %v, want Investigate", got)
	}
	if m.s.steps[stepContain] != stateDone || len(m.s.inv.Events) != 10 {
		t.Errorf("contain %v, events %d", m.s.steps[stepContain], len(m.s.inv.Events))
	}
	inv.Coverage.Sources[0].State, inv.Coverage.Sources[0].Err = trail.StateOK, ""
	res = inv.Result()
	res.Events = nil
	b, _ = json.Marshal(res)
	if err := c.WriteFile(casefile.InvestigationFile, b); err != nil {
		t.Fatal(err)
	}
	rs, _ = loadResume(c)
	if got := rs.apply(m.s); got != stepAssess {
		t.Errorf("complete sweep: resume at %v, want Assess", got)
	}
}

// TestDeclinedDeactivationIsNotCalledInactive: after the responder
// declines the deactivation, the revoke step's prompt must not say the key
// is inactive.
func TestDeclinedDeactivationIsNotCalledInactive(t *testing.T) {
	m := newTestModel(t, 100, 30)
	withCase(t, m)
	m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
	m.cur = stepContain
	m.Update(runProgressMsg{job: "contain", p: playbook.Progress{Step: playbook.StepContain, Status: playbook.StatusDeclined, Message: "declined by the responder"}})
	step, _ := playbook.LookupStep(playbook.StepRevokeSessions)
	m.Update(confirmMsg{job: "contain", step: step, reply: make(chan bool, 1), actions: []playbook.Action{{Description: "iam PutUserPolicy"}}})
	view := m.View()
	if strings.Contains(view, "The key is inactive now") {
		t.Errorf("the prompt calls a key inactive whose deactivation was declined:\n%s", view)
	}
	if !strings.Contains(view, "declined the deactivation") {
		t.Errorf("the prompt does not say the key still works:\n%s", view)
	}
}

// TestCtrlCIsAnInterruption: leaving with ctrl+c ends the program with
// context.Canceled (exit 130); q is a normal end.
func TestCtrlCIsAnInterruption(t *testing.T) {
	m := newTestModel(t, 80, 24)
	withCase(t, m)
	m.Update(keyMsg("ctrl+c"))
	if !errors.Is(m.Err(), context.Canceled) {
		t.Errorf("after ctrl+c Err() = %v, want context.Canceled", m.Err())
	}
	m = newTestModel(t, 80, 24)
	withCase(t, m)
	m.Update(keyMsg("q"))
	if m.Err() != nil {
		t.Errorf("after q Err() = %v, want nil", m.Err())
	}
}

// TestLowercaseYExplains: y with a confirmation pending does not confirm,
// and says how to.
func TestLowercaseYExplains(t *testing.T) {
	m := newTestModel(t, 100, 30)
	withCase(t, m)
	m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
	m.cur = stepContain
	step, _ := playbook.LookupStep(playbook.StepContain)
	reply := make(chan bool, 1)
	m.Update(confirmMsg{job: "contain", step: step, reply: reply, actions: []playbook.Action{{Description: "iam UpdateAccessKey"}}})
	press(m, "y")
	select {
	case ok := <-reply:
		t.Fatalf("y answered %v", ok)
	default:
	}
	if !strings.Contains(m.View(), "shift+Y") {
		t.Errorf("y does not explain that shift+Y confirms:\n%s", m.View())
	}
}

// TestEscBacksOut: Esc declines a pending confirmation first, then goes
// back a step.
func TestEscBacksOut(t *testing.T) {
	m := newTestModel(t, 100, 30)
	withCase(t, m)
	m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
	m.cur = stepContain
	step, _ := playbook.LookupStep(playbook.StepContain)
	reply := make(chan bool, 1)
	m.Update(confirmMsg{job: "contain", step: step, reply: reply, actions: []playbook.Action{{Description: "iam UpdateAccessKey"}}})
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if ok := <-reply; ok {
		t.Error("Esc approved the calls")
	}
	if m.cur != stepContain {
		t.Errorf("Esc with a confirmation pending left the step: now %v", m.cur)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if m.cur != stepIdentify {
		t.Errorf("Esc did not go back a step: now %v", m.cur)
	}
}
