package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// actionLine is one planned call of a run and what became of it.
type actionLine struct {
	step, id, desc, status, msg string
	at                          time.Time
}

// containView runs contain and revoke-sessions: it shows the exact calls
// before each step, asks for a deliberate key (shift+Y), and shows the
// results — and, between the two, that sessions issued from the key still
// work.
type containView struct {
	s       *session
	w, h    int
	pending *confirmMsg
	actions []actionLine
	notes   []string
	err     error
	scroll  int
	// keyStep is the status the contain step (deactivation) reached in
	// this run, as the runner reported it.
	keyStep string
}

func newContainView(s *session) *containView { return &containView{s: s} }

func (v *containView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *containView) Capturing() bool  { return false }
func (v *containView) Enter() tea.Cmd   { return nil }

func (v *containView) Keys() helpKeys {
	km := v.s.km
	if v.pending != nil {
		return helpKeys{short: []key.Binding{km.Confirm, km.Decline}, full: [][]key.Binding{{km.Confirm, km.Decline}}}
	}
	return helpKeys{short: []key.Binding{km.Enter}, full: [][]key.Binding{{km.Enter, km.Up, km.Down}}}
}

// blocked says why containment may not start, "" when it may.
func (v *containView) blocked() string {
	switch {
	case v.s.sum == nil:
		return "Identify the key first."
	case v.s.steps[stepIdentify] == stateFailed:
		return "Identify failed: containment is blocked until it succeeds (see Identify)."
	}
	return ""
}

func (v *containView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case confirmMsg:
		if msg.job == "contain" {
			v.pending = &msg
		}
	case runProgressMsg:
		if msg.job != "contain" {
			return nil
		}
		p := msg.p
		if p.ActionID == "" && p.Step == playbook.StepContain && p.Status != playbook.StatusRunning {
			v.keyStep = p.Status
		}
		if p.ActionID == "" {
			if p.Status == playbook.StatusDeclined || p.Status == playbook.StatusFailed {
				v.notes = append(v.notes, p.Step+": "+p.Status+": "+p.Message)
			}
			return nil
		}
		for i := range v.actions {
			if v.actions[i].id == p.ActionID {
				v.actions[i].status, v.actions[i].msg, v.actions[i].at = p.Status, p.Message, p.Time
				return nil
			}
		}
		v.actions = append(v.actions, actionLine{step: p.Step, id: p.ActionID, desc: p.Description, status: p.Status, msg: p.Message, at: p.Time})
	case runDoneMsg:
		if msg.job != "contain" {
			return nil
		}
		v.pending, v.err = nil, msg.err
		for _, a := range msg.accounts {
			v.notes = append(v.notes, "account "+a.Account+": "+accountOutcome(a))
		}
		if msg.sum != nil {
			v.s.sum = msg.sum
			v.s.steps[stepIdentify] = summaryState(msg.sum, playbook.StepIdentify)
			v.s.steps[stepContain] = containState(msg.sum)
			if v.actions == nil {
				for _, sr := range msg.sum.Steps {
					for _, a := range sr.Actions {
						v.actions = append(v.actions, actionLine{step: sr.ID, id: a.ID, desc: a.Description, status: a.Status, msg: a.Error, at: a.Time})
					}
				}
			}
		}
		if msg.err != nil {
			v.s.steps[stepContain] = stateFailed
			if selfLocked(msg.err) {
				v.s.steps[stepIdentify] = stateFailed
			}
		}
	case tea.KeyMsg:
		switch {
		case v.pending != nil && key.Matches(msg, km.Confirm):
			v.pending.reply <- true
			v.pending = nil
		case v.pending != nil && key.Matches(msg, km.Decline):
			v.pending.reply <- false
			v.pending = nil
		case v.pending == nil && key.Matches(msg, km.Enter):
			switch {
			case v.s.busy("contain"):
			case v.s.steps[stepContain] == stateDone:
				return v.s.goNext()
			case v.blocked() == "":
				v.actions, v.notes, v.err, v.keyStep = nil, nil, nil, ""
				v.s.steps[stepContain] = stateRunning
				return v.s.runPlaybook("contain", playbook.DefaultSteps()...)
			}
		case key.Matches(msg, km.Down):
			v.scroll++
		case key.Matches(msg, km.Up):
			v.scroll = max(v.scroll-1, 0)
		}
	}
	return nil
}

func (v *containView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Contain the key and revoke its sessions"), ""}
	if v.pending != nil {
		lines = append(lines, v.confirmLines()...)
		return block(lines, v.w, v.h)
	}
	if b := v.blocked(); b != "" && v.s.steps[stepContain] == statePending {
		lines = append(lines, st.warn.Render(b), "")
	}
	switch {
	case len(v.actions) > 0 || v.err != nil || v.s.busy("contain"):
		lines = append(lines, v.resultLines()...)
	case v.s.steps[stepContain] == stateDone && v.s.sum != nil:
		lines = append(lines, v.sessionLines()...)
		lines = append(lines, "", st.dim.Render("enter: go on to the investigation"))
	default:
		lines = append(lines, v.planLines()...)
	}
	// What to do next stays on screen however long the results are: the
	// rest scrolls above it.
	hint := ""
	if n := len(lines); n > 0 && strings.Contains(lines[n-1], "enter: go on") {
		hint, lines = lines[n-1], lines[:n-1]
	}
	room := v.h
	if hint != "" {
		room--
	}
	if v.scroll > len(lines)-room {
		v.scroll = max(len(lines)-room, 0)
	}
	shown := lines[min(v.scroll, len(lines)):]
	if len(shown) > room {
		shown = shown[:room]
	}
	if hint != "" {
		shown = append(shown, hint)
	}
	return block(shown, v.w, v.h)
}

// planLines explains the two steps before anything runs.
func (v *containView) planLines() []string {
	st := v.s.st
	var lines []string
	for _, id := range []string{playbook.StepContain, playbook.StepRevokeSessions} {
		s, _ := playbook.LookupStep(id)
		lines = append(lines, st.bold.Render(s.Title))
		for _, l := range wrapText(s.Why, v.w-2) {
			lines = append(lines, "  "+st.dim.Render(l))
		}
		lines = append(lines, "")
	}
	lines = append(lines, "Each step shows its exact AWS calls and waits for Y (shift+y).")
	if v.blocked() == "" {
		lines = append(lines, st.bold.Render("enter: start"))
	}
	return lines
}

// confirmLines show the calls a step is about to make.
func (v *containView) confirmLines() []string {
	st := v.s.st
	p := v.pending
	lines := append(callLines(st, p, v.w), "")
	if p.step.ID == playbook.StepRevokeSessions && v.s.steps[stepContain] != stateDone {
		switch v.keyStep {
		case playbook.StatusDone, playbook.StatusAlreadyDone, playbook.StatusReconciled, playbook.StatusNothingToDo:
			lines = append(lines, st.warn.Render("The key is inactive now, but session tokens issued from it"),
				st.warn.Render("still work (for up to 36 h) until this policy is in place."), "")
		case playbook.StatusDeclined:
			lines = append(lines, st.bad.Render("You declined the deactivation: the key still works. This policy"),
				st.bad.Render("denies sessions issued before now; the attacker can make new ones with the key."), "")
		}
	}
	lines = append(lines, st.bold.Render("Y (shift+y): make these calls")+"   n: skip this step")
	return lines
}

// resultLines show each call and its outcome, then what still works.
func (v *containView) resultLines() []string {
	st := v.s.st
	var lines []string
	for _, a := range v.actions {
		status := a.status
		switch a.status {
		case playbook.StatusDone, playbook.StatusAlreadyDone, playbook.StatusReconciled:
			status = st.ok.Render(fmt.Sprintf("%-12s", a.status))
		case playbook.StatusFailed, playbook.StatusDeclined:
			status = st.bad.Render(fmt.Sprintf("%-12s", a.status))
		default:
			status = st.warn.Render(fmt.Sprintf("%-12s", a.status))
		}
		for i, l := range wrapText(a.desc, v.w-13) {
			if i == 0 {
				lines = append(lines, status+" "+l)
			} else {
				lines = append(lines, "             "+l)
			}
		}
		if a.msg != "" && a.status != playbook.StatusDone {
			for _, l := range wrapText(a.msg, v.w-15) {
				lines = append(lines, "             "+st.dim.Render(l))
			}
		}
	}
	for _, n := range v.notes {
		for _, l := range wrapText(n, v.w) {
			lines = append(lines, st.warn.Render(l))
		}
	}
	if v.err != nil {
		lines = append(lines, "")
		if selfLocked(v.err) {
			lines = append(lines, st.loud.Render(fit(" REFUSED: YOU ARE SIGNED IN WITH THE LEAKED KEY ", v.w)))
		}
		for _, l := range wrapText(v.err.Error(), v.w) {
			lines = append(lines, st.bad.Render(l))
		}
	}
	if v.s.busy("contain") {
		lines = append(lines, "", st.dim.Render("running…"))
		return lines
	}
	if v.s.sum != nil {
		lines = append(lines, "")
		lines = append(lines, v.sessionLines()...)
	}
	if v.s.steps[stepContain] == stateDone {
		lines = append(lines, "", st.dim.Render("enter: go on to the investigation"))
	} else if v.err == nil {
		lines = append(lines, "", st.dim.Render("enter: run again"))
	}
	return lines
}

// sessionLines say what the key's derived credentials can still do.
func (v *containView) sessionLines() []string {
	st := v.s.st
	sum := v.s.sum
	var lines []string
	status := sum.KeyStatus
	if status == "" {
		status = "unknown"
	}
	lines = append(lines, st.label.Render("Key status    ")+status)
	if sum.RevokedBefore.IsZero() {
		for _, l := range wrapText("Session tokens issued from the key may still be valid (for up to 36 h): they are not revoked.", v.w) {
			lines = append(lines, st.warn.Render(l))
		}
	} else {
		for i, l := range wrapText("issued before "+sum.RevokedBefore.UTC().Format("2006-01-02 15:04:05")+" UTC are denied", v.w-14) {
			label := "              "
			if i == 0 {
				label = "Sessions      "
			}
			lines = append(lines, st.label.Render(label)+l)
		}
	}
	if v.s.inv != nil {
		for _, k := range v.s.inv.Derived() {
			if !k.MayBeValid {
				continue
			}
			var why string
			switch {
			case k.Via == "CreateAccessKey":
				why = "a long-term key of " + k.UserName + ": remove it in Resources"
			case k.RoleSession:
				why = "a role session: the user's revoke policy does not cover it"
			case sum.RevokedBefore.IsZero() || k.EventTime.After(sum.RevokedBefore):
				why = "a session not covered by the revocation"
			default:
				continue
			}
			for _, l := range wrapText(k.AccessKeyID+" may still be valid: "+why, v.w) {
				lines = append(lines, st.warn.Render(l))
			}
		}
	}
	if len(sum.Warnings) > 0 {
		lines = append(lines, "")
		for _, w := range sum.Warnings {
			for _, l := range wrapText("! "+w, v.w) {
				lines = append(lines, st.warn.Render(l))
			}
		}
	}
	return trimEmpty(lines)
}

// trimEmpty drops trailing empty lines.
func trimEmpty(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// callLines are a confirmation's step title, why, and the exact calls it
// asks for, wrapped to width.
func callLines(st styles, p *confirmMsg, width int) []string {
	lines := []string{st.bold.Render(cut(p.step.Title, width))}
	for _, l := range wrapText(p.step.Why, width-2) {
		lines = append(lines, "  "+st.dim.Render(l))
	}
	lines = append(lines, "", "These calls will be made:")
	for _, a := range p.actions {
		for i, l := range wrapText(a.Description, width-4) {
			prefix := "  $ "
			if i > 0 {
				prefix = "    "
			}
			lines = append(lines, prefix+st.bold.Render(l))
		}
	}
	return lines
}

func (v *containView) confirming() bool { return v.pending != nil }

// Esc declines a pending confirmation.
func (v *containView) Esc() (bool, tea.Cmd) {
	if v.pending == nil {
		return false, nil
	}
	v.pending.reply <- false
	v.pending = nil
	return true, nil
}

// openAccess is what of the attacker's access is still open before work
// that should follow containment (investigation, removal): nil when the
// contain run stopped everything, or when the runbook only analyses logs
// offline and there is nothing it could contain.
func (s *session) openAccess() []string {
	if s.cfg.Investigate.Offline {
		return nil
	}
	return respond.StillOpen(s.sum)
}

// openWarning is the screen that asks before such work starts while the
// attacker's access is open: what is open, what it means, how to go on.
func openWarning(st styles, open []string, doing, title string, w, h int) string {
	lines := []string{st.title.Render(title), ""}
	for _, l := range wrapText("Not contained yet: "+strings.Join(open, "; ")+".", w) {
		lines = append(lines, st.bad.Render(l))
	}
	lines = append(lines, "")
	lines = append(lines, wrapText("The attacker can go on using it while you are "+doing+
		", and what you find or remove may be out of date at once. Go back to Contain (⇧tab) to stop it first.", w)...)
	lines = append(lines, "", st.bold.Render("Y (shift+y) goes on anyway"))
	return block(lines, w, h)
}

// accountOutcome says in a line what a containment run in another account
// of the organization did: the steps that changed something or did not
// end well, else that nothing there needed changing.
func accountOutcome(a *playbook.Summary) string {
	var parts []string
	for _, st := range a.Steps {
		if st.Status == playbook.StatusSkipped || st.Status == playbook.StatusNothingToDo {
			continue
		}
		parts = append(parts, st.ID+" "+st.Status)
	}
	if len(parts) == 0 {
		return "nothing to change"
	}
	return strings.Join(parts, ", ")
}
