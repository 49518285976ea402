package awssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// sigv4Scope is what the simulator needs from a SigV4 Authorization header:
// who signed (the access key ID) and for which region and service.
type sigv4Scope struct {
	AccessKeyID string
	Region      string
	Service     string
}

// parseSigV4 reads the credential scope of an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iam/aws4_request, SignedHeaders=..., Signature=...
func parseSigV4(header string) (sigv4Scope, bool) {
	f, ok := sigv4Fields(header)
	if !ok {
		return sigv4Scope{}, false
	}
	cred := strings.Split(f["Credential"], "/")
	if len(cred) != 5 || cred[4] != "aws4_request" || cred[0] == "" {
		return sigv4Scope{}, false
	}
	return sigv4Scope{AccessKeyID: cred[0], Region: cred[2], Service: cred[3]}, true
}

// sigv4Fields splits the Authorization header's Name=value parts.
func sigv4Fields(header string) (map[string]string, bool) {
	const prefix = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(header, prefix) {
		return nil, false
	}
	f := map[string]string{}
	for _, part := range strings.Split(strings.TrimSpace(header[len(prefix):]), ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
			f[k] = v
		}
	}
	return f, f["Credential"] != ""
}

// signedRequest is what checking a request's SigV4 signature needs: the
// string to sign, built from the request as received, and the signature
// and session token the client sent. The simulator checks it against the
// secret of the key the request names, as AWS does, so that a request
// signed with a wrong secret is refused (SignatureDoesNotMatch) and the
// paths of bad credentials can be tested.
type signedRequest struct {
	scope        string // date/region/service/aws4_request
	date         string // the scope's date
	region       string
	service      string
	stringToSign string
	signature    string
	token        string // X-Amz-Security-Token
}

// newSignedRequest reads the signature of r, whose body was read into body.
func newSignedRequest(r *http.Request, body []byte) (*signedRequest, bool) {
	f, ok := sigv4Fields(r.Header.Get("Authorization"))
	if !ok {
		return nil, false
	}
	cred := strings.SplitN(f["Credential"], "/", 2)
	if len(cred) != 2 {
		return nil, false
	}
	scope := cred[1]
	parts := strings.Split(scope, "/")
	if len(parts) != 4 {
		return nil, false
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		amzDate = r.Header.Get("Date")
	}
	names := strings.Split(f["SignedHeaders"], ";")
	var headers strings.Builder
	for _, n := range names {
		var vals []string
		switch n {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = r.Header.Values(n)
			if len(vals) == 0 {
				vals = []string{formatInt(r.ContentLength)}
			}
		default:
			vals = r.Header.Values(n)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		headers.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalPath(r.URL),
		canonicalQuery(r.URL.Query()),
		headers.String(),
		f["SignedHeaders"],
		payload,
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	return &signedRequest{
		scope:        scope,
		date:         parts[0],
		region:       parts[1],
		service:      parts[2],
		stringToSign: "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:]),
		signature:    f["Signature"],
		token:        r.Header.Get("X-Amz-Security-Token"),
	}, true
}

// verify tells whether the request was signed with secret.
func (q *signedRequest) verify(secret string) bool {
	k := hmacSHA256([]byte("AWS4"+secret), q.date)
	k = hmacSHA256(k, q.region)
	k = hmacSHA256(k, q.service)
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, q.stringToSign))
	return hmac.Equal([]byte(want), []byte(q.signature))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalPath is the URI-encoded path, each segment encoded twice as
// SigV4 wants for every service but S3 (which the simulator does not
// serve).
func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = sigv4Escape(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery encodes the query parameters, sorted by name, then value.
func canonicalQuery(q url.Values) string {
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{sigv4Escape(k), sigv4Escape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p.k + "=" + p.v
	}
	return strings.Join(out, "&")
}

// sigv4Escape percent-encodes every byte but the unreserved characters.
func sigv4Escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func formatInt(n int64) string {
	if n < 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
