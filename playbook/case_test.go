package playbook

import (
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
	if err := c.WriteFile(EventsFile, []byte(`{"eventID":"1"}`+"\n")); err != nil {
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

func TestCaseFindings(t *testing.T) {
	empty, _ := CreateCase(t.TempDir(), testKey, t0)
	defer empty.Close()
	if err := empty.ReadFindings(&struct{}{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFindings without findings = %v, want fs.ErrNotExist", err)
	}
}
