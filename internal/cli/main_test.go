package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/keyleak/keyleak/internal/mototest"
)

// The package's moto tests share one moto_server, reset between them. The
// process starts without the AWS settings of the shell it came from (see
// clearAWSEnv).
func TestMain(m *testing.M) {
	cleanup, err := clearAWSEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := mototest.Main(m)
	cleanup()
	os.Exit(code)
}
