package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// verifyCallMsg carries a call of a watched key not seen before, and
// whether it worked after containment.
type verifyCallMsg struct {
	event  trail.Event
	worked bool
}

// verifyTickMsg is one finished poll.
type verifyTickMsg struct {
	polls   int
	keys    int
	regions int
	err     string
}

// verifyDoneMsg ends the watch.
type verifyDoneMsg struct{ err error }

// watchKeys runs the engine's watch for further use of the leaked key and
// every credential made from it, for d, showing each call as a poll finds
// it. The engine keeps each call in the case as it is found.
func (s *session) watchKeys(d time.Duration) tea.Cmd {
	c, cfg := s.c, s.cfg
	return s.start("verify", func(ctx context.Context, send func(tea.Msg)) {
		req := respond.VerifyRequest{For: d, Every: cfg.VerifyEvery, LookupRate: float64(cfg.LookupRate), LookupBurst: cfg.LookupBurst,
			OnCall: func(e trail.Event, worked bool) { send(verifyCallMsg{event: e, worked: worked}) },
			OnPoll: func(p trail.WatchPoll) {
				send(verifyTickMsg{polls: p.Polls, keys: len(p.Keys), regions: len(p.Regions), err: strings.Join(p.Failures, "; ")})
			}}
		_, err := cfg.Engine.Verify(ctx, c, req)
		var partial *respond.PartialError
		if errors.As(err, &partial) || ctx.Err() != nil {
			err = nil // the calls that worked and the failed regions are on screen already
		}
		send(verifyDoneMsg{err: err})
	})
}

// verifyView watches for further use of the key and the keys derived from
// it, for a chosen time, and shows each new call as soon as a poll finds
// it.
type verifyView struct {
	s       *session
	w, h    int
	choice  int
	calls   []trail.Event
	worked  map[string]bool // Event.Key of the calls that worked after containment
	polls   int
	keys    int
	regions int
	started time.Time
	until   time.Time
	pollErr string
	ran     bool
}

func newVerifyView(s *session) *verifyView { return &verifyView{s: s} }

func (v *verifyView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *verifyView) Capturing() bool  { return false }
func (v *verifyView) Enter() tea.Cmd   { return nil }

func (v *verifyView) Keys() helpKeys {
	km := v.s.km
	return helpKeys{short: []key.Binding{km.Enter, km.Longer}, full: [][]key.Binding{{km.Enter, km.Longer, km.Shorter}}}
}

// used tells whether a watched key made a call that worked after
// containment. Calls from before it (CloudTrail delivers late, and the
// investigation may have ended earlier) are shown but do not count.
func (v *verifyView) used() bool { return len(v.worked) > 0 }

func (v *verifyView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case verifyCallMsg:
		v.calls = append(v.calls, msg.event)
		if msg.worked {
			v.worked[msg.event.Key()] = true
		}
		if v.used() {
			v.s.steps[stepVerify] = stateFailed
		}
	case verifyTickMsg:
		v.polls, v.keys, v.regions, v.pollErr = msg.polls, msg.keys, msg.regions, msg.err
	case verifyDoneMsg:
		if msg.err != nil {
			v.pollErr = msg.err.Error()
		}
		switch {
		case v.used():
			v.s.steps[stepVerify] = stateFailed
		default:
			v.s.steps[stepVerify] = stateDone
		}
	case tea.KeyMsg:
		n := len(v.s.cfg.VerifyFor)
		switch {
		case key.Matches(msg, km.Longer):
			v.choice = min(v.choice+1, n-1)
		case key.Matches(msg, km.Shorter):
			v.choice = max(v.choice-1, 0)
		case key.Matches(msg, km.Enter):
			switch {
			case v.s.busy("verify"):
			case v.ran:
				return v.s.goNext()
			case v.s.c != nil:
				d := v.s.cfg.VerifyFor[v.choice]
				v.ran, v.calls, v.worked, v.polls = true, nil, map[string]bool{}, 0
				v.started = v.s.cfg.Now()
				v.until = v.started.Add(d)
				v.s.steps[stepVerify] = stateRunning
				return v.s.watchKeys(d)
			}
		}
	}
	return nil
}

// wide tells whether the region column fits.
func (v *verifyView) wide() bool { return v.w >= 80 }

func (v *verifyView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Verify: watch for further use"), ""}
	d := v.s.cfg.VerifyFor[v.choice]
	switch {
	case v.s.busy("verify"):
		lines = append(lines, wrapText(fmt.Sprintf("Watching %d keys in %d regions until %s UTC · %d polls",
			v.keys, v.regions, v.until.UTC().Format("15:04:05"), v.polls), v.w)...)
	case v.ran:
		lines = append(lines, wrapText(fmt.Sprintf("Watched %d keys in %d regions from %s to %s UTC · %d polls",
			v.keys, v.regions, v.started.UTC().Format("15:04:05"), v.until.UTC().Format("15:04:05"), v.polls), v.w)...)
	default:
		for _, l := range wrapText("Watch CloudTrail for calls of the leaked key and of every key derived from it: a call that still works means a credential is still open.", v.w) {
			lines = append(lines, l)
		}
		lines = append(lines, "", fmt.Sprintf("Watch for %s (+/- to change) · enter: start", d))
	}
	if v.pollErr != "" {
		lines = append(lines, st.bad.Render(cut(v.pollErr, v.w)))
	}
	lines = append(lines, "")
	if v.ran {
		switch {
		case v.used():
			for _, l := range wrapText("A watched key still works: remove it (Resources) or revoke it.", v.w) {
				lines = append(lines, st.bad.Render(l))
			}
		case len(v.calls) > 0:
			lines = append(lines, st.ok.Render("No call has worked since containment."))
		default:
			lines = append(lines, st.ok.Render("No call so far."))
		}
		hdr := fmt.Sprintf("%-8s %-20s ", "TIME", "KEY")
		if v.wide() {
			hdr += fmt.Sprintf("%-14s ", "REGION")
		}
		lines = append(lines, st.label.Render(hdr+"CALL"))
	}
	room := v.h - len(lines) - 1
	calls := v.calls
	if len(calls) > room {
		calls = calls[len(calls)-max(room, 0):]
	}
	for _, e := range calls {
		result := st.attacker.Render("worked")
		switch {
		case e.ErrorCode != "":
			result = st.ok.Render("refused: " + e.ErrorCode)
		case e.EventName == "GetCallerIdentity":
			result = st.dim.Render("answered (no policy denies it)")
		case !v.worked[e.Key()]:
			result = st.dim.Render("worked, before containment")
		}
		line := fmt.Sprintf("%-8s %-20s ", e.EventTime.UTC().Format("15:04:05"), e.UserIdentity.AccessKeyID)
		if v.wide() {
			line += fmt.Sprintf("%-14s ", cut(e.Region, 14))
		}
		lines = append(lines, line+e.EventName+" "+result)
	}
	if v.ran && !v.s.busy("verify") {
		for len(lines) < v.h-1 {
			lines = append(lines, "")
		}
		lines = append(lines, st.dim.Render("enter: go on to the report"))
	}
	return block(lines, v.w, v.h)
}
