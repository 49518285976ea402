package tui_test

import (
	"testing"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/respond"
)

// orgMember is org-pivot's production account, where the leaked key's
// role session acts.
const orgMember = "862044175390"

// TestRunbookContainsAcrossTheOrganization: run with an organization
// source (--org), the runbook's containment goes where the investigation
// goes, as `keyleak contain --org` does: the backdoor key the leaked key's
// role session made in a member account stops working, and the Contain
// screen says what was done there.
func TestRunbookContainsAcrossTheOrganization(t *testing.T) {
	srv := scenarioSim(t, "org-pivot", awssim.WithLookupRate(100, 100))
	sim := srv.Sim
	var session string
	for _, k := range sim.Truth().DerivedKeys {
		if k.Account == orgMember && k.Kind == awssim.KindRole {
			session = k.AccessKeyID
		}
	}
	if session == "" {
		t.Fatal("no role session in the member account")
	}
	for _, c := range []*awssim.Call{
		{Service: "iam", Action: "CreateUser", Region: "us-east-1", Params: map[string]string{"UserName": "svc-backup"}},
		{Service: "iam", Action: "CreateAccessKey", Region: "us-east-1", Params: map[string]string{"UserName": "svc-backup"}},
	} {
		c.AccessKeyID, c.Actor = session, "attacker"
		if _, err := sim.Do(c); err != nil {
			t.Fatalf("%s as the role session: %v", c.Action, err)
		}
	}
	var backdoor string
	for _, k := range sim.Truth().DerivedKeys {
		if k.Account == orgMember && k.Kind != awssim.KindRole {
			backdoor = k.AccessKeyID
		}
	}
	if k, ok := sim.Key(backdoor); !ok || k.Status != "Active" {
		t.Fatalf("no active backdoor key in the member account: %+v", sim.Truth().DerivedKeys)
	}

	tm := startRunbook(t, srv, t.TempDir(), flowOptions{source: respond.Source{Org: true}})
	waitFor(t, tm, "a valid access key ID")
	send(tm, "enter")
	waitFor(t, tm, "enter: go on to containment")
	send(tm, "enter", "enter")
	// Every change, in both accounts, is confirmed; the screen ends with
	// what was done in the member account.
	confirmUntil(t, tm, "account "+orgMember+":")
	if k, _ := sim.Key(sim.LeakedKey()); k.Status != "Inactive" {
		t.Errorf("the leaked key is %s", k.Status)
	}
	if k, _ := sim.Key(backdoor); k.Status != "Inactive" {
		t.Errorf("after the runbook's containment the member's backdoor key is %s", k.Status)
	}
	if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "ListUsers", Region: "us-east-1", AccessKeyID: backdoor, Actor: "attacker"}); err == nil {
		t.Error("the member's backdoor key still works after the runbook's containment")
	}
	finish(t, tm)
}
