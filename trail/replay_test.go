package trail_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

// TestReplayAPIFindsWhatLogsFind writes the real records of the OTRF and
// Stratus data sets as log files, replays them into the simulator (what
// `keyleak sim serve --replay` does) and investigates each data set's keys
// twice: through LookupEvents with real SDK clients, and from the files.
// Both must find the same events and the same derived keys, and the
// simulator's truth must agree with them.
func TestReplayAPIFindsWhatLogsFind(t *testing.T) {
	sets := map[string][]string{
		"otrf_security_datasets": {otrfKey},
		"stratus_red_team":       {"AKIAWOGXN38MFN92ING5", "AKIAMJ2320ZAXACWCPJI", "AKIA6V1GNZTT65XQH36M", "AKIA30BEZSJBVKOFKZW0"},
	}
	for name, keys := range sets {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeLayout(t, dir, events(loadSamples(t, name)), layoutOpts{gz: true, perFile: 7})
			var records []json.RawMessage
			err := trail.ReadRecords(context.Background(), trail.DirLogs(dir), trail.Window{}, func(raw []byte) error {
				records = append(records, append(json.RawMessage(nil), raw...))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The simulator's clock stands a minute after the newest record
			// of the key under test and runs on, so that LookupEvents
			// reaches its records (the data sets span years).
			var mu sync.Mutex
			var at time.Time
			started := time.Now()
			sim := awssim.New(awssim.WithClock(func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				return at.Add(time.Minute + time.Since(started))
			}), awssim.WithLookupRate(200, 200))
			n, newest, err := sim.Replay(records)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatal("nothing replayed")
			}
			if err := sim.AddUser("responder", newest.AddDate(-1, 0, 0), "AdministratorAccess"); err != nil {
				t.Fatal(err)
			}
			resp, err := sim.AddAccessKey("responder", newest.AddDate(-1, 0, 0), "")
			if err != nil {
				t.Fatal(err)
			}
			srv, err := awssim.Start(sim, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			f := &simFixture{sim: sim, srv: srv, responder: *resp, transport: &http.Transport{}}
			t.Cleanup(func() {
				f.transport.CloseIdleConnections()
				_ = srv.Close()
			})
			ctx := context.Background()
			regions, err := trail.ListRegions(ctx, ec2.NewFromConfig(f.config(f.responder, "us-east-1")))
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range keys {
				all, err := trail.ScanLogs(ctx, trail.DirLogs(dir), key)
				if err != nil || len(all.Events) == 0 {
					t.Fatalf("%s: %d events in the files, %v", key, len(all.Events), err)
				}
				last := all.Events[len(all.Events)-1].EventTime
				mu.Lock()
				at, started = last, time.Now()
				mu.Unlock()
				since, until := last.Add(-89*24*time.Hour), last.Add(time.Minute)
				opts := []trail.Option{trail.WithWindow(since, until), trail.WithLimiterRate(100, 10)}
				api, err := trail.NewSweep(regions, func(region string) cloudtrail.LookupEventsAPIClient {
					return cloudtrail.NewFromConfig(f.config(f.responder, region), trail.NoSDKRetries)
				}, opts...).Run(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				logs, err := trail.ScanLogs(ctx, trail.DirLogs(dir), key, opts...)
				if err != nil {
					t.Fatal(err)
				}
				gotAPI, gotLogs := sortedIDs(api.Events), sortedIDs(logs.Events)
				if len(gotLogs) == 0 || !slices.Equal(gotAPI, gotLogs) {
					t.Errorf("%s: API found %d events, logs %d:\n api %v\nlogs %v", key, len(gotAPI), len(gotLogs), gotAPI, gotLogs)
				}
				if a, l := keyIDs(api.Keys), keyIDs(logs.Keys); !slices.Equal(a, l) {
					t.Errorf("%s: API derived %v, logs %v", key, a, l)
				}
				sim.SetLeakedKey(key)
				truth := sim.Truth()
				want := []string{key}
				for _, k := range truth.DerivedKeys {
					want = append(want, k.AccessKeyID)
				}
				slices.Sort(want)
				if got := keyIDs(logs.Keys); !slices.Equal(got, want) {
					t.Errorf("%s: keys %v, truth %v", key, got, want)
				}
			}
		})
	}
}

func sortedIDs(evs []trail.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	slices.Sort(out)
	return out
}

func keyIDs(keys []trail.KeyLink) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.AccessKeyID)
	}
	slices.Sort(out)
	return out
}
