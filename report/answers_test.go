package report

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Markdown opens with the answers AWS's support case asks for, in its
// order, one sentence each, before any detail.
func TestMarkdownOpensWithAnswers(t *testing.T) {
	md := markdown(t, fixtureModel(), "en")
	heads := regexp.MustCompile(`(?m)^## .*$`).FindAllString(md, -1)
	if len(heads) < 2 || heads[0] != "## Answers for the AWS support case" || heads[1] != "## Summary" {
		t.Fatalf("sections = %q, want the answers first", heads)
	}
	sec := md[strings.Index(md, heads[0]):strings.Index(md, heads[1])]
	items := regexp.MustCompile(`(?m)^(\d)\. \*\*([^*]+)\*\* — (.*)$`).FindAllStringSubmatch(sec, -1)
	var labels []string
	for i, it := range items {
		labels = append(labels, it[2])
		if it[1] != string(rune('1'+i)) {
			t.Errorf("answer %d numbered %s", i+1, it[1])
		}
		// One sentence: it ends with a full stop and holds no other
		// sentence end before it.
		body := strings.ReplaceAll(it[3], "e.g.", "")
		if !strings.HasSuffix(body, ".") || strings.Contains(strings.TrimSuffix(body, "."), ". ") {
			t.Errorf("answer %q is not one sentence", it[3])
		}
	}
	want := []string{"The key", "CloudTrail reviewed", "Unauthorized resources", "Other credentials", "Still to do"}
	if !slices.Equal(labels, want) {
		t.Errorf("answers = %q, want %q", labels, want)
	}
	for _, w := range []string{
		"`AKIA5EXAMPLELEAK0001` was deactivated at 2024-05-01 12:27:00 UTC and IAM shows it Inactive (read at 2024-05-01 12:29:00 UTC)",
		"in 5 of the 6 enabled regions (not in full: ap-south-2)",
		"from 2024-04-30 00:00:00 UTC to 2024-05-01 13:00:00 UTC",
		"2 still exist (`svc-backup`, `sg-0123456789abcdef0`), as read in AWS at 2024-05-01 13:04:00 UTC",
		"the account's other access keys were checked with the IAM credential report of 2024-05-01",
	} {
		if !strings.Contains(sec, w) {
			t.Errorf("answers lack %q:\n%s", w, sec)
		}
	}

	// Without an audit, the report says the other credentials were not
	// checked, where the case asks and in what remains to do.
	m := fixtureModel()
	m.Hygiene, m.HygieneAt = nil, time.Time{}
	md = markdown(t, m, "en")
	if !strings.Contains(md, "the account's other credentials were not checked: run keyleak audit --case on this case.") ||
		!strings.Contains(md, "Check the account's other access keys (keyleak audit --case on this case)") {
		t.Error("without an audit the report does not say other credentials were not checked")
	}
}

// Every time in the Markdown carries its zone, the one asked for; the
// Mermaid diagram is drawn in it and shows dates when the incident spans
// days.
func TestMarkdownTimesInZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no zone database")
	}
	var buf strings.Builder
	if err := WriteMarkdown(&buf, fixtureModel(), MarkdownOptions{Lang: "en", TZ: tokyo}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if !strings.Contains(md, "Times are in Asia/Tokyo (JST, UTC+09:00).") {
		t.Error("the report does not say its zone")
	}
	mermaid := md[strings.Index(md, "```mermaid"):]
	mermaid = mermaid[:strings.Index(mermaid[3:], "```")+3]
	prose := strings.Replace(md, mermaid, "", 1)
	stamps := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( [A-Z][A-Za-z0-9+:-]*)?`).FindAllStringSubmatch(prose, -1)
	if len(stamps) < 20 {
		t.Fatalf("only %d times found", len(stamps))
	}
	for _, s := range stamps {
		if s[1] != " JST" {
			t.Errorf("time %q does not carry the zone JST", s[0])
		}
	}
	if !strings.Contains(mermaid, "Key leaked : milestone, t1, 2024-05-01 19:10:00") || !strings.Contains(mermaid, "title Incident timeline (JST)") {
		t.Errorf("the diagram is not drawn in JST:\n%s", mermaid)
	}
	if strings.Contains(mermaid, "%m-%d") {
		t.Error("one afternoon's diagram shows dates")
	}

	m := fixtureModel()
	m.Case.ContainedAt = m.Case.ContainedAt.Add(30 * time.Hour)
	md = markdown(t, m, "en")
	if !strings.Contains(md, "axisFormat %m-%d %H:%M") {
		t.Error("an incident over two days has no dates on the diagram's axis")
	}
}

// When the response went on after the investigated period, the report says
// so, bounds what it says about the attacker's last calls, and asks for
// the investigation to be extended.
func TestMarkdownSaysWhatCameAfterThePeriod(t *testing.T) {
	m := fixtureModel()
	m.Case.Until = at("12:40:05") // before the clean-up, 13 min after deactivation
	en := markdown(t, m, "en")
	for _, w := range []string{
		"The investigated period ends at 2024-05-01 12:40:05 UTC; after it: Clean-up started (2024-05-01 12:50:00 UTC), Clean-up finished (2024-05-01 12:52:00 UTC).",
		"Attacker calls went on for at least 13 min after the key was deactivated",
		"events were searched only until 2024-05-01 12:40:05 UTC, and CloudTrail delivers events up to 15 minutes late",
		"Run keyleak investigate --case on this case again: the investigated period ends at 2024-05-01 12:40:05 UTC",
		"the response went on after that period (the last step: Clean-up finished at 2024-05-01 12:52:00 UTC)",
	} {
		if !strings.Contains(en, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	// A period that covers the response and the delivery delay says
	// nothing of the sort.
	en = markdown(t, fixtureModel(), "en")
	if strings.Contains(en, "went on for at least") || strings.Contains(en, "keyleak investigate --case") {
		t.Error("a complete period is reported as open")
	}
}

// A role session the owner's deny does not reach is named, with its live
// state, in the summary, the answers and the remaining work.
func TestRoleSessionStillWorking(t *testing.T) {
	m := fixtureModel()
	m.Credentials = []Credential{
		{Kind: CredAccessKey, ID: leakedKey, User: "deploy-bot", State: CredInactive, StateAt: at("12:29:00")},
		{Kind: CredSessionToken, ID: sessionKey, User: "deploy-bot", Parent: leakedKey, Via: "GetSessionToken", Issued: at("10:21:00"),
			State: CredDenied, DeniedSince: at("12:28:10"), Reason: ReasonOwnerRevoked, StateAt: at("12:29:00")},
		{Kind: CredRoleSession, ID: "ASIA5EXAMPLEROLE0001", Role: "arn:aws:iam::111122223333:role/etl-runner", Parent: leakedKey,
			Via: "AssumeRole", Issued: at("10:30:00"), Expires: at("22:30:00"), State: CredWorking, Reason: ReasonRoleNotRevoked},
	}
	md := markdown(t, m, "en")
	for _, w := range []string{
		"still working: role session of `etl-runner` (`ASIA5EXAMPLEROLE0001`)",
		"Of the 2 credentials the attacker made from the key, 1 still works: role session of `etl-runner` (`ASIA5EXAMPLEROLE0001`)",
		"Revoke the sessions of role `etl-runner` (`ASIA5EXAMPLEROLE0001` still works)",
		"| `ASIA5EXAMPLEROLE0001` | role session | `arn:aws:iam::111122223333:role/etl-runner` |",
		"still works — the owner's deny does not reach a role session",
		"denied (sessions issued before 2024-05-01 12:28:10 UTC) — by the revoke policy on the key's owner (read at 2024-05-01 12:29:00 UTC)",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
	var todo []TodoKind
	for _, td := range RemainingWork(m, m.stats()) {
		todo = append(todo, td.Kind)
	}
	if !slices.Contains(todo, TodoRevokeRole) || slices.Contains(todo, TodoRevoke) {
		t.Errorf("remaining work %v: want the role's sessions revoked, not the owner's again", todo)
	}
}

// The reply posted to the support case is the answers in plain text (the
// Support Center shows no Markdown), within the Support API's limit, and
// names the attachment.
func TestSupportReply(t *testing.T) {
	for _, lang := range Languages {
		body, err := SupportReply(fixtureModel(), MarkdownOptions{Lang: lang}, "report.md")
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(body, "`*|#") || len(body) > MaxSupportReply {
			t.Errorf("%s reply is not plain text within %d characters:\n%s", lang, MaxSupportReply, body)
		}
		for i := 1; i <= 5; i++ {
			if !strings.Contains(body, "\n"+string(rune('0'+i))+". ") {
				t.Errorf("%s reply lacks answer %d:\n%s", lang, i, body)
			}
		}
		if !strings.Contains(body, "report.md") || !strings.Contains(body, leakedKey) {
			t.Errorf("%s reply does not name the key and the attachment:\n%s", lang, body)
		}
	}
	m := fixtureModel()
	m.Case.DetectedBy = strings.Repeat("very long detection text ", 500)
	m.Case.QuarantinePolicy = ""
	body, err := SupportReply(m, MarkdownOptions{}, "")
	if err != nil || len(body) > MaxSupportReply {
		t.Errorf("long reply: %d characters, %v", len(body), err)
	}
}

// A dry run's plans are one row a run, saying how many calls were planned
// and that none was made, not a row per call with no target.
func TestDryRunFoldsIntoOneRow(t *testing.T) {
	m := fixtureModel()
	var dry []Action
	for i := range 14 {
		dry = append(dry, Action{Seq: 100 + i, Time: at("12:40:00"), Step: "eradicate", Action: "ec2:TerminateInstances", Result: ResultDryRun, Detail: "plan"})
	}
	m.Actions = append(dry, m.Actions...)
	md := markdown(t, m, "en")
	if n := strings.Count(md, "dry run |"); n != 1 {
		t.Errorf("%d dry-run rows, want 1", n)
	}
	if !strings.Contains(md, "| 14 calls planned, none made |") {
		t.Error("the dry-run row does not say how many calls were planned")
	}
	for _, td := range RemainingWork(m, m.stats()) {
		if td.Kind == TodoRetry && td.Subject == "ec2:TerminateInstances" {
			t.Error("a dry run is taken for a failed action")
		}
	}
}
