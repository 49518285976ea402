package awsapi

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// The SDK makes the credential providers' own clients (STS for role
// profiles, MFA and web identity; the SSO portal and SSO OIDC for SSO
// profiles) while it resolves credentials, before it resolves the
// configured endpoints: left alone, those clients would call the real
// sts.us-east-1.amazonaws.com whatever --endpoint-url, AWS_ENDPOINT_URL or
// the profile's endpoint_url say. Load wraps each such client so that every
// call it makes goes to the endpoint the configuration names for its
// service, resolved as for every other client: --endpoint-url first, then
// AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's services
// section, the profile's endpoint_url (ignore_configured_endpoint_urls
// drops all but the flag).

// providerEndpoints are the endpoints of the providers' clients, nil for a
// service's default. Load fills them once the configuration is resolved,
// before anything retrieves credentials.
type providerEndpoints struct {
	sts, sso, oidc *string
}

// resolve computes each service's endpoint from the loaded configuration,
// as a client made from it resolves its own.
func (e *providerEndpoints) resolve(cfg aws.Config, explicit string) {
	if explicit != "" {
		e.sts, e.sso, e.oidc = aws.String(explicit), aws.String(explicit), aws.String(explicit)
		return
	}
	e.sts = sts.NewFromConfig(cfg).Options().BaseEndpoint
	e.sso = sso.NewFromConfig(cfg).Options().BaseEndpoint
	e.oidc = ssooidc.NewFromConfig(cfg).Options().BaseEndpoint
}

// assumeRoleClient is a role profile's STS client: its calls go to the
// configured endpoint, and a failure names the link of the chain.
type assumeRoleClient struct {
	stscreds.AssumeRoleAPIClient
	eps  *providerEndpoints
	link *chainLink
}

func (c assumeRoleClient) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	out, err := c.AssumeRoleAPIClient.AssumeRole(ctx, in, append(optFns, func(o *sts.Options) {
		if c.eps.sts != nil {
			o.BaseEndpoint = c.eps.sts
		}
	})...)
	if err != nil {
		return out, c.link.fail(err)
	}
	return out, nil
}

// webIdentityClient is a web identity profile's STS client.
type webIdentityClient struct {
	stscreds.AssumeRoleWithWebIdentityAPIClient
	eps  *providerEndpoints
	link *chainLink
}

func (c webIdentityClient) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	out, err := c.AssumeRoleWithWebIdentityAPIClient.AssumeRoleWithWebIdentity(ctx, in, append(optFns, func(o *sts.Options) {
		if c.eps.sts != nil {
			o.BaseEndpoint = c.eps.sts
		}
	})...)
	if err != nil {
		return out, c.link.fail(err)
	}
	return out, nil
}

// ssoPortalClient is an SSO profile's portal client (GetRoleCredentials).
type ssoPortalClient struct {
	ssocreds.GetRoleCredentialsAPIClient
	eps  *providerEndpoints
	link *chainLink
}

func (c ssoPortalClient) GetRoleCredentials(ctx context.Context, in *sso.GetRoleCredentialsInput, optFns ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error) {
	out, err := c.GetRoleCredentialsAPIClient.GetRoleCredentials(ctx, in, append(optFns, func(o *sso.Options) {
		if c.eps.sso != nil {
			o.BaseEndpoint = c.eps.sso
		}
	})...)
	if err != nil {
		return out, c.link.fail(err)
	}
	return out, nil
}

// ssoTokenClient is an SSO session's OIDC client, which refreshes the
// cached token.
type ssoTokenClient struct {
	ssocreds.CreateTokenAPIClient
	eps *providerEndpoints
}

func (c ssoTokenClient) CreateToken(ctx context.Context, in *ssooidc.CreateTokenInput, optFns ...func(*ssooidc.Options)) (*ssooidc.CreateTokenOutput, error) {
	return c.CreateTokenAPIClient.CreateToken(ctx, in, append(optFns, func(o *ssooidc.Options) {
		if c.eps.oidc != nil {
			o.BaseEndpoint = c.eps.oidc
		}
	})...)
}

// providerOptions are the LoadOptions that route the providers' clients
// through eps and name their failures after the profile chain in chain.
func providerOptions(eps *providerEndpoints, chain *profileChain, prompt func(serial string) (string, error)) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			if o.Client != nil {
				if _, done := o.Client.(assumeRoleClient); !done {
					o.Client = assumeRoleClient{AssumeRoleAPIClient: o.Client, eps: eps,
						link: &chainLink{chain: chain, role: o.RoleARN, serial: aws.ToString(o.SerialNumber)}}
				}
			}
			serial := aws.ToString(o.SerialNumber)
			o.TokenProvider = func() (string, error) { return prompt(serial) }
		}),
		config.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			// The SDK applies these options twice: once before it has
			// made the client (left to it), once after.
			if o.Client != nil {
				if _, done := o.Client.(webIdentityClient); !done {
					o.Client = webIdentityClient{AssumeRoleWithWebIdentityAPIClient: o.Client, eps: eps,
						link: &chainLink{chain: chain, role: o.RoleARN, webIdentity: true}}
				}
			}
		}),
		config.WithSSOProviderOptions(func(o *ssocreds.Options) {
			if o.Client != nil {
				if _, done := o.Client.(ssoPortalClient); !done {
					o.Client = ssoPortalClient{GetRoleCredentialsAPIClient: o.Client, eps: eps,
						link: &chainLink{chain: chain, sso: o.AccountID + " " + o.RoleName}}
				}
			}
		}),
		config.WithSSOTokenProviderOptions(func(o *ssocreds.SSOTokenProviderOptions) {
			if o.Client != nil {
				if _, done := o.Client.(ssoTokenClient); !done {
					o.Client = ssoTokenClient{CreateTokenAPIClient: o.Client, eps: eps}
				}
			}
		}),
	}
}

// profileChain is the selected profile and the profiles its credentials
// come through (source_profile), read from the loaded configuration.
type profileChain struct {
	name  string                // the selected profile
	hops  []config.SharedConfig // the selected profile first, then each source
	found bool
}

// newProfileChain reads the chain from the configuration's sources.
func newProfileChain(cfg aws.Config) *profileChain {
	pc := &profileChain{}
	for _, src := range cfg.ConfigSources {
		sc, ok := src.(config.SharedConfig)
		if !ok {
			continue
		}
		pc.name, pc.found = sc.Profile, true
		for p := &sc; p != nil; p = p.Source {
			pc.hops = append(pc.hops, *p)
			if len(pc.hops) > 16 {
				break // the SDK refuses cycles; never loop on one
			}
		}
	}
	return pc
}

// profileOfRole returns the profile of the chain that assumes the role.
func (pc *profileChain) profileOfRole(role string) (name, source string) {
	for i, h := range pc.hops {
		if h.RoleARN == role {
			if h.Source != nil {
				source = h.Source.Profile
			} else if i+1 < len(pc.hops) {
				source = pc.hops[i+1].Profile
			}
			return h.Profile, source
		}
	}
	return pc.name, ""
}

// chainLink is one link of a credential chain: a role assumed, with MFA or
// web identity, or an SSO role.
type chainLink struct {
	chain       *profileChain
	role        string
	serial      string
	webIdentity bool
	sso         string // "account role"
}

// fail names the link in the error its call returned. A link whose own
// source failed passes that failure on unchanged: the first link that
// failed is the one to name.
func (l *chainLink) fail(err error) error {
	var inner *CredentialChainError
	if errors.As(err, &inner) {
		return err
	}
	e := &CredentialChainError{Profile: l.chain.name, Err: err}
	switch {
	case l.sso != "":
		account, role, _ := strings.Cut(l.sso, " ")
		e.Step = fmt.Sprintf("the SSO portal's GetRoleCredentials for role %s in account %s", role, account)
	case l.webIdentity:
		e.Step = "AssumeRoleWithWebIdentity of " + l.role
	default:
		profile, source := l.chain.profileOfRole(l.role)
		e.Profile = profile
		e.Step = "AssumeRole of " + l.role
		if source != "" {
			e.Step += fmt.Sprintf(" with the credentials of profile %q", source)
		}
		if l.serial != "" {
			e.Step += " and MFA device " + l.serial
		}
	}
	return e
}

// CredentialChainError is a failure to obtain the responder's credentials:
// the profile and the step of its chain that failed (a role assumed, MFA,
// SSO, credential_process, the environment's session), and why.
type CredentialChainError struct {
	Profile string // "" for credentials from the environment
	Step    string
	Err     error
}

func (e *CredentialChainError) Error() string {
	who := "credentials from the environment"
	if e.Profile != "" {
		who = fmt.Sprintf("credentials of profile %q", e.Profile)
	}
	return fmt.Sprintf("%s failed at %s: %s; fix that link of the chain (or log in again) and retry", who, e.Step, reason(e.Err))
}

func (e *CredentialChainError) Unwrap() error { return e.Err }

// ExitCode puts the failure in the exit-code table's row of authentication
// failures.
func (e *CredentialChainError) ExitCode() int { return 4 }

// reason is the cause of a failed link in a few words: AWS's error code and
// message when AWS answered, else the error.
func reason(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return strings.TrimSuffix(api.ErrorCode()+": "+api.ErrorMessage(), ".")
	}
	msg := err.Error()
	// The SDK's wrapping ("failed to refresh cached credentials, …")
	// repeats itself; the last clause is the cause.
	if i := strings.LastIndex(msg, ", "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	return strings.TrimSuffix(msg, ".")
}

// namedChain is the configuration's credentials provider with each failure
// named after its profile and step: the failures of role links are named
// by their clients; the rest (SSO token, credential_process, static keys,
// an expired environment session) here.
type namedChain struct {
	aws.CredentialsProvider
	chain *profileChain
	now   func() time.Time
}

func (p namedChain) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		var named *CredentialChainError
		var noCreds *NoCredentialsError
		if errors.As(err, &named) || errors.As(err, &noCreds) || ctx.Err() != nil {
			return creds, err
		}
		return creds, &CredentialChainError{Profile: p.chain.name, Step: p.chain.firstStep(), Err: err}
	}
	if creds.Source == "EnvConfigCredentials" {
		// aws-vault exec and the like export the session's end; a
		// session past it is refused by AWS with ExpiredToken, which
		// says nothing of where the credentials came from.
		if exp, ok := envExpiration(); ok {
			creds.CanExpire, creds.Expires = true, exp
			if !p.now().Before(exp) {
				step := "the session in AWS_SESSION_TOKEN"
				if v := os.Getenv("AWS_VAULT"); v != "" {
					step = fmt.Sprintf("the session of 'aws-vault exec %s'", v)
				}
				return aws.Credentials{}, &CredentialChainError{Step: step,
					Err: fmt.Errorf("it expired at %s (AWS_SESSION_EXPIRATION)", exp.UTC().Format(time.RFC3339))}
			}
		}
	}
	return creds, nil
}

// IsCredentialsProvider lets aws.IsCredentialsProvider see through the
// wrapper.
func (p namedChain) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, target)
}

// envExpiration reads AWS_SESSION_EXPIRATION (RFC 3339, as aws-vault and
// the AWS CLI's export-credentials write it).
func envExpiration() (time.Time, bool) {
	v := os.Getenv("AWS_SESSION_EXPIRATION")
	if v == "" || os.Getenv("AWS_SESSION_TOKEN") == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

// firstStep names where the selected profile's credentials come from when
// that, rather than a role link, failed.
func (pc *profileChain) firstStep() string {
	if len(pc.hops) == 0 {
		return "its credentials"
	}
	last := pc.hops[len(pc.hops)-1]
	switch {
	case last.CredentialProcess != "":
		return fmt.Sprintf("the credential_process of profile %q", last.Profile)
	case last.SSOAccountID != "" || last.SSOSessionName != "":
		return fmt.Sprintf("the SSO token of profile %q (run 'aws sso login --profile %s')", last.Profile, last.Profile)
	case last.WebIdentityTokenFile != "":
		return fmt.Sprintf("the web identity token file of profile %q", last.Profile)
	case last.Credentials.HasKeys():
		return fmt.Sprintf("the keys of profile %q", last.Profile)
	}
	return fmt.Sprintf("the source of profile %q", last.Profile)
}
