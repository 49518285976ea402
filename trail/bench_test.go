package trail_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"github.com/keyleak/keyleak/internal/memsample"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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

// The side-by-side benchmark of the log scanner against gzip on a large
// log tree: KEYLEAK_BENCH_LOG_MB (default 1024) of uncompressed records.

// benchDerived is the session key the leaked key issues in the large log
// tree (GetSessionToken), used in every region while it lasts.
const benchDerived = "ASIABENCHDERIVED0001"

// bigLogs describes a generated log tree.
type bigLogs struct {
	dir   string
	paths []string
	raw   int64 // uncompressed bytes
	gz    int64 // bytes on disk
	hits  int   // records of the leaked key and of benchDerived
	gen   time.Duration
}

// bigLogPlan places file i of the tree: region i%len(regions), then one
// time slot after the other, perDay slots a day, so that the tree spans
// about a month however large it is, as a month of a busy account's trail.
type bigLogPlan struct {
	files, perDay, records int
	start                  time.Time
	gst, expires           time.Time // the session key's issue and end
	gstFile                int
}

var bigLogRegions = []string{"us-east-1", "ap-northeast-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-2"}

func (p bigLogPlan) slot(i int) (region string, from time.Time, length time.Duration) {
	j := i / len(bigLogRegions)
	length = 24 * time.Hour / time.Duration(p.perDay)
	from = p.start.Add(time.Duration(j/p.perDay)*24*time.Hour + time.Duration(j%p.perDay)*length)
	return bigLogRegions[i%len(bigLogRegions)], from, length
}

func (p bigLogPlan) path(dir string, i int) string {
	region, from, _ := p.slot(i)
	return filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", region, from.Format("2006/01/02"),
		fmt.Sprintf("111122223333_CloudTrail_%s_%s_%06d.json.gz", region, from.Format("20060102T1504Z"), i))
}

// bigLogOp is a call of the generated workload.
type bigLogOp struct {
	source, name string
	readOnly     bool
	params       func(r *rand.Rand, b []byte) []byte
}

var bigLogOps = []bigLogOp{
	{"ec2.amazonaws.com", "DescribeInstances", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"instancesSet":{"items":[{"instanceId":"i-%017x"}]},"filterSet":{}}`, r.Uint64()>>4)
	}},
	{"ec2.amazonaws.com", "DescribeVolumes", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"volumeSet":{},"filterSet":{"items":[{"name":"attachment.instance-id","valueSet":{"items":[{"value":"i-%017x"}]}}]}}`, r.Uint64()>>4)
	}},
	{"s3.amazonaws.com", "GetBucketAcl", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"bucketName":"acme-data-%d","Host":"acme-data-%d.s3.amazonaws.com","acl":""}`, r.IntN(40), r.IntN(40))
	}},
	{"ssm.amazonaws.com", "GetParameter", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"name":"/app/prod/param-%d","withDecryption":true}`, r.IntN(200))
	}},
	{"kms.amazonaws.com", "Decrypt", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","keyId":"arn:aws:kms:us-east-1:111122223333:key/%08x-%04x-4%03x-8%03x-%012x"}`,
			r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16)
	}},
	{"sts.amazonaws.com", "AssumeRole", false, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"roleArn":"arn:aws:iam::111122223333:role/app-%d","roleSessionName":"session-%x","durationSeconds":3600}`, r.IntN(30), r.Uint32())
	}},
	{"dynamodb.amazonaws.com", "DescribeTable", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"tableName":"orders-%d"}`, r.IntN(12))
	}},
	{"logs.amazonaws.com", "PutLogEvents", false, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"logGroupName":"/app/worker-%d","logStreamName":"%x"}`, r.IntN(8), r.Uint64())
	}},
	{"lambda.amazonaws.com", "ListFunctions20150331", true, func(*rand.Rand, []byte) []byte { return nil }},
	{"iam.amazonaws.com", "ListRoles", true, func(r *rand.Rand, b []byte) []byte {
		return fmt.Appendf(b, `{"maxItems":%d}`, 100*(1+r.IntN(10)))
	}},
}

var bigLogAgents = []string{
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/ec2.describe-instances",
	"Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 cfg/retry-mode#legacy Botocore/1.34.69",
	"aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.152.0",
	"aws-sdk-java/2.25.16 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy",
	"console.amazonaws.com",
}

// appendRecord appends one CloudTrail record made with key at t.
func appendRecord(b []byte, r *rand.Rand, key string, at time.Time, region string) []byte {
	op := bigLogOps[r.IntN(len(bigLogOps))]
	user := r.IntN(60)
	b = append(b, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA`...)
	b = fmt.Appendf(b, `%016X","arn":"arn:aws:iam::111122223333:user/svc-%d","accountId":"111122223333","accessKeyId":"%s","userName":"svc-%d"`, uint64(user)*0x9e3779b97f4a7c15, user, key, user)
	if strings.HasPrefix(key, "ASIA") {
		b = append(b, `,"sessionContext":{"sessionIssuer":{},"webIdFederationData":{},"attributes":{"creationDate":"`...)
		b = at.Add(-time.Hour).UTC().AppendFormat(b, time.RFC3339)
		b = append(b, `","mfaAuthenticated":"false"}}`...)
	}
	b = append(b, `},"eventTime":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339)
	b = fmt.Appendf(b, `","eventSource":"%s","eventName":"%s","awsRegion":"%s","sourceIPAddress":"%d.%d.%d.%d","userAgent":"%s","requestParameters":`,
		op.source, op.name, region, 3+r.IntN(220), r.IntN(256), r.IntN(256), 1+r.IntN(254), bigLogAgents[r.IntN(len(bigLogAgents))])
	if p := op.params(r, nil); p != nil {
		b = append(b, p...)
	} else {
		b = append(b, "null"...)
	}
	b = fmt.Appendf(b, `,"responseElements":null,"requestID":"%08x-%04x-4%03x-8%03x-%012x","eventID":"%08x-%04x-4%03x-8%03x-%012x","readOnly":%t,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s.%s.amazonaws.com"}}`,
		r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16,
		r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16,
		op.readOnly, strings.TrimSuffix(op.source, ".amazonaws.com"), region)
	return b
}

// appendSessionToken appends the leaked key's GetSessionToken record that
// issues benchDerived until expires.
func appendSessionToken(b []byte, at, expires time.Time) []byte {
	b = append(b, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDALEAKEDUSER000001","arn":"arn:aws:iam::111122223333:user/ci-deploy","accountId":"111122223333","accessKeyId":"`...)
	b = append(b, leaked...)
	b = append(b, `","userName":"ci-deploy"},"eventTime":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","awsRegion":"us-east-1","sourceIPAddress":"185.220.101.7","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64","requestParameters":null,"responseElements":{"credentials":{"accessKeyId":"`...)
	b = append(b, benchDerived...)
	b = append(b, `","sessionToken":"IQoJb3JpZ2luX2VjEBenchSessionToken","expiration":"`...)
	b = expires.UTC().AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
	b = append(b, `"}},"requestID":"5d1c3a9e-0b6f-4f0e-9a51-7c3f2b8e4d11","eventID":"0c7a2f4e-9b3d-4e61-a8f2-6d5b1c9e3a70","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`...)
	return b
}

// genLogFile renders file i of the plan and returns the document and the
// number of records of the leaked key and its session key in it.
func (p bigLogPlan) genLogFile(i int, buf []byte) ([]byte, int) {
	r := rand.New(rand.NewPCG(uint64(i), 0x6b65796c65616b))
	region, from, length := p.slot(i)
	keys := make([]string, 40)
	for k := range keys {
		if k%4 == 3 {
			keys[k] = fmt.Sprintf("ASIA%016X", r.Uint64())
		} else {
			keys[k] = fmt.Sprintf("AKIA%016X", uint64(k+1)*0x9e3779b97f4a7c15)
		}
	}
	hits := 0
	b := append(buf[:0], `{"Records":[`...)
	for n := range p.records {
		if n > 0 {
			b = append(b, ',')
		}
		at := from.Add(time.Duration(r.Int64N(int64(length)))).Truncate(time.Second)
		key := keys[r.IntN(len(keys))]
		switch x := r.IntN(100); {
		case x < 3: // a few percent: the leaked key, used by its workload and the attacker
			key = leaked
			hits++
		case x < 4 && at.After(p.gst) && at.Before(p.expires):
			key = benchDerived
			hits++
		}
		b = appendRecord(b, r, key, at, region)
	}
	if i == p.gstFile {
		b = append(b, ',')
		b = appendSessionToken(b, p.gst, p.expires)
		hits++
	}
	b = append(b, "]}"...)
	return b, hits
}

// genBigLogs writes mb MB (10^6 bytes) of uncompressed records as gzipped
// CloudTrail log files under a new directory of $TMPDIR, removed when the
// benchmark ends, GOMAXPROCS files at a time.
func genBigLogs(b *testing.B, mb int) *bigLogs {
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
	start := time.Now()
	p := bigLogPlan{records: 2000, start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), perDay: 1, files: 1}
	sample, _ := p.genLogFile(0, nil)
	if !json.Valid(sample) {
		b.Fatal("the generated log file is not valid JSON")
	}
	p.files = max(1, int((int64(mb)*1e6+int64(len(sample))-1)/int64(len(sample))))
	slots := (p.files + len(bigLogRegions) - 1) / len(bigLogRegions)
	p.perDay = max(1, (slots+29)/30)
	// The session is issued in us-east-1 halfway through the tree and lasts
	// 12 hours, as GetSessionToken's default.
	gstSlot := slots / 2
	p.gstFile = gstSlot * len(bigLogRegions)
	_, from, length := p.slot(p.gstFile)
	p.gst = from.Add(length / 3).Truncate(time.Second)
	p.expires = p.gst.Add(12 * time.Hour)

	out := &bigLogs{dir: dir, paths: make([]string, p.files)}
	var mu sync.Mutex
	var g errgroup.Group
	workers := runtime.GOMAXPROCS(0)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range p.files {
			next <- i
		}
	}()
	for range workers {
		g.Go(func() error {
			var buf []byte
			var zbuf bytes.Buffer
			zw, err := gzip.NewWriterLevel(&zbuf, gzip.BestSpeed)
			if err != nil {
				return err
			}
			for i := range next {
				doc, hits := p.genLogFile(i, buf)
				buf = doc
				zbuf.Reset()
				zw.Reset(&zbuf)
				if _, err := zw.Write(doc); err != nil {
					return err
				}
				if err := zw.Close(); err != nil {
					return err
				}
				path := p.path(dir, i)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(path, zbuf.Bytes(), 0o644); err != nil {
					return err
				}
				mu.Lock()
				out.paths[i] = path
				out.raw += int64(len(doc))
				out.gz += int64(zbuf.Len())
				out.hits += hits
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		for range next { // let the feeder end
		}
		b.Fatalf("write log files: %v", err)
	}
	out.gen = time.Since(start)
	return out
}

// BenchmarkScanLogsVsGzip generates KEYLEAK_BENCH_LOG_MB (default 1024) MB
// of uncompressed CloudTrail records in the S3 layout, about a month of six
// regions, 3% of them by the leaked key and 1% (while it lasts) by a
// session key it issued in us-east-1, and reads them three ways side by
// side, each with GOMAXPROCS files at a time:
//
//   - trail.ScanLogs for the leaked key (with the pivot to the session key,
//     and the follow-up pass that pivot costs): scan-MB/s of uncompressed
//     records, scan-gz-MB/s of files as stored, peak-heap-MB (HeapInuse
//     sampled every 10 ms) and sys-MB (runtime's Sys after the scan);
//   - `gzip -dc FILE >/dev/null`, one process a file: gzip-MB/s;
//   - Go's compress/gzip in-process, decompression alone: go-gunzip-MB/s;
//
// and scan/gzip, the scanner's speed as a fraction of gzip's (MB = 10^6
// bytes, uncompressed unless named gz). The scan must find exactly the
// generated records of the two keys.
func BenchmarkScanLogsVsGzip(b *testing.B) {
	if _, err := exec.LookPath("gzip"); err != nil {
		b.Skip("gzip is not on PATH; it is the baseline of this benchmark")
	}
	mb := 1024
	if s := os.Getenv("KEYLEAK_BENCH_LOG_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("KEYLEAK_BENCH_LOG_MB=%q is not a positive number", s)
		}
		mb = n
	}
	logs := genBigLogs(b, mb)
	workers := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	var scan, gz, goGz time.Duration
	var peak uint64
	var sys uint64
	var read int64
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		stop := make(chan struct{})
		peakc := memsample.PeakHeapInuse(stop)
		start := time.Now()
		inv, err := trail.ScanLogs(ctx, trail.DirLogs(logs.dir), leaked)
		scan = time.Since(start)
		close(stop)
		peak = <-peakc
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		sys = ms.Sys
		if err != nil {
			b.Fatal(err)
		}
		if len(inv.Events) != logs.hits || len(inv.Keys) != 2 || inv.Coverage.Failed() {
			b.Fatalf("found %d events of %d keys (%s), want %d of 2", len(inv.Events), len(inv.Keys), inv.Coverage.Summary(), logs.hits)
		}
		read = 0
		for _, s := range inv.Coverage.Sources {
			read += s.Bytes
		}

		start = time.Now()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for _, p := range logs.paths {
			g.Go(func() error {
				// Stdout left nil goes to /dev/null.
				if err := exec.CommandContext(gctx, "gzip", "-dc", p).Run(); err != nil {
					return fmt.Errorf("gzip -dc %s: %w", p, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		gz = time.Since(start)

		start = time.Now()
		g, _ = errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for _, p := range logs.paths {
			g.Go(func() error {
				f, err := os.Open(p)
				if err != nil {
					return err
				}
				defer f.Close()
				zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
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
		goGz = time.Since(start)
	}
	mbps := func(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(logs.raw, scan), "scan-MB/s")
	b.ReportMetric(mbps(logs.gz, scan), "scan-gz-MB/s")
	b.ReportMetric(mbps(logs.raw, gz), "gzip-MB/s")
	b.ReportMetric(mbps(logs.raw, goGz), "go-gunzip-MB/s")
	b.ReportMetric(gz.Seconds()/scan.Seconds(), "scan/gzip")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(sys)/(1<<20), "sys-MB")
	b.ReportMetric(float64(logs.raw)/1e6, "raw-MB")
	b.ReportMetric(float64(logs.gz)/1e6, "gz-MB")
	b.ReportMetric(float64(read)/float64(logs.gz), "gz-read/size")
	b.ReportMetric(float64(len(logs.paths)), "files")
	b.ReportMetric(float64(logs.hits), "events")
	b.ReportMetric(logs.gen.Seconds(), "gen-s")
}
