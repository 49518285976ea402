package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/rotate"
)

// rotateOptions are the flags of `keyleak rotate`.
type rotateOptions struct {
	Key         string
	To          string
	Yes         bool
	DryRun      bool
	ForceDelete bool
	Watch       time.Duration
	CaseDir     string
	Parent      string
	Output      outputFormat
}

func newCmdRotate(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdRotateWith(f, g, nil)
}

func newCmdRotateWith(f *Factory, g *globalFlags, runF func(context.Context, *rotateOptions) error) *cobra.Command {
	o := &rotateOptions{}
	var watch string
	cmd := &cobra.Command{
		Use:   "rotate --key AKIA… --to secretsmanager:NAME|credentials:PROFILE|stdout",
		Short: "Replace a key with a new one, without downtime and without a secret on disk",
		Long: `Replace an access key with a new one, one journaled step at a time:

  1. slots       IAM allows two keys per user; if both are taken, say which goes
                 first and why (the leaked key, once the investigation has run)
  2. create      iam CreateAccessKey, and hand the secret at once to --to:
                   secretsmanager:NAME  a Secrets Manager secret (created or updated)
                   credentials:PROFILE  the shared credentials file, mode 0600
                   stdout               printed once, here
  3. switch      you confirm the workload uses the new key
  4. deactivate  the old key (routine rotation; a leaked key is already inactive)
  5. watch       the old key's last use and CloudTrail for --watch
  6. delete      the old key

For a leaked key (its case shows contain or investigate ran), the key is deleted
only after 'keyleak investigate' has run, unless --force-delete. Run the command
again to continue: finished steps are not repeated, and a key made by an
interrupted run that never reached its destination is deleted first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
				return err
			}
			if o.To == "" {
				return usageErrorf("say where the new key goes: --to secretsmanager:NAME, --to credentials:PROFILE, or --to stdout")
			}
			kind, _, err := rotate.ParseTo(o.To)
			if err != nil {
				return &UsageError{Err: err}
			}
			if kind == "stdout" && o.Output == outputJSON {
				return usageErrorf("--to stdout prints the secret and -o json prints JSON to the same stream; use one of them")
			}
			if o.Watch, err = parseDays(watch); err != nil && watch != "0" {
				return usageErrorf("--watch: %w", err)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return rotateRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Key, "key", "", "the access key ID to replace (AKIA…)")
	fl.StringVar(&o.To, "to", "", "where the new key goes: secretsmanager:NAME, credentials:PROFILE or stdout")
	fl.BoolVarP(&o.Yes, "yes", "y", false, "confirm every step: the workload has switched, and deletions")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the calls that would be made and change nothing")
	fl.BoolVar(&o.ForceDelete, "force-delete", false, "delete a leaked key before the investigation has run (its last-use record is lost)")
	fl.StringVar(&watch, "watch", "7d", "how long to watch the old key after deactivating it before deleting it (0 for no wait)")
	fl.StringVar(&o.CaseDir, "case", "", "case directory of the key (default: the newest case of the key under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where case directories are")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// credentialsPath is the shared credentials file, as the SDKs find it.
func credentialsPath() (string, error) {
	if p := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the shared credentials file: %w", err)
	}
	return filepath.Join(home, ".aws", "credentials"), nil
}

func rotateRun(ctx context.Context, f *Factory, o *rotateOptions) error {
	clients, err := f.Clients(ctx)
	if err != nil {
		return err
	}
	kind, arg, _ := rotate.ParseTo(o.To)
	var dest rotate.Destination
	switch kind {
	case "secretsmanager":
		dest = rotate.SecretsManager(clients.SecretsManager(""), arg)
	case "credentials":
		p, err := credentialsPath()
		if err != nil {
			return err
		}
		dest = rotate.CredentialsFile(p, arg)
	default:
		dest = rotate.Writer(f.IO.Out)
	}
	c, err := f.Engine().OpenCase(casefile.Ref{Dir: o.CaseDir, Parent: o.Parent, Key: o.Key})
	if err != nil {
		return err
	}
	defer c.Close()

	regions := []string{"us-east-1"}
	if r := clients.Config().Region; r != "" && r != "us-east-1" {
		regions = append(regions, r)
	}
	// The key this process signs with is never deactivated under it.
	creds, err := clients.Config().Credentials.Retrieve(ctx)
	if err != nil {
		return &AuthError{Err: fmt.Errorf("load AWS credentials: %w", err)}
	}
	opts := []rotate.Option{
		rotate.WithResponderKeyID(creds.AccessKeyID),
		rotate.WithClock(f.Now), rotate.WithDryRun(o.DryRun), rotate.WithForceDelete(o.ForceDelete), rotate.WithWatch(o.Watch),
		rotate.WithTrail(func(region string) cloudtrail.LookupEventsAPIClient { return clients.CloudTrail(region) }, regions...),
	}
	switch {
	case o.Yes:
		opts = append(opts, rotate.WithConfirm(func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }))
	case f.IO.StdinTTY:
		opts = append(opts, rotate.WithConfirm(terminalConfirm(f.IO)))
	}
	if o.Output == outputText {
		opts = append(opts, rotate.WithProgress(func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }))
	}
	sum, runErr := rotate.New(c, clients.IAM(), dest, opts...).Run(ctx)
	if sum != nil {
		if err := printRotateSummary(f.IO.Out, o.Output, sum); err != nil {
			return err
		}
	}
	var blocked *rotate.BlockedError
	if errors.As(runErr, &blocked) {
		return runErr
	}
	return respond.Classify(runErr)
}

func printRotateSummary(w io.Writer, format outputFormat, sum *rotate.Summary) error {
	return printResult(w, format, sum, func() string { return renderRotateText(sum) })
}

// renderRotateText is the text summary of a rotation run.
func renderRotateText(sum *rotate.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key        %s of %s (%s rotation)\n", sum.KeyID, dash(sum.User), sum.Mode)
	if sum.NewKeyID != "" {
		fmt.Fprintf(&b, "New key    %s, in %s\n", sum.NewKeyID, sum.Destination)
	}
	if sum.Slots != "" {
		fmt.Fprintf(&b, "Slots      %s\n", sum.Slots)
	}
	b.WriteString("\n")
	for _, s := range sum.Steps {
		fmt.Fprintf(&b, "%-18s %s\n", s.ID, s.Status)
		for _, a := range s.Actions {
			fmt.Fprintf(&b, "  %-13s %s\n", a.Status, a.Description)
			if a.Error != "" {
				fmt.Fprintf(&b, "                %s\n", a.Error)
			}
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "  %s\n", s.Error)
		}
	}
	if len(sum.Keys) > 0 {
		b.WriteString("\nKeys of " + sum.User + " now:\n")
		for _, k := range sum.Keys {
			fmt.Fprintf(&b, "  %s  %-8s  %-5s  created %s\n", k.AccessKeyID, k.Status, k.Role, k.Created.UTC().Format(time.RFC3339))
		}
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	switch {
	case sum.DryRun:
		b.WriteString("\nDry run: nothing was changed.\n")
	case sum.Done:
		fmt.Fprintf(&b, "\nDone: %s is deleted and %s is the only active key of %s.\n", sum.KeyID, sum.NewKeyID, sum.User)
	case sum.Next != "":
		fmt.Fprintf(&b, "\nNext: %s.\n", sum.Next)
	}
	fmt.Fprintf(&b, "Case       %s\n", sum.Case)
	return b.String()
}
