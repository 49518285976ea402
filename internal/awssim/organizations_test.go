package awssim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

func TestOrgPivotScenario(t *testing.T) {
	sc, err := LoadScenario("org-pivot")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := NewFromScenario(sc, WithClock(func() time.Time { return now }), WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tr := s.Truth()
	if len(tr.Accounts) != 2 || tr.Accounts[0] != "731402586219" || tr.Accounts[1] != "862044175390" {
		t.Fatalf("accounts %v", tr.Accounts)
	}
	var session TruthKey
	for _, k := range tr.DerivedKeys {
		if k.Via == "AssumeRole" {
			session = k
		}
	}
	if session.Account != "862044175390" || session.RoleName != "platform-deploy" {
		t.Fatalf("derived role session %+v, want one of platform-deploy in the production account", session)
	}
	perAccount := map[string]int{}
	for _, e := range tr.Events {
		perAccount[e.Account]++
		if e.AccessKeyID == session.AccessKeyID && e.Account != "862044175390" {
			t.Errorf("event %s of the role session recorded in account %s", e.EventName, e.Account)
		}
		if e.EventName == "AssumeRole" && e.Account != "731402586219" {
			t.Errorf("AssumeRole recorded in %s, want the caller's account", e.Account)
		}
	}
	if perAccount["862044175390"] == 0 {
		t.Fatal("no events in the production account")
	}
	running := 0
	for _, r := range tr.Resources {
		if r.Type == "AWS::EC2::Instance" {
			if r.Account != "862044175390" || !r.Attacker {
				t.Errorf("instance %+v, want the attacker's in the production account", r)
			}
			running++
		}
	}
	if running != 4 {
		t.Errorf("%d instances, want 4", running)
	}
}

func TestOrgScenarioNames(t *testing.T) {
	if !slices.Contains(OrgScenarioNames(), "org-pivot") || slices.Contains(ScenarioNames(), "org-pivot") {
		t.Errorf("org scenarios %v, one-account scenarios %v", OrgScenarioNames(), ScenarioNames())
	}
	if !slices.Contains(ScenarioNames(), "github-push") {
		t.Errorf("one-account scenarios %v", ScenarioNames())
	}
}

func TestOrganizationsAPI(t *testing.T) {
	s := New()
	if err := s.AddUser("admin", time.Now().Add(-time.Hour), "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	admin, err := s.AddAccessKey("admin", time.Now().Add(-time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Close() }()
	ctx := context.Background()
	cfg := srv.Config(*admin, "eu-west-1")
	if _, _, err := trail.ListOrganization(ctx, cfg); err == nil || !strings.Contains(err.Error(), "AWSOrganizationsNotInUseException") {
		t.Fatalf("without an organization: %v, want AWSOrganizationsNotInUseException", err)
	}
	for i := range 24 {
		if err := s.AddAccount(fmt.Sprintf("2%011d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAccount("12345", ""); err == nil {
		t.Error("AddAccount took a malformed ID")
	}
	if err := s.SetOrganization("o-abcdefghij", s.AccountID()); err != nil {
		t.Fatal(err)
	}
	info, listErr, err := trail.ListOrganization(ctx, cfg)
	if err != nil || listErr != nil {
		t.Fatal(err, listErr)
	}
	if info.ID != "o-abcdefghij" || info.Master != s.AccountID() {
		t.Errorf("organization %+v", info)
	}
	seen := map[string]bool{}
	for _, a := range info.Accounts {
		if seen[a.ID] || a.Status != "ACTIVE" {
			t.Errorf("account %+v listed twice or not active", a)
		}
		seen[a.ID] = true
	}
	if len(seen) != 25 {
		t.Errorf("%d accounts over ListAccounts' pages of 20, want 25", len(seen))
	}
	// ListAccounts is for the management account only.
	var member Credential
	err = s.InAccount("200000000001", func() error {
		if err := s.AddUser("ops", time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		k, err := s.AddAccessKey("ops", time.Now().Add(-time.Hour), "")
		if k != nil {
			member = *k
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	info, listErr, err = trail.ListOrganization(ctx, srv.Config(member, "us-east-1"))
	if err != nil {
		t.Fatalf("member DescribeOrganization: %v", err)
	}
	if listErr == nil || len(info.Accounts) != 0 {
		t.Errorf("a member account listed the organization's accounts: %v", info.Accounts)
	}
	tr := s.Truth()
	regions := map[string]string{}
	for _, e := range tr.Events {
		regions[e.Account+"/"+e.EventName] = e.Region
	}
	if regions["200000000001/DescribeOrganization"] != "us-east-1" || regions[s.AccountID()+"/ListAccounts"] != "us-east-1" {
		t.Errorf("organizations events %v, want them in us-east-1 of the caller's account", regions)
	}
}

// LeaveOrganization takes the caller's account out: it describes no
// organization any more, the management account lists it no more, and the
// change is in the truth as the attacker's. The management account cannot
// leave.
func TestLeaveOrganization(t *testing.T) {
	s, _ := scLoad(t, "every-kind")
	resp := s.Responder()
	_, err := s.Do(&Call{Service: "organizations", Action: "DescribeOrganization", Region: "us-east-1", AccessKeyID: resp.AccessKeyID})
	if !isAPIError(err, "AWSOrganizationsNotInUseException") {
		t.Errorf("DescribeOrganization after leaving: %v", err)
	}
	if _, err := s.Do(&Call{Service: "organizations", Action: "LeaveOrganization", Region: "us-east-1", AccessKeyID: resp.AccessKeyID}); !isAPIError(err, "AWSOrganizationsNotInUseException") {
		t.Errorf("leaving twice: %v", err)
	}
	left := false
	for _, r := range s.Truth().Resources {
		if r.Type == typeLeftOrganization && r.Attacker && r.Present() && r.ID == s.AccountID() {
			left = true
		}
	}
	if !left {
		t.Error("the truth does not show the attacker taking the account out")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	master := s.accountByID("918274650913")
	defer s.enter(master)()
	res, err := orgListAccounts(s, &Call{Service: "organizations", Action: "ListAccounts", Region: "us-east-1", Params: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.JSON.(map[string]any)["Accounts"].([]map[string]any) {
		if a["Id"] == s.home.ID {
			t.Errorf("the management account still lists %s", s.home.ID)
		}
	}
	if _, err := orgLeave(s, &Call{Service: "organizations", Action: "LeaveOrganization", Region: "us-east-1"}); !isAPIError(err, "ConstraintViolationException") {
		t.Errorf("the management account left: %v", err)
	}
}

func isAPIError(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}
