package trail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/keyleak/keyleak/internal/memsample"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

const (
	benchFiles   = 8
	benchRecords = 3000 // a file; about 1.2 KB each
)

// benchLogs writes gzipped CloudTrail log files in the S3 layout: varied
// records (keys, IPs, agents, request parameters) so that they compress as
// real logs do, one in a hundred made by the leaked key. It returns the
// directory, the total uncompressed size and the number of leaked-key
// records.
func benchLogs(b *testing.B) (dir string, raw int64, hits int) {
	b.Helper()
	dir = b.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"DescribeInstances", "GetObject", "ListBuckets", "AssumeRole", "PutObject", "DescribeVolumes", "Decrypt"}
	agents := []string{"aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux", "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1"}
	start := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for f := range benchFiles {
		recs := make([]json.RawMessage, 0, benchRecords)
		for i := range benchRecords {
			key := fmt.Sprintf("AKIA%016X", rng.Uint64()%5000)
			if rng.IntN(100) == 0 {
				key = leaked
				hits++
			}
			at := start.Add(time.Duration(f*benchRecords+i) * time.Second)
			r := map[string]any{
				"eventVersion": "1.09", "eventTime": at.Format(time.RFC3339), "eventSource": "ec2.amazonaws.com",
				"eventName": names[rng.IntN(len(names))], "awsRegion": "us-east-1",
				"sourceIPAddress": fmt.Sprintf("%d.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256), rng.IntN(256)),
				"userAgent":       agents[rng.IntN(len(agents))],
				"userIdentity": map[string]any{"type": "IAMUser", "principalId": fmt.Sprintf("AIDA%016X", rng.Uint64()),
					"arn": fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", rng.IntN(300)), "accountId": "111122223333",
					"accessKeyId": key, "userName": fmt.Sprintf("u%d", rng.IntN(300))},
				"requestParameters": map[string]any{"instancesSet": map[string]any{"items": []any{
					map[string]any{"instanceId": fmt.Sprintf("i-%017x", rng.Uint64())}}}, "filterSet": map[string]any{}},
				"responseElements": nil, "requestID": fmt.Sprintf("%016x-%016x", rng.Uint64(), rng.Uint64()),
				"eventID": fmt.Sprintf("%016x-%016x", rng.Uint64(), rng.Uint64()), "readOnly": true,
				"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333",
				"eventCategory": "Management",
				"tlsDetails": map[string]any{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
					"clientProvidedHostHeader": "ec2.us-east-1.amazonaws.com"},
			}
			enc, err := json.Marshal(r)
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, enc)
		}
		doc := recordsDoc(recs)
		raw += int64(len(doc))
		p := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2024", "06", "01",
			fmt.Sprintf("111122223333_CloudTrail_us-east-1_20240601T%02d00Z_%d.json.gz", f, f))
		writeFile(b, p, doc, true)
	}
	return dir, raw, hits
}

// BenchmarkScanLogs measures the log scanner's throughput in uncompressed
// MB/s on gzipped logs, all cores, one key (pivot on; no derived keys).
// Compare with BenchmarkGunzipFloor, the decompression alone.
func BenchmarkScanLogs(b *testing.B) {
	dir, raw, hits := benchLogs(b)
	b.SetBytes(raw)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), leaked)
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Events) != hits {
			b.Fatalf("found %d events, want %d", len(inv.Events), hits)
		}
	}
}

// BenchmarkGunzipFloor decompresses the same files with the same
// parallelism and does nothing else: the speed the scanner aims at.
func BenchmarkGunzipFloor(b *testing.B) {
	dir, raw, _ := benchLogs(b)
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(raw)
	b.ResetTimer()
	for b.Loop() {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for _, p := range paths {
			g.Go(func() error {
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				zr, err := gzip.NewReader(bytes.NewReader(data))
				if err != nil {
					return err
				}
				_, err = io.Copy(io.Discard, zr)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweepSimulator sweeps a simulated account at the real
// LookupEvents quota (2 requests a second a region) with real SDK clients
// and reports the wall time over the throttle floor, max over regions of
// ⌈events/50⌉/2 s ("x-floor"; the goal is at most 1.15). Each run takes
// seconds: use -benchtime=1x.
func BenchmarkSweepSimulator(b *testing.B) {
	f := newSimFixture(b)
	if err := f.sim.AddVolume(1500, f.leaked.AccessKeyID, 11, 72*time.Hour); err != nil {
		b.Fatal(err)
	}
	f.attack(b)
	want, truth := f.truthEvents(b)
	perRegion := map[string]int{}
	for _, e := range truth.Events {
		if want[e.EventID] {
			perRegion[e.Region]++
		}
	}
	var floor time.Duration
	for _, n := range perRegion {
		floor = max(floor, time.Duration((n+49)/50)*time.Second/2)
	}
	var ratio float64
	for b.Loop() {
		start := time.Now()
		inv := f.sweep(b)
		el := time.Since(start)
		if len(inv.Events) != len(want) {
			b.Fatalf("found %d events, want %d", len(inv.Events), len(want))
		}
		ratio = float64(el) / float64(floor)
	}
	b.ReportMetric(ratio, "x-floor")
	b.ReportMetric(floor.Seconds(), "floor-s")
}

// The side-by-side benchmark of the log scanner against igzip and gzip on
// a large log tree of real record shapes.

// benchLogMB is the size of the large log tree: KEYLEAK_BENCH_LOG_MB
// (default 600) MB of uncompressed records.
func benchLogMB(b *testing.B) int {
	mb := 600
	if s := os.Getenv("KEYLEAK_BENCH_LOG_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("KEYLEAK_BENCH_LOG_MB=%q is not a positive number", s)
		}
		mb = n
	}
	return mb
}

// realTemplates are the records of the Stratus and OTRF data sets: real
// shapes, from the service calls of a real account.
func realTemplates(b *testing.B) []json.RawMessage {
	var out []json.RawMessage
	for _, name := range []string{"stratus_red_team", "otrf_security_datasets"} {
		for _, s := range loadSamples(b, name) {
			out = append(out, s.Event)
		}
	}
	return out
}

// writeBenchTree writes the large log tree in a new directory of $TMPDIR,
// removed when the benchmark ends.
func writeBenchTree(b *testing.B, mb int) *trailtest.LogTree {
	b.Helper()
	dir, err := os.MkdirTemp("", "keyleak-bench-logs-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Errorf("remove %s: %v", dir, err)
		}
	})
	tree, err := trailtest.WriteLogTree(context.Background(), dir, realTemplates(b), trailtest.LogTreeSpec{MB: mb, Leaked: leaked, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return tree
}

// BenchmarkScanLogsVsGzip writes KEYLEAK_BENCH_LOG_MB (default 600) MB of
// uncompressed CloudTrail records in the S3 layout, records of the public
// data sets with their keys and times rewritten: a month of six regions,
// about 2% of them by the leaked key, which assumes a role 20 times and
// creates 2 access keys, and by those keys. It then reads the files three
// ways, GOMAXPROCS files at a time, in rounds (KEYLEAK_BENCH_LOG_ROUNDS,
// default 3), keeping each way's fastest round, so that the ratios compare
// runs made side by side on the same machine under the same load:
//
//   - trail.ScanLogs for the leaked key, with the pivot to the 22 derived
//     keys: scan-MB/s of uncompressed records, peak-heap-MB (HeapInuse
//     sampled every 10 ms), gz-read/size (bytes read over the tree's size:
//     1 when no file is read twice);
//   - `igzip -dc FILE >/dev/null` (ISA-L; skipped with a message when not
//     installed) and `gzip -dc FILE >/dev/null`, one process a file;
//
// and scan/igzip and scan/gzip, the scanner's speed over each tool's (1.0:
// as fast). The scan must find exactly the generated records of the keys.
func BenchmarkScanLogsVsGzip(b *testing.B) {
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("gzip is not on PATH; it is the baseline of this benchmark")
	}
	igzip := true
	if _, err := exec.LookPath("igzip"); err != nil {
		igzip = false
		b.Log("igzip is not on PATH (Debian: apt-get install isal): scan/igzip not measured")
	}
	rounds := 3
	if s := os.Getenv("KEYLEAK_BENCH_LOG_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("KEYLEAK_BENCH_LOG_ROUNDS=%q is not a positive number", s)
		}
		rounds = n
	}
	start := time.Now()
	tree := writeBenchTree(b, benchLogMB(b))
	gen := time.Since(start)
	workers := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	best := map[string]time.Duration{}
	keep := func(name string, d time.Duration) {
		if old, ok := best[name]; !ok || d < old {
			best[name] = d
		}
	}
	var peak uint64
	var read int64
	for b.Loop() {
		for range rounds {
			runtime.GC()
			debug.FreeOSMemory()
			stop := make(chan struct{})
			peakc := memsample.PeakHeapInuse(stop)
			start := time.Now()
			inv, err := trail.ScanLogs(ctx, trail.DirLogs(tree.Dir), leaked)
			keep("scan", time.Since(start))
			close(stop)
			peak = max(peak, <-peakc)
			if err != nil {
				b.Fatal(err)
			}
			if len(inv.Events) != tree.Hits || len(inv.Keys) != len(tree.Keys) || inv.Coverage.Failed() {
				b.Fatalf("found %d events of %d keys (%s), want %d of %d", len(inv.Events), len(inv.Keys), inv.Coverage.Summary(), tree.Hits, len(tree.Keys))
			}
			read = 0
			for _, s := range inv.Coverage.Sources {
				read += s.Bytes
			}
			inv = nil
			tools := []string{"gzip"}
			if igzip {
				tools = append(tools, "igzip")
			}
			for _, tool := range tools {
				d, err := trailtest.Decompress(ctx, tool, tree.Paths, workers)
				if err != nil {
					b.Fatal(err)
				}
				keep(tool, d)
			}
		}
	}
	mbps := func(d time.Duration) float64 { return float64(tree.Raw) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(best["scan"]), "scan-MB/s")
	b.ReportMetric(mbps(best["gzip"]), "gzip-MB/s")
	b.ReportMetric(best["gzip"].Seconds()/best["scan"].Seconds(), "scan/gzip")
	if igzip {
		b.ReportMetric(mbps(best["igzip"]), "igzip-MB/s")
		b.ReportMetric(best["igzip"].Seconds()/best["scan"].Seconds(), "scan/igzip")
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(tree.Raw)/1e6, "raw-MB")
	b.ReportMetric(float64(tree.Gz)/1e6, "gz-MB")
	b.ReportMetric(float64(read)/float64(tree.Gz), "gz-read/size")
	b.ReportMetric(float64(len(tree.Paths)), "files")
	b.ReportMetric(float64(tree.Hits), "events")
	b.ReportMetric(float64(len(tree.Keys)), "keys")
	b.ReportMetric(gen.Seconds(), "gen-s")
}
