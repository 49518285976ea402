package caseview

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/trail"
)

func TestActionsFromJournal(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 19, 30, 0, 0, time.UTC)
	key := "AKIAIOSFODNN7EXAMPLE"
	entries := []playbook.Entry{
		{Seq: 1, Time: t0, Kind: playbook.KindNote, Message: "run started"},
		{Seq: 2, Time: t0, Kind: playbook.KindIntent, Step: "identify", Action: "sts:GetCallerIdentity"},
		{Seq: 3, Time: t0, Kind: playbook.KindOutcome, Step: "identify", Action: "sts:GetCallerIdentity"},
		{Seq: 4, Time: t0.Add(time.Second), Kind: playbook.KindOutcome, Step: playbook.StepContain, ActionID: "contain/UpdateAccessKey/" + key,
			Action: "iam:UpdateAccessKey", Caller: "arn:aws:iam::1:user/responder"},
		{Seq: 5, Time: t0.Add(2 * time.Second), Kind: playbook.KindOutcome, Step: playbook.StepRevokeSessions,
			ActionID: "revoke-sessions/PutUserPolicy/ci-deploy", Action: "iam:PutUserPolicy",
			Error: &playbook.ErrorInfo{Code: "Throttling", Message: "slow down"}},
		{Seq: 6, Time: t0.Add(3 * time.Second), Kind: playbook.KindOutcome, Step: playbook.StepRevokeSessions,
			ActionID: "revoke-sessions/PutUserPolicy/ci-deploy", Action: "iam:PutUserPolicy"},
		{Seq: 7, Time: t0.Add(4 * time.Second), Kind: playbook.KindDecision, Step: playbook.StepDeleteKey, Message: "declined: no one to confirm"},
		{Seq: 8, Time: t0.Add(5 * time.Second), Kind: playbook.KindNote, Step: "investigate", Message: "investigation: 10 events"},
		{Seq: 9, Time: t0.Add(6 * time.Second), Kind: playbook.KindNote, Message: "run finished"},
	}
	c := report.Case{KeyID: key}
	got := actions(entries, &c)
	want := []struct {
		seq                  int
		step, action, result string
	}{
		{4, "contain", "iam:UpdateAccessKey", report.ResultOK},
		{5, "revoke", "iam:PutUserPolicy", report.ResultFailed},
		{6, "revoke", "iam:PutUserPolicy", report.ResultOK},
		{7, "eradicate", "delete-key", "skipped"},
		{8, "investigate", "investigate", report.ResultOK},
	}
	if len(got) != len(want) {
		t.Fatalf("actions = %+v, want %d of them", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Seq != w.seq || g.Step != w.step || g.Action != w.action || g.Result != w.result {
			t.Errorf("action %d = %+v, want %+v", i, g, w)
		}
	}
	if got[0].Target != key || got[0].Actor != "arn:aws:iam::1:user/responder" {
		t.Errorf("contain action = %+v", got[0])
	}
	if got[1].Error != "slow down" {
		t.Errorf("failed action lost its error: %+v", got[1])
	}
	// Milestones: the first successful outcome of each.
	if !c.ContainedAt.Equal(t0.Add(time.Second)) || !c.RevokedAt.Equal(t0.Add(3*time.Second)) {
		t.Errorf("contained %v, revoked %v", c.ContainedAt, c.RevokedAt)
	}
}

func TestLoadCase(t *testing.T) {
	now := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	key := "AKIAIOSFODNN7EXAMPLE"
	c, err := playbook.CreateCase(t.TempDir(), key, now)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Events out of order on disk come out oldest first.
	rec := func(id string, at time.Time) trail.Event {
		raw, _ := json.Marshal(map[string]any{"eventID": id, "eventTime": at.Format(time.RFC3339), "eventName": "ListUsers",
			"eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1", "userIdentity": map[string]any{"accessKeyId": key}})
		e, err := trail.ParseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	events := []trail.Event{rec("b", now.Add(-time.Minute)), rec("a", now.Add(-time.Hour)), rec("c", now.Add(-time.Second))}
	if _, err := trail.AppendEventsFile(c.Path(playbook.EventsFile), events); err != nil {
		t.Fatal(err)
	}
	inv := trail.Result{Key: key, Account: "123456789012", Window: trail.Window{Since: now.Add(-90 * 24 * time.Hour), Until: now},
		Keys: []trail.KeyLink{{AccessKeyID: key}, {AccessKeyID: "ASIAIOSFODNN7EXAMPLE", Parent: key, Via: "GetSessionToken",
			Expiration: now.Add(time.Hour), MayBeValid: true}},
		Regions: []trail.SourceResult{{Region: "us-east-1", Status: trail.StateOK, Events: 3}, {Region: "af-south-1", Status: trail.StateNotEnabled},
			{Region: "eu-west-1", Status: trail.StateDenied, Error: "AccessDenied"}}}
	b, _ := json.Marshal(inv)
	if err := os.WriteFile(c.Path(casefile.InvestigationFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	// Findings carry each judged event's tactic and the threat-actor
	// indicators that matched.
	f := assess.Findings{Key: key,
		Events: []assess.EventResult{{EventSummary: trail.EventSummary{EventID: "c"}, Verdict: assess.Attacker,
			Severity: assess.SeverityLow, Tactic: "discovery", Category: "discovery", Technique: "T1087.004"}},
		Actors: []assess.ActorMatch{{Actor: assess.ActorRef{ID: "gui-vil", Name: "GUI-vil", Type: "group", Indicator: "s3-browser-iam",
			Kind: "user-agent", Reported: "Permiso", References: []string{"https://permiso.io/"}}, RuleID: "actor.gui-vil.s3-browser-iam",
			Events: 1, Attacker: 1, EventIDs: []string{"c"}, Explaining: "S3 Browser on IAM."}}}
	b, _ = json.Marshal(f)
	if err := os.WriteFile(c.Path(playbook.FindingsFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(c, Options{Now: now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for e := range m.Events {
		ids = append(ids, e.EventID)
		if e.EventID == "c" && (e.Tactic != "discovery" || e.Verdict != report.VerdictAttacker) {
			t.Errorf("event c = %+v, want the attacker's, under discovery", e)
		}
	}
	if len(m.Actors) != 1 || m.Actors[0].Actor != "GUI-vil" || m.Actors[0].Kind != "user-agent" || len(m.Actors[0].References) != 1 {
		t.Errorf("actors = %+v", m.Actors)
	}
	if len(ids) != 3 || ids[0] != "a" || ids[1] != "b" || ids[2] != "c" {
		t.Errorf("events = %v, want oldest first", ids)
	}
	if m.Case.AccountID != "123456789012" || m.Case.KeyID != key || !m.Case.Until.Equal(now) {
		t.Errorf("case = %+v", m.Case)
	}
	if len(m.Keys) != 2 || m.Keys[1].Status != "active" || m.Keys[1].ParentKeyID != key {
		t.Errorf("keys = %+v", m.Keys)
	}
	st := map[string]string{}
	for _, cv := range m.Coverage {
		st[cv.Region] = cv.Status
	}
	if st["us-east-1"] != report.CoverageOK || st["af-south-1"] != report.CoverageNotEnabled || st["eu-west-1"] != report.CoverageFailed {
		t.Errorf("coverage = %v", st)
	}
	if m.Stats == nil || m.Stats.Events != 3 {
		t.Errorf("stats = %+v", m.Stats)
	}
}

// A torn last line (a crash mid-append) is left out; the rest is read, in
// time order, as often as the writers iterate.
func TestLoadEventsTornLine(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/events.jsonl"
	lines := `{"eventID":"late","eventTime":"2026-03-01T10:00:00Z","eventName":"B"}` + "\n" +
		`{"eventID":"early","eventTime":"2026-03-01T09:00:00Z","eventName":"A"}` + "\n" +
		`{"eventID":"torn","eventTime":"2026-03-01T08:00:00Z","eventN`
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	seq, err := loadEvents(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		var ids []string
		for e := range seq {
			ids = append(ids, e.EventID)
		}
		if len(ids) != 2 || ids[0] != "early" || ids[1] != "late" {
			t.Fatalf("events = %v, want [early late]", ids)
		}
	}
}
