package cli

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/respond"
)

// Factory hands commands their expensive dependencies lazily, so that
// `--help` and usage errors never load AWS configuration.
type Factory struct {
	IO  *IOStreams
	Now func() time.Time

	// AWSOptions are filled from the global flags before a command runs.
	AWSOptions awsapi.Options

	once    sync.Once
	clients *awsapi.Clients
	err     error
	// loadConfig is replaceable in tests.
	loadConfig func(context.Context, awsapi.Options) (aws.Config, error)
}

// NewFactory returns the factory of a real run.
func NewFactory(io *IOStreams) *Factory {
	return &Factory{IO: io, Now: time.Now, loadConfig: awsapi.Load}
}

// Engine returns the response engine on the factory's lazy AWS clients.
func (f *Factory) Engine() *respond.Engine {
	return respond.New(f.Clients, respond.WithClock(f.Now), respond.WithVersion(version()))
}

// Clients loads the AWS configuration on first use and returns the
// per-region client maker.
func (f *Factory) Clients(ctx context.Context) (*awsapi.Clients, error) {
	f.once.Do(func() {
		cfg, err := f.loadConfig(ctx, f.AWSOptions)
		if err != nil {
			f.err = &AuthError{Err: err}
			return
		}
		f.clients = awsapi.NewClients(cfg)
	})
	return f.clients, f.err
}
