package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
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
	return nil
}

func reportRun(f *Factory, o *reportOptions) error {
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
	written, err := f.Engine().Report(context.Background(), c, respond.ReportRequest{Formats: o.Formats, Lang: o.Lang, TZ: tz, Offline: o.Offline}, h)
	if err != nil {
		return err
	}
	return printResult(f.IO.Out, o.Output, map[string]any{"case": c.Dir(), "files": written}, func() string {
		return strings.Join(written, "\n") + "\n\nNext: answer the AWS support case with " + respond.ReportFile("md", o.Lang) +
			"; then give the legitimate workload a new key: keyleak rotate --key " + c.Meta().KeyID + " --to secretsmanager:NAME|credentials:PROFILE\n"
	})
}
