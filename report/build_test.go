package report

import (
	"iter"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestComputeStats(t *testing.T) {
	s := ComputeStats(slices.Values(fixtureEvents()))
	if s.Events != 12 {
		t.Errorf("Events = %d, want 12", s.Events)
	}
	wantVerdicts := map[Verdict]int{VerdictAttacker: 9, VerdictLegitimate: 2, VerdictUnclear: 1}
	for v, n := range wantVerdicts {
		if s.Verdicts[v] != n {
			t.Errorf("Verdicts[%s] = %d, want %d", v, s.Verdicts[v], n)
		}
	}
	wantSev := map[Severity]int{SeverityCritical: 2, SeverityHigh: 2, SeverityMedium: 1, SeverityLow: 5, SeverityInfo: 2}
	for v, n := range wantSev {
		if s.Severities[v] != n {
			t.Errorf("Severities[%s] = %d, want %d", v, s.Severities[v], n)
		}
	}
	if s.Categories["discovery"] != 5 || s.Categories["persistence"] != 3 || s.Categories["impact"] != 1 {
		t.Errorf("Categories = %v", s.Categories)
	}
	if got := s.RegionNames(); !slices.Equal(got, []string{"ap-northeast-1", "ap-southeast-1", "sa-east-1", "us-east-1"}) {
		t.Errorf("regions = %v", got)
	}
	if s.FirstAttacker == nil || s.FirstAttacker.Name != "GetCallerIdentity" {
		t.Fatalf("FirstAttacker = %+v, want GetCallerIdentity", s.FirstAttacker)
	}
	if !s.LastAttacker.Equal(at("12:40:00")) {
		t.Errorf("LastAttacker = %s", s.LastAttacker)
	}
	if s.AttackerIPCount != 3 || s.AttackerIPs[0] != (Count{"203.0.113.7", 4}) {
		t.Errorf("attacker IPs = %d %v", s.AttackerIPCount, s.AttackerIPs)
	}
	if s.Keys[sessionKey] != 3 || s.Keys[leakedKey] != 9 {
		t.Errorf("Keys = %v", s.Keys)
	}
	if s.Failed != 2 {
		t.Errorf("Failed = %d, want 2", s.Failed)
	}
	if !s.Ordered {
		t.Error("Ordered = false for events oldest first")
	}
	// Activity: discovery before persistence before impact (tactic order).
	var cats []string
	for _, a := range s.Activity {
		if len(cats) == 0 || cats[len(cats)-1] != a.Category {
			cats = append(cats, a.Category)
		}
	}
	if !slices.Equal(cats, []string{"persistence", "discovery", "impact"}) {
		t.Errorf("activity categories = %v", cats)
	}
	for _, a := range s.Activity {
		if a.API() == "ec2:DescribeInstances" && (a.Failed != 1 || !slices.Equal(a.Regions, []string{"sa-east-1"})) {
			t.Errorf("ec2:DescribeInstances activity = %+v", a)
		}
	}
}

func TestComputeStatsUnordered(t *testing.T) {
	evs := fixtureEvents()
	slices.Reverse(evs)
	s := ComputeStats(slices.Values(evs))
	if s.Ordered {
		t.Error("Ordered = true for events newest first")
	}
	if s.FirstAttacker == nil || !s.FirstAttacker.Time.Equal(at("10:17:03")) || !s.First.Equal(at("09:30:00")) {
		t.Errorf("first times wrong on reversed input: %+v %s", s.FirstAttacker, s.First)
	}
}

func TestVerdictSeverityNormalize(t *testing.T) {
	if Verdict("").Normalize() != VerdictUnclear || Verdict("bogus").Normalize() != VerdictUnclear {
		t.Error("unknown verdicts must be unclear")
	}
	if Severity("").Normalize() != SeverityInfo || SeverityCritical.Rank() <= SeverityHigh.Rank() {
		t.Error("severity normalisation or rank wrong")
	}
}

func TestHistogram(t *testing.T) {
	bins := Histogram(slices.Values(fixtureEvents()), BinWidth)
	// 09:30 to 12:50: 21 bins of 10 minutes, gaps filled.
	if len(bins) != 21 {
		t.Fatalf("len(bins) = %d, want 21", len(bins))
	}
	total := 0
	for i, b := range bins {
		if b.Start.Minute()%10 != 0 || b.Start.Second() != 0 {
			t.Errorf("bin %d starts at %s, not on a 10-minute boundary", i, b.Start)
		}
		if i > 0 && !b.Start.Equal(bins[i-1].Start.Add(BinWidth)) {
			t.Errorf("bin %d at %s does not follow %s", i, b.Start, bins[i-1].Start)
		}
		total += b.Total()
	}
	if total != 12 {
		t.Errorf("bins hold %d events, want 12", total)
	}
	// 10:10-10:20: GetCallerIdentity, ListUsers, CreateUser, CreateAccessKey.
	if b := bins[4]; !b.Start.Equal(at("10:10:00")) || b.Attacker != 4 || b.Legitimate != 0 {
		t.Errorf("bin 10:10 = %+v", b)
	}
	if b := bins[0]; b.Legitimate != 1 {
		t.Errorf("bin 09:30 = %+v", b)
	}

	// A stray timestamp years away must not produce millions of bins.
	stray := append(fixtureEvents(), Event{Time: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	bins = Histogram(slices.Values(stray), BinWidth)
	if len(bins) > 20 || len(bins) < 2 {
		t.Errorf("sparse histogram has %d bins", len(bins))
	}
}

func TestAttackerEventsAndFirstCall(t *testing.T) {
	n := 0
	for ev := range AttackerEvents(slices.Values(fixtureEvents())) {
		if ev.Verdict != VerdictAttacker {
			t.Errorf("AttackerEvents yielded %s", ev.Verdict)
		}
		n++
	}
	if n != 9 {
		t.Errorf("attacker events = %d, want 9", n)
	}
	evs := fixtureEvents()
	slices.Reverse(evs)
	first, ok := FirstAttackerCall(slices.Values(evs))
	if !ok || first.Name != "GetCallerIdentity" {
		t.Errorf("FirstAttackerCall = %s %v", first.Name, ok)
	}
	if _, ok := FirstAttackerCall(slices.Values([]Event{{Verdict: VerdictLegitimate}})); ok {
		t.Error("FirstAttackerCall found an attacker among legitimate events")
	}
	// Stopping early must stop the iteration.
	stop := 0
	for range AttackerEvents(slices.Values(fixtureEvents())) {
		stop++
		break
	}
	if stop != 1 {
		t.Error("AttackerEvents ignored break")
	}
}

func TestKeyChain(t *testing.T) {
	m := fixtureModel()
	third := DerivedKey{AccessKeyID: "ASIA5EXAMPLEROLE0001", ParentKeyID: sessionKey, Via: "AssumeRole"}
	keys := append(m.Keys, third)
	if got := KeyChain(keys, third.AccessKeyID); !slices.Equal(got, []string{leakedKey, sessionKey, third.AccessKeyID}) {
		t.Errorf("chain = %v", got)
	}
	if got := ChainString(KeyChain(keys, sessionKey)); got != leakedKey+" → "+sessionKey {
		t.Errorf("ChainString = %q", got)
	}
	if got := KeyChain(keys, "AKIAUNKNOWNKEY000001"); !slices.Equal(got, []string{"AKIAUNKNOWNKEY000001"}) {
		t.Errorf("unknown key chain = %v", got)
	}
	cycle := []DerivedKey{{AccessKeyID: "A", ParentKeyID: "B"}, {AccessKeyID: "B", ParentKeyID: "A"}}
	if got := KeyChain(cycle, "A"); !slices.Equal(got, []string{"B", "A"}) {
		t.Errorf("cyclic chain = %v", got)
	}
	ci := newChainIndex(keys)
	ev := Event{AccessKeyID: third.AccessKeyID}
	if got := ci.of(&ev); got != ChainString([]string{leakedKey, sessionKey, third.AccessKeyID}) {
		t.Errorf("chain index = %q", got)
	}
	ev.KeyChain = []string{"X", "Y"}
	if got := ci.of(&ev); got != "X → Y" {
		t.Errorf("explicit chain ignored: %q", got)
	}
}

func TestConsoleURL(t *testing.T) {
	got := ConsoleURL("ap-northeast-1", "0a6c8a52-0002-4a1e-9d6e-000000000002")
	want := "https://ap-northeast-1.console.aws.amazon.com/cloudtrailv2/home?region=ap-northeast-1#/events/0a6c8a52-0002-4a1e-9d6e-000000000002"
	if got != want {
		t.Errorf("ConsoleURL = %s", got)
	}
	if got := ConsoleURL("", "x"); got != "https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x" {
		t.Errorf("ConsoleURL without region = %s", got)
	}
}

func TestLeakOf(t *testing.T) {
	s := ComputeStats(slices.Values(fixtureEvents()))
	c := Case{LeakedAt: at("10:10:00")}
	if l := LeakOf(c, s); !l.At.Equal(at("10:10:00")) || l.Inferred {
		t.Errorf("given leak = %+v", l)
	}
	c.LeakedAtInferred, c.LeakedAtReason = true, "commit time of the push"
	if l := LeakOf(c, s); !l.Inferred || l.Reason != "commit time of the push" || l.FromFirstAttacker {
		t.Errorf("inferred leak = %+v", l)
	}
	if l := LeakOf(Case{}, s); !l.FromFirstAttacker || !l.At.Equal(at("10:17:03")) {
		t.Errorf("leak from first attacker = %+v", l)
	}
	if l := LeakOf(Case{}, ComputeStats(slices.Values([]Event(nil)))); !l.At.IsZero() {
		t.Errorf("leak without evidence = %+v", l)
	}
}

func TestMilestones(t *testing.T) {
	m := fixtureModel()
	s := ComputeStats(m.Events)
	var kinds []MilestoneKind
	for i, ms := range Milestones(m, s) {
		kinds = append(kinds, ms.Kind)
		if i > 0 && ms.Time.Before(Milestones(m, s)[i-1].Time) {
			t.Errorf("milestone %s out of order", ms.Kind)
		}
	}
	want := []MilestoneKind{MilestoneLeaked, MilestoneDetected, MilestoneFirstAttacker, MilestoneContained,
		MilestoneRevoked, MilestoneLastAttacker, MilestoneCleanupStart, MilestoneCleanupEnd}
	if !slices.Equal(kinds, want) {
		t.Errorf("milestones = %v, want %v", kinds, want)
	}
	last := Milestones(m, s)[len(want)-1]
	if !last.Time.Equal(at("12:52:00")) || last.Count != 2 {
		t.Errorf("clean-up end = %+v", last)
	}
}

func todoKinds(todos []Todo) []TodoKind {
	var out []TodoKind
	for _, td := range todos {
		out = append(out, td.Kind)
	}
	return out
}

func TestRemainingWork(t *testing.T) {
	m := fixtureModel()
	s := ComputeStats(m.Events)
	todos := RemainingWork(m, s)
	want := []TodoKind{TodoRemove, TodoRemove, TodoRetry, TodoRerun, TodoDataEvents, TodoReviewUnclear,
		TodoReviewFindings, TodoRotateWorkload, TodoDeleteKey, TodoAnswerSupport}
	if got := todoKinds(todos); !slices.Equal(got, want) {
		t.Fatalf("remaining work = %v, want %v", got, want)
	}
	if todos[0].Subject != "AWS::IAM::User svc-backup" || todos[0].Detail != "iam:DeleteUser" {
		t.Errorf("first removal = %+v", todos[0])
	}
	if todos[2].Subject != "iam:DeleteUser" {
		t.Errorf("retry = %+v", todos[2])
	}
	if todos[3].Region != "ap-south-2" {
		t.Errorf("rerun = %+v", todos[3])
	}

	// Nothing done yet: contain and revoke come first; a later success of
	// a failed action clears its retry.
	m.Case.ContainedAt, m.Case.RevokedAt, m.Case.KeyStatus = time.Time{}, time.Time{}, "Active"
	m.Actions = append(m.Actions, Action{Seq: 8, Action: "iam:DeleteUser", Target: "svc-backup", Result: ResultOK})
	m.Coverage = append(m.Coverage, Coverage{Region: "us-east-1", Source: "s3://trail-bucket/AWSLogs/", Status: CoverageOK})
	todos = RemainingWork(m, s)
	got := todoKinds(todos)
	if got[0] != TodoContain || got[1] != TodoRevoke || todos[1].Count != 1 {
		t.Errorf("remaining work before containment = %v (%+v)", got, todos[1])
	}
	if slices.Contains(got, TodoRetry) || slices.Contains(got, TodoDataEvents) {
		t.Errorf("retry or data events listed after success and log scan: %v", got)
	}
}

func TestRecommendations(t *testing.T) {
	m := fixtureModel()
	s := ComputeStats(m.Events)
	recs := Recommendations(m, s)
	byKind := map[RecKind]Recommendation{}
	var kinds []RecKind
	for _, r := range recs {
		byKind[r.Kind] = r
		kinds = append(kinds, r.Kind)
	}
	want := []RecKind{RecRoles, RecVault, RecGitSecrets, RecRotate, RecGuardDuty, RecTrail, RecRestrictRegions, RecBudget}
	if !slices.Equal(kinds, want) {
		t.Fatalf("recommendations = %v, want %v", kinds, want)
	}
	if r := byKind[RecRotate]; r.Count != 163 {
		t.Errorf("key age = %d days, want 163", r.Count)
	}
	if r := byKind[RecGuardDuty]; !slices.Equal(r.Subjects, []string{"ap-southeast-1", "us-east-1"}) {
		t.Errorf("GuardDuty regions = %v", r.Subjects)
	}
	// us-east-1 holds IAM and cannot be denied; only other attacker-only
	// regions are proposed.
	if r := byKind[RecRestrictRegions]; !slices.Equal(r.Subjects, []string{"ap-southeast-1", "sa-east-1"}) {
		t.Errorf("regions to restrict = %v", r.Subjects)
	}
	if r := byKind[RecBudget]; !slices.Equal(r.Subjects, []string{"ec2:RunInstances"}) {
		t.Errorf("compute calls = %v", r.Subjects)
	}

	m.Case.RootKey = true
	m.GuardDuty = GuardDuty{}
	m.Coverage = []Coverage{{Region: "us-east-1", Source: "/var/log/trail", Status: CoverageOK}}
	recs = Recommendations(m, ComputeStats(slices.Values([]Event(nil))))
	kinds = nil
	for _, r := range recs {
		kinds = append(kinds, r.Kind)
	}
	if !slices.Equal(kinds, []RecKind{RecRootKey, RecVault, RecGitSecrets, RecRotate}) {
		t.Errorf("root key recommendations = %v", kinds)
	}
}

// countingSeq counts how often it is ranged over.
func countingSeq(evs []Event, n *int) iter.Seq[Event] {
	return func(yield func(Event) bool) {
		*n++
		for _, e := range evs {
			if !yield(e) {
				return
			}
		}
	}
}

func TestStatsGivenSavesAPass(t *testing.T) {
	passes := 0
	m := fixtureModel()
	m.Events = countingSeq(fixtureEvents(), &passes)
	if m.stats(); passes != 1 {
		t.Fatalf("computing stats took %d passes", passes)
	}
	m.Stats = ComputeStats(m.Events)
	passes = 0
	if m.stats(); passes != 0 {
		t.Errorf("given stats still ranged over events %d times", passes)
	}
}

// TestRecommendBastionMFA: a key that reached roles without MFA, or an
// owner without MFA, gets seed 003's setup recommended, in both languages.
func TestRecommendBastionMFA(t *testing.T) {
	m := fixtureModel()
	s := ComputeStats(m.Events)
	for _, r := range Recommendations(m, s) {
		if r.Kind == RecBastionMFA {
			t.Fatalf("recommended %s without a gap", r.Kind)
		}
	}
	m.Case.OwnerWithoutMFA = true
	m.Case.AssumeWithoutMFA = []string{"arn:aws:iam::123456789012:role/*"}
	recs := Recommendations(m, s)
	if len(recs) < 2 || recs[1].Kind != RecBastionMFA || !slices.Equal(recs[1].Subjects, m.Case.AssumeWithoutMFA) {
		t.Fatalf("recommendations = %+v, want the bastion setup after the roles", recs)
	}
	for _, lang := range []string{"en", "ja"} {
		var b strings.Builder
		if err := WriteMarkdown(&b, m, MarkdownOptions{Lang: lang}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"003", "aws:MultiFactorAuthPresent", "mfa_serial", "arn:aws:iam::123456789012:role/*"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s markdown lacks %q", lang, want)
			}
		}
	}
}
