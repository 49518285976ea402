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
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
	"golang.org/x/sync/errgroup"
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
