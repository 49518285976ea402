package playbook

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// Redacted replaces secret values in the journal and the case files.
const Redacted = "[redacted]"

// sensitiveNames are field names (lower case, letters only) whose values are
// secrets wherever they appear: AWS responses, CloudTrail records, params.
var sensitiveNames = map[string]bool{
	"secret": true, "secretaccesskey": true, "secretkey": true, "sessiontoken": true,
	"password": true, "newpassword": true, "oldpassword": true, "privatekey": true,
	"keymaterial": true, "clientsecret": true,
}

// noiseNames are SDK fields that carry nothing worth keeping.
var noiseNames = map[string]bool{"ResultMetadata": true}

var (
	keyIDPattern = regexp.MustCompile(`(AKIA|ASIA)[A-Z2-7]{16}`)
	wordPattern  = regexp.MustCompile(`[A-Za-z0-9/+]+`)
)

func isSensitive(name string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return sensitiveNames[b.String()]
}

// redact returns v as plain JSON values (maps, slices, strings, numbers)
// with secret fields replaced: by name (SecretAccessKey, SessionToken,
// Password, KeyMaterial …), and 40-character secret-shaped strings that sit
// beside an access key ID. It never fails: a value that cannot be encoded is
// journaled as a note saying so.
func redact(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"unencodable": err.Error()}
	}
	var plain any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&plain); err != nil {
		return map[string]any{"unencodable": err.Error()}
	}
	if m, ok := plain.(map[string]any); ok {
		for k := range noiseNames {
			delete(m, k)
		}
	}
	out, _ := redactValue(plain)
	return out
}

// redactValue scrubs a decoded JSON value in place and reports whether it
// changed anything.
func redactValue(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		changed := false
		withKeyID := false
		for _, val := range x {
			if s, ok := val.(string); ok && keyIDPattern.MatchString(s) {
				withKeyID = true
			}
		}
		for k, val := range x {
			if isSensitive(k) {
				if _, isBool := val.(bool); !isBool && val != nil && val != "" {
					x[k] = Redacted
					changed = true
				}
				continue
			}
			if s, ok := val.(string); ok && withKeyID && looksLikeSecret(s) {
				x[k] = Redacted
				changed = true
				continue
			}
			nv, c := redactValue(val)
			x[k] = nv
			changed = changed || c
		}
		return x, changed
	case []any:
		changed := false
		for i, val := range x {
			nv, c := redactValue(val)
			x[i] = nv
			changed = changed || c
		}
		return x, changed
	case string:
		s := scrubText(x)
		return s, s != x
	}
	return v, false
}

// scrubText replaces secret-shaped words in a text that also holds an access
// key ID ("AKIA… wJalrXUtnFEMI/…" pasted together). A 40-character word alone
// is left as is: hashes and IDs have that length too.
func scrubText(s string) string {
	if !keyIDPattern.MatchString(s) {
		return s
	}
	// Whole words only: a 40-character slice of a longer word (an action ID
	// holding a key ID) is not a secret.
	return wordPattern.ReplaceAllStringFunc(s, func(w string) string {
		if looksLikeSecret(w) {
			return Redacted
		}
		return w
	})
}
