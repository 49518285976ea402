package awssim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// volumeCounts adds volume to a fresh simulator and counts its events per region.
func volumeCounts(t *testing.T, n int, seed uint64) (*ctFixture, map[string]int) {
	t.Helper()
	f := newCTFixture(t)
	if err := f.sim.AddVolume(n, f.app.AccessKeyID, seed, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range f.sim.Truth().Events {
		counts[e.Region]++
	}
	return f, counts
}

func TestAddVolumeSpreadsSkewedOverEnabledRegions(t *testing.T) {
	const n = 6000
	f, counts := volumeCounts(t, n, 42)
	enabled := map[string]bool{}
	for _, r := range f.sim.acct.Regions {
		if r.Enabled() {
			enabled[r.Name] = true
		}
	}
	sum, most, least := 0, 0, n
	for r, c := range counts {
		if !enabled[r] {
			t.Errorf("%d events in %s, which is not enabled", c, r)
		}
		sum += c
		most, least = max(most, c), min(least, c)
	}
	if sum != n {
		t.Fatalf("%d events recorded, want %d", sum, n)
	}
	if len(counts) != len(enabled) {
		t.Errorf("events in %d regions, want all %d enabled ones", len(counts), len(enabled))
	}
	mean := n / len(enabled)
	if most < 3*mean || least > mean/2 {
		t.Errorf("not skewed: busiest region %d events, quietest %d, mean %d", most, least, mean)
	}

	_, again := volumeCounts(t, n, 42)
	for r, c := range counts {
		if again[r] != c {
			t.Fatalf("seed 42 gave %s %d events, then %d", r, c, again[r])
		}
	}
}

func TestAddVolumeEventsLookLikeTheWorkload(t *testing.T) {
	f := newCTFixture(t)
	now := f.clk.now()
	origin := f.recordEvent(t, f.app, Call{Service: "ec2", Action: "DescribeInstances", Region: "us-east-1",
		Time: now.Add(-48 * time.Hour), SourceIP: "198.51.100.7", UserAgent: "app-poller/2.1 aws-sdk-go-v2/1.30.0", Actor: "workload"}, &Result{})
	earlier := f.sim.Truth().Events
	const window = 24 * time.Hour
	if err := f.sim.AddVolume(3000, f.app.AccessKeyID, 8, window); err != nil {
		t.Fatal(err)
	}
	f.sim.mu.Lock()
	defer f.sim.mu.Unlock()
	total := 0
	for name, rs := range f.sim.acct.regions {
		evs := rs.Trail.events
		for i, e := range evs {
			if i > 0 && eventAfter(evs[i-1], e) {
				t.Fatalf("%s: store out of order at %d", name, i)
			}
			if e.ID == origin.ID {
				continue
			}
			total++
			if e.AccessKeyID != f.app.AccessKeyID || e.Actor != "workload" || e.Username != "app" || !e.ReadOnly {
				t.Fatalf("event %+v", e)
			}
			if !strings.HasPrefix(e.Name, "Describe") && !strings.HasPrefix(e.Name, "List") && !strings.HasPrefix(e.Name, "Get") {
				t.Fatalf("event name %s", e.Name)
			}
			if e.Time.Before(now.Add(-window).Truncate(time.Second)) || e.Time.After(now) {
				t.Fatalf("event at %v, outside the window before %v", e.Time, now)
			}
			var rec struct {
				EventID   string `json:"eventID"`
				AwsRegion string `json:"awsRegion"`
				SourceIP  string `json:"sourceIPAddress"`
				UserAgent string `json:"userAgent"`
				Identity  struct {
					AccessKeyID string `json:"accessKeyId"`
					UserName    string `json:"userName"`
				} `json:"userIdentity"`
			}
			if err := json.Unmarshal(e.Raw, &rec); err != nil {
				t.Fatal(err)
			}
			if rec.EventID != e.ID || rec.AwsRegion != name || rec.SourceIP != "198.51.100.7" ||
				rec.UserAgent != "app-poller/2.1 aws-sdk-go-v2/1.30.0" || rec.Identity.AccessKeyID != f.app.AccessKeyID || rec.Identity.UserName != "app" {
				t.Fatalf("record %+v", rec)
			}
		}
	}
	if total != 3000 || len(earlier) != 1 {
		t.Fatalf("%d volume events (want 3000) beside %d earlier", total, len(earlier))
	}
}

func TestAddVolumeRejectsBadInput(t *testing.T) {
	f := newCTFixture(t)
	for _, tc := range []struct {
		n      int
		key    string
		window time.Duration
		want   string
	}{
		{10, "AKIAUNKNOWNUNKNOWN00", time.Hour, "no access key"},
		{-1, f.app.AccessKeyID, time.Hour, "negative"},
		{2_000_000_000, f.app.AccessKeyID, time.Hour, "at most 1000000"},
		{10, f.app.AccessKeyID, 0, "window"},
	} {
		err := f.sim.AddVolume(tc.n, tc.key, 1, tc.window)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddVolume(%d, %s, %v) = %v, want an error about %q", tc.n, tc.key, tc.window, err, tc.want)
		}
	}
	if err := f.sim.AddVolume(0, f.app.AccessKeyID, 1, time.Hour); err != nil {
		t.Errorf("no events: %v", err)
	}
	if n := len(f.sim.Truth().Events); n != 0 {
		t.Errorf("%d events after rejected calls", n)
	}
}

// BenchmarkAddVolume measures recording volume in batches of 100,000 events
// and reports the cost of one event.
func BenchmarkAddVolume(b *testing.B) {
	const perOp = 100_000
	for b.Loop() {
		b.StopTimer()
		s := New(WithSeed(1))
		if err := s.AddUser("app", time.Now().Add(-time.Hour)); err != nil {
			b.Fatal(err)
		}
		k, err := s.AddAccessKey("app", time.Now().Add(-time.Hour), "workload")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.AddVolume(perOp, k.AccessKeyID, 1, 30*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perOp), "ns/event")
}
