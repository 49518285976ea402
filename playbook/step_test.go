package playbook

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/resource"
)

func TestStepsDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Steps() {
		if s.ID == "" || s.Title == "" || s.Why == "" {
			t.Errorf("step %+v lacks an ID, title or why", s.ID)
		}
		if seen[s.ID] {
			t.Errorf("step ID %s is used twice", s.ID)
		}
		seen[s.ID] = true
		if s.Apply != nil && !s.Idempotent && s.Check == nil {
			t.Errorf("step %s is not idempotent and has no Check: an interrupted action could not be reconciled", s.ID)
		}
		if s.Destructive && s.Undo != nil {
			t.Errorf("step %s is destructive yet declares an Undo", s.ID)
		}
		if len(s.Calls) == 0 {
			t.Errorf("step %s declares no AWS calls", s.ID)
		}
	}
	if Steps()[0].ID != StepIdentify {
		t.Error("identify is not the first step")
	}
	if got := DefaultSteps(); !slices.Equal(got, []string{StepIdentify, StepContain, StepRevokeSessions, StepContainMinted, StepRemoveMintedLogins, StepRevertMinted, StepScope}) {
		t.Errorf("DefaultSteps = %v", got)
	}
}

func TestRequiredActions(t *testing.T) {
	got := RequiredActions()
	if !sort.StringsAreSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("RequiredActions not sorted and unique: %v", got)
	}
	for _, want := range []string{"iam:UpdateAccessKey", "iam:PutUserPolicy", "iam:GetAccessKeyLastUsed", "sts:GetAccessKeyInfo",
		"iam:GetPolicyVersion", "iam:PutRolePolicy", "iam:DeleteLoginProfile", "iam:DeleteAccessKey", "iam:SimulatePrincipalPolicy"} {
		if !slices.Contains(got, want) {
			t.Errorf("RequiredActions lacks %s", want)
		}
	}
}

// TestDeclaredCallsCoverActualCalls runs every step against the fake and
// checks that each AWS call a step makes is among its declared Calls, so
// RequiredActions (and the responder policy built from it) is complete.
func TestDeclaredCallsCoverActualCalls(t *testing.T) {
	f := newFake()
	login := t0
	f.users["ci-deploy"].login = &login
	f.users["ci-deploy"].inline["extra"] = `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
	f.users["ci-deploy"].groups = []string{"devs"}
	f.groups["devs"] = &fakeGroup{inline: map[string]string{"g": `{"Statement":[]}`}, attached: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}
	f.roles["r"] = map[string]string{}
	tc := mintedAccount(t, f)
	c := newCase(t)
	yes := WithConfirm(func(context.Context, Step, []Action) (bool, error) { return true, nil })
	var all []string
	for _, s := range Steps() {
		all = append(all, s.ID)
	}
	r := newRunner(c, f, yes, WithTrail(tc))
	if _, err := r.Run(context.Background(), all...); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RevokeRoleSessions(context.Background(), []string{"arn:aws:iam::123456789012:role/r"}); err != nil {
		t.Fatal(err)
	}
	// Undo, on a second case where nothing was deleted.
	c2 := newCase(t)
	f2 := newFake()
	f2.roles["r"] = map[string]string{}
	r2 := newRunner(c2, f2, yes)
	if _, err := r2.Run(context.Background(), StepContain, StepRevokeSessions); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.RevokeRoleSessions(context.Background(), []string{"arn:aws:iam::123456789012:role/r"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range Steps() {
		if s.Undo == nil {
			continue
		}
		if _, err := r2.Undo(context.Background(), s.ID); err != nil {
			t.Fatalf("undo %s: %v", s.ID, err)
		}
	}
	if f2.inlineDoc("ci-deploy", RevokePolicyName) != "" || f2.roles["r"][RevokePolicyName] != "" || f2.status(testKey) != "Active" {
		t.Error("undo left changes in place")
	}
	declared := map[string][]string{}
	for _, s := range Steps() {
		declared[s.ID] = s.Calls
	}
	made := map[string]bool{}
	for _, e := range append(journalEntries(t, c), journalEntries(t, c2)...) {
		if e.Kind != KindIntent {
			continue
		}
		made[e.Action] = true
		if !slices.Contains(declared[e.Step], e.Action) {
			t.Errorf("step %s called %s, which it does not declare", e.Step, e.Action)
		}
	}
	// Eradication runs on the resources an investigation found, which the
	// fake account has none of; its calls are checked against the simulator
	// in eradicate_test.go.
	onlyEradicate := map[string]bool{}
	for _, a := range resource.Calls(true) {
		onlyEradicate[a] = true
	}
	for _, s := range Steps() {
		if s.ID == StepEradicate {
			continue
		}
		for _, a := range s.Calls {
			delete(onlyEradicate, a)
		}
	}
	for _, a := range RequiredActions() {
		if !made[a] && !onlyEradicate[a] {
			t.Errorf("%s is declared but no step called it in a full run", a)
		}
	}
}

func TestClassifyAccess(t *testing.T) {
	cases := []struct {
		doc   string
		level string
	}{
		{`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, AccessAdministrator},
		{`{"Statement":{"Effect":"Allow","Action":["iam:CreateUser","s3:GetObject"],"Resource":"*"}}`, AccessIAMWrite},
		{`{"Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`, AccessIAMWrite},
		{`{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`, AccessPowerUser},
		{`{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, AccessIAMWrite},
		{`{"Statement":[{"Effect":"Allow","Action":["ec2:RunInstances","s3:List*"],"Resource":"*"}]}`, AccessWrite},
		{`{"Statement":[{"Effect":"Allow","Action":["*:Describe*","*:Get*","*:List*"],"Resource":"*"}]}`, AccessReadOnly},
		{`{"Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`, AccessReadOnly},
		{`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, AccessNone},
		{`not json`, AccessNone},
	}
	for _, c := range cases {
		a := ClassifyAccess([]PolicyRef{{Name: "p", Source: "inline", Doc: c.doc}})
		if a.Level != c.level || a.Summary == "" {
			t.Errorf("ClassifyAccess(%s) = %s (%q), want %s", c.doc, a.Level, a.Summary, c.level)
		}
	}
	a := ClassifyAccess([]PolicyRef{{Doc: `{"Statement":[{"Effect":"Allow","Action":["ec2:RunInstances","s3:PutObject"],"Resource":"*"}]}`}})
	if a.Summary != "can change resources in ec2, s3 (no IAM)" {
		t.Errorf("summary = %q", a.Summary)
	}
}

func TestRevokePolicyRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	doc := RevokePolicyDocument(at)
	for _, d := range []string{doc, url.QueryEscape(doc)} {
		got, ok := RevokeTimeOf(d)
		if !ok || !got.Equal(at) {
			t.Errorf("RevokeTimeOf(%s) = %v %v", d, got, ok)
		}
	}
	if _, ok := RevokeTimeOf(`{"Statement":[{"Effect":"Allow","Action":"*"}]}`); ok {
		t.Error("an allow policy was read as a revoke policy")
	}
	if got := ceilSecond(at.Add(time.Nanosecond)); !got.Equal(at.Add(time.Second)) {
		t.Errorf("ceilSecond = %v", got)
	}
	if got := ceilSecond(at); !got.Equal(at) {
		t.Errorf("ceilSecond of a whole second = %v", got)
	}
}

func TestIdentityNames(t *testing.T) {
	cases := []struct {
		arn, user, role string
		root            bool
	}{
		{"arn:aws:iam::123456789012:user/ci-deploy", "ci-deploy", "", false},
		{"arn:aws:iam::123456789012:user/team/ci-deploy", "ci-deploy", "", false},
		{"arn:aws:sts::123456789012:assumed-role/Admin/alice", "", "Admin", false},
		{"arn:aws:sts::123456789012:federated-user/bob", "", "", false},
		{"arn:aws:iam::123456789012:root", "", "", true},
	}
	for _, c := range cases {
		id := Identity{ARN: c.arn}
		if id.UserName() != c.user || id.RoleName() != c.role || id.IsRoot() != c.root {
			t.Errorf("%s: user %q role %q root %v", c.arn, id.UserName(), id.RoleName(), id.IsRoot())
		}
	}
}

// TestMFAGap reads seed 003's two questions off the owner's policies: may
// the key assume roles without MFA, and has the owner an MFA device.
func TestMFAGap(t *testing.T) {
	open := PolicyRef{Name: "deploy", Source: "inline", Doc: `{"Statement":[` +
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/*"},` +
		`{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}`}
	gated := PolicyRef{Name: "bastion", Source: "inline", Doc: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*",` +
		`"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`}
	power := PolicyRef{Name: "PowerUserAccess", Source: "attached", Doc: `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}`}
	denied := PolicyRef{Name: "deny", Source: "inline", Doc: `{"Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}`}
	for _, tc := range []struct {
		name     string
		devices  int
		policies []PolicyRef
		roles    []string
		gap      []string
	}{
		{"seed 003 bastion", 1, []PolicyRef{gated}, nil, nil},
		{"any role without MFA", 1, []PolicyRef{open}, []string{"arn:aws:iam::123456789012:role/*"}, []string{"without aws:MultiFactorAuthPresent"}},
		{"power user, no device", 0, []PolicyRef{power, denied}, []string{"*"}, []string{"ci-deploy has no MFA device", "assume roles (*)"}},
		{"no device, no roles", 0, nil, nil, []string{"ci-deploy has no MFA device"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mfaGap("ci-deploy", tc.devices, tc.policies)
			if !slices.Equal(g.AssumeWithoutMFA, tc.roles) {
				t.Errorf("roles without MFA = %v, want %v", g.AssumeWithoutMFA, tc.roles)
			}
			if g.Gap() != (len(tc.gap) > 0) {
				t.Errorf("gap = %q", g.Summary)
			}
			for _, w := range tc.gap {
				if !strings.Contains(g.Summary, w) {
					t.Errorf("summary %q lacks %q", g.Summary, w)
				}
			}
		})
	}
}
