//go:build unix

package trail_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// TestScanLogsSkipsFIFO: a named pipe among the log files would block the
// scan in open until someone writes to it; it is listed as skipped.
func TestScanLogsSkipsFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.json.gz")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	writeFile(t, filepath.Join(dir, "good.json"), recordsDoc([]json.RawMessage{
		rec(t, "good", leaked, "ListBuckets", "us-east-1", mustTime(t, "2024-05-01T10:00:00Z"), nil, nil),
	}), false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inv, err := trail.ScanLogs(ctx, trail.DirLogs(dir), leaked)
	if err != nil {
		t.Fatal(err)
	}
	var reason string
	for _, s := range inv.Coverage.Sources {
		for _, f := range s.Skipped {
			if f.Path == fifo {
				reason = f.Reason
			}
		}
	}
	if !strings.Contains(reason, "not a regular file (a named pipe)") {
		t.Errorf("the FIFO's note: %q", reason)
	}
	if len(inv.Events) != 1 || inv.Coverage.Failed() {
		t.Errorf("found %d events, coverage %s", len(inv.Events), inv.Coverage.Summary())
	}
}
