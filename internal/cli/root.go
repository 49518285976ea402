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

	"github.com/keyleak/keyleak/internal/awsapi"
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
	return runFactory(ctx, NewFactory(io), args)
}

// runFactory runs keyleak on a factory; tests that inject what the flags do
// not reach (the MFA code reader, a transport) call it.
func runFactory(ctx context.Context, f *Factory, args []string) int {
	io := f.IO
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = fmt.Errorf("%w: %w", context.Canceled, err)
	}
	code := exitCode(err)
	path := root.Name()
	if cmd != nil {
		path = cmd.CommandPath()
	}
	fmt.Fprintln(io.ErrOut, "keyleak: "+message(err, code, path))
	return code
}

// message is the one sentence the user sees for an error; a usage error
// points at the help of the command that refused the command line.
func message(err error, code int, cmdPath string) string {
	msg := err.Error()
	// However deep a command wrapped it (inside an SDK operation error, say),
	// "no credentials" needs no more than its own sentence.
	var noCreds *awsapi.NoCredentialsError
	var chain *awsapi.CredentialChainError
	switch {
	case code == ExitAuth && errors.As(err, &chain):
		// The link of the responder's credential chain that failed,
		// however deep the SDK wrapped it.
		msg = chain.Error()
	case code == ExitAuth && errors.As(err, &noCreds):
		msg = noCreds.Error()
	}
	switch code {
	case ExitCancelled:
		return "interrupted; what was done so far is kept in the case journal, and re-running the same command resumes."
	case ExitUsage:
		if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "?") {
			msg += "."
		}
		return msg + " See '" + cmdPath + " --help'."
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
	pf.DurationVar(&f.AWSOptions.MaxRetryWait, "retry-wait", 0, "wait before retrying a failed AWS call: the SDK waits at most this, the CloudTrail sweep starts at it and doubles up to 16 times it (default: up to 20 s; 500 ms doubling)")
	_ = pf.MarkHidden("retry-wait") // for simulators: they fail on purpose and answer at once
	root.PersistentPreRunE = refuseJSON(g)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &UsageError{Err: err}
	})
	root.AddCommand(
		newCmdVersion(f, g),
		newCmdContain(f, g),
		newCmdInvestigate(f, g),
		newCmdRespond(f, g),
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
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(cmd, args[0])
		}
		return nil
	}
	// With a terminal and no command, keyleak opens the interactive runbook.
	rb := &runbookOptions{}
	root.Flags().StringVar(&rb.Key, "key", "", "the leaked access key ID (AKIA…): open the runbook on it")
	root.Flags().StringVar(&rb.CaseDir, "case", "", "reopen this case directory in the runbook where it stopped")
	rb.sourceFlags.add(root.Flags())
	root.Flags().BoolVar(&rb.NoEvidence, "no-evidence", false, "remove what the attacker created without first keeping evidence")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		return runbookRun(cmd, f, rb)
	}
	// cobra adds its completion command when it runs; added now, it gets
	// the same usage errors and -o json check as the others.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		usageErrors(c)
	}
	addExamples(root)
	addCompletions(root)
	return root
}

// unknownCommand is the usage error for a word that names no command of
// cmd, with cobra's suggestions of the nearest names.
func unknownCommand(cmd *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, set only when it looks itself
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %s?", quotedOr(s))
	}
	return usageErrorf("%s", msg)
}

// quotedOr joins names as "a", "b" or "c".
func quotedOr(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// jsonCommands are the commands that print their result as one JSON
// document with -o json, by command path without "keyleak ". Every other
// command (the runbook, the demo, sim serve, the groups, help, completion)
// refuses -o json with a usage error before doing anything, so a script
// never gets text where it asked for JSON.
var jsonCommands = map[string]bool{
	"contain": true, "investigate": true, "report": true, "eradicate": true, "verify": true,
	"rotate": true, "scan": true, "audit": true, "athena ddl": true, "case verify": true,
	"eval": true, "version": true, "respond": true,
}

// refuseJSON is the root's pre-run check of -o json.
func refuseJSON(g *globalFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		path := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
		if g.output != outputJSON || jsonCommands[path] || strings.HasPrefix(cmd.Name(), "__") {
			return nil // __complete: the shell asking for completions
		}
		return usageErrorf("%s has no JSON output; drop -o json", cmd.CommandPath())
	}
}

// usageErrors makes cobra's complaints about a command line usage errors:
// bad arguments, missing required flags, broken flag groups, and an unknown
// subcommand of a command that only groups others. Cobra returns most of
// them as untyped errors, which would exit 1.
func usageErrors(c *cobra.Command) {
	if c.HasSubCommands() && !c.Runnable() {
		// Cobra shows the help of a group and exits 0 whatever follows it
		// ("keyleak sim nosuch"); only the group alone should.
		c.Args = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return unknownCommand(cmd, a[0])
			}
			return nil
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		}
	}
	if c.Runnable() {
		// Cobra checks required flags and flag groups right after the
		// pre-run hook, with errors of no type; checked here first, they
		// are usage errors, and cobra's own check then passes.
		pre, preE := c.PreRun, c.PreRunE
		c.PreRun = nil
		c.PreRunE = func(cmd *cobra.Command, a []string) error {
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return &UsageError{Err: err}
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return &UsageError{Err: err}
			}
			switch {
			case preE != nil:
				return preE(cmd, a)
			case pre != nil:
				pre(cmd, a)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageErrors(sub)
	}
}
