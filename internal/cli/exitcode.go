package cli

import (
	"context"
	"errors"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awserr"
	"github.com/keyleak/keyleak/respond"
)

// Exit codes: the one table every command maps its outcome to.
const (
	ExitOK        = 0   // done
	ExitError     = 1   // failed
	ExitUsage     = 2   // bad flags, arguments or input
	ExitPartial   = 3   // some steps, regions or files failed; the rest is done and kept
	ExitAuth      = 4   // AWS authentication or permission failure
	ExitCancelled = 130 // interrupted
)

// The error kinds are the engine's, so that the commands and the engine
// speak of the same rows of the table.
type (
	// UsageError is bad input from the user: a flag, an argument, a key ID.
	UsageError = respond.UsageError
	// PartialError reports work that was done only in part.
	PartialError = respond.PartialError
	// AuthError is an AWS authentication or permission failure.
	AuthError = respond.AuthError
)

// usageErrorf builds a UsageError.
func usageErrorf(format string, args ...any) error { return respond.Usagef(format, args...) }

// exitCode maps an error to the exit-code table.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *UsageError
	var partial *PartialError
	var auth *AuthError
	var noCreds *awsapi.NoCredentialsError
	switch {
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &auth), errors.As(err, &noCreds):
		return ExitAuth
	case errors.As(err, &partial):
		return ExitPartial
	case awserr.IsAuth(err):
		return ExitAuth
	}
	if c, ok := codeOf(err); ok {
		return c
	}
	return ExitError
}

// exitCoder lets packages below cli (playbook, trail) say which row of the
// table an error belongs to without importing cli.
type exitCoder interface{ ExitCode() int }

func codeOf(err error) (int, bool) {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode(), true
	}
	return 0, false
}
