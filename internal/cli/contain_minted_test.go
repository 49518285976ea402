package cli

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/playbook"
)

// TestContainStopsEveryAttackerCredential is the containment the issue
// asks for, on the two scenarios whose attackers keep credentials of their
// own: after `keyleak contain --key K --yes` returns, no credential of the
// attacker makes a successful call any more (sts:GetCallerIdentity aside,
// which no policy can deny), as the simulator's truth shows and the AWS CLI
// confirms with each credential. github-push's attacker holds a backdoor
// user's key and a session token; session-persistence's a session token, a
// federation token and a role session of etl-runner.
func TestContainStopsEveryAttackerCredential(t *testing.T) {
	t.Parallel()
	needAWSCLI(t)
	for _, tc := range []struct {
		scenario string
		// held are the scenario's names of the credentials the attacker
		// keeps using after the leak.
		held []string
	}{
		{"github-push", []string{"ci-deploy-key", "bot-session", "backdoor-key"}},
		{"session-persistence", []string{"pipeline-key", "session", "federation", "role-session"}},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			// LookupEvents at the simulator's quota of 2 a second is the
			// benchmark's business (BenchmarkContainAllCredentials); here a
			// faster quota keeps the three runs short.
			srv, leaked := simScenario(t, tc.scenario, awssim.WithLookupRate(100, 100))
			resp := srv.Sim.Responder()
			env := simAWS(t, srv.URL, resp.AccessKeyID, resp.Secret)
			dir := t.TempDir()
			truth := srv.Sim.Truth()
			attacker := map[string]string{leaked.AccessKeyID: "the leaked key"}
			for _, k := range truth.DerivedKeys {
				attacker[k.AccessKeyID] = k.Via
			}

			// --dry-run lists every credential it would contain and
			// changes nothing.
			before := srv.Sim.Truth()
			fast := []string{"--dir", dir, "--lookup-rate", "50"}
			code, out, errOut := run(t, append([]string{"contain", "--key", leaked.AccessKeyID, "--dry-run"}, fast...)...)
			if code != ExitOK {
				t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
			}
			for id, via := range attacker {
				if !strings.Contains(out, id) {
					t.Errorf("dry run does not list %s (%s):\n%s", id, via, out)
				}
			}
			if changes := writesBy(srv.Sim.Truth(), resp.AccessKeyID, before); len(changes) > 0 {
				t.Errorf("dry run made write calls: %v", changes)
			}

			code, out, errOut = run(t, append([]string{"contain", "--key", leaked.AccessKeyID, "--yes", "-o", "json"}, fast...)...)
			returned := time.Now()
			if code != ExitOK {
				t.Fatalf("contain: exit %d\n%s\n%s", code, out, errOut)
			}
			var sum playbook.Summary
			if err := json.Unmarshal([]byte(out), &sum); err != nil {
				t.Fatalf("-o json: %v\n%s", err, out)
			}
			listed := map[string]playbook.AttackerCredential{}
			for _, c := range sum.Credentials {
				listed[c.ID] = c
			}
			for id, via := range attacker {
				c, ok := listed[id]
				switch {
				case !ok:
					t.Errorf("the summary does not list %s (%s)", id, via)
				case c.State != playbook.CredInactive && c.State != playbook.CredDenied:
					t.Errorf("%s (%s) is %s after contain: %s", id, via, c.State, c.Note)
				}
			}
			if tc.scenario == "session-persistence" {
				role := listed[scenarioKeyID(t, srv.Sim, "role-session")]
				if role.Kind != playbook.CredRoleSession || role.Session != "etl-maintenance" || role.DeniedSince.IsZero() ||
					!strings.HasSuffix(role.Role, ":role/etl-runner") {
					t.Errorf("the role session is listed as %+v", role)
				}
			}

			// The attacker goes on until each credential fails; then every
			// ongoing action of the attacker has stopped.
			actors := waitForActors(t, srv.Sim, tc.held)
			for _, a := range actors {
				if a.Actor == "attacker" && a.StoppedAt.After(returned) && a.StopCode == "" {
					t.Errorf("actor %s stopped without an error", a.Credential)
				}
			}
			late := []string{}
			for _, e := range srv.Sim.Truth().Events {
				if attacker[e.AccessKeyID] != "" && e.ErrorCode == "" && e.EventName != "GetCallerIdentity" && e.EventTime.After(returned) {
					late = append(late, e.AccessKeyID+" "+e.EventName+" "+e.EventTime.Format(time.RFC3339Nano))
				}
			}
			if len(late) > 0 {
				t.Errorf("attacker calls succeeded after contain returned at %s: %v", returned.Format(time.RFC3339Nano), late)
			}

			// The AWS CLI, an independent client, with each credential, all at
			// once.
			var wg sync.WaitGroup
			for id, via := range attacker {
				cred, ok := srv.Sim.Key(id)
				if !ok {
					t.Fatalf("no credential %s in the simulator", id)
				}
				as := maps.Clone(env)
				as["AWS_ACCESS_KEY_ID"], as["AWS_SECRET_ACCESS_KEY"] = cred.AccessKeyID, cred.Secret
				if cred.SessionToken != "" {
					as["AWS_SESSION_TOKEN"] = cred.SessionToken
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					if b, err := awsCLIOutput(ctx, as, "ec2", "describe-instances", "--region", "us-east-1"); err == nil {
						t.Errorf("aws ec2 describe-instances with %s (%s) still works after contain:\n%s", id, via, b)
					}
				}()
			}
			wg.Wait()

			// A second run changes nothing and says so.
			before = srv.Sim.Truth()
			code, out, errOut = run(t, append([]string{"contain", "--key", leaked.AccessKeyID, "--yes"}, fast...)...)
			if code != ExitOK || !strings.Contains(out, "Already contained") || !strings.Contains(out, "No attacker credential found works") {
				t.Errorf("second run: exit %d\n%s\n%s", code, out, errOut)
			}
			if changes := writesBy(srv.Sim.Truth(), resp.AccessKeyID, before); len(changes) > 0 {
				t.Errorf("second run made write calls: %v", changes)
			}
		})
	}
}

// scenarioKeyID returns the access key ID of a scenario's credential.
func scenarioKeyID(t *testing.T, sim *awssim.Sim, name string) string {
	t.Helper()
	k, ok := sim.ScenarioKey(name)
	if !ok {
		t.Fatalf("the scenario has no credential %s", name)
	}
	return k.AccessKeyID
}

// waitForActors polls the simulator until each named credential's ongoing
// actions have stopped, a bounded number of times, and returns them all.
func waitForActors(t *testing.T, sim *awssim.Sim, held []string) []awssim.ActorState {
	t.Helper()
	for i := 0; i < 2000; i++ {
		actors := sim.Actors()
		running := map[string]bool{}
		seen := map[string]bool{}
		for _, a := range actors {
			seen[a.Credential] = true
			if !a.Stopped {
				running[a.Credential] = true
			}
		}
		done := true
		for _, h := range held {
			if !seen[h] {
				t.Fatalf("the scenario has no ongoing action of %s: %+v", h, actors)
			}
			done = done && !running[h]
		}
		if done {
			return actors
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the attacker's actions did not stop: %+v", sim.Actors())
	return nil
}
