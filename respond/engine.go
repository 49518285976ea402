// Package respond is keyleak's response engine: the use cases of the
// runbook (identify, contain, investigate from any source, assess,
// eradicate, verify, report) as one API with progress and confirmation
// hooks. The commands of internal/cli, the terminal runbook of
// internal/tui, the demo and the unattended responder are thin front ends
// on it: a front end turns input into a request and a result into output,
// never reads case files itself and never decides what AWS state is.
//
// Every use case reads the account as it is now before it plans and after
// it acts; the case's journal is the evidence of what was done, never a
// substitute for asking AWS.
package respond

import (
	"context"
	"fmt"
	"time"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// Engine runs the use cases against one AWS configuration. Build it with
// New; it is safe for use by one front end at a time per case.
type Engine struct {
	clients func(context.Context) (*awsapi.Clients, error)
	now     func() time.Time
	version string
}

// Option configures an Engine.
type Option func(*Engine)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithVersion sets keyleak's version, written into the reports.
func WithVersion(v string) Option { return func(e *Engine) { e.version = v } }

// New returns an engine whose AWS clients come from clients, called lazily
// the first time a use case needs AWS (so that offline work and usage
// errors never load AWS configuration).
func New(clients func(context.Context) (*awsapi.Clients, error), opts ...Option) *Engine {
	e := &Engine{clients: clients, now: time.Now}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Now returns the engine's clock.
func (e *Engine) Now() time.Time { return e.now() }

// Clients returns the AWS clients, loading the configuration on first use.
func (e *Engine) Clients(ctx context.Context) (*awsapi.Clients, error) {
	if e.clients == nil {
		return nil, &AuthError{Err: fmt.Errorf("no AWS configuration")}
	}
	return e.clients(ctx)
}

// Hooks are how a use case talks to its front end while it runs. Every
// field is optional.
type Hooks struct {
	// Confirm is asked before each step that changes AWS, with the exact
	// calls. Nil: non-destructive steps run unasked, destructive ones are
	// declined.
	Confirm playbook.ConfirmFunc
	// Progress reports playbook steps and actions as they run.
	Progress func(playbook.Progress)
	// Source reports an investigation source's progress (a region, a file
	// set, an account).
	Source func(trail.SourceStatus)
	// Note is one line for the responder ("looking for role sessions…").
	Note func(string)
}

func (h Hooks) note(format string, args ...any) {
	if h.Note != nil {
		h.Note(fmt.Sprintf(format, args...))
	}
}

// OpenCase opens the case a reference names (casefile.Open): a new
// directory is created, an existing case resumed, a non-empty directory
// that is not a case refused, and a mistyped key leaves nothing behind.
func (e *Engine) OpenCase(ref casefile.Ref) (*playbook.Case, error) {
	c, err := casefile.Open(ref, e.now())
	if err != nil {
		return nil, playbookError(err)
	}
	return c, nil
}

// responderKeyID is the access key ID of the responder's own credentials,
// for the self-lockout guard.
func responderKeyID(ctx context.Context, clients *awsapi.Clients) (string, error) {
	creds, err := clients.Config().Credentials.Retrieve(ctx)
	if err != nil {
		return "", &AuthError{Err: fmt.Errorf("load AWS credentials: %w", err)}
	}
	return creds.AccessKeyID, nil
}

// runnerFor builds a playbook runner on the case with the hooks, on the
// engine's clients and as the responder they sign in as.
func (e *Engine) runnerFor(ctx context.Context, c *playbook.Case, dryRun bool, h Hooks, extra ...playbook.Option) (*playbook.Runner, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	keyID, err := responderKeyID(ctx, clients)
	if err != nil {
		return nil, err
	}
	return playbook.NewRunner(c, clients.IAM(), clients.STS(""), append(e.runnerOptions(keyID, dryRun, false, h), extra...)...), nil
}

func (e *Engine) runnerOptions(keyID string, dryRun, force bool, h Hooks) []playbook.Option {
	opts := []playbook.Option{
		playbook.WithResponderKeyID(keyID),
		playbook.WithDryRun(dryRun),
		playbook.WithForce(force),
		playbook.WithClock(e.now),
	}
	if h.Confirm != nil {
		opts = append(opts, playbook.WithConfirm(h.Confirm))
	}
	if h.Progress != nil {
		opts = append(opts, playbook.WithProgress(h.Progress))
	}
	return opts
}
