package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/evaluate"
)

// evalOptions are the flags of `keyleak eval`.
type evalOptions struct {
	RulesDirs []string
	Scenarios bool
	Output    outputFormat
}

func newCmdEval(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdEvalWith(f, g, nil)
}

func newCmdEvalWith(f *Factory, g *globalFlags, runF func(context.Context, *evalOptions) error) *cobra.Command {
	o := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Measure the detection rules on public CloudTrail data and the simulator's scenarios",
		Long: `Measure how keyleak's assessment does:

  coverage           how many of the events public detection catalogs name
                     (TrailDiscover, Stratus, Sigma, Elastic, Panther, ...)
                     the rules recognise, per catalog
  Stratus Red Team   which detonated attack techniques the rules flag
  Panther            agreement with panther-analysis's expected results
  OTRF               precision and recall of attacker verdicts on a lab breach
  scenarios          precision and recall against the simulator's ground truth
                     (each scenario is served on 127.0.0.1 and swept)

The data sets are built into keyleak; nothing is fetched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return evalRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.RulesDirs, "rules", nil, "also load the rules (*.yaml) of this directory; repeatable")
	fl.BoolVar(&o.Scenarios, "scenarios", true, "also run the simulator's scenarios")
	return cmd
}

func evalRun(ctx context.Context, f *Factory, o *evalOptions) error {
	cat, err := assess.LoadCatalog(o.RulesDirs...)
	if err != nil {
		return &UsageError{Err: err}
	}
	rep, err := evaluate.Run(ctx, cat, o.Scenarios)
	if err != nil {
		return err
	}
	if o.Output == outputJSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write eval report: %w", err)
		}
	} else if err := rep.Write(f.IO.Out); err != nil {
		return fmt.Errorf("write eval report: %w", err)
	}
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			return &PartialError{Err: fmt.Errorf("scenario %s could not be evaluated: %s", s.Name, s.Error)}
		}
	}
	return nil
}
