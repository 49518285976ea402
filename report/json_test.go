package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	m := fixtureModel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, m); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	raw := buf.String()
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("WriteJSON wrote invalid JSON:\n%s", raw)
	}
	if !strings.HasPrefix(raw, `{"schemaVersion":1,`) {
		t.Errorf("document does not open with the schema version: %.40s", raw)
	}
	if strings.Contains(raw, "IQoJb3JpZ2lu") || strings.Contains(raw, exampleSecret) {
		t.Error("JSON holds a secret")
	}

	d, err := ReadJSON(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	if !reflect.DeepEqual(d.Case, m.Case) {
		t.Errorf("case changed:\n got %+v\nwant %+v", d.Case, m.Case)
	}
	want := fixtureEvents()
	if len(d.Events) != len(want) {
		t.Fatalf("%d events read back, want %d", len(d.Events), len(want))
	}
	for i := range want {
		w := want[i]
		if w.Raw != nil {
			// The raw record comes back masked: same record, secrets gone.
			w.Raw = MaskJSON(w.Raw)
			var rec map[string]any
			if err := json.Unmarshal(d.Events[i].Raw, &rec); err != nil {
				t.Errorf("masked raw record is not JSON: %v", err)
			}
		}
		if !reflect.DeepEqual(d.Events[i], w) {
			t.Errorf("event %d changed:\n got %+v\nwant %+v", i, d.Events[i], w)
		}
	}
	for name, pair := range map[string][2]any{
		"keys": {d.Keys, m.Keys}, "actions": {d.Actions, m.Actions}, "resources": {d.Resources, m.Resources},
		"coverage": {d.Coverage, m.Coverage}, "guardDuty": {d.GuardDuty, m.GuardDuty}, "findings": {d.Findings, m.Findings},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s changed:\n got %+v\nwant %+v", name, pair[0], pair[1])
		}
	}
	s := ComputeStats(m.Events)
	if d.Summary.Events != s.Events || d.Summary.Attacker() != s.Attacker() || len(d.Summary.Histogram) != len(s.Histogram) {
		t.Errorf("summary changed: %+v", d.Summary)
	}
	if !reflect.DeepEqual(d.RemainingWork, RemainingWork(m, s)) || !reflect.DeepEqual(d.Recommendations, Recommendations(m, s)) {
		t.Error("derived lists differ from the builders'")
	}

	// The document renders again: the same Markdown as from the model.
	var again, orig bytes.Buffer
	if err := WriteMarkdown(&again, d.Model(), MarkdownOptions{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&orig, m, MarkdownOptions{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if again.String() != orig.String() {
		t.Errorf("Markdown from the JSON differs from the model's\n%s", firstDiff(orig.String(), again.String()))
	}
}

func TestJSONEmptyModel(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &Model{Case: Case{KeyID: leakedKey}}); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"events", "keys", "actions", "resources", "coverage", "findings"} {
		if arr, ok := v[k].([]any); !ok || len(arr) != 0 {
			t.Errorf("%s = %v, want []", k, v[k])
		}
	}
	if v["schemaVersion"] != float64(1) {
		t.Errorf("schemaVersion = %v", v["schemaVersion"])
	}
}

func TestReadJSONRejectsOtherSchema(t *testing.T) {
	if _, err := ReadJSON(strings.NewReader(`{"schemaVersion":2}`)); err == nil || !strings.Contains(err.Error(), "schema version 2") {
		t.Errorf("err = %v", err)
	}
	if _, err := ReadJSON(strings.NewReader(`{"schemaVersion":`)); err == nil {
		t.Error("truncated JSON accepted")
	}
}

func TestJSONStreamsEvents(t *testing.T) {
	// With Stats given, WriteJSON ranges over the events exactly once.
	passes := 0
	m := fixtureModel()
	m.Stats = ComputeStats(m.Events)
	m.Events = countingSeq(fixtureEvents(), &passes)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	if passes != 1 {
		t.Errorf("events ranged over %d times, want 1", passes)
	}
	lines := strings.Split(buf.String(), "\n")
	n := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, `{"eventID":`) })
	if n < 0 || !strings.HasPrefix(lines[n+11], `{"eventID":`) {
		t.Error("events are not one per line")
	}
}
