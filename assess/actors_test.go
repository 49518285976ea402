package assess_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/trail"
)

// TestActorCatalogHasProvenance checks every actor cites research, and its
// indicators become threat-actor rules that say whom they point to.
func TestActorCatalogHasProvenance(t *testing.T) {
	actors, err := assess.Actors()
	if err != nil {
		t.Fatal(err)
	}
	if len(actors) < 5 {
		t.Fatalf("%d actors", len(actors))
	}
	cat := builtin(t)
	for _, a := range actors {
		if len(a.Indicators) == 0 || len(a.References) == 0 || a.Reported == "" {
			t.Errorf("actor %s: %d indicators, references %v, reported %q", a.ID, len(a.Indicators), a.References, a.Reported)
		}
		for _, ind := range a.Indicators {
			r, ok := cat.Rule("actor." + a.ID + "." + ind.ID)
			if !ok {
				t.Errorf("indicator %s.%s is not in the catalog", a.ID, ind.ID)
				continue
			}
			if r.Category != "threat-actor" || r.Actor == nil || r.Actor.Name != a.Name || len(r.Actor.References) == 0 ||
				r.Severity != assess.SeverityInfo || !strings.Contains(r.Explanation, a.Name) {
				t.Errorf("rule %s: %+v", r.ID, r)
			}
		}
	}
}

func TestActorIndicatorMatchesUserAgent(t *testing.T) {
	cat := builtin(t)
	e := record(t, "iam.amazonaws.com", "CreateUser", map[string]any{"userAgent": "S3 Browser 9.5.5 https://s3browser.com"})
	if got := strings.Join(ids(cat.Match(&e)), ","); !strings.Contains(got, "actor.gui-vil.s3-browser-iam") {
		t.Errorf("S3 Browser CreateUser matched %s", got)
	}
	e = record(t, "iam.amazonaws.com", "CreateUser", nil)
	if got := strings.Join(ids(cat.Match(&e)), ","); strings.Contains(got, "actor.") {
		t.Errorf("CreateUser with aws-cli matched %s", got)
	}
}

// TestActorCallPattern checks a call-pattern indicator: SES's account,
// quotas and identities read within an hour flag all three calls and are
// reported with the actor; two of them, or all three spread over more than
// the window, are not.
func TestActorCallPattern(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	calls := []struct{ source, name string }{
		{"ses.amazonaws.com", "GetAccount"}, {"servicequotas.amazonaws.com", "ListServiceQuotas"}, {"ses.amazonaws.com", "ListIdentities"},
	}
	run := func(n int, step time.Duration) *assess.Assessment {
		inv := &trail.Investigation{Key: "AKIAAAAAAAAAAAAAAAAA", Keys: []trail.KeyLink{{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA"}}}
		for i, c := range calls[:n] {
			e := record(t, c.source, c.name, map[string]any{"eventTime": t0.Add(time.Duration(i) * step).Format(time.RFC3339),
				"eventID": fmt.Sprintf("ev-%d", i)})
			inv.Events = append(inv.Events, e)
		}
		a, err := assess.Assess(inv, assess.Options{LeakedAt: t0.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	const id = "actor.ses-abuse-tooling.ses-sending-check"
	a := run(3, 10*time.Minute)
	if len(a.Actors) != 1 || a.Actors[0].RuleID != id || a.Actors[0].Events != 3 || a.Actors[0].Actor.Name != "SES abuse tooling" {
		t.Fatalf("actors %+v, want the SES check on 3 events", a.Actors)
	}
	for _, ea := range a.Events {
		if !strings.Contains(strings.Join(ea.Flags, ","), id) {
			t.Errorf("event %s flags %v", ea.EventID, ea.Flags)
		}
	}
	if a := run(2, 10*time.Minute); len(a.Actors) != 0 {
		t.Errorf("two of the three calls matched %+v", a.Actors)
	}
	if a := run(3, 40*time.Minute); len(a.Actors) != 0 {
		t.Errorf("calls 80 minutes apart matched %+v", a.Actors)
	}
}
