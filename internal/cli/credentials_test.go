package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

func TestRenderAttackerCredentials(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	sum := &playbook.Summary{ReadAt: at, Credentials: []playbook.AttackerCredential{
		{Kind: playbook.CredAccessKey, ID: "AKIALEAKEDLEAKED0001", User: "ci-deploy", State: playbook.CredInactive, Note: "the leaked key"},
		{Kind: playbook.CredRoleSession, ID: "ASIAROLEROLEROLEROL1", Role: "arn:aws:iam::123456789012:role/etl-runner", Session: "etl-maintenance",
			Parent: "AKIALEAKEDLEAKED0001", Via: "AssumeRole", Issued: at.Add(-time.Hour), Region: "us-east-1",
			State: playbook.CredDenied, DeniedSince: at.Add(-time.Minute)},
		{Kind: playbook.CredSessionToken, ID: "ASIASESSIONSESSION01", User: "", State: playbook.CredWorking, Note: "a session of the root user"},
	}, MintedSearch: &playbook.MintedSearch{Searched: true, Regions: 17, Lookups: 40, Events: 300, Failed: []string{"eu-west-1: AccessDenied"},
		Delay: playbook.DeliveryDelayNote}}
	out := renderAttackerCredentials(sum)
	for _, want := range []string{
		"as AWS had them at 2026-01-02T15:04:05Z",
		"inactive", "AKIALEAKEDLEAKED0001 of ci-deploy",
		"denied since 2026-01-02T15:03:05Z", "etl-runner session etl-maintenance (ASIAROLEROLEROLEROL1)",
		"AssumeRole by AKIALEAKEDLEAKED0001 at 2026-01-02T14:04:05Z in us-east-1",
		"STILL WORKING", "ASIASESSIONSESSION01 (root user)", "1 attacker credential still works",
		"17 regions, 40 lookups, 300 events", "NOT SEARCHED eu-west-1: AccessDenied", "15 minutes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "No attacker credential") {
		t.Errorf("says nothing works while one does:\n%s", out)
	}
	sum.Credentials = sum.Credentials[:2]
	if out := renderAttackerCredentials(sum); !strings.Contains(out, "No attacker credential found works any more") {
		t.Errorf("all stopped:\n%s", out)
	}
	if renderAttackerCredentials(&playbook.Summary{}) != "" {
		t.Error("a summary without credentials renders something")
	}
}
