package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trigger"
)

// respondOptions are the flags of `keyleak respond`.
type respondOptions struct {
	Event   string
	Plan    bool
	Budget  time.Duration
	CaseDir string
	Parent  string
	Output  outputFormat
	// LookupRate paces LookupEvents (hidden; AWS allows 2 a second).
	LookupRate float64
}

func newCmdRespond(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdRespondWith(f, g, nil)
}

func newCmdRespondWith(f *Factory, g *globalFlags, runF func(context.Context, *respondOptions) error) *cobra.Command {
	o := &respondOptions{}
	cmd := &cobra.Command{
		Use:   "respond --event FILE|-",
		Short: "Run the whole runbook unattended from the event that reported the leak",
		Long: `Read the event that reported the leak and run the runbook without asking:

  - an AWS Health event (as EventBridge delivers it, or its bare detail) of
    type AWS_RISK_CREDENTIALS_EXPOSED, …_EXPOSURE_SUSPECTED, …_COMPROMISED,
    …_COMPROMISE_SUSPECTED or AWS_RISK_IAM_QUARANTINE (the key in
    detail.affectedEntities[].entityValue);
  - a GitHub secret-scanning alert webhook for an AWS access key ID;
  - a GuardDuty finding about an access key.

For each key it names: contain (the key, its sessions and every credential
it minted, as contain --yes does), investigate every region within --budget,
assess, and write the reports into the case, with where the key was found.
Nothing is removed: eradication is left for a person, and the summary says
what else is. An event that is malformed, of another kind, for another
account, or that names a key the account does not have: one sentence, exit 2,
nothing changed. --plan changes nothing and prints what it would do.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if o.Budget <= 0 {
				return usageErrorf("--budget must be more than 0")
			}
			if o.LookupRate <= 0 {
				return usageErrorf("--lookup-rate must be more than 0")
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return respondRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Event, "event", "", "the event as JSON: a file, or - for standard input")
	fl.BoolVar(&o.Plan, "plan", false, "change nothing: print what the response would do, from the account as it is now")
	fl.DurationVar(&o.Budget, "budget", respond.DefaultBudget, "how long the investigation may take; what it found by then is kept and the summary says what is left")
	fl.StringVar(&o.CaseDir, "case", "", "case directory, when the event names one key (default: the key's newest case under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where new case directories are made")
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "LookupEvents requests per second per region (AWS allows 2)")
	_ = fl.MarkHidden("lookup-rate")
	_ = cmd.MarkFlagRequired("event")
	return cmd
}

// readEvent reads the event from a file or standard input, bounded.
func readEvent(in io.Reader, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = in
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("--event: %w", err)
		}
		defer file.Close()
		r = file
	}
	b, err := io.ReadAll(io.LimitReader(r, 2<<20))
	if err != nil {
		return nil, usageErrorf("--event: read %s: %w", name, err)
	}
	return b, nil
}

func respondRun(ctx context.Context, f *Factory, o *respondOptions) error {
	data, err := readEvent(f.IO.In, o.Event)
	if err != nil {
		return err
	}
	t, err := trigger.Parse(data)
	if err != nil {
		return &UsageError{Err: err}
	}
	if o.CaseDir != "" && len(t.Keys) > 1 {
		return usageErrorf("the event names %d keys; --case takes one: leave it out, and each key gets its case under --dir", len(t.Keys))
	}
	e := f.Engine()
	// AWS first: a missing configuration leaves no case directory behind.
	if _, err := e.Clients(ctx); err != nil {
		return err
	}
	var h respond.Hooks
	if o.Output == outputText {
		h.Progress = func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }
		h.Note = func(s string) { fmt.Fprintf(f.IO.ErrOut, "» %s\n", s) }
	}
	var results []*respond.RespondResult
	var errs []error
	for _, key := range t.Keys {
		res, err := e.Respond(ctx, casefile.Ref{Dir: o.CaseDir, Parent: o.Parent}, respond.RespondRequest{
			Trigger: t, Key: key, Plan: o.Plan, Budget: o.Budget,
			LookupRate: rate.Limit(o.LookupRate), Options: f.retryOptions(),
		}, h)
		if res != nil {
			results = append(results, res)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(results) > 0 {
		var v any = results
		if len(results) == 1 {
			v = results[0]
		}
		if err := printResult(f.IO.Out, o.Output, v, func() string {
			var s string
			for i, r := range results {
				if i > 0 {
					s += "\n"
				}
				s += r.Text()
			}
			return s
		}); err != nil {
			return err
		}
	}
	return worstError(errs)
}

// worstError returns the error whose exit code matters most: a usage or
// authentication failure before a partial one, any before none.
func worstError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	rank := func(err error) int {
		switch exitCode(err) {
		case ExitUsage:
			return 4
		case ExitAuth:
			return 3
		case ExitError, ExitCancelled:
			return 2
		}
		return 1
	}
	worst := errs[0]
	for _, err := range errs[1:] {
		if rank(err) > rank(worst) {
			worst = err
		}
	}
	if len(errs) > 1 {
		return fmt.Errorf("%w (and %d more)", worst, len(errs)-1)
	}
	return worst
}
