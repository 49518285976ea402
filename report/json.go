package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// Document is the JSON form of a report, as WriteJSON writes it and
// ReadJSON reads it. Milestones, RemainingWork and Recommendations are
// derived; ReadJSON keeps them as read.
type Document struct {
	SchemaVersion   int              `json:"schemaVersion"`
	Case            Case             `json:"case"`
	Summary         *Stats           `json:"summary"`
	Bill            *Bill            `json:"bill,omitempty"`
	SecretsRead     []SecretRead     `json:"secretsRead"`
	Events          []Event          `json:"events"`
	Keys            []DerivedKey     `json:"keys"`
	Credentials     []Credential     `json:"credentials"`
	Actions         []Action         `json:"actions"`
	Resources       []Resource       `json:"resources"`
	ResourcesReadAt time.Time        `json:"resourcesReadAt,omitzero"`
	Coverage        []Coverage       `json:"coverage"`
	GuardDuty       GuardDuty        `json:"guardDuty"`
	Findings        []Finding        `json:"findings"`
	Actors          []ActorMatch     `json:"actors"`
	Chart           *Chart           `json:"chart"`
	Milestones      []Milestone      `json:"milestones"`
	RemainingWork   []Todo           `json:"remainingWork"`
	Recommendations []Recommendation `json:"recommendations"`
	Hygiene         []HygieneItem    `json:"hygiene"`
	HygieneAt       time.Time        `json:"hygieneAt,omitzero"`
}

// WriteJSON writes the whole model with "schemaVersion": 1, one event per
// line, events streamed from the iterator. Every value is masked (see
// Mask), raw CloudTrail records included.
func WriteJSON(w io.Writer, m *Model) error {
	s := m.stats()
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var err error
	put := func(prefix string, v any) {
		if err != nil {
			return
		}
		buf.Reset()
		if err = enc.Encode(v); err != nil {
			return
		}
		_, _ = bw.WriteString(prefix)
		_, _ = bw.Write(MaskJSON(bytes.TrimRight(buf.Bytes(), "\n")))
	}
	put(`{"schemaVersion":`, SchemaVersion)
	put(",\n\"case\":", m.Case)
	put(",\n\"summary\":", s)
	if m.Bill != nil {
		put(",\n\"bill\":", m.Bill)
	}
	put(",\n\"secretsRead\":", nonNil(m.Secrets))
	_, _ = bw.WriteString(",\n\"events\":[")
	n := 0
	for ev := range m.eventsOf() {
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		put(sep, ev)
		if err != nil {
			return fmt.Errorf("write json: encode event %s: %w", ev.EventID, err)
		}
		n++
	}
	if n > 0 {
		_, _ = bw.WriteString("\n")
	}
	_, _ = bw.WriteString("]")
	put(",\n\"keys\":", nonNil(m.Keys))
	put(",\n\"credentials\":", nonNil(CredentialsOf(m)))
	put(",\n\"actions\":", nonNil(m.Actions))
	put(",\n\"resources\":", nonNil(m.Resources))
	if !m.ResourcesReadAt.IsZero() {
		put(",\n\"resourcesReadAt\":", m.ResourcesReadAt.UTC())
	}
	put(",\n\"coverage\":", nonNil(m.Coverage))
	put(",\n\"guardDuty\":", m.GuardDuty)
	put(",\n\"findings\":", nonNil(m.Findings))
	put(",\n\"actors\":", nonNil(m.Actors))
	if m.Chart != nil {
		// Computing it takes a pass over the events; the document has it
		// when the model does (caseview computes it once for every writer).
		put(",\n\"chart\":", m.Chart)
	}
	put(",\n\"milestones\":", nonNil(Milestones(m, s)))
	put(",\n\"remainingWork\":", nonNil(RemainingWork(m, s)))
	put(",\n\"recommendations\":", nonNil(Recommendations(m, s)))
	put(",\n\"hygiene\":", nonNil(m.Hygiene))
	if !m.HygieneAt.IsZero() {
		put(",\n\"hygieneAt\":", m.HygieneAt.UTC())
	}
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	_, _ = bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// nonNil makes an absent list an empty JSON array rather than null, so
// consumers need not tell the two apart.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ReadJSON reads a document WriteJSON wrote. The events are held in memory.
func ReadJSON(r io.Reader) (*Document, error) {
	var d Document
	dec := json.NewDecoder(r)
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	if d.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("read json report: schema version %d, want %d", d.SchemaVersion, SchemaVersion)
	}
	return &d, nil
}

// Model rebuilds the report model from the document, so that a JSON
// report can be rendered again as a workbook or Markdown.
func (d *Document) Model() *Model {
	return &Model{
		Case:            d.Case,
		Events:          slices.Values(d.Events),
		Stats:           d.Summary,
		Keys:            d.Keys,
		Credentials:     d.Credentials,
		Actions:         d.Actions,
		Resources:       d.Resources,
		ResourcesReadAt: d.ResourcesReadAt,
		Actors:          d.Actors,
		Chart:           d.Chart,
		Coverage:        d.Coverage,
		GuardDuty:       d.GuardDuty,
		Findings:        d.Findings,
		Hygiene:         d.Hygiene,
		HygieneAt:       d.HygieneAt,
		Bill:            d.Bill,
		Secrets:         d.SecretsRead,
	}
}
