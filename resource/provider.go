package resource

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/keyleak/keyleak/trail"
)

// Identity providers the chain added to IAM: an OIDC provider (a GitHub
// repository or another issuer whose tokens may then assume roles that
// trust it) or a SAML provider (the attacker's own identity provider). Both
// let the attacker back in without any key; the ID is the provider's ARN.
const (
	TypeOIDCProvider = "AWS::IAM::OIDCProvider"
	TypeSAMLProvider = "AWS::IAM::SAMLProvider"
)

func hasIAM(c *Clients) bool { return c.IAM != nil }

func oidcProviderKind() Kind {
	return simple{
		Type:   TypeOIDCProvider,
		Title:  "IAM OIDC identity provider",
		Global: true,
		Events: []string{"CreateOpenIDConnectProvider"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.ResponseString("openIDConnectProviderArn"), map[string]string{"url": e.RequestString("url")})
		},
		Service:  "IAM",
		Has:      hasIAM,
		Calls:    []string{"iam:GetOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider"},
		NotFound: iamNotFound,
		Look: func(ctx context.Context, c *Clients, _ string, p map[string]string) (bool, string, error) {
			_, err := c.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(p["ID"])})
			return err == nil, "", err
		},
		API: "DeleteOpenIDConnectProvider",
		Remove: func(ctx context.Context, c *Clients, _ string, p map[string]string) (any, error) {
			return c.IAM.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(p["ID"])})
		},
		CLI: func(_ string, p map[string]string) string {
			return "iam delete-open-id-connect-provider --open-id-connect-provider-arn " + p["ID"]
		},
		RemovedBy: "iam:DeleteOpenIDConnectProvider",
	}.kind()
}

func samlProviderKind() Kind {
	return simple{
		Type:   TypeSAMLProvider,
		Title:  "IAM SAML identity provider",
		Global: true,
		Events: []string{"CreateSAMLProvider"},
		Extract: func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("sAMLProviderArn"), e.ResponseString("samlProviderArn"), e.ResponseString("SAMLProviderArn")),
				map[string]string{"name": e.RequestString("name")})
		},
		Service:  "IAM",
		Has:      hasIAM,
		Calls:    []string{"iam:GetSAMLProvider", "iam:DeleteSAMLProvider"},
		NotFound: iamNotFound,
		Look: func(ctx context.Context, c *Clients, _ string, p map[string]string) (bool, string, error) {
			_, err := c.IAM.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(p["ID"])})
			return err == nil, "", err
		},
		API: "DeleteSAMLProvider",
		Remove: func(ctx context.Context, c *Clients, _ string, p map[string]string) (any, error) {
			return c.IAM.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(p["ID"])})
		},
		CLI: func(_ string, p map[string]string) string {
			return "iam delete-saml-provider --saml-provider-arn " + p["ID"]
		},
		RemovedBy: "iam:DeleteSAMLProvider",
	}.kind()
}
