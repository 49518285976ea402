// Package rotate replaces an access key with a new one without leaving its
// user with no working key, three attempted keys, or a secret on disk by
// accident: the runbook's Recover step and `keyleak rotate`.
//
// A rotation runs in the key's case directory and journals every AWS call
// before and after it is made, so running it again resumes where it
// stopped. Two kinds of rotation share the code:
//
//   - incident: the case shows the key was contained or investigated. The
//     leaked key is already inactive; a new key is made and handed over,
//     and the leaked key is deleted only once the investigation has run
//     (or with WithForceDelete).
//   - routine: a healthy key. Create → the workload switches (confirmed) →
//     deactivate the old key → watch its last use for a period → delete.
package rotate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/playbook"
)

// IAM is the part of *iam.Client a rotation calls.
type IAM interface {
	ListAccessKeys(ctx context.Context, params *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(ctx context.Context, params *iam.CreateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(ctx context.Context, params *iam.UpdateAccessKeyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(ctx context.Context, params *iam.DeleteAccessKeyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, params *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
}

var _ IAM = (*iam.Client)(nil)

// Step IDs of a rotation, in order; the journal's entries carry them.
const (
	StepSlots      = "rotate-slots"
	StepCreate     = "rotate-create"
	StepHandover   = "rotate-handover"
	StepSwitch     = "rotate-switch"
	StepDeactivate = "rotate-deactivate"
	StepWatch      = "rotate-watch"
	StepDelete     = "rotate-delete"
)

// Steps are the declared steps of a rotation, for the docs, the TUI and the
// responder's policy.
func Steps() []playbook.Step {
	return []playbook.Step{
		{ID: StepSlots, Title: "Free a key slot", Destructive: true, Calls: []string{"iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:DeleteAccessKey"},
			Why: "IAM allows two access keys per user. A new key needs a free slot: the leaked key once the investigation has run, or an inactive spare key."},
		{ID: StepCreate, Title: "Create the new key", Calls: []string{"iam:CreateAccessKey", "iam:DeleteAccessKey"},
			Why: "The new key is made only when a slot is free, and a key made by an interrupted run that never reached its destination is deleted first, so the user never has three attempted keys."},
		{ID: StepHandover, Title: "Hand the new key over", Calls: []string{"secretsmanager:DescribeSecret", "secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"},
			Why: "The secret goes only where --to says, once; it is never journaled or written anywhere else."},
		{ID: StepSwitch, Title: "Switch the workload to the new key", Calls: []string{"iam:GetAccessKeyLastUsed"},
			Why: "The old key is deactivated only after you confirm the workload uses the new one, so nothing is left without a working key."},
		{ID: StepDeactivate, Title: "Deactivate the old key", Calls: []string{"iam:UpdateAccessKey"},
			Why: "Deactivate first, delete later: an inactive key can be reactivated if something still needs it."},
		{ID: StepWatch, Title: "Watch the old key", Calls: []string{"iam:GetAccessKeyLastUsed", "cloudtrail:LookupEvents"},
			Why: "Any use of the old key after it was deactivated shows something still depends on it; deletion waits for a quiet period."},
		{ID: StepDelete, Title: "Delete the old key", Destructive: true, Calls: []string{"iam:DeleteAccessKey"},
			Why: "A deleted key can never be reactivated. A leaked key is deleted only after the investigation: until then its last-use record is evidence."},
	}
}

// Modes.
const (
	ModeIncident = "incident"
	ModeRoutine  = "routine"
)

// KeyState is a key of the user as IAM lists it.
type KeyState struct {
	AccessKeyID string    `json:"accessKeyId"`
	Status      string    `json:"status"`
	Created     time.Time `json:"created"`
	Role        string    `json:"role"` // "old", "new", "other"
}

// Summary is the result of a run, stable for -o json.
type Summary struct {
	Case        string                `json:"case"`
	KeyID       string                `json:"key"`
	User        string                `json:"user,omitempty"`
	Mode        string                `json:"mode"`
	DryRun      bool                  `json:"dryRun,omitempty"`
	Destination string                `json:"destination"`
	NewKeyID    string                `json:"newKey,omitempty"`
	Slots       string                `json:"slots,omitempty"` // the slot explanation
	Steps       []playbook.StepResult `json:"steps"`
	Keys        []KeyState            `json:"keys"` // after the run
	WatchUntil  time.Time             `json:"watchUntil,omitzero"`
	// Done is true when the old key is deleted and the new one is the
	// user's only active key.
	Done bool `json:"done"`
	// Next is what the responder does next, "" when done.
	Next     string   `json:"next,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Option configures a rotation.
type Option func(*Rotator)

// WithConfirm sets the hook asked before destructive steps and before the
// old key is deactivated. Without it those steps are not taken and the
// summary's Next says how to continue.
func WithConfirm(fn playbook.ConfirmFunc) Option { return func(r *Rotator) { r.confirm = fn } }

// WithDryRun plans the rotation without changing anything or journaling.
func WithDryRun(on bool) Option { return func(r *Rotator) { r.dry = on } }

// WithForceDelete lets an incident rotation delete the leaked key before
// the case's investigation has run.
func WithForceDelete(on bool) Option { return func(r *Rotator) { r.forceDelete = on } }

// WithWatch sets how long the old key is watched after deactivation before
// it may be deleted (routine rotations; default 7 days).
func WithWatch(d time.Duration) Option { return func(r *Rotator) { r.watch = d } }

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(r *Rotator) { r.now = now } }

// WithTrail adds CloudTrail to the watch: LookupEvents by the old key's ID
// in each region given.
func WithTrail(client func(region string) cloudtrail.LookupEventsAPIClient, regions ...string) Option {
	return func(r *Rotator) { r.trail, r.trailRegions = client, regions }
}

// WithMode forces the mode instead of reading it from the case.
func WithMode(mode string) Option { return func(r *Rotator) { r.mode = mode } }

// WithProgress sets a callback for live progress.
func WithProgress(fn func(playbook.Progress)) Option { return func(r *Rotator) { r.progress = fn } }

// WithResponderKeyID tells the rotation the access key ID the responder
// signs in with, so that it never deactivates or deletes that key while it
// runs with it.
func WithResponderKeyID(id string) Option { return func(r *Rotator) { r.responderKeyID = id } }

// Rotator rotates one key. Build it with New.
type Rotator struct {
	c            *playbook.Case
	iam          IAM
	dest         Destination
	confirm      playbook.ConfirmFunc
	dry          bool
	forceDelete  bool
	watch        time.Duration
	now          func() time.Time
	trail        func(string) cloudtrail.LookupEventsAPIClient
	trailRegions []string
	mode         string
	progress     func(playbook.Progress)
	// responderKeyID is the key this process signs with ("" unknown).
	responderKeyID string

	sum *Summary
	jr  journalState
}

// New returns a rotation of the case's key, handing the new key to dest.
func New(c *playbook.Case, iamc IAM, dest Destination, opts ...Option) *Rotator {
	r := &Rotator{c: c, iam: iamc, dest: dest, watch: 7 * 24 * time.Hour, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// BlockedError is a rotation that stops because going on could break
// something or lose evidence; Reason says what to do.
type BlockedError struct{ Reason string }

func (e *BlockedError) Error() string { return e.Reason }

// Run runs the rotation as far as it can go now and returns the summary
// (also with an error). Running it again continues from the journal.
func (r *Rotator) Run(ctx context.Context) (*Summary, error) {
	old := r.c.Meta().KeyID
	if !strings.HasPrefix(old, "AKIA") {
		return nil, &BlockedError{Reason: fmt.Sprintf("%s is a temporary key: it cannot be rotated, only revoked; rotate the long-term key it was issued from", old)}
	}
	r.sum = &Summary{Case: r.c.Dir(), KeyID: old, DryRun: r.dry, Destination: r.dest.String(), Steps: []playbook.StepResult{}, Keys: []KeyState{}}
	var err error
	if r.jr, err = readJournal(r.c, old); err != nil {
		return nil, err
	}
	if r.mode == "" {
		r.mode = ModeRoutine
		if r.jr.incident {
			r.mode = ModeIncident
		}
	}
	r.sum.Mode = r.mode
	err = r.run(ctx, old)
	if r.sum.User != "" || r.jr.user != "" {
		if keys, lerr := r.list(ctx); lerr == nil {
			r.sum.Keys = r.label(keys, old)
			r.sum.Done = r.done(keys, old)
		}
	}
	if r.sum.Done {
		r.sum.Next = ""
	}
	return r.sum, err
}

func (r *Rotator) run(ctx context.Context, old string) error {
	// Whose key: from the journal once known, since the key may be deleted.
	user := r.jr.user
	if user == "" {
		out, err := r.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(old)})
		if err != nil {
			return fmt.Errorf("find the owner of %s: %w", old, err)
		}
		user = aws.ToString(out.UserName)
		if user == "root" || user == "" {
			return &BlockedError{Reason: fmt.Sprintf("%s belongs to the root user: root keys are not rotated but deleted — sign in as root, delete the key, and use IAM roles instead", old)}
		}
		if err := r.note(ctx, "", fmt.Sprintf("rotation of %s of user %s (%s), new key to %s", old, user, r.mode, r.dest), map[string]string{"user": user, "key": old, "mode": r.mode}); err != nil {
			return err
		}
	}
	r.sum.User = user
	keys, err := r.list(ctx)
	if err != nil {
		return err
	}
	oldKey, oldExists := find(keys, old)
	if r.mode == ModeIncident && oldExists && oldKey.Status == "Active" {
		return &BlockedError{Reason: fmt.Sprintf("the leaked key %s is still active: contain it first (keyleak contain --key %s), then rotate", old, old)}
	}

	newID, err := r.createStep(ctx, user, old, oldExists, keys)
	if err != nil || newID == "" {
		return err
	}
	r.sum.NewKeyID = newID
	if !oldExists {
		return nil // deleted in an earlier run, or to free the slot
	}
	if r.mode == ModeRoutine {
		if oldKey.Status == "Active" {
			ok, err := r.switchStep(ctx, user, old, newID)
			if err != nil || !ok {
				return err
			}
			if old == r.responderKeyID {
				// Deactivating the key this run signs with would cut it off
				// half-way, with the rotation's journal still open.
				r.sum.Steps = append(r.sum.Steps, playbook.StepResult{ID: StepDeactivate, Title: stepTitle(StepDeactivate), Status: playbook.StatusDeclined,
					Error: "you are signed in with this key"})
				r.sum.Next = fmt.Sprintf("sign in with the new key %s (in %s) or another identity and run the rotation again: you are signed in with %s, and deactivating it would lock this run out", newID, r.dest, old)
				return &BlockedError{Reason: fmt.Sprintf("you are signed in with %s, the key being rotated: deactivating it would lock you out; %s", old, r.sum.Next)}
			}
			if err := r.deactivateStep(ctx, user, old); err != nil {
				return err
			}
		}
		if ok, err := r.watchStep(ctx, old); err != nil || !ok {
			return err
		}
	}
	return r.deleteStep(ctx, user, old)
}

// explainSlots says which key must go first and why.
func (r *Rotator) explainSlots(keys []KeyState, old string) string {
	if len(keys) < 2 {
		return fmt.Sprintf("%s has %d of its 2 key slots in use: the new key fits without removing anything first.", r.sum.User, len(keys))
	}
	var other KeyState
	for _, k := range keys {
		if k.AccessKeyID != old {
			other = k
		}
	}
	if r.mode == ModeIncident {
		return fmt.Sprintf("%s has both key slots in use: the leaked key %s and %s (%s). The leaked key goes first: it must never be used again, and deleting it frees the slot for the new key; %s stays, since a workload may still depend on it. The leaked key is deleted only after the investigation, because until then its last-use record is evidence.",
			r.sum.User, old, other.AccessKeyID, other.Status, other.AccessKeyID)
	}
	if other.Status == "Inactive" {
		return fmt.Sprintf("%s has both key slots in use: %s, which is being rotated and still works, and %s, inactive. The inactive key goes first: nothing can be using it, and deleting it frees the slot for the new key.",
			r.sum.User, old, other.AccessKeyID)
	}
	return fmt.Sprintf("%s has both key slots in use by active keys: %s and %s. A rotation needs a free slot, and keyleak will not delete an active key: find which workload uses %s, rotate that one instead, or deactivate %s if nothing needs it, then run the rotation again.",
		r.sum.User, old, other.AccessKeyID, other.AccessKeyID, other.AccessKeyID)
}

// createStep makes sure a new key exists and was handed over, and returns
// its ID ("" when the rotation must stop here).
func (r *Rotator) createStep(ctx context.Context, user, old string, oldExists bool, keys []KeyState) (string, error) {
	res := playbook.StepResult{ID: StepCreate, Title: "Create the new key and hand it over"}
	defer func() { r.sum.Steps = append(r.sum.Steps, res) }()

	// A key this rotation made earlier: keep it if it reached its
	// destination, else its secret is lost and it is deleted.
	newID := r.jr.newKey
	if newID != "" {
		if _, ok := find(keys, newID); !ok {
			r.warn("the new key %s made by an earlier run no longer exists (deleted outside keyleak); a new one is made", newID)
			newID = ""
		}
	}
	var orphans []string
	if newID != "" && !r.jr.handedOver[newID] {
		held, err := r.dest.Holds(ctx, newID)
		if err != nil {
			return "", err
		}
		if held {
			if err := r.journal(ctx, playbook.Entry{Kind: playbook.KindReconciled, Step: StepHandover, ActionID: handoverID(newID),
				Message: fmt.Sprintf("%s holds %s: the hand-over of an earlier run happened", r.dest, newID)}); err != nil {
				return "", err
			}
			r.jr.handedOver[newID] = true
		} else {
			orphans = append(orphans, newID)
			newID = ""
		}
	}
	// A create started and never answered: a key made after its intent
	// that the destination does not hold was never handed over.
	for _, since := range r.jr.pendingCreates {
		for _, k := range keys {
			if k.AccessKeyID == old || slices.Contains(orphans, k.AccessKeyID) || k.Created.Before(since.Add(-time.Second)) {
				continue
			}
			held, err := r.dest.Holds(ctx, k.AccessKeyID)
			if err != nil {
				return "", err
			}
			if held && newID == "" {
				newID = k.AccessKeyID
				if err := r.journal(ctx, playbook.Entry{Kind: playbook.KindReconciled, Step: StepCreate, ActionID: handoverID(newID),
					Params: map[string]string{"newKey": newID}, Message: fmt.Sprintf("%s was made and handed over by an interrupted run", newID)}); err != nil {
					return "", err
				}
				r.jr.handedOver[newID] = true
				continue
			}
			orphans = append(orphans, k.AccessKeyID)
		}
	}
	for _, id := range orphans {
		desc := fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s   (made by an interrupted run; its secret never reached %s)", user, id, r.dest)
		a := playbook.ActionResult{ID: deleteID(id), Description: desc}
		err := r.do(ctx, StepCreate, &a, "iam:DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": id}, func() (any, error) {
			_, err := r.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
			if isCode(err, "NoSuchEntity") {
				return nil, nil
			}
			return nil, err
		})
		res.Actions = append(res.Actions, a)
		if err != nil {
			res.Status, res.Error = playbook.StatusFailed, err.Error()
			return "", err
		}
		keys = slices.DeleteFunc(keys, func(k KeyState) bool { return k.AccessKeyID == id })
	}
	if newID != "" {
		res.Status = playbook.StatusAlreadyDone
		return newID, nil
	}
	if !oldExists && r.mode == ModeRoutine {
		return "", &BlockedError{Reason: fmt.Sprintf("%s no longer exists and this rotation made no new key: nothing to rotate", old)}
	}

	// Before anything changes: a destination that would overwrite other
	// credentials (the profile the responder signs in with) is refused.
	if c, ok := r.dest.(overwriteChecker); ok {
		if err := c.CheckOverwrite(ctx, old); err != nil {
			res.Status, res.Error = playbook.StatusDeclined, err.Error()
			return "", err
		}
	}

	// Free a slot.
	r.sum.Slots = r.explainSlots(keys, old)
	if len(keys) >= 2 {
		var victim KeyState
		for _, k := range keys {
			if k.AccessKeyID != old {
				victim = k
			}
		}
		switch {
		case r.mode == ModeIncident:
			victim, _ = find(keys, old)
			if !r.jr.investigated && !r.forceDelete {
				res.Status = playbook.StatusDeclined
				r.sum.Next = fmt.Sprintf("run keyleak investigate --key %s --case %s first; the leaked key can then be deleted to free its slot (or pass --force-delete to delete it now and lose its last-use record)", old, r.c.Dir())
				return "", nil
			}
		case victim.Status == "Active":
			res.Status = playbook.StatusDeclined
			return "", &BlockedError{Reason: r.sum.Slots}
		}
		ok, err := r.ask(ctx, StepSlots, []string{fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s", user, victim.AccessKeyID)})
		if err != nil {
			return "", err
		}
		if !ok {
			res.Status = playbook.StatusDeclined
			r.sum.Next = fmt.Sprintf("confirm deleting %s to free a key slot (run again with --yes, or at a terminal)", victim.AccessKeyID)
			return "", nil
		}
		a := playbook.ActionResult{ID: deleteID(victim.AccessKeyID), Description: fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s", user, victim.AccessKeyID)}
		err = r.do(ctx, StepSlots, &a, "iam:DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": victim.AccessKeyID}, func() (any, error) {
			_, err := r.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(victim.AccessKeyID)})
			return nil, err
		})
		res.Actions = append(res.Actions, a)
		if err != nil {
			res.Status, res.Error = playbook.StatusFailed, err.Error()
			return "", err
		}
	}

	// Create, then hand over at once: the secret exists only in this
	// process's memory between the two.
	attempt := strconv.Itoa(r.jr.creates + 1)
	a := playbook.ActionResult{ID: StepCreate + "/CreateAccessKey/" + old + "/" + attempt, Description: "iam CreateAccessKey --user-name " + user}
	var nk NewKey
	err := r.do(ctx, StepCreate, &a, "iam:CreateAccessKey", map[string]string{"UserName": user}, func() (any, error) {
		out, err := r.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			if isCode(err, "LimitExceeded") {
				return nil, &BlockedError{Reason: fmt.Sprintf("%s already has two keys (IAM allows two): another key was made since keyleak listed them; run the rotation again to see the slots", user)}
			}
			return nil, err
		}
		nk = NewKey{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), secret: aws.ToString(out.AccessKey.SecretAccessKey)}
		// Journaled without the secret: only the ID and dates.
		return map[string]string{"accessKeyId": nk.AccessKeyID, "userName": user,
			"createDate": aws.ToTime(out.AccessKey.CreateDate).UTC().Format(time.RFC3339)}, nil
	})
	res.Actions = append(res.Actions, a)
	if err != nil {
		res.Status, res.Error = playbook.StatusFailed, err.Error()
		return "", err
	}
	if r.dry {
		res.Status = playbook.StatusPlanned
		res.Actions = append(res.Actions, playbook.ActionResult{ID: handoverID("NEW"), Description: "hand the new key to " + r.dest.String(), Status: playbook.StatusPlanned})
		r.planRest(user, old)
		return "", nil
	}
	h := playbook.ActionResult{ID: handoverID(nk.AccessKeyID), Description: "hand " + nk.AccessKeyID + " to " + r.dest.String()}
	err = r.do(ctx, StepHandover, &h, "handover:"+r.dest.String(), map[string]string{"newKey": nk.AccessKeyID}, func() (any, error) {
		return nil, r.dest.Put(ctx, nk)
	})
	res.Actions = append(res.Actions, h)
	if err != nil {
		// The secret is lost with this process: the key must not stay.
		res.Status, res.Error = playbook.StatusFailed, err.Error()
		u := playbook.ActionResult{ID: deleteID(nk.AccessKeyID), Description: fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s   (hand-over failed)", user, nk.AccessKeyID)}
		derr := r.do(ctx, StepHandover, &u, "iam:DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": nk.AccessKeyID}, func() (any, error) {
			_, err := r.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(nk.AccessKeyID)})
			return nil, err
		})
		res.Actions = append(res.Actions, u)
		if derr != nil {
			return "", fmt.Errorf("hand over %s: %w (and deleting it failed: %v; the next run deletes it)", nk.AccessKeyID, err, derr)
		}
		return "", fmt.Errorf("hand over %s: %w; the new key was deleted, nothing else changed", nk.AccessKeyID, err)
	}
	r.jr.handedOver[nk.AccessKeyID] = true
	if w := r.dest.Warning(); w != "" {
		r.warn("%s", w)
	}
	res.Status = playbook.StatusDone
	return nk.AccessKeyID, nil
}

// planRest lists, in a dry run, the steps that would follow the creation.
func (r *Rotator) planRest(user, old string) {
	plan := func(id, desc string) {
		r.sum.Steps = append(r.sum.Steps, playbook.StepResult{ID: id, Title: stepTitle(id), Status: playbook.StatusPlanned,
			Actions: []playbook.ActionResult{{ID: id, Description: desc, Status: playbook.StatusPlanned}}})
	}
	if r.mode == ModeRoutine {
		plan(StepSwitch, "ask you to confirm the workload uses the new key")
		plan(StepDeactivate, fmt.Sprintf("iam UpdateAccessKey --user-name %s --access-key-id %s --status Inactive", user, old))
		plan(StepWatch, fmt.Sprintf("watch %s for %s: iam GetAccessKeyLastUsed, cloudtrail LookupEvents", old, r.watch))
	}
	plan(StepDelete, fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s", user, old))
}

func stepTitle(id string) string {
	for _, s := range Steps() {
		if s.ID == id {
			return s.Title
		}
	}
	return id
}

func stepOf(id string) playbook.Step {
	for _, s := range Steps() {
		if s.ID == id {
			return s
		}
	}
	return playbook.Step{ID: id}
}

// switchStep asks whether the workload uses the new key, with the evidence
// IAM has.
func (r *Rotator) switchStep(ctx context.Context, user, old, newID string) (bool, error) {
	res := playbook.StepResult{ID: StepSwitch, Title: stepTitle(StepSwitch)}
	defer func() { r.sum.Steps = append(r.sum.Steps, res) }()
	if r.jr.switched[newID] {
		res.Status = playbook.StatusAlreadyDone
		return true, nil
	}
	evidence := []string{}
	for _, id := range []string{newID, old} {
		out, err := r.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
		if err != nil {
			return false, fmt.Errorf("read last use of %s: %w", id, err)
		}
		lu := out.AccessKeyLastUsed
		if lu == nil || lu.LastUsedDate == nil {
			evidence = append(evidence, id+" has not been used yet")
		} else {
			evidence = append(evidence, fmt.Sprintf("%s was last used %s (%s in %s)", id, aws.ToTime(lu.LastUsedDate).UTC().Format(time.RFC3339), aws.ToString(lu.ServiceName), aws.ToString(lu.Region)))
		}
	}
	ok, err := r.ask(ctx, StepSwitch, append([]string{
		fmt.Sprintf("the workload now uses %s (from %s)", newID, r.dest),
		fmt.Sprintf("then: iam UpdateAccessKey --user-name %s --access-key-id %s --status Inactive", user, old),
	}, evidence...))
	if err != nil {
		return false, err
	}
	if !ok {
		res.Status = playbook.StatusDeclined
		r.sum.Next = fmt.Sprintf("switch the workload to %s (it is in %s), then run keyleak rotate --key %s again to deactivate %s", newID, r.dest, old, old)
		return false, nil
	}
	if err := r.journal(ctx, playbook.Entry{Kind: playbook.KindDecision, Step: StepSwitch, ActionID: StepSwitch + "/" + newID,
		Params: map[string]string{"newKey": newID}, Message: "approved: the workload uses " + newID + "; " + strings.Join(evidence, "; ")}); err != nil {
		return false, err
	}
	res.Status = playbook.StatusDone
	return true, nil
}

func (r *Rotator) deactivateStep(ctx context.Context, user, old string) error {
	res := playbook.StepResult{ID: StepDeactivate, Title: stepTitle(StepDeactivate)}
	defer func() { r.sum.Steps = append(r.sum.Steps, res) }()
	a := playbook.ActionResult{ID: StepDeactivate + "/UpdateAccessKey/" + old, Description: fmt.Sprintf("iam UpdateAccessKey --user-name %s --access-key-id %s --status Inactive", user, old)}
	err := r.do(ctx, StepDeactivate, &a, "iam:UpdateAccessKey", map[string]string{"UserName": user, "AccessKeyId": old, "Status": "Inactive"}, func() (any, error) {
		_, err := r.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(old), Status: "Inactive"})
		return nil, err
	})
	res.Actions = append(res.Actions, a)
	if err != nil {
		res.Status, res.Error = playbook.StatusFailed, err.Error()
		return err
	}
	res.Status = playbook.StatusDone
	r.jr.deactivatedAt = a.Time
	return nil
}

// watchStep reports whether the watch is over and the old key stayed
// unused since it was deactivated.
func (r *Rotator) watchStep(ctx context.Context, old string) (bool, error) {
	res := playbook.StepResult{ID: StepWatch, Title: stepTitle(StepWatch)}
	defer func() { r.sum.Steps = append(r.sum.Steps, res) }()
	start := r.jr.deactivatedAt
	if start.IsZero() {
		// Deactivated outside this rotation: watch from the first run that
		// found it inactive.
		start = r.jr.foundInactive
		if start.IsZero() {
			start = r.now().UTC()
			if err := r.note(ctx, StepWatch, fmt.Sprintf("%s found inactive; watching it from now", old), map[string]string{"foundInactive": start.Format(time.RFC3339Nano)}); err != nil {
				return false, err
			}
		}
	}
	until := start.Add(r.watch)
	r.sum.WatchUntil = until
	uses, err := r.usesSince(ctx, old, start)
	if err != nil {
		res.Status, res.Error = playbook.StatusFailed, err.Error()
		return false, err
	}
	if len(uses) > 0 {
		res.Status, res.Error = playbook.StatusFailed, strings.Join(uses, "; ")
		reason := fmt.Sprintf("%s was used after it was deactivated at %s (%s): something still depends on it. If that broke a workload, reactivate the key (aws iam update-access-key --access-key-id %s --status Active), switch the workload to the new key, and rotate again; keyleak will not delete it",
			old, start.Format(time.RFC3339), strings.Join(uses, "; "), old)
		_ = r.note(ctx, StepWatch, reason, nil)
		return false, &BlockedError{Reason: reason}
	}
	if r.now().Before(until) {
		res.Status = StatusWaiting
		r.sum.Next = fmt.Sprintf("%s is inactive and unused so far; run keyleak rotate --key %s again after %s to delete it", old, old, until.UTC().Format(time.RFC3339))
		return false, r.note(ctx, StepWatch, fmt.Sprintf("%s unused since %s; watching until %s", old, start.Format(time.RFC3339), until.Format(time.RFC3339)), nil)
	}
	res.Status = playbook.StatusDone
	return true, nil
}

// StatusWaiting is a watch that is not over yet.
const StatusWaiting = "waiting"

// usesSince lists uses of the key after t: IAM's last use, and CloudTrail
// events in the watched regions.
func (r *Rotator) usesSince(ctx context.Context, key string, t time.Time) ([]string, error) {
	var uses []string
	out, err := r.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("read last use of %s: %w", key, err)
	}
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil && lu.LastUsedDate.After(t) {
		uses = append(uses, fmt.Sprintf("IAM: last used %s, %s in %s", lu.LastUsedDate.UTC().Format(time.RFC3339), aws.ToString(lu.ServiceName), aws.ToString(lu.Region)))
	}
	if r.trail == nil {
		return uses, nil
	}
	for _, region := range r.trailRegions {
		ev, err := r.trail(region).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}},
			StartTime:        aws.Time(t), EndTime: aws.Time(r.now()), MaxResults: aws.Int32(5),
		})
		if err != nil {
			// CloudTrail is a second opinion; IAM's last use was read.
			r.warn("CloudTrail in %s could not be read (%v); the watch relied on IAM's last-use record there", region, shortErr(err))
			continue
		}
		for _, e := range ev.Events {
			uses = append(uses, fmt.Sprintf("CloudTrail %s: %s at %s", region, aws.ToString(e.EventName), aws.ToTime(e.EventTime).UTC().Format(time.RFC3339)))
		}
	}
	return uses, nil
}

func (r *Rotator) deleteStep(ctx context.Context, user, old string) error {
	res := playbook.StepResult{ID: StepDelete, Title: stepTitle(StepDelete)}
	defer func() { r.sum.Steps = append(r.sum.Steps, res) }()
	if r.mode == ModeIncident && !r.jr.investigated && !r.forceDelete {
		res.Status = playbook.StatusDeclined
		r.sum.Next = fmt.Sprintf("the leaked key %s stays inactive until the investigation has run: keyleak investigate --key %s --case %s, then rotate again to delete it (or --force-delete)", old, old, r.c.Dir())
		return nil
	}
	desc := fmt.Sprintf("iam DeleteAccessKey --user-name %s --access-key-id %s", user, old)
	ok, err := r.ask(ctx, StepDelete, []string{desc})
	if err != nil {
		return err
	}
	if !ok {
		res.Status = playbook.StatusDeclined
		r.sum.Next = fmt.Sprintf("confirm deleting %s (run again with --yes, or at a terminal)", old)
		return nil
	}
	a := playbook.ActionResult{ID: deleteID(old), Description: desc}
	err = r.do(ctx, StepDelete, &a, "iam:DeleteAccessKey", map[string]string{"UserName": user, "AccessKeyId": old}, func() (any, error) {
		_, err := r.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(old)})
		if isCode(err, "NoSuchEntity") {
			return nil, nil
		}
		return nil, err
	})
	res.Actions = append(res.Actions, a)
	if err != nil {
		res.Status, res.Error = playbook.StatusFailed, err.Error()
		return err
	}
	res.Status = a.Status
	return nil
}

// ask asks the confirm hook about a step; no hook is a no. A dry run asks
// nothing and answers yes, to plan what follows.
func (r *Rotator) ask(ctx context.Context, step string, lines []string) (bool, error) {
	if r.dry {
		return true, nil
	}
	if r.confirm == nil {
		return false, nil
	}
	var actions []playbook.Action
	for i, l := range lines {
		actions = append(actions, playbook.Action{ID: step + "/" + strconv.Itoa(i), Description: l})
	}
	ok, err := r.confirm(ctx, stepOf(step), actions)
	if err != nil {
		return false, err
	}
	decision := "declined"
	if ok {
		decision = "approved"
	}
	return ok, r.journal(ctx, playbook.Entry{Kind: playbook.KindDecision, Step: step, Message: decision + ": " + strings.Join(lines, "; ")})
}

// do makes one journaled call: intent, call, outcome. In a dry run it only
// records the plan.
func (r *Rotator) do(ctx context.Context, step string, a *playbook.ActionResult, action string, params map[string]string, call func() (any, error)) error {
	if r.dry {
		a.Status = playbook.StatusPlanned
		return nil
	}
	rec := r.c.Journal().Action(a.ID)
	if rec.Done {
		a.Status, a.Time = playbook.StatusAlreadyDone, rec.DoneAt
		return nil
	}
	r.emit(playbook.Progress{Step: step, ActionID: a.ID, Description: a.Description, Status: playbook.StatusRunning})
	if err := r.journal(ctx, playbook.Entry{Kind: playbook.KindIntent, Step: step, ActionID: a.ID, Action: action, Description: a.Description, Params: params}); err != nil {
		return err
	}
	resp, err := call()
	out := playbook.Entry{Kind: playbook.KindOutcome, Step: step, ActionID: a.ID, Action: action}
	if err != nil {
		out.Error = errorInfo(err)
	} else if resp != nil {
		out.Response = resp
	}
	e, jerr := r.c.Journal().Append(withTime(out, r.now()))
	if err != nil {
		a.Status, a.Error = playbook.StatusFailed, shortErr(err)
		r.emit(playbook.Progress{Step: step, ActionID: a.ID, Description: a.Description, Status: playbook.StatusFailed, Message: a.Error})
		return err
	}
	if jerr != nil {
		return jerr
	}
	a.Status, a.Time = playbook.StatusDone, e.Time
	r.emit(playbook.Progress{Step: step, ActionID: a.ID, Description: a.Description, Status: playbook.StatusDone})
	return nil
}

func withTime(e playbook.Entry, t time.Time) playbook.Entry { e.Time = t; return e }

func (r *Rotator) journal(_ context.Context, e playbook.Entry) error {
	if r.dry {
		return nil
	}
	_, err := r.c.Journal().Append(withTime(e, r.now()))
	return err
}

func (r *Rotator) note(ctx context.Context, step, msg string, params map[string]string) error {
	return r.journal(ctx, playbook.Entry{Kind: playbook.KindNote, Step: stepOr(step), Message: "rotate: " + msg, Params: params})
}

func stepOr(s string) string {
	if s == "" {
		return StepCreate
	}
	return s
}

func (r *Rotator) warn(format string, args ...any) {
	r.sum.Warnings = append(r.sum.Warnings, fmt.Sprintf(format, args...))
}

func (r *Rotator) emit(p playbook.Progress) {
	if r.progress != nil {
		p.Time = r.now().UTC()
		r.progress(p)
	}
}

// list returns the user's keys, oldest first.
func (r *Rotator) list(ctx context.Context) ([]KeyState, error) {
	user := r.sum.User
	if user == "" {
		user = r.jr.user
	}
	out, err := r.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("list access keys of %s: %w", user, err)
	}
	var keys []KeyState
	for _, m := range out.AccessKeyMetadata {
		keys = append(keys, KeyState{AccessKeyID: aws.ToString(m.AccessKeyId), Status: string(m.Status), Created: aws.ToTime(m.CreateDate).UTC()})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Created.Before(keys[j].Created) })
	return keys, nil
}

func (r *Rotator) label(keys []KeyState, old string) []KeyState {
	for i := range keys {
		switch keys[i].AccessKeyID {
		case old:
			keys[i].Role = "old"
		case r.sum.NewKeyID:
			keys[i].Role = "new"
		default:
			keys[i].Role = "other"
		}
	}
	if keys == nil {
		return []KeyState{}
	}
	return keys
}

// done reports whether the old key is gone and the new key is the user's
// one active key.
func (r *Rotator) done(keys []KeyState, old string) bool {
	if r.sum.NewKeyID == "" || r.dry {
		return false
	}
	active := 0
	for _, k := range keys {
		if k.AccessKeyID == old {
			return false
		}
		if k.Status == "Active" {
			active++
			if k.AccessKeyID != r.sum.NewKeyID {
				return false
			}
		}
	}
	return active == 1
}

func find(keys []KeyState, id string) (KeyState, bool) {
	for _, k := range keys {
		if k.AccessKeyID == id {
			return k, true
		}
	}
	return KeyState{}, false
}

func handoverID(keyID string) string { return StepHandover + "/" + keyID }
func deleteID(keyID string) string   { return "rotate/DeleteAccessKey/" + keyID }

// errorInfo is the journal's view of an error: definite when AWS answered
// with a client error, so the call had no effect.
func errorInfo(err error) *playbook.ErrorInfo {
	info := &playbook.ErrorInfo{Message: err.Error()}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		info.Code, info.Message = ae.ErrorCode(), ae.ErrorMessage()
		info.Definite = true
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= http.StatusInternalServerError {
			info.Definite = false
		}
	}
	var be *BlockedError
	if errors.As(err, &be) {
		info.Definite = true
	}
	return info
}

func shortErr(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
