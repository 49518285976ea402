package trail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

const otrfKey = "ASIA5FLZVX4OPVKKVBMX"

func TestScanLogsOTRF(t *testing.T) {
	samples := loadSamples(t, "otrf_security_datasets")
	label := map[string]string{}
	for _, s := range samples {
		label[info(t, s.Event).EventID] = s.Label
	}
	for _, gz := range []bool{true, false} {
		t.Run(map[bool]string{true: "gzip", false: "plain"}[gz], func(t *testing.T) {
			dir := t.TempDir()
			paths := writeLayout(t, dir, events(samples), layoutOpts{gz: gz, perFile: 7})
			if len(paths) < 10 {
				t.Fatalf("only %d files written", len(paths))
			}
			last := map[string]trail.SourceStatus{}
			inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), otrfKey,
				trail.WithWindow(mustTime(t, "2020-09-01T00:00:00Z"), mustTime(t, "2020-09-30T00:00:00Z")),
				trail.WithProgress(func(s trail.SourceStatus) { last[s.Name] = s }))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range inv.Coverage.Sources {
				if p := last[s.Name]; p.State != trail.StateOK || p.Scanned != s.Files || p.Records != s.Records {
					t.Errorf("last progress of %s = %+v, coverage %+v", s.Name, p, s)
				}
			}
			if len(inv.Events) != 11 {
				t.Fatalf("found %d events of %s, want 11", len(inv.Events), otrfKey)
			}
			for _, e := range inv.Events {
				if e.UserIdentity.AccessKeyID != otrfKey || label[e.EventID] != "malicious" {
					t.Errorf("event %s %s by %s labelled %q", e.EventID, e.EventName, e.UserIdentity.AccessKeyID, label[e.EventID])
				}
			}
			if inv.Account != "123456789123" || inv.Coverage.Failed() {
				t.Errorf("account %q, coverage %+v", inv.Account, inv.Coverage)
			}
			files, records := 0, 0
			for _, s := range inv.Coverage.Sources {
				files += s.Scanned
				records += s.Records
			}
			if files != len(paths) || records != len(samples) {
				t.Errorf("coverage counts %d files, %d records; want %d, %d", files, records, len(paths), len(samples))
			}
		})
	}
}

// TestScanLogsStratusPivot follows keys that issued credentials to the
// derived keys' events, in JSON Lines files outside the S3 layout.
func TestScanLogsStratusPivot(t *testing.T) {
	samples := loadSamples(t, "stratus_red_team")
	dir := t.TempDir()
	// Plain and gzipped JSON Lines, three files, in data set order.
	for i, part := range [][]sample{samples[:100], samples[100:200], samples[200:]} {
		var b bytes.Buffer
		for _, s := range part {
			b.Write(s.Event)
			b.WriteByte('\n')
		}
		name := []string{"a.jsonl", "b.jsonl.gz", "c.ndjson"}[i]
		writeFile(t, filepath.Join(dir, name), b.Bytes(), strings.HasSuffix(name, ".gz"))
	}
	byKey := map[string]int{}
	for _, s := range samples {
		byKey[info(t, s.Event).Identity.AccessKeyID]++
	}
	cases := []struct {
		key     string
		derived []string
	}{
		{"AKIAWOGXN38MFN92ING5", []string{"ASIA7RQR64ZW9JXKWPUO", "ASIANQQHHS551LWULIWD"}},
		{"AKIAMJ2320ZAXACWCPJI", []string{"ASIA4URVX2JM5MT0ZGK8", "ASIA74KS09ZFFBFV9E6K"}},
		{"AKIA6V1GNZTT65XQH36M", []string{"ASIASTJKC5GCM7ZE6LUP"}},
		{"AKIA30BEZSJBVKOFKZW0", []string{"AKIAL80DWDVKKM0UXEER"}},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), c.key, trail.WithConcurrency(2))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range inv.Derived() {
				got = append(got, k.AccessKeyID)
				if k.Parent != c.key || k.EventID == "" || k.EventTime.IsZero() {
					t.Errorf("link %+v", k)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, c.derived) {
				t.Errorf("derived keys %v, want %v", got, c.derived)
			}
			want := byKey[c.key]
			for _, d := range c.derived {
				want += byKey[d]
			}
			if len(inv.Events) != want {
				t.Errorf("found %d events, want %d", len(inv.Events), want)
			}
			perKey := map[string]int{}
			for _, e := range inv.Events {
				perKey[e.UserIdentity.AccessKeyID]++
			}
			for _, d := range c.derived {
				if perKey[d] != byKey[d] {
					t.Errorf("%s: %d events, want %d", d, perKey[d], byKey[d])
				}
			}
		})
	}
}

// TestScanLogsFollowUpPass puts the derived key's events in a file read
// before the file that reveals the key, so only a follow-up pass finds them.
func TestScanLogsFollowUpPass(t *testing.T) {
	dir := t.TempDir()
	day := mustTime(t, "2024-05-01T10:00:00Z")
	base := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", "2024", "05", "01")
	writeFile(t, filepath.Join(base, "a.json.gz"), recordsDoc([]json.RawMessage{
		rec(t, "use1", session, "ListBuckets", "us-east-1", day.Add(time.Hour), nil, nil),
		rec(t, "noise", other, "ListBuckets", "us-east-1", day, nil, nil),
	}), true)
	// A file read before the key was found that does not hold it is not
	// read again: its index says so.
	quiet := filepath.Join(base, "a2.json.gz")
	writeFile(t, quiet, recordsDoc([]json.RawMessage{
		rec(t, "noise2", other, "ListBuckets", "us-east-1", day.Add(time.Hour), nil, nil),
	}), true)
	writeFile(t, filepath.Join(base, "b.json.gz"), recordsDoc([]json.RawMessage{
		rec(t, "gst", leaked, "GetSessionToken", "us-east-1", day, map[string]any{"credentials": map[string]any{
			"accessKeyId": session, "expiration": "May 2, 2024, 10:00:00 AM"}}, nil),
	}), true)
	// A file of the next day holds more of the session's calls; one two
	// weeks later is outside the session's life and is not reread for it.
	writeFile(t, filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "eu-west-1", "2024", "05", "02", "c.json"),
		recordsDoc([]json.RawMessage{rec(t, "use2", session, "ListUsers", "eu-west-1", day.Add(20*time.Hour), nil, nil)}), false)
	late := filepath.Join(dir, "AWSLogs", "111122223333", "CloudTrail", "eu-west-1", "2024", "05", "15", "d.json")
	writeFile(t, late, recordsDoc([]json.RawMessage{rec(t, "late", leaked, "ListUsers", "eu-west-1", day.AddDate(0, 0, 14), nil, nil)}), false)

	src := &countingSource{LogSource: trail.DirLogs(dir)}
	inv, err := trail.ScanLogs(context.Background(), src, leaked, trail.WithConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if n := src.opened(late); n != 1 {
		t.Errorf("file outside the session's life opened %d times, want once", n)
	}
	if n := src.opened(quiet); n != 1 {
		t.Errorf("file without the key opened %d times, want once", n)
	}
	if n := src.opened(filepath.Join(base, "a.json.gz")); n != 2 {
		t.Errorf("file read before the key was known opened %d times, want twice", n)
	}
	got := eventIDs(inv.Events)
	for _, id := range []string{"use1", "gst", "use2", "late"} {
		if !got[id] {
			t.Errorf("event %s not found", id)
		}
	}
	if len(got) != 4 {
		t.Errorf("found %v", got)
	}
	if st := status(inv, "us-east-1"); st.Files != 3 || st.Scanned != 3 || st.Records != 4 || st.Events != 2 {
		t.Errorf("us-east-1 coverage = %+v", st)
	}
}

func TestScanLogsCorruptFiles(t *testing.T) {
	samples := loadSamples(t, "otrf_security_datasets")
	dir := t.TempDir()
	paths := writeLayout(t, dir, events(samples), layoutOpts{gz: true, perFile: 5})
	// Find files holding the key's events; damage two of them.
	var withKey []string
	for _, p := range paths {
		if bytes.Contains(gunzip(t, filepath.Join(dir, p)), []byte(otrfKey)) {
			withKey = append(withKey, p)
		}
	}
	if len(withKey) < 3 {
		t.Fatalf("key in %d files only", len(withKey))
	}
	truncated, garbage := filepath.Join(dir, withKey[0]), filepath.Join(dir, withKey[1])
	damaged := append(gunzip(t, truncated), gunzip(t, garbage)...)
	data, err := os.ReadFile(truncated)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(truncated, data[:len(data)-20], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte("\x1f\x8bnot really gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A plain file cut in the middle of its third record keeps the first two.
	cut := filepath.Join(dir, "extra", "cut.json")
	extra := []json.RawMessage{
		rec(t, "keep1", otrfKey, "ListBuckets", "us-east-1", mustTime(t, "2020-09-14T01:00:00Z"), nil, nil),
		rec(t, "keep2", otrfKey, "ListBuckets", "us-east-1", mustTime(t, "2020-09-14T01:01:00Z"), nil, nil),
		rec(t, "lost", otrfKey, "ListBuckets", "us-east-1", mustTime(t, "2020-09-14T01:02:00Z"), nil, nil),
	}
	doc := recordsDoc(extra)
	writeFile(t, cut, doc[:len(doc)-40], false)
	bigCut := filepath.Join(dir, "extra", "big.json.gz")
	var big []json.RawMessage
	at := mustTime(t, "2020-09-14T02:00:00Z")
	big = append(big, rec(t, "bigkeep", otrfKey, "ListBuckets", "us-east-1", at, nil, nil))
	for i := range 3000 {
		big = append(big, rec(t, fmt.Sprintf("noise-%d-%x", i, i*7919), other, "ListBuckets", "us-east-1", at.Add(time.Duration(i)*time.Second), nil, nil))
	}
	big = append(big, rec(t, "biglost", otrfKey, "ListBuckets", "us-east-1", at, nil, nil))
	writeFile(t, bigCut, recordsDoc(big), true)
	bigData := mustRead(t, bigCut)
	if err := os.WriteFile(bigCut, bigData[:len(bigData)/2], 0o644); err != nil {
		t.Fatal(err)
	}

	inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), otrfKey)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]string{}
	for _, s := range inv.Coverage.Sources {
		for _, f := range s.BadFiles {
			bad[f.Path] = f.Reason
		}
		if len(s.BadFiles) > 0 && s.State != trail.StateError {
			t.Errorf("set %s with bad files in state %s", s.Name, s.State)
		}
	}
	if len(bad) != 4 || bad[truncated] == "" || bad[garbage] == "" || bad[cut] == "" || bad[bigCut] == "" {
		t.Fatalf("bad files = %v", bad)
	}
	if !inv.Coverage.Failed() {
		t.Error("coverage does not fail")
	}
	got := eventIDs(inv.Events)
	if !got["keep1"] || !got["keep2"] || got["lost"] {
		t.Errorf("events of the cut file: %v", got)
	}
	// Every event of the key outside the damaged files is still found, and
	// so is every one the truncated file holds whole before its cut.
	before := gunzipLoose(truncated)
	for _, s := range samples {
		ri := info(t, s.Event)
		if ri.Identity.AccessKeyID != otrfKey {
			continue
		}
		switch {
		case bytes.Contains(before, s.Event):
			if !got[ri.EventID] {
				t.Errorf("event %s before the truncation lost", ri.EventID)
			}
		case !bytes.Contains(damaged, []byte(ri.EventID)) && !got[ri.EventID]:
			t.Errorf("event %s lost", ri.EventID)
		}
	}
	// A large gzip file cut in the middle keeps the events it holds before
	// the cut.
	if !got["bigkeep"] || got["biglost"] {
		t.Errorf("events of the cut gzip file: bigkeep %v, biglost %v", got["bigkeep"], got["biglost"])
	}
}

func TestScanLogsDedupAcrossFiles(t *testing.T) {
	samples := loadSamples(t, "otrf_security_datasets")
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "one"), events(samples), layoutOpts{gz: true, perFile: 9})
	writeLayout(t, filepath.Join(dir, "two"), events(samples[40:]), layoutOpts{gz: false, perFile: 4})
	var b bytes.Buffer
	for _, s := range samples[:60] {
		b.Write(s.Event)
		b.WriteByte('\n')
	}
	writeFile(t, filepath.Join(dir, "export.jsonl.gz"), b.Bytes(), true)
	inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), otrfKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Events) != 11 || len(eventIDs(inv.Events)) != 11 {
		t.Errorf("found %d events, want 11 distinct", len(inv.Events))
	}
	total := 0
	for _, s := range inv.Coverage.Sources {
		total += s.Events
	}
	if total != 11 {
		t.Errorf("coverage counts %d events, want 11", total)
	}
}

func TestScanLogsPrunesByPathDate(t *testing.T) {
	dir := t.TempDir()
	var recs []json.RawMessage
	start := mustTime(t, "2024-03-01T12:00:00Z")
	for d := range 30 {
		recs = append(recs, rec(t, "e"+time.Duration(d).String(), leaked, "ListUsers", "us-east-1", start.AddDate(0, 0, d), nil, nil))
	}
	writeLayout(t, dir, recs, layoutOpts{gz: true})
	src := &countingSource{LogSource: trail.DirLogs(dir)}
	since, until := mustTime(t, "2024-03-10T00:00:00Z"), mustTime(t, "2024-03-12T23:00:00Z")
	inv, err := trail.ScanLogs(context.Background(), src, leaked, trail.WithWindow(since, until))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Events) != 3 {
		t.Errorf("found %d events in the window, want 3", len(inv.Events))
	}
	// Days 10, 11, 12 and 13 (delivery may lag into the next day).
	if n := src.total(); n != 4 {
		t.Errorf("opened %d files, want 4", n)
	}
	if !inv.Window.Since.Equal(since) || !inv.Window.Until.Equal(until) {
		t.Errorf("window = %+v", inv.Window)
	}
}

func TestScanLogsS3(t *testing.T) {
	samples := loadSamples(t, "otrf_security_datasets")
	dir := t.TempDir()
	paths := writeLayout(t, dir, events(samples), layoutOpts{gz: true, perFile: 6, org: "o-abc123"})
	bucket := trailtest.NewS3("trail-bucket")
	bucket.MaxKeys = 3 // force pagination
	for _, p := range paths {
		bucket.Put("logs/"+filepath.ToSlash(p), mustRead(t, filepath.Join(dir, p)))
	}
	bucket.Put("logs/AWSLogs/o-abc123/123456789123/CloudTrail-Digest/us-east-1/2020/09/14/digest.json.gz", []byte("not read"))
	bucket.Fail["logs/"+filepath.ToSlash(paths[0])] = errors.New("access denied")
	src, err := trail.NewS3Logs(bucket, "s3://trail-bucket/logs")
	if err != nil {
		t.Fatal(err)
	}
	window := trail.WithWindow(mustTime(t, "2020-09-10T00:00:00Z"), mustTime(t, "2020-09-20T00:00:00Z"))
	inv, err := trail.ScanLogs(context.Background(), src, otrfKey, window)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), otrfKey, window)
	if err != nil {
		t.Fatal(err)
	}
	// The failed object's events are the only difference.
	failed := gunzip(t, filepath.Join(dir, paths[0]))
	missing := 0
	for _, e := range ref.Events {
		if !eventIDs(inv.Events)[e.EventID] {
			missing++
			if !bytes.Contains(failed, []byte(e.EventID)) {
				t.Errorf("event %s lost", e.EventID)
			}
		}
	}
	if len(inv.Events)+missing != len(ref.Events) || len(ref.Events) != 11 {
		t.Errorf("s3 found %d (+%d in the failed object), directory %d", len(inv.Events), missing, len(ref.Events))
	}
	if !inv.Coverage.Failed() {
		t.Error("failed GetObject not in coverage")
	}
	if bucket.Gets() != len(paths) {
		t.Errorf("%d GetObject calls, want %d (one per file, digests skipped)", bucket.Gets(), len(paths))
	}
	// Regions are listed by day prefixes within the window: 12 days (the
	// window and the day after) per region, each one page here, plus the
	// levels above.
	regions := map[string]bool{}
	for _, p := range paths {
		regions[strings.Split(filepath.ToSlash(p), "/")[4]] = true
	}
	if max := 5 + len(regions)*(1+12) + len(paths); bucket.Lists() > max {
		t.Errorf("%d ListObjectsV2 calls, want at most %d", bucket.Lists(), max)
	}
	if _, err := trail.NewS3Logs(bucket, "/local/path"); err == nil {
		t.Error("non-s3 location accepted")
	}
}

func TestScanLogsNoFiles(t *testing.T) {
	_, err := trail.ScanLogs(context.Background(), trail.DirLogs(t.TempDir()), leaked)
	if !errors.Is(err, trail.ErrNoLogFiles) {
		t.Errorf("err = %v, want ErrNoLogFiles", err)
	}
	_, err = trail.ScanLogs(context.Background(), trail.DirLogs(filepath.Join(t.TempDir(), "missing")), leaked)
	if err == nil {
		t.Error("missing directory accepted")
	}
}

func TestScanLogsCancel(t *testing.T) {
	// Enough files that a scan which ignored the cancellation would open
	// far more than the few in flight; more only cost time to write.
	samples := loadSamples(t, "stratus_red_team")[:90]
	dir := t.TempDir()
	if files := writeLayout(t, dir, events(samples), layoutOpts{gz: true, perFile: 3}); len(files) < 30 {
		t.Fatalf("%d log files; the test needs at least 30", len(files))
	}
	ctx, cancel := context.WithCancel(context.Background())
	src := &countingSource{LogSource: trail.DirLogs(dir), after: 5, hook: cancel}
	inv, err := trail.ScanLogs(ctx, src, "AKIAW9X2Q2U25SK79UCX", trail.WithConcurrency(1))
	if !errors.Is(err, context.Canceled) || inv == nil || !inv.Coverage.Failed() {
		t.Fatalf("err = %v, inv = %v", err, inv)
	}
	if n := src.total(); n > 6 {
		t.Errorf("%d files opened after cancellation", n)
	}
}

// countingSource counts Open calls per path; after that many opens it calls
// hook once.
type countingSource struct {
	trail.LogSource
	mu    sync.Mutex
	opens map[string]int
	after int
	hook  func()
}

func (c *countingSource) Open(ctx context.Context, f trail.LogFile) (io.ReadCloser, error) {
	c.mu.Lock()
	if c.opens == nil {
		c.opens = map[string]int{}
	}
	c.opens[f.Path]++
	if c.hook != nil && c.totalLocked() == c.after {
		c.hook()
	}
	c.mu.Unlock()
	return c.LogSource.Open(ctx, f)
}

func (c *countingSource) opened(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens[path]
}

func (c *countingSource) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.totalLocked()
}

func (c *countingSource) totalLocked() int {
	n := 0
	for _, v := range c.opens {
		n += v
	}
	return n
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t testing.TB, path string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(mustRead(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gunzipLoose returns what can be decompressed of a damaged file.
func gunzipLoose(path string) []byte {
	data, _ := os.ReadFile(path)
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(zr)
	return b
}
