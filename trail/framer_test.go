package trail

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestFramerAgainstDecoder cuts arrays with tricky strings at every buffer
// size and compares each element with what json.Decoder reads.
func TestFramerAgainstDecoder(t *testing.T) {
	doc := `[ {"a":"x}],{[\"y\\\\","b":[1,{"c":"\\\\"}],"d":"\"]\""} ,` +
		`{"policy":"{\"Statement\":[{\"Effect\":\"Deny\"}]}","e":null}, "str,]}", 12.5e3 ,true,[],{},` +
		"\n" + `{"k":"AKIA\u0041","z":"},{\""}]` + ` {"after":1}`
	var want []string
	dec := json.NewDecoder(strings.NewReader(doc))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(raw))
	}
	for size := 1; size <= len(doc); size++ {
		f := newFramer(context.Background(), strings.NewReader(doc), size, 1<<20)
		if err := f.array(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			v, err := f.next()
			if err != nil {
				t.Fatalf("size %d: %v after %q", size, err, got)
			}
			if v == nil {
				break
			}
			got = append(got, string(v))
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("size %d:\n got %q\nwant %q", size, got, want)
		}
		rest, err := f.value()
		if err != nil || string(rest) != `{"after":1}` {
			t.Fatalf("size %d: rest %q, %v", size, rest, err)
		}
		if _, err := f.peek(); !errors.Is(err, io.EOF) {
			t.Fatalf("size %d: after the end: %v", size, err)
		}
	}
}

func TestFramerErrors(t *testing.T) {
	cases := map[string]string{
		"truncated record": `{"a":"b"},{"c":`,
		"truncated string": `{"a":"b\"`,
		"unclosed array":   `{"a":1}`,
		"missing comma":    `{"a":1} {"b":2}]`,
	}
	for name, in := range cases {
		f := newFramer(context.Background(), strings.NewReader("["+in), 4, 1<<20)
		err := f.array()
		for err == nil {
			var v []byte
			v, err = f.next()
			if v == nil && err == nil {
				t.Fatalf("%s: array ended without error", name)
			}
		}
		if name != "missing comma" && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: err = %v, want unexpected EOF", name, err)
		}
	}
	f := newFramer(context.Background(), strings.NewReader(`[{"a":"`+strings.Repeat("x", 100)+`"}]`), 8, 64)
	if err := f.array(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.next(); !errors.Is(err, errRecordTooLong) {
		t.Errorf("long record: err = %v", err)
	}
	// Nothing, not even white space, is buffered past the limit, and a
	// cancelled read stops.
	f = newFramer(context.Background(), strings.NewReader(`[`+strings.Repeat(" ", 1000)+`1]`), 8, 64)
	if err := f.array(); err != nil {
		t.Fatal(err)
	}
	if v, err := f.next(); err != nil || string(v) != "1" || len(f.buf) > 64 {
		t.Errorf("after white space: %q, %v, buffer %d", v, err, len(f.buf))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f = newFramer(ctx, strings.NewReader(`[1]`), 8, 64)
	if err := f.array(); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
