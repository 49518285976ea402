package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// eradicateOptions are the flags of `keyleak eradicate`.
type eradicateOptions struct {
	Key     string
	CaseDir string
	Parent  string
	Apply   bool
	Yes     bool
	Only    []string
	All     bool
	Output  outputFormat
}

func newCmdEradicate(f *Factory, g *globalFlags) *cobra.Command {
	o := &eradicateOptions{}
	cmd := &cobra.Command{
		Use:   "eradicate --key AKIA…",
		Short: "Remove what the attacker created (a dry run unless --apply)",
		Long: `Remove the resources the investigation found the attacker created with the
key and its derived keys: instances, spot requests, key pairs, security groups
and opened ingress rules, Lambda functions, IAM users (completely: keys,
password, policies, groups, then the user), access keys, roles.

Without --apply it prints the exact calls and changes nothing. With --apply on
a terminal it asks before each resource; --yes instead needs an explicit list
(--only TYPE|REGION|ID or ID, comma-separated), because removal cannot be
undone. Run keyleak investigate first: eradication works from its findings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
				return err
			}
			if o.Apply && o.Yes && len(o.Only) == 0 {
				return usageErrorf("--yes needs an explicit --only list of the resources to remove: removal cannot be undone")
			}
			if o.Apply && !o.Yes && !f.IO.StdinTTY {
				return usageErrorf("eradicate --apply asks before each resource and there is no terminal: use --yes with --only, or leave out --apply for the plan")
			}
			return eradicateRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Key, "key", "", "the leaked access key ID")
	fl.StringVar(&o.CaseDir, "case", "", "case directory (default: the newest case of the key under --dir)")
	fl.StringVar(&o.Parent, "dir", ".", "where the key's case directories are")
	fl.BoolVar(&o.Apply, "apply", false, "remove for real (default: print the plan only)")
	fl.BoolVarP(&o.Yes, "yes", "y", false, "do not ask; needs --only")
	fl.StringSliceVar(&o.Only, "only", nil, "remove only these resources (TYPE|REGION|ID or ID)")
	fl.BoolVar(&o.All, "all", false, "also offer resources the legitimate workload created with the key")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func eradicateRun(ctx context.Context, f *Factory, o *eradicateOptions) error {
	e := f.Engine()
	if _, err := e.Clients(ctx); err != nil {
		return err
	}
	dir := o.CaseDir
	if dir == "" {
		found, err := playbook.FindCase(o.Parent, o.Key)
		if err != nil || found == "" {
			return usageErrorf("no case of %s under %s: run keyleak investigate --key %s first", o.Key, o.Parent, o.Key)
		}
		dir = found
	}
	c, err := casefile.OpenExisting(dir)
	if err != nil {
		return respond.Classify(err)
	}
	defer c.Close()
	if c.Meta().KeyID != o.Key {
		return usageErrorf("case %s is for key %s, not %s", dir, c.Meta().KeyID, o.Key)
	}
	var h respond.Hooks
	switch {
	case o.Yes:
		h.Confirm = func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }
	case f.IO.StdinTTY:
		h.Confirm = terminalConfirm(f.IO)
	}
	if o.Output == outputText && o.Apply {
		// Without --apply the plan is the summary itself.
		h.Progress = func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }
	}
	res, runErr := e.Eradicate(ctx, c, respond.EradicateRequest{Only: o.Only, All: o.All, DryRun: !o.Apply}, h)
	if res != nil {
		if err := printContainSummary(f.IO.Out, o.Output, res.Summary); err != nil {
			return err
		}
		if o.Output == outputText {
			switch {
			case len(res.Targets) == 0 && runErr == nil:
				fmt.Fprintln(f.IO.Out, "Nothing to remove: every resource the attacker created is gone.")
				fmt.Fprintf(f.IO.Out, "Next: keyleak report --case %s\n", c.Dir())
			case !o.Apply:
				fmt.Fprintln(f.IO.Out, "Next: add --apply to remove them (keyleak asks before each; without a terminal, --yes with --only ID,…).")
			case runErr == nil:
				fmt.Fprintf(f.IO.Out, "Next: keyleak report --case %s\n", c.Dir())
			}
		}
	}
	return runErr
}
