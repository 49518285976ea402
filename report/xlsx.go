package report

import (
	"archive/zip"
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// MaxTimelineRows is the number of events one Timeline (or Attacker) sheet
// holds: Excel's 1,048,576 rows less the header. Further events continue on
// "Timeline 2", "Timeline 3", …
const MaxTimelineRows = 1048575

// timelineRows is MaxTimelineRows; tests lower it to exercise the split
// without a million rows.
var timelineRows = MaxTimelineRows

// Sheet names of the English workbook; SheetName gives them in another
// language.
const (
	SheetSummary   = "Summary"
	SheetTimeline  = "Timeline"
	SheetAttacker  = "Attacker"
	SheetResources = "Resources"
	SheetActions   = "Actions"
	SheetKeys      = "Credentials"
	SheetCoverage  = "Coverage"
	SheetGuardDuty = "GuardDuty"
	SheetSecrets   = "Secrets read"
	SheetCost      = "Cost"
	SheetChartData = "Chart data"
)

var sheetKeys = map[string]string{
	SheetSummary: "sheet.summary", SheetTimeline: "sheet.timeline", SheetAttacker: "sheet.attacker",
	SheetResources: "sheet.resources", SheetActions: "sheet.actions", SheetKeys: "sheet.keys",
	SheetCoverage: "sheet.coverage", SheetGuardDuty: "sheet.guardduty", SheetChartData: "sheet.chart",
	SheetSecrets: "sheet.secrets", SheetCost: "sheet.cost",
}

// SheetName is the name of the sheet in the workbook of lang ("" is
// English); sheet is one of the Sheet* names.
func SheetName(lang, sheet string) string {
	if lang == "" {
		lang = "en"
	}
	if tab, ok := messages[lang]; ok {
		if n, ok := tab[sheetKeys[sheet]]; ok {
			return n
		}
	}
	return sheet
}

// Summary labels of the English workbook that tests and readers look up.
const (
	LabelEvents           = "Events"
	LabelAttackerEvents   = "Attacker events"
	LabelRegions          = "Regions with events"
	LabelResourcesPresent = "Attacker's resources still present"
	LabelRunningCost      = "Running cost now (USD/h)"
	LabelRemovedCost      = "Cost of what was removed (USD)"
	LabelPriceSource      = "Prices from"
	LabelSpend            = "Account spend since the leak (USD)"
	LabelSecretsRead      = "Secrets read (rotate them)"
)

// Timeline columns: the first five are what a reader scans (when, whose,
// how bad, what, where); the rest are for the analyst.
const (
	colTime = iota
	colVerdict
	colSeverity
	colName
	colRegion
	colTimeUTC
	colSource
	colChain
	colUser
	colIP
	colAgent
	colError
	colReadOnly
	colRule
	colTechnique
	colTactic
	colResources
	colEventID
	numEventCols
)

var eventHeaderKeys = [numEventCols]string{
	"x.time", "x.verdict", "x.severity", "x.name", "x.region", "x.timeUTC", "x.source", "x.chain", "x.user",
	"x.ip", "x.agent", "x.error", "x.readOnly", "x.rule", "x.technique", "x.tactic", "x.resources", "x.eventID",
}

var eventWidths = [numEventCols]float64{21, 11, 10, 28, 15, 21, 24, 46, 18, 16, 40, 22, 10, 24, 16, 24, 40, 40}

// XLSXOptions tunes WriteXLSX.
type XLSXOptions struct {
	// Lang is the language of every sheet name, header, label and value
	// the workbook writes: "en" (or empty) or "ja".
	Lang string
	// TZ is the zone of the Timeline's first column and of every time
	// written as text; nil means time.Local. A second column keeps UTC
	// when the zone is not UTC.
	TZ *time.Location
	// TmpDir is where excelize spills sheet data past 16 MB while the
	// workbook is written. Empty means the system temporary directory;
	// point it at the case directory so event data stays in a 0700
	// directory.
	TmpDir string
}

// tacticCategory is the event's tactic, followed by keyleak's category when
// that says more ("impact / resource-hijacking").
func (t *text) tacticCategory(ev *Event) string {
	tc := ev.tactic()
	if tc == "" || ev.Category == "" || ev.Category == tc {
		c := cmp.Or(tc, ev.Category)
		if c == "" {
			return ""
		}
		return t.category(c)
	}
	return t.category(tc) + " / " + t.category(ev.Category)
}

// WriteXLSX writes the workbook: Summary (the answers to the support case,
// the case, counts, the bill, the secrets to rotate and a chart of the
// incident's window), Timeline (continued on Timeline 2, … past
// MaxTimelineRows; attacker rows filled), Attacker, Resources, Secrets read,
// Cost (when the model has a bill), Actions, Credentials, Coverage,
// GuardDuty and the chart's data, every text in the chosen language.
//
// Sheets are written with excelize's stream writer and the archive goes
// straight to w, so memory stays bounded however many events there are,
// provided m.Events yields them oldest first; otherwise they are collected
// and sorted in memory first.
func WriteXLSX(w io.Writer, m *Model, opts XLSXOptions) (err error) {
	loc := opts.TZ
	if loc == nil {
		loc = time.Local
	}
	t, err := newText(opts.Lang, loc)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	t.plain = true
	s := m.stats()
	events := m.eventsOf()
	if !s.Ordered {
		events = sortedEvents(events)
	}
	f := excelize.NewFile(excelize.Options{TmpDir: opts.TmpDir})
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close workbook: %w", cerr)
		}
	}()
	x := &xlsxWriter{f: f, story: &story{text: t, m: m, s: s}, chains: newChainIndex(m.Keys)}
	if err := x.init(); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	if err := x.writeEvents(events); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	for _, step := range []func() error{x.writeResources, x.writeSecrets, x.writeCost, x.writeActions, x.writeKeys, x.writeCoverage, x.writeFindings, x.writeSummary} {
		if err := step(); err != nil {
			return fmt.Errorf("write workbook: %w", err)
		}
	}
	if t.err != nil {
		return fmt.Errorf("write workbook: %w", t.err)
	}
	// Summary, the first sheet, is active from NewFile on. SetActiveSheet
	// must not be called: it parses every sheet, the streamed ones included,
	// back into memory.
	// excelize buffers the whole archive unless its zip writer is given
	// the destination directly; the buffer it then fills stays empty.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if err := f.Write(io.Discard); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	return nil
}

// sortedEvents collects and sorts events; the fallback for an iterator that
// does not yield oldest first.
func sortedEvents(events iter.Seq[Event]) iter.Seq[Event] {
	all := slices.Collect(events)
	slices.SortStableFunc(all, func(a, b Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.EventID, b.EventID)
	})
	return slices.Values(all)
}

type xlsxWriter struct {
	*story
	f      *excelize.File
	chains *chainIndex
	// cols are the Timeline's columns in order (colTimeUTC is left out
	// when the zone is UTC).
	cols []int

	header, bold, title, dt, link, wrap int
	// row* style the cells of an attacker's row: its fill, with the date
	// format, with the link font.
	rowFill, rowDt, rowLink int
	severity                map[Severity]int
	verdict                 map[Verdict]int
	bad, good               int

	timeline, attacker *pagedSheet
	sheets             map[string]string
}

// Fill colours of severities and verdicts, as a responder expects them:
// red for what needs action, green for what is fine.
var (
	severityFill = map[Severity][2]string{ // fill, font
		SeverityCritical: {"7B0000", "FFFFFF"},
		SeverityHigh:     {"E0452B", "FFFFFF"},
		SeverityMedium:   {"F6C343", "000000"},
		SeverityLow:      {"BDD7EE", "000000"},
		SeverityInfo:     {"EDEDED", "000000"},
	}
	verdictFill = map[Verdict]string{
		VerdictAttacker:   "E06666",
		VerdictLegitimate: "C6EFCE",
		VerdictUnclear:    "FFEB9C",
		VerdictUnjudged:   "FFEB9C",
	}
)

// AttackerRowFill is the fill of every cell of an attacker's row in the
// Timeline: the whole row reads as the attacker's at a glance.
const AttackerRowFill = "F8CBAD"

func (x *xlsxWriter) init() error {
	f := x.f
	var err error
	style := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	dtFmt := "yyyy-mm-dd hh:mm:ss"
	rowFill := excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{AttackerRowFill}}
	x.header = style(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F3864"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	})
	x.bold = style(&excelize.Style{Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	x.wrap = style(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	x.title = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	x.dt = style(&excelize.Style{CustomNumFmt: &dtFmt})
	x.link = style(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}})
	x.rowFill = style(&excelize.Style{Fill: rowFill})
	x.rowDt = style(&excelize.Style{CustomNumFmt: &dtFmt, Fill: rowFill})
	x.rowLink = style(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}, Fill: rowFill})
	x.bad = style(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F8CBAD"}}})
	x.good = style(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"C6EFCE"}}})
	x.severity = map[Severity]int{}
	for sev, c := range severityFill {
		x.severity[sev] = style(&excelize.Style{
			Font: &excelize.Font{Bold: sev.Rank() >= 3, Color: c[1]},
			Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c[0]}},
		})
	}
	x.verdict = map[Verdict]int{}
	for v, c := range verdictFill {
		x.verdict[v] = style(&excelize.Style{Font: &excelize.Font{Bold: v == VerdictAttacker}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}}})
	}
	if err != nil {
		return fmt.Errorf("create styles: %w", err)
	}

	x.sheets = map[string]string{}
	for base := range sheetKeys {
		x.sheets[base] = SheetName(x.lang, base)
	}
	// Every sheet is created up front, in reading order; the counts in
	// Stats say how many timeline pages there will be.
	if err := f.SetSheetName("Sheet1", x.sheets[SheetSummary]); err != nil {
		return fmt.Errorf("name summary sheet: %w", err)
	}
	timelines := pageNames(x.sheets[SheetTimeline], pages(x.s.Events))
	attackers := pageNames(x.sheets[SheetAttacker], pages(x.s.Attacker()))
	extra := []string{x.sheets[SheetResources], x.sheets[SheetSecrets]}
	if x.m.Bill != nil {
		extra = append(extra, x.sheets[SheetCost])
	}
	names := slices.Concat(timelines, attackers, extra,
		[]string{x.sheets[SheetActions], x.sheets[SheetKeys], x.sheets[SheetCoverage],
			x.sheets[SheetGuardDuty], x.sheets[SheetChartData]})
	for _, n := range names {
		if _, err := f.NewSheet(n); err != nil {
			return fmt.Errorf("create sheet %s: %w", n, err)
		}
	}
	ref := x.s.First
	utc := x.zone(ref) == "UTC" && x.zoneLong(ref) == "UTC"
	var headers []string
	var widths []float64
	for c := range numEventCols {
		if c == colTimeUTC && utc {
			continue
		}
		x.cols = append(x.cols, c)
		switch c {
		case colTime:
			headers = append(headers, x.tr(eventHeaderKeys[c], x.zone(ref)))
		default:
			headers = append(headers, x.tr(eventHeaderKeys[c]))
		}
		widths = append(widths, eventWidths[c])
	}
	x.timeline = &pagedSheet{x: x, base: x.sheets[SheetTimeline], names: timelines, headers: headers, widths: widths, total: x.s.Events}
	x.attacker = &pagedSheet{x: x, base: x.sheets[SheetAttacker], names: attackers, headers: headers, widths: widths, total: x.s.Attacker()}
	return nil
}

// pages is the number of sheets n events need; at least one, so that an
// empty case still shows its headers.
func pages(n int) int {
	if n <= 0 {
		return 1
	}
	return (n + timelineRows - 1) / timelineRows
}

func pageNames(base string, n int) []string {
	out := []string{base}
	for i := 2; i <= n; i++ {
		out = append(out, base+" "+strconv.Itoa(i))
	}
	return out
}

func (x *xlsxWriter) writeEvents(events iter.Seq[Event]) error {
	row := make([]any, len(x.cols))
	var prev time.Time
	n := 0
	for ev := range events {
		if n > 0 && ev.Time.Before(prev) {
			return fmt.Errorf("order events: event %s at %s comes after %s; events must come oldest first",
				ev.EventID, ev.Time.UTC().Format(time.RFC3339), prev.UTC().Format(time.RFC3339))
		}
		prev = ev.Time
		n++
		x.eventRow(row, &ev)
		if err := x.timeline.add(row); err != nil {
			return err
		}
		if ev.Verdict.Normalize() == VerdictAttacker {
			if err := x.attacker.add(row); err != nil {
				return err
			}
		}
	}
	if err := x.timeline.close(); err != nil {
		return err
	}
	return x.attacker.close()
}

// eventRow fills row with the cells of one event; the slice is reused. An
// attacker's row is filled from end to end.
func (x *xlsxWriter) eventRow(row []any, ev *Event) {
	v := ev.Verdict.Normalize()
	fill, dt, link := 0, x.dt, x.link
	if v == VerdictAttacker {
		fill, dt, link = x.rowFill, x.rowDt, x.rowLink
	}
	plain := func(val any) any {
		if fill == 0 {
			return val
		}
		return excelize.Cell{StyleID: fill, Value: val}
	}
	for i, c := range x.cols {
		var val any
		switch c {
		case colTime:
			if !ev.Time.IsZero() {
				val = excelize.Cell{StyleID: dt, Value: ev.Time.In(x.loc)}
			}
		case colTimeUTC:
			if !ev.Time.IsZero() {
				val = excelize.Cell{StyleID: dt, Value: ev.Time.UTC()}
			}
		case colVerdict:
			val = excelize.Cell{StyleID: x.verdict[v], Value: x.translated(verdictKeys, string(v))}
		case colSeverity:
			sev := ev.Severity.Normalize()
			val = excelize.Cell{StyleID: x.severity[sev], Value: x.translated(severityKeys, string(sev))}
		case colName:
			val = plain(Mask(ev.Name))
		case colRegion:
			val = plain(Mask(ev.Region))
		case colSource:
			val = plain(Mask(ev.Source))
		case colChain:
			val = plain(x.chains.of(ev))
		case colUser:
			val = plain(Mask(ev.UserName))
		case colIP:
			val = plain(Mask(ev.SourceIP))
		case colAgent:
			val = plain(Mask(ev.UserAgent))
		case colError:
			val = plain(Mask(ev.ErrorCode))
		case colReadOnly:
			val = plain(ev.ReadOnly)
		case colRule:
			val = plain(Mask(ev.RuleID))
		case colTechnique:
			val = plain(Mask(ev.Technique))
		case colTactic:
			val = plain(Mask(x.tacticCategory(ev)))
		case colResources:
			var s string
			if len(ev.Resources) > 0 {
				parts := make([]string, len(ev.Resources))
				for i, r := range ev.Resources {
					parts[i] = r.String()
				}
				s = Mask(strings.Join(parts, "; "))
			}
			val = plain(s)
		case colEventID:
			if ev.EventID != "" {
				id := Mask(ev.EventID)
				val = excelize.Cell{
					StyleID: link,
					Formula: "HYPERLINK(" + formulaString(ConsoleURL(ev.Region, id)) + "," + formulaString(id) + ")",
					Value:   id,
				}
			} else {
				val = plain(nil)
			}
		}
		row[i] = val
	}
}

// formulaString quotes s as an Excel string literal.
func formulaString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

type pagedSheet struct {
	x       *xlsxWriter
	base    string
	names   []string
	headers []string
	widths  []float64
	total   int // rows expected over all pages, from Stats

	page int // pages opened so far
	sw   *excelize.StreamWriter
	name string
	rows int // data rows on the current page
}

func (p *pagedSheet) open() error {
	p.page++
	name := pageName(p.base, p.page)
	if p.page > len(p.names) {
		// More events than Stats counted: the page goes at the end rather
		// than losing rows.
		if _, err := p.x.f.NewSheet(name); err != nil {
			return fmt.Errorf("create sheet %s: %w", name, err)
		}
	}
	expected := min(timelineRows, p.total-(p.page-1)*timelineRows)
	if p.page > len(p.names) {
		expected = -1
	}
	sw, err := startSheet(p.x, name, p.headers, p.widths, expected)
	if err != nil {
		return err
	}
	p.sw, p.name, p.rows = sw, name, 0
	return nil
}

func pageName(base string, page int) string {
	if page == 1 {
		return base
	}
	return base + " " + strconv.Itoa(page)
}

func (p *pagedSheet) add(row []any) error {
	if p.sw != nil && p.rows >= timelineRows {
		if err := p.close(); err != nil {
			return err
		}
	}
	if p.sw == nil {
		if err := p.open(); err != nil {
			return err
		}
	}
	p.rows++
	cell, _ := excelize.CoordinatesToCellName(1, p.rows+1)
	if err := p.sw.SetRow(cell, row); err != nil {
		return fmt.Errorf("write row %d of %s: %w", p.rows+1, p.name, err)
	}
	return nil
}

// close finishes the current page; with no page open yet it opens and
// finishes the first, so its headers are there.
func (p *pagedSheet) close() error {
	if p.sw == nil {
		if p.page > 0 {
			return nil
		}
		if err := p.open(); err != nil {
			return err
		}
	}
	err := finishSheet(p.x.f, p.sw, p.name, len(p.headers), p.rows)
	p.sw = nil
	return err
}

// startSheet opens a stream writer on name with column widths, a frozen
// header row and first column, and the header row. rows is the number of
// data rows to come, or -1 when unknown.
func startSheet(x *xlsxWriter, name string, headers []string, widths []float64, rows int) (*excelize.StreamWriter, error) {
	// The stream writer writes the sheet's dimension before any row, so it
	// is set from the expected count; an unknown count drops the element
	// (it is optional) rather than leaving excelize's "A1", which makes
	// some readers see an empty sheet.
	dim := ""
	if rows >= 0 {
		dim, _ = excelize.CoordinatesToCellName(len(headers), rows+1)
		dim = "A1:" + dim
	}
	if err := x.f.SetSheetDimension(name, dim); err != nil {
		return nil, fmt.Errorf("set dimension of %s: %w", name, err)
	}
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("stream sheet %s: %w", name, err)
	}
	for i, wd := range widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return nil, fmt.Errorf("size columns of %s: %w", name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight",
		Selection: []excelize.Selection{{SQRef: "B2", ActiveCell: "B2", Pane: "bottomRight"}},
	}); err != nil {
		return nil, fmt.Errorf("freeze panes of %s: %w", name, err)
	}
	cells := make([]any, len(headers))
	for i, h := range headers {
		cells[i] = excelize.Cell{StyleID: x.header, Value: h}
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 30}); err != nil {
		return nil, fmt.Errorf("write headers of %s: %w", name, err)
	}
	return sw, nil
}

// finishSheet turns the autofilter on over the written range and flushes.
// The autofilter must be set before Flush: the stream writer copies the
// worksheet's settings then.
func finishSheet(f *excelize.File, sw *excelize.StreamWriter, name string, cols, rows int) error {
	last, _ := excelize.CoordinatesToCellName(cols, rows+1)
	if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("filter %s: %w", name, err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("flush %s: %w", name, err)
	}
	return nil
}

// table writes a small sheet: headers, then rows.
func (x *xlsxWriter) table(name string, headers []string, widths []float64, rows [][]any) error {
	sw, err := startSheet(x, name, headers, widths, len(rows))
	if err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, r); err != nil {
			return fmt.Errorf("write row %d of %s: %w", i+2, name, err)
		}
	}
	return finishSheet(x.f, sw, name, len(headers), len(rows))
}

// timeCell is a date-time cell in the workbook's zone (the header says
// which), or an empty cell for a zero time.
func (x *xlsxWriter) timeCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: x.dt, Value: t.In(x.loc)}
}

// th is a header naming a time column with the workbook's zone.
func (x *xlsxWriter) th(key string) string { return x.tr(key, x.zone(x.s.First)) }

func (x *xlsxWriter) headers(keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if strings.HasPrefix(k, "@") {
			out[i] = x.th(k[1:])
		} else {
			out[i] = x.tr(k)
		}
	}
	return out
}

func (x *xlsxWriter) writeResources() error {
	rows := make([][]any, 0, len(x.m.Resources))
	for _, r := range x.m.Resources {
		st := 0
		switch r.State {
		case StatePresent, StateUnknown, "":
			st = x.bad
		case StateRemoved, StateGone:
			st = x.good
		}
		var detail string
		switch {
		case r.GoneWith != "":
			detail = x.tr("state.goneWith", Mask(r.GoneWith))
		case r.Status != "":
			detail = Mask(r.Status)
		case r.State == StateUnknown || r.State == "":
			detail = Mask(r.Note)
		}
		rows = append(rows, []any{
			Mask(r.Type), Mask(r.ID), x.region(r.Region), x.translated(verdictKeys, string(r.Verdict.Normalize())),
			excelize.Cell{StyleID: st, Value: x.translated(stateKeys, r.State)}, detail, x.timeCell(r.RemovedAt),
			Mask(x.removal(r.Removal)), x.timeCell(r.CreatedAt), r.CreatedBy, Mask(r.CreatedByEvent),
		})
	}
	return x.table(x.sheets[SheetResources],
		x.headers("x.res.type", "x.res.id", "x.res.region", "x.res.verdict", "x.res.state", "x.res.detail", "@x.res.removedAt",
			"x.res.removal", "@x.res.created", "x.res.by", "x.res.event"),
		[]float64{28, 36, 15, 12, 16, 30, 21, 30, 21, 24, 38}, rows)
}

func (x *xlsxWriter) writeActions() error {
	acts := actionRows(x.m.Actions)
	rows := make([][]any, 0, len(acts))
	for _, a := range acts {
		st := 0
		switch a.Result {
		case ResultFailed:
			st = x.bad
		case ResultOK:
			st = x.good
		}
		action := Mask(a.Action)
		if a.Action == a.Step {
			action = ""
		}
		rows = append(rows, []any{
			a.Seq, x.timeCell(a.Time), x.translated(stepKeys, a.Step), action, x.actionTarget(a), Mask(a.Actor),
			excelize.Cell{StyleID: st, Value: x.translated(resultKeys, a.Result)}, Mask(a.Error),
		})
	}
	return x.table(x.sheets[SheetActions],
		x.headers("act.seq", "@act.time", "act.step", "act.action", "act.target", "act.by", "act.result", "x.act.error"),
		[]float64{6, 21, 16, 28, 40, 40, 12, 50}, rows)
}

func (x *xlsxWriter) writeKeys() error {
	creds := CredentialsOf(x.m)
	rows := make([][]any, 0, len(creds))
	for _, c := range creds {
		st := x.good
		if c.State == CredWorking || c.State == CredUnknown {
			st = x.bad
		}
		who := c.User
		if c.Kind == CredRoleSession {
			who = c.Role
		}
		var reason string
		if c.Reason != "" && x.has("credReason."+c.Reason) {
			reason = x.tr("credReason." + c.Reason)
		}
		if c.Note != "" && x.lang == "en" {
			reason = joinNonEmpty("; ", reason, Mask(c.Note))
		}
		rows = append(rows, []any{
			c.ID, x.translated(credKindKeys, c.Kind), Mask(who), Mask(c.Session),
			excelize.Cell{StyleID: st, Value: x.translated(credStateKeys, c.State)}, x.timeCell(c.DeniedSince),
			x.timeCell(c.StateAt), reason, c.Parent, Mask(c.Via), x.timeCell(c.Issued), x.timeCell(c.Expires),
			Mask(c.Region), Mask(c.EventID), ChainString(KeyChain(x.m.Keys, c.ID)), x.s.Keys[c.ID],
		})
	}
	return x.table(x.sheets[SheetKeys],
		x.headers("keys.key", "keys.kind", "keys.principal", "x.keys.session", "keys.status", "@x.keys.deniedSince",
			"@x.keys.readAt", "x.keys.why", "x.keys.parent", "keys.via", "@keys.issued", "@keys.expire", "x.res.region",
			"x.res.event", "x.keys.chain", "keys.events"),
		[]float64{24, 18, 44, 18, 16, 21, 21, 40, 24, 20, 21, 21, 15, 38, 50, 10}, rows)
}

func (x *xlsxWriter) writeCoverage() error {
	rows := make([][]any, 0, len(x.m.Coverage))
	for _, c := range x.m.Coverage {
		st := 0
		switch c.Status {
		case CoverageOK:
			st = x.good
		case CoverageFailed, CoveragePartial:
			st = x.bad
		}
		note := ""
		if c.BadFiles > 0 {
			note = x.tr("cov.badFiles", c.BadFiles, c.Files)
		} else if x.lang == "en" {
			note = Mask(c.Note)
		}
		rows = append(rows, []any{
			x.region(c.Region), Mask(x.source(c.Source)), excelize.Cell{StyleID: st, Value: x.translated(coverageKeys, c.Status)},
			c.Events, c.Pages, c.Throttles, x.timeCell(c.From), x.timeCell(c.To), Mask(c.Error), note,
		})
	}
	return x.table(x.sheets[SheetCoverage],
		x.headers("cov.region", "cov.source", "cov.status", "cov.events", "x.cov.pages", "x.cov.throttles", "@x.cov.from",
			"@x.cov.to", "x.cov.error", "cov.note"),
		[]float64{16, 40, 16, 10, 8, 10, 21, 21, 50, 40}, rows)
}

func (x *xlsxWriter) writeFindings() error {
	rows := make([][]any, 0, len(x.m.Findings))
	for _, g := range x.m.Findings {
		archived := x.tr("no")
		if g.Archived {
			archived = x.tr("yes")
		}
		rows = append(rows, []any{
			Mask(g.Type), x.region(g.Region), g.Severity, Mask(g.Title), Mask(g.Resource), x.timeCell(g.FirstSeen),
			x.timeCell(g.LastSeen), g.Count, archived, Mask(g.ID),
		})
	}
	return x.table(x.sheets[SheetGuardDuty],
		x.headers("gd.type", "gd.region", "gd.severity", "x.gd.title", "x.gd.resource", "@gd.first", "@gd.last", "gd.count",
			"gd.archived", "x.gd.id"),
		[]float64{40, 15, 9, 50, 24, 21, 21, 8, 12, 36}, rows)
}

// writeSummary fills the Summary sheet (normal mode: it is small and
// carries the chart) and the chart's data sheet. It opens with the
// answers to the support case, as the Markdown does.
func (x *xlsxWriter) writeSummary() error {
	f, s, c := x.f, x.s, x.m.Case
	sh := x.sheets[SheetSummary]
	var errs []error
	set := func(cell string, v any, style int) {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			errs = append(errs, err)
		}
		if style != 0 {
			if err := f.SetCellStyle(sh, cell, cell, style); err != nil {
				errs = append(errs, err)
			}
		}
	}
	row := 1
	line := func(label string, v any) {
		if s, ok := v.(string); ok {
			v = Mask(s)
			// Readers do not grow rows to fit wrapped text; the row is
			// made as tall as the text needs in the column's width.
			if n := max(wrappedLines(s, summaryWidth), wrappedLines(label, 30)); n > 1 {
				if err := f.SetRowHeight(sh, row, float64(15*n)); err != nil {
					errs = append(errs, err)
				}
			}
		}
		set("A"+strconv.Itoa(row), label, x.bold)
		set("B"+strconv.Itoa(row), v, x.wrap)
		row++
	}
	section := func(title string) {
		row++
		set("A"+strconv.Itoa(row), title, x.header)
		set("B"+strconv.Itoa(row), "", x.header)
		if err := f.MergeCell(sh, "A"+strconv.Itoa(row), "B"+strconv.Itoa(row)); err != nil {
			errs = append(errs, err)
		}
		row++
	}
	set("A1", x.tr("xs.title", c.KeyID), x.title)
	row = 2
	set("A"+strconv.Itoa(row), x.tr("timesIn", x.zoneLong(s.First)), 0)
	row++
	section(x.tr("xs.answers"))
	for _, a := range x.answerList() {
		line(a.label, a.text)
	}

	section(x.tr("xs.case"))
	line(x.tr("sum.key"), c.KeyID)
	line(x.tr("sum.acct"), c.AccountID)
	line(x.tr("sum.owner"), joinNonEmpty(" ", c.OwnerUser, paren(c.OwnerARN)))
	status := x.keyStatus(c.KeyStatus)
	if !c.KeyStatusAt.IsZero() {
		status = x.tr("xs.statusAt", status, x.when(c.KeyStatusAt))
	}
	line(x.tr("xs.keyStatus"), status)
	if c.LeakChannel != "" {
		line(x.tr("xs.leakedVia"), c.LeakChannel)
	}
	if c.ExposedURL != "" {
		line(x.tr("xs.found"), c.ExposedURL)
	}
	line(x.tr("sum.leaked"), x.leak())
	for _, cl := range c.LeakClues {
		if c.LeakedAtInferred {
			line(x.tr("xs.clue"), x.clue(cl))
		}
	}
	line(x.tr("sum.detect"), x.detected(c))
	line(x.tr("sum.first"), x.firstCall())
	line(x.tr("ms.last"), x.when(s.LastAttacker))
	line(x.tr("sum.contnd"), x.or(x.when(c.ContainedAt), "notDone"))
	line(x.tr("sum.revokd"), x.revoked())
	sr := SearchedOf(x.m)
	line(x.tr("xs.from"), x.when(sr.From))
	line(x.tr("xs.until"), x.when(sr.To))
	line(x.tr("xs.generated"), x.when(c.GeneratedAt))
	line(x.tr("xs.version"), c.ToolVersion)
	line(x.tr("xs.responder"), c.ResponderARN)

	section(x.tr("xs.counts"))
	rt := TallyOf(AttackerResources(x.m))
	derived := 0
	for _, k := range CredentialsOf(x.m) {
		if k.ID != c.KeyID {
			derived++
		}
	}
	line(x.tr("xs.events"), s.Events)
	line(x.tr("xs.attacker"), s.Attacker())
	line(x.tr("xs.legit"), s.Verdicts[VerdictLegitimate])
	line(x.tr("xs.unclear"), s.Verdicts[VerdictUnclear])
	if n := s.Verdicts[VerdictUnjudged]; n > 0 {
		line(x.tr("xs.unjudged"), n)
	}
	line(x.tr("xs.failed"), s.Failed)
	line(x.tr("xs.regions"), len(s.Regions))
	line(x.tr("xs.ips"), s.AttackerIPCount)
	line(x.tr("xs.derived"), derived)
	line(x.tr("xs.live"), len(LiveCredentials(x.m)))
	line(x.tr("xs.resources"), rt.Total)
	line(x.tr("xs.present"), rt.Present)
	line(x.tr("xs.actions"), len(x.m.Actions))
	line(x.tr("xs.findings"), len(x.m.Findings))

	section(x.tr("xs.bySeverity"))
	for _, sev := range Severities {
		line(x.translated(severityKeys, string(sev)), s.Severities[sev])
	}
	if len(s.Tactics) > 0 {
		section(x.tr("xs.byTactic"))
		tacs := sortedKeys(s.Tactics)
		slices.SortFunc(tacs, compareCategory)
		for _, t := range tacs {
			line(x.category(t), s.Tactics[t])
		}
	}
	if len(s.Categories) > 0 {
		section(x.tr("xs.byCategory"))
		cats := sortedKeys(s.Categories)
		slices.SortFunc(cats, compareCategory)
		for _, cat := range cats {
			line(x.category(cat), s.Categories[cat])
		}
	}
	if len(x.m.Actors) > 0 {
		section(x.tr("xs.actors"))
		for _, a := range x.m.Actors {
			explain := a.Explanation
			if x.lang != "en" || explain == "" {
				explain = x.tr("actor.matched", x.translated(indicatorKindKeys, a.Kind), a.Indicator)
			}
			line(a.Actor, x.tr("xs.actor", explain, a.Events, a.Attacker, a.Reported, strings.Join(a.References, " ")))
		}
	}
	if b := x.m.Bill; b != nil {
		section(x.tr("xs.cost"))
		line(x.tr("xs.costNow"), b.PresentHourlyUSD)
		line(x.tr("xs.presentN"), b.PresentCount)
		line(x.tr("xs.presentCost"), b.PresentCostUSD)
		line(x.tr("xs.removedCost"), b.RemovedCostUSD)
		line(x.tr("xs.removedN"), b.RemovedCount)
		line(x.tr("xs.prices"), x.priceSource(b))
		switch sp := b.Spend; {
		case sp == nil:
			line(x.tr("xs.spend"), x.tr("spend.none"))
		case sp.Error != "":
			line(x.tr("xs.spend"), x.tr("spend.err", sp.Error))
		default:
			line(x.tr("xs.spend"), sp.TotalUSD)
			est := ""
			if sp.Estimated {
				est = x.tr("spend.est")
			}
			line(x.tr("xs.spendPeriod"), x.tr("period", sp.Start, sp.End)+est)
		}
	}
	section(x.tr("xs.secrets"))
	if len(x.m.Secrets) == 0 {
		line(x.tr("sum.secrets"), x.tr("sec.none"))
	} else {
		line(x.tr("sum.secrets"), len(x.m.Secrets))
		for _, sr := range x.m.Secrets {
			line(x.translated(secretKinds, sr.Kind), x.tr("xs.secret", sr.Name, x.in(sr.Region),
				x.when(sr.first().Time), x.list(sr.sourceIPs()), sr.eventIDs()))
		}
	}
	section(x.tr("cov.missing"))
	line(x.tr("xs.dataEvents"), x.tr("cov.data"))
	if !c.Until.IsZero() {
		line(x.tr("xs.after"), x.tr("cov.after", x.when(c.Until)))
	}
	var missing []string
	for _, cv := range x.m.Coverage {
		if cv.Status != CoverageOK {
			missing = append(missing, x.tr("withDetail", x.region(cv.Region), x.translated(coverageKeys, cv.Status)))
		}
	}
	line(x.tr("xs.notFull"), x.list(missing))
	if x.m.GuardDuty.Checked {
		line(x.tr("xs.gdOff"), x.list(x.m.GuardDuty.DisabledRegions))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fill summary: %w", err)
	}
	if err := f.SetColWidth(sh, "A", "A", 30); err != nil {
		return fmt.Errorf("size summary: %w", err)
	}
	if err := f.SetColWidth(sh, "B", "B", summaryWidth); err != nil {
		return fmt.Errorf("size summary: %w", err)
	}
	ch := x.m.chart(s)
	if err := x.writeChartData(ch); err != nil {
		return err
	}
	return x.addChart(ch)
}

// summaryWidth is the width of the Summary's value column, in characters.
const summaryWidth = 90

// wrappedLines estimates how many lines s takes in a column width
// characters wide: East Asian characters take two.
func wrappedLines(s string, width int) int {
	w := 0
	for _, r := range s {
		if r >= 0x1100 {
			w += 2
		} else {
			w++
		}
	}
	// Words do not break mid-way: a line holds a little less than the
	// column's width.
	return (w + width*8/10 - 1) / (width * 8 / 10)
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// chartLabel is a bucket's label: the time of day in the workbook's zone,
// with the date when the window spans more than a day.
func (x *xlsxWriter) chartLabel(ch *Chart, t time.Time) string {
	l := t.In(x.loc)
	switch {
	case ch.Width >= 24*time.Hour:
		return l.Format("2006-01-02")
	case ch.To.Sub(ch.From) > 24*time.Hour || ch.From.In(x.loc).YearDay() != ch.To.Add(-time.Nanosecond).In(x.loc).YearDay():
		return l.Format("01-02 15:04")
	}
	return l.Format("15:04")
}

func (x *xlsxWriter) writeChartData(ch *Chart) error {
	rows := make([][]any, 0, len(ch.Bins))
	usual := any(nil)
	if ch.Usual > 0 {
		usual = ch.Usual
	}
	for _, b := range ch.Bins {
		rows = append(rows, []any{x.chartLabel(ch, b.Start), b.Attacker, b.Legitimate, b.Unclear, usual})
	}
	return x.table(x.sheets[SheetChartData],
		[]string{x.tr("x.chart.from", x.zone(ch.From)), x.tr("verdict.attacker"), x.tr("verdict.legitimate"),
			x.tr("verdict.unclear"), x.tr("x.chart.usual")},
		[]float64{20, 12, 12, 12, 16}, rows)
}

// widthText names a bucket size: "5 min", "1 h", "1 day".
func (t *text) widthText(w time.Duration) string {
	switch {
	case w >= 24*time.Hour:
		return t.tr("width.d", int(w/(24*time.Hour)))
	case w >= time.Hour:
		return t.tr("width.h", int(w/time.Hour))
	}
	return t.tr("width.m", int(w/time.Minute))
}

func (x *xlsxWriter) addChart(ch *Chart) error {
	n := len(ch.Bins)
	if n == 0 {
		return nil
	}
	data := x.sheets[SheetChartData]
	ref := func(col string) string {
		return fmt.Sprintf("'%s'!$%s$2:$%s$%d", data, col, col, n+1)
	}
	series := []excelize.ChartSeries{}
	for i, v := range Verdicts {
		col := string(rune('B' + i))
		series = append(series, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$1", data, col),
			Categories: ref("A"),
			Values:     ref(col),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{chartColour[v]}},
		})
	}
	gap := uint(30)
	overlap := 100
	title := x.tr("x.chart.title", x.widthText(ch.Width), x.zone(ch.From))
	if ch.Usual > 0 {
		title += x.tr("x.chart.usualNote", fmt.Sprintf("%.1f", ch.Usual), x.day(ch.UsualFrom))
	}
	// A label every few bars, turned so that none wraps; the axes are
	// given to the combined line too, whose axes excelize writes last.
	xAxis := excelize.ChartAxis{TickLabelSkip: max(1, (n+11)/12), Alignment: excelize.Alignment{TextRotation: -45},
		Font: excelize.Font{Size: 8, Color: "404040"}}
	yAxis := excelize.ChartAxis{MajorGridLines: true, Font: excelize.Font{Size: 8, Color: "404040"}}
	chart := &excelize.Chart{
		Type:     excelize.ColStacked,
		Series:   series,
		Title:    []excelize.RichTextRun{{Text: title}},
		Legend:   excelize.ChartLegend{Position: "bottom"},
		GapWidth: &gap,
		Overlap:  &overlap,
		Dimension: excelize.ChartDimension{
			Width: 960, Height: 420,
		},
		XAxis: xAxis,
		YAxis: yAxis,
	}
	var combo []*excelize.Chart
	if ch.Usual > 0 {
		combo = append(combo, &excelize.Chart{
			Type:  excelize.Line,
			XAxis: xAxis,
			YAxis: yAxis,
			Series: []excelize.ChartSeries{{
				Name:       fmt.Sprintf("'%s'!$E$1", data),
				Categories: ref("A"),
				Values:     ref("E"),
				Line:       excelize.ChartLine{Width: 2, Dash: excelize.ChartDashDash},
				Marker:     excelize.ChartMarker{Symbol: "none"},
				Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2F5597"}},
			}},
		})
	}
	if err := x.f.AddChart(x.sheets[SheetSummary], "D2", chart, combo...); err != nil {
		return fmt.Errorf("add chart: %w", err)
	}
	return nil
}

var chartColour = map[Verdict]string{
	VerdictAttacker:   "C00000",
	VerdictLegitimate: "70AD47",
	VerdictUnclear:    "A5A5A5",
}

// writeSecrets is the rotate-these sheet: one row per secret read, with
// where it was read from.
func (x *xlsxWriter) writeSecrets() error {
	rows := make([][]any, 0, len(x.m.Secrets))
	for _, sr := range x.m.Secrets {
		var keys []string
		for _, r := range sr.Reads {
			if !slices.Contains(keys, r.AccessKeyID) {
				keys = append(keys, r.AccessKeyID)
			}
		}
		rows = append(rows, []any{x.translated(secretKinds, sr.Kind), Mask(sr.Name), x.region(sr.Region), x.timeCell(sr.first().Time),
			Mask(strings.Join(sr.sourceIPs(), ", ")), Mask(sr.eventIDs()), len(sr.Reads), strings.Join(keys, ", ")})
	}
	return x.table(x.sheets[SheetSecrets],
		x.headers("sec.kind", "x.sec.name", "sec.region", "@sec.first", "sec.ips", "sec.events", "sec.reads", "x.sec.key"),
		[]float64{24, 44, 15, 21, 30, 60, 8, 26}, rows)
}

// priceSourceKeys name a cost line's price source.
var priceSourceKeys = map[string]string{PriceList: "x.cost.srcList", PriceTable: "x.cost.srcTable"}

// writeCost is the bill's sheet: each priced instance, then the spend by
// service and region.
func (x *xlsxWriter) writeCost() error {
	b := x.m.Bill
	if b == nil {
		return nil
	}
	rows := make([][]any, 0, len(b.Lines)+len(b.Spend.linesOrNil())+2)
	for _, l := range b.Lines {
		state := x.tr("cost.present")
		switch {
		case l.Present:
		case l.EndUnknown || l.End.IsZero():
			state = x.tr("cost.endUnknown")
		default:
			state = x.tr("cost.removed")
		}
		rows = append(rows, []any{Mask(l.ID), Mask(l.InstanceType), x.region(l.Region), state, x.timeCell(l.Start),
			x.timeCell(l.End), l.HourlyUSD, l.Hours, l.CostUSD, x.translated(priceSourceKeys, l.PriceSource), Mask(l.PriceRegion)})
	}
	if sp := b.Spend; sp != nil && len(sp.Lines) > 0 {
		rows = append(rows, []any{}, []any{x.tr("x.cost.spend"), x.tr("cost.service"), x.tr("cost.region"), x.tr("x.cost.from"), "",
			x.tr("x.cost.until"), "", "", x.tr("x.cost.usd")})
		for _, l := range sp.Lines {
			rows = append(rows, []any{"", Mask(l.Service), x.region(l.Region), sp.Start, "", sp.End, "", "", l.AmountUSD})
		}
	}
	return x.table(x.sheets[SheetCost],
		x.headers("cost.instance", "cost.itype", "cost.region", "cost.state", "@x.cost.start", "@x.cost.end", "x.cost.hourly",
			"cost.hours", "x.cost.total", "x.cost.source", "x.cost.priceRegion"),
		[]float64{24, 16, 15, 24, 21, 21, 12, 10, 12, 20, 14}, rows)
}

// linesOrNil are the spend's lines; none without a spend.
func (s *Spend) linesOrNil() []SpendLine {
	if s == nil {
		return nil
	}
	return s.Lines
}
