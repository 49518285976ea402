package cli

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// countingCT counts LookupEvents requests and, once stop is reached, blocks
// every request until its context ends (a process frozen mid-sweep).
type countingCT struct {
	cloudtrail.LookupEventsAPIClient
	calls   *atomic.Int64
	stop    int64
	stopped chan struct{}
	once    *sync.Once
}

func (c countingCT) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, o ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	if n := c.calls.Add(1); c.stop > 0 && n > c.stop {
		c.once.Do(func() { close(c.stopped) })
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return c.LookupEventsAPIClient.LookupEvents(ctx, in, o...)
}

// investigateCounting runs the engine's investigation on the case in dir
// and returns how many LookupEvents requests it made. With stop > 0 it
// freezes after stop requests, copies the case directory as a kill at that
// moment would leave it into killed, and cancels.
func investigateCounting(t *testing.T, dir, key string, regions []string, stop int64, killed string) (*respond.Investigation, int64) {
	t.Helper()
	f := testFactory(t, &IOStreams{In: strings.NewReader("")})
	e := f.Engine()
	c, err := e.OpenCase(casefile.Ref{Dir: dir, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var calls atomic.Int64
	stopped := make(chan struct{})
	once := &sync.Once{}
	req := respond.InvestigateRequest{LookupRate: 40, LookupBurst: 20, Regions: regions,
		WrapCloudTrail: func(_ string, api cloudtrail.LookupEventsAPIClient) cloudtrail.LookupEventsAPIClient {
			return countingCT{LookupEventsAPIClient: api, calls: &calls, stop: stop, stopped: stopped, once: once}
		}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stop > 0 {
		go func() {
			<-stopped
			// Let the pages in hand reach the disk, as they would before a
			// kill some time later.
			time.Sleep(200 * time.Millisecond)
			if out, err := exec.Command("cp", "-a", dir, killed).CombinedOutput(); err != nil {
				t.Errorf("copy the case: %v %s", err, out)
			}
			cancel()
		}()
	}
	res, err := e.Investigate(ctx, c, req, respond.Hooks{})
	if stop == 0 && err != nil {
		t.Fatalf("investigate: %v", err)
	}
	if stop > 0 && !errors.Is(err, context.Canceled) {
		t.Fatalf("investigate cut short: %v", err)
	}
	return res, calls.Load()
}

// TestKilledInvestigationResumes: a sweep killed half-way has kept the
// events of the pages it read and how far it got; run again on that case,
// it reads only what is left and ends with every event a full sweep finds.
func TestKilledInvestigationResumes(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50))
	if err := srv.Sim.AddVolume(3000, srv.Sim.LeakedKey(), 7, 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	r := srv.Sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	key := srv.Sim.LeakedKey()
	base := t.TempDir()
	// us-east-1 (IAM and STS) and the volume's three busiest regions.
	perRegion := map[string]int{}
	for _, e := range srv.Sim.Truth().Events {
		perRegion[e.Region]++
	}
	regions := slices.SortedFunc(maps.Keys(perRegion), func(a, b string) int { return perRegion[b] - perRegion[a] })
	regions = append(slices.DeleteFunc(regions[:3], func(r string) bool { return r == "us-east-1" }), "us-east-1")

	full, fullCalls := investigateCounting(t, filepath.Join(base, "full"), key, regions, 0, "")
	killed := filepath.Join(base, "killed")
	stop := fullCalls * 3 / 4
	investigateCounting(t, filepath.Join(base, "run"), key, regions, stop, killed)

	kept, _, err := trail.ReadEventsFile(filepath.Join(killed, playbook.EventsFile))
	if err != nil || len(kept) < 50 {
		t.Fatalf("the killed run kept %d events (%v), want the pages it read", len(kept), err)
	}
	if _, err := os.Stat(filepath.Join(killed, casefile.ProgressFile)); err != nil {
		t.Fatalf("the killed run kept no progress: %v", err)
	}
	resumed, resumeCalls := investigateCounting(t, killed, key, regions, 0, "")
	// What is left, plus one request per region and key for the last
	// minutes before the kill (CloudTrail may still deliver events there).
	if resumeCalls >= fullCalls*2/3 {
		t.Errorf("the resume made %d requests, a full sweep %d: it swept again", resumeCalls, fullCalls)
	}
	t.Logf("requests: full sweep %d, killed after %d, resume %d", fullCalls, stop, resumeCalls)
	want := map[string]bool{}
	for _, e := range full.Trail.Events {
		want[e.EventID] = true
	}
	got := map[string]bool{}
	for _, e := range resumed.Trail.Events {
		got[e.EventID] = true
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s of the full sweep is missing after the resume", id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resumed run has %d events, the full sweep %d", len(got), len(want))
	}
	if len(resumed.Trail.Keys) != len(full.Trail.Keys) || resumed.Trail.Coverage.Failed() {
		t.Errorf("resumed keys %d (full %d), coverage %s", len(resumed.Trail.Keys), len(full.Trail.Keys), resumed.Trail.Coverage.Summary())
	}
}
