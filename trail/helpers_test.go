package trail_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// sample is one line of the data sets in testdata: a raw record and its
// label.
type sample struct {
	Source    string          `json:"source"`
	Label     string          `json:"label"`
	Technique string          `json:"technique"`
	Event     json.RawMessage `json:"event"`
}

// loadSamples reads testdata/<name>.jsonl.gz.
func loadSamples(t testing.TB, name string) []sample {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordInfo reads what the tests need to place a record in a log tree,
// independently of the parser under test.
type recordInfo struct {
	EventID   string `json:"eventID"`
	EventTime string `json:"eventTime"`
	Stamp     string `json:"@timestamp"`
	Region    string `json:"awsRegion"`
	Account   string `json:"recipientAccountId"`
	Identity  struct {
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
}

func info(t testing.TB, raw []byte) recordInfo {
	t.Helper()
	var ri recordInfo
	if err := json.Unmarshal(raw, &ri); err != nil {
		t.Fatal(err)
	}
	return ri
}

func (ri recordInfo) time(t testing.TB) time.Time {
	t.Helper()
	s := ri.EventTime
	if s == "" {
		s = ri.Stamp
	}
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("record %s: time %q: %v", ri.EventID, s, err)
	}
	return at
}

// layoutOpts says how writeLayout writes a log tree.
type layoutOpts struct {
	gz      bool
	perFile int    // records a file (default 25)
	org     string // "o-abc" for an organization trail
}

// writeLayout writes records as CloudTrail writes them to S3:
// AWSLogs/[org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json[.gz],
// each file a {"Records":[…]} document, records grouped by region and day.
// It returns the paths written, relative to dir, in order.
func writeLayout(t testing.TB, dir string, records []json.RawMessage, o layoutOpts) []string {
	t.Helper()
	if o.perFile == 0 {
		o.perFile = 25
	}
	type group struct {
		acct, region string
		day          time.Time
		recs         []json.RawMessage
	}
	groups := map[string]*group{}
	for _, raw := range records {
		ri := info(t, raw)
		acct := ri.Account
		if len(acct) != 12 {
			acct = "123456789012"
		}
		region := ri.Region
		if region == "" {
			region = "us-east-1"
		}
		day := ri.time(t).UTC().Truncate(24 * time.Hour)
		k := acct + "/" + region + "/" + day.Format("2006/01/02")
		g := groups[k]
		if g == nil {
			g = &group{acct: acct, region: region, day: day}
			groups[k] = g
		}
		g.recs = append(g.recs, raw)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var paths []string
	for _, k := range keys {
		g := groups[k]
		base := filepath.Join("AWSLogs", o.org, g.acct, "CloudTrail", g.region, g.day.Format("2006/01/02"))
		for i := 0; i < len(g.recs); i += o.perFile {
			chunk := g.recs[i:min(i+o.perFile, len(g.recs))]
			name := fmt.Sprintf("%s_CloudTrail_%s_%sT%02d00Z_%04d.json", g.acct, g.region, g.day.Format("20060102"), i/o.perFile%24, i/o.perFile)
			if o.gz {
				name += ".gz"
			}
			rel := filepath.Join(base, name)
			writeFile(t, filepath.Join(dir, rel), recordsDoc(chunk), o.gz)
			paths = append(paths, rel)
		}
	}
	return paths
}

// recordsDoc renders a CloudTrail log file document.
func recordsDoc(recs []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func writeFile(t testing.TB, path string, data []byte, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = b.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func events(samples []sample) []json.RawMessage {
	out := make([]json.RawMessage, len(samples))
	for i, s := range samples {
		out[i] = s.Event
	}
	return out
}

func eventIDs(evs []trail.Event) map[string]bool {
	m := map[string]bool{}
	for _, e := range evs {
		m[e.EventID] = true
	}
	return m
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}
