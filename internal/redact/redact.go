// Package redact decides once what a secret looks like and replaces it:
// the journal's requests and responses, the CloudTrail records kept in a
// case, and free text. Access key IDs are kept (they are what the responder
// searches for); secret access keys, session tokens, passwords and private
// keys never reach a file keyleak writes.
package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// Value returns v as plain JSON values (maps, slices, strings, numbers)
// with secret fields replaced: by name (SecretAccessKey, SessionToken,
// Password, KeyMaterial …), and 40-character secret-shaped strings that sit
// beside an access key ID. It never fails: a value that cannot be encoded is
// journaled as a note saying so.
func Value(v any) any {
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
			if s, ok := val.(string); ok && withKeyID && LooksLikeSecret(s) {
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
		s := Text(x)
		return s, s != x
	}
	return v, false
}

// Text replaces secret-shaped words in a text that also holds an access
// key ID ("AKIA… wJalrXUtnFEMI/…" pasted together). A 40-character word alone
// is left as is: hashes and IDs have that length too.
func Text(s string) string {
	if !keyIDPattern.MatchString(s) {
		return s
	}
	// Whole words only: a 40-character slice of a longer word (an action ID
	// holding a key ID) is not a secret.
	return wordPattern.ReplaceAllStringFunc(s, func(w string) string {
		if LooksLikeSecret(w) {
			return Redacted
		}
		return w
	})
}

// LooksLikeSecret reports whether s has the shape of a secret access key:
// 40 characters of the base-64 alphabet with a lower-case letter, a slash or a
// plus (access key IDs have none of them).
func LooksLikeSecret(s string) bool {
	if len(s) != 40 {
		return false
	}
	var marked bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r == '/', r == '+':
			marked = true
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return false
		}
	}
	return marked
}

// Record writes the JSON record r to buf as one compact line (without the
// newline), with secret fields redacted as Value does: session tokens of
// GetSessionToken and AssumeRole responses, passwords, private keys. It is
// the one redaction every case file's records pass through.
func Record(buf *bytes.Buffer, r []byte) error {
	if !json.Valid(r) {
		return errors.New("not valid JSON")
	}
	if !mayHoldSecret(r) {
		return json.Compact(buf, r)
	}
	return recordDecoded(buf, r)
}

// recordDecoded is Record's slow path: the record decoded, walked and
// written again when redaction changed it.
func recordDecoded(buf *bytes.Buffer, r []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if nv, changed := redactValue(v); changed {
		b, err := json.Marshal(nv)
		if err != nil {
			return err
		}
		buf.Write(b)
		return nil
	}
	return json.Compact(buf, r)
}

// mayHoldSecret is a cheap pre-check before decoding a record to redact it:
// false only when redactValue would change nothing. That takes either a
// field whose name is sensitive or a 40-character secret-shaped word, so a
// record holds one of these in its raw form:
//   - a run of at least 40 bytes of the secret alphabet or a backslash (an
//     escaped character of the alphabet is \/ or \uXXXX);
//   - one of the words every sensitive name contains, in the record's
//     letters read as isSensitive reads a name: escapes decoded, lower-cased
//     rune by rune, everything but a-z left out.
//
// CloudTrail records almost all hold an access key ID, which the check used
// to take as reason enough to decode and walk every record.
func mayHoldSecret(r []byte) bool {
	run := 0
	for _, c := range r {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '+' || c == '\\' {
			if run++; run >= 40 {
				return true
			}
		} else {
			run = 0
		}
	}
	letters := make([]byte, 0, len(r))
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r) && r[i+1] == 'u':
			var rn rune
			if i+6 <= len(r) {
				if v, err := strconv.ParseUint(string(r[i+2:i+6]), 16, 32); err == nil {
					rn = rune(v)
				}
			}
			letters = appendLetter(letters, rn)
			i += 6
		case c == '\\':
			i += 2 // \" \\ \/ \b \f \n \r \t: none a letter
		case c < utf8.RuneSelf:
			letters = appendLetter(letters, rune(c))
			i++
		default:
			rn, size := utf8.DecodeRune(r[i:])
			letters = appendLetter(letters, rn)
			i += size
		}
	}
	for _, w := range sensitiveWords {
		if bytes.Contains(letters, []byte(w)) {
			return true
		}
	}
	return false
}

// sensitiveWords: every name of sensitiveNames contains one of them.
var sensitiveWords = []string{"secret", "token", "password", "privatekey", "keymaterial"}

// appendLetter appends r lower-cased when that is a letter a-z, as
// isSensitive keeps it.
func appendLetter(b []byte, r rune) []byte {
	if l := unicode.ToLower(r); l >= 'a' && l <= 'z' {
		return append(b, byte(l))
	}
	return b
}
