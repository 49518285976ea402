package caseview

import (
	"testing"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

// A role's sessions count as revoked only when the journal shows the
// revoke policy put (or found in place) and not undone, with its time.
func TestRoleRevocations(t *testing.T) {
	t1 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	id := func(role string) string { return playbook.StepRevokeRoleSessions + "/PutRolePolicy/" + role }
	params := func(role string, before time.Time) map[string]string {
		return map[string]string{"Kind": "role", "Name": role, "Before": before.Format(time.RFC3339)}
	}
	entries := []playbook.Entry{
		{Kind: playbook.KindIntent, Step: playbook.StepRevokeRoleSessions, ActionID: id("etl-runner"), Params: params("etl-runner", t1)},
		{Kind: playbook.KindOutcome, Step: playbook.StepRevokeRoleSessions, ActionID: id("etl-runner")},
		{Kind: playbook.KindIntent, Step: playbook.StepRevokeRoleSessions, ActionID: id("failed"), Params: params("failed", t1)},
		{Kind: playbook.KindOutcome, Step: playbook.StepRevokeRoleSessions, ActionID: id("failed"), Error: &playbook.ErrorInfo{Message: "AccessDenied", Definite: true}},
		{Kind: playbook.KindIntent, Step: playbook.StepRevokeRoleSessions, ActionID: id("undone"), Params: params("undone", t2)},
		{Kind: playbook.KindOutcome, Step: playbook.StepRevokeRoleSessions, ActionID: id("undone")},
		{Kind: playbook.KindUndone, Step: playbook.StepRevokeRoleSessions, ActionID: id("undone")},
	}
	got := roleRevocations(entries)
	if len(got) != 1 || !got["etl-runner"].Equal(t1) {
		t.Errorf("revocations = %v, want etl-runner before %s only", got, t1)
	}
}
