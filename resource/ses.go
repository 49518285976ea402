package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/keyleak/keyleak/trail"
)

// SES, for spam: identities (addresses and domains) the chain verified to
// send from, and the region's sending turned back on after it was paused.
const (
	TypeSESIdentity = "AWS::SES::EmailIdentity"
	TypeSESSending  = "AWS::SES::AccountSending"
)

const sesSource = "ses.amazonaws.com"

func hasSES(c *Clients) bool { return c.SES != nil }

func sesIdentityKind() Kind {
	return simple{
		Type:   TypeSESIdentity,
		Title:  "SES identity",
		Events: []string{"VerifyEmailIdentity", "VerifyEmailAddress", "VerifyDomainIdentity", "CreateEmailIdentity"},
		Extract: fromSource(sesSource, func(e *trail.Event) []Resource {
			return one(requestOr(e, "emailAddress", "domain", "emailIdentity"), nil)
		}),
		Service: "SES",
		Has:     hasSES,
		Calls:   []string{"ses:GetIdentityVerificationAttributes", "ses:DeleteIdentity"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.SES(region).GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			a, ok := out.VerificationAttributes[p["ID"]]
			if !ok {
				return false, "not listed", nil
			}
			return true, string(a.VerificationStatus), nil
		},
		API: "DeleteIdentity",
		// SES answers a missing identity's deletion with success.
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.SES(region).DeleteIdentity(ctx, &ses.DeleteIdentityInput{Identity: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ses delete-identity --region %s --identity %s", region, p["ID"])
		},
		RemovedBy: "ses:DeleteIdentity",
	}.kind()
}

// sesSendingNote is what undoing the change does, for the prompt: the
// region's sending paused for everyone.
const sesSendingNote = "ses:UpdateAccountSendingEnabled false (pauses all of the region's sending, as it was before the change)"

func sesSendingKind() Kind {
	return simple{
		Type:   TypeSESSending,
		Title:  "SES sending turned on",
		Events: []string{"UpdateAccountSendingEnabled", "PutAccountSendingAttributes"},
		Extract: fromSource(sesSource, func(e *trail.Event) []Resource {
			if requestOr(e, "enabled", "sendingEnabled") != "true" {
				return nil
			}
			return one("account-sending", nil)
		}),
		Service: "SES",
		Has:     hasSES,
		Calls:   []string{"ses:GetAccountSendingEnabled", "ses:UpdateAccountSendingEnabled"},
		Look: func(ctx context.Context, c *Clients, region string, _ map[string]string) (bool, string, error) {
			out, err := c.SES(region).GetAccountSendingEnabled(ctx, &ses.GetAccountSendingEnabledInput{})
			if err != nil {
				return false, "", err
			}
			if out.Enabled {
				return true, "sending enabled", nil
			}
			return false, "sending paused", nil
		},
		API: "UpdateAccountSendingEnabled",
		Remove: func(ctx context.Context, c *Clients, region string, _ map[string]string) (any, error) {
			return c.SES(region).UpdateAccountSendingEnabled(ctx, &ses.UpdateAccountSendingEnabledInput{Enabled: false})
		},
		CLI: func(region string, _ map[string]string) string {
			return fmt.Sprintf("ses update-account-sending-enabled --region %s --no-enabled", region)
		},
		RemovedBy: sesSendingNote,
	}.kind()
}
