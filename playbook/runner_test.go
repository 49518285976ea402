package playbook

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// testClock is the runner's clock in tests: mid-second, so the revoke time
// is rounded up.
func testClock() time.Time { return t0.Add(1500 * time.Millisecond) }

func newCase(t *testing.T) *Case {
	t.Helper()
	c, err := CreateCase(t.TempDir(), testKey, t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newRunner(c *Case, f *fakeAWS, opts ...Option) *Runner {
	return NewRunner(c, f, f, append([]Option{WithClock(testClock), WithResponderKeyID("AKIARESPONDERKEY2345")}, opts...)...)
}

func journalEntries(t *testing.T, c *Case) []Entry {
	t.Helper()
	es, err := ReadJournal(c.Journal().Path())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func stepStatus(sum *Summary, id string) string {
	for _, s := range sum.Steps {
		if s.ID == id {
			return s.Status
		}
	}
	return "absent"
}

func TestContainHappyPath(t *testing.T) {
	f := newFake()
	f.users["ci-deploy"].attached = append(f.users["ci-deploy"].attached, "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3")
	c := newCase(t)
	var progress []string
	sum, err := newRunner(c, f, WithProgress(func(p Progress) { progress = append(progress, p.Step+":"+p.Status) })).Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := f.status(testKey); got != "Inactive" {
		t.Errorf("key status %s, want Inactive", got)
	}
	if f.status(testOtherKey) != "Active" {
		t.Error("the owner's other key was deactivated without being asked")
	}
	doc := f.inlineDoc("ci-deploy", RevokePolicyName)
	before, ok := RevokeTimeOf(doc)
	if want := t0.Add(2 * time.Second); !ok || !before.Equal(want) {
		t.Errorf("revoke policy time %v (%v), want %v (the deactivation time rounded up): %s", before, ok, want, doc)
	}
	if !strings.Contains(doc, `"Action":"*"`) || !strings.Contains(doc, `"DateLessThan":{"aws:TokenIssueTime":"2026-01-02T15:04:07Z"}`) {
		t.Errorf("revoke policy document = %s", doc)
	}
	if sum.Owner != "ci-deploy" || sum.Account != testAccount || sum.KeyStatus != "Inactive" || sum.Responder != testResponder {
		t.Errorf("summary = %+v", sum)
	}
	if sum.Access == nil || sum.Access.Level != AccessPowerUser {
		t.Errorf("access = %+v, want power-user", sum.Access)
	}
	if !slices.Equal(sum.Quarantine, []string{"AWSCompromisedKeyQuarantineV3"}) {
		t.Errorf("quarantine = %v", sum.Quarantine)
	}
	if sum.LastUsed == nil || sum.LastUsed.Service != "ec2" {
		t.Errorf("last used = %+v", sum.LastUsed)
	}
	for _, id := range []string{StepIdentify, StepContain, StepRevokeSessions, StepScope} {
		if stepStatus(sum, id) != StatusDone {
			t.Errorf("step %s status %s, want done", id, stepStatus(sum, id))
		}
	}
	if a := sum.Steps[1].Actions[0]; a.Description != "iam UpdateAccessKey --user-name ci-deploy --access-key-id AKIAIOSFODNN7EXAMPLE --status Inactive" || a.Time.IsZero() {
		t.Errorf("contain action = %+v", a)
	}
	if c.Meta().Account != testAccount {
		t.Errorf("case.json account = %q", c.Meta().Account)
	}
	if !slices.Contains(progress, "contain:done") {
		t.Errorf("progress = %v", progress)
	}
	// Every AWS call has an intent before and an outcome after it.
	entries := journalEntries(t, c)
	intents, outcomes := map[string]int{}, map[string]int{}
	for _, e := range entries {
		switch e.Kind {
		case KindIntent:
			intents[e.Action]++
			if e.Action != "sts:GetCallerIdentity" && e.Action != "sts:GetAccessKeyInfo" && e.Action != "iam:GetAccessKeyLastUsed" && e.Caller != testResponder {
				t.Errorf("intent %s without caller", e.Action)
			}
		case KindOutcome:
			outcomes[e.Action]++
		}
	}
	if len(intents) == 0 || !mapsEqual(intents, outcomes) {
		t.Errorf("intents %v != outcomes %v", intents, outcomes)
	}
	if intents["iam:UpdateAccessKey"] != 1 || intents["iam:PutUserPolicy"] != 1 {
		t.Errorf("intents = %v", intents)
	}
	if sum.JournalHead != c.Journal().Head() {
		t.Error("summary journal head differs from the journal's")
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// barrier blocks each caller until n callers are inside, proving they run
// at the same time. It fails the test instead of hanging forever.
func barrier(t *testing.T, n int) func() {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func() {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			t.Error("barrier: calls that should run together were serialized")
		}
	}
}

// TestContainThreeStages checks the round-trip stages: the three identity
// calls run together (stage 1); the key's live status and the existing
// revoke policy are read together (stage 2); UpdateAccessKey follows
// (stage 3: the key is inactive), then PutUserPolicy.
func TestContainThreeStages(t *testing.T) {
	f := newFake()
	stage1 := barrier(t, 3)
	stage2 := barrier(t, 2)
	f.before["sts:GetCallerIdentity"] = stage1
	f.before["sts:GetAccessKeyInfo"] = stage1
	f.before["iam:GetAccessKeyLastUsed"] = stage1
	f.before["iam:ListAccessKeys"] = stage2
	f.before["iam:GetUserPolicy"] = stage2
	c := newCase(t)
	_, err := NewRunner(c, f, f, WithClock(testClock)).Run(context.Background(), StepContain, StepRevokeSessions)
	if err != nil {
		t.Fatal(err)
	}
	// The journal is written in order: an outcome is appended after its call
	// returned, an intent before its call starts.
	finishedBefore := func(action string) []string {
		var done []string
		for _, e := range journalEntries(t, c) {
			if e.Kind == KindIntent && e.Action == action {
				return done
			}
			if e.Kind == KindOutcome {
				done = append(done, e.Action)
			}
		}
		t.Fatalf("no call of %s", action)
		return nil
	}
	beforeUpdate := finishedBefore("iam:UpdateAccessKey")
	beforePut := finishedBefore("iam:PutUserPolicy")
	// The revoke policy's read runs beside the status read and may finish
	// on either side of UpdateAccessKey's start.
	beforeUpdate = slices.DeleteFunc(beforeUpdate, func(a string) bool { return a == "iam:GetUserPolicy" })
	slices.Sort(beforeUpdate)
	if want := []string{"iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "sts:GetAccessKeyInfo", "sts:GetCallerIdentity"}; !slices.Equal(beforeUpdate, want) {
		t.Errorf("calls finished before UpdateAccessKey = %v, want stages 1 and 2 %v", beforeUpdate, want)
	}
	slices.Sort(beforePut)
	if want := []string{"iam:GetAccessKeyLastUsed", "iam:GetUserPolicy", "iam:ListAccessKeys", "iam:UpdateAccessKey", "sts:GetAccessKeyInfo", "sts:GetCallerIdentity"}; !slices.Equal(beforePut, want) {
		t.Errorf("calls finished before PutUserPolicy = %v, want %v", beforePut, want)
	}
	if f.status(testKey) != "Inactive" {
		t.Error("key not deactivated")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFake()
	c := newCase(t)
	sum, err := newRunner(c, f, WithDryRun(true)).Run(context.Background(), append(DefaultSteps(), StepDeactivateOtherKeys)...)
	if err != nil {
		t.Fatal(err)
	}
	if f.status(testKey) != "Active" || f.status(testOtherKey) != "Active" || f.inlineDoc("ci-deploy", RevokePolicyName) != "" {
		t.Error("dry run changed AWS")
	}
	for _, call := range f.calls {
		if strings.HasPrefix(call, "iam:Update") || strings.HasPrefix(call, "iam:Put") || strings.HasPrefix(call, "iam:Delete") {
			t.Errorf("dry run called %s", call)
		}
	}
	if !sum.DryRun || stepStatus(sum, StepContain) != StatusPlanned || stepStatus(sum, StepDeactivateOtherKeys) != StatusPlanned {
		t.Errorf("summary = %+v", sum.Steps)
	}
	entries := journalEntries(t, c)
	if len(entries) == 0 {
		t.Fatal("dry run journaled nothing")
	}
	for _, e := range entries {
		if e.Kind != KindPlan {
			t.Errorf("dry run journaled a %s entry: %+v", e.Kind, e)
		}
	}
	if !strings.Contains(entries[0].Message, "iam UpdateAccessKey --user-name ci-deploy --access-key-id AKIAIOSFODNN7EXAMPLE --status Inactive") {
		t.Errorf("plan note = %q", entries[0].Message)
	}
}

func TestResumeDoesNothingTwice(t *testing.T) {
	f := newFake()
	c := newCase(t)
	if _, err := newRunner(c, f).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Someone reactivates the key by mistake? No: a re-run must not touch
	// what the journal shows done. Here nothing changed in AWS.
	reopened, err := OpenCase(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	sum, err := newRunner(reopened, f).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("iam:UpdateAccessKey"); n != 1 {
		t.Errorf("UpdateAccessKey called %d times over two runs, want 1", n)
	}
	if n := f.count("iam:PutUserPolicy"); n != 1 {
		t.Errorf("PutUserPolicy called %d times over two runs, want 1", n)
	}
	if stepStatus(sum, StepContain) != StatusAlreadyDone || stepStatus(sum, StepRevokeSessions) != StatusAlreadyDone {
		t.Errorf("resume: contain %s, revoke %s, want already-done", stepStatus(sum, StepContain), stepStatus(sum, StepRevokeSessions))
	}
	// The revoke policy keeps the first run's time and a re-run reports it.
	if sum.KeyStatus != "Inactive" || sum.RevokedBefore.IsZero() {
		t.Errorf("resumed summary: status %s revokedBefore %v", sum.KeyStatus, sum.RevokedBefore)
	}
}

// crashAfterIntent leaves the journal as a crash between the intent and the
// outcome of an action would.
func crashAfterIntent(t *testing.T, c *Case, step string, a Action) {
	t.Helper()
	if _, err := c.Journal().Append(Entry{Time: t0, Kind: KindIntent, Step: step, ActionID: a.ID, Action: a.Call(), Params: a.Params, Description: a.Description}); err != nil {
		t.Fatal(err)
	}
}

func TestResumeReconcilesInterruptedAction(t *testing.T) {
	t.Run("key already inactive: marked done, not repeated", func(t *testing.T) {
		f := newFake()
		c := newCase(t)
		crashAfterIntent(t, c, StepContain, updateKeyAction(StepContain, "ci-deploy", testKey, "Inactive"))
		f.keys[testKey].status = "Inactive" // the call reached AWS before the crash
		sum, err := newRunner(c, f).Run(context.Background(), StepContain)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.count("iam:UpdateAccessKey"); n != 0 {
			t.Errorf("UpdateAccessKey called %d times, want 0", n)
		}
		if got := sum.Steps[1].Actions[0].Status; got != StatusReconciled {
			t.Errorf("action status %s, want reconciled", got)
		}
		if !c.Journal().Action(StepContain + "/UpdateAccessKey/" + testKey).Done {
			t.Error("journal does not show the action done after reconciliation")
		}
	})
	t.Run("key still active: done once", func(t *testing.T) {
		f := newFake()
		c := newCase(t)
		crashAfterIntent(t, c, StepContain, updateKeyAction(StepContain, "ci-deploy", testKey, "Inactive"))
		if _, err := newRunner(c, f).Run(context.Background(), StepContain); err != nil {
			t.Fatal(err)
		}
		if n := f.count("iam:UpdateAccessKey"); n != 1 || f.status(testKey) != "Inactive" {
			t.Errorf("UpdateAccessKey called %d times, status %s", n, f.status(testKey))
		}
	})
	t.Run("non-idempotent delete already happened: not repeated", func(t *testing.T) {
		f := newFake()
		f.keys[testKey].status = "Inactive"
		c := newCase(t)
		crashAfterIntent(t, c, StepDeleteKey, Action{ID: StepDeleteKey + "/DeleteAccessKey/" + testKey, Service: "iam", Name: "DeleteAccessKey",
			Params: map[string]string{"UserName": "ci-deploy", "AccessKeyId": testKey}})
		delete(f.keys, testKey) // the delete reached AWS
		_, err := newRunner(c, f, WithConfirm(func(context.Context, Step, []Action) (bool, error) { return true, nil })).Run(context.Background(), StepDeleteKey)
		// identify no longer finds the key: that is the honest answer.
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			t.Fatalf("Run = %v, want *NotFoundError", err)
		}
		if n := f.count("iam:DeleteAccessKey"); n != 0 {
			t.Errorf("DeleteAccessKey called %d times, want 0", n)
		}
	})
	t.Run("non-idempotent delete not done: checked, then done once", func(t *testing.T) {
		f := newFake()
		f.keys[testKey].status = "Inactive"
		c := newCase(t)
		crashAfterIntent(t, c, StepDeleteKey, Action{ID: StepDeleteKey + "/DeleteAccessKey/" + testKey, Service: "iam", Name: "DeleteAccessKey",
			Params: map[string]string{"UserName": "ci-deploy", "AccessKeyId": testKey}})
		_, err := newRunner(c, f, WithConfirm(func(context.Context, Step, []Action) (bool, error) { return true, nil })).Run(context.Background(), StepDeleteKey)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.count("iam:DeleteAccessKey"); n != 1 || f.status(testKey) != "deleted" {
			t.Errorf("DeleteAccessKey called %d times, key %s", n, f.status(testKey))
		}
	})
}

func TestRevokeTimeMovesForwardOnly(t *testing.T) {
	t.Run("later policy kept", func(t *testing.T) {
		f := newFake()
		later := RevokePolicyDocument(t0.Add(time.Hour))
		f.users["ci-deploy"].inline[RevokePolicyName] = later
		c := newCase(t)
		sum, err := newRunner(c, f).Run(context.Background(), StepContain, StepRevokeSessions)
		if err != nil {
			t.Fatal(err)
		}
		if f.count("iam:PutUserPolicy") != 0 || f.inlineDoc("ci-deploy", RevokePolicyName) != later {
			t.Error("an existing later revocation time was moved backward")
		}
		// Found in place with no record in this case: journaled as such.
		if !sum.RevokedBefore.Equal(t0.Add(time.Hour)) || stepStatus(sum, StepRevokeSessions) != StatusAlreadyDone {
			t.Errorf("revokedBefore %v status %s", sum.RevokedBefore, stepStatus(sum, StepRevokeSessions))
		}
	})
	t.Run("earlier policy moved forward", func(t *testing.T) {
		f := newFake()
		f.users["ci-deploy"].inline[RevokePolicyName] = RevokePolicyDocument(t0.Add(-time.Hour))
		c := newCase(t)
		sum, err := newRunner(c, f).Run(context.Background(), StepContain, StepRevokeSessions)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := RevokeTimeOf(f.inlineDoc("ci-deploy", RevokePolicyName))
		if !got.Equal(t0.Add(2*time.Second)) || !strings.Contains(sum.Steps[2].Actions[0].Description, "moves the revocation time forward from 2026-01-02T14:04:05Z") {
			t.Errorf("revoke time %v, description %q", got, sum.Steps[2].Actions[0].Description)
		}
	})
}

func TestSelfLockoutGuard(t *testing.T) {
	t.Run("responder is the leaked key", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		_, err := newRunner(c, f, WithResponderKeyID(testKey), WithForce(true)).Run(context.Background())
		var sl *SelfLockoutError
		if !errors.As(err, &sl) || !strings.Contains(err.Error(), "signed in with the leaked key AKIAIOSFODNN7EXAMPLE itself") {
			t.Fatalf("Run = %v, want *SelfLockoutError even with force", err)
		}
		if f.count("iam:UpdateAccessKey") != 0 {
			t.Error("the key was touched")
		}
	})
	t.Run("session of the owner refused without force", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		_, err := newRunner(c, f, WithResponderKeyID("ASIAIOSFODNN7EXAMPLE")).Run(context.Background())
		var sl *SelfLockoutError
		if !errors.As(err, &sl) || !strings.Contains(err.Error(), "session-revocation policy will end it too") {
			t.Fatalf("Run = %v, want *SelfLockoutError", err)
		}
		if f.count("iam:UpdateAccessKey")+f.count("iam:PutUserPolicy") != 0 {
			t.Error("AWS was changed")
		}
	})
	t.Run("owner with unknown credentials refused without force", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		_, err := NewRunner(c, f, f, WithClock(testClock)).Run(context.Background())
		if !strings.Contains(fmtErr(err), "cannot tell whether your credentials are the leaked key") {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("session of the owner with force: revoked, later steps skipped", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		sum, err := newRunner(c, f, WithResponderKeyID("ASIAIOSFODNN7EXAMPLE"), WithForce(true)).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f.status(testKey) != "Inactive" || f.inlineDoc("ci-deploy", RevokePolicyName) == "" {
			t.Error("forced containment did not happen")
		}
		if stepStatus(sum, StepScope) != StatusSkipped {
			t.Errorf("scope after self-revocation = %s, want skipped", stepStatus(sum, StepScope))
		}
	})
	t.Run("deactivate-other-keys spares the key the responder signs with", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		sum, err := newRunner(c, f, WithResponderKeyID(testOtherKey)).Run(context.Background(), StepContain, StepDeactivateOtherKeys)
		if err != nil {
			t.Fatal(err)
		}
		if f.status(testKey) != "Inactive" || f.status(testOtherKey) != "Active" {
			t.Errorf("leaked key %s, responder's own key %s; want Inactive and Active", f.status(testKey), f.status(testOtherKey))
		}
		if !slices.ContainsFunc(sum.Warnings, func(w string) bool { return strings.Contains(w, testOtherKey+" is the key you are signed in with") }) {
			t.Errorf("no warning about the spared key: %v", sum.Warnings)
		}
	})
	t.Run("owner's other long-term key is safe", func(t *testing.T) {
		f := newFake()
		f.callerARN = "arn:aws:iam::123456789012:user/ci-deploy"
		c := newCase(t)
		if _, err := newRunner(c, f, WithResponderKeyID(testOtherKey)).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if f.status(testKey) != "Inactive" {
			t.Error("not contained")
		}
	})
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestTypedErrors(t *testing.T) {
	t.Run("access denied on UpdateAccessKey", func(t *testing.T) {
		f := newFake()
		f.fail["iam:UpdateAccessKey"] = apiErr("AccessDenied", "User: x is not authorized to perform: iam:UpdateAccessKey")
		_, err := newRunner(newCase(t), f).Run(context.Background())
		var ad *AccessDeniedError
		var pe *PartialError
		if !errors.As(err, &ad) || ad.Action != "iam:UpdateAccessKey" || errors.As(err, &pe) {
			t.Fatalf("Run = %v, want a plain *AccessDeniedError for iam:UpdateAccessKey", err)
		}
		if !strings.Contains(err.Error(), "arn:aws:iam::123456789012:user/responder may not call iam:UpdateAccessKey") {
			t.Errorf("message = %q", err)
		}
	})
	t.Run("access denied on PutUserPolicy after containment is partial", func(t *testing.T) {
		f := newFake()
		f.fail["iam:PutUserPolicy"] = apiErr("AccessDenied", "denied")
		sum, err := newRunner(newCase(t), f).Run(context.Background())
		var pe *PartialError
		var ad *AccessDeniedError
		if !errors.As(err, &pe) || pe.Step != StepRevokeSessions || !slices.Equal(pe.Done, []string{StepContain}) || !errors.As(err, &ad) {
			t.Fatalf("Run = %#v, want *PartialError at revoke-sessions wrapping access denied", err)
		}
		if sum.KeyStatus != "Inactive" || stepStatus(sum, StepScope) != "absent" {
			t.Errorf("summary: key %s, scope %s", sum.KeyStatus, stepStatus(sum, StepScope))
		}
	})
	t.Run("read-only step failure is partial, run goes on", func(t *testing.T) {
		f := newFake()
		f.fail["iam:ListGroupsForUser"] = apiErr("AccessDenied", "denied")
		sum, err := newRunner(newCase(t), f).Run(context.Background(), append(DefaultSteps(), StepDeactivateOtherKeys)...)
		var pe *PartialError
		if !errors.As(err, &pe) || pe.Step != StepScope {
			t.Fatalf("Run = %v, want *PartialError at scope", err)
		}
		if f.status(testOtherKey) != "Inactive" || stepStatus(sum, StepDeactivateOtherKeys) != StatusDone {
			t.Error("a later step did not run after a read-only failure")
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		f := newFake()
		delete(f.keys, testKey)
		_, err := newRunner(newCase(t), f).Run(context.Background())
		var nf *NotFoundError
		if !errors.As(err, &nf) || err.Error() != "access key AKIAIOSFODNN7EXAMPLE not found in account 123456789012 — deleted already, or another account?" {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("key of another account", func(t *testing.T) {
		f := newFake()
		g := &otherAccount{fakeAWS: f}
		_, err := NewRunner(newCase(t), f, g, WithClock(testClock)).Run(context.Background())
		var nf *NotFoundError
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), "belongs to account 999999999999, but you are signed in to account 123456789012") {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("root key with an IAM responder", func(t *testing.T) {
		f := newFake()
		f.keys[testKey].user = ""
		_, err := newRunner(newCase(t), f).Run(context.Background())
		var rk *RootKeyError
		if !errors.As(err, &rk) || !strings.Contains(err.Error(), "only the root user can deactivate it") {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		f := newFake()
		f.fail["sts:GetCallerIdentity"] = apiErr("InvalidClientTokenId", "The security token included in the request is invalid.")
		_, err := newRunner(newCase(t), f).Run(context.Background())
		var ce *CredentialsError
		if !errors.As(err, &ce) || ce.Code != "InvalidClientTokenId" {
			t.Fatalf("Run = %v", err)
		}
	})
	t.Run("unknown step", func(t *testing.T) {
		_, err := newRunner(newCase(t), newFake()).Run(context.Background(), "nuke")
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Fatalf("Run = %v, want *UsageError", err)
		}
	})
}

// otherAccount answers GetAccessKeyInfo with another account.
type otherAccount struct{ *fakeAWS }

func (o *otherAccount) GetAccessKeyInfo(ctx context.Context, in *sts.GetAccessKeyInfoInput, _ ...func(*sts.Options)) (*sts.GetAccessKeyInfoOutput, error) {
	return &sts.GetAccessKeyInfoOutput{Account: aws.String("999999999999")}, nil
}

func TestConfirmHook(t *testing.T) {
	f := newFake()
	c := newCase(t)
	var asked []string
	sum, err := newRunner(c, f, WithConfirm(func(_ context.Context, s Step, as []Action) (bool, error) {
		asked = append(asked, s.ID)
		return s.ID != StepContain, nil
	})).Run(context.Background(), StepContain)
	if err != nil {
		t.Fatal(err)
	}
	if f.status(testKey) != "Active" || stepStatus(sum, StepContain) != StatusDeclined || !slices.Equal(asked, []string{StepContain}) {
		t.Errorf("declined contain: key %s, status %s, asked %v", f.status(testKey), stepStatus(sum, StepContain), asked)
	}
	// Destructive steps are not run without a confirm hook.
	f.keys[testKey].status = "Inactive"
	f.users["ci-deploy"].login = &t0
	sum, err = newRunner(c, f).Run(context.Background(), StepDeleteKey, StepRemovePassword)
	if err != nil {
		t.Fatal(err)
	}
	if f.status(testKey) != "Inactive" || f.count("iam:DeleteLoginProfile") != 0 || stepStatus(sum, StepDeleteKey) != StatusDeclined {
		t.Error("a destructive step ran without confirmation")
	}
}

func TestOptionalSteps(t *testing.T) {
	f := newFake()
	login := t0.AddDate(0, -2, 0)
	f.users["ci-deploy"].login = &login
	c := newCase(t)
	yes := WithConfirm(func(context.Context, Step, []Action) (bool, error) { return true, nil })
	sum, err := newRunner(c, f, yes).Run(context.Background(), StepContain, StepDeactivateOtherKeys, StepRemovePassword, StepDeleteKey)
	if err != nil {
		t.Fatal(err)
	}
	if f.status(testOtherKey) != "Inactive" || f.status(testKey) != "deleted" || f.users["ci-deploy"].login != nil {
		t.Errorf("optional steps: other key %s, key %s, login %v", f.status(testOtherKey), f.status(testKey), f.users["ci-deploy"].login)
	}
	if sum.Password == nil || !sum.Password.Created.Equal(login) {
		t.Errorf("summary does not record the console password: %+v", sum.Password)
	}
	// The journal records the key ID before the delete and that a password existed.
	var noteAt, deleteAt, pwAt int
	for i, e := range journalEntries(t, c) {
		switch {
		case e.Kind == KindNote && strings.Contains(e.Message, "deleting access key AKIAIOSFODNN7EXAMPLE of user ci-deploy"):
			noteAt = i
		case e.Kind == KindIntent && e.Action == "iam:DeleteAccessKey":
			deleteAt = i
		case e.Kind == KindIntent && e.Action == "iam:DeleteLoginProfile" && e.Params["PasswordCreated"] == login.Format(time.RFC3339):
			pwAt = i
		}
	}
	if noteAt == 0 || deleteAt <= noteAt || pwAt == 0 {
		t.Errorf("journal positions: note %d, delete %d, password %d", noteAt, deleteAt, pwAt)
	}
	if _, err := newRunner(newCase(t), newFake(), yes).Run(context.Background(), StepDeleteKey); err == nil || !strings.Contains(err.Error(), "still active; deactivate it first") {
		t.Errorf("deleting an active key = %v", err)
	}
}

func TestRevokeRoleSessions(t *testing.T) {
	f := newFake()
	f.roles["deploy-role"] = map[string]string{}
	f.roles["old-role"] = map[string]string{RevokePolicyName: RevokePolicyDocument(t0.Add(time.Hour))}
	c := newCase(t)
	r := newRunner(c, f)
	sum, err := r.RevokeRoleSessions(context.Background(), []string{
		"arn:aws:iam::123456789012:role/ops/deploy-role",
		"arn:aws:sts::123456789012:assumed-role/old-role/attacker",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := RevokeTimeOf(f.roles["deploy-role"][RevokePolicyName])
	if !ok || !got.Equal(t0.Add(2*time.Second)) {
		t.Errorf("deploy-role revoke time %v", got)
	}
	if later, _ := RevokeTimeOf(f.roles["old-role"][RevokePolicyName]); !later.Equal(t0.Add(time.Hour)) {
		t.Errorf("old-role revoke time moved backward to %v", later)
	}
	if n := f.count("iam:PutRolePolicy"); n != 1 || stepStatus(sum, StepRevokeRoleSessions) != StatusDone {
		t.Errorf("PutRolePolicy calls %d, status %s", n, stepStatus(sum, StepRevokeRoleSessions))
	}
	if _, err := r.RevokeRoleSessions(context.Background(), []string{"deploy-role"}); err == nil {
		t.Error("a bare name was accepted as a role ARN")
	}
	f.callerARN = "arn:aws:sts::123456789012:assumed-role/deploy-role/me"
	f.roles["deploy-role"] = map[string]string{}
	_, err = newRunner(newCase(t), f).RevokeRoleSessions(context.Background(), []string{"arn:aws:iam::123456789012:role/deploy-role"})
	var sl *SelfLockoutError
	if !errors.As(err, &sl) {
		t.Errorf("revoking the responder's own role = %v, want *SelfLockoutError", err)
	}
}

func TestUndoContain(t *testing.T) {
	f := newFake()
	c := newCase(t)
	r := newRunner(c, f)
	if _, err := r.Run(context.Background(), StepContain); err != nil {
		t.Fatal(err)
	}
	undone, err := r.Undo(context.Background(), StepContain)
	if err != nil {
		t.Fatal(err)
	}
	if len(undone) != 1 || f.status(testKey) != "Active" {
		t.Fatalf("undo: %+v, key %s", undone, f.status(testKey))
	}
	if c.Journal().Action(StepContain + "/UpdateAccessKey/" + testKey).Done {
		t.Error("journal still shows the undone action done")
	}
	// A later run contains again.
	if _, err := r.Run(context.Background(), StepContain); err != nil || f.status(testKey) != "Inactive" {
		t.Errorf("re-contain after undo: %v, key %s", err, f.status(testKey))
	}
	if _, err := r.Undo(context.Background(), StepScope); err == nil {
		t.Error("undo of a step without Undo was accepted")
	}
}

func TestPreflight(t *testing.T) {
	t.Run("simulation unavailable is skipped with a note", func(t *testing.T) {
		f := newFake()
		f.noSimulate = true
		c := newCase(t)
		sum, err := newRunner(c, f).Run(context.Background(), StepPreflight, StepContain)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Preflight == nil || sum.Preflight.Checked || !strings.Contains(sum.Preflight.Note, "preflight skipped") || f.status(testKey) != "Inactive" {
			t.Errorf("preflight = %+v", sum.Preflight)
		}
	})
	t.Run("denied actions are warned about", func(t *testing.T) {
		f := newFake()
		f.denied["iam:PutUserPolicy"] = true
		sum, err := newRunner(newCase(t), f).Run(context.Background(), StepPreflight)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Preflight == nil || !slices.Equal(sum.Preflight.Denied, []string{"iam:PutUserPolicy"}) || len(sum.Warnings) == 0 {
			t.Errorf("preflight = %+v, warnings %v", sum.Preflight, sum.Warnings)
		}
	})
}

// TestRerunTrustsAWSOverTheJournal: after containment, someone turns the
// key back on and deletes the revoke policy. A re-run on the same case must
// see that in AWS, contain again, and say so — not report the journal's
// "already done".
func TestRerunTrustsAWSOverTheJournal(t *testing.T) {
	f := newFake()
	c := newCase(t)
	if _, err := newRunner(c, f).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.keys[testKey].status = "Active"
	delete(f.users["ci-deploy"].inline, RevokePolicyName)

	sum, err := newRunner(c, f).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.status(testKey) != "Inactive" || f.inlineDoc("ci-deploy", RevokePolicyName) == "" {
		t.Fatalf("re-run left the key %s and the policy %q", f.status(testKey), f.inlineDoc("ci-deploy", RevokePolicyName))
	}
	if n := f.count("iam:UpdateAccessKey"); n != 2 {
		t.Errorf("UpdateAccessKey called %d times over two runs, want 2", n)
	}
	if sum.KeyStatus != "Inactive" || sum.RevokedBefore.IsZero() || sum.FoundActiveAgain.IsZero() {
		t.Errorf("summary: status %q revokedBefore %v foundActiveAgain %v", sum.KeyStatus, sum.RevokedBefore, sum.FoundActiveAgain)
	}
	if stepStatus(sum, StepContain) != StatusDone || stepStatus(sum, StepRevokeSessions) != StatusDone {
		t.Errorf("contain %s, revoke %s, want done", stepStatus(sum, StepContain), stepStatus(sum, StepRevokeSessions))
	}
	found := false
	for _, e := range journalEntries(t, c) {
		if e.Kind == KindNote && strings.Contains(e.Message, "was found Active at") {
			found = true
		}
	}
	if !found {
		t.Error("the journal does not say the key was found Active again")
	}

	// A third run finds everything in place and changes nothing.
	sum, err = newRunner(c, f).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("iam:UpdateAccessKey"); n != 2 {
		t.Errorf("UpdateAccessKey called %d times over three runs, want 2", n)
	}
	if stepStatus(sum, StepContain) != StatusAlreadyDone || !sum.FoundActiveAgain.IsZero() {
		t.Errorf("third run: contain %s, foundActiveAgain %v", stepStatus(sum, StepContain), sum.FoundActiveAgain)
	}
}

// TestSummaryReadsKeyStatusFromAWS: a dry run on a case whose journal shows
// the key deactivated reports the key as IAM lists it now.
func TestSummaryReadsKeyStatusFromAWS(t *testing.T) {
	f := newFake()
	c := newCase(t)
	if _, err := newRunner(c, f).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.keys[testKey].status = "Active"
	sum, err := newRunner(c, f, WithDryRun(true)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.KeyStatus != "Active" || stepStatus(sum, StepContain) != StatusPlanned {
		t.Errorf("dry run: key %q, contain %s; want Active, planned", sum.KeyStatus, stepStatus(sum, StepContain))
	}
}

// TestStepRounds checks a step with Next: it plans before its Prepare is
// done, each round confirms only what is new, every action is applied once,
// and the step waits for its Prepare before it ends.
func TestStepRounds(t *testing.T) {
	c := newCase(t)
	var (
		mu      sync.Mutex
		found   []string
		applied []string
		asked   [][]string
	)
	release := make(chan struct{})
	s := Step{
		ID: "rounds", Title: "rounds", Idempotent: true,
		Prepare: func(ctx context.Context, st *State) error {
			<-release
			return nil
		},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			mu.Lock()
			defer mu.Unlock()
			var out []Action
			for _, id := range found {
				out = append(out, Action{ID: "rounds/X/" + id, Service: "iam", Name: "X", Description: "x " + id})
			}
			return out, nil
		},
		Apply: func(ctx context.Context, st *State, a Action) error {
			mu.Lock()
			defer mu.Unlock()
			applied = append(applied, a.ID)
			return nil
		},
		Next: func(ctx context.Context, st *State) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			switch len(found) {
			case 0:
				found = append(found, "a", "b")
				return true, nil
			case 2:
				found = append(found, "c")
				return true, nil
			}
			close(release)
			return false, nil
		},
	}
	confirm := WithConfirm(func(_ context.Context, _ Step, as []Action) (bool, error) {
		var ids []string
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		asked = append(asked, ids)
		return true, nil
	})
	r := newRunner(c, newFake(), confirm)
	st := r.newState(nil)
	p := &prepared{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = s.Prepare(context.Background(), st)
	}()
	sr, err := r.runStep(context.Background(), st, s, false, map[string]*prepared{s.ID: p})
	if err != nil {
		t.Fatal(err)
	}
	if sr.Status != StatusDone || len(sr.Actions) != 3 {
		t.Errorf("step %s with %d actions, want done with 3", sr.Status, len(sr.Actions))
	}
	if want := []string{"rounds/X/a", "rounds/X/b", "rounds/X/c"}; !slices.Equal(applied, want) {
		t.Errorf("applied %v, want %v", applied, want)
	}
	if len(asked) != 2 || len(asked[0]) != 2 || len(asked[1]) != 1 || asked[1][0] != "rounds/X/c" {
		t.Errorf("confirmations %v, want [a b] then [c]", asked)
	}
}

// TestPlanFromAWSWithoutJournal: a case whose journal does not know the
// containment (a new case for a key another case contained, or a journal
// lost or cut before its UpdateAccessKey line) plans from AWS alone: the key
// is Inactive and the revoke policy covers its last use, so nothing is
// called again, hours later. Only a use of the key after the policy's time
// moves the time forward.
func TestPlanFromAWSWithoutJournal(t *testing.T) {
	later := func() time.Time { return testClock().Add(3 * time.Hour) }
	t.Run("contained elsewhere: nothing repeated", func(t *testing.T) {
		f := newFake()
		f.keys[testKey].last = t0.Add(-time.Minute)
		if _, err := newRunner(newCase(t), f).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		doc := f.inlineDoc("ci-deploy", RevokePolicyName)
		sum, err := newRunner(newCase(t), f, WithClock(later)).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n, m := f.count("iam:UpdateAccessKey"), f.count("iam:PutUserPolicy"); n != 1 || m != 1 {
			t.Errorf("over two cases: UpdateAccessKey %d, PutUserPolicy %d calls, want 1 and 1", n, m)
		}
		if f.inlineDoc("ci-deploy", RevokePolicyName) != doc {
			t.Error("the revoke policy was rewritten")
		}
		if stepStatus(sum, StepContain) != StatusAlreadyDone || stepStatus(sum, StepRevokeSessions) != StatusAlreadyDone || sum.RevokedBefore.IsZero() {
			t.Errorf("contain %s, revoke %s, revokedBefore %v", stepStatus(sum, StepContain), stepStatus(sum, StepRevokeSessions), sum.RevokedBefore)
		}
	})
	t.Run("key used after the policy's time: moved forward", func(t *testing.T) {
		f := newFake()
		if _, err := newRunner(newCase(t), f).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Someone turned the key on, used it, and turned it off again by
		// hand: sessions it made then are not covered.
		f.keys[testKey].last = t0.Add(time.Hour)
		if _, err := newRunner(newCase(t), f, WithClock(later)).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _ := RevokeTimeOf(f.inlineDoc("ci-deploy", RevokePolicyName))
		if f.count("iam:PutUserPolicy") != 2 || !got.Equal(ceilSecond(later())) {
			t.Errorf("PutUserPolicy %d calls, revoke time %v; want 2 and %v", f.count("iam:PutUserPolicy"), got, ceilSecond(later()))
		}
	})
}

// TestCrashAfterRevokeCall: a run killed just after PutUserPolicy reached
// IAM, before its outcome was journaled. The re-run finds the policy in
// place and records that in the journal (reconciled), so the report shows
// the sessions revoked; the call is not made again.
func TestCrashAfterRevokeCall(t *testing.T) {
	f := newFake()
	c := newCase(t)
	if _, err := newRunner(c, f).Run(context.Background(), StepContain); err != nil {
		t.Fatal(err)
	}
	before := ceilSecond(testClock())
	a := revokeAction(StepRevokeSessions, "user", "ci-deploy", before, time.Time{})
	crashAfterIntent(t, c, StepRevokeSessions, a)
	f.users["ci-deploy"].inline[RevokePolicyName] = RevokePolicyDocument(before) // the call went through

	sum, err := newRunner(c, f, WithClock(func() time.Time { return testClock().Add(time.Minute) })).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("iam:PutUserPolicy"); n != 0 {
		t.Errorf("PutUserPolicy called %d times after the crash, want 0", n)
	}
	if st := stepStatus(sum, StepRevokeSessions); st != StatusAlreadyDone || !sum.RevokedBefore.Equal(before) {
		t.Errorf("revoke %s, revokedBefore %v", st, sum.RevokedBefore)
	}
	if rec := c.Journal().Action(a.ID); !rec.Done {
		t.Errorf("the journal does not record the revocation: %+v", rec)
	}
}
