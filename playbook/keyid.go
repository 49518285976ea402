package playbook

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/keyleak/keyleak/internal/redact"
)

// ValidateKeyID checks that id is an AWS access key ID: AKIA (long-term) or
// ASIA (temporary) followed by 16 characters of the base-32 alphabet A-Z, 2-7.
// The error says in one sentence what is wrong. It never repeats the input
// when the input looks like a secret access key.
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
	if upper := strings.ToUpper(id); upper != id && ValidateKeyID(upper) == nil {
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
	// Characters, not bytes: a non-ASCII character is one character to the
	// responder who typed it.
	if n := utf8.RuneCountInString(id); n != 20 {
		return &KeyIDError{Reason: fmt.Sprintf("%s is %d characters long; an access key ID has 20", id, n)}
	}
	for _, r := range id[4:] {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return &KeyIDError{Reason: fmt.Sprintf("%s contains %q, which no access key ID has (only A-Z and 2-7 follow the prefix)", id, r)}
		}
	}
	return nil
}
