package playbook

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/redact"
)

// Fuzz targets of the playbook: key IDs, journal lines and policy
// documents. `go test` runs their seeds as tests; `make fuzz` fuzzes each
// for a while.

// datasetValues returns, from the public data sets in trail/testdata, the
// string values at the given JSON path of each raw record.
func datasetValues(f *testing.F, path ...string) []string {
	f.Helper()
	var out []string
	for _, name := range []string{"otrf_security_datasets", "stratus_red_team", "panther_analysis"} {
		file, err := os.Open(filepath.Join("..", "trail", "testdata", name+".jsonl.gz"))
		if err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(file)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var line struct {
				Event map[string]any `json:"event"`
			}
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			var v any = line.Event
			for _, p := range path {
				m, ok := v.(map[string]any)
				if !ok {
					v = nil
					break
				}
				v = m[p]
			}
			if s, ok := v.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		file.Close()
	}
	return out
}

// keyIDShape is what ValidateKeyID accepts: AKIA or ASIA and word
// characters, 20 to 128 in all (AWS's API allows IDs of 16 to 128: the
// ones shorter than issued IDs are refused as mistyped); issuedShape is the
// form AWS issues. An ID whose upper case has the issued form but is not in
// upper case is refused: a mistyped ID, not anonymised data; so is
// anything that looks like a secret access key.
var (
	keyIDShape  = regexp.MustCompile(`^(AKIA|ASIA)[A-Za-z0-9_]{16,124}$`)
	issuedShape = regexp.MustCompile(`^(AKIA|ASIA)[A-Z2-7]{16}$`)
)

func acceptedKeyID(id string) bool {
	up := strings.ToUpper(id)
	return keyIDShape.MatchString(id) && (up == id || !issuedShape.MatchString(up)) && !redact.LooksLikeSecret(id)
}

// FuzzValidateKeyID: any input is accepted exactly when it has the shape
// of an access key ID (acceptedKeyID), is refused with one typed error otherwise, and a
// refusal never repeats a secret access key found in the input.
func FuzzValidateKeyID(f *testing.F) {
	for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", "ASIA5FLZVX4OPVKKVBMX", "", "akiaiosfodnn7example", " AKIAIOSFODNN7EXAMPLE",
		"AKIA IOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN0EXAMPLE", "AIDAIOSFODNN7EXAMPLE", "ＡＫＩＡIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLÉ", "AKIA\x00\xff"} {
		f.Add(s)
	}
	for i, s := range datasetValues(f, "userIdentity", "accessKeyId") {
		if i%10 == 0 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateKeyID(id)
		if (err == nil) != acceptedKeyID(id) {
			t.Fatalf("ValidateKeyID(%q) = %v, but the shape says %v", id, err, acceptedKeyID(id))
		}
		if err == nil {
			return
		}
		if !errors.Is(err, ErrInvalidKeyID) {
			t.Fatalf("ValidateKeyID(%q): untyped error %v", id, err)
		}
		for _, w := range strings.Fields(id) {
			if redact.LooksLikeSecret(w) && strings.Contains(err.Error(), w) {
				t.Fatalf("the refusal repeats the secret: %q", err)
			}
		}
	})
}

// FuzzJournal: any bytes in place of a journal are verified without a
// panic; a journal found intact accepts an append and stays intact, and
// agrees with its own anchor.
func FuzzJournal(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, JournalFile)
	j, err := OpenJournal(path)
	if err != nil {
		f.Fatal(err)
	}
	for i, e := range []Entry{
		{Kind: KindNote, Message: "run started for AKIAIOSFODNN7EXAMPLE"},
		{Kind: KindIntent, Step: StepContain, ActionID: "contain/UpdateAccessKey/AKIAIOSFODNN7EXAMPLE", Action: "iam:UpdateAccessKey",
			Params: map[string]string{"UserName": "ci-deploy", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "Status": "Inactive"}},
		{Kind: KindOutcome, Step: StepContain, ActionID: "contain/UpdateAccessKey/AKIAIOSFODNN7EXAMPLE", Action: "iam:UpdateAccessKey"},
		{Kind: KindReconciled, Step: StepRevokeSessions, ActionID: "revoke-sessions/PutUserPolicy/ci-deploy", Action: "iam:PutUserPolicy"},
		{Kind: KindOutcome, Step: StepDeleteKey, ActionID: "x", Error: &ErrorInfo{Code: "Throttling", Message: "slow down"}},
	} {
		e.Time = time.Date(2026, 1, 2, 15, 4, i, 0, time.UTC)
		if _, err := j.Append(e); err != nil {
			f.Fatal(err)
		}
	}
	j.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	ls := bytes.SplitAfter(good, []byte("\n"))
	f.Add(bytes.Join([][]byte{ls[0], ls[2], ls[1], ls[3]}, nil)) // swapped
	f.Add(good[:len(good)-10])                                   // cut
	f.Add(bytes.Replace(good, []byte("Inactive"), []byte("Active"), 1))
	f.Add([]byte("\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, entries, heads := verify(data)
		if len(entries) != len(heads) {
			t.Fatalf("%d entries, %d heads", len(entries), len(heads))
		}
		if !res.OK {
			if res.Line <= 0 || res.Problem == "" {
				t.Fatalf("damage without a line or a reason: %+v", res)
			}
			return
		}
		if res.Entries != len(entries) || (len(heads) > 0 && res.Head != heads[len(heads)-1]) {
			t.Fatalf("intact result %+v does not match %d entries", res, len(entries))
		}
		if a := checkAnchors(res, heads, []NamedAnchor{{Where: "test", JournalAnchor: JournalAnchor{Entries: int64(len(heads)), Head: res.Head}}}); !a.OK {
			t.Fatalf("an intact journal disagrees with its own anchor: %v", a)
		}
		p := filepath.Join(t.TempDir(), JournalFile)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := OpenJournal(p)
		if err != nil {
			t.Fatalf("an intact journal does not open: %v", err)
		}
		if _, err := j.Append(Entry{Kind: KindNote, Message: "appended"}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		if res, err := Verify(p); err != nil || !res.OK || res.Entries != len(entries)+1 {
			t.Fatalf("after an append: %v %v", res, err)
		}
	})
}

// FuzzPolicyDocument: any policy document (as IAM returns it, URL-encoded
// or not) is read without a panic; a revoke time read from one is the time
// keyleak's own policy for it says.
func FuzzPolicyDocument(f *testing.F) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f.Add(RevokePolicyDocument(t0))
	f.Add(url.QueryEscape(RevokePolicyDocument(t0)))
	f.Add(`{"Statement":{"Effect":"Deny","Condition":{"DateLessThan":{"aws:TokenIssueTime":["2026-01-02T15:04:05Z"]}}}}`)
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","s3:Get*"],"Resource":"*"},{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`)
	f.Add(`{"Statement":"x"}`)
	for i, s := range datasetValues(f, "requestParameters", "policyDocument") {
		if i%3 == 0 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		before, ok := RevokeTimeOf(doc)
		if ok {
			again, ok2 := RevokeTimeOf(RevokePolicyDocument(before))
			if !ok2 || !again.Equal(before.Truncate(time.Second)) {
				t.Fatalf("revoke time %v does not survive its own policy: %v %v", before, again, ok2)
			}
		}
		for _, s := range parseStatements(doc) {
			_ = matchAction(s.Action, "iam:CreateUser")
			_ = matchAction(s.NotAction, "s3:GetObject")
		}
	})
}
