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

// Summary is the result of a run, stable for `-o json`.
type Summary struct {
	Case       string            `json:"case"`
	KeyID      string            `json:"key"`
	Account    string            `json:"account,omitempty"`
	Owner      string            `json:"owner,omitempty"`
	RootKey    bool              `json:"rootKey,omitempty"`
	Responder  string            `json:"responder,omitempty"`
	KeyStatus  string            `json:"keyStatus,omitempty"`
	LastUsed   *KeyUse           `json:"lastUsed,omitempty"`
	OwnerKeys  []KeyInfo         `json:"ownerKeys,omitempty"`
	Access     *Access           `json:"access,omitempty"`
	Quarantine []string          `json:"quarantinePolicies,omitempty"`
	Password   *LoginProfileInfo `json:"consolePassword,omitempty"`
	// RevokedBefore is the time before which the owner's sessions are denied.
	RevokedBefore time.Time        `json:"sessionsRevokedBefore,omitzero"`
	Preflight     *PreflightResult `json:"preflight,omitempty"`
	DryRun        bool             `json:"dryRun,omitempty"`
	Steps         []StepResult     `json:"steps"`
	Warnings      []string         `json:"warnings,omitempty"`
	JournalHead   string           `json:"journalHead,omitempty"`
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
