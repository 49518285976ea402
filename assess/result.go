package assess

import (
	"slices"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// Result is the investigation's JSON (`keyleak investigate -o json`) with
// the assessment: trail.Result's fields, every event with its verdict and
// flags, the resources with their live state, the leak time and the rules
// that fired. Slices are never null.
type Result struct {
	trail.Result
	Leak     Leak            `json:"leak"`
	Baseline Baseline        `json:"baseline"`
	Counts   Counts          `json:"counts"`
	KeyOwner []KeyAssessment `json:"keyOwners"`
	// Events and Resources replace trail.Result's fields of the same name.
	Events    []EventResult `json:"events"`
	Resources []Resource    `json:"resources"`
	Rules     []Rule        `json:"rules"` // the rules that fired, with explanation and action
	// Actors are the threat-actor indicators that matched.
	Actors    []ActorMatch     `json:"actors"`
	GuardDuty *GuardDutyResult `json:"guardduty,omitempty"`
	// Secrets are what the keys read that must be rotated.
	Secrets []SecretRead `json:"secretsRead"`
}

// EventResult is one event of the Result: the trail's summary (with Flags
// filled) and the verdict.
type EventResult struct {
	trail.EventSummary
	Verdict   Verdict  `json:"verdict"`
	Score     int      `json:"score"`
	Severity  Severity `json:"severity"`
	Tactic    string   `json:"tactic,omitempty"`
	Category  string   `json:"category,omitempty"`
	Technique string   `json:"technique,omitempty"`
	Reasons   []string `json:"reasons"`
}

// Fill writes the assessment into a trail.Result in place: each event's
// Flags (rule IDs) and the Resources, for callers that keep trail's JSON
// shape.
func (a *Assessment) Fill(r *trail.Result) {
	for i := range r.Events {
		if ea, ok := a.Event(r.Events[i].EventID); ok {
			r.Events[i].Flags = slices.Clone(ea.Flags)
		}
	}
	r.Resources = make([]trail.Resource, 0, len(a.Resources))
	for _, res := range a.Resources {
		r.Resources = append(r.Resources, trail.Resource{Type: res.Type, ID: res.ID, Region: res.Region,
			CreatedBy: res.CreatedBy, EventID: res.EventID, State: res.State})
	}
}

// Result returns the investigation's result with the assessment; gd may be
// nil when GuardDuty was not searched.
func (a *Assessment) Result(inv *trail.Investigation, gd *GuardDutyResult) Result {
	base := inv.Result()
	a.Fill(&base)
	out := Result{
		Result:    base,
		Leak:      a.Leak,
		Baseline:  a.Baseline,
		Counts:    a.Counts,
		KeyOwner:  a.Keys,
		Events:    make([]EventResult, 0, len(base.Events)),
		Resources: a.Resources,
		Rules:     a.firedRules(),
		Actors:    a.Actors,
		GuardDuty: gd,
		Secrets:   a.Secrets,
	}
	if out.Secrets == nil {
		out.Secrets = []SecretRead{}
	}
	if out.Actors == nil {
		out.Actors = []ActorMatch{}
	}
	if out.KeyOwner == nil {
		out.KeyOwner = []KeyAssessment{}
	}
	for i, s := range base.Events {
		ea := a.Events[i]
		if ea.EventID != s.EventID {
			ea, _ = a.Event(s.EventID)
		}
		out.Events = append(out.Events, EventResult{EventSummary: s, Verdict: ea.Verdict, Score: ea.Score,
			Severity: ea.Severity, Tactic: ea.Tactic, Category: ea.Category, Technique: ea.Technique, Reasons: ea.Reasons})
	}
	return out
}

// firedRules are the catalog's rules that matched some event.
func (a *Assessment) firedRules() []Rule {
	fired := map[string]bool{}
	for _, e := range a.Events {
		for _, f := range e.Flags {
			fired[f] = true
		}
	}
	out := []Rule{}
	for _, r := range a.catalog.Rules() {
		if fired[r.ID] {
			out = append(out, r)
		}
	}
	return out
}

// Findings is the case's findings.json: what the responder and the report
// need without the workload's events.
type Findings struct {
	Key         string          `json:"key"`
	Account     string          `json:"account"`
	GeneratedAt time.Time       `json:"generatedAt"`
	Window      trail.Window    `json:"window"`
	Leak        Leak            `json:"leak"`
	Baseline    Baseline        `json:"baseline"`
	Counts      Counts          `json:"counts"`
	Keys        []KeyAssessment `json:"keys"`
	// Events are the events judged attacker or unclear, oldest first.
	Events []EventResult `json:"events"`
	// Judged names every event the assessment judged: an event of the case
	// outside this set was never judged (a run stopped between fetching it
	// and judging it) and is unjudged, not legitimate. nil in findings
	// written before it existed, which then cannot vouch for any event.
	Judged    *trail.EventSet  `json:"judged,omitempty"`
	Resources []Resource       `json:"resources"`
	Rules     []Rule           `json:"rules"`
	Actors    []ActorMatch     `json:"actors"`
	GuardDuty *GuardDutyResult `json:"guardduty,omitempty"`
	// Secrets are what the keys read that must be rotated.
	Secrets []SecretRead `json:"secretsRead"`
	// ResourcesCheckedAt is when the resources' states were last read
	// from AWS; zero when they never were.
	ResourcesCheckedAt time.Time `json:"resourcesCheckedAt,omitzero"`
}

// Findings returns the content of findings.json (write it with the case's
// WriteFindings).
func (a *Assessment) Findings(inv *trail.Investigation, gd *GuardDutyResult, now time.Time) Findings {
	r := a.Result(inv, gd)
	f := Findings{Key: r.Key, Account: r.Account, GeneratedAt: now.UTC(), Window: r.Window, Leak: r.Leak,
		Baseline: r.Baseline, Counts: r.Counts, Keys: r.KeyOwner, Events: []EventResult{}, Resources: r.Resources,
		Rules: r.Rules, Actors: r.Actors, GuardDuty: gd, Secrets: r.Secrets}
	judged := trail.SetOf(inv.Events)
	f.Judged = &judged
	for _, e := range r.Events {
		if e.Verdict != Legitimate {
			f.Events = append(f.Events, e)
		}
	}
	return f
}
