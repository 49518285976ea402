package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func markdown(t *testing.T, m *Model, lang string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, m, MarkdownOptions{Lang: lang}); err != nil {
		t.Fatalf("WriteMarkdown(%s): %v", lang, err)
	}
	return buf.String()
}

func TestMarkdownGolden(t *testing.T) {
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			got := markdown(t, fixtureModel(), lang)
			path := filepath.Join("testdata", "report."+lang+".md.golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test ./report -run TestMarkdownGolden -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s report differs from %s; rerun with -update if the change is intended\n%s", lang, path, firstDiff(string(want), got))
			}
		})
	}
}

// firstDiff shows the first differing line, enough to see what changed.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + itoa(i+1) + ":\nwant: " + wl + "\n got: " + gl
		}
	}
	return ""
}

func itoa(n int) string { return num(n) }

func TestMarkdownContent(t *testing.T) {
	m := fixtureModel()
	for _, lang := range Languages {
		md := markdown(t, m, lang)
		// Every journal action, by its UTC time and action.
		for _, a := range m.Actions {
			if !strings.Contains(md, ts(a.Time)) || !strings.Contains(md, "`"+a.Action+"`") {
				t.Errorf("%s: journal action %d (%s) missing", lang, a.Seq, a.Action)
			}
		}
		// Every resource still present is named in the list.
		for _, r := range m.Resources {
			if r.State == StatePresent && !strings.Contains(md, "- ") || !strings.Contains(md, "`"+r.ID+"`") {
				t.Errorf("%s: resource %s missing", lang, r.ID)
			}
		}
		for _, want := range []string{"```mermaid", "gantt", "me-south-1", "ap-south-2", "LookupEvents", "aws-vault", "git-secrets", "90", "GuardDuty"} {
			if !strings.Contains(md, want) {
				t.Errorf("%s: report lacks %q", lang, want)
			}
		}
	}
	en := markdown(t, m, "en")
	for _, want := range []string{
		"Data events (S3 object reads and writes",
		"Regions not enabled in the account (no call can be made there unless someone enables them): me-south-1.",
		"Regions where the search failed: ap-south-2 (`ThrottlingException after 8 retries`).",
		"- `AWS::IAM::User` `svc-backup` (global): remove with `iam:DeleteUser`",
		"- `AWS::EC2::SecurityGroup` `sg-0123456789abcdef0` in ap-southeast-1: remove with `ec2:DeleteSecurityGroup`",
		"GuardDuty was off in: ap-southeast-1, us-east-1.",
		"The leaked key was 163 days old",
		"Attacker calls went on for 13 min after the key was deactivated",
	} {
		if !strings.Contains(en, want) {
			t.Errorf("en report lacks %q", want)
		}
	}
	ja := markdown(t, m, "ja")
	for _, want := range []string{"## 概要", "## 残作業", "## 再発防止策", "データイベント", "me-south-1", "漏洩したキーは作成から 163 日経っていました"} {
		if !strings.Contains(ja, want) {
			t.Errorf("ja report lacks %q", want)
		}
	}
}

func TestMarkdownUnknownLanguage(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, fixtureModel(), MarkdownOptions{Lang: "fr"}); err == nil || !strings.Contains(err.Error(), `"fr"`) {
		t.Errorf("WriteMarkdown(fr) err = %v", err)
	}
	if buf.Len() != 0 {
		t.Error("WriteMarkdown wrote output for an unknown language")
	}
	if err := WriteMarkdown(&buf, fixtureModel(), MarkdownOptions{}); err != nil {
		t.Errorf("empty language must mean English: %v", err)
	}
}

func TestMessageTablesMatch(t *testing.T) {
	en, ja := messages["en"], messages["ja"]
	for k := range en {
		// Plural forms exist only where the language has them.
		if _, ok := ja[k]; !ok && !strings.HasSuffix(k, ".one") {
			t.Errorf("ja lacks %q", k)
		}
	}
	for k := range ja {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	if !slices.Equal(sortedKeys(messages), Languages) {
		t.Errorf("Languages %v do not match the tables %v", Languages, sortedKeys(messages))
	}
}

func TestMarkdownMasksSecrets(t *testing.T) {
	m := fixtureModel()
	m.Actions[5].Error = "DeleteConflict; session " + fakeToken
	m.Coverage[6].Error = "secret " + exampleSecret + " in error"
	for _, lang := range Languages {
		md := markdown(t, m, lang)
		if strings.Contains(md, "IQoJb3JpZ2lu") || strings.Contains(md, exampleSecret) {
			t.Errorf("%s report holds a secret", lang)
		}
		if !strings.Contains(md, Masked) {
			t.Errorf("%s report shows no masked value", lang)
		}
		if !strings.Contains(md, leakedKey) {
			t.Errorf("%s report does not show the access key ID whole", lang)
		}
	}
}

func TestMarkdownBeforeContainment(t *testing.T) {
	m := fixtureModel()
	m.Case.LeakedAt, m.Case.ContainedAt, m.Case.RevokedAt, m.Case.KeyStatus = time.Time{}, time.Time{}, time.Time{}, "Active"
	m.Actions, m.Resources, m.Findings = nil, nil, nil
	m.GuardDuty = GuardDuty{}
	en := markdown(t, m, "en")
	for _, want := range []string{
		"no later than 2024-05-01 10:17:03 UTC (the first attacker call)",
		"Key leaked (estimated)",
		"| Key deactivated | not done |",
		"1. Deactivate the key `" + leakedKey + "` (keyleak contain).",
		"2. Revoke the sessions issued from `" + leakedKey + "`",
		"keyleak recorded no actions for this case.",
		"No resource created with the key was found.",
		"Whether GuardDuty was on was not checked.",
	} {
		if !strings.Contains(en, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(en, "Clean-up") || strings.Contains(en, "after the key was deactivated") {
		t.Error("report claims clean-up or containment that did not happen")
	}
}

func TestMarkdownNoEvents(t *testing.T) {
	m := &Model{Case: Case{KeyID: leakedKey, GeneratedAt: at("13:05:00"), ToolVersion: "v1"}}
	for _, lang := range Languages {
		md := markdown(t, m, lang)
		if !strings.Contains(md, leakedKey) {
			t.Errorf("%s: empty report lacks the key", lang)
		}
	}
	if en := markdown(t, m, "en"); !strings.Contains(en, "No call in the investigated period was classified as attacker activity.") {
		t.Error("empty report does not say no attacker activity was found")
	}
}

// TestMarkdownUnjudged: events never judged are counted as such, and the
// report does not claim there was no attacker activity.
func TestMarkdownUnjudged(t *testing.T) {
	evs := []Event{
		{EventID: "e1", Time: at("12:00:00"), Name: "ListUsers", Verdict: VerdictUnjudged},
		{EventID: "e2", Time: at("12:01:00"), Name: "GetCallerIdentity", Verdict: VerdictLegitimate},
	}
	m := &Model{Case: Case{KeyID: leakedKey, GeneratedAt: at("13:05:00")}, Events: slices.Values(evs)}
	m.Stats = ComputeStats(m.Events)
	if m.Stats.Verdicts[VerdictUnjudged] != 1 || m.Stats.Verdicts[VerdictUnclear] != 0 {
		t.Errorf("verdicts %v", m.Stats.Verdicts)
	}
	en := markdown(t, m, "en")
	if strings.Contains(en, "was classified as attacker activity") || !strings.Contains(en, "1 calls were never judged") ||
		!strings.Contains(en, "1 not judged") || !strings.Contains(en, "Judge the events fetched but never assessed (1)") {
		t.Errorf("markdown with an unjudged event:\n%s", en)
	}
	if ja := markdown(t, m, "ja"); !strings.Contains(ja, "未判定") {
		t.Errorf("Japanese markdown does not say an event is unjudged:\n%s", ja)
	}
}

func TestNum(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1048575: "1,048,575", -1234: "-1,234"} {
		if got := num(n); got != want {
			t.Errorf("num(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestActivityGroupsByTactic checks attacker activity is grouped by the
// ATT&CK tactic, with keyleak's categories shown within it, and that a case
// written before tactics had their own field (tactic in the category) still
// groups the same.
func TestActivityGroupsByTactic(t *testing.T) {
	ev := func(id, src, name, tactic, category string, min int) Event {
		return Event{EventID: id, Time: at("11:00:00").Add(time.Duration(min) * time.Minute), Region: "us-east-1",
			Source: src, Name: name, AccessKeyID: leakedKey, Verdict: VerdictAttacker, Severity: SeverityHigh,
			Tactic: tactic, Category: category}
	}
	evs := []Event{
		ev("e1", "ec2.amazonaws.com", "RunInstances", "impact", "resource-hijacking", 1),
		ev("e2", "bedrock.amazonaws.com", "InvokeModel", "impact", "llm-jacking", 2),
		ev("e3", "kms.amazonaws.com", "ScheduleKeyDeletion", "", "impact", 3),
		ev("e4", "iam.amazonaws.com", "ListUsers", "discovery", "discovery", 0),
	}
	s := ComputeStats(slices.Values(evs))
	var tactics []string
	for _, a := range s.Activity {
		if len(tactics) == 0 || tactics[len(tactics)-1] != a.Tactic {
			tactics = append(tactics, a.Tactic)
		}
	}
	if !slices.Equal(tactics, []string{"discovery", "impact"}) {
		t.Errorf("activity tactics = %v, want discovery then impact", tactics)
	}
	if s.Tactics["impact"] != 3 || s.Categories["resource-hijacking"] != 1 {
		t.Errorf("Tactics %v Categories %v", s.Tactics, s.Categories)
	}
	m := fixtureModel()
	m.Events = slices.Values(evs)
	out := markdown(t, m, "en")
	if !strings.Contains(out, "### Impact: resource hijacking, LLM hijacking (3 calls)") {
		t.Errorf("no Impact heading with its categories in:\n%s", out)
	}
}

// TestActorMatchesInEveryReport checks a threat-actor indicator match is
// shown in the Markdown report, the JSON document and the workbook, and that
// without one the Markdown report has no such section.
func TestActorMatchesInEveryReport(t *testing.T) {
	m := fixtureModel()
	if strings.Contains(markdown(t, m, "en"), "Threat-actor indicators") {
		t.Error("a threat-actor section without any match")
	}
	m.Actors = []ActorMatch{{Actor: "GUI-vil", Type: "group", Indicator: "s3-browser-iam", Kind: "user-agent",
		Explanation: "IAM users were made with the S3 Browser desktop client.", Reported: "Permiso P0 Labs, 2023",
		References: []string{"https://permiso.io/blog/s/unmasking-guivil-new-cloud-threat-actor"}, Events: 2, Attacker: 2,
		First: at("10:20:00"), Last: at("10:21:00")}}
	for _, lang := range Languages {
		out := markdown(t, m, lang)
		if !strings.Contains(out, "GUI-vil") || !strings.Contains(out, "https://permiso.io/blog/s/unmasking-guivil-new-cloud-threat-actor") {
			t.Errorf("%s: the actor match is not in the report", lang)
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	d, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Actors) != 1 || d.Actors[0].Actor != "GUI-vil" || d.Actors[0].Events != 2 {
		t.Errorf("JSON actors = %+v", d.Actors)
	}
	f, _ := writeWorkbook(t, m, XLSXOptions{})
	found := false
	for label, v := range summaryValues(t, f) {
		found = found || (label == "GUI-vil" && strings.Contains(v, "calls: 2"))
	}
	if !found {
		t.Error("the workbook's summary does not show the actor match")
	}
}

// ts renders a time as the reports do in UTC.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}
