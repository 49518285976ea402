package trail_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

func parsed(t testing.TB, raws ...[]byte) []trail.Event {
	t.Helper()
	var out []trail.Event
	for _, r := range raws {
		e, err := trail.ParseRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestAppendEventsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	at := mustTime(t, "2024-05-01T10:00:00Z")
	a := rec(t, "a", leaked, "ListUsers", "us-east-1", at, nil, nil)
	b := rec(t, "b", leaked, "CreateUser", "us-east-1", at.Add(time.Minute), nil, map[string]any{"userName": "x"})
	c := []byte("{\n  \"eventID\": \"c\",\n  \"eventName\": \"ListBuckets\"\n}")
	n, err := trail.AppendEventsFile(path, parsed(t, a, b))
	if err != nil || n != 2 {
		t.Fatalf("first append: %d, %v", n, err)
	}
	n, err = trail.AppendEventsFile(path, parsed(t, b, c, a))
	if err != nil || n != 1 {
		t.Fatalf("second append: %d, %v (only c is new)", n, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), data)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("line %q is not a record", l)
		}
	}
	evs, skipped, err := trail.ReadEventsFile(path)
	if err != nil || skipped != 0 || len(evs) != 3 || evs[0].EventID != "a" || evs[2].EventID != "c" {
		t.Fatalf("ReadEventsFile = %d events, %d skipped, %v", len(evs), skipped, err)
	}
	if evs[1].RequestString("userName") != "x" {
		t.Error("record changed on the way through the file")
	}
}

// TestAppendEventsFileTornLine simulates a crash in the middle of a write:
// the torn record is lost, the next append starts on a line of its own.
func TestAppendEventsFileTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	at := mustTime(t, "2024-05-01T10:00:00Z")
	a := rec(t, "a", leaked, "ListUsers", "us-east-1", at, nil, nil)
	torn := rec(t, "torn", leaked, "ListUsers", "us-east-1", at, nil, nil)
	if err := os.WriteFile(path, append(append(bytes.Clone(a), '\n'), torn[:len(torn)/2]...), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := trail.AppendEventsFile(path, parsed(t, a, torn))
	if err != nil || n != 1 {
		t.Fatalf("append: %d, %v", n, err)
	}
	evs, skipped, err := trail.ReadEventsFile(path)
	if err != nil || skipped != 0 || len(evs) != 2 || evs[1].EventID != "torn" {
		t.Fatalf("ReadEventsFile = %+v, %d skipped, %v; want the torn line cut and its record appended whole", evs, skipped, err)
	}
}

// TestEventsFileRedactsSecrets: the records a case keeps never hold a
// secret access key or a session token, whatever the API returned.
func TestEventsFileRedactsSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	raw := []byte(`{"eventVersion":"1.08","eventID":"s1","eventTime":"2024-05-01T10:00:00Z","eventSource":"sts.amazonaws.com",` +
		`"eventName":"GetSessionToken","awsRegion":"us-east-1","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAIOSFODNN7EXAMPLE"},` +
		`"responseElements":{"credentials":{"accessKeyId":"ASIAIOSFODNN7EXAMPLE","sessionToken":"IQoJb3JpZ2luX2VjEXAMPLETOKEN",` +
		`"secretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","expiration":"May 1, 2024, 10:00:00 PM"}}}`)
	if _, err := trail.AppendEventsFile(path, parsed(t, raw)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"IQoJb3JpZ2luX2VjEXAMPLETOKEN", "wJalrXUtnFEMI"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("events.jsonl holds %s:\n%s", secret, b)
		}
	}
	evs, _, err := trail.ReadEventsFile(path)
	if err != nil || len(evs) != 1 || evs[0].ResponseString("credentials", "accessKeyId") != "ASIAIOSFODNN7EXAMPLE" {
		t.Errorf("the derived key ID must survive redaction: %+v %v", evs, err)
	}
}

func TestWriteEventsDedup(t *testing.T) {
	var buf bytes.Buffer
	at := mustTime(t, "2024-05-01T10:00:00Z")
	evs := parsed(t, rec(t, "a", leaked, "X", "us-east-1", at, nil, nil), rec(t, "a", leaked, "X", "us-east-1", at, nil, nil))
	seen := map[string]bool{}
	n, err := trail.WriteEvents(&buf, evs, seen)
	if err != nil || n != 1 || !seen["a"] || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("WriteEvents = %d, %v, %q", n, err, buf.String())
	}
}
