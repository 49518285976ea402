package report

import "bytes"

// Masked replaces every secret Mask finds.
const Masked = "****"

// sessionTokenPrefixes are the base64 openings of STS session tokens: the
// current format (IQoJb3JpZ2lu…, "\x02\n\torigin") and the older ones
// (FwoGZXIvYXdzE…, FQoGZXIvYXdzE…, AQoDYXdzE…).
var sessionTokenPrefixes = []string{"IQoJb3JpZ2lu", "FwoGZXIvYXdzE", "FQoGZXIvYXdzE", "AQoDYXdzE"}

// Mask replaces session tokens and secret access keys in s by "****".
//
// A session token is a run of base64 starting with one of the known token
// openings (URL-encoded tokens included). A secret access key is a run of
// exactly 40 base64 characters (A–Z, a–z, 0–9, + and /) that mixes upper
// and lower case and is not followed by base64 padding; requiring both
// cases keeps 40-digit hex digests (git commit IDs) readable while missing
// a real secret only with odds of about one in a billion. Access key IDs
// (20 characters) are left whole.
func Mask(s string) string {
	if !maybeSecret(s) {
		return s
	}
	return string(mask([]byte(s), false))
}

// MaskJSON masks raw JSON text the same way, without breaking escape
// sequences: the character after a backslash is not taken for the start of
// a secret.
func MaskJSON(b []byte) []byte {
	if !maybeSecret(b) {
		return b
	}
	return mask(b, true)
}

// maybeSecret is a cheap first look: a text without a run of 40 base64
// characters or a token opening holds nothing to mask, so most cells skip
// the copy.
func maybeSecret[T string | []byte](s T) bool {
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		if j-i >= 40 {
			return true
		}
		for _, p := range sessionTokenPrefixes {
			if j-i >= len(p) && string(s[i:i+len(p)]) == p {
				return true
			}
		}
		i = j
	}
	return false
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// isTokenChar also admits '%' and '=' so that a URL-encoded token
// (IQoJb3JpZ2luX2Vj%2F%2F…%3D) is masked whole.
func isTokenChar(c byte) bool { return isB64(c) || c == '%' || c == '=' }

func mask(b []byte, jsonText bool) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	i := 0
	for i < len(b) {
		if !isB64(b[i]) {
			out.WriteByte(b[i])
			i++
			continue
		}
		start := i
		// In JSON text the characters after an odd number of backslashes
		// belong to an escape (\n, \uXXXX), not to the value.
		if jsonText && escaped(b, i) {
			skip := 1
			if b[i] == 'u' {
				skip = 5
			}
			for k := 0; k < skip && i < len(b) && isB64(b[i]); k++ {
				i++
			}
			out.Write(b[start:i])
			continue
		}
		if tokenAt(b[i:]) {
			j := i
			for j < len(b) && isTokenChar(b[j]) {
				j++
			}
			out.WriteString(Masked)
			i = j
			continue
		}
		j := i
		for j < len(b) && isB64(b[j]) {
			j++
		}
		if j-i == 40 && (j == len(b) || b[j] != '=') && mixedCase(b[i:j]) {
			out.WriteString(Masked)
		} else {
			out.Write(b[i:j])
		}
		i = j
	}
	return out.Bytes()
}

func escaped(b []byte, i int) bool {
	n := 0
	for k := i - 1; k >= 0 && b[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

func tokenAt(b []byte) bool {
	for _, p := range sessionTokenPrefixes {
		if bytes.HasPrefix(b, []byte(p)) {
			return true
		}
	}
	return false
}

func mixedCase(b []byte) bool {
	upper, lower := false, false
	for _, c := range b {
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
	}
	return upper && lower
}
