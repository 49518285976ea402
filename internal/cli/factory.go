package cli

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
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

// retryOptions are the CloudTrail sweep's options under --retry-wait: its
// back-off starts there and doubles up to 16 times it, the shape of its
// default (500 ms to 8 s), so that a throttle storm still spreads over the
// regions as it would at AWS's pace.
func (f *Factory) retryOptions() []trail.Option {
	w := f.AWSOptions.MaxRetryWait
	if w <= 0 {
		return nil
	}
	return []trail.Option{trail.WithBackoff(w, 16*w)}
}
