package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// The fixtures are fixed: a fixed clock, a fixed seed, no real time or
// port anywhere, so that views render the same on every machine.
var (
	fixedNow    = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	fixtureKey  = "AKIAIOSFODNN7EXAMPLE"
	sessionKey  = "ASIAQRZ4BDQ3SMG6IK3E"
	backdoorKey = "AKIALCRHPJMNV7HDZTM4"
)

// asciiRenderer draws without colour, as the goldens want.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// newTestModel is a runbook with the fixed clock and no AWS: tests feed it
// messages and read its views.
func newTestModel(t testing.TB, w, h int) *Model {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	m := New(ctx, Config{
		Parent:   "cases",
		Now:      func() time.Time { return fixedNow },
		Renderer: asciiRenderer(),
		Engine: respond.New(func(context.Context) (*awsapi.Clients, error) {
			return nil, fmt.Errorf("no AWS in this test")
		}),
	})
	m.Update(sizeMsg(w, h))
	return m
}

// withCase opens a case for the fixture key in a fresh directory that is
// the working directory, so that paths in views are relative and stable.
func withCase(t testing.TB, m *Model) *playbook.Case {
	t.Helper()
	t.Chdir(t.TempDir())
	c, err := playbook.CreateCase("cases", fixtureKey, fixedNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	m.s.c, m.s.key = c, fixtureKey
	m.state = stateRunbook
	return c
}

// fixtureSummary is what identify and contain report for the fixture key.
func fixtureSummary(contained bool) *playbook.Summary {
	sum := &playbook.Summary{
		Case: "cases/x", KeyID: fixtureKey, Account: "482916503317", Owner: "ci-deploy",
		Responder: "arn:aws:iam::482916503317:user/responder", KeyStatus: "Active",
		LastUsed:  &playbook.KeyUse{Time: fixedNow.Add(-3 * time.Minute), Service: "iam", Region: "us-east-1"},
		OwnerKeys: []playbook.KeyInfo{{ID: fixtureKey, Status: "Active", Created: fixedNow.AddDate(0, 0, -180)}, {ID: "AKIAEXAMPLEOTHERKEY2", Status: "Inactive", Created: fixedNow.AddDate(0, 0, -400)}},
		Access: &playbook.Access{Level: "admin-iam", Summary: "can write IAM: the key may create users, keys or policies",
			Policies: []playbook.PolicyRef{{Name: "PowerUserAccess"}, {Name: "IAMFullAccess"}}},
		Quarantine: []string{"AWSCompromisedKeyQuarantineV2"},
		Steps:      []playbook.StepResult{{ID: playbook.StepIdentify, Status: playbook.StatusDone}, {ID: playbook.StepScope, Status: playbook.StatusDone}},
	}
	if contained {
		sum.KeyStatus = "Inactive"
		sum.RevokedBefore = fixedNow.Add(-2 * time.Minute)
		sum.Steps = append(sum.Steps,
			playbook.StepResult{ID: playbook.StepContain, Status: playbook.StatusDone, Actions: []playbook.ActionResult{{ID: "contain/UpdateAccessKey/" + fixtureKey,
				Description: "iam UpdateAccessKey --user-name ci-deploy --access-key-id " + fixtureKey + " --status Inactive", Status: playbook.StatusDone, Time: fixedNow.Add(-2 * time.Minute)}}},
			playbook.StepResult{ID: playbook.StepRevokeSessions, Status: playbook.StatusDone, Actions: []playbook.ActionResult{{ID: "revoke-sessions/PutUserPolicy/ci-deploy",
				Description: "iam PutUserPolicy --user-name ci-deploy --policy-name keyleak-revoke-older-sessions", Status: playbook.StatusDone, Time: fixedNow.Add(-2 * time.Minute)}}})
	}
	return sum
}

// fixtureEvents makes n CloudTrail events of the fixture key's chain with
// a fixed seed: the workload before the leak, the attacker after it.
func fixtureEvents(t testing.TB, n int) *trail.Investigation {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-1", "us-west-2"}
	attackerCalls := []string{"ListUsers", "CreateUser", "CreateAccessKey", "AttachUserPolicy", "RunInstances", "CreateKeyPair", "GetCallerIdentity", "DescribeInstances"}
	workloadCalls := []string{"GetCallerIdentity", "DescribeInstances", "ListFunctions"}
	start := fixedNow.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(n+1)
	leak := fixedNow.Add(-36 * time.Hour)
	inv := &trail.Investigation{Key: fixtureKey, Account: "482916503317", Window: trail.Window{Since: start, Until: fixedNow}}
	for i := range n {
		at := start.Add(time.Duration(i+1) * step)
		rec := map[string]any{
			"eventVersion": "1.09", "eventID": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "eventTime": at.Format(time.RFC3339),
			"eventType": "AwsApiCall", "readOnly": true, "recipientAccountId": "482916503317",
		}
		key, ip, ua, name := fixtureKey, "52.14.88.201", "aws-cli/2.15.10", workloadCalls[rng.IntN(len(workloadCalls))]
		if at.After(leak) {
			ip, ua, name = "45.155.205.233", "TruffleHog", attackerCalls[rng.IntN(len(attackerCalls))]
			switch rng.IntN(3) {
			case 1:
				key = sessionKey
			case 2:
				key = backdoorKey
			}
		}
		region := "us-east-1"
		if name == "RunInstances" || name == "CreateKeyPair" || name == "DescribeInstances" {
			region = regions[rng.IntN(len(regions))]
		}
		rec["eventName"], rec["awsRegion"], rec["sourceIPAddress"], rec["userAgent"] = name, region, ip, ua
		rec["eventSource"] = map[string]string{"ListUsers": "iam", "CreateUser": "iam", "CreateAccessKey": "iam", "AttachUserPolicy": "iam",
			"GetCallerIdentity": "sts", "ListFunctions": "lambda"}[name] + ".amazonaws.com"
		if rec["eventSource"] == ".amazonaws.com" {
			rec["eventSource"] = "ec2.amazonaws.com"
		}
		rec["userIdentity"] = map[string]any{"type": "IAMUser", "accessKeyId": key, "userName": "ci-deploy",
			"arn": "arn:aws:iam::482916503317:user/ci-deploy", "accountId": "482916503317"}
		if name == "CreateUser" && rng.IntN(4) == 0 {
			rec["errorCode"], rec["errorMessage"] = "AccessDenied", "explicit deny"
		}
		rec["requestParameters"] = map[string]any{"maxResults": 100}
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		e, err := trail.ParseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		inv.Events = append(inv.Events, e)
	}
	inv.Keys = []trail.KeyLink{
		{AccessKeyID: fixtureKey},
		{AccessKeyID: backdoorKey, Parent: fixtureKey, Via: "CreateAccessKey", EventTime: leak.Add(time.Minute), UserName: "backup-admin", Region: "us-east-1", MayBeValid: true},
		{AccessKeyID: sessionKey, Parent: fixtureKey, Via: "GetSessionToken", EventTime: leak.Add(2 * time.Minute), Expiration: leak.Add(38 * time.Hour), Region: "us-east-1", MayBeValid: true},
	}
	for _, r := range []string{"ap-east-1", "ap-southeast-1", "eu-west-1", "us-east-1", "us-west-2", "me-south-1"} {
		st := trail.SourceStatus{Name: r, State: trail.StateOK, Pages: 3}
		for i := range inv.Events {
			if inv.Events[i].Region == r {
				st.Events++
			}
		}
		if r == "me-south-1" {
			st.State, st.Pages = trail.StateNotEnabled, 0
		}
		inv.Coverage.Sources = append(inv.Coverage.Sources, st)
	}
	return inv
}

// fixtureAssessment judges the fixture events by hand (attacker after the
// leak, workload before), so that goldens do not follow rule changes.
func fixtureAssessment(inv *trail.Investigation) *assess.Assessment {
	a := &assess.Assessment{Key: inv.Key, Leak: assess.Leak{Time: fixedNow.Add(-36 * time.Hour), Inferred: true, Reason: "first call from a new source"}}
	sev := map[string]assess.Severity{"CreateUser": assess.SeverityHigh, "CreateAccessKey": assess.SeverityHigh, "AttachUserPolicy": assess.SeverityCritical,
		"RunInstances": assess.SeverityMedium, "CreateKeyPair": assess.SeverityHigh, "ListUsers": assess.SeverityLow}
	cat := map[string]string{"CreateUser": "persistence", "CreateAccessKey": "persistence", "AttachUserPolicy": "privilege-escalation",
		"RunInstances": "resource-hijacking", "CreateKeyPair": "resource-hijacking", "ListUsers": "discovery", "GetCallerIdentity": "discovery"}
	for i := range inv.Events {
		e := &inv.Events[i]
		ea := assess.EventAssessment{EventID: e.EventID, AccessKeyID: e.UserIdentity.AccessKeyID, Verdict: assess.Legitimate, Severity: assess.SeverityInfo, Score: -3,
			Reasons: []string{"known source 52.14.88.201"}}
		if e.SourceIPAddress != "52.14.88.201" {
			ea.Verdict, ea.Score, ea.Reasons = assess.Attacker, 5, []string{"new source " + e.SourceIPAddress, "new client TruffleHog"}
			if s, ok := sev[e.EventName]; ok {
				ea.Severity = s
			}
			ea.Category = cat[e.EventName]
			if ea.Category != "" {
				ea.Flags = []string{ea.Category + "." + e.EventName}
			}
			a.Counts.Attacker++
		} else {
			a.Counts.Legitimate++
		}
		a.Events = append(a.Events, ea)
	}
	a.Resources = []assess.Resource{
		{Type: resource.TypeUser, ID: "backup-admin", Region: "us-east-1", CreatedBy: fixtureKey, Verdict: assess.Attacker, State: assess.StatePresent},
		{Type: resource.TypeAccessKey, ID: backdoorKey, Region: "us-east-1", CreatedBy: fixtureKey, Verdict: assess.Attacker, State: assess.StatePresent, Details: map[string]string{"userName": "backup-admin"}},
		{Type: resource.TypeInstance, ID: "i-0308a115966f85d9d", Region: "eu-west-1", CreatedBy: sessionKey, Verdict: assess.Attacker, State: assess.StateGone},
		{Type: resource.TypeBucket, ID: "acme-exfil-2", Region: "us-east-1", CreatedBy: sessionKey, Verdict: assess.Attacker, State: assess.StateUnknown},
		{Type: resource.TypeKeyPair, ID: "deploy-2025", Region: "us-east-1", CreatedBy: fixtureKey, Verdict: assess.Legitimate, State: assess.StatePresent},
	}
	return a
}
