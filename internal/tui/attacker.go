package tui

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// attackerMsg carries the simulated attacker's calls since the last read.
type attackerMsg struct{ calls []AttackerCall }

// attackerWindow is how many reads the status line adds up: with the
// default 500 ms between reads, the last 5 seconds.
const attackerWindow = 10

// attackerLog keeps the demo attacker's recent calls for the status line,
// so that the responder sees the key's calls stop when it is deactivated
// and the session's only when sessions are revoked.
type attackerLog struct {
	// reads holds one tally per read, newest last.
	reads []map[string][2]int
	order []string
	last  *AttackerCall
	total int
}

// tick reads the attacker's calls after the configured pause.
func (a *attackerLog) tick(s *session) tea.Cmd {
	read := s.cfg.Attacker
	return tea.Tick(s.cfg.AttackerEvery, func(time.Time) tea.Msg { return attackerMsg{calls: read()} })
}

// add records one read.
func (a *attackerLog) add(calls []AttackerCall) {
	tally := map[string][2]int{}
	for i := range calls {
		c := calls[i]
		t := tally[c.Who]
		if c.ErrorCode == "" {
			t[0]++
		} else {
			t[1]++
		}
		tally[c.Who] = t
		if !contains(a.order, c.Who) {
			a.order = append(a.order, c.Who)
		}
		a.last = &c
		a.total++
	}
	a.reads = append(a.reads, tally)
	if len(a.reads) > attackerWindow {
		a.reads = a.reads[len(a.reads)-attackerWindow:]
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// line is the status line: the attacker's calls in the window, per key.
func (a *attackerLog) line() string {
	sum := map[string][2]int{}
	for _, r := range a.reads {
		for who, t := range r {
			s := sum[who]
			s[0] += t[0]
			s[1] += t[1]
			sum[who] = s
		}
	}
	var parts []string
	for _, who := range a.order {
		t := sum[who]
		p := fmt.Sprintf("%s %d ok", who, t[0])
		if t[1] > 0 {
			p += fmt.Sprintf(" %d refused", t[1])
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "simulated attacker, last 5 s: no call"
	}
	line := "simulated attacker, last 5 s: " + strings.Join(parts, " · ")
	if a.last != nil {
		res := "ok"
		if a.last.ErrorCode != "" {
			res = a.last.ErrorCode
		}
		line += fmt.Sprintf(" | last %s (%s) %s", a.last.EventName, a.last.Who, res)
	}
	return line
}
