package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/evaluate"
	"github.com/keyleak/keyleak/internal/memsample"
	"github.com/keyleak/keyleak/trail/trailtest"
)

// BenchmarkInvestigateLogsVsIgzip measures the figure end to end:
// `keyleak investigate --key K --logs DIR --offline` (scan, pivot to the
// 22 derived keys, assessment, the case written) on KEYLEAK_BENCH_LOG_MB
// (default 600) MB of uncompressed records of real shapes (the Stratus
// and OTRF records with keys and times rewritten, about 2% by the key and
// its derived keys), against `igzip -dc` and `gzip -dc` on the same files,
// GOMAXPROCS at a time, in rounds (KEYLEAK_BENCH_LOG_ROUNDS, default 3),
// each way's best round kept so that the ratios compare runs made side by
// side. investigate/igzip >= 1.0 is the goal. igzip (Debian's isal) is
// skipped with a message when missing.
func BenchmarkInvestigateLogsVsIgzip(b *testing.B) {
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("gzip is not on PATH; it is a baseline of this benchmark")
	}
	tools := []string{"gzip"}
	if _, err := exec.LookPath("igzip"); err == nil {
		tools = append(tools, "igzip")
	} else {
		b.Log("igzip is not on PATH (Debian: apt-get install isal): investigate/igzip not measured")
	}
	mb := envInt(b, "KEYLEAK_BENCH_LOG_MB", 600)
	rounds := envInt(b, "KEYLEAK_BENCH_LOG_ROUNDS", 3)
	var templates []json.RawMessage
	for _, name := range []string{evaluate.Stratus, evaluate.OTRF} {
		recs, err := evaluate.LoadDataset(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			templates = append(templates, r.Event)
		}
	}
	dir, err := os.MkdirTemp("", "keyleak-bench-investigate-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	const key = "AKIAQLEAKEDBENCHKEYA"
	tree, err := trailtest.WriteLogTree(context.Background(), dir, templates, trailtest.LogTreeSpec{MB: mb, Leaked: key, Seed: 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	best := map[string]time.Duration{}
	keep := func(name string, d time.Duration) {
		if old, ok := best[name]; !ok || d < old {
			best[name] = d
		}
	}
	var peak uint64
	for b.Loop() {
		for range rounds {
			runtime.GC()
			debug.FreeOSMemory()
			stop := make(chan struct{})
			peakc := memsample.PeakHeapInuse(stop)
			start := time.Now()
			code, out, errOut := runKeyleak(ctx, "investigate", "--key", key, "--logs", tree.Dir, "--offline",
				"--since", "2024-04-30T00:00:00Z", "--until", "2024-06-02T00:00:00Z", "--dir", b.TempDir(), "-o", "json")
			keep("investigate", time.Since(start))
			close(stop)
			peak = max(peak, <-peakc)
			if code != ExitOK {
				b.Fatalf("investigate exited %d: %s", code, errOut)
			}
			var res struct {
				Investigation struct {
					Events []json.RawMessage `json:"events"`
				} `json:"investigation"`
				Events []json.RawMessage `json:"events"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				b.Fatal(err)
			}
			if n := len(res.Events) + len(res.Investigation.Events); n != tree.Hits {
				b.Fatalf("investigate found %d events, want %d", n, tree.Hits)
			}
			for _, tool := range tools {
				d, err := trailtest.Decompress(ctx, tool, tree.Paths, runtime.GOMAXPROCS(0))
				if err != nil {
					b.Fatal(err)
				}
				keep(tool, d)
			}
		}
	}
	mbps := func(d time.Duration) float64 { return float64(tree.Raw) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(best["investigate"]), "investigate-MB/s")
	b.ReportMetric(mbps(best["gzip"]), "gzip-MB/s")
	b.ReportMetric(best["gzip"].Seconds()/best["investigate"].Seconds(), "investigate/gzip")
	if _, ok := best["igzip"]; ok {
		b.ReportMetric(mbps(best["igzip"]), "igzip-MB/s")
		b.ReportMetric(best["igzip"].Seconds()/best["investigate"].Seconds(), "investigate/igzip")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(tree.Raw)/1e6, "raw-MB")
	b.ReportMetric(float64(tree.Hits), "events")
}

// BenchmarkLogsWithoutCredentials measures what having no AWS credentials
// costs `keyleak investigate --key K --logs DIR` (the laptop with exported
// logs): the same run without --offline and with no credentials anywhere,
// so keyleak looks for them (environment, files, then the instance
// metadata service, here a loopback address that accepts and never
// answers, a laptop's worst case) and goes offline, against the run with
// --offline, side by side in rounds (KEYLEAK_BENCH_LOG_ROUNDS, default 3),
// each way's best kept, on KEYLEAK_BENCH_NOCREDS_MB (default 50) MB of
// records. The goal: under a second more than the scan.
func BenchmarkLogsWithoutCredentials(b *testing.B) {
	mb := envInt(b, "KEYLEAK_BENCH_NOCREDS_MB", 50)
	rounds := envInt(b, "KEYLEAK_BENCH_LOG_ROUNDS", 3)
	var templates []json.RawMessage
	for _, name := range []string{evaluate.Stratus, evaluate.OTRF} {
		recs, err := evaluate.LoadDataset(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			templates = append(templates, r.Event)
		}
	}
	dir := b.TempDir()
	const key = "AKIAQLEAKEDBENCHKEYA"
	tree, err := trailtest.WriteLogTree(context.Background(), dir, templates, trailtest.LogTreeSpec{MB: mb, Leaked: key, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	// No credentials anywhere, and a metadata service that never answers.
	home := b.TempDir()
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		hole.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_EC2_METADATA_DISABLED"} {
		b.Setenv(k, "")
		os.Unsetenv(k)
	}
	b.Setenv("HOME", home)
	b.Setenv("AWS_CONFIG_FILE", home+"/config")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", home+"/credentials")
	b.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+hole.Addr().String())

	ctx := context.Background()
	best := map[string]time.Duration{}
	for b.Loop() {
		for range rounds {
			for _, way := range []string{"offline", "no-credentials"} {
				args := []string{"investigate", "--key", key, "--logs", tree.Dir,
					"--since", "2024-04-30T00:00:00Z", "--until", "2024-06-02T00:00:00Z", "--dir", b.TempDir()}
				if way == "offline" {
					args = append(args, "--offline")
				}
				start := time.Now()
				code, _, errOut := runKeyleak(ctx, args...)
				d := time.Since(start)
				if code != ExitOK {
					b.Fatalf("%s: exit %d: %s", way, code, errOut)
				}
				if way == "no-credentials" && !strings.Contains(errOut, "no AWS credentials") {
					b.Fatalf("no-credentials run did not say it went offline: %s", errOut)
				}
				if old, ok := best[way]; !ok || d < old {
					best[way] = d
				}
			}
		}
	}
	b.ReportMetric(best["offline"].Seconds(), "offline-s")
	b.ReportMetric(best["no-credentials"].Seconds(), "no-credentials-s")
	b.ReportMetric(best["no-credentials"].Seconds()-best["offline"].Seconds(), "extra-s")
	b.ReportMetric(float64(tree.Raw)/1e6, "raw-MB")
}
