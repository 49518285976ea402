package assess_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// history is a synthetic investigation: a workload calling every hour for
// three days from one address, then an attacker from elsewhere who makes
// a session token and uses it.
type history struct {
	t0  time.Time
	inv *trail.Investigation
	n   int
}

const leakedKey, sessionKey = "AKIAAAAAAAAAAAAAAAAA", "ASIABBBBBBBBBBBBBBBB"

func newHistory(t *testing.T) *history {
	h := &history{t0: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	h.inv = &trail.Investigation{Key: leakedKey, Keys: []trail.KeyLink{{AccessKeyID: leakedKey}}}
	for i := range 72 {
		h.add(t, leakedKey, time.Duration(i)*time.Hour, "sts.amazonaws.com", "GetCallerIdentity", "52.14.88.201", "aws-cli/2.15.10 Python/3.11.6", nil)
	}
	return h
}

func (h *history) add(t *testing.T, key string, at time.Duration, source, name, ip, ua string, fields map[string]any) string {
	h.n++
	f := map[string]any{"eventID": fmt.Sprintf("ev-%04d", h.n), "eventTime": h.t0.Add(at).Format(time.RFC3339),
		"sourceIPAddress": ip, "userAgent": ua,
		"userIdentity": map[string]any{"type": "IAMUser", "userName": "ci", "accessKeyId": key}}
	for k, v := range fields {
		f[k] = v
	}
	h.inv.Events = append(h.inv.Events, record(t, source, name, f))
	return f["eventID"].(string)
}

func (h *history) attack(t *testing.T) (attackerIDs, workloadIDs []string) {
	at := 80 * time.Hour
	bot, ua := "45.155.205.233", "Boto3/1.28.57 Botocore/1.31.57"
	attackerIDs = append(attackerIDs, h.add(t, leakedKey, at, "iam.amazonaws.com", "ListUsers", bot, ua, nil))
	attackerIDs = append(attackerIDs, h.add(t, leakedKey, at+time.Minute, "iam.amazonaws.com", "CreateUser", bot, ua,
		map[string]any{"requestParameters": map[string]any{"userName": "backup-admin"}, "responseElements": map[string]any{"user": map[string]any{"userName": "backup-admin"}}}))
	tok := h.add(t, leakedKey, at+2*time.Minute, "sts.amazonaws.com", "GetSessionToken", bot, ua,
		map[string]any{"responseElements": map[string]any{"credentials": map[string]any{"accessKeyId": sessionKey}}})
	attackerIDs = append(attackerIDs, tok)
	h.inv.Keys = append(h.inv.Keys, trail.KeyLink{AccessKeyID: sessionKey, Parent: leakedKey, Via: "GetSessionToken", EventID: tok})
	// The session is used from the workload's own address: it is still the
	// attacker's, because the attacker made it.
	attackerIDs = append(attackerIDs, h.add(t, sessionKey, at+3*time.Minute, "ec2.amazonaws.com", "DescribeInstances", "52.14.88.201", ua, nil))
	// The workload keeps going after the leak.
	workloadIDs = append(workloadIDs, h.add(t, leakedKey, at+4*time.Minute, "sts.amazonaws.com", "GetCallerIdentity", "52.14.88.201", "aws-cli/2.15.10 Python/3.11.6", nil))
	return attackerIDs, workloadIDs
}

func verdict(t *testing.T, a *assess.Assessment, id string) assess.EventAssessment {
	t.Helper()
	ea, ok := a.Event(id)
	if !ok {
		t.Fatalf("no assessment of event %s", id)
	}
	return ea
}

func TestAssessInfersLeakAndSeparatesWorkload(t *testing.T) {
	h := newHistory(t)
	attacker, workload := h.attack(t)
	a, err := assess.Assess(h.inv, assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Leak.Inferred || !a.Leak.Time.Equal(h.t0.Add(80*time.Hour)) {
		t.Errorf("leak %+v, want inferred at the first attacker call %s", a.Leak, h.t0.Add(80*time.Hour))
	}
	if !strings.Contains(a.Leak.Reason, "45.155.205.233") {
		t.Errorf("leak reason %q does not say which source", a.Leak.Reason)
	}
	// The reason in parts, for reports in any language.
	if len(a.Leak.Clues) == 0 || a.Leak.Clues[0].SourceIP != "45.155.205.233" || !a.Leak.Clues[0].Time.Equal(a.Leak.Time) {
		t.Errorf("leak clues %+v, want the first from 45.155.205.233 at the leak time", a.Leak.Clues)
	}
	for _, id := range attacker {
		if ea := verdict(t, a, id); ea.Verdict != assess.Attacker {
			t.Errorf("attacker event %s: %s %v", id, ea.Verdict, ea.Reasons)
		}
	}
	for _, id := range workload {
		if ea := verdict(t, a, id); ea.Verdict != assess.Legitimate {
			t.Errorf("workload event %s after the leak: %s %v", id, ea.Verdict, ea.Reasons)
		}
	}
	if a.Counts.Attacker != len(attacker) || a.Counts.Legitimate != 72+len(workload) {
		t.Errorf("counts %+v", a.Counts)
	}
	if len(a.Keys) != 2 || a.Keys[1].Owner != assess.Attacker {
		t.Errorf("key owners %+v, want the session owned by the attacker", a.Keys)
	}
	if len(a.Resources) != 1 || a.Resources[0].Type != resource.TypeUser || a.Resources[0].ID != "backup-admin" || a.Resources[0].Verdict != assess.Attacker {
		t.Errorf("resources %+v, want the backdoor user", a.Resources)
	}
	if ea := verdict(t, a, attacker[1]); ea.Severity != assess.SeverityHigh || ea.Flags[0] != "persist.create-user" || ea.Technique != "T1136.003" || ea.Tactic != "persistence" {
		t.Errorf("CreateUser: %+v", ea)
	}
}

func TestAssessQuarantineIsTheEarliestClue(t *testing.T) {
	h := newHistory(t)
	h.attack(t)
	q := record(t, "iam.amazonaws.com", "AttachUserPolicy", map[string]any{
		"eventID": "quarantine", "eventTime": h.t0.Add(79 * time.Hour).Format(time.RFC3339),
		"sourceIPAddress": "AWS Internal", "userIdentity": map[string]any{"type": "AWSService", "invokedBy": "AWS Internal"},
		"requestParameters": map[string]any{"userName": "ci", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}})
	a, err := assess.Assess(h.inv, assess.Options{Context: []trail.Event{q}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Leak.Time.Equal(h.t0.Add(79*time.Hour)) || !a.Leak.DetectedAt.Equal(h.t0.Add(79*time.Hour)) ||
		!strings.Contains(a.Leak.DetectedBy, "AWSCompromisedKeyQuarantineV2") || !strings.Contains(a.Leak.Reason, "quarantine") {
		t.Errorf("leak %+v, want the quarantine time", a.Leak)
	}
	if a.Leak.QuarantinePolicy != "AWSCompromisedKeyQuarantineV2" || a.Leak.QuarantinedUser != "ci" ||
		len(a.Leak.Clues) == 0 || a.Leak.Clues[0].Kind != assess.ClueQuarantine || a.Leak.Clues[0].Policy != "AWSCompromisedKeyQuarantineV2" {
		t.Errorf("quarantine not structured: %+v", a.Leak)
	}
	// A quarantine of another user says nothing about this key.
	q2 := record(t, "iam.amazonaws.com", "AttachUserPolicy", map[string]any{
		"eventTime":         h.t0.Add(10 * time.Hour).Format(time.RFC3339),
		"requestParameters": map[string]any{"userName": "someone-else", "policyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}})
	a, err = assess.Assess(h.inv, assess.Options{Context: []trail.Event{q2}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Leak.DetectedAt.IsZero() {
		t.Errorf("another user's quarantine was taken for this key's: %+v", a.Leak)
	}
}

func TestAssessLeakedAtGiven(t *testing.T) {
	h := newHistory(t)
	h.attack(t)
	// Given a leak time before the whole history, every call is judged on
	// its own: with no baseline, the workload's calls are new sources too.
	a, err := assess.Assess(h.inv, assess.Options{LeakedAt: h.t0.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Leak.Inferred || a.Leak.Reason != "given with --leaked-at" || a.Baseline.Events != 0 {
		t.Errorf("leak %+v baseline %+v", a.Leak, a.Baseline)
	}
	if a.Counts.Legitimate != 0 {
		t.Errorf("counts %+v: without a baseline nothing can be matched to the workload", a.Counts)
	}
	// Given at the attack, the workload's history is the baseline.
	a, err = assess.Assess(h.inv, assess.Options{LeakedAt: h.t0.Add(80 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if a.Baseline.Events != 72 || len(a.Baseline.IPs) != 1 || a.Baseline.UserAgents[0] != "aws-cli/2" {
		t.Errorf("baseline %+v", a.Baseline)
	}
}

func TestAssessNoSignOfLeak(t *testing.T) {
	h := newHistory(t)
	a, err := assess.Assess(h.inv, assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Leak.Time.IsZero() || !strings.Contains(a.Leak.Reason, "--leaked-at") || a.Counts.Legitimate != 72 {
		t.Errorf("leak %+v counts %+v", a.Leak, a.Counts)
	}
}

func TestResultAndFindings(t *testing.T) {
	h := newHistory(t)
	attacker, _ := h.attack(t)
	a, err := assess.Assess(h.inv, assess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Result(h.inv, nil)
	if len(r.Events) != len(h.inv.Events) || len(r.Result.Events) != len(h.inv.Events) {
		t.Fatalf("result has %d events, want %d", len(r.Events), len(h.inv.Events))
	}
	flagged := 0
	for i, e := range r.Events {
		if e.Verdict == "" || e.Reasons == nil || e.Flags == nil {
			t.Errorf("event %d: %+v", i, e)
		}
		if len(r.Result.Events[i].Flags) > 0 {
			flagged++
		}
	}
	if flagged == 0 || len(r.Result.Resources) != 1 || len(r.Rules) == 0 {
		t.Errorf("trail result not filled: %d flagged, resources %+v, rules %d", flagged, r.Result.Resources, len(r.Rules))
	}
	f := a.Findings(h.inv, nil, h.t0)
	if len(f.Events) != len(attacker) || !reflect.DeepEqual(f.Leak, a.Leak) {
		t.Errorf("findings: %d events (want %d), leak %+v", len(f.Events), len(attacker), f.Leak)
	}
}
