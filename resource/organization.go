package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/keyleak/keyleak/trail"
)

// TypeLeftOrganization is the account taken out of its organization
// (LeaveOrganization): the organization's SCPs, its CloudTrail and its
// security tooling no longer reach it.
const TypeLeftOrganization = "AWS::Organizations::LeftOrganization"

func leftOrganizationKind() Kind {
	return simple{
		Type:   TypeLeftOrganization,
		Title:  "account left its organization",
		Global: true,
		Events: []string{"LeaveOrganization"},
		Extract: fromSource("organizations.amazonaws.com", func(e *trail.Event) []Resource {
			return one(first(e.AccountID(), "account"), nil)
		}),
		Service: "Organizations",
		Has:     func(c *Clients) bool { return c.Organizations != nil },
		Calls:   []string{"organizations:DescribeOrganization"},
		Look: func(ctx context.Context, c *Clients, _ string, _ map[string]string) (bool, string, error) {
			out, err := c.Organizations.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			switch {
			case isCode(err, "AWSOrganizationsNotInUseException"):
				return true, "in no organization", nil
			case err != nil:
				return false, "", err
			}
			return false, "in organization " + aws.ToString(out.Organization.Id), nil
		},
		NotRemovable: "an account joins an organization again only by its invitation: ask the management account to invite it " +
			"(aws organizations invite-account-to-organization) and accept (aws organizations accept-handshake)",
	}.kind()
}
