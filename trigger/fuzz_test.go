package trigger

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/internal/redact"
	"github.com/keyleak/keyleak/playbook"
)

// FuzzParse: any bytes in place of an event either give a Trigger whose
// keys are valid access key IDs, or one *EventError whose sentence is one
// line; neither ever holds a secret access key found in the input.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "[]", "{}", `{"detail":{}}`, `{"source":"aws.health","detail":{"eventTypeCode":"AWS_RISK_CREDENTIALS_EXPOSED"}}`,
		`{"action":"created","alert":{"secret_type":"aws_access_key_id","secret":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Parse(data)
		secrets := []string{}
		for _, w := range strings.FieldsFunc(string(data), func(r rune) bool { return r == '"' || r == ' ' || r == ',' || r == ':' }) {
			if redact.LooksLikeSecret(w) {
				secrets = append(secrets, w)
			}
		}
		if err != nil {
			var ee *EventError
			if !errors.As(err, &ee) {
				t.Fatalf("untyped error %v", err)
			}
			if strings.Contains(ee.Reason, "\n") {
				t.Fatalf("the refusal is not one line: %q", ee.Reason)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("the refusal repeats a secret: %q", err)
				}
			}
			return
		}
		for _, k := range tr.Keys {
			if playbook.ValidateKeyID(k) != nil {
				t.Fatalf("key %q is no access key ID", k)
			}
		}
		b, _ := json.Marshal(tr)
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Fatalf("the trigger keeps a secret: %s", b)
			}
		}
	})
}
