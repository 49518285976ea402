package playbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// writeJournal writes n note entries and returns the path.
func writeJournal(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := j.Append(Entry{Time: t0, Kind: KindNote, Message: fmt.Sprintf("note %d for ci-deploy", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

func rewrite(t *testing.T, path string, ls [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(ls, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestJournalChainIntact(t *testing.T) {
	path := writeJournal(t, 5)
	res, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Entries != 5 || res.Line != 0 {
		t.Fatalf("Verify = %+v, want OK with 5 entries", res)
	}
	entries, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Prev != GenesisHash || GenesisHash != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("first entry prev = %s, want the SHA-256 of the empty string", entries[0].Prev)
	}
	if !strings.HasPrefix(res.String(), "journal intact: 5 entries") {
		t.Errorf("String() = %q", res.String())
	}
	// Reopening continues the chain.
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	e, err := j.Append(Entry{Kind: KindNote, Message: "after reopen"})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if e.Seq != 6 || e.Prev != res.Head {
		t.Errorf("appended entry seq %d prev %s, want 6 and %s", e.Seq, e.Prev, res.Head)
	}
}

func TestJournalTamper(t *testing.T) {
	cases := []struct {
		name     string
		tamper   func(ls [][]byte) [][]byte
		wantLine int
		want     string
	}{
		{
			name: "edit a byte",
			tamper: func(ls [][]byte) [][]byte {
				ls[2] = bytes.Replace(ls[2], []byte("ci-deploy"), []byte("ci-deplox"), 1)
				return ls
			},
			wantLine: 3,
			want:     "line 3 was changed after it was written: its hash no longer matches the one line 4 recorded",
		},
		{
			name:     "delete a line",
			tamper:   func(ls [][]byte) [][]byte { return append(ls[:2:2], ls[3:]...) },
			wantLine: 3,
			want:     "line 3 is entry 4 but entry 3 was expected: 1 entry between line 2 and line 3 was deleted",
		},
		{
			name:     "delete two lines",
			tamper:   func(ls [][]byte) [][]byte { return append(ls[:1:1], ls[3:]...) },
			wantLine: 2,
			want:     "2 entries between line 1 and line 2 were deleted",
		},
		{
			name:     "delete the first line",
			tamper:   func(ls [][]byte) [][]byte { return ls[1:] },
			wantLine: 1,
			want:     "line 1 is entry 2: the first 1 entries were deleted",
		},
		{
			name: "swap two lines",
			tamper: func(ls [][]byte) [][]byte {
				ls[1], ls[2] = ls[2], ls[1]
				return ls
			},
			wantLine: 2,
			// Moved, not deleted: entry 2 is further down.
			want: "line 2 is entry 3 but entry 2 was expected, and entry 2 comes later: lines were reordered",
		},
		{
			name: "truncate mid-line",
			tamper: func(ls [][]byte) [][]byte {
				last := len(ls) - 2 // SplitAfter leaves an empty piece at the end
				ls[last] = ls[last][:len(ls[last])/2]
				return ls[:last+1]
			},
			wantLine: 5,
			want:     "the journal ends in the middle of line 5 (no final newline): it was cut short",
		},
		{
			name: "garbage line",
			tamper: func(ls [][]byte) [][]byte {
				ls[1] = []byte("{not json\n")
				return ls
			},
			wantLine: 2,
			want:     "line 2 is not a journal entry (not valid JSON)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeJournal(t, 5)
			rewrite(t, path, c.tamper(lines(t, path)))
			res, err := Verify(path)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK {
				t.Fatalf("Verify after %s = OK, want damage found", c.name)
			}
			if res.Line != c.wantLine || !strings.Contains(res.Problem, c.want) {
				t.Errorf("Verify = line %d %q, want line %d containing %q", res.Line, res.Problem, c.wantLine, c.want)
			}
			// A damaged journal is never appended to.
			_, err = OpenJournal(path)
			var je *JournalError
			if !errors.As(err, &je) || je.Result.Line != c.wantLine {
				t.Errorf("OpenJournal on damaged journal = %v, want *JournalError at line %d", err, c.wantLine)
			}
		})
	}
}

func TestJournalConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 8, 10
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := j.Append(Entry{Kind: KindNote, Message: fmt.Sprintf("g%d-%d", g, i)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	j.Close()
	res, err := Verify(path)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Entries != goroutines*each {
		t.Fatalf("Verify after concurrent appends = %+v", res)
	}
}

func TestJournalRedactsSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	type creds struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	_, err = j.Append(Entry{Kind: KindOutcome, Action: "sts:GetSessionToken",
		Response: map[string]any{"Credentials": creds{"ASIAIOSFODNN7EXAMPLE", secret, "FwoGZXIvYXdzEXAMPLETOKEN", "2026-01-02T16:00:00Z"}},
		Request:  map[string]any{"Note": "key", "Id": "AKIAIOSFODNN7EXAMPLE", "Value": secret, "Digest": "0123456789abcdef0123456789abcdef01234567"},
		Message:  "pasted: AKIAIOSFODNN7EXAMPLE:" + secret + " in contain/UpdateAccessKey/AKIAIOSFODNN7EXAMPLE",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = j.Append(Entry{Kind: KindNote, Message: "commit 0123456789abcdef0123456789abcdef01234567 pushed"})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	b, _ := os.ReadFile(path)
	s := string(b)
	for _, leak := range []string{secret, "FwoGZXIvYXdzEXAMPLETOKEN", "ResultMetadata"} {
		if strings.Contains(s, leak) {
			t.Errorf("journal contains %q:\n%s", leak, s)
		}
	}
	for _, keep := range []string{"ASIAIOSFODNN7EXAMPLE", "2026-01-02T16:00:00Z", "commit 0123456789abcdef0123456789abcdef01234567", "in contain/UpdateAccessKey/AKIAIOSFODNN7EXAMPLE"} {
		if !strings.Contains(s, keep) {
			t.Errorf("journal lost %q:\n%s", keep, s)
		}
	}
	if res, _ := Verify(path); !res.OK {
		t.Errorf("redacted journal does not verify: %v", res)
	}
}

// rechain rewrites the journal's lines with every previous-entry hash
// recomputed, as someone covering an edit would.
func rechain(t *testing.T, ls [][]byte) [][]byte {
	t.Helper()
	prev := GenesisHash
	var out [][]byte
	for _, l := range ls {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		e.Seq, e.Prev = int64(len(out)+1), prev
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		prev = hashLine(b)
		out = append(out, append(b, '\n'))
	}
	return out
}

// TestJournalAnchor: the chain alone passes a journal deleted, emptied, cut
// before a line, shortened at its end or rewritten with every hash
// recomputed. case.json's anchor (the length and head after every append)
// shows each; the case refuses to open on such a journal, so a resume can
// never start from a blank record.
func TestJournalAnchor(t *testing.T) {
	contained := func(t *testing.T) *Case {
		t.Helper()
		c := newCase(t)
		if _, err := newRunner(c, newFake()).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c
	}
	lineOf := func(t *testing.T, ls [][]byte, action string) int {
		for i, l := range ls {
			if bytes.Contains(l, []byte(`"kind":"intent"`)) && bytes.Contains(l, []byte(action)) {
				return i
			}
		}
		t.Fatalf("no intent of %s in the journal", action)
		return 0
	}
	cases := []struct {
		name   string
		tamper func(t *testing.T, path string)
		want   string
	}{
		{"deleted", func(t *testing.T, path string) { os.Remove(path) }, "missing or empty, but case.json records"},
		{"emptied", func(t *testing.T, path string) { rewrite(t, path, nil) }, "missing or empty, but case.json records"},
		{"cut before UpdateAccessKey", func(t *testing.T, path string) {
			ls := lines(t, path)
			rewrite(t, path, ls[:lineOf(t, ls, "iam:UpdateAccessKey")])
		}, "were deleted or cut off"},
		{"last line deleted", func(t *testing.T, path string) {
			ls := lines(t, path)
			rewrite(t, path, ls[:len(ls)-2])
		}, "the last 1 was deleted or cut off"},
		{"edited and re-chained", func(t *testing.T, path string) {
			ls := lines(t, path)
			i := lineOf(t, ls, "iam:UpdateAccessKey")
			ls[i] = bytes.Replace(ls[i], []byte("Inactive"), []byte("Active"), 1)
			rewrite(t, path, rechain(t, ls))
		}, "the journal was rewritten up to there, hashes and all"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := contained(t)
			path := c.Journal().Path()
			c.Close()
			if res, err := Verify(path); tc.name != "deleted" && (err != nil || !res.OK) {
				t.Fatalf("the chain alone should pass this tampering: %v %v", res, err)
			}
			tc.tamper(t, path)
			res, err := VerifyCase(c.Dir())
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || !strings.Contains(res.Problem, tc.want) {
				t.Errorf("VerifyCase = %v, want damage containing %q", res, tc.want)
			}
			_, err = OpenCase(c.Dir())
			var je *JournalError
			if !errors.As(err, &je) {
				t.Errorf("OpenCase = %v, want *JournalError", err)
			}
			if _, statErr := os.Stat(path); tc.name == "deleted" && statErr == nil {
				t.Error("opening the case made a fresh journal in place of the deleted one")
			}
		})
	}
	t.Run("intact", func(t *testing.T) {
		c := contained(t)
		n := c.Journal().Anchor().Entries
		c.Close()
		res, err := VerifyCase(c.Dir())
		if err != nil || !res.OK || len(res.Anchors) != 1 || !strings.Contains(res.String(), fmt.Sprintf("agrees with case.json at entry %d", n)) {
			t.Errorf("VerifyCase = %v, %v", res, err)
		}
		// A crash between the journal's append and case.json's leaves the
		// journal one entry ahead: that is not damage.
		ls := lines(t, c.Journal().Path())
		meta, err := readMeta(c.Dir())
		if err != nil {
			t.Fatal(err)
		}
		meta.Journal = &JournalAnchor{Entries: n - 1, Head: hashLine(bytes.TrimSuffix(ls[n-2], []byte("\n")))}
		b, _ := json.Marshal(meta)
		if err := os.WriteFile(c.Path(CaseFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := OpenCase(c.Dir())
		if err != nil {
			t.Fatalf("OpenCase with the journal one entry ahead of case.json: %v", err)
		}
		r.Close()
	})
}
