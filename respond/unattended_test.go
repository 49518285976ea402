package respond

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trigger"
)

// simEngine is an engine on github-push's simulated account, its attacker
// acting, and the scenario's Health event.
func simEngine(t *testing.T) (*Engine, *awssim.Sim, *trigger.Trigger) {
	t.Helper()
	sc, err := awssim.LoadScenario("github-push")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := awssim.NewFromScenario(sc, awssim.WithLookupRate(100, 100))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	sim.StartActors(20 * time.Millisecond)
	cfg := srv.Config(sim.Responder(), "us-east-1")
	cfg.RetryMaxAttempts = 3
	clients := awsapi.NewClients(cfg)
	ev, ok := sim.HealthEvent()
	if !ok {
		t.Fatal("no detection")
	}
	trig, err := trigger.Parse(ev)
	if err != nil {
		t.Fatal(err)
	}
	return New(func(context.Context) (*awsapi.Clients, error) { return clients, nil }), sim, trig
}

// With no time left before the deadline (a Lambda invocation at its end),
// containment still runs first, the investigation is skipped, and the
// summary leaves it to a person.
func TestRespondContainsFirstWhenNoTimeIsLeft(t *testing.T) {
	e, sim, trig := simEngine(t)
	res, err := e.Respond(context.Background(), casefile.Ref{Dir: t.TempDir() + "/case"}, RespondRequest{
		Trigger: trig, Key: trig.Keys[0], Deadline: time.Now(), LookupRate: 50,
	}, Hooks{})
	if err != nil {
		t.Fatalf("Respond: %v", err)
	}
	if k, _ := sim.Key(trig.Keys[0]); k.Status != "Inactive" {
		t.Errorf("the key is %s", k.Status)
	}
	for _, c := range res.Contain.Credentials {
		if c.State != playbook.CredInactive && c.State != playbook.CredDenied {
			t.Errorf("%s %s is %s", c.Kind, c.ID, c.State)
		}
	}
	if res.Investigation != nil || res.Complete || res.Budget != 0 {
		t.Errorf("investigated with no time left: budget %s, %+v", res.Budget, res.Investigation)
	}
	if !strings.Contains(strings.Join(res.Left, "\n"), "keyleak investigate --key "+trig.Keys[0]) ||
		!strings.Contains(res.Text(), "no time was left to investigate") {
		t.Errorf("the summary does not leave the investigation to a person:\n%s", res.Text())
	}
	if len(res.Reports) == 0 {
		t.Error("no report written")
	}
}

// A budget that runs out keeps what was found, says so, and is a partial
// result, not a failure.
func TestRespondBudgetRunsOut(t *testing.T) {
	e, _, trig := simEngine(t)
	res, err := e.Respond(context.Background(), casefile.Ref{Dir: t.TempDir() + "/case"}, RespondRequest{
		Trigger: trig, Key: trig.Keys[0], Budget: time.Nanosecond, LookupRate: 50,
	}, Hooks{})
	var partial *PartialError
	if !errors.As(err, &partial) || !strings.Contains(err.Error(), "time budget") {
		t.Fatalf("Respond: %v, want a partial result naming the budget", err)
	}
	if res == nil || res.Complete || res.Contain == nil || res.Contain.KeyStatus != "Inactive" {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(strings.Join(res.Left, "\n"), "finish the investigation") {
		t.Errorf("the summary does not say the investigation is unfinished:\n%s", res.Text())
	}
}

// Where the key was found becomes the place keyleak scan looks.
func TestGitHubRepo(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme-shop/deploy-pipeline/blob/5f1c2e7/ci/deploy.sh":  "https://github.com/acme-shop/deploy-pipeline.git",
		"https://github.com/example-org/example-repo/security/secret-scanning/42": "https://github.com/example-org/example-repo.git",
		"https://github.com/example-org/example-repo.git":                         "https://github.com/example-org/example-repo.git",
		"https://github.com/example-org":                                          "",
		"https://gist.github.com/someone/0123":                                    "",
		"http://github.com/a/b":                                                   "",
		"":                                                                        "",
	} {
		if got := gitHubRepo(in); got != want {
			t.Errorf("gitHubRepo(%q) = %q, want %q", in, got, want)
		}
	}
}
