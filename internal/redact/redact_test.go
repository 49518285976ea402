package redact

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// edgeRecords hide a secret from a raw-bytes check every way JSON allows.
var edgeRecords = []string{
	`{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","note":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	`{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","note":"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY"}`,
	`{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","note":"wJalrXUtnFEMI\u002fK7MDENG\u002FbPxRfiCYEXAMPLEKEY"}`,
	`{"text":"key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here"}`,
	`{"private_key":"x"}`, `{"Private-Key":"x"}`, `{"KEY MATERIAL":"x"}`, `{"session.token":"x"}`,
	`{"pass\nword":"x"}`, `{"pass\u0077ord":"x"}`, `{"\u0050ASSWORD":"x"}`, `{"private\u212Aey":"x"}`,
	"{\"private\u212aey\":\"x\"}", `{"p\"assword":"x"}`, `{"pa\\ssword":"x"}`,
	`{"Credentials":{"AccessKeyId":"ASIAIOSFODNN7EXAMPLE","SessionToken":"FwoGZXIvYXdzE","Expiration":"2026"}}`,
	`{"a":[{"b":{"ClientSecret":"s"}}]}`, `{"secretish":true}`, `{"token":""}`, `{"token":null}`,
	`{"eventName":"GetCallerIdentity","userIdentity":{"accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`,
	`{"id":"0123456789012345678901234567890123456789"}`, `[1,2,"three"]`, `"just a string"`, `null`,
}

func TestRecordPrecheckChangesNothing(t *testing.T) {
	records := append([]string(nil), edgeRecords...)
	for _, name := range []string{"otrf_security_datasets", "panther_analysis"} {
		f, err := os.Open(filepath.Join("..", "..", "trail", "testdata", name+".jsonl.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			records = append(records, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	skipped := 0
	for _, r := range records {
		var got, want bytes.Buffer
		gerr, werr := Record(&got, []byte(r)), decodedIfValid(&want, []byte(r))
		if (gerr == nil) != (werr == nil) || got.String() != want.String() {
			t.Errorf("record %.200s\nRecord: %q (%v)\ndecoded: %q (%v)", r, got.String(), gerr, want.String(), werr)
		}
		if !mayHoldSecret([]byte(r)) {
			skipped++
		}
	}
	for _, r := range edgeRecords[:16] {
		if !mayHoldSecret([]byte(r)) {
			t.Errorf("the pre-check passes %s", r)
		}
	}
	// The check is worth having: most real records skip the decoding.
	if skipped < len(records)/2 {
		t.Errorf("the pre-check let %d of %d records skip decoding", skipped, len(records))
	}
	t.Logf("%d of %d records skip decoding", skipped, len(records))
}

func FuzzRecordPrecheck(f *testing.F) {
	for _, r := range edgeRecords {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, r []byte) {
		var got, want bytes.Buffer
		gerr, werr := Record(&got, r), decodedIfValid(&want, r)
		if !json.Valid(r) {
			return
		}
		if (gerr == nil) != (werr == nil) || got.String() != want.String() {
			t.Fatalf("record %q\nRecord: %q (%v)\ndecoded: %q (%v)", r, got.String(), gerr, want.String(), werr)
		}
	})
}

// decodedIfValid is Record without the pre-check: every valid record
// decoded and walked. Record must write exactly what it writes.
func decodedIfValid(buf *bytes.Buffer, r []byte) error {
	if !json.Valid(r) {
		return json.Compact(buf, r)
	}
	return recordDecoded(buf, r)
}
