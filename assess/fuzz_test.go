package assess_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/trail"
)

// FuzzRules: any --rules file is a catalog or one error naming the file,
// never a panic; a catalog it makes judges real events without a panic and
// gives every event a verdict. Seeded with the built-in rule files (their
// IDs renamed, as a site's copy would need) and the OTRF breach's events.
func FuzzRules(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("rules", "*.yaml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("built-in rules: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.ReplaceAll(b, []byte("- id: "), []byte("- id: site.")))
	}
	f.Add([]byte("rules:\n  - id: site.x\n    override: true\n"))
	f.Add([]byte("rules: []\n"))
	f.Add([]byte("rules:\n  - id: recon.get-caller-identity\n"))
	events := breachEvents(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "site.yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cat, err := assess.LoadCatalog(dir)
		if err != nil {
			return
		}
		inv := trail.Rebuild("ASIA5FLZVX4OPVKKVBMX", events, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		a, err := assess.Assess(inv, assess.Options{Catalog: cat})
		if err != nil {
			return
		}
		if len(a.Events) != len(inv.Events) {
			t.Fatalf("%d events judged of %d", len(a.Events), len(inv.Events))
		}
		for _, e := range a.Events {
			if e.Verdict == "" {
				t.Fatalf("event %s has no verdict", e.EventID)
			}
		}
	})
}

// breachEvents are the OTRF data set's events (a lab breach).
func breachEvents(f *testing.F) []trail.Event {
	f.Helper()
	file, err := os.Open(filepath.Join("..", "trail", "testdata", "otrf_security_datasets.jsonl.gz"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	zr, err := gzip.NewReader(file)
	if err != nil {
		f.Fatal(err)
	}
	var out []trail.Event
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			Event json.RawMessage `json:"event"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if e, err := trail.ParseRecord(line.Event); err == nil {
			out = append(out, e)
		}
	}
	return out
}
