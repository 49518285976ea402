package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/internal/awsapi"
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

// UsageError is bad input from the user: a flag, an argument, a key ID.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf builds a UsageError.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// PartialError reports work that was done only in part: what failed is in
// the message, what succeeded was kept and printed.
type PartialError struct{ Err error }

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }

// AuthError is an AWS authentication or permission failure.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// authCodes are the AWS error codes that mean "who you are" or "what you may
// do" is the problem, in every protocol's spelling.
var authCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
	"InvalidClientTokenId": true, "UnrecognizedClientException": true, "AuthFailure": true,
	"ExpiredToken": true, "ExpiredTokenException": true, "SignatureDoesNotMatch": true,
	"InvalidAccessKeyId": true, "MissingAuthenticationToken": true,
}

// exitCode maps an error to the exit-code table.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *UsageError
	var partial *PartialError
	var auth *AuthError
	var noCreds *awsapi.NoCredentialsError
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &auth), errors.As(err, &noCreds):
		return ExitAuth
	case errors.As(err, &partial):
		return ExitPartial
	case errors.As(err, &apiErr) && authCodes[apiErr.ErrorCode()]:
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
