package awssim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestLambdaCodeLocation: GetFunction hands out a presigned loopback URL
// that serves the package; a tampered URL and one past its ten minutes are
// refused as S3 refuses them.
func TestLambdaCodeLocation(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newECGFixture(t, WithClock(clock))
	role := f.addRole("exec")
	zip := []byte("PK\x03\x04 the miner's code")
	ctx := context.Background()
	c := f.lambda("us-east-1")
	if _, err := c.CreateFunction(ctx, createInput("exfil", role, zip)); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("exfil")})
	if err != nil {
		t.Fatal(err)
	}
	loc := aws.ToString(out.Code.Location)
	if !strings.HasPrefix(loc, f.srv.URL+lambdaCodePath) || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("Code.Location = %q", loc)
	}
	get := func(u string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, body := get(loc); code != http.StatusOK || string(body) != string(zip) {
		t.Errorf("GET Code.Location: %d %q", code, body)
	}
	if code, body := get(strings.Replace(loc, "exfil", "other", 1)); code != http.StatusForbidden || !strings.Contains(string(body), "AccessDenied") {
		t.Errorf("tampered URL: %d %s", code, body)
	}
	mu.Lock()
	now = now.Add(lambdaCodeExpiry + time.Second)
	mu.Unlock()
	if code, body := get(loc); code != http.StatusForbidden || !strings.Contains(string(body), "expired") {
		t.Errorf("expired URL: %d %s", code, body)
	}
}
