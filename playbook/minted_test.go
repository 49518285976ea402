package playbook

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

// The credentials the attacker minted in mintedAccount.
const (
	backdoorKey  = "AKIABACKDOORBACKDOO1"
	aliceKey     = "AKIAALICEALICEALICE2"
	botSession   = "ASIABOTSESSIONBOTSE1"
	fedSession   = "ASIAFEDERATIONFEDER1"
	roleSession  = "ASIAROLESESSIONROLE1"
	backdoorSess = "ASIABACKDOORSESSION1"
	oldRole      = "ASIAOLDROLESESSIONX1"
	etlRole      = "arn:aws:iam::123456789012:role/etl-runner"
	outsider     = "arn:aws:iam::999988887777:root"
)

// ctRecord builds a CloudTrail record of key (of user, "" for a role
// session) calling service:name at.
func ctRecord(t *testing.T, id, key, user, service, name, region string, at time.Time, request, response map[string]any) []byte {
	t.Helper()
	ident := map[string]any{"type": "IAMUser", "accessKeyId": key, "userName": user, "accountId": testAccount,
		"arn": "arn:aws:iam::" + testAccount + ":user/" + user}
	if user == "" {
		ident = map[string]any{"type": "AssumedRole", "accessKeyId": key, "accountId": testAccount,
			"arn": "arn:aws:sts::" + testAccount + ":assumed-role/etl-runner/etl"}
	}
	b, err := json.Marshal(map[string]any{
		"eventVersion": "1.09", "eventID": id, "eventTime": at.UTC().Format(time.RFC3339),
		"eventSource": service + ".amazonaws.com", "eventName": name, "awsRegion": region,
		"sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2", "userIdentity": ident,
		"requestParameters": request, "responseElements": response, "recipientAccountId": testAccount,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mintedAccount gives the fake account what an attacker made with the
// leaked key ten minutes before t0, and the CloudTrail that tells it: a
// user with a key and a console password, a key for the existing user
// alice, a session token, a federation token, a role session, a changed
// trust policy and an MFA device; the backdoor key then makes a session of
// its own. An hour-old role session has expired.
func mintedAccount(t *testing.T, f *fakeAWS) TrailClients {
	t.Helper()
	at := t0.Add(-10 * time.Minute)
	login := at.Add(6 * time.Second)
	f.users["backup-admin"] = &fakeUser{created: at, inline: map[string]string{}, login: &login}
	f.users["alice"] = &fakeUser{created: t0.AddDate(-1, 0, 0), inline: map[string]string{}}
	f.keys[backdoorKey] = &fakeKey{user: "backup-admin", status: "Active", created: at.Add(2 * time.Second)}
	f.keys[aliceKey] = &fakeKey{user: "alice", status: "Active", created: at.Add(3 * time.Second)}
	f.roles["etl-runner"] = map[string]string{"trust": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:user/data-pipeline","` + outsider + `"]},"Action":"sts:AssumeRole"}]}`}
	f.mfa["arn:aws:iam::123456789012:mfa/bk"] = "alice"
	exp := func(d time.Duration) string { return t0.Add(d).Format(time.RFC3339) }
	ct := trailtest.NewCloudTrail()
	add := func(region string, b []byte) {
		if err := ct.AddRecord(region, b); err != nil {
			t.Fatal(err)
		}
	}
	use1 := "us-east-1"
	add(use1, ctRecord(t, "e01", testKey, "ci-deploy", "iam", "CreateUser", use1, at, map[string]any{"userName": "backup-admin"},
		map[string]any{"user": map[string]any{"userName": "backup-admin"}}))
	add(use1, ctRecord(t, "e02", testKey, "ci-deploy", "iam", "CreateAccessKey", use1, at.Add(2*time.Second), map[string]any{"userName": "backup-admin"},
		map[string]any{"accessKey": map[string]any{"accessKeyId": backdoorKey, "userName": "backup-admin", "status": "Active"}}))
	add(use1, ctRecord(t, "e03", testKey, "ci-deploy", "iam", "CreateAccessKey", use1, at.Add(3*time.Second), map[string]any{"userName": "alice"},
		map[string]any{"accessKey": map[string]any{"accessKeyId": aliceKey, "userName": "alice", "status": "Active"}}))
	add(use1, ctRecord(t, "e04", testKey, "ci-deploy", "sts", "GetSessionToken", use1, at.Add(4*time.Second), nil,
		map[string]any{"credentials": map[string]any{"accessKeyId": botSession, "expiration": exp(36 * time.Hour)}}))
	add(use1, ctRecord(t, "e05", testKey, "ci-deploy", "sts", "GetFederationToken", use1, at.Add(5*time.Second), map[string]any{"name": "svc"},
		map[string]any{"credentials": map[string]any{"accessKeyId": fedSession, "expiration": exp(36 * time.Hour)}}))
	add(use1, ctRecord(t, "e06", testKey, "ci-deploy", "iam", "CreateLoginProfile", use1, at.Add(6*time.Second), map[string]any{"userName": "backup-admin"}, nil))
	add(use1, ctRecord(t, "e07", testKey, "ci-deploy", "iam", "UpdateAssumeRolePolicy", use1, at.Add(7*time.Second),
		map[string]any{"roleName": "etl-runner", "policyDocument": f.roles["etl-runner"]["trust"]}, nil))
	add(use1, ctRecord(t, "e08", testKey, "ci-deploy", "iam", "CreateVirtualMFADevice", use1, at.Add(8*time.Second), map[string]any{"virtualMFADeviceName": "bk"},
		map[string]any{"virtualMFADevice": map[string]any{"serialNumber": "arn:aws:iam::123456789012:mfa/bk"}}))
	add(use1, ctRecord(t, "e08b", testKey, "ci-deploy", "iam", "EnableMFADevice", use1, at.Add(8*time.Second+500*time.Millisecond),
		map[string]any{"userName": "alice", "serialNumber": "arn:aws:iam::123456789012:mfa/bk"}, nil))
	// A hardware device, since removed by someone: not a virtual device.
	add(use1, ctRecord(t, "e08c", testKey, "ci-deploy", "iam", "EnableMFADevice", use1, at.Add(8*time.Second+700*time.Millisecond),
		map[string]any{"userName": "backup-admin", "serialNumber": "GAHT00000001"}, nil))
	// A regional STS endpoint: the role session is logged in eu-west-2.
	add("eu-west-2", ctRecord(t, "e09", testKey, "ci-deploy", "sts", "AssumeRole", "eu-west-2", at.Add(9*time.Second),
		map[string]any{"roleArn": etlRole, "roleSessionName": "etl"},
		map[string]any{"credentials": map[string]any{"accessKeyId": roleSession, "expiration": exp(12 * time.Hour)}}))
	add("eu-west-2", ctRecord(t, "e10", testKey, "ci-deploy", "sts", "AssumeRole", "eu-west-2", t0.Add(-3*time.Hour),
		map[string]any{"roleArn": etlRole, "roleSessionName": "old"},
		map[string]any{"credentials": map[string]any{"accessKeyId": oldRole, "expiration": exp(-2 * time.Hour)}}))
	// The backdoor key's own session: found by following the backdoor key.
	add(use1, ctRecord(t, "e11", backdoorKey, "backup-admin", "sts", "GetSessionToken", use1, at.Add(20*time.Second), nil,
		map[string]any{"credentials": map[string]any{"accessKeyId": backdoorSess, "expiration": exp(36 * time.Hour)}}))
	// What the sessions did: no credential.
	add(use1, ctRecord(t, "e12", roleSession, "", "s3", "ListBuckets", use1, at.Add(30*time.Second), nil, nil))
	return TrailClients{
		Regions:    trailtest.Regions{},
		CloudTrail: func(r string) cloudtrail.LookupEventsAPIClient { return ct.Client(r) },
		Options: []trail.Option{trail.WithLimiter(func(string) trail.Limiter { return trailtest.NewLimiter(2) }),
			trail.WithClock(trailtest.NewClock(t0))},
	}
}

var yesToAll = WithConfirm(func(context.Context, Step, []Action) (bool, error) { return true, nil })

func credByID(sum *Summary, id string) AttackerCredential {
	for _, c := range sum.Credentials {
		if c.ID == id {
			return c
		}
	}
	return AttackerCredential{State: "absent"}
}

func writes(f *fakeAWS) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		for _, p := range []string{"iam:Update", "iam:Put", "iam:Delete", "iam:Create"} {
			if strings.HasPrefix(c, p) {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestContainMinted(t *testing.T) {
	f := newFake()
	tc := mintedAccount(t, f)
	c := newCase(t)

	// A dry run plans every credential and changes nothing.
	sum, err := newRunner(c, f, WithDryRun(true), WithTrail(tc)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w := writes(f); len(w) > 0 {
		t.Fatalf("dry run wrote: %v", w)
	}
	var planned []string
	for _, s := range sum.Steps {
		for _, a := range s.Actions {
			planned = append(planned, a.Description)
		}
	}
	all := strings.Join(planned, "\n")
	for _, want := range []string{backdoorKey, aliceKey, "--user-name backup-admin --policy-name keyleak-deny-all",
		"PutRolePolicy --role-name etl-runner", "DeleteLoginProfile --user-name backup-admin",
		"UpdateAssumeRolePolicy --role-name etl-runner", "DeactivateMFADevice --user-name alice", "DeleteVirtualMFADevice"} {
		if !strings.Contains(all, want) {
			t.Errorf("dry run plan lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "PutUserPolicy --user-name alice") {
		t.Errorf("alice has no session of the attacker's, yet her sessions would be revoked:\n%s", all)
	}

	sum, err = newRunner(c, f, yesToAll, WithTrail(tc)).Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, s := range sum.Steps {
		ids := map[string]bool{}
		for _, a := range s.Actions {
			if ids[a.ID] {
				t.Errorf("step %s lists action %s twice", s.ID, a.ID)
			}
			ids[a.ID] = true
		}
	}
	if f.status(backdoorKey) != "Inactive" || f.status(aliceKey) != "Inactive" || f.status(testKey) != "Inactive" {
		t.Errorf("keys: backdoor %s, alice's %s, leaked %s", f.status(backdoorKey), f.status(aliceKey), f.status(testKey))
	}
	if since, ok := DenyAllSinceOf(f.inlineDoc("backup-admin", DenyAllPolicyName)); !ok || since.IsZero() {
		t.Errorf("backup-admin's deny-all policy: %q", f.inlineDoc("backup-admin", DenyAllPolicyName))
	}
	if _, ok := RevokeTimeOf(f.roles["etl-runner"][RevokePolicyName]); !ok {
		t.Error("etl-runner's sessions not revoked")
	}
	if f.users["backup-admin"].login != nil {
		t.Error("backup-admin's console password not removed")
	}
	if f.inlineDoc("alice", RevokePolicyName) != "" {
		t.Error("alice's sessions revoked though the attacker holds none")
	}
	if trust := f.roles["etl-runner"]["trust"]; strings.Contains(trust, outsider) || !strings.Contains(trust, "user/data-pipeline") {
		t.Errorf("etl-runner's trust policy after the revert: %s", trust)
	}
	if len(f.mfa) != 0 {
		t.Errorf("MFA devices left: %v", f.mfa)
	}
	want := map[string]string{
		testKey: CredInactive, backdoorKey: CredInactive, aliceKey: CredInactive,
		botSession: CredDenied, fedSession: CredDenied, roleSession: CredDenied, backdoorSess: CredDenied, oldRole: CredExpired,
		"backup-admin": CredDenied, "etl-runner": CredReverted, "arn:aws:iam::123456789012:mfa/bk": CredDeleted, "GAHT00000001": CredDeleted,
	}
	for id, state := range want {
		if got := credByID(sum, id); got.State != state {
			t.Errorf("%s: state %s (%s), want %s", id, got.State, got.Note, state)
		}
	}
	if c := credByID(sum, roleSession); c.DeniedSince.IsZero() || c.Kind != CredRoleSession || c.Session != "etl" || c.Region != "eu-west-2" {
		t.Errorf("role session %+v", c)
	}
	if got := credByID(sum, roleSession).SeenIn; !slices.Equal(got, []string{"us-east-1"}) {
		t.Errorf("role session seen in %v, want us-east-1", got)
	}
	if got := credByID(sum, testKey).SeenIn; !slices.Equal(got, []string{"eu-west-2", "us-east-1"}) {
		t.Errorf("leaked key seen in %v", got)
	}
	if sum.Credentials[0].ID != testKey {
		t.Errorf("the leaked key is not listed first: %+v", sum.Credentials[0])
	}
	var pw AttackerCredential
	for _, c := range sum.Credentials {
		if c.Kind == CredConsolePassword {
			pw = c
		}
	}
	if pw.State != CredDeleted {
		t.Errorf("console password %+v", pw)
	}
	warn := strings.Join(sum.Warnings, "\n")
	for _, w := range []string{"trust policy of role etl-runner", outsider, "MFA device arn:aws:iam::123456789012:mfa/bk", "legitimate sessions too"} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings lack %q:\n%s", w, warn)
		}
	}
	if sum.MintedSearch == nil || !sum.MintedSearch.Searched || sum.MintedSearch.Regions != len(trailtest.DefaultRegions) ||
		!strings.Contains(sum.MintedSearch.Delay, "15 minutes") {
		t.Errorf("search %+v", sum.MintedSearch)
	}

	// A second run changes nothing and says so.
	before := len(writes(f))
	sum, err = newRunner(c, f, yesToAll, WithTrail(tc)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if w := writes(f)[before:]; len(w) > 0 {
		t.Errorf("second run wrote: %v", w)
	}
	for _, id := range []string{StepContainMinted, StepRemoveMintedLogins, StepRevertMinted} {
		if s := stepStatus(sum, id); s != StatusAlreadyDone {
			t.Errorf("second run: %s %s", id, s)
		}
	}

	// Undo turns it all back, the policy of the role included.
	r := newRunner(c, f, WithTrail(tc))
	if _, err := r.Undo(context.Background(), StepContainMinted); err != nil {
		t.Fatal(err)
	}
	if f.status(backdoorKey) != "Active" || f.inlineDoc("backup-admin", DenyAllPolicyName) != "" || f.roles["etl-runner"][RevokePolicyName] != "" {
		t.Error("undo left changes in place")
	}
}

// TestContainMintedRefusesResponderRole checks the self-lockout guard on
// roles: a responder signed in through a role the attacker also holds is
// refused that role (the rest is contained) unless --force.
func TestContainMintedRefusesResponderRole(t *testing.T) {
	f := newFake()
	tc := mintedAccount(t, f)
	f.callerARN = "arn:aws:sts::123456789012:assumed-role/etl-runner/responder"
	c := newCase(t)
	sum, err := NewRunner(c, f, f, WithClock(testClock), WithResponderKeyID("ASIARESPONDERSESSIO1"), yesToAll, WithTrail(tc)).Run(context.Background())
	var pe *PartialError
	var lock *SelfLockoutError
	if !errors.As(err, &pe) || !errors.As(err, &lock) || !strings.Contains(lock.Reason, "etl-runner") {
		t.Fatalf("err = %v, want a partial run refusing role etl-runner", err)
	}
	if f.roles["etl-runner"][RevokePolicyName] != "" {
		t.Error("the responder's role was revoked without --force")
	}
	if f.status(backdoorKey) != "Inactive" {
		t.Error("the backdoor key was left active because of the refused role")
	}
	if c := credByID(sum, roleSession); c.State != CredWorking {
		t.Errorf("role session reported %s, want working", c.State)
	}
	_, err = NewRunner(c, f, f, WithClock(testClock), WithResponderKeyID("ASIARESPONDERSESSIO1"), yesToAll, WithTrail(tc), WithForce(true)).Run(context.Background())
	if err != nil {
		t.Fatalf("with --force: %v", err)
	}
	if f.roles["etl-runner"][RevokePolicyName] == "" {
		t.Error("--force did not revoke the role's sessions")
	}
}

// TestContainMintedLeakedAt checks that what the key made before the leak
// is listed and left alone.
func TestContainMintedLeakedAt(t *testing.T) {
	f := newFake()
	tc := mintedAccount(t, f)
	c := newCase(t)
	sum, err := newRunner(c, f, yesToAll, WithTrail(tc), WithLeakedAt(t0.Add(-10*time.Minute).Add(5*time.Second))).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.status(backdoorKey) != "Active" || f.inlineDoc("backup-admin", DenyAllPolicyName) != "" {
		t.Error("a user and key made before the leak were touched")
	}
	if got := credByID(sum, "backup-admin"); !got.BeforeLeak || got.State != CredWorking {
		t.Errorf("backup-admin %+v", got)
	}
	if f.roles["etl-runner"][RevokePolicyName] == "" {
		t.Error("the role session made after the leak was not revoked")
	}
}

// TestContainMintedWithoutTrail checks that a run without CloudTrail access
// says it did not look, and lists the leaked key only.
func TestContainMintedWithoutTrail(t *testing.T) {
	f := newFake()
	sum, err := newRunner(newCase(t), f, yesToAll).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Credentials) != 1 || sum.Credentials[0].State != CredInactive || sum.MintedSearch != nil {
		t.Errorf("credentials %+v, search %+v", sum.Credentials, sum.MintedSearch)
	}
	if !strings.Contains(strings.Join(sum.Warnings, "\n"), "no CloudTrail access") {
		t.Errorf("warnings %v", sum.Warnings)
	}
}

// TestMintedSearchWaitsForTheKey checks that the CloudTrail lookups start
// only once the key is off: they would crowd the deactivation's round trip.
func TestMintedSearchWaitsForTheKey(t *testing.T) {
	f := newFake()
	tc := mintedAccount(t, f)
	c := newCase(t)
	if _, err := newRunner(c, f, yesToAll, WithTrail(tc)).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	deactivated := false
	for _, e := range journalEntries(t, c) {
		switch {
		case e.Kind == KindOutcome && e.Action == "iam:UpdateAccessKey" && e.Step == StepContain:
			deactivated = true
		case e.Kind == KindIntent && e.Action == "cloudtrail:LookupEvents" && !deactivated:
			t.Fatalf("LookupEvents (entry %d) started before the key was deactivated", e.Seq)
		}
	}
	if !deactivated {
		t.Fatal("the key was not deactivated")
	}
}
