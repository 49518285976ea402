package audit

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/mototest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

var now = time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// seededAccount is a simulated account with one user for each check and
// one user who passes them all. It returns the server and the admin key.
func seededAccount(t *testing.T) (*awssim.Server, awssim.Credential, map[string]string) {
	t.Helper()
	clk := &clock{t: now}
	sim := awssim.New(awssim.WithClock(clk.now))
	ids := map[string]string{}
	key := func(user string, created time.Time, usedAt ...time.Time) *awssim.Credential {
		k, err := sim.AddAccessKey(user, created, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range usedAt {
			if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "GetUser", Region: "us-east-1", AccessKeyID: k.AccessKeyID, Time: at}); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	user := func(name string, created time.Time, policies ...string) {
		if err := sim.AddUser(name, created, policies...); err != nil {
			t.Fatal(err)
		}
	}
	user("admin", now.Add(-days(400)), "AdministratorAccess")
	admin := key("admin", now.Add(-days(10)), now.Add(-time.Hour))
	user("old", now.Add(-days(400)), "ReadOnlyAccess")
	ids["old"] = key("old", now.Add(-days(200)), now.Add(-days(1))).AccessKeyID
	user("stale", now.Add(-days(400)))
	ids["stale"] = key("stale", now.Add(-days(120))).AccessKeyID
	user("forgotten", now.Add(-days(400)))
	ids["forgotten"] = key("forgotten", now.Add(-days(95)), now.Add(-days(94))).AccessKeyID
	user("doubled", now.Add(-days(30)))
	key("doubled", now.Add(-days(20)), now.Add(-days(1)))
	key("doubled", now.Add(-days(10)), now.Add(-days(1)))
	user("fresh", now.Add(-days(30)))
	key("fresh", now.Add(-days(5)), now.Add(-days(1)))
	user("console", now.Add(-days(30)))
	key("console", now.Add(-days(5)), now.Add(-days(1)))
	// A console password, made by the admin.
	if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "CreateLoginProfile", Region: "us-east-1", AccessKeyID: admin.AccessKeyID,
		Params: map[string]string{"UserName": "console", "Password": "correct-horse-9"}, Time: now.Add(-days(2))}); err != nil {
		t.Fatal(err)
	}
	user("retired", now.Add(-days(400)))
	r, err := sim.AddAccessKey("retired", now.Add(-days(300)), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "UpdateAccessKey", Region: "us-east-1", AccessKeyID: admin.AccessKeyID,
		Params: map[string]string{"UserName": "retired", "AccessKeyId": r.AccessKeyID, "Status": "Inactive"}, Time: now.Add(-days(100))}); err != nil {
		t.Fatal(err)
	}
	sim.AddRootKey(now.Add(-days(700)))
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, *admin, ids
}

func summary(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check+":"+f.User)
	}
	slices.Sort(out)
	return out
}

func TestAuditAgainstSimulator(t *testing.T) {
	srv, admin, ids := seededAccount(t)
	c := iam.NewFromConfig(srv.Config(admin, "us-east-1"))
	polls := 0
	r, err := Run(context.Background(), c, WithSleep(func(context.Context, time.Duration) error { polls++; return nil }))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		CheckAdminKey + ":admin",
		CheckConsoleNoMFA + ":console",
		CheckOldKey + ":forgotten", CheckUnusedKey + ":forgotten",
		CheckOldKey + ":old",
		CheckOldKey + ":stale", CheckUnusedKey + ":stale",
		CheckRootKey + ":" + RootUser,
		CheckTwoActiveKeys + ":doubled",
	}
	slices.Sort(want)
	if got := summary(r.Findings); !slices.Equal(got, want) {
		t.Errorf("findings:\n got %v\nwant %v", got, want)
	}
	if polls != 1 || !r.Generated.Equal(now) || r.Account != "123456789012" {
		t.Errorf("polls %d, generated %v, account %q", polls, r.Generated, r.Account)
	}
	for _, f := range r.Findings {
		if (f.Check == CheckOldKey || f.Check == CheckUnusedKey) && f.AccessKeyID != ids[f.User] {
			t.Errorf("%s of %s names key %q, want %s", f.Check, f.User, f.AccessKeyID, ids[f.User])
		}
	}
	if r.Findings[0].Severity != SeverityHigh {
		t.Errorf("most severe first: %+v", r.Findings[0])
	}
	recs := Recommendations(r)
	if recs[0].Severity != SeverityHigh || recs[len(recs)-1].ID != "git-secrets" {
		t.Errorf("recommendations = %+v", recs)
	}
	for _, rec := range recs {
		if rec.ID == CheckOldKey && !slices.Contains(rec.Subjects, "old/"+ids["old"]) {
			t.Errorf("old-key recommendation subjects = %v", rec.Subjects)
		}
	}

	// Stricter limits find more; the report is reused within four hours.
	r2, err := Run(context.Background(), c, WithMaxAge(days(7)), WithMaxUnused(days(7)), WithoutPolicies())
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(r2.Findings); !slices.Contains(got, CheckOldKey+":doubled") || slices.Contains(got, CheckAdminKey+":admin") {
		t.Errorf("with 7-day limits and no policies: %v", got)
	}
}

func TestAuditDeniedIsAnError(t *testing.T) {
	srv, _, _ := seededAccount(t)
	sim := srv.Sim
	if err := sim.AddUser("nobody", now); err != nil {
		t.Fatal(err)
	}
	k, _ := sim.AddAccessKey("nobody", now, "")
	// The simulator allows what no explicit deny forbids; deny the report.
	if _, err := sim.Do(&awssim.Call{Service: "iam", Action: "PutUserPolicy", Region: "us-east-1", Identity: map[string]any{"type": "AWSService"},
		Params: map[string]string{"UserName": "nobody", "PolicyName": "deny", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*CredentialReport","Resource":"*"}]}`}}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), iam.NewFromConfig(srv.Config(*k, "us-east-1")))
	if err == nil || !strings.Contains(err.Error(), "generate credential report") {
		t.Fatalf("err = %v", err)
	}
}

func TestAuditAgainstMoto(t *testing.T) {
	moto := mototest.Start(t, mototest.WithManagedPolicies()) // "boss" gets AdministratorAccess
	ctx := context.Background()
	c := iam.NewFromConfig(moto.Config("AKIAIOSFODNN7EXAMPLE", "secret", "us-east-1"))
	mk := func(user string, keys int) []string {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for range keys {
			out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, aws.ToString(out.AccessKey.AccessKeyId))
		}
		return ids
	}
	mk("doubled", 2)
	mk("console", 1)
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("console"), Password: aws.String("correct-horse-9")}); err != nil {
		t.Fatal(err)
	}
	mk("boss", 1)
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("boss"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	mk("fine", 1)
	r, err := Run(ctx, c, WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	got := summary(r.Findings)
	for _, w := range []string{CheckTwoActiveKeys + ":doubled", CheckConsoleNoMFA + ":console", CheckAdminKey + ":boss"} {
		if !slices.Contains(got, w) {
			t.Errorf("moto: %s missing from %v", w, got)
		}
	}
	for _, g := range got {
		if strings.HasSuffix(g, ":fine") || strings.HasPrefix(g, CheckOldKey) || strings.HasPrefix(g, CheckUnusedKey) {
			t.Errorf("moto: unexpected finding %s", g)
		}
	}
	for _, u := range r.Users {
		if u.Name == "doubled" && (len(u.Keys) != 2 || u.Keys[0].AccessKeyID == "") {
			t.Errorf("moto: doubled's keys = %+v", u.Keys)
		}
	}
}
