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

// Sheet names of the workbook.
const (
	SheetSummary   = "Summary"
	SheetTimeline  = "Timeline"
	SheetAttacker  = "Attacker"
	SheetResources = "Resources"
	SheetActions   = "Actions"
	SheetKeys      = "Keys"
	SheetCoverage  = "Coverage"
	SheetGuardDuty = "GuardDuty"
	SheetChartData = "Chart data"
)

// Summary labels that tests and readers look up.
const (
	LabelEvents           = "Events"
	LabelAttackerEvents   = "Attacker events"
	LabelRegions          = "Regions with events"
	LabelResourcesPresent = "Resources still present"
)

// XLSXOptions tunes WriteXLSX.
type XLSXOptions struct {
	// TZ is the zone of the Timeline's local-time column; nil means
	// time.Local.
	TZ *time.Location
	// TmpDir is where excelize spills sheet data past 16 MB while the
	// workbook is written. Empty means the system temporary directory;
	// point it at the case directory so event data stays in a 0700
	// directory.
	TmpDir string
}

// tacticCategory is the event's tactic, followed by keyleak's category when
// that says more ("impact / resource-hijacking").
func tacticCategory(ev *Event) string {
	t := ev.tactic()
	if t == "" || ev.Category == "" || ev.Category == t {
		return cmp.Or(t, ev.Category)
	}
	return t + " / " + ev.Category
}

// eventHeaders are the columns of the Timeline and Attacker sheets.
var eventHeaders = []string{
	"Time (UTC)", "", "Region", "Event source", "Event name", "Access key (chain)", "User",
	"Source IP", "User agent", "Error code", "Read-only", "Verdict", "Severity", "Rule",
	"ATT&CK technique", "ATT&CK tactic / category", "Resources", "Event ID (CloudTrail console)",
}

var eventWidths = []float64{20, 20, 15, 26, 28, 46, 18, 16, 40, 22, 10, 12, 10, 24, 16, 20, 40, 40}

// WriteXLSX writes the workbook: Summary (with a chart of events per 10
// minutes by verdict), Timeline (continued on Timeline 2, … past
// MaxTimelineRows), Attacker, Resources, Actions, Keys, Coverage,
// GuardDuty and the chart's data.
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
	x := &xlsxWriter{f: f, m: m, s: s, loc: loc, chains: newChainIndex(m.Keys)}
	if err := x.init(); err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	if err := x.writeEvents(events); err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	for _, step := range []func() error{x.writeResources, x.writeActions, x.writeKeys, x.writeCoverage, x.writeFindings, x.writeSummary} {
		if err := step(); err != nil {
			return fmt.Errorf("write workbook: %w", err)
		}
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
	f      *excelize.File
	m      *Model
	s      *Stats
	loc    *time.Location
	chains *chainIndex

	header, bold, title, dt, link int
	severity                      map[Severity]int
	verdict                       map[Verdict]int
	bad, good                     int

	timeline, attacker *pagedSheet
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
		VerdictAttacker:   "F8CBAD",
		VerdictLegitimate: "C6EFCE",
		VerdictUnclear:    "FFEB9C",
	}
)

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
	x.header = style(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"1F3864"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		Border:    []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}},
	})
	x.bold = style(&excelize.Style{Font: &excelize.Font{Bold: true}})
	x.title = style(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	x.dt = style(&excelize.Style{CustomNumFmt: &dtFmt})
	x.link = style(&excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}})
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
		x.verdict[v] = style(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{c}}})
	}
	if err != nil {
		return fmt.Errorf("create styles: %w", err)
	}

	// Every sheet is created up front, in reading order; the counts in
	// Stats say how many timeline pages there will be.
	if err := f.SetSheetName("Sheet1", SheetSummary); err != nil {
		return fmt.Errorf("name summary sheet: %w", err)
	}
	timelines := pageNames(SheetTimeline, pages(x.s.Events))
	attackers := pageNames(SheetAttacker, pages(x.s.Attacker()))
	names := slices.Concat(timelines, attackers,
		[]string{SheetResources, SheetActions, SheetKeys, SheetCoverage, SheetGuardDuty, SheetChartData})
	for _, n := range names {
		if _, err := f.NewSheet(n); err != nil {
			return fmt.Errorf("create sheet %s: %w", n, err)
		}
	}
	headers := slices.Clone(eventHeaders)
	headers[1] = "Local time (" + zoneName(x.loc, x.s.First) + ")"
	x.timeline = &pagedSheet{x: x, base: SheetTimeline, names: timelines, headers: headers, widths: eventWidths, total: x.s.Events}
	x.attacker = &pagedSheet{x: x, base: SheetAttacker, names: attackers, headers: headers, widths: eventWidths, total: x.s.Attacker()}
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

// zoneName names loc for a column header: its IANA name, or for
// time.Local the abbreviation in force at t.
func zoneName(loc *time.Location, t time.Time) string {
	if name := loc.String(); name != "Local" && name != "" {
		return name
	}
	if t.IsZero() {
		t = time.Now()
	}
	abbr, _ := t.In(loc).Zone()
	return abbr
}

func (x *xlsxWriter) writeEvents(events iter.Seq[Event]) error {
	row := make([]any, len(eventHeaders))
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

// eventRow fills row with the cells of one event; the slice is reused.
func (x *xlsxWriter) eventRow(row []any, ev *Event) {
	clear(row)
	if !ev.Time.IsZero() {
		row[0] = excelize.Cell{StyleID: x.dt, Value: ev.Time.UTC()}
		row[1] = excelize.Cell{StyleID: x.dt, Value: ev.Time.In(x.loc)}
	}
	row[2] = Mask(ev.Region)
	row[3] = Mask(ev.Source)
	row[4] = Mask(ev.Name)
	row[5] = x.chains.of(ev)
	row[6] = Mask(ev.UserName)
	row[7] = Mask(ev.SourceIP)
	row[8] = Mask(ev.UserAgent)
	row[9] = Mask(ev.ErrorCode)
	row[10] = ev.ReadOnly
	v := ev.Verdict.Normalize()
	row[11] = excelize.Cell{StyleID: x.verdict[v], Value: string(v)}
	sev := ev.Severity.Normalize()
	row[12] = excelize.Cell{StyleID: x.severity[sev], Value: string(sev)}
	row[13] = Mask(ev.RuleID)
	row[14] = Mask(ev.Technique)
	row[15] = Mask(tacticCategory(ev))
	if len(ev.Resources) > 0 {
		parts := make([]string, len(ev.Resources))
		for i, r := range ev.Resources {
			parts[i] = r.String()
		}
		row[16] = Mask(strings.Join(parts, "; "))
	}
	if ev.EventID != "" {
		id := Mask(ev.EventID)
		row[17] = excelize.Cell{
			StyleID: x.link,
			Formula: "HYPERLINK(" + formulaString(ConsoleURL(ev.Region, id)) + "," + formulaString(id) + ")",
			Value:   id,
		}
	}
}

// formulaString quotes s as an Excel string literal.
func formulaString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// pagedSheet streams rows into a sheet and continues on "<base> 2", … when
// a sheet is full.
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

// timeCell is a UTC date-time cell, or an empty cell for a zero time.
func (x *xlsxWriter) timeCell(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: x.dt, Value: t.UTC()}
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
		rows = append(rows, []any{
			Mask(r.Type), Mask(r.ID), regionOrGlobal(r.Region), x.timeCell(r.CreatedAt), r.CreatedBy,
			Mask(r.CreatedByEvent), excelize.Cell{StyleID: st, Value: orUnknown(r.State)}, Mask(r.Removal),
			x.timeCell(r.RemovedAt), Mask(r.Note),
		})
	}
	return x.table(SheetResources,
		[]string{"Type", "ID", "Region", "Created at (UTC)", "Created by key", "Created by event", "State", "Removal action", "Removed at (UTC)", "Note"},
		[]float64{26, 36, 15, 20, 24, 38, 10, 30, 20, 40}, rows)
}

func (x *xlsxWriter) writeActions() error {
	rows := make([][]any, 0, len(x.m.Actions))
	for _, a := range x.m.Actions {
		st := 0
		switch a.Result {
		case ResultFailed:
			st = x.bad
		case ResultOK:
			st = x.good
		}
		rows = append(rows, []any{
			a.Seq, x.timeCell(a.Time), Mask(a.Step), Mask(a.Action), Mask(a.Target), Mask(a.Actor),
			excelize.Cell{StyleID: st, Value: Mask(a.Result)}, Mask(a.Error), Mask(a.Detail),
		})
	}
	return x.table(SheetActions,
		[]string{"#", "Time (UTC)", "Step", "Action", "Target", "By", "Result", "Error", "Detail"},
		[]float64{6, 20, 14, 28, 40, 40, 10, 40, 50}, rows)
}

func (x *xlsxWriter) writeKeys() error {
	rows := make([][]any, 0, len(x.m.Keys))
	for _, k := range x.m.Keys {
		rows = append(rows, []any{
			k.AccessKeyID, k.ParentKeyID, ChainString(KeyChain(x.m.Keys, k.AccessKeyID)), k.Temporary(),
			Mask(k.Via), Mask(k.EventID), x.timeCell(k.IssuedAt), x.timeCell(k.ExpiresAt), Mask(k.Principal),
			Mask(k.Region), Mask(k.Status), x.s.Keys[k.AccessKeyID],
		})
	}
	return x.table(SheetKeys,
		[]string{"Access key ID", "Parent key", "Chain", "Temporary", "Minted by", "Event ID", "Issued at (UTC)", "Expires at (UTC)", "Principal", "Region", "Status", "Events"},
		[]float64{24, 24, 50, 11, 22, 38, 20, 20, 50, 15, 12, 10}, rows)
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
		rows = append(rows, []any{
			Mask(c.Region), Mask(c.Source), excelize.Cell{StyleID: st, Value: Mask(c.Status)}, c.Events, c.Pages,
			c.Throttles, x.timeCell(c.From), x.timeCell(c.To), Mask(c.Error), Mask(c.Note),
		})
	}
	return x.table(SheetCoverage,
		[]string{"Region", "Source", "Status", "Events", "Pages", "Throttles", "From (UTC)", "To (UTC)", "Error", "Note"},
		[]float64{16, 40, 12, 10, 8, 10, 20, 20, 50, 50}, rows)
}

func (x *xlsxWriter) writeFindings() error {
	rows := make([][]any, 0, len(x.m.Findings))
	for _, g := range x.m.Findings {
		rows = append(rows, []any{
			Mask(g.Type), Mask(g.Region), g.Severity, Mask(g.Title), Mask(g.Resource), x.timeCell(g.FirstSeen),
			x.timeCell(g.LastSeen), g.Count, g.Archived, Mask(g.ID),
		})
	}
	return x.table(SheetGuardDuty,
		[]string{"Type", "Region", "Severity", "Title", "Resource", "First seen (UTC)", "Last seen (UTC)", "Count", "Archived", "Finding ID"},
		[]float64{40, 15, 9, 50, 24, 20, 20, 8, 9, 36}, rows)
}

// writeSummary fills the Summary sheet (normal mode: it is small and
// carries the chart) and the chart's data sheet.
func (x *xlsxWriter) writeSummary() error {
	f, s, c := x.f, x.s, x.m.Case
	sh := SheetSummary
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
		}
		set("A"+strconv.Itoa(row), label, x.bold)
		set("B"+strconv.Itoa(row), v, 0)
		row++
	}
	section := func(title string) {
		row++
		set("A"+strconv.Itoa(row), title, x.header)
		set("B"+strconv.Itoa(row), "", x.header)
		row++
	}
	set("A1", "keyleak incident report", x.title)
	row = 2
	section("Case")
	line("Leaked access key", c.KeyID)
	line("Account", c.AccountID)
	line("Owner", joinNonEmpty(" ", c.OwnerUser, paren(c.OwnerARN)))
	line("Key status", c.KeyStatus)
	line("Leaked via", c.LeakChannel)
	if c.ExposedURL != "" {
		line("Found in public at", c.ExposedURL)
	}
	leak := LeakOf(c, s)
	line("Leaked at", x.both(leak.At))
	switch {
	case leak.At.IsZero():
		line("Leak time", "unknown")
	case leak.FromFirstAttacker:
		line("Leak time", "inferred: no later than the first attacker call")
	case leak.Inferred:
		line("Leak time", joinNonEmpty(": ", "inferred", leak.Reason))
	default:
		line("Leak time", "given")
	}
	line("Detected / quarantined at", joinNonEmpty(" — ", x.both(c.DetectedAt), c.DetectedBy))
	if fa := s.FirstAttacker; fa != nil {
		line("First attacker call", fmt.Sprintf("%s — %s from %s in %s", x.both(fa.Time), apiName(fa.Source, fa.Name), orUnknown(fa.SourceIP), regionOrGlobal(fa.Region)))
	} else {
		line("First attacker call", "none found")
	}
	line("Last attacker call", x.both(s.LastAttacker))
	line("Contained (key deactivated) at", orNotDone(x.both(c.ContainedAt)))
	line("Sessions revoked at", orNotDone(x.both(c.RevokedAt)))
	line("Investigated from", x.both(c.Since))
	line("Investigated until", x.both(c.Until))
	line("Report generated at", x.both(c.GeneratedAt))
	line("keyleak version", c.ToolVersion)
	line("Responder", c.ResponderARN)

	section("Counts")
	present := 0
	for _, r := range x.m.Resources {
		if r.State == StatePresent {
			present++
		}
	}
	derived := 0
	for _, k := range x.m.Keys {
		if k.ParentKeyID != "" {
			derived++
		}
	}
	line(LabelEvents, s.Events)
	line(LabelAttackerEvents, s.Attacker())
	line("Legitimate events", s.Verdicts[VerdictLegitimate])
	line("Unclear events", s.Verdicts[VerdictUnclear])
	line("Failed or denied calls", s.Failed)
	line(LabelRegions, len(s.Regions))
	line("Attacker source IPs", s.AttackerIPCount)
	line("Derived keys", derived)
	line("Resources created", len(x.m.Resources))
	line(LabelResourcesPresent, present)
	line("Journal actions", len(x.m.Actions))
	line("GuardDuty findings", len(x.m.Findings))

	section("Events by severity")
	for _, sev := range Severities {
		line(string(sev), s.Severities[sev])
	}
	if len(s.Tactics) > 0 {
		section("Events by ATT&CK tactic")
		tacs := sortedKeys(s.Tactics)
		slices.SortFunc(tacs, compareCategory)
		for _, t := range tacs {
			line(t, s.Tactics[t])
		}
	}
	if len(s.Categories) > 0 {
		section("Events by category")
		cats := sortedKeys(s.Categories)
		slices.SortFunc(cats, compareCategory)
		for _, cat := range cats {
			line(cat, s.Categories[cat])
		}
	}
	if len(x.m.Actors) > 0 {
		section("Threat-actor indicators (resemblance to reported tradecraft, not attribution)")
		for _, a := range x.m.Actors {
			line(a.Actor+": "+a.Explanation, fmt.Sprintf("%d calls (%d judged the attacker's); reported by %s: %s",
				a.Events, a.Attacker, a.Reported, strings.Join(a.References, " ")))
		}
	}
	section("Not covered")
	line("Data events", "LookupEvents returns management events only; S3 object, Lambda invoke and other data events are not in it")
	var missing []string
	for _, cv := range x.m.Coverage {
		if cv.Status == CoverageNotEnabled || cv.Status == CoverageFailed || cv.Status == CoveragePartial || cv.Status == CoverageSkipped {
			missing = append(missing, cv.Region+" ("+cv.Status+")")
		}
	}
	line("Regions not searched in full", strings.Join(missing, ", "))
	if x.m.GuardDuty.Checked {
		line("GuardDuty off in", strings.Join(x.m.GuardDuty.DisabledRegions, ", "))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("fill summary: %w", err)
	}
	if err := f.SetColWidth(sh, "A", "A", 32); err != nil {
		return fmt.Errorf("size summary: %w", err)
	}
	if err := f.SetColWidth(sh, "B", "B", 70); err != nil {
		return fmt.Errorf("size summary: %w", err)
	}
	if err := x.writeChartData(); err != nil {
		return err
	}
	return x.addChart()
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func orNotDone(s string) string {
	if s == "" {
		return "not done"
	}
	return s
}

func regionOrGlobal(r string) string {
	if r == "" {
		return "global"
	}
	return r
}

// both renders t in UTC and in the workbook's zone.
func (x *xlsxWriter) both(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	u := t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	l := t.In(x.loc)
	if _, off := l.Zone(); off == 0 {
		return u
	}
	return u + " (" + l.Format("2006-01-02 15:04:05 MST") + ")"
}

func (x *xlsxWriter) writeChartData() error {
	rows := make([][]any, 0, len(x.s.Histogram))
	for _, b := range x.s.Histogram {
		rows = append(rows, []any{b.Start.UTC().Format("2006-01-02 15:04"), b.Attacker, b.Legitimate, b.Unclear})
	}
	return x.table(SheetChartData, []string{"10 minutes from (UTC)", "Attacker", "Legitimate", "Unclear"},
		[]float64{20, 10, 12, 10}, rows)
}

func (x *xlsxWriter) addChart() error {
	n := len(x.s.Histogram)
	if n == 0 {
		return nil
	}
	ref := func(col string) string {
		return fmt.Sprintf("'%s'!$%s$2:$%s$%d", SheetChartData, col, col, n+1)
	}
	series := []excelize.ChartSeries{}
	for i, v := range Verdicts {
		col := string(rune('B' + i))
		series = append(series, excelize.ChartSeries{
			Name:       fmt.Sprintf("'%s'!$%s$1", SheetChartData, col),
			Categories: ref("A"),
			Values:     ref(col),
			Fill:       excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{chartColour[v]}},
		})
	}
	gap := uint(10)
	overlap := 100
	if err := x.f.AddChart(SheetSummary, "D2", &excelize.Chart{
		Type:     excelize.ColStacked,
		Series:   series,
		Title:    []excelize.RichTextRun{{Text: "Events per 10 minutes by verdict (UTC)"}},
		Legend:   excelize.ChartLegend{Position: "bottom"},
		GapWidth: &gap,
		Overlap:  &overlap,
		Dimension: excelize.ChartDimension{
			Width: 900, Height: 420,
		},
		XAxis: excelize.ChartAxis{TickLabelSkip: max(1, n/12)},
	}); err != nil {
		return fmt.Errorf("add chart: %w", err)
	}
	return nil
}

var chartColour = map[Verdict]string{
	VerdictAttacker:   "C00000",
	VerdictLegitimate: "70AD47",
	VerdictUnclear:    "A5A5A5",
}
