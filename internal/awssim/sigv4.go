package awssim

import (
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
//
// The signature itself is not checked: the simulator only needs the caller's
// identity, and clients on loopback are trusted to be who they say.
func parseSigV4(header string) (sigv4Scope, bool) {
	const prefix = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(header, prefix) {
		return sigv4Scope{}, false
	}
	rest := strings.TrimSpace(header[len(prefix):])
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		cred, ok := strings.CutPrefix(part, "Credential=")
		if !ok {
			continue
		}
		fields := strings.Split(cred, "/")
		if len(fields) != 5 || fields[4] != "aws4_request" || fields[0] == "" {
			return sigv4Scope{}, false
		}
		return sigv4Scope{AccessKeyID: fields[0], Region: fields[2], Service: fields[3]}, true
	}
	return sigv4Scope{}, false
}
