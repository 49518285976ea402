package playbook

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateCase(t *testing.T) {
	parent := t.TempDir()
	c, err := CreateCase(parent, testKey, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := filepath.Join(parent, "keyleak-case-AKIAIOSFODNN7EXAMPLE-20260102T150405Z")
	if c.Dir() != want {
		t.Errorf("Dir = %s, want %s", c.Dir(), want)
	}
	if err := c.SetAccount(testAccount); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Journal().Append(Entry{Kind: KindNote, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFindings(map[string]int{"events": 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile("report.md", []byte("# report\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendEvents(json.RawMessage(`{"eventID":"1"}`)); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(c.Dir())
	if st.Mode().Perm() != 0o700 {
		t.Errorf("case directory mode %v, want 0700", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(c.Dir())
	if len(ents) != 5 {
		t.Errorf("case holds %d files, want 5 (case, journal, findings, report, events)", len(ents))
	}
	for _, e := range ents {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
	var findings map[string]int
	if err := c.ReadFindings(&findings); err != nil || findings["events"] != 3 {
		t.Errorf("ReadFindings = %v %v", findings, err)
	}
	if err := c.WriteFile("../escape", nil); err == nil {
		t.Error("WriteFile accepted a name leaving the case directory")
	}
	if _, err := CreateCase(parent, "akia", t0); !errors.Is(err, ErrInvalidKeyID) {
		t.Errorf("CreateCase with a bad key = %v, want ErrInvalidKeyID", err)
	}

	// Resume: the newest case of the key is found and reopened.
	c.Close()
	if _, err := CreateCase(parent, testKey, t0.Add(-24*60*60*1e9)); err != nil {
		t.Fatal(err)
	}
	again, created, err := OpenOrCreateCase(parent, testKey, t0.Add(3600*1e9))
	if err != nil || created {
		t.Fatalf("OpenOrCreateCase = %v created %v, want the existing case", err, created)
	}
	defer again.Close()
	if again.Dir() != want || again.Meta().Account != testAccount || !again.Meta().Created.Equal(t0) {
		t.Errorf("reopened %s %+v, want %s with account and created time", again.Dir(), again.Meta(), want)
	}
	if _, err := OpenCase(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a keyleak case directory") {
		t.Errorf("OpenCase on an empty dir = %v", err)
	}
}

func TestCaseEvents(t *testing.T) {
	c, err := CreateCase(t.TempDir(), testKey, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := json.RawMessage(`{
	  "eventID": "e1", "eventName": "GetSessionToken",
	  "responseElements": {"credentials": {"accessKeyId": "ASIAIOSFODNN7EXAMPLE", "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}
	}`)
	if err := c.AppendEvents(rec, json.RawMessage(`{"eventID":"e2"}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendEvents(json.RawMessage(`{"eventID":`)); err == nil {
		t.Error("AppendEvents accepted invalid JSON")
	}
	// A crash left half a line behind; the next append cuts it off.
	f, _ := os.OpenFile(c.Path(EventsFile), os.O_WRONLY|os.O_APPEND, 0o600)
	f.WriteString(`{"eventID":"e3","even`)
	f.Close()
	var got []string
	read := func() {
		got = nil
		err := c.ReadEvents(func(r json.RawMessage) error {
			var e struct{ EventID string }
			if err := json.Unmarshal(r, &e); err != nil {
				return err
			}
			got = append(got, e.EventID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read()
	if strings.Join(got, ",") != "e1,e2" {
		t.Errorf("events before repair = %v, want e1,e2 (the partial line skipped)", got)
	}
	reopened, err := OpenCase(c.Dir())
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	if err := reopened.AppendEvents(json.RawMessage(`{"eventID":"e3"}`)); err != nil {
		t.Fatal(err)
	}
	c = reopened
	read()
	if strings.Join(got, ",") != "e1,e2,e3" {
		t.Errorf("events after repair = %v, want e1,e2,e3", got)
	}
	b, _ := os.ReadFile(c.Path(EventsFile))
	if strings.Contains(string(b), "wJalrXUtnFEMI") {
		t.Errorf("events.jsonl holds a secret access key:\n%s", b)
	}
	if strings.Count(string(b), "\n") != 3 {
		t.Errorf("events.jsonl has %d lines, want 3 compact records:\n%s", strings.Count(string(b), "\n"), b)
	}
	empty, _ := CreateCase(t.TempDir(), testKey, t0)
	defer empty.Close()
	if err := empty.ReadEvents(func(json.RawMessage) error { return errors.New("called") }); err != nil {
		t.Errorf("ReadEvents without events = %v", err)
	}
	if err := empty.ReadFindings(&struct{}{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFindings without findings = %v, want fs.ErrNotExist", err)
	}
}
