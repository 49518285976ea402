package assess

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/keyleak/keyleak/trail"
)

//go:embed actors/*.yaml
var builtinActors embed.FS

// Actor is a threat actor, or a family of tools, with the CloudTrail
// indicators public research attributes to it. The catalog (actors/*.yaml)
// is kept apart from the rules: a rule says what a call does, an indicator
// whose tradecraft it resembles, on the cited research's word.
type Actor struct {
	ID         string      `yaml:"id" json:"id"`
	Name       string      `yaml:"name" json:"name"`
	Type       string      `yaml:"type" json:"type"` // group or tool-family
	Aliases    []string    `yaml:"aliases,omitempty" json:"aliases,omitempty"`
	Reported   string      `yaml:"reported" json:"reported"` // by whom and when
	References []string    `yaml:"references" json:"references"`
	Indicators []Indicator `yaml:"indicators" json:"-"`
}

// Indicator is one sign public research attributes to an actor.
type Indicator struct {
	ID          string    `yaml:"id"`
	Kind        string    `yaml:"kind"` // one of indicatorKinds
	Tactic      string    `yaml:"tactic"`
	Technique   string    `yaml:"technique"`
	Explanation string    `yaml:"explanation"`
	References  []string  `yaml:"references"`
	Match       Match     `yaml:"match"`
	Sequence    *Sequence `yaml:"sequence,omitempty"`
}

// indicatorKinds are what an indicator looks at.
var indicatorKinds = []string{"user-agent", "user-name", "group-name", "account-id", "call-pattern"}

// ActorRef is what a rule made from an indicator says about its actor.
type ActorRef struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Aliases    []string `json:"aliases,omitempty"`
	Indicator  string   `json:"indicator"`
	Kind       string   `json:"kind"`
	Reported   string   `json:"reported"`
	References []string `json:"references"`
}

// Actors returns the built-in threat-actor catalog.
func Actors() ([]Actor, error) {
	entries, err := fs.ReadDir(builtinActors, "actors")
	if err != nil {
		return nil, fmt.Errorf("read built-in actors: %w", err)
	}
	var out []Actor
	for _, e := range entries {
		b, err := fs.ReadFile(builtinActors, "actors/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read built-in actors: %w", err)
		}
		as, err := parseActors("actors/"+e.Name(), b)
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// parseActors reads one actors file: {actors: [...]}, unknown fields refused.
func parseActors(source string, data []byte) ([]Actor, error) {
	var doc struct {
		Actors []Actor `yaml:"actors"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse actors %s: %w", source, err)
	}
	for _, a := range doc.Actors {
		if !ruleIDPattern.MatchString(a.ID) || a.Name == "" || a.Reported == "" || len(a.References) == 0 {
			return nil, fmt.Errorf("check actors %s: actor %q needs an id, a name, who reported it and references", source, a.ID)
		}
		if a.Type != "group" && a.Type != "tool-family" {
			return nil, fmt.Errorf("check actors %s: actor %s: type %q, want group or tool-family", source, a.ID, a.Type)
		}
		for _, ref := range a.References {
			if !strings.HasPrefix(ref, "https://") {
				return nil, fmt.Errorf("check actors %s: actor %s: reference %q is not an https URL", source, a.ID, ref)
			}
		}
		for _, ind := range a.Indicators {
			if !slices.Contains(indicatorKinds, ind.Kind) {
				return nil, fmt.Errorf("check actors %s: indicator %s.%s: kind %q, want one of %s", source, a.ID, ind.ID, ind.Kind, strings.Join(indicatorKinds, ", "))
			}
		}
	}
	return doc.Actors, nil
}

// rules turns an actor's indicators into rules of the threat-actor
// category. They weigh nothing in verdicts (severity info): the calls are
// judged by the rules that say what they do; the indicator says whose
// tradecraft they resemble.
func (a Actor) rules(source string) ([]*Rule, error) {
	var out []*Rule
	for _, ind := range a.Indicators {
		r := &Rule{
			ID:        "actor." + a.ID + "." + ind.ID,
			Tactic:    ind.Tactic,
			Category:  "threat-actor",
			Severity:  SeverityInfo,
			Technique: ind.Technique,
			Explanation: fmt.Sprintf("%s Public research attributes this to %s (%s).",
				strings.TrimSpace(ind.Explanation), a.Name, a.Reported),
			Action:   fmt.Sprintf("Read the cited research on %s and check the account for the rest of its reported playbook.", a.Name),
			Match:    ind.Match,
			Sequence: ind.Sequence,
			Actor: &ActorRef{ID: a.ID, Name: a.Name, Type: a.Type, Aliases: a.Aliases, Indicator: ind.ID, Kind: ind.Kind,
				Reported: a.Reported, References: append(slices.Clone(a.References), ind.References...)},
			source: source,
		}
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("check actors %s: indicator %q: %w", source, r.ID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ActorMatch is an actor's indicator that matched events of the
// investigation, for the reports.
type ActorMatch struct {
	Actor      ActorRef  `json:"actor"`
	RuleID     string    `json:"ruleId"`
	Technique  string    `json:"technique"`
	Events     int       `json:"events"`
	Attacker   int       `json:"attacker"` // of those, judged the attacker's
	First      time.Time `json:"first,omitzero"`
	Last       time.Time `json:"last,omitzero"`
	EventIDs   []string  `json:"eventIDs"` // at most maxActorEvents, oldest first
	Explaining string    `json:"explanation"`
}

const maxActorEvents = 20

// actorMatches collects the threat-actor indicators that matched, in rule
// ID order.
func actorMatches(events []*trail.Event, order []int, matched [][]*Rule, verdicts []EventAssessment) []ActorMatch {
	by := map[string]*ActorMatch{}
	for _, i := range order {
		for _, r := range matched[i] {
			if r.Actor == nil {
				continue
			}
			m := by[r.ID]
			if m == nil {
				m = &ActorMatch{Actor: *r.Actor, RuleID: r.ID, Technique: r.Technique, Explaining: r.Explanation, EventIDs: []string{}}
				by[r.ID] = m
			}
			e := events[i]
			m.Events++
			if verdicts[i].Verdict == Attacker {
				m.Attacker++
			}
			if !e.EventTime.IsZero() {
				if m.First.IsZero() || e.EventTime.Before(m.First) {
					m.First = e.EventTime
				}
				if e.EventTime.After(m.Last) {
					m.Last = e.EventTime
				}
			}
			if len(m.EventIDs) < maxActorEvents {
				m.EventIDs = append(m.EventIDs, e.EventID)
			}
		}
	}
	out := make([]ActorMatch, 0, len(by))
	for _, m := range by {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RuleID < out[j].RuleID })
	return out
}
