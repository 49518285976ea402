package playbook

import "time"

// Statuses of steps and actions in a Summary and in Progress.
const (
	StatusRunning     = "running"
	StatusDone        = "done"
	StatusAlreadyDone = "already-done" // the journal shows it done in an earlier run
	StatusReconciled  = "reconciled"   // found done in AWS without (re)doing it
	StatusPlanned     = "planned"      // dry run
	StatusDeclined    = "declined"     // the responder said no, or no one was asked
	StatusNothingToDo = "nothing-to-do"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
)

// KeyStatusUnknown is Summary.KeyStatus when IAM could not be read.
const KeyStatusUnknown = "unknown"

// Summary is the result of a run, stable for `-o json`.
type Summary struct {
	Case      string `json:"case"`
	KeyID     string `json:"key"`
	Account   string `json:"account,omitempty"`
	Owner     string `json:"owner,omitempty"`
	RootKey   bool   `json:"rootKey,omitempty"`
	Responder string `json:"responder,omitempty"`
	// KeyStatus is the key's status as IAM listed it at ReadAt, after the
	// run's steps: Active, Inactive, Deleted, or KeyStatusUnknown when it
	// could not be read.
	KeyStatus string `json:"keyStatus,omitempty"`
	// FoundActiveAgain is when the run found the key Active although the
	// case had deactivated it before.
	FoundActiveAgain time.Time `json:"foundActiveAgain,omitzero"`
	// ReadAt is when the run read the key and the revoke policy back.
	ReadAt     time.Time         `json:"readAt,omitzero"`
	LastUsed   *KeyUse           `json:"lastUsed,omitempty"`
	OwnerKeys  []KeyInfo         `json:"ownerKeys,omitempty"`
	Access     *Access           `json:"access,omitempty"`
	Quarantine []string          `json:"quarantinePolicies,omitempty"`
	Password   *LoginProfileInfo `json:"consolePassword,omitempty"`
	// RevokedBefore is the time before which the owner's sessions are
	// denied, as the revoke policy in IAM said at ReadAt (zero: no policy).
	RevokedBefore time.Time        `json:"sessionsRevokedBefore,omitzero"`
	Preflight     *PreflightResult `json:"preflight,omitempty"`
	// Credentials are the leaked key and every credential the run found it
	// minted, each with its state as AWS had it at ReadAt: inactive, denied
	// (since when), expired, deleted, or still working and what to do.
	Credentials []AttackerCredential `json:"attackerCredentials,omitempty"`
	// MintedSearch is how the run looked in CloudTrail for what the key
	// minted; nil when it did not look.
	MintedSearch *MintedSearch `json:"mintedSearch,omitempty"`
	DryRun       bool          `json:"dryRun,omitempty"`
	Steps        []StepResult  `json:"steps"`
	Warnings     []string      `json:"warnings,omitempty"`
	// JournalHead and JournalEntries anchor the journal as the run left
	// it: contain.json keeps them, and VerifyCase checks the journal
	// against them as well as against case.json.
	JournalHead    string `json:"journalHead,omitempty"`
	JournalEntries int64  `json:"journalEntries,omitempty"`
}

// StepResult is what happened to one step.
type StepResult struct {
	ID      string         `json:"id"`
	Title   string         `json:"title"`
	Status  string         `json:"status"`
	Error   string         `json:"error,omitempty"`
	Actions []ActionResult `json:"actions,omitempty"`
}

// ActionResult is what happened to one planned AWS call.
type ActionResult struct {
	ID          string    `json:"id"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Time        time.Time `json:"time,omitzero"`
	Error       string    `json:"error,omitempty"`
	// Found says that AWS showed the action undone although this case had
	// done it before (a key turned back on, a policy deleted), and when.
	Found string `json:"found,omitempty"`
}

// Progress is one event of a run, for a live display.
type Progress struct {
	Step        string
	ActionID    string // "" for step-level events
	Description string
	Status      string
	Message     string
	Time        time.Time
}
