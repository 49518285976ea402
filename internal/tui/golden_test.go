package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// updateGoldens reports -update: the flag is teatest's (its golden
// package defines it and is linked into this test binary by the flows), and
// rewrites these goldens too.
func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case " ":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// press sends keys one by one, dropping the commands: views only.
func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(keyMsg(k))
	}
}

// screens sets up the model in each state a golden shows.
func goldenScreens() map[string]func(t *testing.T, m *Model) {
	return map[string]func(t *testing.T, m *Model){
		"keyentry": func(t *testing.T, m *Model) {
			press(m, "A", "K", "I", "A", "1")
		},
		"keyentry-secret": func(t *testing.T, m *Model) {
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), Paste: true})
		},
		"identify": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
			m.cur = stepIdentify
		},
		"identify-refused": func(t *testing.T, m *Model) {
			withCase(t, m)
			sum := fixtureSummary(false)
			sum.Responder = "arn:aws:iam::482916503317:user/ci-deploy"
			m.Update(runDoneMsg{job: "identify", sum: sum, err: &playbook.SelfLockoutError{Reason: "you are signed in with the leaked key " + fixtureKey +
				" itself: use other credentials (another administrator, or a role)"}})
			m.cur = stepIdentify
		},
		"contain-confirm": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.Update(runDoneMsg{job: "identify", sum: fixtureSummary(false)})
			step, _ := playbook.LookupStep(playbook.StepContain)
			m.Update(confirmMsg{job: "contain", step: step, reply: make(chan bool, 1), actions: []playbook.Action{{
				Description: "iam UpdateAccessKey --user-name ci-deploy --access-key-id " + fixtureKey + " --status Inactive"}}})
			m.cur = stepContain
		},
		"contain-done": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.s.inv = fixtureEvents(t, 40)
			m.Update(runProgressMsg{job: "contain", p: playbook.Progress{Step: playbook.StepContain, ActionID: "contain/UpdateAccessKey/" + fixtureKey,
				Description: "iam UpdateAccessKey --user-name ci-deploy --access-key-id " + fixtureKey + " --status Inactive", Status: playbook.StatusDone}})
			m.Update(runProgressMsg{job: "contain", p: playbook.Progress{Step: playbook.StepRevokeSessions, ActionID: "revoke-sessions/PutUserPolicy/ci-deploy",
				Description: "iam PutUserPolicy --user-name ci-deploy --policy-name keyleak-revoke-older-sessions", Status: playbook.StatusDone}})
			m.Update(runDoneMsg{job: "contain", sum: fixtureSummary(true)})
			m.cur = stepContain
		},
		"investigate": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.s.jobs["investigate"] = true
			inv := fixtureEvents(t, 200)
			for _, src := range inv.Coverage.Sources {
				switch src.Name {
				case "us-east-1":
					src.State, src.Pages = trail.StateRunning, 2
				case "ap-east-1":
					src.State, src.Err = trail.StateError, "ThrottlingException: Rate exceeded"
				}
				m.Update(sweepStatusMsg{s: src})
			}
			var seen sweepSeenMsg
			for i := range inv.Events {
				seen.times = append(seen.times, inv.Events[i].EventTime)
			}
			seen.keys = inv.Derived()
			m.Update(seen)
			m.cur = stepInvestigate
		},
		"assess": func(t *testing.T, m *Model) {
			withCase(t, m)
			inv := fixtureEvents(t, 300)
			m.s.inv = inv
			a := fixtureAssessment(inv)
			m.Update(assessDoneMsg{found: a, rows: buildRows(inv, a)})
			m.cur = stepAssess
			press(m, "j", "j")
		},
		"assess-detail": func(t *testing.T, m *Model) {
			withCase(t, m)
			inv := fixtureEvents(t, 300)
			m.s.inv = inv
			a := fixtureAssessment(inv)
			m.Update(assessDoneMsg{found: a, rows: buildRows(inv, a)})
			m.cur = stepAssess
			press(m, "enter")
		},
		"resources": func(t *testing.T, m *Model) {
			withCase(t, m)
			inv := fixtureEvents(t, 40)
			m.s.inv = inv
			a := fixtureAssessment(inv)
			m.s.found = a
			m.cur = stepResources
			m.Update(inventoryDoneMsg{resources: a.Resources})
			press(m, "j")
		},
		"verify": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.s.inv = fixtureEvents(t, 40)
			m.cur = stepVerify
			press(m, "enter")
			m.Update(verifyTickMsg{polls: 4, keys: 3, regions: 2})
			late := fixtureEvents(t, 3).Events
			late[0].EventTime = fixedNow.Add(-time.Minute)
			late[1].EventTime, late[1].ErrorCode = fixedNow.Add(time.Second), "InvalidClientTokenId"
			late[2].EventTime, late[2].UserIdentity.AccessKeyID = fixedNow.Add(2*time.Second), backdoorKey
			late[2].EventSource, late[2].EventName = "iam.amazonaws.com", "CreateUser"
			for i, e := range late {
				m.Update(verifyCallMsg{event: e, worked: i == 2})
			}
		},
		"report": func(t *testing.T, m *Model) {
			c := withCase(t, m)
			m.cur = stepReport
			m.Update(reportDoneMsg{paths: []string{c.Path("report.xlsx"), c.Path("report.md"), c.Path("report.json")}})
		},
		"recover": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.cur = stepRecover
			press(m, " ", "j", "j")
		},
		"help": func(t *testing.T, m *Model) {
			withCase(t, m)
			m.cur = stepAssess
			press(m, "?")
		},
	}
}

// Every screen is drawn the same at 80x24 and 120x40, fits the terminal
// exactly, and matches its golden (go test -run TestViewGoldens -update).
func TestViewGoldens(t *testing.T) {
	for name, setup := range goldenScreens() {
		for _, size := range [][2]int{{80, 24}, {120, 40}} {
			w, h := size[0], size[1]
			t.Run(name+"-"+strconv.Itoa(w)+"x"+strconv.Itoa(h), func(t *testing.T) {
				// The goldens are in the package's testdata; the case
				// fixtures move the working directory.
				wd, err := os.Getwd()
				if err != nil {
					t.Fatal(err)
				}
				m := newTestModel(t, w, h)
				setup(t, m)
				view := m.View()
				lines := strings.Split(view, "\n")
				if len(lines) != h {
					t.Errorf("view has %d lines, want %d", len(lines), h)
				}
				for i, l := range lines {
					if n := len([]rune(l)); n > w {
						t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, n, w, l)
					}
				}
				path := filepath.Join(wd, "testdata", name+"-"+strconv.Itoa(w)+"x"+strconv.Itoa(h)+".golden")
				if updateGoldens() {
					if err := os.WriteFile(path, []byte(view), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run with -update to create it): %v", err)
				}
				if string(want) != view {
					t.Errorf("view differs from %s (run with -update if the change is right):\n--- got\n%s\n--- want\n%s", path, view, want)
				}
			})
		}
	}
}
