package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// healthEventFile writes the scenario's AWS Health event, as the simulator
// emits it when the leak is detected, into a file.
func healthEventFile(t *testing.T, sim *awssim.Sim) string {
	t.Helper()
	ev, ok := sim.HealthEvent()
	if !ok {
		t.Fatal("the scenario declares no detection")
	}
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, ev, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRespondToHealthEvent is the unattended runbook from AWS's Health
// event on github-push: the plan changes nothing; the response contains the
// key and every attacker credential, investigates, writes the reports with
// where the key was found, leaves no secret in the case; a second run with
// the same event changes nothing.
func TestRespondToHealthEvent(t *testing.T) {
	t.Parallel()
	srv, leaked := simScenario(t, "github-push", awssim.WithLookupRate(100, 100))
	resp := srv.Sim.Responder()
	simAWS(t, srv.URL, resp.AccessKeyID, resp.Secret)
	event := healthEventFile(t, srv.Sim)
	dir := t.TempDir()
	fast := []string{"--dir", dir, "--lookup-rate", "50"}

	before := srv.Sim.Truth()
	code, out, errOut := run(t, append([]string{"respond", "--event", event, "--plan"}, fast...)...)
	if code != ExitOK {
		t.Fatalf("--plan: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "iam UpdateAccessKey") || !strings.Contains(out, "without --plan") {
		t.Errorf("--plan does not say what it would do:\n%s", out)
	}
	if changes := writesBy(srv.Sim.Truth(), resp.AccessKeyID, before); len(changes) > 0 {
		t.Errorf("--plan made write calls: %v", changes)
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Errorf("--plan left %s behind", ents[0].Name())
	}

	code, out, errOut = run(t, append([]string{"respond", "--event", event, "-o", "json"}, fast...)...)
	if code != ExitOK {
		t.Fatalf("respond: exit %d\n%s\n%s", code, out, errOut)
	}
	var res respond.RespondResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	truth := srv.Sim.Truth()
	attacker := map[string]string{leaked.AccessKeyID: "the leaked key"}
	for _, k := range truth.DerivedKeys {
		attacker[k.AccessKeyID] = k.Via
	}
	states := map[string]string{}
	for _, c := range res.Contain.Credentials {
		states[c.ID] = c.State
	}
	for id, via := range attacker {
		if s := states[id]; s != playbook.CredInactive && s != playbook.CredDenied {
			t.Errorf("%s (%s) is %q after respond", id, via, s)
		}
	}
	if k, _ := srv.Sim.Key(leaked.AccessKeyID); k.Status != "Inactive" {
		t.Errorf("the key is %s", k.Status)
	}
	if !res.Complete || res.Investigation == nil || res.Investigation.Counts.Attacker == 0 {
		t.Errorf("investigation: complete %v, %+v", res.Complete, res.Investigation)
	}
	const url = "https://github.com/acme-shop/deploy-pipeline/blob/5f1c2e7/ci/deploy.sh"
	if res.Trigger.ExposedURL != url {
		t.Errorf("exposed URL %q", res.Trigger.ExposedURL)
	}
	md, err := os.ReadFile(filepath.Join(res.Case, "report.md"))
	if err != nil || !strings.Contains(string(md), url) {
		t.Errorf("report.md does not say where the key was found (%v)", err)
	}
	left := strings.Join(res.Left, "\n")
	if !strings.Contains(left, "keyleak eradicate") {
		t.Errorf("the summary does not leave eradication to a person: %q", left)
	}
	if !strings.Contains(left, "git clone https://github.com/acme-shop/deploy-pipeline.git leaked-repo && keyleak scan leaked-repo --key "+leaked.AccessKeyID) {
		t.Errorf("the summary does not send keyleak scan where the key was found: %q", left)
	}
	assertNoSecrets(t, res.Case, srv.Sim, append([]string{resp.AccessKeyID}, keysOf(attacker)...))

	// The same event again: every step reads AWS first, nothing is done
	// twice, and the journal's chain holds.
	before = srv.Sim.Truth()
	code, out, errOut = run(t, append([]string{"respond", "--event", event}, fast...)...)
	if code != ExitOK {
		t.Fatalf("second respond: exit %d\n%s\n%s", code, out, errOut)
	}
	if changes := writesBy(srv.Sim.Truth(), resp.AccessKeyID, before); len(changes) > 0 {
		t.Errorf("the second run made write calls: %v", changes)
	}
	if code, out, errOut := run(t, "case", "verify", res.Case); code != ExitOK {
		t.Errorf("case verify: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestRespondRefuses: a malformed event, an event of another account, a
// key the account does not have — one sentence, exit 2, nothing changed,
// no case left.
func TestRespondRefuses(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push", awssim.WithLookupRate(100, 100))
	resp := srv.Sim.Responder()
	simAWS(t, srv.URL, resp.AccessKeyID, resp.Secret)
	good, _ := srv.Sim.HealthEvent()
	acct := srv.Sim.AccountID()
	for _, tc := range []struct{ name, event, says string }{
		{"malformed", `{"source": "aws.health", "detail": `, "not a JSON object"},
		{"unknown", `{"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}`, "aws.ec2"},
		{"another account", strings.ReplaceAll(string(good), acct, "111122223333"), "account 111122223333"},
		{"no such key", strings.ReplaceAll(string(good), srv.Sim.LeakedKey(), "AKIAZZZZZZZZZZZZZZZZ"), "not found in account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			event := filepath.Join(t.TempDir(), "event.json")
			if err := os.WriteFile(event, []byte(tc.event), 0o600); err != nil {
				t.Fatal(err)
			}
			before := srv.Sim.Truth()
			code, out, errOut := run(t, "respond", "--event", event, "--dir", dir, "--lookup-rate", "50")
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, tc.says) {
				t.Errorf("stderr ends %q; want it to say %q", last, tc.says)
			}
			if changes := writesBy(srv.Sim.Truth(), resp.AccessKeyID, before); len(changes) > 0 {
				t.Errorf("write calls: %v", changes)
			}
			if ents, _ := os.ReadDir(dir); len(ents) > 0 {
				t.Errorf("left %s behind", ents[0].Name())
			}
		})
	}
	// Standard input works as a file does.
	var outB, errB strings.Builder
	code := runFactory(t.Context(), testFactory(t, &IOStreams{In: strings.NewReader(string(good)), Out: &outB, ErrOut: &errB}),
		[]string{"respond", "--event", "-", "--plan", "--dir", t.TempDir(), "--lookup-rate", "50"})
	if code != ExitOK || !strings.Contains(outB.String(), srv.Sim.LeakedKey()) {
		t.Errorf("--event -: exit %d\n%s\n%s", code, outB.String(), errB.String())
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// assertNoSecrets fails when any file of dir holds the secret access key or
// session token of any of the given credentials.
func assertNoSecrets(t *testing.T, dir string, sim *awssim.Sim, keys []string) {
	t.Helper()
	var secrets []string
	for _, id := range keys {
		if c, ok := sim.Key(id); ok {
			secrets = append(secrets, c.Secret)
			if c.SessionToken != "" {
				secrets = append(secrets, c.SessionToken)
			}
		}
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
