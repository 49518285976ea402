package respond

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
)

// ReportFormats are the formats a report is written in by default, in
// that order.
var ReportFormats = []string{"xlsx", "md", "json"}

// AllReportFormats are every format a report can be written in: the
// defaults, a Timesketch JSONL timeline and OCSF API Activity records.
var AllReportFormats = []string{"xlsx", "md", "json", "timesketch", "ocsf"}

// ReportRequest chooses the report's formats, language and time zone.
type ReportRequest struct {
	Formats []string // default ReportFormats
	Lang    string   // "en" (default) or "ja"
	TZ      *time.Location
	// Offline writes the report from the case alone: no AWS call, the
	// resources' states as last read (the report says when).
	Offline bool
}

// ReportFile is the file name of a report in the given format and language.
func ReportFile(format, lang string) string {
	switch format {
	case "timesketch":
		return "report.timesketch.jsonl"
	case "ocsf":
		return "report.ocsf.json"
	case "json":
		return "report.json"
	}
	if lang != "" && lang != "en" {
		return "report." + lang + "." + format
	}
	return "report." + format
}

// Report rebuilds the findings from the latest state (every event in the
// case judged, and, online, every resource read from AWS now), then writes
// the reports into the case and notes them in the journal. The runbook and
// the commands call it alike, so the same case gives the same report.
func (e *Engine) Report(ctx context.Context, c *playbook.Case, req ReportRequest, h Hooks) ([]string, error) {
	online := !req.Offline
	if online {
		if _, err := e.Clients(ctx); err != nil {
			h.note("AWS could not be reached (%v): the report uses the resources' states as last read", err)
			online = false
		}
	}
	if _, err := e.Reassess(ctx, c, online); err != nil {
		if !online {
			return nil, err
		}
		h.note("the live check failed (%v): the report uses the resources' states as last read", err)
		if _, err := e.Reassess(ctx, c, false); err != nil {
			return nil, err
		}
	}
	formats := req.Formats
	if len(formats) == 0 {
		formats = ReportFormats
	}
	lang := req.Lang
	if lang == "" {
		lang = "en"
	}
	tz := req.TZ
	if tz == nil {
		tz = time.Local
	}
	m, err := caseview.Load(c, caseview.Options{Now: e.now(), Version: e.version})
	if err != nil {
		return nil, err
	}
	if err := e.priceBill(ctx, c, m, online); err != nil {
		return nil, fmt.Errorf("price the bill: %w", err)
	}
	var written []string
	for _, format := range formats {
		name := ReportFile(format, lang)
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
		err = report.WriteXLSX(file, m, report.XLSXOptions{Lang: lang, TZ: tz, TmpDir: c.Dir()})
	case "md":
		err = report.WriteMarkdown(file, m, report.MarkdownOptions{Lang: lang, TZ: tz})
	case "json":
		err = report.WriteJSON(file, m)
	case "timesketch":
		err = report.WriteTimesketch(file, m)
	case "ocsf":
		err = report.WriteOCSF(file, m)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return file.Sync()
}
