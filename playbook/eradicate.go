package playbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/keyleak/keyleak/resource"
)

// StepEradicate removes what the attacker created, one confirmation per
// resource.
const StepEradicate = "eradicate"

// Target is one resource to remove, as the assessment's inventory lists it.
// Details carry what removal needs besides the ID (resource.Resource's
// Details): userName for an access key or login profile; groupId,
// protocol, fromPort, toPort and cidr for an ingress rule.
type Target struct {
	Type    string            `json:"type"`
	ID      string            `json:"id"`
	Region  string            `json:"region"`
	Details map[string]string `json:"details,omitempty"`
}

// Key names the target: type, region and ID, as --yes lists take them.
func (t Target) Key() string { return t.Type + "|" + t.Region + "|" + t.ID }

// String is how the plan and the prompt name the target.
func (t Target) String() string {
	return fmt.Sprintf("%s %s (%s)", strings.TrimPrefix(t.Type, "AWS::"), t.ID, t.Region)
}

func (t Target) resource() resource.Resource {
	return resource.Resource{Type: t.Type, ID: t.ID, Region: t.Region, Details: t.Details}
}

const eradicateWhy = "Whatever the attacker created keeps costing money or keeps a door open after the key is stopped: " +
	"instances mine, backdoor users and keys let the attacker back in. Each resource is removed only when you confirm it."

// eradicateStep is the step's declaration in Steps(): its Calls feed
// RequiredActions. It needs the resources the investigation found, so it
// does its work through Runner.Eradicate; run by ID alone it plans nothing.
func eradicateStep() Step {
	return Step{
		ID:          StepEradicate,
		Title:       "Remove what the attacker created",
		Why:         eradicateWhy,
		Destructive: true,
		Idempotent:  true,
		Optional:    true,
		// Every call of the kinds keyleak removes, in Plan, Check or Apply.
		Calls: resource.Calls(true),
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			st.Warn("step %s removes the resources an investigation found: it runs through Runner.Eradicate with them, and has nothing to do on its own", StepEradicate)
			return nil, nil
		},
	}
}

// SelectTargets picks the targets named by keys (Target.Key, or the bare
// resource ID when it is unambiguous), for --yes with an explicit list. An
// unknown name is a usage error that lists the known ones.
func SelectTargets(all []Target, names []string) ([]Target, error) {
	var out []Target
	for _, n := range names {
		var hits []Target
		for _, t := range all {
			if t.Key() == n || t.ID == n {
				hits = append(hits, t)
			}
		}
		switch len(hits) {
		case 1:
			if !slices.ContainsFunc(out, func(t Target) bool { return t.Key() == hits[0].Key() }) {
				out = append(out, hits[0])
			}
		case 0:
			var known []string
			for _, t := range all {
				known = append(known, t.ID)
			}
			return nil, &UsageError{Reason: fmt.Sprintf("no resource %q to remove; the resources are: %s", n, strings.Join(known, ", "))}
		default:
			return nil, &UsageError{Reason: fmt.Sprintf("%q names %d resources (one per region); give TYPE|REGION|ID", n, len(hits))}
		}
	}
	return out, nil
}

// Eradicate removes the targets, one step run per resource, each with its
// kind in package resource: the kind plans the exact calls (reading the
// live state, e.g. a user's keys and policies), the runner asks the confirm
// hook once for that resource, journals every removal call before and after
// (the reads that plan and verify change nothing and are not journaled),
// and on a re-run skips what the journal shows done.
// Identify runs first, as in every run. Without a confirm hook nothing is
// removed (the step is destructive); in a dry run the plan is journaled
// only. Resources made moot by another target (a user's keys when the user
// goes) are folded into it. A failed resource does not stop the others;
// the run then returns a *PartialError.
func (r *Runner) Eradicate(ctx context.Context, targets []Target, clients resource.Clients) (*Summary, error) {
	if err := ValidateKeyID(r.c.Meta().KeyID); err != nil {
		return nil, err
	}
	targets, err := orderTargets(targets)
	if err != nil {
		return nil, err
	}
	st := r.newState(nil)
	sum := &Summary{Case: r.c.Dir(), KeyID: st.KeyID, DryRun: r.dryRun}
	mode := ""
	if r.dryRun {
		mode = " (dry run: nothing will be changed)"
	}
	if err := r.journal(Entry{Kind: KindNote, Message: fmt.Sprintf("eradicate started for %s: %d resource(s)%s", st.KeyID, len(targets), mode)}); err != nil {
		return nil, err
	}
	finish := func(runErr error) (*Summary, error) {
		r.readBack(ctx, st)
		r.fillSummary(sum, st)
		if runErr == nil {
			_ = r.journal(Entry{Kind: KindNote, Message: "eradicate finished"})
		} else {
			_ = r.journal(Entry{Kind: KindNote, Message: "eradicate stopped: " + runErr.Error()})
		}
		if !r.dryRun {
			a := r.c.Journal().Anchor()
			sum.JournalHead, sum.JournalEntries = a.Head, a.Entries
		}
		return sum, runErr
	}
	sr, err := r.runStep(ctx, st, identifyStep(), true, nil)
	sum.Steps = append(sum.Steps, sr)
	if err != nil {
		return finish(err)
	}
	if !r.dryRun && st.Responder.Account != "" {
		if err := r.c.SetAccount(st.Responder.Account); err != nil {
			return finish(err)
		}
	}
	rec := &recorder{j: st.journal, now: st.Now, state: st}
	var (
		done      []string
		firstFail error
	)
	for _, t := range targets {
		s := r.targetStep(t, &clients, rec)
		sr, err := r.runStep(ctx, st, s, false, nil)
		sr.Title = s.Title
		sum.Steps = append(sum.Steps, sr)
		if err == nil {
			if sr.Status == StatusDone || sr.Status == StatusAlreadyDone {
				done = append(done, t.Key())
			}
			continue
		}
		if ctx.Err() != nil {
			return finish(errors.Join(err, ctx.Err()))
		}
		if firstFail == nil {
			firstFail = fmt.Errorf("remove %s: %w", t, err)
		}
	}
	if firstFail != nil {
		return finish(&PartialError{Step: StepEradicate, Done: done, Err: firstFail})
	}
	return finish(nil)
}

// orderTargets checks the targets, drops those another target removes with
// it (an access key or login profile of a user being removed, an ingress
// rule of a group being deleted: the kind's RemovedWith) and sorts them
// into the removal order of resource.Kinds.
func orderTargets(in []Target) ([]Target, error) {
	chosen := map[string]bool{}
	for _, t := range in {
		if !resource.Removable(t.Type) {
			return nil, &UsageError{Reason: fmt.Sprintf("keyleak cannot remove %s %s; remove it by hand", t.Type, t.ID)}
		}
		if t.ID == "" {
			return nil, &UsageError{Reason: fmt.Sprintf("a %s target has no ID", t.Type)}
		}
		chosen[t.Key()] = true
	}
	var out []Target
	seen := map[string]bool{}
	for _, t := range in {
		if seen[t.Key()] {
			continue
		}
		if k, _ := resource.Lookup(t.Type); k.RemovedWith != nil {
			typ, id := k.RemovedWith(t.resource())
			if id != "" && chosen[Target{Type: typ, ID: id, Region: t.Region}.Key()] {
				continue
			}
		}
		seen[t.Key()] = true
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return resource.Order(out[i].Type) < resource.Order(out[j].Type) })
	return out, nil
}

// targetStep is the eradicate step for one resource: the runner confirms
// each resource on its own. The kind plans, makes and verifies the calls;
// each call is journaled here, intent before and outcome after, so a kind
// needs no journaling of its own. With evidence on, a kind that has
// Evidence keeps it first, as one more action of the same confirmation.
func (r *Runner) targetStep(t Target, c *resource.Clients, rec *recorder) Step {
	k, _ := resource.Lookup(t.Type) // orderTargets let only removable kinds through
	s := eradicateStep()
	s.Title = "Remove " + t.String()
	s.Plan = func(ctx context.Context, st *State) ([]Action, error) {
		calls, err := k.Plan(ctx, c, t.resource())
		if err != nil {
			return nil, err
		}
		actions := make([]Action, 0, len(calls)+1)
		if r.evidence != nil && k.Evidence != nil && len(calls) > 0 {
			actions = append(actions, r.evidenceAction(t, k))
		}
		for _, call := range calls {
			actions = append(actions, Action{ID: StepEradicate + "/" + call.ID, Service: call.Service, Name: call.API,
				Params: call.Params, Description: call.Description})
		}
		return actions, nil
	}
	s.Apply = func(ctx context.Context, st *State, a Action) error {
		if a.Name == evidenceAPI {
			return r.keepEvidence(ctx, st, rec, t, k, c)
		}
		// The request is the action's Params, which the intent already carries.
		_, err := record[any](ctx, rec, a.Service, a.Name, nil, func() (any, error) { return k.Apply(ctx, c, a.resourceCall()) })
		var gone *resource.GoneError
		switch {
		case errors.As(err, &gone):
			return AlreadyDone(gone.Error())
		case err != nil:
			return fmt.Errorf("%s: %w", strings.ToLower(a.Name[:1])+a.Name[1:], err)
		}
		return nil
	}
	s.Check = func(ctx context.Context, st *State, a Action) (bool, error) {
		if a.Name == evidenceAPI {
			return r.evidenceAction(t, k).InPlace, nil
		}
		return k.Done(ctx, c, a.resourceCall())
	}
	return s
}

// resourceCall is the action as its kind takes it back.
func (a Action) resourceCall() resource.Call {
	return resource.Call{ID: strings.TrimPrefix(a.ID, StepEradicate+"/"), Service: a.Service, API: a.Name,
		Params: a.Params, Description: a.Description}
}

// Removable tells whether the eradicate step can remove resources of the
// type.
func Removable(typ string) bool { return resource.Removable(typ) }
