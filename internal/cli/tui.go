package cli

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/tui"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// runbookOptions are the root command's flags: `keyleak [--key K] [--case DIR]`
// opens the interactive runbook.
type runbookOptions struct {
	Key     string
	CaseDir string
}

// runbookRun opens the terminal UI. Without a terminal there is nobody to
// ask for confirmations: the root command prints its help instead, unless
// a key or case was given, which is then a usage error pointing at the
// non-interactive commands.
func runbookRun(cmd *cobra.Command, f *Factory, o *runbookOptions) error {
	tty := f.IO.StdinTTY && f.IO.StderrTTY
	if o.Key == "" && o.CaseDir == "" && !tty {
		return cmd.Help()
	}
	if o.Key != "" {
		if err := playbook.ValidateKeyID(o.Key); err != nil {
			return &UsageError{Err: err}
		}
	}
	if !tty {
		return usageErrorf("the interactive runbook needs a terminal; without one use keyleak contain, investigate and report")
	}
	cfg := tui.Config{
		Key:     o.Key,
		CaseDir: o.CaseDir,
		Parent:  ".",
		Now:     f.Now,
		Version: version(),
		Connect: func(ctx context.Context) (*tui.Backend, error) {
			clients, err := f.Clients(ctx)
			if err != nil {
				return nil, err
			}
			return RunbookBackend(ctx, clients, f.Now)
		},
	}
	return tui.Run(cmd.Context(), cfg, f.IO.In, f.IO.ErrOut)
}

// demoRunbook runs the runbook against the demo's simulator: the leaked key
// is offered in the key entry, LookupEvents is paced for the simulator,
// and the status line shows the simulated attacker's calls as they happen.
func demoRunbook(ctx context.Context, f *Factory, o *demoOptions, srv *awssim.Server) error {
	sim := srv.Sim
	cfg := tui.Config{
		SuggestKey:  sim.LeakedKey(),
		Parent:      o.Dir,
		Now:         f.Now,
		Version:     version(),
		Title:       "keyleak demo (" + sim.Scenario().Name + ", simulated account)",
		LookupRate:  40,
		LookupBurst: 20,
		VerifyEvery: time.Second,
		VerifyFor:   []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute},
		Attacker:    AttackerFeed(sim),
		Connect: func(ctx context.Context) (*tui.Backend, error) {
			clients, err := f.Clients(ctx)
			if err != nil {
				return nil, err
			}
			return RunbookBackend(ctx, clients, f.Now)
		},
	}
	return tui.Run(ctx, cfg, f.IO.In, f.IO.ErrOut)
}

// RunbookBackend is what the runbook calls AWS and the case through: the
// same playbook, trail and assess code and the same case files as the
// contain, investigate and report commands. The teatest flows of
// internal/tui build their runbooks with it.
func RunbookBackend(ctx context.Context, clients *awsapi.Clients, now func() time.Time) (*tui.Backend, error) {
	creds, err := clients.Config().Credentials.Retrieve(ctx)
	if err != nil {
		return nil, &AuthError{Err: fmt.Errorf("load AWS credentials: %w", err)}
	}
	return &tui.Backend{
		ResponderKeyID: creds.AccessKeyID,
		IAM:            clients.IAM(),
		STS:            clients.STS(""),
		Regions:        clients.EC2(""),
		CloudTrail:     func(region string) cloudtrail.LookupEventsAPIClient { return clients.CloudTrail(region) },
		Resources:      resource.NewClients(clients),
		Store:          caseStore{clients: clients, now: now},
	}, nil
}

// caseStore keeps the runbook's results with the functions the commands
// use, so that the report reads a case the same whichever wrote it.
type caseStore struct {
	clients *awsapi.Clients
	now     func() time.Time
}

// Assess judges the events as `keyleak investigate` does, with GuardDuty
// searched in the regions the sweep found enabled.
func (s caseStore) Assess(ctx context.Context, c *playbook.Case, inv *trail.Investigation) (*assess.Assessment, error) {
	var regions []string
	for _, src := range inv.Coverage.Sources {
		if src.State != trail.StateNotEnabled {
			regions = append(regions, src.Name)
		}
	}
	a, _, err := assessInvestigation(ctx, s.clients, regions, c, inv, nil, time.Time{}, s.now())
	return a, err
}

func (caseStore) SaveSummary(c *playbook.Case, sum *playbook.Summary) error {
	return saveSummary(c, sum)
}

func (caseStore) SaveInvestigation(c *playbook.Case, inv *trail.Investigation) error {
	return saveInvestigation(c, inv)
}

// WriteReports writes the reports into the open case, as `keyleak report`
// does (which opens the case itself; the runbook holds it open already).
func (s caseStore) WriteReports(c *playbook.Case, formats []string) ([]string, error) {
	return writeReports(c, formats, "en", time.Local, s.now())
}

// AttackerFeed returns the calls the simulated attacker made with the
// leaked key's chain since the previous call (the first call returns those
// since the feed was made), from the simulator's ground truth.
func AttackerFeed(sim *awssim.Sim) func() []tui.AttackerCall {
	var mu sync.Mutex
	seen := map[string]bool{}
	for _, e := range sim.Truth().Events {
		seen[e.EventID] = true
	}
	return func() []tui.AttackerCall {
		mu.Lock()
		defer mu.Unlock()
		tr := sim.Truth()
		chain := chainLabels(tr)
		var out []tui.AttackerCall
		for _, e := range tr.Events {
			if seen[e.EventID] {
				continue
			}
			seen[e.EventID] = true
			if who, ok := chain[e.AccessKeyID]; ok && e.Attacker {
				out = append(out, tui.AttackerCall{Time: e.EventTime, Who: who, KeyID: e.AccessKeyID, EventName: e.EventName, ErrorCode: e.ErrorCode})
			}
		}
		return out
	}
}
