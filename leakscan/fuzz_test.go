package leakscan

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets of the leak scan's readers of git's output: object
// contents (scanned whole or in chunks), the cat-file batch stream and the
// raw log. `go test` runs their seeds as tests; `make fuzz` fuzzes each for
// a while.

const (
	fuzzID     = "AKIAIOSFODNN7EXAMPLE"
	fuzzSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func hitKeys(hs []objHit) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, fmt.Sprintf("%s %s line %d near %s", h.Kind, h.Value, h.Line, h.Near))
	}
	slices.Sort(out)
	return out
}

// FuzzObjectScan: an object scanned in chunks (a large blob) gives exactly
// the hits, lines and binary flag of the same object scanned whole.
func FuzzObjectScan(f *testing.F) {
	env := "AWS_ACCESS_KEY_ID=" + fuzzID + "\nAWS_SECRET_ACCESS_KEY=" + fuzzSecret + "\n"
	f.Add([]byte(env))
	f.Add([]byte(strings.Repeat("filler line\n", 300) + env + strings.Repeat("x", 2000) + "\n" + env))
	f.Add([]byte("[default]\naws_access_key_id = " + fuzzID + "\n" + strings.Repeat(" ", 1900) + "aws_secret_access_key = " + fuzzSecret))
	f.Add(append([]byte("\x00binary"), []byte(env)...))
	// Past the smallest chunk, with the key and secret across a boundary.
	f.Add([]byte(strings.Repeat("a", 7990) + env + strings.Repeat("b\n", 4000) + env))
	f.Fuzz(func(t *testing.T, data []byte) {
		whole, wb, err := newStreamScanner(len(data)+1).scan(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		chunked, cb, err := newStreamScanner(0).scan(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if wb != cb || !slices.Equal(hitKeys(whole), hitKeys(chunked)) {
			t.Fatalf("whole (binary %v):\n%s\nchunked (binary %v):\n%s", wb, strings.Join(hitKeys(whole), "\n"), cb, strings.Join(hitKeys(chunked), "\n"))
		}
		for _, h := range whole {
			if strings.Contains(h.Value, fuzzSecret) {
				t.Fatalf("a hit holds the secret itself: %q", h.Value)
			}
		}
	})
}

// FuzzReadBatch: any stream in place of git cat-file --batch output is
// read without a panic and never makes a read of a size git did not give.
func FuzzReadBatch(f *testing.F) {
	blob := "AWS_ACCESS_KEY_ID=" + fuzzID + "\n"
	f.Add([]byte(fmt.Sprintf("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 blob %d\n%s\n", len(blob), blob)))
	f.Add([]byte("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 missing\n"))
	f.Add([]byte("abc commit 10\ntree x\n\n\n"))
	f.Add([]byte("abc blob -5\nxxxxx\n"))
	f.Add([]byte("abc blob 999999999999\nx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss := newStreamScanner(4096)
		_ = readBatch(bufio.NewReader(bytes.NewReader(data)), ss, func(oid, typ string, size int64, hits []objHit, binary bool) error {
			if size < 0 || size > int64(len(data)) {
				t.Fatalf("object %s of size %d read from %d bytes", oid, size, len(data))
			}
			return nil
		})
	})
}

// FuzzParseRawLog: any text in place of git log --raw output is read
// without a panic; every introduction it reports is of a wanted blob.
func FuzzParseRawLog(f *testing.F) {
	blob := "0123456789abcdef0123456789abcdef01234567"
	f.Add([]byte("\x01c0ffee\x00Dev <dev@example.com>\x002024-05-01T10:00:00+00:00\x00add config\n:000000 100644 0000000 " + blob + " A\tconfig/.env\n"))
	f.Add([]byte(":100644 100644 aaa " + blob + " M\t\"sp\\303\\251cial \\\"name\\\"\"\n"))
	f.Add([]byte("\x01short\n:1 2\tx\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := map[string]bool{blob: true}
		out := map[string][]introduction{}
		if err := parseRawLog(bufio.NewReader(bytes.NewReader(data)), want, out, map[string]bool{}); err != nil {
			t.Fatal(err)
		}
		for b := range out {
			if !want[b] {
				t.Fatalf("introduction of unwanted blob %q", b)
			}
		}
	})
}
