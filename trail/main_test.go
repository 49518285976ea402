package trail_test

import (
	"os"
	"testing"

	"github.com/keyleak/keyleak/internal/mototest"
)

// The package's moto tests share one moto_server, reset between them.
func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }
