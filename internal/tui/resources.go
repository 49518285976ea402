package tui

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"errors"
	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// inventoryDoneMsg is the live state of the resources the keys created.
type inventoryDoneMsg struct {
	resources []assess.Resource
	err       error
}

// inventory checks, region by region, whether each resource still exists.
func (s *session) inventory(resources []assess.Resource) tea.Cmd {
	eng := s.cfg.Engine
	return s.start("inventory", func(ctx context.Context, send func(tea.Msg)) {
		out, err := eng.Inventory(ctx, resources)
		send(inventoryDoneMsg{resources: out, err: err})
	})
}

// eradicateDoneMsg ends a removal run.
type eradicateDoneMsg struct {
	sum *playbook.Summary
	err error
}

// eradicate removes the targets through the playbook's eradicate step:
// one confirmation per resource, every call journaled.
func (s *session) eradicate(targets []playbook.Target) tea.Cmd {
	c, eng := s.c, s.cfg.Engine
	const job = "eradicate"
	only := make([]string, 0, len(targets))
	for _, t := range targets {
		only = append(only, t.Key())
	}
	return s.start(job, func(ctx context.Context, send func(tea.Msg)) {
		var sum *playbook.Summary
		if len(only) == 0 {
			send(eradicateDoneMsg{})
			return
		}
		res, err := eng.Eradicate(ctx, c, respond.EradicateRequest{Only: only, All: true, NoEvidence: s.cfg.NoEvidence}, respond.Hooks{
			Confirm:  confirmer(job, send),
			Progress: func(p playbook.Progress) { send(runProgressMsg{job: job, p: p}) },
		})
		if res != nil {
			sum = res.Summary
		}
		send(eradicateDoneMsg{sum: sum, err: err})
	})
}

// removable tells whether the eradicate step knows how to remove a type.
func removable(typ string) bool { return playbook.Removable(typ) }

// resourcesView is the checklist of what the keys created: live state,
// selection, and removal with a confirmation for each resource.
type resourcesView struct {
	s         *session
	w, h      int
	resources []assess.Resource
	selected  map[string]bool
	cursor    int
	offset    int
	pending   *confirmMsg
	log       []actionLine
	err       error
	checked   bool
	// note says why the last removal run ended early (Esc).
	note string
	// open is what of the attacker's access was still open when removal
	// was asked for: it waits for Y (removal of what an attacker can
	// recreate at once).
	open []string
}

func newResourcesView(s *session) *resourcesView {
	return &resourcesView{s: s, selected: map[string]bool{}}
}

func (v *resourcesView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *resourcesView) Capturing() bool  { return false }

func (v *resourcesView) Keys() helpKeys {
	km := v.s.km
	if v.pending != nil {
		return helpKeys{short: []key.Binding{km.Confirm, km.Decline}, full: [][]key.Binding{{km.Confirm, km.Decline}}}
	}
	return helpKeys{short: []key.Binding{km.Toggle, km.Eradicate, km.Refresh},
		full: [][]key.Binding{{km.Up, km.Down, km.Toggle, km.Eradicate, km.Refresh, km.Enter}}}
}

// Enter shows what the assessment found, whose live state it checked;
// R checks again.
func (v *resourcesView) Enter() tea.Cmd {
	if v.checked || v.s.found == nil || v.s.busy("inventory") {
		return nil
	}
	v.checked = true
	if v.resources == nil && !inventoried(v.s.found.Resources) {
		return v.check()
	}
	v.show(v.s.found.Resources)
	return nil
}

// inventoried tells whether the resources' live state is known.
func inventoried(rs []assess.Resource) bool {
	for _, r := range rs {
		if r.State == "" {
			return false
		}
	}
	return true
}

// show lists the resources; the first time, the attacker's resources that
// still exist are chosen, and the workload's stay out unless chosen.
func (v *resourcesView) show(rs []assess.Resource) {
	first := v.resources == nil
	v.resources = rs
	if first {
		for _, r := range v.resources {
			if r.Verdict == assess.Attacker && r.State == assess.StatePresent && removable(r.Type) {
				v.selected[r.Key()] = true
			}
		}
	}
	v.s.steps[stepResources] = v.state()
}

func (v *resourcesView) check() tea.Cmd {
	v.checked = true
	v.s.steps[stepResources] = stateRunning
	list := v.s.found.Resources
	if v.resources != nil {
		list = v.resources
	}
	return v.s.inventory(list)
}

func (v *resourcesView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case assessDoneMsg:
		if msg.found != nil {
			v.resources, v.checked = nil, false
		}
	case inventoryDoneMsg:
		v.err = msg.err
		v.show(msg.resources)
	case confirmMsg:
		if msg.job == "eradicate" {
			v.pending = &msg
		}
	case runProgressMsg:
		if msg.job == "eradicate" && msg.p.ActionID != "" && msg.p.Status != playbook.StatusRunning {
			v.log = append(v.log, actionLine{step: msg.p.Step, id: msg.p.ActionID, desc: msg.p.Description, status: msg.p.Status, msg: msg.p.Message})
		}
	case eradicateDoneMsg:
		v.pending, v.err = nil, msg.err
		if errors.Is(msg.err, context.Canceled) {
			v.err, v.note = nil, "removal stopped (esc): the resources not yet removed are kept; D starts again"
		}
		return v.check()
	case tea.KeyMsg:
		if len(v.open) > 0 {
			switch {
			case key.Matches(msg, km.Confirm):
				v.open = nil
				if t := v.targets(); len(t) > 0 && !v.s.busy("eradicate") {
					return v.remove(t)
				}
			case key.Matches(msg, km.Decline), key.Matches(msg, km.Back):
				v.open = nil
			}
			return nil
		}
		if v.pending != nil {
			switch {
			case key.Matches(msg, km.Confirm):
				v.pending.reply <- true
				v.pending = nil
			case key.Matches(msg, km.Decline):
				v.pending.reply <- false
				v.pending = nil
			}
			return nil
		}
		switch {
		case key.Matches(msg, km.Down):
			v.cursor = min(v.cursor+1, len(v.resources)-1)
		case key.Matches(msg, km.Up):
			v.cursor = max(v.cursor-1, 0)
		case key.Matches(msg, km.Toggle):
			if v.cursor < len(v.resources) {
				r := v.resources[v.cursor]
				if removable(r.Type) && r.State != assess.StateGone {
					v.selected[r.Key()] = !v.selected[r.Key()]
				}
			}
		case key.Matches(msg, km.Eradicate):
			if t := v.targets(); len(t) > 0 && !v.s.busy("eradicate") && !v.s.busy("inventory") {
				if v.open = v.s.openAccess(); len(v.open) > 0 {
					return nil // asks first: see View
				}
				return v.remove(t)
			}
		case key.Matches(msg, km.Refresh):
			if v.s.found != nil && !v.s.busy("inventory") {
				return v.check()
			}
		case key.Matches(msg, km.Enter):
			return v.s.goNext()
		}
	}
	return nil
}

// remove starts the removal of the targets.
func (v *resourcesView) remove(t []playbook.Target) tea.Cmd {
	v.log, v.note = nil, ""
	v.s.steps[stepResources] = stateRunning
	return v.s.eradicate(t)
}

// state is done when nothing the attacker made is left, pending while
// some of it is.
func (v *resourcesView) state() stepState {
	for _, r := range v.resources {
		if r.Verdict == assess.Attacker && r.State == assess.StatePresent {
			return statePending
		}
	}
	return stateDone
}

// targets are the selected resources that still exist.
func (v *resourcesView) targets() []playbook.Target {
	var out []playbook.Target
	for _, r := range v.resources {
		if v.selected[r.Key()] && r.State != assess.StateGone {
			out = append(out, playbook.Target{Type: r.Type, ID: r.ID, Region: r.Region, Details: r.Details})
		}
	}
	return out
}

func (v *resourcesView) View() string {
	st := v.s.st
	if len(v.open) > 0 {
		return openWarning(st, v.open, "removing what the attacker made", "Resources the keys created", v.w, v.h)
	}
	lines := []string{st.title.Render("Resources the keys created"), ""}
	if v.pending != nil {
		p := v.pending
		lines = append(lines, st.bold.Render(cut(p.step.Title, v.w)), "", "These calls will be made:")
		for _, a := range p.actions {
			for i, l := range wrapText(a.Description, v.w-4) {
				prefix := "  $ "
				if i > 0 {
					prefix = "    "
				}
				lines = append(lines, prefix+st.bold.Render(l))
			}
		}
		lines = append(lines, "", st.bold.Render("Y (shift+y): remove it")+"   n: keep it")
		return block(lines, v.w, v.h)
	}
	switch {
	case v.s.found == nil:
		lines = append(lines, st.dim.Render("Assess the events first: the resources come from them."))
		return block(lines, v.w, v.h)
	case v.resources == nil && v.s.busy("inventory"):
		lines = append(lines, "Checking what still exists…")
		return block(lines, v.w, v.h)
	case len(v.resources) == 0 && len(v.s.found.Resources) == 0:
		lines = append(lines, st.ok.Render("The keys created nothing that keyleak knows how to find."))
		return block(lines, v.w, v.h)
	}
	present := 0
	for _, r := range v.resources {
		if r.State == assess.StatePresent {
			present++
		}
	}
	status := fmt.Sprintf("%d resources, %d still present, %d selected", len(v.resources), present, len(v.targets()))
	if v.s.busy("inventory") || v.s.busy("eradicate") {
		status += " · working…"
	}
	lines[1] = st.dim.Render(cut(status, v.w))
	if v.note != "" {
		lines = append(lines, st.warn.Render(cut(v.note, v.w)))
	}
	if v.err != nil {
		for _, l := range wrapText(v.err.Error(), v.w) {
			lines = append(lines, st.bad.Render(l))
		}
	}
	lines = append(lines, st.label.Render(cut(fmt.Sprintf("      %-8s %s", "STATE", "RESOURCE (REGION, MADE BY)"), v.w)))
	logRoom := min(len(v.log), 4)
	room := max(v.h-len(lines)-logRoom-1, 1)
	if v.cursor < v.offset {
		v.offset = v.cursor
	}
	if v.cursor >= v.offset+room {
		v.offset = v.cursor - room + 1
	}
	for i := v.offset; i < len(v.resources) && i < v.offset+room; i++ {
		r := v.resources[i]
		box := "[ ]"
		switch {
		case !removable(r.Type) || r.State == assess.StateGone:
			box = " - "
		case v.selected[r.Key()]:
			box = "[x]"
		}
		state := fmt.Sprintf("%-8s", r.State)
		switch r.State {
		case assess.StatePresent:
			state = st.warn.Render(state)
		case assess.StateGone:
			state = st.ok.Render(state)
		}
		by := string(r.Verdict)
		if r.Verdict == assess.Attacker {
			by = st.attacker.Render(by)
		}
		line := fmt.Sprintf("%s %s %s %s (%s, %s)", box, state, strings.TrimPrefix(r.Type, "AWS::"), r.ID, r.Region, by)
		if i == v.cursor {
			line = st.cursor.Render("› " + line)
		} else {
			line = "  " + line
		}
		lines = append(lines, line)
	}
	for len(lines) < v.h-logRoom-1 {
		lines = append(lines, "")
	}
	for _, a := range v.log[len(v.log)-logRoom:] {
		lines = append(lines, st.dim.Render(cut(a.status+" "+a.desc, v.w)))
	}
	lines = append(lines, st.dim.Render("space: select · D: remove selected, asking for each · enter: next"))
	return block(lines, v.w, v.h)
}

func (v *resourcesView) confirming() bool { return v.pending != nil }

// Esc stops the removal loop: the resource asked about is kept, and so are
// the ones not yet asked about; what was removed stays removed (and
// journaled).
func (v *resourcesView) Esc() (bool, tea.Cmd) {
	if v.pending == nil && !v.s.busy("eradicate") {
		return false, nil
	}
	v.s.stop("eradicate")
	if v.pending != nil {
		v.pending.reply <- false
		v.pending = nil
	}
	return true, nil
}
