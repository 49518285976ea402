package playbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ConfirmFunc is asked before a step's actions run, with exactly the calls
// about to be made. The TUI asks the responder; --yes answers true.
type ConfirmFunc func(ctx context.Context, step Step, actions []Action) (bool, error)

// Runner runs steps of the runbook on a case: journaled, resumable,
// confirmable. Build one with NewRunner.
type Runner struct {
	c              *Case
	iam            IAM
	sts            STS
	dryRun         bool
	confirm        ConfirmFunc
	now            func() time.Time
	progress       func(Progress)
	force          bool
	responderKeyID string
	trail          *TrailClients
	leakedAt       time.Time
	// evidence, when set, keeps evidence before each removal (WithEvidence).
	evidence HTTPDoer
}

// Option configures a Runner.
type Option func(*Runner)

// WithDryRun makes the runner plan every step and change nothing: read
// calls are made, no write call, and the journal gets the plan as notes only.
func WithDryRun(on bool) Option { return func(r *Runner) { r.dryRun = on } }

// WithConfirm sets the hook asked before each step that has actions.
// Without it, steps run unasked, except destructive ones, which are declined.
func WithConfirm(fn ConfirmFunc) Option { return func(r *Runner) { r.confirm = fn } }

// WithClock sets the clock (default time.Now); the revoke time comes from it.
func WithClock(now func() time.Time) Option { return func(r *Runner) { r.now = now } }

// WithProgress sets a callback for live progress. It is called from the
// runner's goroutine only, never concurrently.
func WithProgress(fn func(Progress)) Option { return func(r *Runner) { r.progress = fn } }

// WithForce lets the responder contain and revoke as the key's own user
// through a session (losing that session), which is refused otherwise. It
// never allows acting with the leaked key itself.
func WithForce(on bool) Option { return func(r *Runner) { r.force = on } }

// WithResponderKeyID tells the runner the access key ID of the responder's
// own credentials (from aws.Config.Credentials.Retrieve), so the self-lockout
// guard can tell the leaked key and its sessions from other credentials.
func WithResponderKeyID(id string) Option { return func(r *Runner) { r.responderKeyID = id } }

// NewRunner returns a runner for the case's key with the given AWS clients
// (*iam.Client and *sts.Client satisfy IAM and STS).
func NewRunner(c *Case, iamc IAM, stsc STS, opts ...Option) *Runner {
	r := &Runner{c: c, iam: iamc, sts: stsc, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Run runs the given steps (DefaultSteps when none) in runbook order;
// identify always runs first. Steps the journal shows done are not redone.
// The summary is returned even with an error. Errors: *KeyIDError,
// *NotFoundError, *AccessDeniedError, *CredentialsError, *SelfLockoutError,
// *RootKeyError, *TemporaryKeyError, *UsageError, *UnreconciledError, and
// *PartialError when something was changed or read-only steps failed.
func (r *Runner) Run(ctx context.Context, steps ...string) (*Summary, error) {
	if len(steps) == 0 {
		steps = DefaultSteps()
	}
	return r.run(ctx, steps, nil)
}

// RevokeRoleSessions revokes the sessions of the given roles (role ARNs or
// assumed-role session ARNs, as the investigation finds them in CloudTrail)
// by putting the revoke policy on each role, time moving forward only. It
// runs identify first, like every run.
func (r *Runner) RevokeRoleSessions(ctx context.Context, roleARNs []string) (*Summary, error) {
	for _, a := range roleARNs {
		if _, err := RoleNameFromARN(a); err != nil {
			return nil, err
		}
	}
	return r.run(ctx, []string{StepRevokeRoleSessions}, roleARNs)
}

// ContainFound stops what the events given by WithFoundEvents show the key
// minted in their account: the steps contain-minted, remove-minted-passwords
// and revert-minted-changes, confirmed and journaled as in Run, and the
// credentials read back. contain --org runs it in each account the key's
// role sessions reached, with IAM clients of that account.
func (r *Runner) ContainFound(ctx context.Context) (*Summary, error) {
	if r.trail == nil || r.trail.Found == nil {
		return nil, &UsageError{Reason: "ContainFound needs the events (WithFoundEvents)"}
	}
	return r.run(ctx, []string{StepContainMinted, StepRemoveMintedLogins, StepRevertMinted}, nil)
}

type prepared struct {
	done chan struct{}
	err  error
}

func (r *Runner) newState(roles []string) *State {
	st := &State{KeyID: r.c.Meta().KeyID, Force: r.force, Roles: roles, now: r.now,
		trail: r.trail, leakedAt: r.leakedAt, minted: newDiscovery(), containEnded: make(chan struct{})}
	st.Responder.KeyID = r.responderKeyID
	if !r.dryRun {
		st.journal = r.c.Journal()
	}
	rec := &recorder{j: st.journal, now: st.Now, state: st}
	st.rec = rec
	st.IAM = journaledIAM{c: r.iam, r: rec}
	st.STS = journaledSTS{c: r.sts, r: rec}
	return st
}

func (r *Runner) emit(p Progress) {
	if r.progress != nil {
		if p.Time.IsZero() {
			p.Time = r.now().UTC()
		}
		r.progress(p)
	}
}

// journal appends an entry unless this is a dry run (dry runs journal
// plan notes only, through note).
func (r *Runner) journal(e Entry) error {
	if r.dryRun {
		return nil
	}
	e.Time = r.now()
	_, err := r.c.Journal().Append(e)
	return err
}

func (r *Runner) run(ctx context.Context, ids []string, roles []string) (*Summary, error) {
	steps, err := selectSteps(ids)
	if err != nil {
		return nil, err
	}
	if err := ValidateKeyID(r.c.Meta().KeyID); err != nil {
		return nil, err
	}
	st := r.newState(roles)
	sum := &Summary{Case: r.c.Dir(), KeyID: st.KeyID, DryRun: r.dryRun}
	for _, s := range steps {
		st.wantCreds = st.wantCreds || s.ID == StepContain || s.ID == StepContainMinted
	}

	ctx0 := ctx
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	prepares := map[string]*prepared{}
	startPrepares := func(later []Step) {
		for _, s := range later {
			if s.Prepare == nil {
				continue
			}
			p := &prepared{done: make(chan struct{})}
			prepares[s.ID] = p
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(p.done)
				p.err = s.Prepare(withStep(ctx, s.ID), st)
			}()
		}
	}

	var ids2 []string
	for _, s := range steps {
		ids2 = append(ids2, s.ID)
	}
	mode := ""
	if r.dryRun {
		mode = " (dry run: nothing will be changed)"
	}
	if err := r.journal(Entry{Kind: KindNote, Message: fmt.Sprintf("run started for %s: steps %s%s", st.KeyID, strings.Join(ids2, ", "), mode)}); err != nil {
		return nil, err
	}

	var (
		changed   []string      // steps whose changes are in place
		firstFail *PartialError // first read-only step that failed
		runErr    error
	)
	// The search for what the key minted holds its CloudTrail lookups back
	// until the key is off: dozens of journaled lookups starting with the
	// deactivation's own round trip would delay it.
	var containEnded sync.Once
	endContain := func() { containEnded.Do(func() { close(st.containEnded) }) }
	defer endContain()
	if !slices.ContainsFunc(steps, func(s Step) bool { return s.ID == StepContain }) {
		endContain()
	}
	for i, s := range steps {
		sr, err := r.runStep(ctx, st, s, i == 0, prepares)
		if s.ID == StepContain {
			endContain()
		}
		sum.Steps = append(sum.Steps, sr)
		if i == 0 && err == nil {
			// A run in another account of the organization (ContainFound)
			// leaves the case's account, the key's, as it is.
			if !r.dryRun && st.Responder.Account != "" && (r.trail == nil || r.trail.Found == nil) {
				if err := r.c.SetAccount(st.Responder.Account); err != nil {
					runErr = err
					break
				}
			}
			startPrepares(steps[1:])
		}
		if err == nil {
			if s.Apply != nil && (sr.Status == StatusDone || sr.Status == StatusAlreadyDone) {
				changed = append(changed, s.ID)
			}
			continue
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			runErr = err
			break
		}
		switch {
		case i == 0:
			runErr = err
		case s.Apply == nil:
			st.Warn("step %s failed: %v", s.ID, err)
			if firstFail == nil {
				firstFail = &PartialError{Step: s.ID, Err: err}
			}
			continue
		case len(changed) > 0:
			runErr = &PartialError{Step: s.ID, Done: changed, Err: err}
		default:
			runErr = err
		}
		break
	}
	if runErr == nil && firstFail != nil {
		firstFail.Done = changed
		runErr = firstFail
	}
	if runErr == nil {
		runErr = mintedError(st, changed)
	}
	cancel()
	wg.Wait()
	r.readBack(ctx0, st)
	r.fillSummary(sum, st)
	if runErr == nil {
		_ = r.journal(Entry{Kind: KindNote, Message: "run finished"})
	} else {
		_ = r.journal(Entry{Kind: KindNote, Message: "run stopped: " + runErr.Error()})
	}
	if !r.dryRun {
		a := r.c.Journal().Anchor()
		sum.JournalHead, sum.JournalEntries = a.Head, a.Entries
	}
	return sum, runErr
}

// runStep prepares, plans, confirms and applies one step. A step with Next
// runs in rounds: it plans while its Prepare may still be finding work, and
// after each round's actions Next says whether there is more to plan.
func (r *Runner) runStep(ctx context.Context, st *State, s Step, first bool, prepares map[string]*prepared) (StepResult, error) {
	sr := StepResult{ID: s.ID, Title: s.Title}
	sctx := withStep(ctx, s.ID)
	fail := func(err error) (StepResult, error) {
		sr.Status, sr.Error = StatusFailed, err.Error()
		r.emit(Progress{Step: s.ID, Status: StatusFailed, Message: err.Error()})
		_ = r.journal(Entry{Kind: KindNote, Step: s.ID, Message: "step failed: " + err.Error()})
		return sr, err
	}
	if st.selfLocked {
		sr.Status = StatusSkipped
		sr.Error = "skipped: your own session was revoked with the others"
		r.emit(Progress{Step: s.ID, Status: StatusSkipped, Message: sr.Error})
		return sr, nil
	}
	r.emit(Progress{Step: s.ID, Status: StatusRunning, Message: s.Title})
	var early *prepared // the Prepare a step with rounds does not wait for
	if s.Prepare != nil {
		var err error
		p := prepares[s.ID]
		switch {
		case first:
			err = s.Prepare(sctx, st)
		case p != nil && s.Next != nil:
			early = p
		case p != nil:
			select {
			case <-p.done:
				err = p.err
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			return fail(err)
		}
	}
	var (
		statuses []string
		declined string
		handled  = map[string]bool{} // IDs, and IDs with descriptions, of the actions of earlier rounds
	)
	for {
		var actions []Action
		if s.Plan != nil {
			var err error
			if actions, err = s.Plan(sctx, st); err != nil {
				return fail(err)
			}
		}
		fresh := actions[:0:0]
		for _, a := range actions {
			k := a.ID + "\x00" + a.Description
			if handled[k] || (a.InPlace && handled[a.ID]) {
				continue // an earlier round made it, or found it in place
			}
			handled[k], handled[a.ID] = true, true
			fresh = append(fresh, a)
		}
		status, why, err := r.runActions(ctx, sctx, st, s, &sr, fresh)
		if err != nil {
			return fail(err)
		}
		if len(statuses) == 0 || len(fresh) > 0 {
			statuses = append(statuses, status)
		}
		if why != "" {
			declined = why
		}
		if s.Next == nil {
			break
		}
		more, err := s.Next(sctx, st)
		if err != nil {
			return fail(err)
		}
		if !more {
			break
		}
	}
	if early != nil {
		select {
		case <-early.done:
			if early.err != nil {
				return fail(early.err)
			}
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	sr.Status = combineStatuses(statuses)
	if sr.Status == StatusDeclined {
		sr.Error = declined
		r.emit(Progress{Step: s.ID, Status: StatusDeclined, Message: declined})
		return sr, nil
	}
	r.emit(Progress{Step: s.ID, Status: sr.Status})
	return sr, nil
}

// combineStatuses is the status of a step from those of its rounds: a
// declined round makes the step declined, a round that changed AWS makes it
// done, and so on down to nothing to do.
func combineStatuses(statuses []string) string {
	for _, want := range []string{StatusDeclined, StatusDone, StatusPlanned, StatusAlreadyDone} {
		if slices.Contains(statuses, want) {
			return want
		}
	}
	return statuses[0]
}

// runActions confirms and applies one round of a step's planned actions,
// appending their results to sr. It returns the round's status, why it was
// declined if it was, and the error that fails the step.
func (r *Runner) runActions(ctx, sctx context.Context, st *State, s Step, sr *StepResult, actions []Action) (string, string, error) {
	// AWS is the truth, the journal the evidence. The plan was made from
	// the live state: an action marked InPlace is already in effect, and
	// the journal only says whether this case did it (or was interrupted
	// doing it, which is then reconciled into the journal). An action the
	// journal shows done or started that the plan could not judge is first
	// checked against AWS: in place, it is not redone; undone since (a key
	// turned back on, a policy deleted), it is done again, and that is
	// recorded.
	j := r.c.Journal()
	var (
		todo    []int              // indexes into sr.Actions of the actions to make
		planned = map[int]Action{} // the action of each sr.Actions entry of this round
		listed  int                // entries this round added to sr.Actions
	)
	for _, a := range actions {
		ar := ActionResult{ID: a.ID, Description: a.Description, Status: StatusPlanned}
		if !a.InPlace {
			sr.Actions = append(sr.Actions, ar)
			planned[len(sr.Actions)-1] = a
			todo = append(todo, len(sr.Actions)-1)
			listed++
			continue
		}
		rec := j.Action(a.ID)
		switch {
		case rec.Done:
			ar.Status, ar.Time = StatusAlreadyDone, rec.DoneAt
		case rec.Pending && !r.dryRun:
			if err := r.reconciled(s, a, "found done in AWS after an interrupted run"); err != nil {
				return "", "", err
			}
			ar.Status, ar.Time = StatusReconciled, r.now().UTC()
		case !r.dryRun:
			// In place, and the journal has no record of it (done by
			// someone else, or by a run killed before its intent was
			// kept): the journal records what AWS shows, so that the
			// report does not call it "not done".
			if err := r.reconciled(s, a, "found in place in AWS with no record of it in this case"); err != nil {
				return "", "", err
			}
			ar.Status, ar.Time = StatusReconciled, r.now().UTC()
		default:
			continue // a dry run records nothing
		}
		sr.Actions = append(sr.Actions, ar)
		planned[len(sr.Actions)-1] = a
		listed++
		r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: ar.Status, Message: "in place in AWS"})
	}
	if len(todo) == 0 {
		switch {
		case listed > 0:
			return StatusAlreadyDone, "", nil
		case s.Apply != nil:
			return StatusNothingToDo, "", nil
		}
		return StatusDone, "", nil
	}
	if r.dryRun {
		var lines []string
		for _, i := range todo {
			lines = append(lines, sr.Actions[i].Description)
		}
		if _, err := r.c.Journal().Append(Entry{Time: r.now(), Kind: KindPlan, Step: s.ID, Message: "dry run, would call: " + strings.Join(lines, "; ")}); err != nil {
			return "", "", err
		}
		for _, i := range todo {
			r.emit(Progress{Step: s.ID, ActionID: sr.Actions[i].ID, Description: sr.Actions[i].Description, Status: StatusPlanned})
		}
		return StatusPlanned, "", nil
	}
	unjudged := todo
	todo = nil
	for _, i := range unjudged {
		a := planned[i]
		rec := j.Action(a.ID)
		ar := &sr.Actions[i]
		if !rec.Done && !rec.Pending {
			todo = append(todo, i)
			continue
		}
		if s.Check == nil {
			if rec.Pending && !s.Idempotent {
				ar.Status = StatusFailed
				return "", "", &UnreconciledError{ActionID: a.ID}
			}
			todo = append(todo, i)
			continue
		}
		ok, err := s.Check(sctx, st, a)
		if err != nil {
			ar.Status, ar.Error = StatusFailed, err.Error()
			return "", "", fmt.Errorf("check action %s against AWS: %w", a.ID, err)
		}
		switch {
		case ok && rec.Done:
			ar.Status, ar.Time = StatusAlreadyDone, rec.DoneAt
			r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: ar.Status, Message: "in place in AWS, done in an earlier run"})
		case ok:
			if err := r.reconciled(s, a, "found done in AWS after an interrupted run"); err != nil {
				return "", "", err
			}
			ar.Status, ar.Time = StatusReconciled, r.now().UTC()
			r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: ar.Status, Message: "found done after an interrupted run"})
		case rec.Done:
			why := fmt.Sprintf("found undone in AWS at %s although this case did it at %s: doing it again",
				r.now().UTC().Format(time.RFC3339), rec.DoneAt.UTC().Format(time.RFC3339))
			if err := r.journal(Entry{Kind: KindNote, Step: s.ID, ActionID: a.ID, Action: a.Call(), Message: why}); err != nil {
				return "", "", err
			}
			ar.Found = why
			st.Warn("%s: %s", a.Description, why)
			todo = append(todo, i)
		default:
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return StatusAlreadyDone, "", nil
	}
	pending := make([]Action, 0, len(todo))
	for _, i := range todo {
		pending = append(pending, planned[i])
	}
	approved, why := true, ""
	switch {
	case r.confirm != nil:
		ok, err := r.confirm(ctx, s, pending)
		if err != nil {
			return "", "", fmt.Errorf("confirm step %s: %w", s.ID, err)
		}
		approved, why = ok, "declined by the responder"
	case s.Destructive:
		approved, why = false, "not run: it cannot be undone and needs confirmation (run interactively, or with --yes)"
	}
	if !approved {
		if err := r.journal(Entry{Kind: KindDecision, Step: s.ID, Message: why}); err != nil {
			return "", "", err
		}
		for _, i := range todo {
			sr.Actions[i].Status = StatusDeclined
		}
		st.Warn("step %s %s", s.ID, why)
		return StatusDeclined, why, nil
	}
	if r.confirm != nil {
		if err := r.journal(Entry{Kind: KindDecision, Step: s.ID, Message: "approved by the responder"}); err != nil {
			return "", "", err
		}
	}
	for _, i := range todo {
		a := planned[i]
		ar := &sr.Actions[i]
		r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: StatusRunning})
		err := s.Apply(withAction(ctx, s.ID, &a), st, a)
		var already *alreadyDone
		switch {
		case errors.As(err, &already):
			if err := r.reconciled(s, a, already.reason); err != nil {
				return "", "", err
			}
			ar.Status = StatusReconciled
		case err != nil:
			ar.Status, ar.Error = StatusFailed, err.Error()
			r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: StatusFailed, Message: err.Error()})
			return "", "", err
		default:
			ar.Status = StatusDone
		}
		ar.Time = r.now().UTC()
		r.emit(Progress{Step: s.ID, ActionID: a.ID, Description: a.Description, Status: ar.Status})
	}
	return StatusDone, "", nil
}

func (r *Runner) reconciled(s Step, a Action, why string) error {
	return r.journal(Entry{Kind: KindReconciled, Step: s.ID, ActionID: a.ID, Action: a.Call(), Params: a.Params,
		Description: a.Description, Message: why})
}

// readBack reads, after the steps, what the summary says about the account:
// the key's status and the owner's revoke policy, as AWS has them now. What
// cannot be read is said so, never filled in from the journal. The reads
// change nothing and belong to no step, so they are not journaled.
func (r *Runner) readBack(ctx context.Context, st *State) {
	st.live = liveState{}
	if st.wantCreds {
		defer func() { st.live.creds = readBackMinted(ctx, r.iam, st) }()
	}
	if st.Owner == "" && !st.Root {
		return // identify did not get as far as the owner
	}
	var wg sync.WaitGroup
	if !st.Root || st.Responder.IsRoot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := listKeysWith(ctx, r.iam, st.KeyID, st.Owner)
			if err != nil {
				st.Warn("could not read the key's status back from IAM: %v", err)
				return
			}
			st.live.keys, st.live.keysRead = keys, true
		}()
	}
	if !st.Root {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := readUserRevokeTimeWith(ctx, r.iam, st.Owner)
			if err != nil {
				st.Warn("could not read the revoke policy back from IAM: %v", err)
				return
			}
			st.live.revokedBefore, st.live.revokeRead = t, true
		}()
	}
	wg.Wait()
}

func (r *Runner) fillSummary(sum *Summary, st *State) {
	sum.Account = st.Responder.Account
	sum.Owner = st.Owner
	sum.RootKey = st.Root
	sum.Responder = st.Responder.ARN
	sum.LastUsed = st.LastUsed
	sum.OwnerKeys = st.Keys
	sum.Access = st.Access
	sum.Quarantine = st.Quarantine
	sum.Password = st.LoginProfile
	sum.Preflight = st.Preflight
	sum.FoundActiveAgain = st.FoundActiveAgain
	sum.KeyStatus = KeyStatusUnknown
	if st.live.keysRead {
		sum.OwnerKeys = st.live.keys
		sum.KeyStatus = keyGone
		for _, k := range st.live.keys {
			if k.ID == st.KeyID {
				sum.KeyStatus = k.Status
			}
		}
	}
	if st.live.revokeRead {
		sum.RevokedBefore = st.live.revokedBefore
	}
	sum.Credentials = st.live.creds
	if st.trail != nil {
		sum.MintedSearch = st.minted.result()
	}
	sum.ReadAt = st.Now()
	sum.Warnings = st.Warnings()
}

// Undo reverts the done actions of a step that has an Undo (contain:
// reactivate the key; revoke-sessions: remove the policy; …), newest first,
// and journals each. It returns what it reverted.
func (r *Runner) Undo(ctx context.Context, stepID string) ([]ActionResult, error) {
	s, ok := LookupStep(stepID)
	if !ok {
		return nil, &UsageError{Reason: fmt.Sprintf("no step %q", stepID)}
	}
	if s.Undo == nil {
		return nil, &UsageError{Reason: fmt.Sprintf("step %s cannot be undone", stepID)}
	}
	entries, err := ReadJournal(r.c.Journal().Path())
	if err != nil {
		return nil, err
	}
	st := r.newState(nil)
	var ids []string
	seen := map[string]bool{}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Step == stepID && e.ActionID != "" && !seen[e.ActionID] && !strings.HasSuffix(e.ActionID, "/undo") {
			seen[e.ActionID] = true
			ids = append(ids, e.ActionID)
		}
	}
	var out []ActionResult
	for _, id := range ids {
		rec := r.c.Journal().Action(id)
		if !rec.Done {
			continue
		}
		svc, name, _ := strings.Cut(rec.Action, ":")
		a := Action{ID: id, Service: svc, Name: name, Params: rec.Params}
		undoID := &Action{ID: id + "/undo", Service: svc, Params: rec.Params, Description: "undo " + id}
		ar := ActionResult{ID: id, Description: undoID.Description}
		if r.dryRun {
			ar.Status = StatusPlanned
			out = append(out, ar)
			continue
		}
		if err := s.Undo(withAction(ctx, stepID, undoID), st, a); err != nil {
			ar.Status, ar.Error = StatusFailed, err.Error()
			return append(out, ar), fmt.Errorf("undo %s: %w", id, err)
		}
		if err := r.journal(Entry{Kind: KindUndone, Step: stepID, ActionID: id, Message: "undone at the responder's request"}); err != nil {
			return out, err
		}
		ar.Status, ar.Time = StatusDone, r.now().UTC()
		out = append(out, ar)
	}
	return out, nil
}
