package playbook

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/keyleak/keyleak/internal/redact"
)

// ValidateKeyID checks that id is an AWS access key ID: AKIA (long-term) or
// ASIA (temporary) followed by 16 to 124 word characters, as AWS's API
// documents the type ([\w]+, 16–128 characters). IDs that AWS issues have
// exactly 16 characters of the base-32 alphabet (A-Z, 2-7) after the
// prefix; others (anonymised data sets, exported logs) are accepted, and
// KeyIDNote says so. The error says in one sentence what is wrong. It never
// repeats the input when the input looks like a secret access key.
func ValidateKeyID(id string) error {
	if id == "" {
		return &KeyIDError{Reason: "no key given; pass the access key ID (AKIA… or ASIA…, 20 characters)"}
	}
	// Spaces around a pasted secret do not make it less of one.
	if redact.LooksLikeSecret(strings.TrimSpace(id)) {
		return &KeyIDError{Reason: "this looks like a secret access key (40 characters), not an access key ID; pass the ID that starts with AKIA or ASIA, and treat the secret as exposed: do not paste it anywhere else"}
	}
	if fields := strings.Fields(id); len(fields) > 1 {
		for _, f := range fields {
			if redact.LooksLikeSecret(f) {
				return &KeyIDError{Reason: "the input holds a secret access key next to the ID; pass only the access key ID (AKIA…), and do not paste the secret anywhere else"}
			}
		}
		return &KeyIDError{Reason: "the input contains spaces; pass the 20-character access key ID alone"}
	}
	if strings.TrimSpace(id) != id {
		return &KeyIDError{Reason: fmt.Sprintf("%q has spaces around it; pass the 20-character ID without them", id)}
	}
	if upper := strings.ToUpper(id); upper != id && issuedForm(upper) {
		return &KeyIDError{Reason: fmt.Sprintf("%q is in lower case; access key IDs are upper case: did you mean %s?", id, upper)}
	}
	for _, r := range id {
		if r >= '\uFF01' && r <= '\uFF5E' {
			// Copied from a document or typed with an East Asian input
			// method: the ID looks right but is not ASCII.
			return &KeyIDError{Reason: fmt.Sprintf("%s contains the full-width character %q; type or paste the ID in plain ASCII (half-width) characters", id, r)}
		}
	}
	switch prefix := id[:min(4, len(id))]; prefix {
	case "AKIA", "ASIA":
	case "AIDA":
		return &KeyIDError{Reason: fmt.Sprintf("%s is the unique ID of an IAM user, not an access key ID; pass the key's ID (AKIA…)", id)}
	case "AROA":
		return &KeyIDError{Reason: fmt.Sprintf("%s is the unique ID of an IAM role, not an access key ID; pass the key's ID (AKIA… or ASIA…)", id)}
	default:
		return &KeyIDError{Reason: fmt.Sprintf("%q does not start with AKIA (long-term key) or ASIA (temporary key)", id)}
	}
	for _, r := range id[4:] {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return &KeyIDError{Reason: fmt.Sprintf("%s contains %q, which no access key ID has (only letters, digits and _ follow the prefix)", id, r)}
		}
	}
	if n := utf8.RuneCountInString(id); n < 20 || n > 128 {
		return &KeyIDError{Reason: fmt.Sprintf("%s is %d characters long; an access key ID has 20 (AWS allows 16 to 128)", id, n)}
	}
	return nil
}

// issuedForm reports whether id has the form AWS issues: AKIA or ASIA and
// 16 characters of A-Z and 2-7.
func issuedForm(id string) bool {
	if len(id) != 20 || (!strings.HasPrefix(id, "AKIA") && !strings.HasPrefix(id, "ASIA")) {
		return false
	}
	for _, r := range id[4:] {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

// KeyIDNote is a one-line note for a valid key ID that AWS would not have
// issued in that form (anonymised or altered data), "" for the usual form.
func KeyIDNote(id string) string {
	if ValidateKeyID(id) != nil || issuedForm(id) {
		return ""
	}
	return fmt.Sprintf("%s is not in the form AWS issues (20 characters, A-Z and 2-7 after the prefix): anonymised data? keyleak goes on with it as given", id)
}
