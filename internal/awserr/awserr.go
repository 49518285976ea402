// Package awserr is keyleak's one place of knowledge about AWS error codes:
// which mean "you may not" (denied), "who are you?" (credentials), "it is
// not there" (not found), "the region is not enabled" (opt-in), in every
// protocol's spelling (awsQuery, ec2Query, JSON, REST). The playbook, the
// investigation sources, the assessment and the exit-code table all ask it,
// so that a code learnt once is known everywhere.
package awserr

import (
	"errors"
	"slices"

	"github.com/aws/smithy-go"
)

// DeniedCodes are the codes of a call refused for lack of permission.
var DeniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
	"Client.UnauthorizedOperation", "UnauthorizedAccess", "Client.AccessDenied"}

// CredentialCodes are the codes of a call whose credentials AWS did not
// accept: unknown, expired, badly signed or of a region that refuses them.
var CredentialCodes = []string{"InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch",
	"UnrecognizedClientException", "AuthFailure", "InvalidAccessKeyId", "IncompleteSignature", "MissingAuthenticationToken"}

// NotFoundCodes are the codes of a named thing that does not exist (IAM's
// spellings; EC2's are per resource, see the resource kinds).
var NotFoundCodes = []string{"NoSuchEntity", "NoSuchEntityException"}

// OptInCodes are the codes of a region (or service) the account has not
// enabled.
var OptInCodes = []string{"OptInRequired"}

// Code returns the AWS error code of err, "" when AWS did not answer (a
// network error, a cancelled context).
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Is reports whether err is an AWS error with one of the codes.
func Is(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
}

// IsDenied reports whether err refuses the call for lack of permission.
func IsDenied(err error) bool { return Is(err, DeniedCodes...) }

// IsDeniedCode reports whether an error code (a CloudTrail record's
// errorCode) means the call was refused for lack of permission.
func IsDeniedCode(code string) bool { return slices.Contains(DeniedCodes, code) }

// IsCredentials reports whether AWS did not accept the caller's
// credentials.
func IsCredentials(err error) bool { return Is(err, CredentialCodes...) }

// IsAuth reports whether err is about who the caller is or what it may do:
// the exit-code table's "authentication or permission failure".
func IsAuth(err error) bool { return IsDenied(err) || IsCredentials(err) }

// IsNotFound reports whether err says the named thing does not exist, in
// IAM's spelling or one of the extra codes given.
func IsNotFound(err error, extra ...string) bool {
	return Is(err, NotFoundCodes...) || (len(extra) > 0 && Is(err, extra...))
}

// IsOptIn reports whether err says the region is not enabled.
func IsOptIn(err error) bool { return Is(err, OptInCodes...) }
