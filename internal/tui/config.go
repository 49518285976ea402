// Package tui is keyleak's interactive runbook: a bubbletea program that
// walks the responder from the leaked key's ID to the report and the
// recovery checklist. It is a thin adapter: every AWS call goes through the
// playbook, trail and assess packages, run inside tea.Cmds, and everything it
// learns is kept in the case directory, so that quitting and re-opening the
// case resumes where it stopped.
//
// The root Model holds a state enum (the screen shown) and one sub-model per
// screen; keys are key.Bindings in keys.go and styles live in styles.go.
package tui

import (
	"time"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/respond"
)

// Config is what the runbook needs from outside. Engine is required; the
// rest have defaults.
type Config struct {
	// Key is the leaked key's ID (--key); empty asks for it.
	Key string
	// SuggestKey fills the key entry without submitting it (the demo
	// offers its leaked key this way).
	SuggestKey string
	// CaseDir reopens an existing case (--case); the key comes from it.
	CaseDir string
	// Parent is where a new case directory is made, and where the newest
	// case of the key is looked for to resume (default ".").
	Parent string
	// Engine is the response engine every step calls (required): the same
	// use cases as the commands, on the same AWS configuration.
	Engine *respond.Engine
	// NoEvidence makes the runbook's removals skip keeping evidence
	// (--no-evidence); by default each removal keeps it first.
	NoEvidence bool
	// Investigate is the investigation the runbook runs: its source (the
	// API sweep by default; log files, S3, Athena, Lake, the organization),
	// leak time, rules and regions, as the command-line flags gave them.
	// The window and pacing are the runbook's.
	Investigate respond.InvestigateRequest
	// Now is the clock (default time.Now). Views show times from it only.
	Now func() time.Time
	// Renderer draws the styles; its colour profile decides how colours
	// degrade (default: a renderer detecting the terminal of os.Stderr).
	Renderer *lipgloss.Renderer
	// Title names the run in the header (default "keyleak").
	Title string
	// LookupRate and LookupBurst pace LookupEvents per region (default 2
	// and 1, AWS's quota; only a simulator allows more).
	LookupRate  rate.Limit
	LookupBurst int
	// VerifyEvery is how often Verify polls LookupEvents (default 10 s).
	VerifyEvery time.Duration
	// VerifyFor is the watch durations Verify offers, the first chosen by
	// default (default 5m, 15m, 1h).
	VerifyFor []time.Duration
	// Attacker, when set, reports the calls the simulated attacker made
	// since the last call (the demo's ground truth); the status line shows
	// them so that the responder sees the calls stop.
	Attacker func() []AttackerCall
	// AttackerEvery is how often Attacker is read (default 500 ms).
	AttackerEvery time.Duration
	// Version is keyleak's version, for the report.
	Version string
}

// AttackerCall is one call of the simulated attacker, for the demo.
type AttackerCall struct {
	Time      time.Time
	Who       string // "leaked key", "session key", "backdoor key"
	KeyID     string
	EventName string
	ErrorCode string // "" when the call worked
}

func (c *Config) defaults() {
	if c.Parent == "" {
		c.Parent = "."
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Title == "" {
		c.Title = "keyleak"
	}
	if c.LookupRate <= 0 {
		c.LookupRate, c.LookupBurst = 2, 1
	}
	if c.LookupBurst <= 0 {
		c.LookupBurst = 1
	}
	if c.VerifyEvery <= 0 {
		c.VerifyEvery = 10 * time.Second
	}
	if len(c.VerifyFor) == 0 {
		c.VerifyFor = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour}
	}
	if c.AttackerEvery <= 0 {
		c.AttackerEvery = 500 * time.Millisecond
	}
}
