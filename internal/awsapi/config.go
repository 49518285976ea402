// Package awsapi loads the AWS configuration keyleak runs with and makes
// per-region clients from it cheaply.
//
// Credentials come from the SDK's standard chain, so profiles, SSO profiles,
// environment variables, `aws-vault exec … -- keyleak …` and MFA role
// profiles all work as they do for the AWS CLI. When the chain comes down to
// an instance role and there is none, the credentials fail with
// NoCredentialsError, quickly and without the SDK's log lines.
//
// The narrow interfaces each consumer needs are declared by the consumer
// (playbook, trail); the SDK clients made here satisfy them.
package awsapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go/logging"
)

// Options are the global flags that shape the AWS configuration. Empty
// fields leave the SDK's own resolution (environment, shared config) alone.
type Options struct {
	Profile     string // --profile, else AWS_PROFILE, else default
	Region      string // --region, else AWS_REGION / profile region, else us-east-1
	EndpointURL string // --endpoint-url, else AWS_ENDPOINT_URL (read by the SDK)
	// MaxAttempts bounds the SDK's retries of one call (default 5). Callers
	// that pace and retry themselves (the CloudTrail sweep) make clients with
	// their own retryer instead.
	MaxAttempts int
	// MaxRetryWait caps the wait before each retry of a call (0 leaves the
	// SDK's 20 s). Only a simulator warrants a short one: there injected
	// server errors then cost milliseconds instead of seconds.
	MaxRetryWait time.Duration
	// TokenPrompt reads an MFA code for role profiles with mfa_serial; it
	// is given the device's serial number. Nil prompts on the terminal
	// (/dev/tty), never on stdout.
	TokenPrompt func(serial string) (string, error)
	// Transport, when set, adjusts the HTTP transport every client uses,
	// the credential providers' own included. Tests use it to refuse and
	// record any request that would leave loopback.
	Transport func(*http.Transport)
}

// DefaultRegion is used when neither flag, environment nor profile names one:
// IAM and the global STS endpoint live there anyway.
const DefaultRegion = "us-east-1"

// Load resolves the AWS configuration. It does not call AWS: credentials are
// resolved lazily on the first request, so `--help` and usage errors never
// touch the network.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	prompt := o.TokenPrompt
	if prompt == nil {
		prompt = terminalTokenPrompt
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 5
	}
	// A BuildableClient, not a plain *http.Client: the SDK applies
	// AWS_CA_BUNDLE by reconfiguring the client's transport, which it can do
	// only with this type.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = 64
		t.IdleConnTimeout = 90 * time.Second
		if o.Transport != nil {
			o.Transport(t)
		}
	}).WithTimeout(2 * time.Minute)
	// Filled once the configuration is resolved, before any credential
	// is retrieved (see credchain.go).
	eps, chain := &providerEndpoints{}, &profileChain{}
	// The instance-metadata client is made from the loaded configuration,
	// as the SDK would make it, once that exists (below).
	metadata := &instanceMetadata{}
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// Set before the credential providers are made: their STS
		// clients need a region too.
		config.WithDefaultRegion(DefaultRegion),
		// The SDK's own log lines ("SDK 2026/… WARN falling back to
		// IMDSv1 …") would land on stderr beside keyleak's one sentence;
		// every failure they announce also comes back as an error.
		config.WithLogger(logging.Nop{}),
		config.WithEC2RoleCredentialOptions(func(o *ec2rolecreds.Options) { o.Client = metadata }),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				if o.MaxRetryWait > 0 {
					so.MaxBackoff = o.MaxRetryWait
				}
			})
		}),
	}
	opts = append(opts, providerOptions(eps, chain, prompt)...)
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return aws.Config{}, fmt.Errorf("load AWS config: profile %q is not in your AWS config or credentials file", missing.Profile)
		}
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if o.EndpointURL != "" {
		// The flag holds even under ignore_configured_endpoint_urls,
		// which the SDK applies to it too; the AWS CLI's does not.
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	eps.resolve(cfg, o.EndpointURL)
	*chain = *newProfileChain(cfg)
	metadata.client = imds.NewFromConfig(cfg, func(o *imds.Options) {
		// Off EC2 the metadata address answers nothing or refuses; the
		// SDK's 250 ms dial and 500 ms header timeouts tell that at once,
		// and retrying it (5 times, with back-off, from the retryer above)
		// only delays the "no credentials" answer by seconds. On EC2 it
		// answers on the first attempt.
		o.Retryer = aws.NopRetryer{}
	})
	// The instance role is the credential chain's last resort: when the SDK
	// falls back to it, the environment and the config files had no
	// credentials, and a failure means there are none at all.
	if aws.IsCredentialsProvider(cfg.Credentials, &ec2rolecreds.Provider{}) {
		cfg.Credentials = lastResort{cfg.Credentials}
	} else if cfg.Credentials != nil {
		cfg.Credentials = namedChain{CredentialsProvider: cfg.Credentials, chain: chain, now: time.Now}
	}
	// Wrapped after loading: the SDK has applied AWS_CA_BUNDLE to the
	// buildable client by now.
	cfg.HTTPClient = BufferBodies(cfg.HTTPClient)
	return cfg, nil
}

// instanceMetadata is the EC2 role provider's metadata client. Load sets
// client before it returns, before anything retrieves credentials.
type instanceMetadata struct{ client *imds.Client }

func (m *instanceMetadata) GetMetadata(ctx context.Context, in *imds.GetMetadataInput, optFns ...func(*imds.Options)) (*imds.GetMetadataOutput, error) {
	return m.client.GetMetadata(ctx, in, optFns...)
}

// NoCredentialsError means the SDK found no credentials anywhere: not in the
// environment, not in the shared config files, not from an instance role.
// Its message is the one sentence a user needs; the SDK's account of each
// place it looked is in Err.
type NoCredentialsError struct{ Err error }

func (e *NoCredentialsError) Error() string {
	return "no AWS credentials found: run 'aws configure' or 'aws sso login' and pass --profile, or run keyleak under 'aws-vault exec PROFILE --', then try again"
}

func (e *NoCredentialsError) Unwrap() error { return e.Err }

// lastResort is the credential chain when it came down to the instance role.
type lastResort struct{ aws.CredentialsProvider }

func (p lastResort) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return creds, &NoCredentialsError{Err: err}
	}
	return creds, err
}

// IsCredentialsProvider lets aws.IsCredentialsProvider see through the
// wrapper, as it sees through aws.CredentialsCache.
func (p lastResort) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, target)
}

// terminalTokenPrompt asks for an MFA code on the controlling terminal, so
// that stdout stays clean for data.
func terminalTokenPrompt(serial string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("read MFA code: no terminal to ask on; use aws-vault or a profile without MFA: %w", err)
	}
	defer tty.Close()
	return ReadToken(tty, tty, serial)
}

// ReadToken asks for the MFA code of the device serial on out and reads
// one line of in. Front ends with their own terminal (the demo) prompt
// through it.
func ReadToken(in io.Reader, out io.Writer, serial string) (string, error) {
	prompt := "MFA code: "
	if serial != "" {
		prompt = "MFA code for " + serial + ": "
	}
	if _, err := fmt.Fprint(out, prompt); err != nil {
		return "", fmt.Errorf("prompt for MFA code: %w", err)
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read MFA code: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// Clients makes service clients per region from one configuration, once each.
type Clients struct {
	cfg   aws.Config
	mu    sync.Mutex
	cache map[string]any
}

// NewClients wraps a loaded configuration.
func NewClients(cfg aws.Config) *Clients {
	return &Clients{cfg: cfg, cache: map[string]any{}}
}

// Config returns the configuration the clients are made from.
func (c *Clients) Config() aws.Config { return c.cfg }

// Region returns the configuration's region.
func (c *Clients) Region() string { return c.cfg.Region }

// get returns the cached client for (service, region), making it with mk.
func get[T any](c *Clients, service, region string, mk func() T) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := service + "/" + region
	if v, ok := c.cache[key]; ok {
		return v.(T)
	}
	v := mk()
	c.cache[key] = v
	return v
}
