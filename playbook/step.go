package playbook

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Step IDs, in the order Steps returns them.
const (
	StepIdentify            = "identify"
	StepPreflight           = "preflight"
	StepContain             = "contain"
	StepRevokeSessions      = "revoke-sessions"
	StepContainMinted       = "contain-minted"
	StepRemoveMintedLogins  = "remove-minted-passwords"
	StepRevertMinted        = "revert-minted-changes"
	StepScope               = "scope"
	StepDeactivateOtherKeys = "deactivate-other-keys"
	StepRemovePassword      = "remove-console-password"
	StepRevokeRoleSessions  = "revoke-role-sessions"
	StepDeleteKey           = "delete-key"
)

// Step is one declared step of the runbook. The runner calls, in order:
// Prepare (read-only look-ups; the runner starts those of later steps as
// soon as identify is done, so they overlap with containment), Plan (what
// AWS calls the step would make, with the live state in hand), the confirm
// hook, then Apply once per planned action.
type Step struct {
	ID    string
	Title string
	Why   string // one or two sentences for the responder
	// Destructive steps cannot be undone; the runner refuses them without a
	// confirm hook.
	Destructive bool
	// Idempotent steps may repeat an action whose outcome the journal lacks;
	// others must read the live state (Check) first.
	Idempotent bool
	// Optional steps run only when asked for by ID.
	Optional bool
	// Calls lists every AWS action ("iam:UpdateAccessKey") the step may make,
	// in Prepare, Plan, Check, Apply or Undo. RequiredActions is derived
	// from it.
	Calls []string

	Prepare func(ctx context.Context, st *State) error
	Plan    func(ctx context.Context, st *State) ([]Action, error)
	// Apply makes exactly one AWS call: the planned action. It may return
	// AlreadyDone when the action turns out to be unnecessary.
	Apply func(ctx context.Context, st *State, a Action) error
	// Check reads the live state and reports whether the action's effect is
	// already in place; the runner uses it to reconcile an action the journal
	// shows started and not finished.
	Check func(ctx context.Context, st *State, a Action) (bool, error)
	// Undo reverts a done action, where that is possible.
	Undo func(ctx context.Context, st *State, a Action) error
	// Next, when set, makes the step run in rounds, for work that is found
	// while the step runs (credentials the key minted, read from CloudTrail
	// page by page): the runner does not wait for Prepare before the first
	// Plan, and after each round's actions asks Next, which blocks until
	// there is more to plan (true) or the work is complete (false). Each
	// round's actions are confirmed on their own; an action an earlier round
	// of the run handled is not planned again.
	Next func(ctx context.Context, st *State) (bool, error)
}

// Action is one planned AWS call.
type Action struct {
	// ID names the action stably across runs (step/API/target), so the
	// journal can tell whether it was done.
	ID      string
	Service string // "iam"
	Name    string // "UpdateAccessKey"
	// Params are the call's parameters; Apply and Undo work from them alone,
	// so an action can be redone or undone from the journal.
	Params map[string]string
	// Description is the exact call in AWS CLI terms, for the plan and the
	// confirmation prompt.
	Description string
	// InPlace marks an action whose effect the plan found already in place
	// in AWS: it is not made, and the runner only records whether this case
	// did it (or reconciles an interrupted run that did).
	InPlace bool `json:"-"`
}

// Call returns "service:Name", the IAM action name of the call.
func (a Action) Call() string { return a.Service + ":" + a.Name }

// alreadyDone is returned by Apply when the call turned out unnecessary.
type alreadyDone struct{ reason string }

func (e *alreadyDone) Error() string { return e.reason }

// AlreadyDone is returned by Step.Apply when the action's effect is already
// in place and no call was made; the runner journals the reason.
func AlreadyDone(reason string) error { return &alreadyDone{reason: reason} }

// Steps returns every step of the containment runbook, in the order they run.
// It is the one list: docs, the TUI and RequiredActions derive from it.
func Steps() []Step {
	return []Step{
		identifyStep(),
		preflightStep(),
		containStep(),
		revokeSessionsStep(),
		containMintedStep(),
		removeMintedPasswordsStep(),
		revertMintedStep(),
		scopeStep(),
		deactivateOtherKeysStep(),
		removePasswordStep(),
		revokeRoleSessionsStep(),
		deleteKeyStep(),
		eradicateStep(),
	}
}

// DefaultSteps are the IDs `keyleak contain` runs: every step that is not
// optional.
func DefaultSteps() []string {
	var ids []string
	for _, s := range Steps() {
		if !s.Optional {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// LookupStep returns the step with the given ID.
func LookupStep(id string) (Step, bool) {
	for _, s := range Steps() {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// RequiredActions is every AWS action the runbook may call, sorted: what the
// responder's IAM policy must allow. It is derived from the steps' Calls.
func RequiredActions() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range Steps() {
		for _, c := range s.Calls {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	sort.Strings(out)
	return out
}

// selectSteps returns the steps with the given IDs in runbook order, with
// identify always first. An unknown ID is a usage error.
func selectSteps(ids []string) ([]Step, error) {
	want := map[string]bool{StepIdentify: true}
	for _, id := range ids {
		if _, ok := LookupStep(id); !ok {
			var known []string
			for _, s := range Steps() {
				known = append(known, s.ID)
			}
			return nil, fmt.Errorf("select steps: %w", &UsageError{Reason: fmt.Sprintf("no step %q; the steps are %s", id, strings.Join(known, ", "))})
		}
		want[id] = true
	}
	var out []Step
	for _, s := range Steps() {
		if want[s.ID] {
			out = append(out, s)
		}
	}
	return out, nil
}

// UsageError is a mistake in how the playbook was called (unknown step, bad
// role ARN): the CLI maps it to the usage exit code, like ErrInvalidKeyID.
type UsageError struct{ Reason string }

func (e *UsageError) Error() string { return e.Reason }
