package trail_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/memsample"
	"github.com/keyleak/keyleak/trail"
)

// writeBomb writes a gzip file of about a megabyte that inflates to head,
// 1 GiB of fill, then tail: gzip members of a mebibyte each, concatenated,
// which gzip readers inflate as one stream.
func writeBomb(t *testing.T, path, head string, fill byte, tail string) {
	t.Helper()
	member := func(p []byte) []byte {
		var b bytes.Buffer
		zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	mib := bytes.Repeat([]byte{fill}, 1<<20)
	body := member(mib)
	var out bytes.Buffer
	out.Write(member([]byte(head)))
	for range 1024 {
		out.Write(body)
	}
	out.Write(member([]byte(tail)))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScanLogsGzipBombMemory reads files of a megabyte that inflate to one
// gibibyte-long JSON string, in a record, in another field of the document
// and on a line, beside a good file: the scan stays under 200 MB of heap
// (sampled while it runs), names each bomb as unreadable and still finds
// the good file's event.
func TestScanLogsGzipBombMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 32 MiB of each of three bombs")
	}
	dir := t.TempDir()
	bombs := map[string][2]string{
		"record.json.gz": {`{"Records":["`, `"]}`},
		"field.json.gz":  {`{"Digest":"`, `","Records":[]}`},
		"line.jsonl.gz":  {`{"eventID":"`, `"}` + "\n"},
	}
	for name, ends := range bombs {
		writeBomb(t, filepath.Join(dir, name), ends[0], 'A', ends[1])
	}
	writeFile(t, filepath.Join(dir, "good.json.gz"), recordsDoc([]json.RawMessage{
		rec(t, "good", leaked, "ListBuckets", "us-east-1", mustTime(t, "2024-05-01T10:00:00Z"), nil, nil),
	}), true)

	runtime.GC()
	debug.FreeOSMemory()
	stop := make(chan struct{})
	peakc := memsample.PeakHeapInuse(stop)
	inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), leaked)
	close(stop)
	peak := <-peakc
	if err != nil {
		t.Fatal(err)
	}
	if peak > 200<<20 {
		t.Errorf("peak heap %d MiB, want under 200", peak>>20)
	}
	t.Logf("peak heap %d MiB", peak>>20)
	bad := map[string]string{}
	for _, s := range inv.Coverage.Sources {
		for _, f := range s.BadFiles {
			bad[filepath.Base(f.Path)] = f.Reason
		}
	}
	for name := range bombs {
		if !strings.Contains(bad[name], "longer than 32 MiB") {
			t.Errorf("%s: reason %q, want it named as too long", name, bad[name])
		}
	}
	if len(inv.Events) != 1 || !inv.Coverage.Failed() {
		t.Errorf("found %d events (want the good one), coverage failed %v", len(inv.Events), inv.Coverage.Failed())
	}
}

// endless is a log file that never ends: white space inside the Records
// array, as a bomb of blanks inflates.
type endless struct{ trail.LogSource }

func (endless) List(context.Context, trail.Window) ([]trail.LogFile, error) {
	return []trail.LogFile{{Path: "endless.json"}}, nil
}

func (endless) Open(context.Context, trail.LogFile) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(strings.NewReader(`{"Records":[`), blanks{})), nil
}

type blanks struct{}

func (blanks) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// TestScanLogsCancelDuringRead cancels a scan stuck in one endless file:
// it returns at once with the cancellation, as Ctrl-C needs.
func TestScanLogsCancelDuringRead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := trail.ScanLogs(ctx, endless{}, leaked)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want cancelled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the scan did not stop when cancelled")
	}
}

// TestScanLogsNotes: elements of Records that are not objects, and a
// record nested a million deep, are left out with a note in the coverage;
// the file's other records are read, and the coverage does not fail. A
// record of the key nested too deep to parse does fail it.
func TestScanLogsNotes(t *testing.T) {
	dir := t.TempDir()
	at := mustTime(t, "2024-05-01T10:00:00Z")
	good := string(rec(t, "good", leaked, "ListBuckets", "us-east-1", at, nil, nil))
	deep := strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000)
	writeFile(t, filepath.Join(dir, "scalars.json"), []byte(`{"Records":[1,"x",null,`+good+`]}`), false)
	writeFile(t, filepath.Join(dir, "deep.json"), []byte(`{"Records":[{"a":`+deep+`},`+good+`]}`), false)
	inv, err := trail.ScanLogs(context.Background(), trail.DirLogs(dir), leaked)
	if err != nil {
		t.Fatal(err)
	}
	notes := map[string]string{}
	for _, s := range inv.Coverage.Sources {
		for _, f := range s.Skipped {
			notes[filepath.Base(f.Path)] = f.Reason
		}
	}
	if !strings.Contains(notes["scalars.json"], "3 records left out: not a JSON object") {
		t.Errorf("scalars.json: note %q", notes["scalars.json"])
	}
	if !strings.Contains(notes["deep.json"], "1 record left out: nested deeper than") {
		t.Errorf("deep.json: note %q", notes["deep.json"])
	}
	if len(inv.Events) != 1 || inv.Coverage.Failed() {
		t.Errorf("found %d events, coverage %s", len(inv.Events), inv.Coverage.Summary())
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	deepKey := `{"userIdentity":{"accessKeyId":"` + leaked + `"},"x":` + deep + `}`
	writeFile(t, bad, []byte(`{"Records":[`+deepKey+`,`+good+`]}`), false)
	inv, err = trail.ScanLogs(context.Background(), trail.DirLogs(bad), leaked)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Coverage.Failed() || len(inv.Events) != 1 {
		t.Errorf("a record of the key nested too deep: coverage failed %v, %d events", inv.Coverage.Failed(), len(inv.Events))
	}
}
