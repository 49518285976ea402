package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
)

// reportOptions are the flags of `keyleak report`.
type reportOptions struct {
	CaseDir string
	Formats []string
	Lang    string
	TZ      string
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

  report.xlsx     Summary, Timeline, Attacker, Resources, Actions, Keys, Coverage
  report.md       for the AWS support case (report.ja.md with --lang ja)
  report.json     the whole report model, with a schemaVersion

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
	fl.StringSliceVar(&o.Formats, "format", []string{"xlsx", "md", "json"}, "formats to write: xlsx, md, json")
	fl.StringVar(&o.Lang, "lang", "en", "language of the Markdown report: en or ja")
	fl.StringVar(&o.TZ, "tz", "", "time zone of the timeline's local-time column, e.g. Asia/Tokyo (default: this machine's)")
	_ = cmd.MarkFlagRequired("case")
	return cmd
}

func (o *reportOptions) validate() error {
	for _, f := range o.Formats {
		switch f {
		case "xlsx", "md", "json":
		default:
			return usageErrorf("--format %q: choose among xlsx, md and json", f)
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

// reportFile is the file name of a format.
func (o *reportOptions) reportFile(format string) string {
	if format == "md" && o.Lang == "ja" {
		return "report.ja.md"
	}
	return "report." + format
}

func reportRun(f *Factory, o *reportOptions) error {
	if _, err := os.Stat(o.CaseDir); err != nil {
		return usageErrorf("case directory %s: %w", o.CaseDir, err)
	}
	c, err := playbook.OpenCase(o.CaseDir)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("open case: %w", err)}
	}
	defer c.Close()
	tz := time.Local
	if o.TZ != "" {
		tz, _ = time.LoadLocation(o.TZ)
	}
	written, err := writeReports(c, o.Formats, o.Lang, tz, f.Now())
	if err != nil {
		return err
	}
	return printResult(f.IO.Out, o.Output, map[string]any{"case": c.Dir(), "files": written}, func() string {
		return strings.Join(written, "\n") + "\n"
	})
}

// writeReports writes the case's reports in the given formats into its
// directory and notes them in the journal. It takes the open case, so the
// runbook (which holds the case open) and the command write through the same
// journal handle.
func writeReports(c *playbook.Case, formats []string, lang string, tz *time.Location, now time.Time) ([]string, error) {
	m, err := caseview.Load(c, caseview.Options{Now: now, Version: version()})
	if err != nil {
		return nil, err
	}
	o := &reportOptions{Lang: lang}
	var written []string
	for _, format := range formats {
		name := o.reportFile(format)
		if err := writeReport(c, name, format, m, lang, tz); err != nil {
			return written, err
		}
		written = append(written, c.Path(name))
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "report",
		Message: "reports written: " + strings.Join(written, ", ")}); err != nil {
		return written, fmt.Errorf("journal report: %w", err)
	}
	return written, nil
}

// writeReport writes one report file into the case, mode 0600.
func writeReport(c *playbook.Case, name, format string, m *report.Model, lang string, tz *time.Location) (err error) {
	file, err := c.CreateFile(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write %s: %w", name, cerr)
		}
	}()
	switch format {
	case "xlsx":
		err = report.WriteXLSX(file, m, report.XLSXOptions{TZ: tz, TmpDir: c.Dir()})
	case "md":
		err = report.WriteMarkdown(file, m, lang)
	case "json":
		err = report.WriteJSON(file, m)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return file.Sync()
}
