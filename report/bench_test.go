package report

import (
	"flag"
	"fmt"
	"github.com/keyleak/keyleak/internal/memsample"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchEvents sets the number of events BenchmarkWriteXLSX writes:
//
//	go test ./report -run '^$' -bench WriteXLSX -benchtime 1x                    # 100,000
//	go test ./report -run '^$' -bench WriteXLSX -benchtime 1x -report.events 1000000
//	KEYLEAK_REPORT_BENCH_EVENTS=1000000 make bench
var benchEvents = flag.Int("report.events", 0, "events written by BenchmarkWriteXLSX (default $KEYLEAK_REPORT_BENCH_EVENTS or 100000)")

func benchN(b *testing.B) int {
	if *benchEvents > 0 {
		return *benchEvents
	}
	if env := os.Getenv("KEYLEAK_REPORT_BENCH_EVENTS"); env != "" {
		n, err := strconv.Atoi(env)
		if err != nil || n <= 0 {
			b.Fatalf("KEYLEAK_REPORT_BENCH_EVENTS=%q is not a positive number", env)
		}
		return n
	}
	return 100000
}

// syntheticEvents yields n plausible events oldest first, one every 200 ms,
// one in ten by the attacker, without holding them: the benchmark measures
// the writer, not a slice of a million events.
func syntheticEvents(n int) iter.Seq[Event] {
	regions := []string{"us-east-1", "ap-northeast-1", "eu-west-1", "sa-east-1", "ap-southeast-1"}
	names := []struct{ src, name, cat, tech string }{
		{"ec2.amazonaws.com", "DescribeInstances", "discovery", "T1580"},
		{"iam.amazonaws.com", "ListUsers", "discovery", "T1087.004"},
		{"iam.amazonaws.com", "CreateUser", "persistence", "T1136.003"},
		{"ec2.amazonaws.com", "RunInstances", "impact", "T1496"},
		{"s3.amazonaws.com", "ListBuckets", "discovery", "T1619"},
	}
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(Event) bool) {
		for i := range n {
			c := names[i%len(names)]
			ev := Event{
				EventID:     fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
				Time:        start.Add(time.Duration(i) * 200 * time.Millisecond),
				Region:      regions[i%len(regions)],
				Source:      c.src,
				Name:        c.name,
				AccessKeyID: leakedKey,
				UserName:    "deploy-bot",
				SourceIP:    "198.51.100.10",
				UserAgent:   "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux",
				ReadOnly:    true,
				Verdict:     VerdictLegitimate,
				Severity:    SeverityInfo,
			}
			if i%10 == 0 {
				ev.AccessKeyID, ev.SourceIP, ev.UserAgent = sessionKey, "203.0.113.7", "aws-cli/2.15.0 Python/3.11.6"
				ev.Verdict, ev.Severity, ev.Category, ev.Technique, ev.RuleID = VerdictAttacker, SeverityHigh, c.cat, c.tech, "bench.rule"
				ev.Resources = []ResourceRef{{Type: "AWS::IAM::User", Name: "svc-" + strconv.Itoa(i)}}
			}
			if !yield(ev) {
				return
			}
		}
	}
}

// BenchmarkWriteXLSX writes the workbook for N events (see benchEvents)
// into a file, Stats computed by the writer's own first pass, and reports
// the peak heap in use while it ran.
func BenchmarkWriteXLSX(b *testing.B) {
	n := benchN(b)
	m := fixtureModel()
	m.Events = syntheticEvents(n)
	dir := b.TempDir()
	path := filepath.Join(dir, "report.xlsx")
	runtime.GC()
	stop := make(chan struct{})
	peak := memsample.PeakHeapInuse(stop)
	start := time.Now()
	iterations := 0
	for b.Loop() {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteXLSX(f, m, XLSXOptions{TZ: jst, TmpDir: dir}); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		iterations++
	}
	elapsed := time.Since(start)
	close(stop)
	peakBytes := <-peak
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n), "events")
	b.ReportMetric(float64(peakBytes)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MB")
	b.ReportMetric(float64(fi.Size())/(1<<20), "xlsx-MB")
	b.ReportMetric(float64(n*iterations)/elapsed.Seconds(), "events/s")
}
