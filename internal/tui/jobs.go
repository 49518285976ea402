package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// session is what the screens share: the case, the AWS seams and what the
// runbook has learned so far. Screens read it; the root model and the
// screens' own result messages write it.
type session struct {
	cfg Config
	st  styles
	km  keyMap
	// life ends when the program ends; work is cancelled when the
	// responder quits, so that running work stops and saves what it has.
	life   context.Context
	work   context.Context
	cancel context.CancelFunc
	jobs   map[string]bool
	// stops cancel one running job each (Esc stops a removal loop).
	stops map[string]context.CancelFunc

	c   *playbook.Case
	key string
	// sum is the last identify or contain run's summary.
	sum *playbook.Summary
	// inv is the investigation as kept in the case (events and keys).
	inv *trail.Investigation
	// found is the assessment of inv.
	found *assess.Assessment
	// guardDuty is what the last investigation found in GuardDuty about
	// the keys (nil when it was not searched).
	guardDuty *assess.GuardDutyResult
	// steps holds each runbook step's state for the step list.
	steps [numSteps]stepState
	// next is set by a screen's key handling to move to the next step.
	next bool
}

// goNext asks the root model to show the next step once the key that
// asked is handled.
func (s *session) goNext() tea.Cmd {
	s.next = true
	return nil
}

// jobDoneMsg ends a background job; the root model quits once the last
// one ends after the responder asked to quit.
type jobDoneMsg struct{ job string }

// start runs work as a background job inside tea.Cmds: work's messages
// reach Update in the order sent, one listen at a time, then jobDoneMsg.
// send never blocks past the program's end.
func (s *session) start(job string, work func(ctx context.Context, send func(tea.Msg))) tea.Cmd {
	if s.jobs[job] {
		return nil
	}
	s.jobs[job] = true
	ch := make(chan tea.Msg, 64)
	ctx, stop := context.WithCancel(s.work)
	if s.stops == nil {
		s.stops = map[string]context.CancelFunc{}
	}
	s.stops[job] = stop
	life := s.life
	run := func() tea.Msg {
		defer close(ch)
		defer stop()
		send := func(msg tea.Msg) {
			select {
			case ch <- msg:
			case <-life.Done():
			}
		}
		work(ctx, send)
		send(jobDoneMsg{job: job})
		return nil
	}
	return tea.Batch(run, listen(ch))
}

// listen waits for the next message of a job.
func listen(ch <-chan tea.Msg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return jobMsg{msg: msg, next: ch}
	}
}

// jobMsg carries one message of a job and the channel to listen on next.
type jobMsg struct {
	msg  tea.Msg
	next <-chan tea.Msg
}

// stop cancels a running job: what it did is kept (the runner journals as
// it goes), what it had not started is not done.
func (s *session) stop(job string) {
	if cancel, ok := s.stops[job]; ok {
		cancel()
	}
}

// busy reports whether a job is running.
func (s *session) busy(job string) bool { return s.jobs[job] }

// confirmMsg asks the responder to approve a step's calls. The runner
// waits on reply.
type confirmMsg struct {
	job     string
	step    playbook.Step
	actions []playbook.Action
	reply   chan bool
}

// confirmer returns a playbook.ConfirmFunc that asks through send.
func confirmer(job string, send func(tea.Msg)) playbook.ConfirmFunc {
	return func(ctx context.Context, s playbook.Step, actions []playbook.Action) (bool, error) {
		reply := make(chan bool, 1)
		send(confirmMsg{job: job, step: s, actions: actions, reply: reply})
		select {
		case ok := <-reply:
			return ok, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
