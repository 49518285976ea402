package awssim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// ctClock is a settable clock for the simulator: throttles and time windows
// are tested against it, never against the wall clock.
type ctClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ctClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ctClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ctFixture is a served simulator with a workload key ("app", the key whose
// events are looked up) and a responder key that does the looking up.
type ctFixture struct {
	sim       *Sim
	srv       *Server
	clk       *ctClock
	transport *http.Transport
	app       Credential
	responder Credential
}

func newCTFixture(t *testing.T, opts ...Option) *ctFixture {
	t.Helper()
	clk := &ctClock{t: time.Date(2025, 3, 14, 19, 0, 0, 0, time.UTC)}
	s := New(append([]Option{WithClock(clk.now), WithSeed(7)}, opts...)...)
	created := clk.now().Add(-400 * 24 * time.Hour)
	for _, u := range []string{"app", "responder"} {
		if err := s.AddUser(u, created); err != nil {
			t.Fatal(err)
		}
	}
	app, err := s.AddAccessKey("app", created, "workload")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return &ctFixture{sim: s, srv: srv, clk: clk, transport: tr, app: *app, responder: *resp}
}

func (f *ctFixture) client(region string) *cloudtrail.Client {
	cfg := f.srv.Config(f.responder, region)
	cfg.HTTPClient = &http.Client{Transport: memBodyTransport{f.transport}}
	return cloudtrail.NewFromConfig(cfg)
}

// memBodyTransport sends request bodies from memory. It works around a race
// between net/http and smithy-go that a loopback server wins often enough to
// break tests: net/http flushes the headers and body of a request whose body
// it does not know to be in memory, and only then reads the body again to
// check its length; when the answer arrives in between, the SDK closes the
// body, smithy-go's closed body answers WriteTo with io.EOF, and net/http
// takes that for a write failure and closes the connection while the SDK is
// still reading the response ("use of closed network connection"). A
// bytes.Reader body is written in one flush after that check.
type memBodyTransport struct{ base http.RoundTripper }

func (t memBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.base.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if err := r.Body.Close(); err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return t.base.RoundTrip(r2)
}

// lookupAll pages through a query, one page per simulated second so that the
// throttle never interferes. between runs after every page.
func (f *ctFixture) lookupAll(t *testing.T, region string, in *cloudtrail.LookupEventsInput, between func()) []types.Event {
	t.Helper()
	p := cloudtrail.NewLookupEventsPaginator(f.client(region), in)
	var out []types.Event
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("lookup page %d in %s: %v", pages+1, region, err)
		}
		out = append(out, page.Events...)
		f.clk.advance(time.Second)
		if between != nil {
			between()
		}
	}
	return out
}

// expectIDs lists the IDs of a region's events that match, newest first,
// within the 90 days LookupEvents covers: what a complete lookup must return.
func (f *ctFixture) expectIDs(region string, match func(e *storedEvent) bool) []string {
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	now := f.sim.now()
	evs := f.sim.acct.regions[region].Trail.events
	var ids []string
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Time.After(now) || e.Time.Before(now.Add(-lookupRetention)) || !match(e) {
			continue
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// recordEvent writes one event of a key directly into the trail, for events
// no handler of this file makes (writes, resources, old events).
func (f *ctFixture) recordEvent(t *testing.T, key Credential, c Call, res *Result) *storedEvent {
	t.Helper()
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	c.AccessKeyID = key.AccessKeyID
	c.cred = f.sim.acct.Keys[key.AccessKeyID]
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	ev := f.sim.record(&c, res, nil)
	if ev == nil {
		t.Fatalf("record %s in %s: no such region", c.Action, c.Region)
	}
	return ev
}

// busiestRegion is the region holding most events of a key.
func (f *ctFixture) busiestRegion(key string) (string, int) {
	counts := map[string]int{}
	for _, e := range f.sim.Truth().Events {
		if e.AccessKeyID == key {
			counts[e.Region]++
		}
	}
	best, n := "", 0
	for r, c := range counts {
		if c > n || (c == n && r < best) {
			best, n = r, c
		}
	}
	return best, n
}

func eventIDs(evs []types.Event) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = aws.ToString(e.EventId)
	}
	return ids
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func byKey(key string) []types.LookupAttribute {
	return []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}}
}

func TestLookupEventsPaginatesEveryEventOnceNewestFirst(t *testing.T) {
	f := newCTFixture(t)
	if err := f.sim.AddVolume(3000, f.app.AccessKeyID, 11, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	region, n := f.busiestRegion(f.app.AccessKeyID)
	if n <= 3*lookupMaxResults {
		t.Fatalf("busiest region %s has %d events; the test needs several pages", region, n)
	}
	want := f.expectIDs(region, func(e *storedEvent) bool { return e.AccessKeyID == f.app.AccessKeyID })
	// While paging, the key keeps working and the responder's own lookups
	// are recorded: neither may shift the pages.
	extra := uint64(100)
	got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID)}, func() {
		f.clk.advance(2 * time.Second)
		extra++
		if err := f.sim.AddVolume(40, f.app.AccessKeyID, extra, time.Second); err != nil {
			t.Error(err)
		}
	})
	if !slices.Equal(eventIDs(got), want) {
		t.Fatalf("got %d events, want the %d present when the lookup started, in order", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].EventTime.After(*got[i-1].EventTime) {
			t.Fatalf("event %d is newer than event %d", i, i-1)
		}
	}
	seen := map[string]bool{}
	for _, id := range eventIDs(got) {
		if seen[id] {
			t.Fatalf("event %s returned twice", id)
		}
		seen[id] = true
	}
}

func TestLookupEventsFiltersByEachAttribute(t *testing.T) {
	f := newCTFixture(t)
	const region = "us-east-1"
	if err := f.sim.AddVolume(400, f.app.AccessKeyID, 3, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	userARN := "arn:aws:iam::123456789012:user/backdoor"
	created := f.recordEvent(t, f.app, Call{Service: "iam", Action: "CreateUser", Region: region,
		Time: f.clk.now().Add(-time.Hour), Actor: "attacker"},
		&Result{Request: map[string]any{"userName": "backdoor"}, Resources: []EventResource{{Type: "AWS::IAM::User", Name: userARN}}})
	f.recordEvent(t, f.app, Call{Service: "iam", Action: "ListUsers", Region: region,
		Time: f.clk.now().Add(-2 * time.Hour), Actor: "attacker"}, &Result{})
	// A first lookup so that the responder's own events are in the store.
	f.lookupAll(t, region, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(5)}, nil)

	cases := []struct {
		key   types.LookupAttributeKey
		value string
		match func(e *storedEvent) bool
	}{
		{types.LookupAttributeKeyEventId, created.ID, func(e *storedEvent) bool { return e.ID == created.ID }},
		{types.LookupAttributeKeyEventName, "DescribeInstances", func(e *storedEvent) bool { return e.Name == "DescribeInstances" }},
		{types.LookupAttributeKeyReadOnly, "false", func(e *storedEvent) bool { return !e.ReadOnly }},
		{types.LookupAttributeKeyReadOnly, "true", func(e *storedEvent) bool { return e.ReadOnly }},
		{types.LookupAttributeKeyUsername, "responder", func(e *storedEvent) bool { return e.Username == "responder" }},
		{types.LookupAttributeKeyEventSource, "ssm.amazonaws.com", func(e *storedEvent) bool { return e.Source == "ssm.amazonaws.com" }},
		{types.LookupAttributeKeyResourceType, "AWS::IAM::User", func(e *storedEvent) bool { return e.ID == created.ID }},
		{types.LookupAttributeKeyResourceName, userARN, func(e *storedEvent) bool { return e.ID == created.ID }},
		{types.LookupAttributeKeyAccessKeyId, f.app.AccessKeyID, func(e *storedEvent) bool { return e.AccessKeyID == f.app.AccessKeyID }},
	}
	for _, tc := range cases {
		t.Run(string(tc.key)+"="+tc.value, func(t *testing.T) {
			want := f.expectIDs(region, tc.match)
			if len(want) == 0 {
				t.Fatal("the fixture has no matching event; the case would prove nothing")
			}
			got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
				{AttributeKey: tc.key, AttributeValue: aws.String(tc.value)}}}, nil)
			if !slices.Equal(eventIDs(got), want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
		})
	}

	got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
		{AttributeKey: types.LookupAttributeKeyEventId, AttributeValue: aws.String(created.ID)}}}, nil)
	if len(got) != 1 {
		t.Fatalf("lookup by event ID: %d events", len(got))
	}
	e := got[0]
	if aws.ToString(e.EventName) != "CreateUser" || aws.ToString(e.ReadOnly) != "false" ||
		aws.ToString(e.AccessKeyId) != f.app.AccessKeyID || aws.ToString(e.Username) != "app" ||
		aws.ToString(e.EventSource) != "iam.amazonaws.com" || !e.EventTime.Equal(created.Time) {
		t.Errorf("event fields: %+v", e)
	}
	if len(e.Resources) != 1 || aws.ToString(e.Resources[0].ResourceType) != "AWS::IAM::User" || aws.ToString(e.Resources[0].ResourceName) != userARN {
		t.Errorf("resources: %+v", e.Resources)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v", err)
	}
	if rec["eventID"] != created.ID || rec["eventName"] != "CreateUser" {
		t.Errorf("CloudTrailEvent: eventID %v, eventName %v", rec["eventID"], rec["eventName"])
	}
}

func TestLookupEventsTimeRangeIsInclusive(t *testing.T) {
	f := newCTFixture(t)
	const region = "eu-west-1"
	now := f.clk.now()
	var evs []*storedEvent
	for _, ago := range []time.Duration{50 * time.Minute, 40 * time.Minute, 30 * time.Minute, 20 * time.Minute} {
		evs = append(evs, f.recordEvent(t, f.app, Call{Service: "ec2", Action: "DescribeInstances", Region: region, Time: now.Add(-ago)}, &Result{}))
	}
	got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{
		LookupAttributes: byKey(f.app.AccessKeyID),
		StartTime:        aws.Time(evs[1].Time), EndTime: aws.Time(evs[2].Time),
	}, nil)
	if want := []string{evs[2].ID, evs[1].ID}; !slices.Equal(eventIDs(got), want) {
		t.Fatalf("got %v, want %v", eventIDs(got), want)
	}
}

func TestLookupEventsRejectsBadRequests(t *testing.T) {
	f := newCTFixture(t)
	const region = "us-east-1"
	if err := f.sim.AddVolume(300, f.app.AccessKeyID, 5, time.Hour); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := f.client(region)
	first, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if first.NextToken == nil {
		t.Fatal("the first page of a long result has no NextToken")
	}
	now := f.clk.now()
	attr := func(k types.LookupAttributeKey, v string) types.LookupAttribute {
		return types.LookupAttribute{AttributeKey: k, AttributeValue: aws.String(v)}
	}
	cases := []struct {
		name string
		in   cloudtrail.LookupEventsInput
		code string
	}{
		{"two attributes", cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
			attr(types.LookupAttributeKeyAccessKeyId, f.app.AccessKeyID), attr(types.LookupAttributeKeyEventName, "ListUsers")}},
			"InvalidLookupAttributesException"},
		{"unknown key", cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{attr("SourceIPAddress", "1.2.3.4")}},
			"InvalidLookupAttributesException"},
		{"empty value", cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{attr(types.LookupAttributeKeyUsername, "")}},
			"InvalidLookupAttributesException"},
		{"read-only not a boolean", cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{attr(types.LookupAttributeKeyReadOnly, "yes")}},
			"InvalidLookupAttributesException"},
		{"MaxResults 51", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"MaxResults 0", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"start after end", cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Minute))}, "InvalidTimeRangeException"},
		{"unknown category", cloudtrail.LookupEventsInput{EventCategory: "data"}, "InvalidEventCategoryException"},
		{"garbage token", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10),
			NextToken: aws.String("bm90IGEgdG9rZW4gYXQgYWxsLCBqdXN0IGJ5dGVz")}, "InvalidNextTokenException"},
		{"token not base64", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10),
			NextToken: aws.String("%%%")}, "InvalidNextTokenException"},
		{"token tampered", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10),
			NextToken: aws.String(tamper(*first.NextToken))}, "InvalidNextTokenException"},
		{"token with another attribute", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.responder.AccessKeyID), MaxResults: aws.Int32(10),
			NextToken: first.NextToken}, "InvalidNextTokenException"},
		{"token without the attribute", cloudtrail.LookupEventsInput{MaxResults: aws.Int32(10), NextToken: first.NextToken}, "InvalidNextTokenException"},
		{"token with another page size", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(20),
			NextToken: first.NextToken}, "InvalidNextTokenException"},
		{"token with another time range", cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10),
			StartTime: aws.Time(now.Add(-time.Hour)), NextToken: first.NextToken}, "InvalidNextTokenException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clk.advance(time.Second)
			_, err := client.LookupEvents(ctx, &tc.in)
			if apiCode(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if httpStatus(err) != 400 {
				t.Errorf("HTTP status %d, want 400", httpStatus(err))
			}
		})
	}
	// The token still works with its own query.
	f.clk.advance(time.Second)
	next, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID), MaxResults: aws.Int32(10), NextToken: first.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Events) != 10 || aws.ToString(next.Events[0].EventId) == aws.ToString(first.Events[0].EventId) {
		t.Fatalf("second page: %d events", len(next.Events))
	}
}

// tamper flips a bit in the middle of a base64 token.
func tamper(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestLookupEventsInsightCategoryReturnsNothing(t *testing.T) {
	f := newCTFixture(t)
	if err := f.sim.AddVolume(50, f.app.AccessKeyID, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	region, _ := f.busiestRegion(f.app.AccessKeyID)
	out, err := f.client(region).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{EventCategory: types.EventCategoryInsight})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 0 || out.NextToken != nil {
		t.Fatalf("insight lookup returned %d events", len(out.Events))
	}
}

func TestLookupEventsCoversOnlyNinetyDays(t *testing.T) {
	f := newCTFixture(t)
	const region = "us-west-2"
	now := f.clk.now()
	day := 24 * time.Hour
	old := f.recordEvent(t, f.app, Call{Service: "ec2", Action: "RunInstances", Region: region, Time: now.Add(-91 * day)}, &Result{})
	recent := f.recordEvent(t, f.app, Call{Service: "ec2", Action: "RunInstances", Region: region, Time: now.Add(-89 * day)}, &Result{})
	latest := f.recordEvent(t, f.app, Call{Service: "ec2", Action: "DescribeInstances", Region: region, Time: now.Add(-time.Hour)}, &Result{})

	got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID)}, nil)
	if want := []string{latest.ID, recent.ID}; !slices.Equal(eventIDs(got), want) {
		t.Fatalf("got %v, want %v (not the 91-day-old %s)", eventIDs(got), want, old.ID)
	}
	got = f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID),
		StartTime: aws.Time(now.Add(-200 * day))}, nil)
	if len(got) != 2 {
		t.Fatalf("an early StartTime brought back older events: %v", eventIDs(got))
	}
	got = f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID),
		EndTime: aws.Time(now.Add(-90*day - time.Hour))}, nil)
	if len(got) != 0 {
		t.Fatalf("a range before the 90 days returned %v", eventIDs(got))
	}
}

func TestLookupEventsRegionsAreIsolated(t *testing.T) {
	f := newCTFixture(t)
	if err := f.sim.AddVolume(900, f.app.AccessKeyID, 21, 6*time.Hour); err != nil {
		t.Fatal(err)
	}
	truth := f.sim.Truth()
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-northeast-1", "sa-east-1"} {
		var want []string
		for _, e := range truth.Events {
			if e.Region == region && e.AccessKeyID == f.app.AccessKeyID {
				want = append(want, e.EventID)
			}
		}
		got := f.lookupAll(t, region, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(f.app.AccessKeyID)}, nil)
		gotIDs := eventIDs(got)
		slices.Sort(gotIDs)
		slices.Sort(want)
		if !slices.Equal(gotIDs, want) {
			t.Errorf("%s: got %d events, want %d", region, len(gotIDs), len(want))
		}
		for _, e := range got {
			var rec struct{ AwsRegion string }
			if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil || rec.AwsRegion != region {
				t.Errorf("%s: event %s from region %q", region, aws.ToString(e.EventId), rec.AwsRegion)
			}
		}
	}
}

// lookupOnce makes one LookupEvents call and reports whether it was throttled.
func lookupOnce(t *testing.T, c *cloudtrail.Client) bool {
	t.Helper()
	_, err := c.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1)})
	if err == nil {
		return false
	}
	if apiCode(err) != "ThrottlingException" || httpStatus(err) != 400 {
		t.Fatalf("lookup: %v", err)
	}
	return true
}

// lookupRecords counts the LookupEvents records of a region's trail.
func (f *ctFixture) lookupRecords(region string) int {
	return len(f.expectIDs(region, func(e *storedEvent) bool { return e.Name == "LookupEvents" }))
}

func TestLookupEventsThrottle(t *testing.T) {
	t.Run("ten calls in one second are throttled", func(t *testing.T) {
		f := newCTFixture(t)
		c := f.client("us-east-1")
		throttled := 0
		for range 10 {
			if lookupOnce(t, c) {
				throttled++
			}
			f.clk.advance(100 * time.Millisecond)
		}
		// Burst 2 plus one token refilled in the first half second.
		if throttled != 7 {
			t.Fatalf("%d of 10 calls in one second throttled, want 7", throttled)
		}
		f.clk.advance(time.Second)
		if got := f.lookupRecords("us-east-1"); got != 3 {
			t.Fatalf("%d LookupEvents calls recorded, want the 3 answered (throttled calls are not logged)", got)
		}
	})
	t.Run("a frozen clock allows the burst only", func(t *testing.T) {
		f := newCTFixture(t)
		c := f.client("eu-west-1")
		var got []bool
		for range 10 {
			got = append(got, lookupOnce(t, c))
		}
		want := []bool{false, false, true, true, true, true, true, true, true, true}
		if !slices.Equal(got, want) {
			t.Fatalf("throttled: %v, want %v", got, want)
		}
	})
	t.Run("two per second for twenty seconds pass", func(t *testing.T) {
		f := newCTFixture(t)
		c := f.client("us-east-2")
		for i := range 40 {
			if lookupOnce(t, c) {
				t.Fatalf("call %d at %v throttled", i, time.Duration(i)*500*time.Millisecond)
			}
			f.clk.advance(500 * time.Millisecond)
		}
	})
	t.Run("regions have their own buckets", func(t *testing.T) {
		f := newCTFixture(t)
		east, west := f.client("us-east-1"), f.client("us-west-2")
		if lookupOnce(t, east) || lookupOnce(t, east) || !lookupOnce(t, east) {
			t.Fatal("us-east-1 does not allow exactly its burst")
		}
		if lookupOnce(t, west) || lookupOnce(t, west) || !lookupOnce(t, west) {
			t.Fatal("us-west-2 was throttled by us-east-1's calls")
		}
	})
	t.Run("the rate is configurable", func(t *testing.T) {
		f := newCTFixture(t, WithLookupRate(10, 5))
		c := f.client("us-east-1")
		for i := range 5 {
			if lookupOnce(t, c) {
				t.Fatalf("call %d of a burst of 5 throttled", i)
			}
		}
		if !lookupOnce(t, c) {
			t.Fatal("call 6 of a burst of 5 passed")
		}
	})
}

// TestLookupEventsAWSCLI pages through a key's events with the AWS CLI,
// whose automatic pagination and retries are what responders use by hand.
func TestLookupEventsAWSCLI(t *testing.T) {
	awsclitest.Need(t)
	s := New(WithSeed(9), WithLookupRate(20, 5))
	created := time.Now().Add(-100 * 24 * time.Hour)
	if err := s.AddUser("app", created); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser("responder", created); err != nil {
		t.Fatal(err)
	}
	app, err := s.AddAccessKey("app", created, "workload")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.AddAccessKey("responder", created, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddVolume(800, app.AccessKeyID, 4, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	srv, err := Start(s, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	}()
	f := &ctFixture{sim: s, srv: srv}
	region, _ := f.busiestRegion(app.AccessKeyID)
	var want []string
	for _, e := range s.Truth().Events {
		if e.Region == region && e.AccessKeyID == app.AccessKeyID {
			want = append(want, e.EventID)
		}
	}
	if len(want) <= 120 {
		t.Fatalf("region %s has %d events of the key; the test needs more than 120", region, len(want))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := awsclitest.Output(ctx, []string{
		"AWS_ACCESS_KEY_ID=" + resp.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + resp.Secret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=10", "AWS_RETRY_MODE=standard", "AWS_EC2_METADATA_DISABLED=true"},
		"cloudtrail", "lookup-events",
		"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+app.AccessKeyID,
		"--region", region, "--endpoint-url", srv.URL, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Events []struct {
			EventId     string
			AccessKeyId string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("parse CLI output: %v", err)
	}
	var got []string
	for _, e := range res.Events {
		if e.AccessKeyId != app.AccessKeyID {
			t.Fatalf("event %s of key %s", e.EventId, e.AccessKeyId)
		}
		got = append(got, e.EventId)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("the CLI got %d events, want all %d of the key in %s", len(got), len(want), region)
	}
}
