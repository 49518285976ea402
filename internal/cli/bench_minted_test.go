package cli

import (
	"context"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awssim"
)

// BenchmarkContainAllCredentials runs `keyleak contain --key K --yes`
// against github-push and session-persistence with 100 ms added to every
// AWS request and the attackers acting every 20 ms, each with every
// credential it holds, until that credential fails. It reports
// s-to-last-refused: from the start of the command to the moment the
// simulator refused the last attacker credential (its last ongoing action
// failing; the goal is at most 5 s), total-s (the whole command: search,
// containment and read-back), credentials (the attacker's, the leaked key
// included) and api-calls (requests the responder made in all).
func BenchmarkContainAllCredentials(b *testing.B) {
	for _, tc := range []struct {
		scenario string
		held     []string
	}{
		{"github-push", []string{"ci-deploy-key", "bot-session", "backdoor-key"}},
		{"session-persistence", []string{"pipeline-key", "session", "federation", "role-session"}},
	} {
		b.Run(tc.scenario, func(b *testing.B) {
			var m containAllMeasure
			for b.Loop() {
				m = containAllOnce(b, tc.scenario, tc.held)
			}
			b.ReportMetric(m.toRefused.Seconds(), "s-to-last-refused")
			b.ReportMetric(m.total.Seconds(), "total-s")
			b.ReportMetric(float64(m.creds), "credentials")
			b.ReportMetric(float64(m.calls), "api-calls")
			if m.toRefused > 5*time.Second {
				b.Logf("the last attacker credential was refused %.1f s after contain started; the goal is at most 5 s", m.toRefused.Seconds())
			}
		})
	}
}

type containAllMeasure struct {
	toRefused, total time.Duration
	creds, calls     int
}

func containAllOnce(b *testing.B, scenario string, held []string) containAllMeasure {
	b.Helper()
	srv := serveScenario(b, scenario)
	defer func() {
		if err := srv.Close(); err != nil {
			b.Errorf("close simulator: %v", err)
		}
	}()
	srv.Sim.StartActors(20 * time.Millisecond)
	srv.Sim.SetFaults(awssim.Faults{Latency: containLatency})
	resp := srv.Sim.Responder()
	awsEnv(b, srv.URL, resp.AccessKeyID, resp.Secret)
	key := srv.Sim.LeakedKey()
	// The attackers act before contain starts.
	for i := 0; ; i++ {
		acting := 0
		for _, a := range srv.Sim.Actors() {
			if a.Acts > 0 {
				acting++
			}
		}
		if acting >= len(held) {
			break
		}
		if i == 1000 {
			b.Fatalf("the attackers do not act: %+v", srv.Sim.Actors())
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := countEventsOf(srv.Sim.Truth(), resp.AccessKeyID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	code, out, errOut := runKeyleak(ctx, "contain", "--key", key, "--yes", "--dir", b.TempDir())
	m := containAllMeasure{total: time.Since(start)}
	if code != ExitOK {
		b.Fatalf("contain exit %d\n%s\n%s", code, out, errOut)
	}
	// Each held credential's actor fails at its next tick at the latest.
	var last time.Time
	for i := 0; ; i++ {
		stopped, want := 0, map[string]bool{}
		for _, h := range held {
			want[h] = true
		}
		for _, a := range srv.Sim.Actors() {
			if want[a.Credential] && a.Stopped {
				stopped++
				if a.StoppedAt.After(last) {
					last = a.StoppedAt
				}
			}
		}
		if stopped >= len(held) {
			break
		}
		if i == 1000 {
			b.Fatalf("contain exited 0 but the attacker goes on: %+v\n%s", srv.Sim.Actors(), out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.toRefused = last.Sub(start)
	tr := srv.Sim.Truth()
	m.creds = 1 + len(tr.DerivedKeys)
	m.calls = countEventsOf(tr, resp.AccessKeyID) - before
	return m
}
