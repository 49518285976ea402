package trail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyleak/keyleak/trail"
)

// Fuzz targets of the trail package: CloudTrail records, log files and the
// case's events file. Their seeds are the public data sets in testdata
// (records of real breaches, attack detonations and hand-written rule
// tests). `go test` runs the seeds as tests; `make fuzz` fuzzes each for a
// while.

// seedRecords are raw records from every data set, at most n of each.
func seedRecords(f *testing.F, n int) []json.RawMessage {
	f.Helper()
	var out []json.RawMessage
	for _, name := range []string{"otrf_security_datasets", "stratus_red_team", "panther_analysis"} {
		for i, s := range loadSamples(f, name) {
			if i == n {
				break
			}
			out = append(out, s.Event)
		}
	}
	return out
}

// FuzzParseRecord: any bytes give a record or an error, never a panic; a
// record has a key, a summary, and reads back the same from its raw bytes.
func FuzzParseRecord(f *testing.F) {
	for _, r := range seedRecords(f, 60) {
		f.Add([]byte(r))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"eventTime":"not a time","userIdentity":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := trail.ParseRecord(data)
		if err != nil {
			return
		}
		if e.Key() == "" {
			t.Fatal("a parsed record has no key")
		}
		_ = e.Summary()
		_, _ = e.Derivation()
		_ = e.AccountID()
		again, err := trail.ParseRecord(e.Raw)
		if err != nil || again.Key() != e.Key() || !again.EventTime.Equal(e.EventTime) {
			t.Fatalf("the record does not read back from its raw bytes: %v", err)
		}
	})
}

// memLogs is a log source of one file held in memory.
type memLogs struct {
	name string
	data []byte
}

func (m memLogs) List(context.Context, trail.Window) ([]trail.LogFile, error) {
	return []trail.LogFile{{Path: m.name, Size: int64(len(m.data))}}, nil
}

func (m memLogs) Open(context.Context, trail.LogFile) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(m.data)), nil
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// FuzzScanLogs: a log file of any content, named as any of the kinds
// keyleak reads, is scanned without a panic; what cannot be read is in the
// coverage, and every event found is the key's.
func FuzzScanLogs(f *testing.F) {
	recs := seedRecords(f, 20)
	doc := recordsDoc(recs)
	var lines bytes.Buffer
	for _, r := range recs {
		lines.Write(r)
		lines.WriteByte('\n')
	}
	f.Add(uint8(0), doc)
	f.Add(uint8(1), gzipped(doc))
	f.Add(uint8(2), lines.Bytes())
	f.Add(uint8(3), gzipped(lines.Bytes()))
	f.Add(uint8(0), doc[:len(doc)/2])
	f.Add(uint8(0), []byte(`{"Records":[1,"x",null]}`))
	f.Add(uint8(1), gzipped(doc)[:40])
	names := []string{"log.json", "log.json.gz", "log.jsonl", "log.jsonl.gz"}
	const key = "ASIA5FLZVX4OPVKKVBMX" // the OTRF breach's stolen key
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		src := memLogs{name: names[int(kind)%len(names)], data: data}
		inv, err := trail.ScanLogs(context.Background(), src, key, trail.WithConcurrency(1))
		if err != nil {
			return
		}
		chain := map[string]bool{}
		for _, k := range inv.Keys {
			chain[k.AccessKeyID] = true
		}
		for _, e := range inv.Events {
			if !chain[e.UserIdentity.AccessKeyID] {
				t.Fatalf("event %s of %s, not of the key's chain", e.EventID, e.UserIdentity.AccessKeyID)
			}
		}
	})
}

// FuzzEventsFile: whatever a case's events.jsonl holds (a torn line, a
// foreign file, garbage), appending an event keeps it readable, the event
// is there once, and what was readable before still is.
func FuzzEventsFile(f *testing.F) {
	recs := seedRecords(f, 5)
	var lines bytes.Buffer
	for _, r := range recs {
		lines.Write(r)
		lines.WriteByte('\n')
	}
	f.Add(lines.Bytes())
	f.Add(lines.Bytes()[:lines.Len()-7])
	f.Add([]byte("not json\n{\"eventID\":\"x\"}"))
	f.Add([]byte{})
	newRec := []byte(`{"eventVersion":"1.08","eventID":"fuzz-new-event","eventTime":"2024-05-01T10:00:00Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","userIdentity":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`)
	added, err := trail.ParseRecord(newRec)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "events.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		before, _, err := trail.ReadEventsFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trail.AppendEventsFile(path, []trail.Event{added}); err != nil {
			t.Fatal(err)
		}
		after, _, err := trail.ReadEventsFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		keys := map[string]bool{}
		for _, e := range after {
			keys[e.Key()] = true
			if e.Key() == added.Key() {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the appended event is there %d times", n)
		}
		for _, e := range before {
			// A record on a torn last line is cut; every complete one stays.
			if !keys[e.Key()] && bytes.HasSuffix(data, []byte("\n")) {
				t.Fatalf("event %s was lost by the append", e.Key())
			}
		}
	})
}
