package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// scClock is a settable clock for scenario tests.
type scClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *scClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *scClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var scStart = time.Date(2025, 3, 14, 21, 30, 0, 0, time.UTC)

// scLoad builds a shipped scenario on a settable clock.
func scLoad(t *testing.T, name string) (*Sim, *scClock) {
	t.Helper()
	sc, err := LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	clk := &scClock{t: scStart}
	s, err := NewFromScenario(sc, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, clk
}

// scRecord is a stored event with its record decoded.
type scRecord struct {
	ev  *storedEvent
	rec map[string]any
}

// scRecords returns every stored event of every region, oldest first.
func scRecords(t *testing.T, s *Sim) []scRecord {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []scRecord
	for _, r := range s.acct.Regions {
		for _, e := range s.acct.regions[r.Name].Trail.events {
			var rec map[string]any
			if err := json.Unmarshal(e.Raw, &rec); err != nil {
				t.Fatalf("event %s: %v", e.ID, err)
			}
			out = append(out, scRecord{e, rec})
		}
	}
	slices.SortStableFunc(out, func(a, b scRecord) int { return a.ev.Time.Compare(b.ev.Time) })
	return out
}

// scDig follows map keys and list indexes through a decoded record.
func scDig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// scCount counts stored events of a key, and how many of them failed.
func scCount(t *testing.T, s *Sim, key string) (all, failed int) {
	t.Helper()
	for _, r := range scRecords(t, s) {
		if r.ev.AccessKeyID == key {
			all++
			if r.rec["errorCode"] != nil {
				failed++
			}
		}
	}
	return all, failed
}

// scKey returns a scenario credential by name or fails.
func scKey(t *testing.T, s *Sim, name string) Credential {
	t.Helper()
	k, ok := s.ScenarioKey(name)
	if !ok {
		t.Fatalf("no scenario key %q", name)
	}
	return k
}

// scTicks returns how many ticks the background actors have done.
func scTicks(s *Sim) int {
	run := runOf(s)
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.ticks
}

// scWaitTicks waits until the actors have ticked n more times. The bound is
// on the number of polls, and generous: it only keeps a broken actor loop
// from hanging the test.
func scWaitTicks(t *testing.T, s *Sim, n int) {
	t.Helper()
	target := scTicks(s) + n
	for i := 0; i < 20000; i++ {
		if scTicks(s) >= target {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the actors did not tick %d more times", n)
}

// scDo runs a call as the scenario's responder.
func scDo(t *testing.T, s *Sim, clk *scClock, service, action string, params map[string]string) {
	t.Helper()
	r := s.Responder()
	_, err := s.Do(&Call{Service: service, Action: action, Region: "us-east-1", Params: params,
		AccessKeyID: r.AccessKeyID, SourceIP: "198.51.100.7", UserAgent: "keyleak-test", Time: clk.now()})
	if err != nil {
		t.Fatalf("%s %s: %v", service, action, err)
	}
}

// scRevokeSessions is the aws:TokenIssueTime deny keyleak puts on a user.
func scRevokeSessions(at time.Time) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",`+
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`, at.UTC().Format(time.RFC3339))
}

func TestScenarioNames(t *testing.T) {
	got := ScenarioNames()
	for _, want := range []string{"github-push", "llm-jacking", "session-persistence"} {
		if !slices.Contains(got, want) {
			t.Errorf("ScenarioNames() = %v, missing %s", got, want)
		}
	}
}

func TestShippedScenariosReplay(t *testing.T) {
	for _, name := range ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			s, _ := scLoad(t, name)
			if s.Scenario() == nil || s.Scenario().Name != name {
				t.Fatalf("Scenario() = %v, want %s", s.Scenario(), name)
			}
			tr := s.Truth()
			if tr.LeakedKey == "" {
				t.Fatal("no leaked key")
			}
			if _, ok := s.Key(tr.LeakedKey); !ok {
				t.Fatalf("leaked key %s is not in the account", tr.LeakedKey)
			}
			actors := map[string]int{}
			for _, e := range tr.Events {
				actors[e.Actor]++
				if e.EventTime.After(scStart) {
					t.Errorf("event %s %s at %s is after the start %s", e.EventName, e.EventID, e.EventTime, scStart)
				}
				if e.Attacker != (e.Actor == "attacker") {
					t.Errorf("event %s: attacker %v for actor %s", e.EventID, e.Attacker, e.Actor)
				}
			}
			if actors["attacker"] == 0 || actors["workload"] == 0 {
				t.Errorf("actors %v: want both attacker and workload events", actors)
			}
			for _, r := range scRecords(t, s) {
				if r.rec["sourceIPAddress"] == "" || r.rec["userAgent"] == "" {
					t.Errorf("event %s %s has no source IP or user agent", r.ev.Name, r.ev.ID)
				}
			}

			resp := s.Responder()
			if resp.AccessKeyID == "" || resp.Secret == "" || resp.AccessKeyID == tr.LeakedKey {
				t.Fatalf("Responder() = %+v", resp)
			}
			s.mu.Lock()
			admin := slices.Contains(s.acct.Users[resp.UserName].Attached, "arn:aws:iam::aws:policy/AdministratorAccess")
			s.mu.Unlock()
			if resp.UserName != ResponderUser || !admin {
				t.Errorf("responder key belongs to %s (admin %v), want user %s with AdministratorAccess", resp.UserName, admin, ResponderUser)
			}
		})
	}
}

func TestScenarioReplayIsReproducible(t *testing.T) {
	a, _ := scLoad(t, "github-push")
	b, _ := scLoad(t, "github-push")
	ta, tb := a.Truth(), b.Truth()
	if ta.LeakedKey != tb.LeakedKey || len(ta.Events) != len(tb.Events) || len(ta.Resources) != len(tb.Resources) {
		t.Fatalf("two builds differ: %d/%d events, %d/%d resources", len(ta.Events), len(tb.Events), len(ta.Resources), len(tb.Resources))
	}
	for i := range ta.Events {
		if ta.Events[i] != tb.Events[i] {
			t.Fatalf("event %d differs: %+v vs %+v", i, ta.Events[i], tb.Events[i])
		}
	}
}

// TestGitHubPushStateMatchesTrail checks both directions: every successful
// create event has its resource in the account, and every resource a key
// made has the event that created it, by the same key.
func TestGitHubPushStateMatchesTrail(t *testing.T) {
	s, _ := scLoad(t, "github-push")
	tr := s.Truth()
	type res struct{ typ, id, region string }
	have := map[res]TruthResource{}
	for _, r := range tr.Resources {
		have[res{r.Type, r.ID, r.Region}] = r
	}
	created := map[res]string{} // resource -> access key of its create event
	names := map[string]int{}
	for _, r := range scRecords(t, s) {
		if r.rec["errorCode"] != nil {
			continue
		}
		region, _ := r.rec["awsRegion"].(string)
		var got []res
		switch r.ev.Name {
		case "CreateUser":
			got = append(got, res{"AWS::IAM::User", fmt.Sprint(scDig(r.rec, "requestParameters", "userName")), "us-east-1"})
		case "CreateAccessKey":
			got = append(got, res{"AWS::IAM::AccessKey", fmt.Sprint(scDig(r.rec, "responseElements", "accessKey", "accessKeyId")), "us-east-1"})
		case "RunInstances":
			items, _ := scDig(r.rec, "responseElements", "instancesSet", "items").([]any)
			for i := range items {
				got = append(got, res{"AWS::EC2::Instance", fmt.Sprint(scDig(items, i, "instanceId")), region})
			}
		case "CreateKeyPair":
			got = append(got, res{"AWS::EC2::KeyPair", fmt.Sprint(scDig(r.rec, "requestParameters", "keyName")), region})
		case "CreateSecurityGroup":
			got = append(got, res{"AWS::EC2::SecurityGroup", fmt.Sprint(scDig(r.rec, "responseElements", "groupId")), region})
		case "CreateFunction", "CreateFunction20150331":
			got = append(got, res{"AWS::Lambda::Function", fmt.Sprint(scDig(r.rec, "requestParameters", "functionName")), region})
		default:
			continue
		}
		names[r.ev.Name] += len(got)
		for _, g := range got {
			if _, ok := have[g]; !ok {
				t.Errorf("%s event %s created %v, which is not in the account", r.ev.Name, r.ev.ID, g)
			}
			created[g] = r.ev.AccessKeyID
		}
	}
	want := map[string]int{"CreateUser": 1, "CreateAccessKey": 1, "RunInstances": 6, "CreateKeyPair": 3, "CreateSecurityGroup": 3}
	for n, c := range want {
		if names[n] != c {
			t.Errorf("%d resources from %s events, want %d", names[n], n, c)
		}
	}
	if names["CreateFunction"]+names["CreateFunction20150331"] != 1 {
		t.Errorf("want one CreateFunction event, got %v", names)
	}
	for k, r := range have {
		by, ok := created[k]
		if !ok {
			t.Errorf("resource %v has no create event", k)
			continue
		}
		if by != r.CreatedBy {
			t.Errorf("resource %v: made by %s, its event by %s", k, r.CreatedBy, by)
		}
		if !r.Attacker {
			t.Errorf("resource %v is not flagged attacker", k)
		}
	}
	// The bot's instances are in the three regions it used.
	regions := map[string]bool{}
	for k := range have {
		if k.typ == "AWS::EC2::Instance" {
			regions[k.region] = true
		}
	}
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		if !regions[r] {
			t.Errorf("no attacker instance in %s", r)
		}
	}
}

func TestGitHubPushDerivedKeys(t *testing.T) {
	s, _ := scLoad(t, "github-push")
	tr := s.Truth()
	leaked := scKey(t, s, "ci-deploy-key")
	if tr.LeakedKey != leaked.AccessKeyID {
		t.Fatalf("truth leaked key %s, want ci-deploy-key %s", tr.LeakedKey, leaked.AccessKeyID)
	}
	session, backdoor := scKey(t, s, "bot-session"), scKey(t, s, "backdoor-key")
	want := map[string]TruthKey{
		session.AccessKeyID:  {Parent: leaked.AccessKeyID, Via: "GetSessionToken", Kind: KindSession, UserName: "ci-deploy"},
		backdoor.AccessKeyID: {Parent: leaked.AccessKeyID, Via: "CreateAccessKey", Kind: KindUserKey, UserName: "backup-admin"},
	}
	if len(tr.DerivedKeys) != len(want) {
		t.Fatalf("derived keys %+v, want %d", tr.DerivedKeys, len(want))
	}
	events := map[string]TruthEvent{}
	for _, e := range tr.Events {
		events[e.EventID] = e
	}
	for _, k := range tr.DerivedKeys {
		w, ok := want[k.AccessKeyID]
		if !ok {
			t.Errorf("unexpected derived key %+v", k)
			continue
		}
		if k.Parent != w.Parent || k.Via != w.Via || k.Kind != w.Kind || k.UserName != w.UserName {
			t.Errorf("derived key %s = %+v, want %+v", k.AccessKeyID, k, w)
		}
		if e, ok := events[k.EventID]; !ok || e.EventName != w.Via || e.AccessKeyID != leaked.AccessKeyID || !e.Attacker {
			t.Errorf("derived key %s: its event %s is %+v", k.AccessKeyID, k.EventID, e)
		}
	}
}

func TestGitHubPushActors(t *testing.T) {
	s, _ := scLoad(t, "github-push")
	leaked := scKey(t, s, "ci-deploy-key").AccessKeyID
	pushed := scStart.Add(-2*time.Hour - 20*time.Minute)
	var workloadAfterLeak, quarantine int
	var quarantinedAt time.Time
	var firstAttack time.Time
	ciOrigins := map[string]bool{}
	for _, r := range scRecords(t, s) {
		ip, ua := r.rec["sourceIPAddress"].(string), r.rec["userAgent"].(string)
		switch r.ev.Actor {
		case "workload":
			ciOrigins[ip+" "+ua] = true
			if r.ev.AccessKeyID != leaked {
				t.Errorf("workload event %s with key %s", r.ev.ID, r.ev.AccessKeyID)
			}
			if r.ev.Time.After(pushed) {
				workloadAfterLeak++
			}
		case "aws":
			quarantine++
			quarantinedAt = r.ev.Time
			if r.ev.Name != "AttachUserPolicy" || ip != "AWS Internal" ||
				scDig(r.rec, "requestParameters", "policyArn") != "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2" ||
				scDig(r.rec, "requestParameters", "userName") != "ci-deploy" {
				t.Errorf("aws event: %s", r.ev.Raw)
			}
		case "attacker":
			if firstAttack.IsZero() {
				firstAttack = r.ev.Time
			}
		default:
			t.Errorf("event %s has actor %q", r.ev.ID, r.ev.Actor)
		}
	}
	if len(ciOrigins) != 1 {
		t.Errorf("workload comes from %d origins, want one fixed CI address and agent: %v", len(ciOrigins), ciOrigins)
	}
	for _, r := range scRecords(t, s) {
		if r.ev.Actor == "attacker" && ciOrigins[r.rec["sourceIPAddress"].(string)+" "+r.rec["userAgent"].(string)] {
			t.Errorf("attacker event %s looks like the CI pipeline", r.ev.ID)
		}
	}
	if workloadAfterLeak == 0 {
		t.Error("no workload event after the push")
	}
	if quarantine != 1 || quarantinedAt.Sub(pushed) != 3*time.Minute {
		t.Errorf("%d quarantine events, at %s after the push; want one, 3m after", quarantine, quarantinedAt.Sub(pushed))
	}
	if d := firstAttack.Sub(pushed); d < 0 || d > 2*time.Minute {
		t.Errorf("first attacker call %s after the push, want within 2m", d)
	}
	// After the quarantine, CreateUser with the leaked key is denied and
	// recorded as such.
	denied := 0
	for _, r := range scRecords(t, s) {
		if r.ev.Name == "CreateUser" && r.ev.Time.After(quarantinedAt) {
			if r.rec["errorCode"] != "AccessDenied" {
				t.Errorf("CreateUser after the quarantine: errorCode %v", r.rec["errorCode"])
			}
			denied++
		}
	}
	if denied == 0 {
		t.Error("no denied CreateUser after the quarantine")
	}
}

// TestOngoingActorsStopWhenTheirCredentialFails plays github-push on: the
// leaked key's actor stops when the key is deactivated, the session token's
// actor goes on until its sessions are revoked, the backdoor key's goes on.
func TestOngoingActorsStopWhenTheirCredentialFails(t *testing.T) {
	s, clk := scLoad(t, "github-push")
	leaked := scKey(t, s, "ci-deploy-key").AccessKeyID
	session := scKey(t, s, "bot-session").AccessKeyID
	backdoor := scKey(t, s, "backdoor-key").AccessKeyID

	s.StartActors(time.Millisecond)
	s.StartActors(time.Millisecond) // a second call must not start a second loop
	scWaitTicks(t, s, 3)
	l0, _ := scCount(t, s, leaked)
	s0, _ := scCount(t, s, session)
	scWaitTicks(t, s, 3)
	l1, _ := scCount(t, s, leaked)
	s1, _ := scCount(t, s, session)
	if l1 <= l0 || s1 <= s0 {
		t.Fatalf("the actors are not acting: leaked %d->%d, session %d->%d", l0, l1, s0, s1)
	}

	clk.advance(time.Minute)
	scDo(t, s, clk, "iam", "UpdateAccessKey", map[string]string{"UserName": "ci-deploy", "AccessKeyId": leaked, "Status": "Inactive"})
	l2, _ := scCount(t, s, leaked)
	s2, _ := scCount(t, s, session)
	scWaitTicks(t, s, 4)
	l3, _ := scCount(t, s, leaked)
	s3, _ := scCount(t, s, session)
	if l3 != l2 {
		t.Errorf("the deactivated key made %d more calls", l3-l2)
	}
	for _, idx := range scLiveActors(s) {
		if a := s.Scenario().Timeline[idx]; a.As == "ci-deploy-key" {
			t.Errorf("the ongoing %s %s of the deactivated key is still running", a.Service, a.Action)
		}
	}
	if s3 <= s2 {
		t.Errorf("the session token stopped with the key (%d -> %d events); it must go on", s2, s3)
	}

	clk.advance(time.Minute)
	scDo(t, s, clk, "iam", "PutUserPolicy", map[string]string{"UserName": "ci-deploy", "PolicyName": "keyleak-revoke-sessions",
		"PolicyDocument": scRevokeSessions(clk.now())})
	s4, f4 := scCount(t, s, session)
	b4, _ := scCount(t, s, backdoor)
	scWaitTicks(t, s, 4)
	s5, f5 := scCount(t, s, session)
	b5, _ := scCount(t, s, backdoor)
	if s5-s4 > 1 || s5-s4 != f5-f4 {
		t.Errorf("after revocation the session made %d calls, %d of them denied; want at most the one denied call", s5-s4, f5-f4)
	}
	if b5 <= b4 {
		t.Errorf("the backdoor key stopped (%d -> %d events) though nothing was done to it", b4, b5)
	}
	scWaitTicks(t, s, 2)
	if s6, _ := scCount(t, s, session); s6 != s5 {
		t.Errorf("the revoked session went on: %d -> %d events", s5, s6)
	}

	// A deny-all inline policy on the backdoor user stops its key, as in
	// AWS: an explicit deny wins over AdministratorAccess.
	clk.advance(time.Minute)
	scDo(t, s, clk, "iam", "PutUserPolicy", map[string]string{"UserName": "backup-admin", "PolicyName": "keyleak-deny-all",
		"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`})
	scWaitTicks(t, s, 3)
	for _, a := range s.Actors() {
		if !a.Stopped || a.Acts == 0 {
			t.Errorf("actor %s %s:%s: stopped %v after %d calls", a.Credential, a.Service, a.Action, a.Stopped, a.Acts)
		}
		want := map[string]string{"ci-deploy-key": "InvalidClientTokenId", "bot-session": "UnauthorizedOperation", "backdoor-key": "AccessDenied"}[a.Credential]
		if a.StopCode != want || a.AccessKeyID == "" || a.StoppedAt.IsZero() {
			t.Errorf("actor %s stopped with %q at %s, want %s", a.Credential, a.StopCode, a.StoppedAt, want)
		}
	}
}

// TestStartActorsRunsDueOccurrences: repetitions scheduled after the start
// run when the clock reaches them, at their own time.
func TestStartActorsRunsDueOccurrences(t *testing.T) {
	yaml := scMinimal + `
  - at: -2m
    actor: workload
    as: app-key
    service: sts
    action: GetCallerIdentity
    ip: 52.14.88.201
    userAgent: aws-cli/2.15.10
    repeat: 5
    every: 1m
`
	sc, err := ParseScenario("due.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	clk := &scClock{t: scStart}
	s, err := NewFromScenario(sc, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := scKey(t, s, "app-key").AccessKeyID
	if n, _ := scCount(t, s, key); n != 3 {
		t.Fatalf("%d events replayed, want 3 (-2m, -1m, 0)", n)
	}
	clk.advance(90 * time.Second)
	s.StartActors(time.Millisecond)
	scWaitTicks(t, s, 1)
	var times []time.Time
	for _, r := range scRecords(t, s) {
		if r.ev.AccessKeyID == key {
			times = append(times, r.ev.Time)
		}
	}
	if len(times) != 4 || !times[3].Equal(scStart.Add(time.Minute)) {
		t.Fatalf("events at %v, want a fourth at +1m", times)
	}
	clk.advance(time.Hour)
	scWaitTicks(t, s, 1)
	if n, _ := scCount(t, s, key); n != 5 {
		t.Errorf("%d events, want all 5 repetitions", n)
	}
}

// TestRecordOnlyCallsAreCheckedLikeOthers: llm-jacking's Bedrock calls are
// recorded only, but a quarantine denies them (recording the denial) and
// stops the actor, and a deactivated key records nothing.
func TestRecordOnlyCallsAreCheckedLikeOthers(t *testing.T) {
	s, clk := scLoad(t, "llm-jacking")
	leaked := scKey(t, s, "chatbot-key").AccessKeyID
	var invoke int
	for _, r := range scRecords(t, s) {
		if r.ev.Name == "InvokeModel" {
			invoke++
			if r.ev.Source != "bedrock.amazonaws.com" || scDig(r.rec, "requestParameters", "modelId") == nil {
				t.Errorf("InvokeModel record: %s", r.ev.Raw)
			}
		}
	}
	if invoke == 0 {
		t.Fatal("no InvokeModel events")
	}

	scDo(t, s, clk, "iam", "AttachUserPolicy", map[string]string{"UserName": "chatbot-app", "PolicyArn": "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"})
	s.StartActors(time.Millisecond)
	scWaitTicks(t, s, 2)
	if live := scLiveActors(s); len(live) != 0 {
		t.Fatalf("actors still running after the quarantine: %v", live)
	}
	var denied []string
	for _, r := range scRecords(t, s) {
		if !r.ev.Time.Before(scStart) && r.ev.AccessKeyID == leaked && r.ev.Actor == "attacker" {
			if r.rec["errorCode"] != "AccessDeniedException" || scDig(r.rec, "requestParameters", "modelId") == nil {
				t.Errorf("record after the quarantine: %s", r.ev.Raw)
			}
			denied = append(denied, r.ev.Name)
		}
	}
	slices.Sort(denied)
	if !slices.Equal(denied, []string{"InvokeModel", "InvokeModelWithResponseStream"}) {
		t.Errorf("denied calls at the start: %v, want one of each ongoing action", denied)
	}

	// A deactivated key records nothing, even for a service the simulator
	// only records.
	scDo(t, s, clk, "iam", "UpdateAccessKey", map[string]string{"UserName": "chatbot-app", "AccessKeyId": leaked, "Status": "Inactive"})
	before, _ := scCount(t, s, leaked)
	_, err := s.recordOnly(&Call{Service: "bedrock", Action: "ListFoundationModels", Region: "us-east-1", AccessKeyID: leaked,
		SourceIP: "5.188.87.24", UserAgent: "Boto3/1.28.57", Actor: "attacker"}, nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "UnrecognizedClientException") {
		t.Errorf("record-only call with an inactive key: %v, want UnrecognizedClientException", err)
	}
	if after, _ := scCount(t, s, leaked); after != before {
		t.Errorf("an inactive key recorded %d events", after-before)
	}
}

// scLiveActors lists the timeline indexes of ongoing actors not stopped.
func scLiveActors(s *Sim) []int {
	run := runOf(s)
	run.mu.Lock()
	defer run.mu.Unlock()
	var out []int
	for _, la := range run.live {
		if !la.stopped {
			out = append(out, la.idx)
		}
	}
	return out
}

// TestSessionPersistenceOutlivesTheKey: with session-persistence, deactivating
// the key leaves the session, federation and role actors running; the user
// deny stops the first two, the role deny the last.
func TestSessionPersistenceOutlivesTheKey(t *testing.T) {
	s, clk := scLoad(t, "session-persistence")
	leaked := scKey(t, s, "pipeline-key").AccessKeyID
	keys := map[string]string{}
	for _, n := range []string{"session", "federation", "role-session"} {
		keys[n] = scKey(t, s, n).AccessKeyID
	}
	if got := len(s.Truth().DerivedKeys); got != 3 {
		t.Fatalf("%d derived keys, want 3", got)
	}
	s.StartActors(time.Millisecond)
	scDo(t, s, clk, "iam", "UpdateAccessKey", map[string]string{"UserName": "data-pipeline", "AccessKeyId": leaked, "Status": "Inactive"})
	count := func() map[string]int {
		m := map[string]int{}
		for n, k := range keys {
			m[n], _ = scCount(t, s, k)
		}
		m["leaked"], _ = scCount(t, s, leaked)
		return m
	}
	c0 := count()
	scWaitTicks(t, s, 3)
	c1 := count()
	if c1["leaked"] != c0["leaked"] {
		t.Errorf("the deactivated key made %d calls", c1["leaked"]-c0["leaked"])
	}
	for _, n := range []string{"session", "federation", "role-session"} {
		if c1[n] <= c0[n] {
			t.Errorf("%s stopped with the key", n)
		}
	}

	clk.advance(time.Minute)
	scDo(t, s, clk, "iam", "PutUserPolicy", map[string]string{"UserName": "data-pipeline", "PolicyName": "revoke",
		"PolicyDocument": scRevokeSessions(clk.now())})
	scWaitTicks(t, s, 2)
	c2 := count()
	scWaitTicks(t, s, 3)
	c3 := count()
	for _, n := range []string{"session", "federation"} {
		if c3[n] != c2[n] {
			t.Errorf("%s went on after the user's sessions were revoked", n)
		}
	}
	if c3["role-session"] <= c2["role-session"] {
		t.Error("the role session stopped, though only the user's sessions were revoked")
	}

	scDo(t, s, clk, "iam", "PutRolePolicy", map[string]string{"RoleName": "etl-runner", "PolicyName": "revoke",
		"PolicyDocument": scRevokeSessions(clk.now())})
	for i := 0; i < 20000 && len(scLiveActors(s)) > 0; i++ {
		time.Sleep(time.Millisecond)
	}
	if live := scLiveActors(s); len(live) != 0 {
		t.Errorf("actors still running after both revocations: %v", live)
	}
}

// scMinimal is the smallest valid scenario; tests append timeline entries.
const scMinimal = `name: minimal
users:
  - name: responder
    managedPolicies: [AdministratorAccess]
    keys:
      - name: responder-key
  - name: app
    keys:
      - name: app-key
        leaked: true
timeline:`

func TestScenarioErrorsNameTheLine(t *testing.T) {
	action := func(extra string) string {
		return scMinimal + `
  - at: -1h
    actor: attacker
    as: app-key
    service: sts
    action: GetCallerIdentity
    ip: 45.155.205.233
    userAgent: Boto3/1.28` + extra + "\n"
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"syntax", "name: x\nusers: [\n", "line 2: did not find expected node content"},
		{"unknown field", action("\n    colour: red"), `line 19: field colour not found in a timeline action`},
		{"bad offset", strings.Replace(action(""), "at: -1h", "at: yesterday", 1), "line 12"},
		{"unknown key", strings.Replace(action(""), "as: app-key", "as: nobody", 1), `line 12: sts GetCallerIdentity: as "nobody"`},
		{"unknown ref", action("\n    params: {X: \"${nothing}\"}"), "line 12: sts GetCallerIdentity: ${nothing}"},
		{"unserved service", strings.Replace(action(""), "service: sts", "service: bedrock", 1), "line 12: bedrock GetCallerIdentity: the simulator does not serve bedrock:GetCallerIdentity; add recordOnly: true"},
		{"no leaked key", strings.Replace(scMinimal, "leaked: true", "leaked: false", 1), "0 keys are marked leaked"},
		{"no responder", strings.Replace(scMinimal, "name: responder", "name: ops", 1), `no user "responder"`},
		{"unknown policy", strings.Replace(scMinimal, "AdministratorAccess", "GodMode", 1), `line 3: user responder: no AWS managed policy "GodMode"`},
		{"repeat without every", action("\n    repeat: 3"), "line 12: sts GetCallerIdentity: repeat needs a positive every"},
		{"missing origin", strings.Replace(action(""), "    ip: 45.155.205.233\n", "", 1), "line 12: sts GetCallerIdentity: missing ip or userAgent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario("bad.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "bad.yaml") {
				t.Fatalf("error %v, want one naming bad.yaml and containing %q", err, tt.want)
			}
		})
	}
}

func TestScenarioReplayErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name, entry, want string
	}{
		{"unexpected failure", `
  - at: -1h
    actor: attacker
    as: app-key
    service: iam
    action: CreateAccessKey
    params: {UserName: nobody}
    ip: 45.155.205.233
    userAgent: Boto3/1.28`, "line 12: iam CreateAccessKey at -1h0m0s: the call failed: NoSuchEntity"},
		{"expected error did not happen", `
  - at: -1h
    actor: attacker
    as: app-key
    service: iam
    action: ListUsers
    expect: AccessDenied
    ip: 45.155.205.233
    userAgent: Boto3/1.28`, "line 12: iam ListUsers at -1h0m0s: the call succeeded, want error AccessDenied"},
		{"saved credential used too early", `
  - at: -2h
    actor: attacker
    as: later
    service: sts
    action: GetCallerIdentity
    ip: 45.155.205.233
    userAgent: Boto3/1.28
  - at: -1h
    actor: attacker
    as: app-key
    service: sts
    action: GetSessionToken
    save: later
    ip: 45.155.205.233
    userAgent: Boto3/1.28`, "line 12: sts GetCallerIdentity at -2h0m0s: as later: no such credential yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := ParseScenario("replay.yaml", []byte(scMinimal+tt.entry+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewFromScenario(sc, WithClock(func() time.Time { return scStart }))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadScenarioFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte(scMinimal+" []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "minimal" || sc.Source() != "mine.yaml" {
		t.Errorf("loaded %q from %q", sc.Name, sc.Source())
	}
	_, err = LoadScenario(filepath.Join(dir, "missing.yaml"))
	if err == nil || !strings.Contains(err.Error(), "github-push") {
		t.Errorf("missing file: %v, want an error that lists the shipped scenarios", err)
	}
}

func TestParseOffset(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"-2h10m", -(2*time.Hour + 10*time.Minute), true},
		{"-7d", -7 * 24 * time.Hour, true},
		{"-3d4h", -(76 * time.Hour), true},
		{"+30s", 30 * time.Second, true},
		{"0", 0, true},
		{"d", 0, false},
		{"-2x", 0, false},
		{"1d-2h", 0, false},
	}
	for _, tt := range tests {
		got, err := parseOffset(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseOffset(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFlattenParams(t *testing.T) {
	got := map[string]string{}
	flatten(got, "", map[string]any{
		"GroupId": "sg-1",
		"IpPermissions": []any{map[string]any{"IpProtocol": "tcp", "FromPort": 22,
			"IpRanges": []any{map[string]any{"CidrIp": "0.0.0.0/0"}}}},
		"DryRun": false,
	})
	want := map[string]string{"GroupId": "sg-1", "IpPermissions.1.IpProtocol": "tcp", "IpPermissions.1.FromPort": "22",
		"IpPermissions.1.IpRanges.1.CidrIp": "0.0.0.0/0", "DryRun": "false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("flatten = %v, want %v", got, want)
	}
}

// TestResponderKeyWorksOverHTTP: the responder's key from Responder() signs
// real SDK requests to the simulator serving a scenario.
func TestResponderKeyWorksOverHTTP(t *testing.T) {
	s, _ := scLoad(t, "github-push")
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out, err := sts.NewFromConfig(srv.Config(s.Responder(), "us-east-1")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:iam::482916503317:user/responder"; aws.ToString(out.Arn) != want {
		t.Errorf("responder is %s, want %s", aws.ToString(out.Arn), want)
	}
}
