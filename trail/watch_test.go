package trail_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

// TestWatch checks the watch: calls already known are not reported again,
// a key a watched key makes is watched from the next poll, every new call
// is handed over once, and Worked leaves out failed calls and
// GetCallerIdentity.
func TestWatch(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	add := func(region, id, key, name string, at time.Time, errorCode string, response map[string]any) {
		t.Helper()
		b := rec(t, id, key, name, region, at, response, nil)
		if errorCode != "" {
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			m["errorCode"] = errorCode
			b, _ = json.Marshal(m)
		}
		if err := ct.AddRecord(region, b); err != nil {
			t.Fatal(err)
		}
	}
	start := sweepNow
	add("us-east-1", "known", leaked, "ListUsers", start.Add(-10*time.Minute), "", nil)
	add("us-east-1", "gst", leaked, "GetSessionToken", start.Add(-5*time.Minute), "",
		map[string]any{"credentials": map[string]any{"accessKeyId": session}})
	add("eu-west-1", "works", session, "DescribeInstances", start.Add(time.Minute), "", nil)
	add("eu-west-1", "refused", session, "RunInstances", start.Add(2*time.Minute), "UnauthorizedOperation", nil)
	add("us-east-1", "whoami", session, "GetCallerIdentity", start.Add(3*time.Minute), "", nil)
	add("ap-south-1", "elsewhere", session, "DescribeInstances", start.Add(time.Minute), "", nil)

	var handed []string
	clk := trailtest.NewClock(start)
	res, err := trail.Watch(context.Background(), trail.WatchSpec{
		Keys: []string{leaked}, Regions: []string{"eu-west-1"}, For: 2 * time.Minute, Every: 30 * time.Second,
		Known:  map[string]bool{"known": true},
		OnCall: func(e trail.Event) { handed = append(handed, e.EventID) },
	}, func(r string) cloudtrail.LookupEventsAPIClient { return ct.Client(r) },
		trail.WithClock(clk), trail.WithLimiter(func(string) trail.Limiter { return trailtest.NewLimiter(2) }))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"gst", "works", "refused", "whoami"}; !slices.Equal(handed, want) {
		t.Errorf("handed over %v, want %v (ap-south-1 is not watched)", handed, want)
	}
	if !slices.Equal(res.Regions, []string{"eu-west-1", "us-east-1"}) || res.Polls != 5 || len(res.Keys) != 2 {
		t.Errorf("regions %v, polls %d, keys %v", res.Regions, res.Polls, res.Keys)
	}
	if !res.End.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("watch ended at %s", res.End)
	}
	worked := res.Worked(start)
	if len(worked) != 1 || worked[0].EventID != "works" {
		t.Errorf("worked = %+v", worked)
	}
}

// slowPoll is a CloudTrail client whose first lookup takes the whole
// watch: the call made while it runs is only in the trail once it returns.
type slowPoll struct {
	ct    *trailtest.CloudTrail
	once  sync.Once
	after func()
}

func (s *slowPoll) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	out, err := s.ct.Client("us-east-1").LookupEvents(ctx, in, opts...)
	s.once.Do(s.after)
	return out, err
}

// TestWatchPollsAfterItsWindow checks that a poll that outlasts the watch
// is followed by one more: a call made during the watch is found even when
// the first poll took all of it.
func TestWatchPollsAfterItsWindow(t *testing.T) {
	ct := trailtest.NewCloudTrail()
	start := sweepNow
	clk := trailtest.NewClock(start)
	client := &slowPoll{ct: ct, after: func() {
		if err := ct.AddRecord("us-east-1", rec(t, "during", leaked, "ListUsers", "us-east-1", start.Add(10*time.Second), nil, nil)); err != nil {
			t.Error(err)
		}
		clk.Advance(time.Minute)
	}}
	var handed []string
	res, err := trail.Watch(context.Background(), trail.WatchSpec{
		Keys: []string{leaked}, For: 30 * time.Second, Every: 10 * time.Second,
		OnCall: func(e trail.Event) { handed = append(handed, e.EventID) },
	}, func(string) cloudtrail.LookupEventsAPIClient { return client },
		trail.WithClock(clk), trail.WithLimiter(func(string) trail.Limiter { return trailtest.NewLimiter(2) }))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(handed, []string{"during"}) || res.Polls != 2 {
		t.Errorf("handed over %v in %d polls, want [during] in 2", handed, res.Polls)
	}
}
