package trail_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail/trailtest"
)

// TestResultJSON pins the shape `keyleak investigate -o json` prints.
func TestResultJSON(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	t0 := sweepNow.Add(-time.Hour)
	if err := ct.AddRecord("us-east-1", rec(t, "gst", leaked, "GetSessionToken", "us-east-1", t0,
		map[string]any{"credentials": map[string]any{"accessKeyId": session, "expiration": "2025-03-02T00:00:00Z"}}, nil)); err != nil {
		t.Fatal(err)
	}
	fill(t, ct, "eu-west-1", session, 2)
	inv, err := virtualSweep(ct, listRegions(t, "af-south-1"), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow)).
		Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(inv.Result())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Key     string `json:"key"`
		Account string `json:"account"`
		Window  struct {
			Since, Until time.Time
		} `json:"window"`
		Keys      []map[string]any `json:"keys"`
		Regions   []map[string]any `json:"regions"`
		Events    []map[string]any `json:"events"`
		Resources []any            `json:"resources"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"key", "account", "window", "keys", "regions", "events", "resources"} {
		if _, ok := top[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	if string(top["resources"]) != "[]" {
		t.Errorf("resources = %s, want []", top["resources"])
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Key != leaked || got.Account != "111122223333" || !got.Window.Until.Equal(sweepNow) {
		t.Errorf("result = %s", b)
	}
	if len(got.Keys) != 2 || got.Keys[1]["accessKeyId"] != session || got.Keys[1]["parent"] != leaked ||
		got.Keys[1]["via"] != "GetSessionToken" || got.Keys[1]["eventID"] != "gst" ||
		got.Keys[1]["expiration"] != "2025-03-02T00:00:00Z" || got.Keys[1]["mayBeValid"] != true {
		t.Errorf("keys = %v", got.Keys)
	}
	wantEventKeys := []string{"accessKeyId", "errorCode", "eventID", "eventName", "eventSource", "eventTime", "flags",
		"readOnly", "region", "sourceIPAddress", "userAgent", "userName"}
	if len(got.Events) != 3 {
		t.Fatalf("%d events", len(got.Events))
	}
	for _, e := range got.Events {
		var keys []string
		for k := range e {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantEventKeys) {
			t.Errorf("event keys %v", keys)
		}
		if flags, ok := e["flags"].([]any); !ok || len(flags) != 0 {
			t.Errorf("flags = %v, want []", e["flags"])
		}
	}
	for _, r := range got.Regions {
		for _, k := range []string{"region", "status", "events", "pages", "throttled", "error"} {
			if _, ok := r[k]; !ok {
				t.Errorf("region %v lacks %q", r, k)
			}
		}
		if r["region"] == "af-south-1" && r["status"] != "not enabled" {
			t.Errorf("af-south-1 = %v", r)
		}
	}
}
