package playbook

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKeyID is matched (errors.Is) by every KeyIDError: the CLI maps it
// to the usage exit code.
var ErrInvalidKeyID = errors.New("invalid access key ID")

// KeyIDError says why a string is not an access key ID. Reason never repeats
// the input when the input may be a secret.
type KeyIDError struct {
	Reason string
}

func (e *KeyIDError) Error() string { return "invalid access key ID: " + e.Reason }

// Is makes errors.Is(err, ErrInvalidKeyID) true.
func (e *KeyIDError) Is(target error) bool { return target == ErrInvalidKeyID }

// NotFoundError is returned when the leaked key is not an access key of the
// responder's account.
type NotFoundError struct {
	KeyID      string
	Account    string // the account the responder is signed in to
	KeyAccount string // the account sts:GetAccessKeyInfo names, "" if unknown
}

func (e *NotFoundError) Error() string {
	if e.KeyAccount != "" && e.KeyAccount != e.Account {
		return fmt.Sprintf("access key %s belongs to account %s, but you are signed in to account %s: sign in to account %s to contain it",
			e.KeyID, e.KeyAccount, e.Account, e.KeyAccount)
	}
	return fmt.Sprintf("access key %s not found in account %s — deleted already, or another account?", e.KeyID, e.Account)
}

// AccessDeniedError is AWS refusing a call for lack of permission. Action is
// the IAM action name ("iam:UpdateAccessKey") the responder is missing.
type AccessDeniedError struct {
	Action    string
	Principal string // the responder's ARN when known
	Err       error  // the AWS error
}

func (e *AccessDeniedError) Error() string {
	who := "your credentials"
	if e.Principal != "" {
		who = e.Principal
	}
	return fmt.Sprintf("access denied: %s may not call %s; allow %s in the responder's policy (see examples/policies/responder.json) and run the command again",
		who, e.Action, e.Action)
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

// CredentialsError is AWS refusing the responder's credentials themselves
// (unknown, inactive or expired key, bad signature).
type CredentialsError struct {
	Action string
	Code   string
	Err    error
}

func (e *CredentialsError) Error() string {
	return fmt.Sprintf("AWS refused your credentials (%s) when calling %s: check the profile, or refresh the session, and run the command again", e.Code, e.Action)
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// SelfLockoutError is a refusal to act because the responder would lock
// themselves out, or is using the leaked credentials.
type SelfLockoutError struct {
	Reason string
}

func (e *SelfLockoutError) Error() string { return e.Reason }

// RootKeyError is returned when the leaked key belongs to the root user and
// the responder is not the root user: IAM users cannot touch root keys, and no
// policy can restrict them.
type RootKeyError struct {
	KeyID   string
	Account string
}

func (e *RootKeyError) Error() string {
	return fmt.Sprintf("access key %s belongs to the root user of account %s: no IAM policy can restrict it and only the root user can deactivate it — sign in to the console as the root user, open Security credentials, deactivate the key and then delete it, and enable MFA on the root user", e.KeyID, e.Account)
}

// PartialError is returned when a run changed something and then a step
// failed, or when a read-only step failed: the responder must know what was
// done and what was not.
type PartialError struct {
	Step string   // the step that failed
	Done []string // steps that completed before, in order
	Err  error
}

func (e *PartialError) Error() string {
	if len(e.Done) == 0 {
		return fmt.Sprintf("step %s failed: %v", e.Step, e.Err)
	}
	return fmt.Sprintf("step %s failed after %s completed: %v", e.Step, strings.Join(e.Done, ", "), e.Err)
}

func (e *PartialError) Unwrap() error { return e.Err }

// UnreconciledError is returned when the journal shows that a non-idempotent
// action was started and never finished, and its effect cannot be read back:
// repeating it blindly could do it twice.
type UnreconciledError struct {
	ActionID string
}

func (e *UnreconciledError) Error() string {
	return fmt.Sprintf("action %s was started in an earlier run and its result is unknown; check it by hand before running this step again", e.ActionID)
}

// JournalError is a journal that cannot be appended to because it is damaged.
type JournalError struct {
	Path   string
	Result VerifyResult
}

func (e *JournalError) Error() string {
	return fmt.Sprintf("journal %s is damaged: %s; keep this case as evidence and start a new one", e.Path, e.Result.Problem)
}

// TemporaryKeyError is returned for a leaked ASIA key: temporary keys cannot
// be deactivated, only revoked through the principal that issued them.
type TemporaryKeyError struct {
	KeyID string
}

func (e *TemporaryKeyError) Error() string {
	return fmt.Sprintf("access key %s is a temporary (session) key: it cannot be deactivated; find the user or role that issued it (keyleak investigate --key %s) and revoke that principal's sessions", e.KeyID, e.KeyID)
}
