package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
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
			if err := playbook.ValidateKeyID(o.Key); err != nil {
				return &UsageError{Err: err}
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
	clients, err := f.Clients(ctx)
	if err != nil {
		return err
	}
	creds, err := clients.Config().Credentials.Retrieve(ctx)
	if err != nil {
		return &AuthError{Err: fmt.Errorf("load AWS credentials: %w", err)}
	}
	dir := o.CaseDir
	if dir == "" {
		if dir, err = playbook.FindCase(o.Parent, o.Key); err != nil {
			return usageErrorf("no case of %s under %s: run keyleak investigate --key %s first", o.Key, o.Parent, o.Key)
		}
	}
	c, err := openCase(dir, o.Parent, o.Key, f.Now())
	if err != nil {
		return err
	}
	defer c.Close()
	var findings assess.Findings
	if ok, err := caseview.ReadFile(c, playbook.FindingsFile, &findings); err != nil {
		return err
	} else if !ok {
		return usageErrorf("case %s has no findings: run keyleak investigate --key %s first", c.Dir(), o.Key)
	}
	// The state may have changed since the investigation: check it again.
	inv := resource.NewClients(clients)
	resources, err := assess.Inventory(ctx, inv, findings.Resources)
	if err != nil {
		return fmt.Errorf("check resources: %w", err)
	}
	targets := assess.Targets(resources, o.All)
	if len(o.Only) > 0 {
		if targets, err = playbook.SelectTargets(targets, o.Only); err != nil {
			return &UsageError{Err: err}
		}
	}
	opts := []playbook.Option{
		playbook.WithResponderKeyID(creds.AccessKeyID),
		playbook.WithDryRun(!o.Apply),
		playbook.WithClock(f.Now),
	}
	switch {
	case o.Yes:
		opts = append(opts, playbook.WithConfirm(func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }))
	case f.IO.StdinTTY:
		opts = append(opts, playbook.WithConfirm(terminalConfirm(f.IO)))
	}
	if o.Output == outputText {
		opts = append(opts, playbook.WithProgress(func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }))
	}
	r := playbook.NewRunner(c, clients.IAM(), clients.STS(""), opts...)
	sum, runErr := r.Eradicate(ctx, targets, inv)
	if o.Apply {
		// What is left, for the report and the next run.
		if after, err := assess.Inventory(ctx, inv, findings.Resources); err == nil {
			findings.Resources = after
			if err := c.WriteFindings(findings); err != nil {
				return fmt.Errorf("save findings: %w", err)
			}
		}
	}
	if sum != nil {
		if err := printContainSummary(f.IO.Out, o.Output, sum); err != nil {
			return err
		}
	}
	if len(targets) == 0 && runErr == nil && o.Output == outputText {
		fmt.Fprintln(f.IO.Out, "Nothing to remove: every resource the attacker created is gone.")
	}
	return playbookError(runErr)
}
