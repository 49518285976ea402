package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// reportOptions are the flags of `keyleak report`.
type reportOptions struct {
	CaseDir string
	Formats []string
	Lang    string
	TZ      string
	Offline bool
	Output  outputFormat
	// SupportCase is the AWS support case to post the answers to.
	SupportCase string
	Yes         bool
}

func newCmdReport(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdReportWith(f, g, nil)
}

func newCmdReportWith(f *Factory, g *globalFlags, runF func(context.Context, *reportOptions) error) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report --case DIR",
		Short: "Write the Excel timeline, the Markdown report for the AWS support case, and JSON",
		Long: `Write the case's reports into its directory:

  report.xlsx              Summary, Timeline, Attacker, Resources, Actions,
                           Credentials, Coverage (report.ja.xlsx with --lang ja)
  report.md                for the AWS support case: it opens with the answers
                           the case asks for (report.ja.md with --lang ja)
  report.json              the whole report model, with a schemaVersion
  report.timesketch.jsonl  with --format timesketch: a timeline Timesketch imports
  report.ocsf.json         with --format ocsf: OCSF API Activity (class 6003) records

Every time is shown with its zone, in --tz's.

With --support-case ID the answers are also posted to that AWS support case
(the case AWS opened about the exposed key), with the Markdown report
attached, after they are shown and you say yes: AWS Support API
AddAttachmentsToSet and AddCommunicationToCase in us-east-1, which answer
only accounts with a Business or Enterprise support plan. Without one,
reply in the Support Center and attach the report by hand.

Access key IDs appear whole (AWS support asks for them); session tokens and
secret keys never appear.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := o.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return reportRun(f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.CaseDir, "case", "", "the case directory")
	fl.StringSliceVar(&o.Formats, "format", respond.ReportFormats, "formats to write: "+strings.Join(respond.AllReportFormats, ", "))
	fl.StringVar(&o.Lang, "lang", "en", "language of the Markdown report and the workbook: en or ja")
	fl.StringVar(&o.TZ, "tz", "", "time zone every time is shown in, e.g. Asia/Tokyo (default: this machine's)")
	fl.BoolVar(&o.Offline, "offline", false, "write from the case alone: no AWS call; resources are reported as last read")
	fl.StringVar(&o.SupportCase, "support-case", "", "also post the answers and the report to this AWS support case (case-ACCOUNT-YEAR-HEX), after asking")
	fl.BoolVarP(&o.Yes, "yes", "y", false, "with --support-case: post without asking")
	_ = cmd.MarkFlagRequired("case")
	return cmd
}

func (o *reportOptions) validate() error {
	for _, f := range o.Formats {
		if !slices.Contains(respond.AllReportFormats, f) {
			return usageErrorf("--format %q: choose among %s", f, strings.Join(respond.AllReportFormats, ", "))
		}
	}
	if o.Lang != "en" && o.Lang != "ja" {
		return usageErrorf("--lang %q: choose en or ja", o.Lang)
	}
	if o.TZ != "" {
		if _, err := time.LoadLocation(o.TZ); err != nil {
			return usageErrorf("--tz %q is not a time zone name like Europe/Paris or Asia/Tokyo", o.TZ)
		}
	}
	if o.SupportCase != "" && o.Offline {
		return usageErrorf("--support-case posts to AWS; it cannot be used with --offline")
	}
	return nil
}

func reportRun(f *Factory, o *reportOptions) error {
	if o.SupportCase != "" && !o.Yes && !f.IO.StdinTTY {
		return usageErrorf("--support-case posts to the case after asking, and there is no terminal to ask on: add --yes to post without asking")
	}
	c, err := casefile.OpenExisting(o.CaseDir)
	if err != nil {
		return respond.Classify(err)
	}
	defer c.Close()
	tz := time.Local
	if o.TZ != "" {
		tz, _ = time.LoadLocation(o.TZ)
	}
	var h respond.Hooks
	if o.Output == outputText {
		h.Note = func(s string) { fmt.Fprintf(f.IO.ErrOut, "note: %s\n", s) }
	}
	ctx := context.Background()
	written, err := f.Engine().Report(ctx, c, respond.ReportRequest{Formats: o.Formats, Lang: o.Lang, TZ: tz, Offline: o.Offline}, h)
	if err != nil {
		return err
	}
	result := map[string]any{"case": c.Dir(), "files": written}
	var reply *respond.SupportReplyResult
	var replyErr error
	if o.SupportCase != "" {
		switch {
		case o.Yes:
			h.Confirm = func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }
		case f.IO.StdinTTY:
			h.Confirm = terminalConfirm(f.IO)
		}
		reply, replyErr = f.Engine().ReplyToSupportCase(ctx, c, respond.SupportReplyRequest{CaseID: o.SupportCase, Lang: o.Lang, TZ: tz, Unattended: o.Yes}, h)
		if reply != nil {
			result["supportReply"] = reply
		}
	}
	if err := printResult(f.IO.Out, o.Output, result, func() string {
		var b strings.Builder
		b.WriteString(strings.Join(written, "\n") + "\n\n")
		switch {
		case reply != nil && !reply.AlreadySent.IsZero():
			fmt.Fprintf(&b, "The support case %s already has this reply (posted %s); it was not posted again.\n", reply.CaseID, reply.AlreadySent.Format(time.RFC3339))
		case reply != nil && reply.Sent:
			fmt.Fprintf(&b, "Posted to support case %s", reply.CaseID)
			if reply.Attachment != "" {
				fmt.Fprintf(&b, ", with %s attached", reply.Attachment)
			}
			b.WriteString(".\n")
		case reply != nil && replyErr == nil:
			fmt.Fprintf(&b, "Nothing was posted to support case %s.\n", reply.CaseID)
		}
		if reply == nil || !reply.Sent {
			b.WriteString("Next: answer the AWS support case with " + respond.ReportFile("md", o.Lang))
			if o.SupportCase == "" {
				b.WriteString(" (or post it: keyleak report --case " + c.Dir() + " --support-case CASE-ID)")
			}
			b.WriteString("; then give the legitimate workload a new key: keyleak rotate --key " + c.Meta().KeyID + " --to secretsmanager:NAME|credentials:PROFILE\n")
		} else {
			b.WriteString("Next: give the legitimate workload a new key: keyleak rotate --key " + c.Meta().KeyID + " --to secretsmanager:NAME|credentials:PROFILE\n")
		}
		return b.String()
	}); err != nil {
		return err
	}
	return replyErr
}
