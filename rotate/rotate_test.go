package rotate

import (
	"context"
	"errors"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var start = time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC)

// fixture is a simulated account with a responder ("ops", who rotates) and
// a workload user "app" with one key, made 200 days ago.
type fixture struct {
	t     *testing.T
	clk   *clock
	sim   *awssim.Sim
	srv   *awssim.Server
	ops   awssim.Credential
	app   awssim.Credential
	iam   *iam.Client
	cfg   aws.Config
	cases string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: start}
	sim := awssim.New(awssim.WithClock(clk.now))
	for _, u := range []string{"ops", "app"} {
		if err := sim.AddUser(u, start.AddDate(-1, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	ops, _ := sim.AddAccessKey("ops", start.AddDate(0, -1, 0), "")
	app, _ := sim.AddAccessKey("app", start.AddDate(0, 0, -200), "workload")
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := srv.Config(*ops, "us-east-1")
	return &fixture{t: t, clk: clk, sim: sim, srv: srv, ops: *ops, app: *app, iam: iam.NewFromConfig(cfg), cfg: cfg, cases: t.TempDir()}
}

func yes(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }

// rotate runs one rotation of key in its case (opened or created).
func (f *fixture) rotate(key string, dest Destination, iamc IAM, opts ...Option) (*Summary, error) {
	f.t.Helper()
	c, _, err := playbook.OpenOrCreateCase(f.cases, key, f.clk.now())
	if err != nil {
		f.t.Fatal(err)
	}
	defer c.Close()
	if iamc == nil {
		iamc = f.iam
	}
	ct := cloudtrail.NewFromConfig(f.cfg)
	opts = append([]Option{WithClock(f.clk.now), WithTrail(func(string) cloudtrail.LookupEventsAPIClient { return ct }, "us-east-1")}, opts...)
	return New(c, iamc, dest, opts...).Run(context.Background())
}

func (f *fixture) keys(user string) map[string]string {
	f.t.Helper()
	out, err := f.iam.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]string{}
	for _, k := range out.AccessKeyMetadata {
		m[aws.ToString(k.AccessKeyId)] = string(k.Status)
	}
	return m
}

// caseBytes is everything the case directory holds.
func (f *fixture) caseBytes() string {
	var b strings.Builder
	_ = filepath.WalkDir(f.cases, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}

func TestRoutineRotationAgainstSimulator(t *testing.T) {
	f := newFixture(t)
	sm := secretsmanager.NewFromConfig(f.cfg)
	dest := SecretsManager(sm, "app/aws")
	creds := filepath.Join(t.TempDir(), "credentials")

	// Without confirmation: the new key is made and handed over, the old
	// one stays active, and the summary says what to do.
	sum, err := f.rotate(f.app.AccessKeyID, dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	newID := sum.NewKeyID
	if sum.Mode != ModeRoutine || newID == "" || sum.Done || !strings.Contains(sum.Next, "switch the workload") {
		t.Fatalf("first run: %+v", sum)
	}
	if k := f.keys("app"); len(k) != 2 || k[f.app.AccessKeyID] != "Active" || k[newID] != "Active" {
		t.Fatalf("after the first run: %v", k)
	}
	// The workload switches: it calls with the new key.
	newCred, _ := f.sim.Key(newID)
	if _, err := iam.NewFromConfig(f.srv.Config(newCred, "us-east-1")).GetUser(context.Background(), &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}

	f.clk.advance(time.Hour)
	sum, err = f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithWatch(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sum.NewKeyID != newID || sum.Done || sum.WatchUntil.IsZero() || !strings.Contains(sum.Next, "after") {
		t.Fatalf("second run: %+v", sum)
	}
	if k := f.keys("app"); k[f.app.AccessKeyID] != "Inactive" || k[newID] != "Active" {
		t.Fatalf("after the second run: %v", k)
	}

	// Before the watch is over, nothing is deleted.
	f.clk.advance(12 * time.Hour)
	if sum, err = f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithWatch(24*time.Hour)); err != nil || sum.Done {
		t.Fatalf("mid-watch: %+v, %v", sum, err)
	}
	f.clk.advance(13 * time.Hour)
	sum, err = f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithWatch(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Done || sum.Next != "" {
		t.Fatalf("after the watch: %+v", sum)
	}
	if k := f.keys("app"); len(k) != 1 || k[newID] != "Active" {
		t.Fatalf("keys at the end: %v, want exactly the new key, active", k)
	}
	// The secret went to Secrets Manager, and nowhere else.
	got, err := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/aws")})
	if err != nil || !strings.Contains(aws.ToString(got.SecretString), newCred.Secret) || !strings.Contains(aws.ToString(got.SecretString), newID) {
		t.Fatalf("secret value: %v", err)
	}
	if strings.Contains(f.caseBytes(), newCred.Secret) {
		t.Error("the secret is in the case directory")
	}
	if _, err := os.Stat(creds); err == nil {
		t.Error("a credentials file was written")
	}
	for _, ev := range lookupAll(t, f) {
		if strings.Contains(ev, newCred.Secret) {
			t.Errorf("the secret is in a CloudTrail record: %s", ev)
		}
	}
	// A run after the end changes nothing.
	if sum, err = f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes)); err != nil || !sum.Done {
		t.Fatalf("run after the end: %+v, %v", sum, err)
	}
}

func lookupAll(t *testing.T, f *fixture) []string {
	t.Helper()
	var out []string
	for _, region := range []string{"us-east-1"} {
		p := cloudtrail.NewLookupEventsPaginator(cloudtrail.NewFromConfig(f.srv.Config(f.ops, region)), &cloudtrail.LookupEventsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				out = append(out, aws.ToString(e.CloudTrailEvent))
			}
		}
	}
	return out
}

func TestWatchSeesUseAfterDeactivation(t *testing.T) {
	f := newFixture(t)
	dest := CredentialsFile(filepath.Join(t.TempDir(), "credentials"), "app")
	if _, err := f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithWatch(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Something reactivates the old key and uses it.
	ctx := context.Background()
	if _, err := f.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(f.app.AccessKeyID), Status: "Active"}); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(time.Minute)
	if _, err := iam.NewFromConfig(f.srv.Config(f.app, "us-east-1")).GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(2 * time.Hour)
	sum, err := f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithWatch(time.Hour))
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "used after it was deactivated") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := f.keys("app")[f.app.AccessKeyID]; !ok || sum.Done {
		t.Fatal("the old key was deleted although it was used")
	}
}

// failingCreate makes CreateAccessKey succeed in the account but lose its
// answer, as a dropped connection does.
type failingCreate struct {
	IAM
	fail bool
}

func (c *failingCreate) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, o ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	out, err := c.IAM.CreateAccessKey(ctx, in, o...)
	if err == nil && c.fail {
		c.fail = false
		return nil, errors.New("read tcp 127.0.0.1: connection reset by peer")
	}
	return out, err
}

func TestInterruptedCreateNeverMakesAThirdKey(t *testing.T) {
	f := newFixture(t)
	// The user already has a spare, inactive key: one slot is free.
	spare, _ := f.sim.AddAccessKey("app", start.AddDate(0, 0, -300), "")
	if _, err := f.iam.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(spare.AccessKeyID), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(f.cfg)
	dest := SecretsManager(sm, "app/aws")
	// The spare goes first (confirmed), then the create's answer is lost.
	sum, err := f.rotate(f.app.AccessKeyID, dest, &failingCreate{IAM: f.iam, fail: true}, WithConfirm(yes))
	if err == nil {
		t.Fatalf("first run: no error, %+v", sum)
	}
	if !strings.Contains(sum.Slots, "The inactive key goes first") {
		t.Errorf("slots: %q", sum.Slots)
	}
	k := f.keys("app")
	if len(k) != 2 || k[f.app.AccessKeyID] != "Active" {
		t.Fatalf("after the interrupted create: %v (the old key must still work)", k)
	}
	var orphan string
	for id := range k {
		if id != f.app.AccessKeyID {
			orphan = id
		}
	}
	// The next run deletes the orphan (its secret is lost) before making a
	// new key: never three keys, never LimitExceeded.
	f.clk.advance(time.Minute)
	sum, err = f.rotate(f.app.AccessKeyID, dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	k = f.keys("app")
	if _, ok := k[orphan]; ok || len(k) != 2 || k[sum.NewKeyID] != "Active" || k[f.app.AccessKeyID] != "Active" {
		t.Fatalf("after resuming: %v, summary %+v", k, sum)
	}
	for _, e := range f.sim.Truth().Events {
		if e.ErrorCode == "LimitExceeded" {
			t.Errorf("a third key was attempted: %+v", e)
		}
	}
}

func TestBothSlotsActiveIsExplained(t *testing.T) {
	f := newFixture(t)
	other, _ := f.sim.AddAccessKey("app", start.AddDate(0, 0, -10), "")
	sum, err := f.rotate(f.app.AccessKeyID, Writer(&strings.Builder{}), nil, WithConfirm(yes))
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "both key slots in use by active keys") || !strings.Contains(be.Reason, other.AccessKeyID) {
		t.Fatalf("err = %v", err)
	}
	if len(f.keys("app")) != 2 || sum.NewKeyID != "" {
		t.Fatalf("something changed: %v", f.keys("app"))
	}
}

func TestIncidentRotationWaitsForTheInvestigation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	leaked := f.app.AccessKeyID
	other, _ := f.sim.AddAccessKey("app", start.AddDate(0, 0, -10), "")
	// Contained: inactive, and the case journal says so.
	if _, err := f.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("app"), AccessKeyId: aws.String(leaked), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	c, err := playbook.CreateCase(f.cases, leaked, start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: playbook.StepContain, Message: "contained"}); err != nil {
		t.Fatal(err)
	}
	c.Close()

	var out strings.Builder
	dest := Writer(&out)
	sum, err := f.rotate(leaked, dest, nil, WithConfirm(yes))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Mode != ModeIncident || sum.NewKeyID != "" || !strings.Contains(sum.Next, "keyleak investigate") ||
		!strings.Contains(sum.Slots, "The leaked key goes first") || out.Len() != 0 {
		t.Fatalf("before the investigation: %+v", sum)
	}
	if k := f.keys("app"); len(k) != 2 {
		t.Fatalf("keys changed before the investigation: %v", k)
	}
	// The investigation runs.
	c, err = playbook.OpenCase(sum.Case)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "investigate", Message: "investigation: 12 events"}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	sum, err = f.rotate(leaked, dest, nil, WithConfirm(yes))
	if err != nil {
		t.Fatal(err)
	}
	k := f.keys("app")
	if _, ok := k[leaked]; ok || len(k) != 2 || k[sum.NewKeyID] != "Active" || k[other.AccessKeyID] != "Active" || sum.Done {
		t.Fatalf("after the investigation: %v, %+v", k, sum)
	}
	// Printed once, and only there.
	newCred, _ := f.sim.Key(sum.NewKeyID)
	if strings.Count(out.String(), newCred.Secret) != 1 || strings.Contains(f.caseBytes(), newCred.Secret) {
		t.Errorf("secret printed %d times; in case: %v", strings.Count(out.String(), newCred.Secret), strings.Contains(f.caseBytes(), newCred.Secret))
	}
}

func TestLeakedKeyStillActiveIsRefused(t *testing.T) {
	f := newFixture(t)
	_, err := f.rotate(f.app.AccessKeyID, Writer(&strings.Builder{}), nil, WithMode(ModeIncident), WithConfirm(yes))
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "contain it first") {
		t.Fatalf("err = %v", err)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	before := len(f.sim.Truth().Events)
	sum, err := f.rotate(f.app.AccessKeyID, SecretsManager(secretsmanager.NewFromConfig(f.cfg), "x"), nil, WithDryRun(true))
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for _, s := range sum.Steps {
		for _, a := range s.Actions {
			plan = append(plan, a.Description)
		}
	}
	all := strings.Join(plan, "\n")
	for _, want := range []string{"iam CreateAccessKey --user-name app", "UpdateAccessKey", "DeleteAccessKey"} {
		if !strings.Contains(all, want) {
			t.Errorf("plan lacks %q:\n%s", want, all)
		}
	}
	for _, e := range f.sim.Truth().Events[before:] {
		if !strings.HasPrefix(e.EventName, "Get") && !strings.HasPrefix(e.EventName, "List") {
			t.Errorf("dry run made %s", e.EventName)
		}
	}
	if len(f.keys("app")) != 1 {
		t.Error("dry run made a key")
	}
}

func TestSetProfile(t *testing.T) {
	in := "# mine\n[default]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\naws_session_token = tok\nregion = eu-west-1\n\n[other]\naws_access_key_id = AKIAOTHER\n"
	out := string(setProfile([]byte(in), "default", map[string]string{"aws_access_key_id": "AKIANEW", "aws_secret_access_key": "s3cr3t"}))
	if profileValue([]byte(out), "default", "aws_access_key_id") != "AKIANEW" || profileValue([]byte(out), "other", "aws_access_key_id") != "AKIAOTHER" ||
		strings.Contains(out, "AKIAOLD") || strings.Contains(out, "tok") || !strings.Contains(out, "region = eu-west-1") || !strings.Contains(out, "# mine") {
		t.Errorf("setProfile:\n%s", out)
	}
	out = string(setProfile([]byte(in), "ci", map[string]string{"aws_access_key_id": "AKIACI", "aws_secret_access_key": "x"}))
	if profileValue([]byte(out), "ci", "aws_access_key_id") != "AKIACI" || profileValue([]byte(out), "default", "aws_access_key_id") != "AKIAOLD" {
		t.Errorf("new profile:\n%s", out)
	}
}

// TestRotatingOwnKeyNeverDeactivatesIt: rotating the key the responder
// signs in with makes and hands over the new key, then stops before the
// deactivation that would lock the run out, and says how to go on.
func TestRotatingOwnKeyNeverDeactivatesIt(t *testing.T) {
	f := newFixture(t)
	dest := CredentialsFile(filepath.Join(t.TempDir(), "credentials"), "app")
	sum, err := f.rotate(f.app.AccessKeyID, dest, nil, WithConfirm(yes), WithResponderKeyID(f.app.AccessKeyID))
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "signed in with "+f.app.AccessKeyID) {
		t.Fatalf("err = %v, want a refusal to deactivate the responder's own key", err)
	}
	if k := f.keys("app"); k[f.app.AccessKeyID] != "Active" || k[sum.NewKeyID] != "Active" {
		t.Errorf("keys %v: the old key must stay active beside the new one", k)
	}
	if !strings.Contains(sum.Next, "sign in with the new key "+sum.NewKeyID) {
		t.Errorf("next: %q", sum.Next)
	}
}

// TestCredentialsProfileOfOtherCredentialsIsRefused: --to credentials:P
// where P holds another key (the responder's own, say) is refused before
// any key is made, and the file is left as it was.
func TestCredentialsProfileOfOtherCredentialsIsRefused(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "credentials")
	mine := "[default]\naws_access_key_id = " + f.ops.AccessKeyID + "\naws_secret_access_key = " + f.ops.Secret + "\n"
	if err := os.WriteFile(path, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.rotate(f.app.AccessKeyID, CredentialsFile(path, "default"), nil, WithConfirm(yes), WithResponderKeyID(f.ops.AccessKeyID))
	var be *BlockedError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "holds "+f.ops.AccessKeyID) {
		t.Fatalf("err = %v, want a refusal naming the key the profile holds", err)
	}
	if k := f.keys("app"); len(k) != 1 {
		t.Errorf("a key was made although the hand-over was refused: %v", k)
	}
	if b, _ := os.ReadFile(path); string(b) != mine {
		t.Errorf("the credentials file changed:\n%s", b)
	}
}

// TestCredentialsProfileIsBackedUp: the profile of the rotated key is
// overwritten with the new key, and the file as it was is kept beside it.
func TestCredentialsProfileIsBackedUp(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "credentials")
	before := "[app]\naws_access_key_id = " + f.app.AccessKeyID + "\naws_secret_access_key = " + f.app.Secret + "\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := f.rotate(f.app.AccessKeyID, CredentialsFile(path, "app"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if profileValue(b, "app", "aws_access_key_id") != sum.NewKeyID {
		t.Fatalf("profile app holds %q, want the new key %s", profileValue(b, "app", "aws_access_key_id"), sum.NewKeyID)
	}
	backup := path + ".keyleak-backup-1"
	kept, err := os.ReadFile(backup)
	if err != nil || string(kept) != before {
		t.Fatalf("backup %s: %q, %v; want the file as it was", backup, kept, err)
	}
	if st, _ := os.Stat(backup); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", st.Mode().Perm())
	}
	if !strings.Contains(strings.Join(sum.Warnings, "\n"), backup) {
		t.Errorf("the warnings do not name the backup: %v", sum.Warnings)
	}
}
