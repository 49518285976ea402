package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// reportDoneMsg carries the paths of the reports written.
type reportDoneMsg struct {
	paths []string
	err   error
}

// writeReports writes the case's reports through the store, as `keyleak
// report` does.
func (s *session) writeReports() tea.Cmd {
	c, eng := s.c, s.cfg.Engine
	return s.start("report", func(ctx context.Context, send func(tea.Msg)) {
		paths, err := eng.Report(ctx, c, respond.ReportRequest{Formats: reportFormats()}, respond.Hooks{})
		send(reportDoneMsg{paths: paths, err: err})
	})
}

// reportView writes the Excel timeline, the Markdown report for the AWS
// support case and the JSON model, and shows where they are.
type reportView struct {
	s     *session
	w, h  int
	paths []string
	err   error
}

func newReportView(s *session) *reportView { return &reportView{s: s} }

func (v *reportView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *reportView) Capturing() bool  { return false }
func (v *reportView) Enter() tea.Cmd   { return nil }

func (v *reportView) Keys() helpKeys {
	km := v.s.km
	return helpKeys{short: []key.Binding{km.Enter, km.Refresh}, full: [][]key.Binding{{km.Enter, km.Refresh}}}
}

func (v *reportView) resume(rs resumeState) { v.paths = rs.reports }

func (v *reportView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case reportDoneMsg:
		v.err = msg.err
		v.paths = msg.paths
		v.s.steps[stepReport] = stateDone
		if msg.err != nil {
			v.s.steps[stepReport] = stateFailed
		}
	case tea.KeyMsg:
		switch {
		case v.s.busy("report") || v.s.c == nil:
		case key.Matches(msg, km.Enter) && v.s.steps[stepReport] == stateDone:
			return v.s.goNext()
		case key.Matches(msg, km.Enter), key.Matches(msg, km.Refresh):
			v.s.steps[stepReport] = stateRunning
			return v.s.writeReports()
		}
	}
	return nil
}

func (v *reportView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Report for the AWS support case"), ""}
	switch {
	case v.s.busy("report"):
		lines = append(lines, "Writing the reports…")
	case v.err != nil:
		for _, l := range wrapText("Writing the reports failed: "+v.err.Error(), v.w) {
			lines = append(lines, st.bad.Render(l))
		}
		lines = append(lines, "", st.dim.Render("enter: try again"))
	case len(v.paths) > 0:
		lines = append(lines, "Written:")
		for _, p := range v.paths {
			size := ""
			if fi, err := os.Stat(p); err == nil {
				size = fmt.Sprintf(" (%s)", bytesize(fi.Size()))
			}
			lines = append(lines, "  "+st.bold.Render(filepath.Base(p))+size)
		}
		if v.s.c != nil {
			lines = append(lines, "", "in "+v.s.c.Dir())
		}
		lines = append(lines, "")
		for _, l := range wrapText("report.md answers the AWS support case: what leaked, when it was contained, what the attacker did and what was removed. report.xlsx is the timeline to filter; report.json is the whole model.", v.w) {
			lines = append(lines, st.dim.Render(l))
		}
		lines = append(lines, "", st.dim.Render("R writes them again · enter: go on to recovery"))
	default:
		if v.s.c != nil {
			lines = append(lines, "The reports go into the case directory:", "  "+cut(v.s.c.Dir(), v.w-2), "")
		}
		lines = append(lines, "  report.xlsx  the timeline: Summary, Timeline, Attacker,", "               Resources, Actions, Keys, Coverage",
			"  report.md    for the AWS support case", "  report.json  the whole report model", "",
			st.bold.Render("enter: write them"))
		if v.s.steps[stepInvestigate] != stateDone {
			lines = append(lines, "", st.warn.Render(cut("The investigation is not complete: the report will say so.", v.w)))
		}
	}
	return block(lines, v.w, v.h)
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// recoverItems are the recovery checklist, after DESIGN.md: rotate the
// workload's credential through the user's second key slot, then the
// habits that keep the next key from leaking.
func recoverItems() []string {
	return []string{
		"Create a new access key for the workload in the user's second key slot (iam create-access-key)",
		"Switch the workload to the new key, and keep it in a keychain (aws-vault), not in files",
		"Keep the leaked key inactive, not deleted: it can be reactivated if something legitimate breaks",
		"Watch CloudTrail for the old key (Verify) until nothing legitimate calls with it",
		"Delete the leaked key",
		"Remove what the attacker created in every region, the unused ones too (Resources)",
		"Replace long-term keys with roles and STS where the workload allows",
		"Scan code for secrets before it is pushed (git-secrets), and remove the key from the repository's history",
		"Answer the AWS support case with report.md",
	}
}

// noteSavedMsg is a recovery checklist item journaled.
type noteSavedMsg struct{ err error }

// recoverView shows rotation guidance and the checklist; each item ticked
// is journaled, so the report's actions show it.
type recoverView struct {
	s      *session
	w, h   int
	done   map[int]bool
	cursor int
	err    error
	notes  int
}

func newRecoverView(s *session) *recoverView { return &recoverView{s: s, done: map[int]bool{}} }

func (v *recoverView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *recoverView) Capturing() bool  { return false }
func (v *recoverView) Enter() tea.Cmd   { return nil }

func (v *recoverView) Keys() helpKeys {
	km := v.s.km
	return helpKeys{short: []key.Binding{km.Toggle, km.Up, km.Down}, full: [][]key.Binding{{km.Up, km.Down, km.Toggle}}}
}

func (v *recoverView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	items := recoverItems()
	switch msg := msg.(type) {
	case noteSavedMsg:
		v.err = msg.err
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, km.Down):
			v.cursor = min(v.cursor+1, len(items)-1)
		case key.Matches(msg, km.Up):
			v.cursor = max(v.cursor-1, 0)
		case key.Matches(msg, km.Toggle), key.Matches(msg, km.Enter):
			v.done[v.cursor] = !v.done[v.cursor]
			if len(v.done) == len(items) && !slicesContainsFalse(v.done) {
				v.s.steps[stepRecover] = stateDone
			} else {
				v.s.steps[stepRecover] = statePending
			}
			return v.journal(items[v.cursor], v.done[v.cursor])
		}
	}
	return nil
}

func slicesContainsFalse(m map[int]bool) bool {
	for _, ok := range m {
		if !ok {
			return true
		}
	}
	return false
}

// journal notes a ticked or unticked item in the case's journal.
func (v *recoverView) journal(item string, done bool) tea.Cmd {
	c := v.s.c
	if c == nil {
		return nil
	}
	msg := "recover: done: " + item
	if !done {
		msg = "recover: not done after all: " + item
	}
	// A job, so that quitting waits for the entry to be written.
	v.notes++
	return v.s.start(fmt.Sprintf("recover-note-%d", v.notes), func(ctx context.Context, send func(tea.Msg)) {
		_, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "recover", Message: msg})
		send(noteSavedMsg{err: err})
	})
}

func (v *recoverView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Recover: rotate, then keep the next key safe"), ""}
	for _, l := range wrapText("An IAM user has two key slots so that a key can be rotated without downtime: create new → switch → deactivate old → watch → delete.", v.w) {
		lines = append(lines, st.dim.Render(l))
	}
	lines = append(lines, "")
	top, cursorEnd := len(lines), 0
	for i, it := range recoverItems() {
		box := "[ ]"
		if v.done[i] {
			box = "[x]"
		}
		prefix := "  "
		if i == v.cursor {
			prefix = "› "
		}
		for j, l := range wrapText(it, v.w-6) {
			if j == 0 {
				l = prefix + box + " " + l
			} else {
				l = "      " + l
			}
			if i == v.cursor {
				l = st.bold.Render(l)
			}
			lines = append(lines, l)
		}
		if i == v.cursor {
			cursorEnd = len(lines)
		}
	}
	if v.err != nil {
		lines = append(lines, st.bad.Render(cut("journal: "+v.err.Error(), v.w)))
	}
	// The guidance scrolls away before the item under the cursor does.
	if skip := min(cursorEnd-v.h, top); skip > 0 {
		lines = lines[skip:]
	}
	return block(lines, v.w, v.h)
}
