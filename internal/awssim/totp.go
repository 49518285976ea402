package awssim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// Virtual MFA devices make time-based one-time passwords (RFC 6238): HMAC-SHA1
// of the 30-second step since the Unix epoch, 6 digits, as authenticator apps
// and AWS use them.
const (
	totpStep   = 30 * time.Second
	totpDigits = 6
	// totpSkew is how many steps either side of now a code is still
	// accepted, for the clock drift AWS tolerates between device and server.
	totpSkew = 1
)

// TOTP returns the code a virtual MFA device with the given Base32 seed (as
// CreateVirtualMFADevice answers it) shows at time at.
func TOTP(base32Seed string, at time.Time) (string, error) {
	key, err := totpKey(base32Seed)
	if err != nil {
		return "", err
	}
	return totpAt(key, totpCounter(at)), nil
}

func totpKey(base32Seed string) ([]byte, error) {
	s := strings.ToUpper(strings.TrimRight(strings.ReplaceAll(base32Seed, " ", ""), "="))
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode MFA seed: %w", err)
	}
	return key, nil
}

func totpCounter(at time.Time) int64 { return at.Unix() / int64(totpStep/time.Second) }

func totpAt(key []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// totpMatch returns the step at which code is the device's, within the
// skew around at, and whether there is one.
func totpMatch(key []byte, code string, at time.Time) (int64, bool) {
	now := totpCounter(at)
	for c := now - totpSkew; c <= now+totpSkew; c++ {
		if hmac.Equal([]byte(totpAt(key, c)), []byte(code)) {
			return c, true
		}
	}
	return 0, false
}
