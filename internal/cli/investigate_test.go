package cli

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

// truthOfChain lists the truth's events made by the leaked key or a key
// derived from it: what an investigation must find, exactly.
func truthOfChain(tr awssim.Truth) map[string]bool {
	keys := map[string]bool{tr.LeakedKey: true}
	for _, k := range tr.DerivedKeys {
		keys[k.AccessKeyID] = true
	}
	out := map[string]bool{}
	for _, e := range tr.Events {
		if keys[e.AccessKeyID] {
			out[e.EventID] = true
		}
	}
	return out
}

func investigateSim(t *testing.T, faults string, extra ...awssim.Option) {
	t.Helper()
	investigateSimVolume(t, faults, 0, true, extra...)
}

func investigateSimVolume(t *testing.T, faults string, volume int, rerun bool, extra ...awssim.Option) {
	t.Helper()
	opts := append([]awssim.Option{awssim.WithLookupRate(50, 50)}, extra...)
	srv := serveScenario(t, "github-push", opts...)
	sim := srv.Sim
	if volume > 0 {
		if err := sim.AddVolume(volume, sim.LeakedKey(), 11, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if faults != "" {
		f, err := awssim.ParseFaults(faults)
		if err != nil {
			t.Fatal(err)
		}
		sim.SetFaults(f)
	}
	responder := sim.Responder()
	simAWS(t, srv.URL, responder.AccessKeyID, responder.Secret)
	leaked := sim.LeakedKey()
	dir := t.TempDir()

	// No actors are running: the truth does not move during the sweep (but
	// for the responder's own LookupEvents calls, which are not the key's).
	truth := sim.Truth()
	want := truthOfChain(truth)
	// The faults are counted, not timed: short retry waits make the same
	// retries as AWS's pace would, without the test sitting them out.
	args := []string{"investigate", "--key", leaked, "--dir", dir, "-o", "json", "--lookup-rate", "40", "--retry-wait", "20ms"}
	code, out, errOut := run(t, args...)
	if code != ExitOK {
		t.Fatalf("investigate exit %d: %s", code, errOut)
	}
	var res assess.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	checkVerdicts(t, truth, res)
	got := map[string]bool{}
	for _, e := range res.Events {
		if got[e.EventID] {
			t.Errorf("event %s found twice", e.EventID)
		}
		got[e.EventID] = true
		if !want[e.EventID] {
			t.Errorf("event %s (%s by %s) is not the key's", e.EventID, e.EventName, e.AccessKeyID)
		}
	}
	for id := range want {
		if !got[id] {
			t.Errorf("event %s missing", id)
		}
	}
	// Every region is accounted for; the opt-in ones as not enabled.
	enabled, notEnabled, retries := 0, 0, 0
	for _, r := range res.Regions {
		retries += r.Retries
		switch r.Status {
		case trail.StateOK:
			enabled++
		case trail.StateNotEnabled:
			notEnabled++
		default:
			t.Errorf("region %s: %s %s", r.Region, r.Status, r.Error)
		}
	}
	if enabled < 17 || notEnabled == 0 || enabled+notEnabled != len(res.Regions) {
		t.Errorf("regions: %d ok, %d not enabled", enabled, notEnabled)
	}
	if faults != "" && retries == 0 {
		t.Errorf("faults %q: the sweep retried nothing", faults)
	}
	if volume > 0 {
		// The volume is there to make every region's sweep turn pages
		// (50 events a page) between the faults.
		for _, r := range res.Regions {
			if r.Status == trail.StateOK && r.Events <= 50 {
				t.Errorf("region %s: %d events, one page; the volume no longer pages everywhere", r.Region, r.Events)
			}
		}
	}
	// The derived keys are in the chain: the session key and the backdoor key.
	vias := map[string]bool{}
	for _, k := range res.Keys {
		vias[k.Via] = true
	}
	if !vias["GetSessionToken"] || !vias["CreateAccessKey"] {
		t.Errorf("key chain %+v lacks the session or the backdoor key", res.Keys)
	}
	// The case holds every event, once.
	cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*", "events.jsonl"))
	if len(cases) != 1 {
		t.Fatalf("events.jsonl: %v", cases)
	}
	events, skipped, err := trail.ReadEventsFile(cases[0])
	if err != nil || skipped != 0 || len(events) != len(want) {
		t.Errorf("events.jsonl: %d events, %d skipped, %v; want %d", len(events), skipped, err, len(want))
	}
	if !rerun {
		return
	}
	// A second run keeps what was fetched and adds nothing twice.
	if code, _, errOut := run(t, args...); code != ExitOK {
		t.Fatalf("second run exit %d: %s", code, errOut)
	}
	events, _, _ = trail.ReadEventsFile(cases[0])
	if len(events) != len(want) {
		t.Errorf("after a second run events.jsonl holds %d events, want %d", len(events), len(want))
	}
}

// checkVerdicts compares the attacker verdicts with the truth (precision and
// recall at least 0.95; no workload call judged attacker) and checks every
// resource the attacker made is listed with its live state.
func checkVerdicts(t *testing.T, truth awssim.Truth, res assess.Result) {
	t.Helper()
	attacker, workload := map[string]bool{}, map[string]bool{}
	for _, e := range truth.Events {
		if e.Attacker {
			attacker[e.EventID] = true
		} else if e.Actor == "workload" {
			workload[e.EventID] = true
		}
	}
	tp, fp, fn := 0, 0, 0
	for _, e := range res.Events {
		judged := e.Verdict == assess.Attacker
		switch {
		case judged && attacker[e.EventID]:
			tp++
		case judged:
			fp++
			if workload[e.EventID] {
				t.Errorf("the workload's %s %s got an attacker verdict: %v", e.EventName, e.EventID, e.Reasons)
			}
		case attacker[e.EventID]:
			fn++
		}
	}
	t.Logf("verdicts: TP %d FP %d FN %d; resources listed %d", tp, fp, fn, len(res.Resources))
	precision := float64(tp) / float64(max(tp+fp, 1))
	recall := float64(tp) / float64(max(tp+fn, 1))
	if tp == 0 || precision < 0.95 || recall < 0.95 {
		t.Errorf("attacker verdicts: precision %.2f, recall %.2f (TP %d FP %d FN %d)", precision, recall, tp, fp, fn)
	}
	listed := map[string]string{}
	for _, r := range res.Resources {
		listed[r.Type+"|"+r.ID] = r.State
	}
	for _, r := range truth.Resources {
		if !r.Attacker {
			continue
		}
		state, ok := listed[r.Type+"|"+r.ID]
		if !ok {
			t.Errorf("resource %s %s in %s made by the attacker is not listed", r.Type, r.ID, r.Region)
			continue
		}
		wantState := "present"
		if r.State == "terminated" || r.State == "deleted" {
			wantState = "gone"
		}
		if state != wantState {
			t.Errorf("resource %s %s: state %q, want %q", r.Type, r.ID, state, wantState)
		}
	}
}

func TestInvestigateFindsExactlyTheTruth(t *testing.T) {
	t.Parallel()
	investigateSim(t, "")
}

func TestInvestigateUnderFaults(t *testing.T) {
	t.Parallel()
	investigateSim(t, "throttle-storm=40,5xx-every=7,5xx-burst=2")
}

// 5,000 more events of the key over the enabled regions, under throttle
// storms and 5xx bursts: still exactly the truth. Every region then turns
// pages (the smallest share of the seeded spread is two, the largest 36),
// and a 5xx burst every 15 CloudTrail requests lands among them and on the
// quarantine lookup, as one every 60 did when the test used 20,000 events.
func TestInvestigateVolumeUnderFaults(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("5,000 events: skipped with -short")
	}
	investigateSimVolume(t, "throttle-storm=25,5xx-every=15,5xx-burst=2", 5000, false)
}

func TestInvestigateDeniedRegionIsPartial(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50))
	sim := srv.Sim
	f, _ := awssim.ParseFaults("deny=eu-west-1")
	sim.SetFaults(f)
	r := sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	code, out, errOut := run(t, "investigate", "--key", sim.LeakedKey(), "--dir", t.TempDir(), "--lookup-rate", "40")
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d: %s", code, ExitPartial, errOut)
	}
	if !strings.Contains(errOut, "eu-west-1") || !strings.Contains(out, "denied") {
		t.Errorf("the denied region is not named:\nstdout %s\nstderr %s", out, errOut)
	}
}

func TestInvestigateLogs(t *testing.T) {
	t.Parallel()
	// The OTRF breach, written out as a log file: the stolen key's 11 events.
	dir := t.TempDir()
	writeDatasetAsLog(t, "../../trail/testdata/otrf_security_datasets.jsonl.gz", filepath.Join(dir, "otrf.json.gz"))
	simAWS(t, "http://127.0.0.1:9", "AKIAIOSFODNN7EXAMPLE", "unused")
	code, out, errOut := run(t, "investigate", "--key", "ASIA5FLZVX4OPVKKVBMX", "--logs", dir, "--since", "2000-01-01T00:00:00Z", "--dir", t.TempDir(), "-o", "json", "--offline")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res trail.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Events {
		if e.AccessKeyID == "ASIA5FLZVX4OPVKKVBMX" {
			n++
		}
	}
	if n != 11 {
		t.Errorf("found %d events of the stolen key, want 11", n)
	}
}

func TestInvestigateBadInput(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"investigate", "--key", "AKIA"},
		{"investigate", "--key", "AKIAIOSFODNN7EXAMPLE", "--since", "yesterday"},
		{"investigate", "--key", "AKIAIOSFODNN7EXAMPLE", "--since", "1h", "--until", "2h"},
	} {
		code, out, errOut := run(t, args...)
		if code != ExitUsage || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: exit %d, out %q, err %q", args, code, out, errOut)
		}
	}
	simAWS(t, "http://127.0.0.1:9", "AKIAIOSFODNN7EXAMPLE", "unused")
	code, _, errOut := run(t, "investigate", "--key", "AKIAIOSFODNN7EXAMPLE", "--logs", t.TempDir(), "--dir", t.TempDir())
	if code != ExitUsage || !strings.Contains(errOut, "no CloudTrail log files") {
		t.Errorf("empty logs dir: exit %d, %q", code, errOut)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-01-01T00:00:00Z": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		"72h":                  now.Add(-72 * time.Hour),
		"7d":                   now.Add(-7 * 24 * time.Hour),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWhen("-3h", now); err == nil {
		t.Error("a negative duration was accepted")
	}
}

// writeDatasetAsLog writes the records of a dataset file (one labelled
// {"event": record} a line, gzipped) as a CloudTrail log file.
func writeDatasetAsLog(t *testing.T, dataset, logFile string) {
	t.Helper()
	f, err := os.Open(dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct{ Event json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		records = append(records, line.Event)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPathErrorsExit2: a path that is missing or of the wrong kind is the
// user's to fix, whichever flag names it: exit 2, one sentence, and no case
// directory made for a run that cannot start.
func TestPathErrorsExit2(t *testing.T) {
	t.Parallel()
	logs := t.TempDir()
	writeDatasetAsLog(t, "../../trail/testdata/otrf_security_datasets.jsonl.gz", filepath.Join(logs, "otrf.json.gz"))
	simAWS(t, "http://127.0.0.1:9", "AKIAIOSFODNN7EXAMPLE", "unused")
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "ASIA5FLZVX4OPVKKVBMX"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--logs", filepath.Join(dir, "nonexistent"), "--dir", dir}, "does not exist"},
		{[]string{"--logs", file, "--dir", dir}, "no CloudTrail log files"},
		{[]string{"--logs", logs, "--dir", file}, "is a file, not a directory"},
		{[]string{"--logs", logs, "--case", file}, "is a file, not a case directory"},
	} {
		args := append([]string{"investigate", "--key", key, "--offline"}, tc.args...)
		code, out, errOut := run(t, args...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, ExitUsage, tc.want)
		}
	}
	if cases, _ := filepath.Glob(filepath.Join(dir, "keyleak-case-*")); len(cases) != 0 {
		t.Errorf("refused runs left case directories: %v", cases)
	}
}

// investigateJSON runs investigate -o json on the scenario under faults and
// returns the exit code and the result.
func investigateJSON(t *testing.T, faults string) (int, trail.Result, awssim.Truth, string) {
	t.Helper()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(50, 50))
	sim := srv.Sim
	f, err := awssim.ParseFaults(faults)
	if err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(f)
	r := sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	code, out, errOut := run(t, "investigate", "--key", sim.LeakedKey(), "--dir", t.TempDir(), "--lookup-rate", "40", "-o", "json")
	var res trail.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, output %q: %v (%s)", code, out, err, errOut)
	}
	return code, res, sim.Truth(), errOut
}

// TestFailedUSEast1MakesEveryRegionPartial: with us-east-1 denied, the
// session key made by GetSessionToken (logged there) is never found, so no
// region was searched for it. No region may then say ok: each is partial,
// says which keys it was searched for, and the run exits partial.
func TestFailedUSEast1MakesEveryRegionPartial(t *testing.T) {
	t.Parallel()
	code, res, truth, errOut := investigateJSON(t, "deny=us-east-1")
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d: %s", code, ExitPartial, errOut)
	}
	missed := map[string]int{} // region -> events of derived keys not found
	found := map[string]bool{}
	for _, e := range res.Events {
		found[e.EventID] = true
	}
	derived := map[string]bool{}
	for _, k := range truth.DerivedKeys {
		derived[k.AccessKeyID] = true
	}
	for _, e := range truth.Events {
		if derived[e.AccessKeyID] && !found[e.EventID] && e.Region != "us-east-1" {
			missed[e.Region]++
		}
	}
	if len(missed) == 0 {
		t.Fatalf("the scenario has no derived-key event outside us-east-1 to miss")
	}
	for _, r := range res.Regions {
		switch {
		case r.Region == "us-east-1":
			if r.Status != trail.StateDenied {
				t.Errorf("us-east-1: %s", r.Status)
			}
		case r.Status == trail.StateNotEnabled:
		case r.Status != trail.StatePartial || !strings.Contains(r.Error, "us-east-1"):
			t.Errorf("%s (%d derived-key events missed): %s %q, want partial naming us-east-1", r.Region, missed[r.Region], r.Status, r.Error)
		case len(r.Keys) != 1 || r.Keys[0] != res.Key:
			t.Errorf("%s searched for %v, want the leaked key alone", r.Region, r.Keys)
		}
	}
	if !strings.Contains(errOut, "partial") {
		t.Errorf("the error line does not say regions are partial: %s", errOut)
	}
}

// TestDisabledDefaultRegionIsSearched: a region enabled by default cannot
// be disabled, so a listing that calls it not opted in is not believed: it
// is searched, and when it cannot be read the run is partial rather than
// "not enabled" with its events missing.
func TestDisabledDefaultRegionIsSearched(t *testing.T) {
	t.Parallel()
	code, res, truth, errOut := investigateJSON(t, "disable=eu-west-1")
	inRegion := 0
	for _, e := range truth.Events {
		if e.Region == "eu-west-1" && e.AccessKeyID == res.Key {
			inRegion++
		}
	}
	if inRegion == 0 {
		t.Fatal("the scenario has no event of the key in eu-west-1")
	}
	if code != ExitPartial {
		t.Errorf("exit %d, want %d: %s", code, ExitPartial, errOut)
	}
	for _, r := range res.Regions {
		if r.Region == "eu-west-1" && (r.Status == trail.StateNotEnabled || r.Status == trail.StateOK || !strings.Contains(r.Error, "cannot be disabled")) {
			t.Errorf("eu-west-1 (%d events of the key): %s %q", inRegion, r.Status, r.Error)
		}
	}
}

// TestCoverageListsKeysSearched: a clean run names, for each region, every
// key of the chain it was searched for.
func TestCoverageListsKeysSearched(t *testing.T) {
	t.Parallel()
	code, res, _, errOut := investigateJSON(t, "")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(res.Keys) < 2 {
		t.Fatalf("keys %v: want the leaked key and the keys derived from it", res.Keys)
	}
	for _, r := range res.Regions {
		if r.Status == trail.StateNotEnabled {
			if len(r.Keys) != 0 {
				t.Errorf("%s is not enabled but lists keys %v", r.Region, r.Keys)
			}
			continue
		}
		if r.Status != trail.StateOK || len(r.Keys) != len(res.Keys) {
			t.Errorf("%s: %s, searched for %v of %d keys", r.Region, r.Status, r.Keys, len(res.Keys))
		}
	}
}
