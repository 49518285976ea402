package awssim

import (
	"encoding/base32"
	"testing"
	"time"
)

// TestTOTPVectors checks the codes against RFC 6238's SHA-1 test vectors
// (the last six of their eight digits).
func TestTOTPVectors(t *testing.T) {
	seed := base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		got, err := TOTP(seed, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("TOTP at %d = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
	if _, err := TOTP("not base32!", time.Now()); err == nil {
		t.Error("a seed that is not Base32 gives a code")
	}
}
