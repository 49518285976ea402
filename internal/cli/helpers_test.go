package cli

import (
	"encoding/json"
	"github.com/keyleak/keyleak/internal/awssim"
	"net/http"
	"os/exec"
	"testing"
)

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}

var execLookPath = exec.LookPath

// serveScenario builds a scenario's simulator and serves it on loopback,
// without its actors, until the test ends.
func serveScenario(tb testing.TB, name string, opts ...awssim.Option) *awssim.Server {
	tb.Helper()
	sc, err := awssim.LoadScenario(name)
	if err != nil {
		tb.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}
