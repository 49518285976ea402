package cli

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

// Benchmarks of the two commands a responder runs first. They measure and
// report (b.ReportMetric); they never assert on time, which on a shared
// machine is noise. Run them with -benchtime 1x: each iteration starts its
// own simulator and takes seconds to minutes (see `make bench`).

// containLatency is the delay the simulator adds to every request in
// BenchmarkContainLatency: large against loopback's, so that the time to
// containment counts the sequential round trips before it.
const containLatency = 100 * time.Millisecond

// BenchmarkContainLatency runs `keyleak contain --key K --yes` against the
// github-push scenario with 100 ms added to every AWS request and reports
// how long the leaked key stayed active: ms-to-inactive (from the start of
// the command to the moment the simulator holds the key Inactive, watched
// every millisecond), round-trips (that time in units of the latency: the
// sequential stages before the key is off; the goal is at most 3),
// total-ms (the whole command: identify, contain, revoke, journal) and
// api-calls (requests the responder made in all).
func BenchmarkContainLatency(b *testing.B) {
	var toInactive, total time.Duration
	calls := 0
	for b.Loop() {
		toInactive, total, calls = containOnce(b)
	}
	rt := math.Round(float64(toInactive) / float64(containLatency))
	b.ReportMetric(float64(toInactive.Microseconds())/1000, "ms-to-inactive")
	b.ReportMetric(rt, "round-trips")
	b.ReportMetric(float64(total.Microseconds())/1000, "total-ms")
	b.ReportMetric(float64(calls), "api-calls")
	if rt > 3 {
		b.Logf("the key became inactive after %.0f sequential round trips; the goal is at most 3", rt)
	}
}

// containOnce runs one containment and returns the time to the key's
// deactivation, the command's whole time and the responder's request count.
func containOnce(b *testing.B) (toInactive, total time.Duration, calls int) {
	b.Helper()
	srv := serveScenario(b, "github-push")
	defer func() {
		if err := srv.Close(); err != nil {
			b.Errorf("close simulator: %v", err)
		}
	}()
	// Set after the scenario's replay, which must not be slowed; from here
	// on every request waits before it is answered.
	srv.Sim.SetFaults(awssim.Faults{Latency: containLatency})
	resp := srv.Sim.Responder()
	awsEnv(b, srv.URL, resp.AccessKeyID, resp.Secret)
	key := srv.Sim.LeakedKey()
	if k, ok := srv.Sim.Key(key); !ok || k.Status != "Active" {
		b.Fatalf("leaked key %s is not active before contain: %+v", key, k)
	}
	before := countEventsOf(srv.Sim.Truth(), resp.AccessKeyID)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// CloudTrail's event times have one-second resolution, too coarse for
	// this: the simulator's state is watched instead.
	start := time.Now()
	seen := make(chan time.Duration, 1)
	go func() {
		defer close(seen)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if k, ok := srv.Sim.Key(key); ok && k.Status == "Inactive" {
				seen <- time.Since(start)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	code, out, errOut := runKeyleak(ctx, "contain", "--key", key, "--yes", "--dir", b.TempDir())
	total = time.Since(start)
	if code != ExitOK {
		cancel()
		b.Fatalf("contain exit %d\n%s\n%s", code, out, errOut)
	}
	// The key is Inactive now; the watcher sees it at its next tick at the
	// latest, and it stops on ctx when something is wrong.
	toInactive, ok := <-seen
	if !ok {
		b.Fatalf("contain exited 0 but the key never became Inactive\n%s", out)
	}
	calls = countEventsOf(srv.Sim.Truth(), resp.AccessKeyID) - before
	return toInactive, total, calls
}

func countEventsOf(tr awssim.Truth, key string) int {
	n := 0
	for _, e := range tr.Events {
		if e.AccessKeyID == key {
			n++
		}
	}
	return n
}

// lookupRate is LookupEvents' quota, requests a second a region, enforced
// by the simulator and kept by keyleak's default --lookup-rate.
const lookupRate = 2

// investigateMeasure is one side-by-side run of BenchmarkInvestigateVsAWSCLI.
type investigateMeasure struct {
	keyleak, floor, designFloor, cli time.Duration
	events, cliEvents, keys          int
	throttled                        int
}

// BenchmarkInvestigateVsAWSCLI sweeps the github-push account, with
// KEYLEAK_BENCH_VOLUME (default 5000) workload events added to the leaked
// key, at the real LookupEvents quota of 2 requests a second a region, two
// ways, each against a fresh simulator built from the same seed (same
// events, full throttle buckets):
//
//   - `keyleak investigate --key K -o json`, in-process, default settings:
//     every region, the key and every key derived from it;
//   - the loop a responder writes by hand: `aws ec2 describe-regions`, then
//     `aws cloudtrail lookup-events --region R --lookup-attributes
//     AttributeKey=AccessKeyId,AttributeValue=K` region after region (the
//     CLI paginates and retries throttles itself). It looks up the leaked
//     key only: it does not even follow the derived keys, so it does less
//     work than keyleak.
//
// It reports keyleak-s; floor-s, the least time the quota allows for
// keyleak's lookups: max over regions of Σ over the chain's keys of
// max(1, ⌈events of the key in the region/50⌉) requests at 2 a second;
// design-floor-s, DESIGN.md's simpler max over regions of ⌈events/50⌉/2 s;
// x-floor = keyleak-s/floor-s (the goal is at most 1.15); awscli-loop-s and
// awscli/keyleak. keyleak must find exactly the truth's events of the
// chain, and the CLI loop the truth's events of the leaked key.
func BenchmarkInvestigateVsAWSCLI(b *testing.B) {
	if _, err := exec.LookPath("aws"); err != nil {
		b.Skip("the AWS CLI is not on PATH; it is the baseline of this benchmark")
	}
	n := envInt(b, "KEYLEAK_BENCH_VOLUME", 5000)
	var m investigateMeasure
	for b.Loop() {
		m = investigateVsCLI(b, n)
	}
	b.ReportMetric(m.keyleak.Seconds(), "keyleak-s")
	b.ReportMetric(m.floor.Seconds(), "floor-s")
	b.ReportMetric(m.designFloor.Seconds(), "design-floor-s")
	b.ReportMetric(m.keyleak.Seconds()/m.floor.Seconds(), "x-floor")
	b.ReportMetric(m.cli.Seconds(), "awscli-loop-s")
	b.ReportMetric(m.cli.Seconds()/m.keyleak.Seconds(), "awscli/keyleak")
	b.ReportMetric(float64(m.events), "events")
	b.ReportMetric(float64(m.cliEvents), "awscli-events")
	b.ReportMetric(float64(m.keys), "keys")
	b.ReportMetric(float64(m.throttled), "throttled")
}

// volumeSim is the github-push account with n workload events of the leaked
// key over the last three days, the same for the same n.
func volumeSim(b *testing.B, n int) *awssim.Server {
	b.Helper()
	srv := serveScenario(b, "github-push", awssim.WithSeed(7))
	if err := srv.Sim.AddVolume(n, srv.Sim.LeakedKey(), 42, 72*time.Hour); err != nil {
		_ = srv.Close()
		b.Fatal(err)
	}
	return srv
}

func investigateVsCLI(b *testing.B, n int) investigateMeasure {
	b.Helper()
	var m investigateMeasure
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	// keyleak.
	srv := volumeSim(b, n)
	truth := srv.Sim.Truth()
	want := truthOfChain(truth)
	resp := srv.Sim.Responder()
	awsEnv(b, srv.URL, resp.AccessKeyID, resp.Secret)
	key := truth.LeakedKey
	start := time.Now()
	code, out, errOut := runKeyleak(ctx, "investigate", "--key", key, "--dir", b.TempDir(), "-o", "json")
	m.keyleak = time.Since(start)
	if err := srv.Close(); err != nil {
		b.Errorf("close simulator: %v", err)
	}
	if code != ExitOK {
		b.Fatalf("investigate exit %d: %s", code, errOut)
	}
	var res trail.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		b.Fatalf("-o json: %v", err)
	}
	got := map[string]bool{}
	extra := 0
	for _, e := range res.Events {
		if got[e.EventID] || !want[e.EventID] {
			extra++
		}
		got[e.EventID] = true
	}
	missing := 0
	for id := range want {
		if !got[id] {
			missing++
		}
	}
	if extra > 0 || missing > 0 {
		b.Fatalf("keyleak found %d events: %d missing, %d duplicate or not the chain's (want %d)", len(res.Events), missing, extra, len(want))
	}
	var enabled []string
	for _, r := range res.Regions {
		m.throttled += r.Throttled
		if r.Status == trail.StateOK {
			enabled = append(enabled, r.Region)
		}
	}
	m.floor, m.designFloor = lookupFloors(truth, enabled)
	m.events, m.keys = len(res.Events), len(res.Keys)

	// The AWS CLI, against a fresh simulator: its throttle buckets owe
	// nothing to keyleak's run.
	srv = volumeSim(b, n)
	defer func() {
		if err := srv.Close(); err != nil {
			b.Errorf("close simulator: %v", err)
		}
	}()
	resp = srv.Sim.Responder()
	env := awsEnv(b, srv.URL, resp.AccessKeyID, resp.Secret)
	wantCLI := countEventsOf(srv.Sim.Truth(), key)
	start = time.Now()
	m.cliEvents = awsCLILoop(ctx, b, env, key)
	m.cli = time.Since(start)
	if m.cliEvents != wantCLI {
		b.Fatalf("the AWS CLI loop found %d events of %s, the simulator holds %d", m.cliEvents, key, wantCLI)
	}
	return m
}

// awsCLILoop is a responder's hand-written sweep: the enabled regions, then
// one paginated lookup of the key in each, one after the other. It returns
// the number of events found.
func awsCLILoop(ctx context.Context, b *testing.B, env map[string]string, key string) int {
	b.Helper()
	out, err := awsCLIOutput(ctx, env, "ec2", "describe-regions", "--region", "us-east-1", "--query", "Regions[].RegionName")
	if err != nil {
		b.Fatal(err)
	}
	var regions []string
	if err := json.Unmarshal(out, &regions); err != nil {
		b.Fatalf("aws ec2 describe-regions: %v\n%s", err, out)
	}
	found := 0
	for _, r := range regions {
		out, err := awsCLIOutput(ctx, env, "cloudtrail", "lookup-events", "--region", r,
			"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+key)
		if err != nil {
			b.Fatal(err)
		}
		var page struct{ Events []struct{ EventId string } }
		if err := json.Unmarshal(out, &page); err != nil {
			b.Fatalf("aws cloudtrail lookup-events --region %s: %v", r, err)
		}
		found += len(page.Events)
	}
	return found
}

// lookupFloors returns the least time LookupEvents' quota allows for a
// sweep of the regions: floor counts what keyleak must request, each key
// of the chain looked up in each region, an empty answer costing a request
// too; design is DESIGN.md's max over regions of ⌈events/50⌉ requests.
func lookupFloors(tr awssim.Truth, regions []string) (floor, design time.Duration) {
	keys := []string{tr.LeakedKey}
	for _, k := range tr.DerivedKeys {
		keys = append(keys, k.AccessKeyID)
	}
	chain := map[string]bool{}
	for _, k := range keys {
		chain[k] = true
	}
	perRegion := map[string]map[string]int{}
	for _, e := range tr.Events {
		if !chain[e.AccessKeyID] {
			continue
		}
		if perRegion[e.Region] == nil {
			perRegion[e.Region] = map[string]int{}
		}
		perRegion[e.Region][e.AccessKeyID]++
	}
	for _, r := range regions {
		requests, events := 0, 0
		for _, k := range keys {
			n := perRegion[r][k]
			requests += max(1, ceilDiv(n, 50))
			events += n
		}
		floor = max(floor, requestTime(requests, lookupRate))
		design = max(design, requestTime(ceilDiv(events, 50), lookupRate))
	}
	return floor, design
}
