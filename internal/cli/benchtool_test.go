package cli

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awsclitest"
)

// Helpers of the benchmarks. The tests' helpers take *testing.T; these take
// testing.TB so that benchmarks can use them too.

// runKeyleak runs keyleak in-process and returns exit code, stdout and
// stderr.
func runKeyleak(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Run(ctx, args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// envInt reads a positive integer from the environment, or def when unset.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

// awsCLIOutput runs the AWS CLI with the simulator's environment and
// nothing else of the process's AWS settings (no profile, no files), with
// the retries a responder would configure against throttling, and returns
// its standard output.
func awsCLIOutput(ctx context.Context, env map[string]string, args ...string) ([]byte, error) {
	return awsclitest.Output(ctx, append([]string{"AWS_MAX_ATTEMPTS=10", "AWS_RETRY_MODE=standard"}, envList(env)...),
		append(args, "--output", "json")...)
}

// ceilDiv is ⌈a/b⌉ for positive b.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

// seconds of a count of requests at a rate per second.
func requestTime(requests int, perSecond float64) time.Duration {
	return time.Duration(float64(requests) / perSecond * float64(time.Second))
}
