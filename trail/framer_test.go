package trail

import (
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
		f := newFramer(strings.NewReader(doc[1:]), size, 1<<20)
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
		rest, err := io.ReadAll(f.rest())
		if err != nil || strings.TrimSpace(string(rest)) != `{"after":1}` {
			t.Fatalf("size %d: rest %q, %v", size, rest, err)
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
		f := newFramer(strings.NewReader(in), 4, 1<<20)
		var err error
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
	f := newFramer(strings.NewReader(`{"a":"`+strings.Repeat("x", 100)+`"}]`), 8, 64)
	if _, err := f.next(); !errors.Is(err, errRecordTooLong) {
		t.Errorf("long record: err = %v", err)
	}
}
