package awserr

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestKinds(t *testing.T) {
	api := func(code string) error {
		return fmt.Errorf("call: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
	}
	for _, c := range []struct {
		err                                  error
		denied, creds, auth, notFound, optIn bool
	}{
		{err: api("AccessDenied"), denied: true, auth: true},
		{err: api("UnauthorizedOperation"), denied: true, auth: true},
		{err: api("InvalidClientTokenId"), creds: true, auth: true},
		{err: api("SignatureDoesNotMatch"), creds: true, auth: true},
		{err: api("NoSuchEntity"), notFound: true},
		{err: api("OptInRequired"), optIn: true},
		{err: api("ThrottlingException")},
		{err: context.Canceled},
		{err: fmt.Errorf("dial tcp: connection refused")},
	} {
		if IsDenied(c.err) != c.denied || IsCredentials(c.err) != c.creds || IsAuth(c.err) != c.auth ||
			IsNotFound(c.err) != c.notFound || IsOptIn(c.err) != c.optIn {
			t.Errorf("%v: denied %v creds %v auth %v notFound %v optIn %v", c.err,
				IsDenied(c.err), IsCredentials(c.err), IsAuth(c.err), IsNotFound(c.err), IsOptIn(c.err))
		}
	}
	if !IsNotFound(api("InvalidInstanceID.NotFound"), "InvalidInstanceID.NotFound") {
		t.Error("an extra not-found code is not honoured")
	}
	if Code(context.Canceled) != "" || Code(api("X")) != "X" {
		t.Error("Code")
	}
	if !IsDeniedCode("Client.UnauthorizedOperation") || IsDeniedCode("ThrottlingException") {
		t.Error("IsDeniedCode")
	}
}
