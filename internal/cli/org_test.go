package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

const orgMember = "862044175390" // org-pivot's production account

// orgPivotSim serves org-pivot without starting its actors, so that its
// truth stands still while keyleak reads it.
func orgPivotSim(t *testing.T) *awssim.Server {
	t.Helper()
	sc, err := awssim.LoadScenario("org-pivot")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, awssim.WithLookupRate(100, 100))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(); sim.Close() })
	return srv
}

// chainOf lists the truth's events of the leaked key and its derived keys.
func chainOf(tr awssim.Truth) map[string]awssim.TruthEvent {
	chain := map[string]bool{tr.LeakedKey: true}
	for _, k := range tr.DerivedKeys {
		chain[k.AccessKeyID] = true
	}
	out := map[string]awssim.TruthEvent{}
	for _, e := range tr.Events {
		if chain[e.AccessKeyID] {
			out[e.EventID] = e
		}
	}
	return out
}

func TestInvestigateOrgFindsEventsInBothAccounts(t *testing.T) {
	t.Parallel()
	srv := orgPivotSim(t)
	responder := srv.Sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	leaked := srv.Sim.LeakedKey()
	want := chainOf(srv.Sim.Truth())

	// Without --org the member account's events are out of reach.
	code, out, errOut := run(t, "investigate", "--key", leaked, "--dir", t.TempDir(), "--lookup-rate", "50", "-o", "json")
	if code != ExitOK {
		t.Fatalf("investigate exit %d: %s", code, errOut)
	}
	var single struct{ Events []trail.EventSummary }
	if err := json.Unmarshal([]byte(out), &single); err != nil {
		t.Fatal(err)
	}
	if len(single.Events) >= len(want) {
		t.Fatalf("without --org found %d of %d events: the scenario does not need --org", len(single.Events), len(want))
	}

	code, out, errOut = run(t, "investigate", "--key", leaked, "--org", "--dir", t.TempDir(), "--lookup-rate", "50", "-o", "json")
	if code != ExitOK {
		t.Fatalf("investigate --org exit %d: %s", code, errOut)
	}
	var res struct {
		Events    []trail.EventSummary
		Regions   []trail.SourceResult
		Resources []assess.Resource
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	got := map[string]bool{}
	accounts := map[string]bool{}
	for _, e := range res.Events {
		w, ok := want[e.EventID]
		if !ok || got[e.EventID] {
			t.Errorf("event %s %s is not the chain's or repeated", e.EventName, e.EventID)
			continue
		}
		got[e.EventID] = true
		accounts[w.Account] = true
	}
	for id, e := range want {
		if !got[id] {
			t.Errorf("missed %s of %s in %s/%s", e.EventName, e.AccessKeyID, e.Account, e.Region)
		}
	}
	if !accounts[orgMember] || !accounts[srv.Sim.AccountID()] {
		t.Errorf("events from accounts %v, want both", accounts)
	}
	perAccount := false
	for _, r := range res.Regions {
		perAccount = perAccount || strings.HasPrefix(r.Region, orgMember+"/")
	}
	if !perAccount {
		t.Errorf("no coverage of the member account: %+v", res.Regions)
	}
	// The attacker's instances live in the member account: checked there,
	// they are present.
	instances := 0
	for _, r := range res.Resources {
		if r.Type == "AWS::EC2::Instance" {
			instances++
			if r.State != assess.StatePresent {
				t.Errorf("instance %s in %s: %s (%s), want present", r.ID, r.Region, r.State, r.StateReason)
			}
		}
	}
	if instances != 4 {
		t.Errorf("%d instances listed, want the attacker's 4", instances)
	}
	if !strings.Contains(errOut, "o-f1nch7k2qd") {
		t.Errorf("the organization is not described: %s", errOut)
	}
}

func TestInvestigateOrgNamesTheMissingRole(t *testing.T) {
	t.Parallel()
	srv := orgPivotSim(t)
	responder := srv.Sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	code, _, errOut := run(t, "investigate", "--key", srv.Sim.LeakedKey(), "--org", "--role-name", "AuditRole",
		"--dir", t.TempDir(), "--lookup-rate", "50")
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d: %s", code, ExitPartial, errOut)
	}
	if !strings.Contains(errOut, orgMember+": denied (needs role AuditRole") {
		t.Errorf("error does not say which account and role are needed: %s", errOut)
	}
}

func TestContainOrgRevokesMemberRoleSessions(t *testing.T) {
	t.Parallel()
	srv, leaked := simScenario(t, "org-pivot", awssim.WithLookupRate(100, 100))
	responder := srv.Sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	var session string
	for _, k := range srv.Sim.Truth().DerivedKeys {
		if k.Account == orgMember && k.Kind == awssim.KindRole {
			session = k.AccessKeyID
		}
	}
	if session == "" {
		t.Fatal("no role session in the member account")
	}
	code, out, errOut := run(t, "contain", "--key", leaked.AccessKeyID, "--org", "--yes", "--dir", t.TempDir(), "-o", "json")
	if code != ExitOK {
		t.Fatalf("contain --org exit %d: %s\n%s", code, errOut, out)
	}
	var res struct {
		Contain      playbook.Summary
		RoleSessions []playbook.Summary
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if res.Contain.RevokedBefore.IsZero() || len(res.RoleSessions) != 1 {
		t.Fatalf("summary %+v", res)
	}
	// The session's ongoing calls are refused from the revoke policy on:
	// the actor's next call fails and it stops.
	var putAt time.Time
	for _, e := range srv.Sim.Truth().Events {
		if e.EventName == "PutRolePolicy" && e.ErrorCode == "" {
			if e.Account != orgMember {
				t.Errorf("revoke policy put in account %s, want the role's", e.Account)
			}
			putAt = e.EventTime
		}
	}
	if putAt.IsZero() {
		t.Fatal("no PutRolePolicy in the truth")
	}
	tr := waitForTruth(t, srv.Sim, func(tr awssim.Truth) bool {
		for _, e := range tr.Events {
			if e.AccessKeyID == session && e.ErrorCode != "" && !e.EventTime.Before(putAt) {
				return true
			}
		}
		return false
	})
	if late := successfulAfter(tr, map[string]bool{session: true}, putAt); len(late) > 0 {
		t.Errorf("role session calls succeeded after the revocation: %v", late)
	}
	if late := successfulAfter(tr, map[string]bool{leaked.AccessKeyID: true}, res.Contain.RevokedBefore); len(late) > 0 {
		t.Errorf("key calls succeeded after containment: %v", late)
	}
}

// TestContainOrgStopsWhatSessionsMintedInMembers: in org-pivot the role
// session in the production account creates a user and a key for it there.
// contain --org finds both in the organization-wide sweep and stops them in
// that account: a dry run lists them and changes nothing; the real run
// deactivates the key and denies the user everything, the JSON lists them
// with their live state, and the backdoor key is refused.
func TestContainOrgStopsWhatSessionsMintedInMembers(t *testing.T) {
	t.Parallel()
	srv := orgPivotSim(t)
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
		{Service: "iam", Action: "AttachUserPolicy", Region: "us-east-1", Params: map[string]string{"UserName": "svc-backup",
			"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}},
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
	if backdoor == "" {
		t.Fatalf("no backdoor key in the member account: %+v", sim.Truth().DerivedKeys)
	}
	works := func() error {
		_, err := sim.Do(&awssim.Call{Service: "iam", Action: "ListUsers", Region: "us-east-1", AccessKeyID: backdoor, Actor: "attacker"})
		return err
	}
	if err := works(); err != nil {
		t.Fatalf("the backdoor key does not work before containment: %v", err)
	}
	leaked := sim.LeakedKey()
	responder := sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)

	code, out, errOut := run(t, "contain", "--key", leaked, "--org", "--dry-run", "--dir", t.TempDir())
	if code != ExitOK {
		t.Fatalf("contain --org --dry-run exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "What the key's sessions minted in account "+orgMember) || !strings.Contains(out, backdoor) {
		t.Errorf("the dry run does not list the backdoor key in the member account:\n%s", out)
	}
	if k, _ := sim.Key(backdoor); k.Status != "Active" || works() != nil {
		t.Fatalf("the dry run changed the backdoor key: %s", k.Status)
	}

	code, out, errOut = run(t, "contain", "--key", leaked, "--org", "--yes", "--dir", t.TempDir(), "-o", "json")
	if code != ExitOK {
		t.Fatalf("contain --org exit %d: %s\n%s", code, errOut, out)
	}
	var res struct {
		Accounts []playbook.Summary
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if len(res.Accounts) != 1 || res.Accounts[0].Account != orgMember {
		t.Fatalf("accounts %+v, want the member's", res.Accounts)
	}
	states := map[string]string{}
	for _, c := range res.Accounts[0].Credentials {
		states[c.Kind+" "+c.ID] = c.State
	}
	if s := states[playbook.CredAccessKey+" "+backdoor]; s != playbook.CredInactive {
		t.Errorf("the backdoor key reads %q, want %s; all: %v", s, playbook.CredInactive, states)
	}
	if s := states[playbook.CredUser+" svc-backup"]; s != playbook.CredDenied {
		t.Errorf("user svc-backup reads %q, want %s; all: %v", s, playbook.CredDenied, states)
	}
	if k, _ := sim.Key(backdoor); k.Status != "Inactive" {
		t.Errorf("the backdoor key is %s", k.Status)
	}
	if works() == nil {
		t.Error("the backdoor key still works after contain --org")
	}
	denied := false
	for _, e := range sim.Truth().Events {
		if e.EventName == "PutUserPolicy" && e.ErrorCode == "" && e.Account == orgMember {
			denied = true
		}
	}
	if !denied {
		t.Error("no deny-all policy put on the user in the member account")
	}
}
