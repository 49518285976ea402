package respond

import (
	"errors"
	"fmt"

	"github.com/keyleak/keyleak/playbook"
)

// UsageError is bad input from the user: a flag, an argument, a key ID, a
// case directory. The front ends map it to the usage exit code.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// PartialError reports work that was done only in part: what failed is in
// the message, what succeeded was kept.
type PartialError struct{ Err error }

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }

// AuthError is an AWS authentication or permission failure.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// Classify maps the playbook's typed errors onto the engine's kinds, for
// front ends that run playbook code the engine does not wrap (rotate).
func Classify(err error) error { return playbookError(err) }

// playbookError maps the playbook's typed errors onto the engine's kinds.
func playbookError(err error) error {
	if err == nil {
		return nil
	}
	var partial *playbook.PartialError
	var denied *playbook.AccessDeniedError
	var creds *playbook.CredentialsError
	var usage *playbook.UsageError
	switch {
	case errors.Is(err, playbook.ErrInvalidKeyID), errors.As(err, &usage):
		return &UsageError{Err: err}
	case errors.As(err, &partial):
		return &PartialError{Err: err}
	case errors.As(err, &denied), errors.As(err, &creds):
		return &AuthError{Err: err}
	}
	return err
}
