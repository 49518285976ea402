package reporttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// CheckTimesketch fails unless data is a Timesketch JSONL timeline of n
// events: one JSON object a line with the three fields Timesketch needs.
func CheckTimesketch(t testing.TB, data []byte, n int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	lines := 0
	for sc.Scan() {
		lines++
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d is not a JSON object: %v", lines, err)
		}
		for _, f := range []string{"message", "datetime", "timestamp_desc"} {
			if s, _ := line[f].(string); s == "" {
				t.Errorf("line %d has no %s: %s", lines, f, sc.Text())
			}
		}
		dt, _ := line["datetime"].(string)
		if _, err := time.Parse(time.RFC3339Nano, dt); err != nil {
			t.Errorf("line %d datetime %q is not ISO 8601: %v", lines, dt, err)
		}
		if _, ok := line["timestamp"].(float64); !ok {
			t.Errorf("line %d has no numeric timestamp", lines)
		}
	}
	if lines != n {
		t.Errorf("%d lines, want one per event (%d)", lines, n)
	}
}

// CheckOCSF fails unless data is a JSON array of n OCSF API Activity
// records with every required attribute; it returns them.
func CheckOCSF(t testing.TB, data []byte, n int) []map[string]any {
	t.Helper()
	var recs []map[string]any
	if err := json.Unmarshal(data, &recs); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(recs) != n {
		t.Errorf("%d records, want one per event (%d)", len(recs), n)
	}
	obj := func(r map[string]any, k string) map[string]any {
		o, _ := r[k].(map[string]any)
		return o
	}
	// requires checks the required attributes of an object, and that it
	// has at least one of atLeastOne (the schema's constraints).
	requires := func(i int, path string, o map[string]any, required []string, atLeastOne []string) {
		if o == nil {
			t.Errorf("record %d has no %s", i, path)
			return
		}
		for _, k := range required {
			if v, ok := o[k]; !ok || v == nil || v == "" {
				t.Errorf("record %d: %s.%s is required", i, path, k)
			}
		}
		if len(atLeastOne) > 0 && !slices.ContainsFunc(atLeastOne, func(k string) bool { _, ok := o[k]; return ok }) {
			t.Errorf("record %d: %s needs one of %v", i, path, atLeastOne)
		}
	}
	for i, r := range recs {
		requires(i, "record", r, []string{"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time",
			"metadata", "actor", "api", "src_endpoint", "cloud"}, nil)
		requires(i, "metadata", obj(r, "metadata"), []string{"product", "version"}, nil)
		requires(i, "metadata.product", obj(obj(r, "metadata"), "product"), nil, []string{"name", "uid"})
		requires(i, "actor", obj(r, "actor"), nil, []string{"process", "user", "iam_role", "invoked_by", "session", "app_name", "app_uid"})
		if u := obj(obj(r, "actor"), "user"); u != nil {
			requires(i, "actor.user", u, nil, []string{"account", "name", "uid"})
		}
		requires(i, "api", obj(r, "api"), []string{"operation"}, nil)
		requires(i, "src_endpoint", obj(r, "src_endpoint"), nil, []string{"ip", "uid", "name", "hostname", "svc_name", "instance_uid", "interface_uid", "interface_name", "domain"})
		requires(i, "cloud", obj(r, "cloud"), []string{"provider"}, nil)
		act, _ := r["activity_id"].(float64)
		if !slices.Contains([]float64{0, 1, 2, 3, 4, 99}, act) {
			t.Errorf("record %d: activity_id %v is not API Activity's", i, act)
		}
		if r["category_uid"] != float64(6) || r["class_uid"] != float64(6003) || r["type_uid"] != 600300+act {
			t.Errorf("record %d: category %v class %v type %v", i, r["category_uid"], r["class_uid"], r["type_uid"])
		}
		if sev, _ := r["severity_id"].(float64); sev < 0 || (sev > 6 && sev != 99) {
			t.Errorf("record %d: severity_id %v", i, sev)
		}
		if st, _ := r["status_id"].(float64); !slices.Contains([]float64{0, 1, 2, 99}, st) {
			t.Errorf("record %d: status_id %v", i, st)
		}
		if ts, _ := r["time"].(float64); ts < 1e12 {
			t.Errorf("record %d: time %v is not in milliseconds", i, ts)
		}
	}
	return recs
}
