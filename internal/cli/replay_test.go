package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyleak/keyleak/internal/evaluate"
)

// `keyleak sim serve --replay DIR --key K` serves the OTRF data set's real
// records: /_sim/truth reports them with the key's chain, and
// `keyleak investigate` through LookupEvents finds the stolen key's 11
// events.
func TestSimServeReplay(t *testing.T) {
	recs, err := evaluate.LoadDataset(evaluate.OTRF)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var b bytes.Buffer
	for _, r := range recs {
		b.Write(r.Event)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "otrf.jsonl"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	env := startSim(t, "--replay", dir, "--key", evaluate.OTRFStolenKey, "--lookup-rate", "50")
	var truth struct {
		LeakedKey string
		Events    []struct{ EventID, AccessKeyID string }
	}
	getJSON(t, env["AWS_ENDPOINT_URL"]+"/_sim/truth", &truth)
	want := 0
	for _, e := range truth.Events {
		if e.AccessKeyID == evaluate.OTRFStolenKey {
			want++
		}
	}
	if truth.LeakedKey != evaluate.OTRFStolenKey || len(truth.Events) == 0 || want != 11 {
		t.Fatalf("truth: leaked %q, %d events, %d of the key", truth.LeakedKey, len(truth.Events), want)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	code, out, errOut := runKeyleak(t.Context(), "investigate", "--key", evaluate.OTRFStolenKey, "--since", "2020-09-01T00:00:00Z",
		"--until", "2020-09-30T00:00:00Z", "--regions", "us-east-1,us-west-2", "--dir", t.TempDir(), "--lookup-rate", "50", "-o", "json")
	if code != ExitOK {
		t.Fatalf("investigate exited %d: %s", code, errOut)
	}
	var res struct {
		Investigation struct {
			Events []struct{ EventID string } `json:"events"`
		} `json:"investigation"`
		Events []struct{ EventID string } `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if n := len(res.Events) + len(res.Investigation.Events); n != want {
		t.Errorf("investigate found %d events, want %d\n%s", n, want, out[:min(len(out), 2000)])
	}
}
