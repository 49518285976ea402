package trail_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

// TestLakeSimulatorFindsTheChain queries the simulator's CloudTrail Lake
// for the github-push scenario's leaked key: it must find exactly the
// events of the key and of every key derived from it, in every region, and
// rebuild records that derive the same keys.
func TestLakeSimulatorFindsTheChain(t *testing.T) {
	sc, err := awssim.LoadScenario("github-push")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, awssim.WithSeed(5))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	t.Cleanup(func() {
		transport.CloseIdleConnections()
		_ = srv.Close()
	})
	truth := sim.Truth()
	chain := map[string]bool{truth.LeakedKey: true}
	for _, k := range truth.DerivedKeys {
		chain[k.AccessKeyID] = true
	}
	want := map[string]awssim.TruthEvent{}
	regions := map[string]bool{}
	for _, e := range truth.Events {
		if chain[e.AccessKeyID] {
			want[e.EventID] = e
			regions[e.Region] = true
		}
	}
	if len(truth.DerivedKeys) < 2 || len(regions) < 3 {
		t.Fatalf("the scenario has %d derived keys in %d regions; the test needs a chain across regions", len(truth.DerivedKeys), len(regions))
	}
	cfg := srv.Config(sim.Responder(), "us-east-1")
	cfg.HTTPClient = &http.Client{Transport: bodyInMemory{transport}}
	now := time.Now().UTC()
	clk := trailtest.NewClock(now)
	inv, err := trail.NewLake(cloudtrail.NewFromConfig(cfg), sim.EventDataStoreARN(),
		trail.WithWindow(now.Add(-30*24*time.Hour), now.Add(time.Minute)), trail.WithClock(clk)).Run(context.Background(), truth.LeakedKey)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range inv.Events {
		if got[e.EventID] {
			t.Errorf("event %s found twice", e.EventID)
		}
		got[e.EventID] = true
		w, ok := want[e.EventID]
		if !ok {
			t.Errorf("event %s (%s by %s) is not the chain's", e.EventID, e.EventName, e.UserIdentity.AccessKeyID)
			continue
		}
		if !e.EventTime.Equal(w.EventTime) || e.Region != w.Region || e.EventName != w.EventName || e.EventSource != w.EventSource ||
			e.UserIdentity.AccessKeyID != w.AccessKeyID || e.ErrorCode != w.ErrorCode || len(e.Raw) == 0 {
			t.Errorf("event %s rebuilt as %s %s %s %s %s %q, truth %+v", e.EventID, e.EventTime, e.Region, e.EventSource, e.EventName,
				e.UserIdentity.AccessKeyID, e.ErrorCode, w)
		}
	}
	for id, e := range want {
		if !got[id] {
			t.Errorf("event %s (%s %s by %s) missing", id, e.Region, e.EventName, e.AccessKeyID)
		}
	}
	// The keys were found through the rebuilt responseElements, nested
	// objects coming back from the Lake's map columns.
	derived := map[string]string{}
	for _, k := range inv.Derived() {
		derived[k.AccessKeyID] = k.EventID
	}
	for _, k := range truth.DerivedKeys {
		if id, ok := derived[k.AccessKeyID]; !ok || id != k.EventID {
			t.Errorf("derived key %s (via %s in %s) not found from its event", k.AccessKeyID, k.Via, k.EventID)
		}
	}
	if len(derived) != len(truth.DerivedKeys) {
		t.Errorf("%d derived keys, truth has %d", len(derived), len(truth.DerivedKeys))
	}
	cov := inv.Coverage.Sources
	if len(cov) != 1 || cov[0].State != trail.StateOK || cov[0].Name != "lake:"+sim.EventDataStoreID() || cov[0].Bytes == 0 ||
		cov[0].Events != len(want) || cov[0].Lookups != len(inv.Keys) {
		t.Errorf("coverage %+v", cov)
	}
	if clk.Slept() == 0 {
		t.Error("the queries were not polled")
	}
	t.Logf("%d events of %d keys in %d regions; %d key lookups, %d result pages, %d bytes scanned",
		len(inv.Events), len(inv.Keys), len(regions), cov[0].Lookups, cov[0].Pages, cov[0].Bytes)
	if inv.Account != truth.Account {
		t.Errorf("account %q, want %q", inv.Account, truth.Account)
	}
}

// fakeLake fails every query as the Lake reports a failed one.
type fakeLake struct{ started int }

func (f *fakeLake) StartQuery(context.Context, *cloudtrail.StartQueryInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartQueryOutput, error) {
	f.started++
	return &cloudtrail.StartQueryOutput{QueryId: aws.String("q1")}, nil
}

func (f *fakeLake) DescribeQuery(context.Context, *cloudtrail.DescribeQueryInput, ...func(*cloudtrail.Options)) (*cloudtrail.DescribeQueryOutput, error) {
	return &cloudtrail.DescribeQueryOutput{QueryStatus: types.QueryStatusFailed, ErrorMessage: aws.String("Query exceeded the 1 hour limit")}, nil
}

func (f *fakeLake) GetQueryResults(context.Context, *cloudtrail.GetQueryResultsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetQueryResultsOutput, error) {
	return nil, nil
}

func TestLakeQueryFailureIsInTheCoverage(t *testing.T) {
	f := &fakeLake{}
	inv, err := trail.NewLake(f, "EXAMPLE-f852", trail.WithClock(trailtest.NewClock(chainStart))).Run(context.Background(), leakedKey)
	if err != nil {
		t.Fatal(err)
	}
	if f.started != 1 || !inv.Coverage.Failed() || !strings.Contains(inv.Coverage.Summary(), "1 hour limit") {
		t.Fatalf("started %d; coverage %+v", f.started, inv.Coverage)
	}
	if w := inv.Window; !w.Until.Equal(chainStart) || !w.Since.Equal(chainStart.Add(-trail.LookbackLimit)) {
		t.Errorf("default window %+v", w)
	}
}
