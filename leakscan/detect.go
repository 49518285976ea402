package leakscan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
)

// Kinds of credential or identifier a scan finds.
const (
	KindAccessKey = "access-key"        // AKIA: long-term access key ID of a user or the root user
	KindTempKey   = "temporary-key"     // ASIA: access key ID of STS session credentials
	KindSecret    = "secret-access-key" // 40-character secret next to AWS context
	KindBearer    = "bearer-token-id"   // ABIA: STS service bearer token
	KindContext   = "context-credential"
	KindGroup     = "group-id"
	KindUser      = "user-id"
	KindInstance  = "instance-profile-id"
	KindPolicy    = "managed-policy-id"
	KindPolicyVer = "policy-version-id"
	KindPublicKey = "public-key-id"
	KindRole      = "role-id"
	KindCert      = "certificate-id"
)

// idPrefixes maps the four-letter prefixes of AWS unique IDs to their kind.
// Only AKIA and ASIA (and the secret) grant access; the others name users,
// roles, policies… and tell an attacker what to aim at, so they are listed
// too, marked as identifiers.
var idPrefixes = map[string]string{
	"AKIA": KindAccessKey, "ASIA": KindTempKey, "ABIA": KindBearer, "ACCA": KindContext,
	"AGPA": KindGroup, "AIDA": KindUser, "AIPA": KindInstance, "ANPA": KindPolicy,
	"ANVA": KindPolicyVer, "APKA": KindPublicKey, "AROA": KindRole, "ASCA": KindCert,
}

// IsCredential reports whether a kind grants access (as opposed to naming a
// principal or policy).
func IsCredential(kind string) bool {
	return kind == KindAccessKey || kind == KindTempKey || kind == KindSecret || kind == KindBearer || kind == KindContext
}

// hit is one match in a buffer.
type hit struct {
	Kind   string
	Value  string // the ID, or the masked secret (never the secret itself)
	Offset int    // byte offset in the buffer
	Near   string // for secrets: the access key ID closest to it, if any
}

// contextWindow is how far from an access key ID or a "secret" keyword a
// 40-character string may sit to count as a secret access key. Config files,
// .env files, code and JSON put the two within a few lines of each other.
const contextWindow = 400

func isBase32Upper(b byte) bool { return b >= 'A' && b <= 'Z' || b >= '2' && b <= '7' }

func isAlnum(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

func isSecretByte(b byte) bool { return isAlnum(b) || b == '/' || b == '+' }

// findIDs returns the AWS IDs in buf: a known prefix and 16 characters of
// the base-32 alphabet, not part of a longer word.
func findIDs(buf []byte) []hit {
	var out []hit
	for i := 0; ; {
		j := bytes.IndexByte(buf[i:], 'A')
		if j < 0 {
			return out
		}
		p := i + j
		i = p + 1
		if p+20 > len(buf) {
			return out
		}
		kind, ok := idPrefixes[string(buf[p:p+4])]
		if !ok || (p > 0 && isAlnum(buf[p-1])) || (p+20 < len(buf) && isAlnum(buf[p+20])) {
			continue
		}
		valid := true
		for _, b := range buf[p+4 : p+20] {
			if !isBase32Upper(b) {
				valid = false
				break
			}
		}
		if valid {
			out = append(out, hit{Kind: kind, Value: string(buf[p : p+20]), Offset: p})
			i = p + 20
		}
	}
}

// secretKeywords mark AWS secret context in any case spelling; "ecret"
// covers secret, Secret, SECRET is found by its own entry.
var secretKeywords = [][]byte{[]byte("ecret"), []byte("ECRET")}

// findSecrets returns the secret-access-key-shaped strings of buf that sit
// within contextWindow bytes of an access key ID or a "secret" keyword. ids
// are buf's IDs from findIDs. Secrets are returned masked.
func findSecrets(buf []byte, ids []hit) []hit {
	type span struct{ from, to int }
	var anchors []span
	var keys []hit
	for _, h := range ids {
		if h.Kind == KindAccessKey || h.Kind == KindTempKey {
			anchors = append(anchors, span{h.Offset - contextWindow, h.Offset + 20 + contextWindow})
			keys = append(keys, h)
		}
	}
	for _, kw := range secretKeywords {
		for i := 0; ; {
			j := bytes.Index(buf[i:], kw)
			if j < 0 {
				break
			}
			p := i + j
			anchors = append(anchors, span{p - contextWindow, p + contextWindow})
			i = p + len(kw)
		}
	}
	if len(anchors) == 0 {
		return nil
	}
	// Merge the windows, then look for 40-character runs only inside them.
	slices.SortFunc(anchors, func(a, b span) int { return a.from - b.from })
	merged := anchors[:1]
	for _, a := range anchors[1:] {
		if last := &merged[len(merged)-1]; a.from <= last.to {
			last.to = max(last.to, a.to)
		} else {
			merged = append(merged, a)
		}
	}
	var out []hit
	for _, w := range merged {
		from, to := max(w.from, 0), min(w.to, len(buf))
		// A run that starts before the window is judged whole.
		for from > 0 && isSecretByte(buf[from-1]) {
			from--
		}
		for p := from; p < to; {
			if !isSecretByte(buf[p]) {
				p++
				continue
			}
			q := p
			for q < len(buf) && isSecretByte(buf[q]) {
				q++
			}
			if q-p == 40 && (q == len(buf) || buf[q] != '=') && LooksLikeSecret(buf[p:q]) {
				out = append(out, secretHit(buf[p:q], p, keys))
			}
			p = q
		}
	}
	return out
}

// secretHit masks a secret and links it to the closest access key ID.
func secretHit(secret []byte, off int, keys []hit) hit {
	h := hit{Kind: KindSecret, Value: MaskSecret(secret), Offset: off}
	best := -1
	for _, k := range keys {
		d := abs(k.Offset - off)
		if d <= contextWindow+20 && (best < 0 || d < best) {
			best, h.Near = d, k.Value
		}
	}
	return h
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// LooksLikeSecret reports whether s has the shape of a secret access key: 40
// characters of the base-64 alphabet with upper- and lower-case letters and a
// digit, slash or plus. Git object names (lower-case hex) and upper-case
// words fail it.
func LooksLikeSecret(s []byte) bool {
	if len(s) != 40 {
		return false
	}
	var upper, lower, other bool
	for _, b := range s {
		switch {
		case b >= 'A' && b <= 'Z':
			upper = true
		case b >= 'a' && b <= 'z':
			lower = true
		case b >= '0' && b <= '9', b == '/', b == '+':
			other = true
		default:
			return false
		}
	}
	return upper && lower && other
}

// MaskSecret is how a secret appears in every output: its length and a
// short fingerprint, so that two sightings of one secret can be matched
// without the secret being shown.
func MaskSecret(s []byte) string {
	sum := sha256.Sum256(s)
	return "secret:sha256:" + hex.EncodeToString(sum[:6])
}

// scanBuffer returns every hit in buf: IDs and secrets, ordered by offset.
func scanBuffer(buf []byte) []hit {
	ids := findIDs(buf)
	secrets := findSecrets(buf, ids)
	if len(secrets) == 0 {
		return ids
	}
	out := make([]hit, 0, len(ids)+len(secrets))
	i, j := 0, 0
	for i < len(ids) || j < len(secrets) {
		if j == len(secrets) || i < len(ids) && ids[i].Offset < secrets[j].Offset {
			out = append(out, ids[i])
			i++
		} else {
			out = append(out, secrets[j])
			j++
		}
	}
	return out
}

// maskText replaces every secret-shaped 40-character word of a text that is
// shown to the user (commit subjects, paths) by its mask.
func maskText(s string) string {
	b := []byte(s)
	var out bytes.Buffer
	for p := 0; p < len(b); {
		if !isSecretByte(b[p]) {
			out.WriteByte(b[p])
			p++
			continue
		}
		q := p
		for q < len(b) && isSecretByte(b[q]) {
			q++
		}
		if q-p == 40 && LooksLikeSecret(b[p:q]) {
			out.WriteString(MaskSecret(b[p:q]))
		} else {
			out.Write(b[p:q])
		}
		p = q
	}
	return out.String()
}
