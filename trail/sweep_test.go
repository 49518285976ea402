package trail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

var sweepNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	leaked  = "AKIALEAKEDLEAKED0001"
	other   = "AKIAOTHEROTHEROTHER1"
	session = "ASIASESSIONSESSION01"
	role    = "ASIAROLEROLEROLEROL1"
	created = "AKIACREATEDCREATED01"
)

// rec builds a CloudTrail record of key calling name in region at.
func rec(t testing.TB, id, key, name, region string, at time.Time, response map[string]any, request map[string]any) []byte {
	t.Helper()
	r := map[string]any{
		"eventVersion": "1.09", "eventID": id, "eventTime": at.UTC().Format(time.RFC3339),
		"eventName": name, "eventSource": "sts.amazonaws.com", "awsRegion": region,
		"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2",
		"userIdentity": map[string]any{"type": "IAMUser", "accessKeyId": key, "userName": "alice",
			"accountId": "111122223333", "arn": "arn:aws:iam::111122223333:user/alice"},
		"recipientAccountId": "111122223333", "readOnly": false,
		"requestParameters": request, "responseElements": response,
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fill adds n events of key to a region of the fake, one a minute back from
// sweepNow, and returns their IDs.
func fill(t testing.TB, ct *trailtest.CloudTrail, region, key string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%s-%05d", region, key, i)
		at := sweepNow.Add(-time.Duration(i+1) * time.Minute)
		if err := ct.AddRecord(region, rec(t, id, key, "GetCallerIdentity", region, at, nil, nil)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// virtualSweep builds a sweep on the fake with virtual limiters and clock.
func virtualSweep(ct *trailtest.CloudTrail, regions []trail.Region, lims *trailtest.Limiters, clk *trailtest.Clock, opts ...trail.Option) *trail.Sweep {
	opts = append([]trail.Option{
		trail.WithClock(clk),
		trail.WithLimiter(func(r string) trail.Limiter { return lims.For(r) }),
	}, opts...)
	return trail.NewSweep(regions, func(r string) cloudtrail.LookupEventsAPIClient { return ct.Client(r) }, opts...)
}

func listRegions(t testing.TB, notOptedIn ...string) []trail.Region {
	t.Helper()
	regions, err := trail.ListRegions(context.Background(), trailtest.Regions{NotOptedIn: notOptedIn})
	if err != nil {
		t.Fatal(err)
	}
	return regions
}

func status(inv *trail.Investigation, name string) trail.SourceStatus {
	for _, s := range inv.Coverage.Sources {
		if s.Name == name {
			return s
		}
	}
	return trail.SourceStatus{}
}

func TestSweepAllRegions(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	want := map[string]bool{}
	for region, n := range map[string]int{"us-east-1": 123, "eu-west-1": 50, "ap-south-1": 1} {
		for _, id := range fill(t, ct, region, leaked, n) {
			want[id] = true
		}
		fill(t, ct, region, other, 70)
	}
	fill(t, ct, "af-south-1", leaked, 5) // a region the account has not opted in to
	regions := listRegions(t, "af-south-1", "me-south-1")
	lims := trailtest.NewLimiters(2)
	var mu sync.Mutex
	states := map[string][]trail.State{}
	sw := virtualSweep(ct, regions, lims, trailtest.NewClock(sweepNow), trail.WithProgress(func(s trail.SourceStatus) {
		mu.Lock()
		defer mu.Unlock()
		if st := states[s.Name]; len(st) == 0 || st[len(st)-1] != s.State {
			states[s.Name] = append(st, s.State)
		}
	}))
	inv, err := sw.Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	got := eventIDs(inv.Events)
	if len(inv.Events) != len(want) || len(got) != len(want) {
		t.Fatalf("found %d events (%d distinct), want %d", len(inv.Events), len(got), len(want))
	}
	for id := range want {
		if !got[id] {
			t.Fatalf("event %s missing", id)
		}
	}
	if !slices.IsSortedFunc(inv.Events, func(a, b trail.Event) int { return a.EventTime.Compare(b.EventTime) }) {
		t.Error("events not in time order")
	}
	if len(inv.Coverage.Sources) != len(trailtest.DefaultRegions)+2 {
		t.Errorf("%d regions in coverage, want %d", len(inv.Coverage.Sources), len(trailtest.DefaultRegions)+2)
	}
	for _, r := range []string{"af-south-1", "me-south-1"} {
		if st := status(inv, r); st.State != trail.StateNotEnabled || ct.Calls(r) != 0 {
			t.Errorf("%s: state %q, %d calls; want not enabled and never queried", r, st.State, ct.Calls(r))
		}
	}
	us := status(inv, "us-east-1")
	if us.State != trail.StateOK || us.Pages != 3 || us.Events != 123 || us.Lookups != 1 {
		t.Errorf("us-east-1 = %+v", us)
	}
	if st := status(inv, "eu-west-1"); st.Pages != 1 || st.Events != 50 {
		t.Errorf("eu-west-1 = %+v (50 events fit one page)", st)
	}
	if st := status(inv, "eu-north-1"); st.State != trail.StateOK || st.Pages != 1 || st.Events != 0 {
		t.Errorf("empty region = %+v", st)
	}
	if inv.Coverage.Failed() {
		t.Errorf("coverage failed: %s", inv.Coverage.Summary())
	}
	if inv.Account != "111122223333" || inv.Key != leaked || len(inv.Keys) != 1 {
		t.Errorf("account %q key %q keys %+v", inv.Account, inv.Key, inv.Keys)
	}
	if w := inv.Window; !w.Until.Equal(sweepNow) || !w.Since.Equal(sweepNow.Add(-trail.LookbackLimit)) {
		t.Errorf("default window = %+v", w)
	}
	mu.Lock()
	defer mu.Unlock()
	if st := states["us-east-1"]; !slices.Equal(st, []trail.State{trail.StateQueued, trail.StateRunning, trail.StateOK}) {
		t.Errorf("us-east-1 progress states %v", st)
	}
	if st := states["af-south-1"]; !slices.Equal(st, []trail.State{trail.StateNotEnabled}) {
		t.Errorf("af-south-1 progress states %v", st)
	}
}

// TestSweepPivot follows a chain GetSessionToken → AssumeRole →
// CreateAccessKey across regions, with a cycle back to the leaked key.
func TestSweepPivot(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	t0 := sweepNow.Add(-48 * time.Hour)
	add := func(region string, b []byte) {
		if err := ct.AddRecord(region, b); err != nil {
			t.Fatal(err)
		}
	}
	add("us-east-1", rec(t, "gst", leaked, "GetSessionToken", "us-east-1", t0,
		map[string]any{"credentials": map[string]any{"accessKeyId": session, "expiration": "Mar 2, 2025 10:53:13 PM"}}, nil))
	// The session key assumes a role in eu-west-1 (a regional STS endpoint).
	add("eu-west-1", rec(t, "ar", session, "AssumeRole", "eu-west-1", t0.Add(time.Hour),
		map[string]any{"credentials": map[string]any{"accessKeyId": role, "expiration": "2025-02-27T13:00:00Z"}},
		map[string]any{"roleArn": "arn:aws:iam::111122223333:role/admin", "roleSessionName": "x"}))
	// The role session makes a long-term key; that key hands back the
	// leaked key's ID in a response, which must not loop.
	add("us-east-1", rec(t, "cak", role, "CreateAccessKey", "us-east-1", t0.Add(2*time.Hour),
		map[string]any{"accessKey": map[string]any{"accessKeyId": created, "userName": "backdoor", "status": "Active"}},
		map[string]any{"userName": "backdoor"}))
	add("us-east-1", rec(t, "loop", created, "CreateAccessKey", "us-east-1", t0.Add(3*time.Hour),
		map[string]any{"accessKey": map[string]any{"accessKeyId": leaked, "userName": "alice"}}, nil))
	add("us-east-1", rec(t, "denied", session, "GetSessionToken", "us-east-1", t0.Add(4*time.Hour), nil, nil))
	fill(t, ct, "ap-south-1", created, 60)
	fill(t, ct, "ap-south-1", role, 3)
	fill(t, ct, "sa-east-1", other, 10)

	lims := trailtest.NewLimiters(2)
	inv, err := virtualSweep(ct, listRegions(t), lims, trailtest.NewClock(sweepNow)).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(inv.Events); n != 5+60+3 {
		t.Errorf("found %d events, want 68", n)
	}
	keys := map[string]trail.KeyLink{}
	for _, k := range inv.Keys {
		keys[k.AccessKeyID] = k
	}
	if len(inv.Keys) != 4 || inv.Keys[0].AccessKeyID != leaked || inv.Keys[0].Parent != "" {
		t.Fatalf("keys = %+v", inv.Keys)
	}
	if k := keys[session]; k.Parent != leaked || k.Via != "GetSessionToken" || k.EventID != "gst" ||
		!k.Expiration.Equal(time.Date(2025, 3, 2, 22, 53, 13, 0, time.UTC)) || !k.MayBeValid || k.RoleSession {
		t.Errorf("session key = %+v", k)
	}
	if k := keys[role]; k.Parent != session || k.Via != "AssumeRole" || !k.RoleSession || k.MayBeValid ||
		k.RoleARN != "arn:aws:iam::111122223333:role/admin" || k.Region != "eu-west-1" {
		t.Errorf("role key = %+v (expired before now)", k)
	}
	if k := keys[created]; k.Parent != role || k.Via != "CreateAccessKey" || k.UserName != "backdoor" || !k.MayBeValid {
		t.Errorf("created key = %+v", k)
	}
	if !slices.Equal(inv.RoleARNs, []string{"arn:aws:iam::111122223333:role/admin"}) {
		t.Errorf("roles = %v", inv.RoleARNs)
	}
	// Every key is looked up in every enabled region, through its limiter.
	for _, r := range trailtest.DefaultRegions {
		st := status(inv, r)
		if st.Lookups != 4 || st.State != trail.StateOK {
			t.Errorf("%s: %+v", r, st)
		}
		pages := map[string]int{"ap-south-1": 2 + 1 + 1 + 1}[r]
		if pages == 0 {
			pages = 4
		}
		if st.Pages != pages || lims.For(r).Waits() != pages {
			t.Errorf("%s: %d pages, %d limiter waits, want %d", r, st.Pages, lims.For(r).Waits(), pages)
		}
	}
}

// TestSweepOnEvent checks that WithOnEvent hands over every event the
// sweep keeps, each once, the derived keys' included: containment acts on
// them while the sweep goes on.
func TestSweepOnEvent(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	t0 := sweepNow.Add(-time.Hour)
	if err := ct.AddRecord("us-east-1", rec(t, "cak", leaked, "CreateAccessKey", "us-east-1", t0,
		map[string]any{"accessKey": map[string]any{"accessKeyId": created, "userName": "backdoor"}}, nil)); err != nil {
		t.Fatal(err)
	}
	fill(t, ct, "us-east-1", leaked, 120)
	fill(t, ct, "eu-west-1", created, 7)
	seen := map[string]int{}
	inv, err := virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow),
		trail.WithOnEvent(func(e trail.Event) { seen[e.EventID]++ })).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(inv.Events) || len(seen) != 1+120+7 {
		t.Errorf("OnEvent saw %d events, the sweep kept %d, want 128", len(seen), len(inv.Events))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s handed over %d times", id, n)
		}
	}
}

func TestSweepRetriesThrottlesAndServerErrors(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	want := fill(t, ct, "us-east-1", leaked, 120)
	ct.Inject("us-east-1", trailtest.Throttling(), nil, trailtest.ServerError(503), trailtest.Throttling(), trailtest.Throttling())
	clk := trailtest.NewClock(sweepNow)
	lims := trailtest.NewLimiters(2)
	inv, err := virtualSweep(ct, listRegions(t), lims, clk).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Events) != len(want) {
		t.Fatalf("found %d events, want %d", len(inv.Events), len(want))
	}
	st := status(inv, "us-east-1")
	if st.Throttles != 3 || st.Retries != 4 || st.Pages != 3 || st.State != trail.StateOK {
		t.Errorf("us-east-1 = %+v; want 3 throttles, 4 retries, 3 pages", st)
	}
	if ct.Calls("us-east-1") != 7 || lims.For("us-east-1").Waits() != 7 {
		t.Errorf("%d calls, %d limiter waits; want 7 each (every attempt paced)", ct.Calls("us-east-1"), lims.For("us-east-1").Waits())
	}
	if clk.Slept() <= 0 {
		t.Error("no back-off between attempts")
	}
	if inv.Coverage.Failed() {
		t.Error("retried region reported as failed")
	}
}

func TestSweepRegionFailures(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	want := fill(t, ct, "us-east-1", leaked, 10)
	fill(t, ct, "eu-west-1", leaked, 80)
	fill(t, ct, "ap-south-1", leaked, 5)
	// eu-west-1 answers its first page, then fails for good; ap-south-1
	// denies.
	ct.Fault = func(region string, call int) error {
		switch {
		case region == "eu-west-1" && call > 1:
			return trailtest.ServerError(500)
		case region == "ap-south-1":
			return trailtest.AccessDenied()
		}
		return nil
	}
	inv, err := virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow), trail.WithMaxAttempts(3)).
		Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Events) != len(want)+50 {
		t.Errorf("found %d events, want %d (the failed region's first page kept)", len(inv.Events), len(want)+50)
	}
	eu := status(inv, "eu-west-1")
	if eu.State != trail.StateError || eu.Err == "" || eu.Retries != 2 || eu.Pages != 1 || ct.Calls("eu-west-1") != 4 {
		t.Errorf("eu-west-1 = %+v after %d calls", eu, ct.Calls("eu-west-1"))
	}
	if ap := status(inv, "ap-south-1"); ap.State != trail.StateDenied || ap.Retries != 0 {
		t.Errorf("ap-south-1 = %+v", ap)
	}
	if !inv.Coverage.Failed() || inv.Coverage.Summary() == "" {
		t.Error("coverage does not report the failed regions")
	}
	res := inv.Result()
	for _, r := range res.Regions {
		if r.Region == "eu-west-1" && (r.Status != trail.StateError || r.Error == "") {
			t.Errorf("result region = %+v", r)
		}
	}
}

func TestSweepCancel(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	fill(t, ct, "us-east-1", leaked, 200)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ct.Fault = func(region string, call int) error {
		if region == "us-east-1" && call == 3 {
			cancel()
		}
		return nil
	}
	inv, err := virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow)).Run(ctx, leaked)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if inv == nil || len(inv.Events) < 100 || !inv.Coverage.Failed() {
		t.Fatalf("interrupted sweep lost its work: %+v", inv)
	}
	if ct.Calls("us-east-1") > 4 {
		t.Errorf("%d calls after cancellation", ct.Calls("us-east-1"))
	}
}

// TestSweepPacing checks the sweep against the throttle floor on virtual
// time: every request is a page that was needed, keys found mid-sweep share
// the region's limiter, and regions do not wait for one another.
func TestSweepPacing(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	t0 := sweepNow.Add(-time.Hour)
	if err := ct.AddRecord("us-east-1", rec(t, "gst", leaked, "GetSessionToken", "us-east-1", t0,
		map[string]any{"credentials": map[string]any{"accessKeyId": session}}, nil)); err != nil {
		t.Fatal(err)
	}
	counts := map[string][2]int{ // region: events of leaked, of session
		"us-east-1": {999, 120}, "eu-west-1": {400, 0}, "ap-northeast-1": {0, 251}, "sa-east-1": {50, 50},
	}
	total := map[string]int{}
	for r, c := range counts {
		fill(t, ct, r, leaked, c[0])
		fill(t, ct, r, session, c[1])
		total[r] = c[0] + c[1]
	}
	total["us-east-1"]++ // the GetSessionToken event
	lims := trailtest.NewLimiters(2)
	inv, err := virtualSweep(ct, listRegions(t), lims, trailtest.NewClock(sweepNow)).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	floor := time.Duration(0)
	for _, r := range trailtest.DefaultRegions {
		pages := (total[r] + 49) / 50
		floor = max(floor, time.Duration(pages)*time.Second/2)
		// Each key costs its pages; a key with no events costs one empty page.
		want := max((counts[r][0]+boolInt(r == "us-east-1")+49)/50, 1) + max((counts[r][1]+49)/50, 1)
		if got := lims.For(r).Waits(); got != want {
			t.Errorf("%s: %d requests, want %d", r, got, want)
		}
	}
	if len(inv.Events) != 999+120+400+251+100+1 {
		t.Errorf("found %d events", len(inv.Events))
	}
	if el := lims.Elapsed(); float64(el) > 1.15*float64(floor) {
		t.Errorf("virtual sweep time %v, floor %v", el, floor)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestSweepWindowAndKnownKeys(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	ids := fill(t, ct, "us-east-1", leaked, 30) // one a minute back from sweepNow
	fill(t, ct, "us-east-1", session, 4)
	since, until := sweepNow.Add(-20*time.Minute), sweepNow.Add(-10*time.Minute)
	inv, err := virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow),
		trail.WithWindow(since, until), trail.WithKnownKeys(session)).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	got := eventIDs(inv.Events)
	if len(got) != 11 || !got[ids[9]] || !got[ids[19]] || got[ids[8]] || got[ids[20]] {
		t.Errorf("window [%v, %v] found %d events", since, until, len(got))
	}
	inv, err = virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow),
		trail.WithKnownKeys(session)).Run(context.Background(), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Events) != 34 || len(inv.Keys) != 2 || inv.Keys[1].Parent != "" {
		t.Errorf("known key: %d events, keys %+v", len(inv.Events), inv.Keys)
	}
}

func TestListAndSelectRegions(t *testing.T) {
	regions := listRegions(t, "af-south-1")
	if len(regions) != len(trailtest.DefaultRegions)+1 {
		t.Fatalf("%d regions", len(regions))
	}
	for _, r := range regions {
		if r.Enabled == (r.Name == "af-south-1") {
			t.Errorf("%+v", r)
		}
	}
	sel, err := trail.SelectRegions(regions, []string{"us-east-1", "af-south-1", "us-east-1"})
	if err != nil || len(sel) != 2 || sel[0].Name != "af-south-1" || sel[0].Enabled {
		t.Errorf("SelectRegions = %+v, %v", sel, err)
	}
	if _, err := trail.SelectRegions(regions, []string{"us-east-1", "mars-north-1"}); err == nil {
		t.Error("unknown region accepted")
	}
	if all, _ := trail.SelectRegions(regions, []string{"all"}); len(all) != len(regions) {
		t.Error("all did not select every region")
	}
	if _, err := trail.ListRegions(context.Background(), trailtest.Regions{Err: trailtest.AccessDenied()}); err == nil {
		t.Error("DescribeRegions error swallowed")
	}
}

func TestSweepRejectsInvertedWindow(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	_, err := virtualSweep(ct, listRegions(t), trailtest.NewLimiters(2), trailtest.NewClock(sweepNow),
		trail.WithWindow(sweepNow, sweepNow.Add(-time.Hour))).Run(context.Background(), leaked)
	if err == nil || ct.Calls("us-east-1") != 0 {
		t.Errorf("err = %v after %d calls", err, ct.Calls("us-east-1"))
	}
}
