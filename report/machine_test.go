package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/report/reporttest"
)

// Timesketch imports a JSONL timeline whose every line has message,
// datetime (ISO 8601) and timestamp_desc (its documentation, "Create
// timeline from JSON/JSONL/CSV file"); the rest are searchable fields.
func TestTimesketchLinesHaveTheRequiredFields(t *testing.T) {
	m := report.FixtureModel()
	var buf bytes.Buffer
	if err := report.WriteTimesketch(&buf, m); err != nil {
		t.Fatal(err)
	}
	reporttest.CheckTimesketch(t, buf.Bytes(), report.FixtureEvents)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var run map[string]any
	if err := json.Unmarshal([]byte(lines[6]), &run); err != nil {
		t.Fatal(err)
	}
	if run["event_name"] != "RunInstances" || run["verdict"] != "attacker" || run["key_chain"] != "AKIA5EXAMPLELEAK0001 → ASIA5EXAMPLESESS0001" ||
		run["mitre_technique"] != "T1496" || run["datetime"] != "2024-05-01T10:25:10Z" || run["timestamp"] != float64(report.FixtureAt("10:25:10").UnixMicro()) {
		t.Errorf("RunInstances line = %v", run)
	}
	if msg, _ := run["message"].(string); !strings.Contains(msg, "ec2:RunInstances") || !strings.Contains(msg, "203.0.113.8") {
		t.Errorf("message %q does not say what happened", msg)
	}
}

// The OCSF records carry every attribute the schema requires of API
// Activity (class 6003) and of the objects in it, with values from its
// enums (ocsf-schema: events/base_event.json, events/application/
// api_activity.json, profiles/cloud.json, objects/metadata.json,
// product.json, actor.json, user.json, api.json, network_endpoint.json,
// cloud.json).
func TestOCSFRecordsFollowTheSchema(t *testing.T) {
	m := report.FixtureModel()
	var buf bytes.Buffer
	if err := report.WriteOCSF(&buf, m); err != nil {
		t.Fatal(err)
	}
	recs := reporttest.CheckOCSF(t, buf.Bytes(), report.FixtureEvents)
	byOp := map[string]map[string]any{}
	for _, r := range recs {
		byOp[r["api"].(map[string]any)["operation"].(string)] = r
	}
	for op, want := range map[string]float64{"CreateUser": 1, "ListUsers": 2, "RunInstances": 1, "GetSessionToken": 2} {
		if got := byOp[op]["activity_id"]; got != want {
			t.Errorf("%s activity_id = %v, want %v", op, got, want)
		}
	}
	di := byOp["DescribeInstances"]
	if di["status_id"] != float64(2) || di["status_code"] != "AuthFailure" {
		t.Errorf("failed call = %v", di)
	}
	cu := byOp["CreateUser"]
	if cu["severity_id"] != float64(5) || cu["time"] != float64(report.FixtureAt("10:19:12").UnixMilli()) {
		t.Errorf("CreateUser = %v", cu)
	}
}
