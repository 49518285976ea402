package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// runProgressMsg is one progress event of a playbook run.
type runProgressMsg struct {
	job string
	p   playbook.Progress
}

// runDoneMsg ends a playbook run: its summary (kept in the case) and error,
// and for containment across the organization the runs in the other
// accounts.
type runDoneMsg struct {
	job      string
	sum      *playbook.Summary
	accounts []*playbook.Summary
	err      error
}

// runPlaybook runs playbook steps on the case through the runner, as
// `keyleak contain` does: journaled, resumable, each changing step
// confirmed by the responder. The summary is saved in the case.
func (s *session) runPlaybook(job string, steps ...string) tea.Cmd {
	c, eng, rate := s.c, s.cfg.Engine, s.cfg.LookupRate
	return s.start(job, func(ctx context.Context, send func(tea.Msg)) {
		h := respond.Hooks{
			Confirm:  confirmer(job, send),
			Progress: func(p playbook.Progress) { send(runProgressMsg{job: job, p: p}) },
		}
		if job == "contain" {
			// With an organization source (--org), containment goes
			// where the investigation goes, as `keyleak contain --org`.
			src := s.cfg.Investigate.Source
			res, err := eng.Contain(ctx, c, respond.ContainRequest{Steps: steps, LookupRate: rate, Org: src.Org, RoleName: src.RoleName}, h)
			done := runDoneMsg{job: job, err: err}
			if res != nil {
				done.sum = res.Summary
				done.accounts = append(append(done.accounts, res.RoleSessions...), res.Accounts...)
			}
			send(done)
			return
		}
		sum, err := eng.Run(ctx, c, steps, h)
		send(runDoneMsg{job: job, sum: sum, err: err})
	})
}

// identifyView is the Identify card: whose key, which account, how old,
// last used, what it may do, whether AWS quarantined it, and who the
// responder is — with a loud refusal when the responder is the leaked key.
type identifyView struct {
	s      *session
	w, h   int
	err    error
	ran    bool
	scroll int
}

func newIdentifyView(s *session) *identifyView { return &identifyView{s: s} }

func (v *identifyView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *identifyView) Capturing() bool  { return false }

func (v *identifyView) Keys() helpKeys {
	km := v.s.km
	return helpKeys{short: []key.Binding{km.Enter, km.Refresh}, full: [][]key.Binding{{km.Enter, km.Refresh, km.Up, km.Down}}}
}

// Enter identifies the key the first time the card is shown in a session
// (read-only calls; they run again on every run, as answers change).
func (v *identifyView) Enter() tea.Cmd {
	if v.ran || v.s.busy("identify") {
		return nil
	}
	return v.run()
}

func (v *identifyView) run() tea.Cmd {
	v.ran, v.err = true, nil
	v.s.steps[stepIdentify] = stateRunning
	return v.s.runPlaybook("identify", playbook.StepIdentify, playbook.StepScope)
}

func (v *identifyView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case runDoneMsg:
		if msg.job != "identify" {
			return nil
		}
		v.err = msg.err
		if msg.sum != nil {
			v.s.sum = msg.sum
		}
		v.s.steps[stepIdentify] = stateDone
		if msg.err != nil {
			v.s.steps[stepIdentify] = stateFailed
		}
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, km.Refresh):
			if !v.s.busy("identify") {
				return v.run()
			}
		case key.Matches(msg, km.Enter):
			if v.s.steps[stepIdentify] == stateDone {
				return v.s.goNext()
			}
		case key.Matches(msg, km.Down):
			v.scroll++
		case key.Matches(msg, km.Up):
			v.scroll = max(v.scroll-1, 0)
		}
	}
	return nil
}

// selfLocked tells whether the error is the refusal to act with the
// leaked key itself.
func selfLocked(err error) bool {
	var sl *playbook.SelfLockoutError
	return errors.As(err, &sl)
}

func (v *identifyView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Identify the key and the responder"), ""}
	if v.err != nil {
		if selfLocked(v.err) {
			lines = append(lines, st.loud.Render(fit(" STOP: YOU ARE SIGNED IN WITH THE LEAKED KEY ITSELF ", v.w)), "")
			for _, l := range wrapText(v.err.Error(), v.w-2) {
				lines = append(lines, st.bad.Render(l))
			}
			lines = append(lines, "")
			for _, l := range wrapText("Nothing was changed. Quit, sign in with other credentials (another administrator, or a role), and run keyleak again.", v.w) {
				lines = append(lines, st.bold.Render(l))
			}
			lines = append(lines, "")
		} else {
			for _, l := range wrapText("Identify failed: "+v.err.Error(), v.w-2) {
				lines = append(lines, st.bad.Render(l))
			}
			lines = append(lines, st.dim.Render("R tries again."), "")
		}
	}
	sum := v.s.sum
	switch {
	case sum == nil && v.s.busy("identify"):
		lines = append(lines, "Asking AWS who owns the key and who you are…")
	case sum == nil:
		lines = append(lines, st.dim.Render("Not identified yet: R identifies the key."))
	default:
		lines = append(lines, identifyCard(v.s, sum, v.w)...)
		if v.err == nil && v.s.steps[stepIdentify] == stateDone {
			lines = append(lines, "", st.dim.Render("enter: go on to containment"))
		}
	}
	if v.scroll > len(lines)-v.h {
		v.scroll = max(len(lines)-v.h, 0)
	}
	return block(lines[min(v.scroll, len(lines)):], v.w, v.h)
}

// identifyCard renders the summary's facts about the key, label by label.
func identifyCard(s *session, sum *playbook.Summary, width int) []string {
	st := s.st
	now := s.cfg.Now()
	var lines []string
	row := func(label, value string) {
		wrapped := wrapText(value, width-14)
		for i, l := range wrapped {
			if i == 0 {
				lines = append(lines, st.label.Render(fmt.Sprintf("%-13s", label))+" "+l)
			} else {
				lines = append(lines, strings.Repeat(" ", 14)+l)
			}
		}
	}
	status := sum.KeyStatus
	if status == "" {
		status = "unknown"
	}
	row("Key", sum.KeyID+" ("+status+")")
	if sum.Account != "" {
		row("Account", sum.Account)
	}
	switch {
	case sum.RootKey:
		row("Owner", "the root user")
	case sum.Owner != "":
		row("Owner", "IAM user "+sum.Owner)
	}
	for _, k := range sum.OwnerKeys {
		if k.ID == sum.KeyID && !k.Created.IsZero() {
			row("Created", k.Created.UTC().Format("2006-01-02")+" ("+ago(now, k.Created)+")")
		}
	}
	if lu := sum.LastUsed; lu != nil && !lu.Time.IsZero() {
		where := ""
		if lu.Service != "" {
			where = ", " + lu.Service
		}
		if lu.Region != "" {
			where += " in " + lu.Region
		}
		row("Last used", lu.Time.UTC().Format("2006-01-02 15:04")+" UTC ("+ago(now, lu.Time)+where+")")
	} else if sum.LastUsed != nil {
		row("Last used", "never")
	}
	if a := sum.Access; a != nil {
		var names []string
		for _, p := range a.Policies {
			names = append(names, p.Name)
		}
		v := a.Summary
		if len(names) > 0 {
			v += " (" + strings.Join(names, ", ") + ")"
		}
		row("Blast radius", v)
	}
	if len(sum.Quarantine) > 0 {
		row("Quarantine", strings.Join(sum.Quarantine, ", ")+" attached: AWS has detected the leak")
	} else if sum.Access != nil {
		row("Quarantine", "none attached")
	}
	var others []string
	for _, k := range sum.OwnerKeys {
		if k.ID != sum.KeyID {
			others = append(others, k.ID+" "+k.Status)
		}
	}
	if len(others) > 0 {
		row("Other keys", strings.Join(others, ", "))
	}
	if sum.Responder != "" {
		row("Responder", sum.Responder)
	}
	if !sum.RevokedBefore.IsZero() {
		row("Sessions", "issued before "+sum.RevokedBefore.UTC().Format(time.RFC3339)+" are denied")
	}
	for _, w := range sum.Warnings {
		for _, l := range wrapText("! "+w, width) {
			lines = append(lines, st.warn.Render(l))
		}
	}
	return lines
}

// ago says how long before now t was, in the largest whole unit.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}
