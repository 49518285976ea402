// Package cli holds keyleak's commands: flags, the exit-code table, and
// text or JSON output. Commands are thin: they parse, call the playbook,
// trail and report packages, and print.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs keyleak with the process's arguments and streams and returns the
// exit code. Nothing below it exits the process.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], systemStreams())
}

// Run runs keyleak with the given arguments and streams; tests call it.
func Run(ctx context.Context, args []string, io *IOStreams) int {
	f := NewFactory(io)
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %w", context.Canceled, err)
	}
	code := exitCode(err)
	fmt.Fprintln(io.ErrOut, "keyleak: "+message(err, code))
	return code
}

// message is the one sentence the user sees for an error.
func message(err error, code int) string {
	msg := err.Error()
	switch code {
	case ExitCancelled:
		return "interrupted; what was done so far is kept in the case journal, and re-running the same command resumes."
	case ExitUsage:
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		return msg + " See 'keyleak --help'."
	}
	return msg
}

// outputFormat is the -o flag's value.
type outputFormat string

// Output formats.
const (
	outputText outputFormat = "text"
	outputJSON outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "text|json" }
func (o *outputFormat) Set(v string) error {
	switch outputFormat(v) {
	case outputText, outputJSON:
		*o = outputFormat(v)
		return nil
	}
	return fmt.Errorf("must be text or json, not %q", v)
}

// globalFlags are the flags every command has.
type globalFlags struct {
	output outputFormat
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	g := &globalFlags{output: outputText}
	root := &cobra.Command{
		Use:   "keyleak",
		Short: "Respond to a leaked AWS access key: contain, investigate, clean up, report",
		Long: `keyleak walks you through the response to a leaked AWS access key (AKIA…):
deactivate it, revoke the sessions made from it, find every CloudTrail event of
the key and of the credentials derived from it in every region, tell the
attacker's calls from your workload's, remove what the attacker created, and
write the report for the AWS support case.

Start with 'keyleak demo' to see it against a simulated account.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("keyleak {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&f.AWSOptions.Profile, "profile", "", "AWS profile to use (as the AWS CLI's --profile)")
	pf.StringVar(&f.AWSOptions.Region, "region", "", "AWS region for regional calls (default: profile's, or us-east-1)")
	pf.StringVar(&f.AWSOptions.EndpointURL, "endpoint-url", "", "send every AWS call to this URL (e.g. a simulator); AWS_ENDPOINT_URL works too")
	pf.VarP(&g.output, "output", "o", "output format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	root.AddCommand(
		newCmdVersion(f),
		newCmdContain(f, g),
		newCmdInvestigate(f, g),
		newCmdReport(f, g),
		newCmdDemo(f, g),
		newCmdSim(f, g),
		newCmdCase(f, g),
		newCmdEval(f, g),
		newCmdEradicate(f, g),
		newCmdVerify(f, g),
		newCmdRotate(f, g),
		newCmdScan(f, g),
		newCmdAudit(f, g),
		newCmdAthena(f, g),
	)
	// Unknown commands and bad arguments are usage errors.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("unknown command %q", args[0])
		}
		return nil
	}
	// With a terminal and no command, keyleak opens the interactive runbook.
	rb := &runbookOptions{}
	root.Flags().StringVar(&rb.Key, "key", "", "the leaked access key ID (AKIA…): open the runbook on it")
	root.Flags().StringVar(&rb.CaseDir, "case", "", "reopen this case directory in the runbook where it stopped")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		return runbookRun(cmd, f, rb)
	}
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs turns cobra's argument errors into usage errors.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}
