package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/internal/awssim"
)

// TestVerify watches github-push's attacker before and after containment:
// before, the calls of the leaked key and of what it made work and the
// command exits 3; after, the watch covers every credential contain found,
// none works, and it says what CloudTrail's delay leaves uncovered.
func TestVerify(t *testing.T) {
	t.Parallel()
	srv, leaked := simScenario(t, "github-push", awssim.WithLookupRate(100, 100))
	resp := srv.Sim.Responder()
	simAWS(t, srv.URL, resp.AccessKeyID, resp.Secret)
	dir := t.TempDir()
	watch := []string{"verify", "--key", leaked.AccessKeyID, "--dir", dir, "--for", "1s", "--every", "200ms", "--lookup-rate", "50"}

	code, out, errOut := run(t, append(watch, "-o", "json")...)
	if code != ExitPartial {
		t.Fatalf("verify before containment: exit %d, want %d\n%s\n%s", code, ExitPartial, out, errOut)
	}
	var res struct {
		Keys    []string
		Regions []string
		Worked  []struct{ AccessKeyID, EventName string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if len(res.Worked) == 0 {
		t.Errorf("the attacker's calls before containment were not reported: %s", out)
	}
	if code, out, errOut := run(t, watch...); code != ExitPartial || !strings.Contains(errOut, "WORKED") || !strings.Contains(out, "WORKED after") {
		t.Errorf("text verify before containment: exit %d\n%s\n%s", code, out, errOut)
	}

	if code, out, errOut := run(t, "contain", "--key", leaked.AccessKeyID, "--yes", "--dir", dir); code != ExitOK {
		t.Fatalf("contain: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, append(watch, "-o", "json")...)
	if code != ExitOK {
		t.Fatalf("verify after containment: exit %d\n%s\n%s", code, out, errOut)
	}
	res.Worked = nil
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	truth := srv.Sim.Truth()
	for _, k := range truth.DerivedKeys {
		if !strings.Contains(strings.Join(res.Keys, " "), k.AccessKeyID) {
			t.Errorf("the watch does not cover %s (%s): %v", k.AccessKeyID, k.Via, res.Keys)
		}
	}
	if len(res.Worked) > 0 {
		t.Errorf("calls worked after containment: %+v", res.Worked)
	}
	// The session token started instances in three regions: each is watched.
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		if !strings.Contains(strings.Join(res.Regions, " "), r) {
			t.Errorf("the watch does not poll %s: %v", r, res.Regions)
		}
	}
	code, out, _ = run(t, watch...)
	if code != ExitOK || !strings.Contains(out, "No call of the watched credentials worked") || !strings.Contains(out, "15 minutes late") {
		t.Errorf("text verify: exit %d\n%s", code, out)
	}
}
