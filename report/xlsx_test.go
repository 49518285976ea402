package report

import (
	"archive/zip"
	"bytes"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

var jst = time.FixedZone("JST", 9*3600)

func writeWorkbook(t *testing.T, m *Model, opts XLSXOptions) (*excelize.File, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, m, opts); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("open written workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, buf.Bytes()
}

func rows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	rs, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("rows of %s: %v", sheet, err)
	}
	return rs
}

// summaryValues maps the Summary sheet's labels (column A) to values (B).
func summaryValues(t *testing.T, f *excelize.File) map[string]string {
	out := map[string]string{}
	for _, r := range rows(t, f, SheetSummary) {
		if len(r) >= 2 {
			out[r[0]] = r[1]
		}
	}
	return out
}

func TestWriteXLSX(t *testing.T) {
	m := fixtureModel()
	f, raw := writeWorkbook(t, m, XLSXOptions{TZ: jst, TmpDir: t.TempDir()})

	wantSheets := []string{SheetSummary, SheetTimeline, SheetAttacker, SheetResources, SheetSecrets, SheetCost, SheetActions,
		SheetKeys, SheetCoverage, SheetGuardDuty, SheetChartData}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets = %v, want %v", got, wantSheets)
	}

	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet = %d, want Summary", got)
	}
	tl := rows(t, f, SheetTimeline)
	evs := fixtureEvents()
	if len(tl) != len(evs)+1 {
		t.Fatalf("timeline has %d rows, want header + %d", len(tl), len(evs))
	}
	// A reader scans when, whose, how bad, what and where: those come first.
	if want := []string{"Time (JST)", "Verdict", "Severity", "Event name", "Region", "Time (UTC)"}; !slices.Equal(tl[0][:6], want) {
		t.Errorf("first headers = %q, want %q", tl[0][:6], want)
	}
	if tl[0][17] != "Event ID (CloudTrail console)" {
		t.Errorf("headers = %q", tl[0])
	}
	var prev time.Time
	for i, r := range tl[1:] {
		ev := evs[i]
		local, err := time.ParseInLocation(time.DateTime, r[0], jst)
		if err != nil {
			t.Fatalf("row %d time %q: %v", i+2, r[0], err)
		}
		if local.Before(prev) {
			t.Errorf("row %d not oldest first", i+2)
		}
		prev = local
		if !local.Equal(ev.Time) {
			t.Errorf("row %d time %s, want %s", i+2, local, ev.Time)
		}
		if utc, _ := time.Parse(time.DateTime, r[5]); !utc.Equal(ev.Time) {
			t.Errorf("row %d UTC time %q, want %s", i+2, r[5], ev.Time)
		}
		if r[1] != string(ev.Verdict) || r[2] != string(ev.Severity) || r[3] != ev.Name || r[4] != ev.Region || r[17] != ev.EventID {
			t.Errorf("row %d = %q does not match event %s", i+2, r, ev.EventID)
		}
	}
	// The RunInstances row shows the chain and links to the console.
	run := tl[7]
	if run[7] != leakedKey+" → "+sessionKey {
		t.Errorf("key chain = %q", run[7])
	}
	if run[16] != "AWS::EC2::Instance i-0a1b2c3d4e5f67890" {
		t.Errorf("resources = %q", run[16])
	}
	formula, err := f.GetCellFormula(SheetTimeline, "R8")
	if err != nil || !strings.Contains(formula, ConsoleURL("ap-southeast-1", evs[6].EventID)) || !strings.HasPrefix(formula, "HYPERLINK(") {
		t.Errorf("event link formula = %q (%v)", formula, err)
	}
	// Severity is shown as a fill colour; an attacker's row is filled from
	// end to end, a legitimate one is not.
	if got := fillOf(t, f, SheetTimeline, "C5"); got != severityFill[SeverityCritical][0] {
		t.Errorf("critical severity cell fill = %q", got)
	}
	for col := 1; col <= 18; col++ {
		cell, _ := excelize.CoordinatesToCellName(col, 5)
		if col == 2 || col == 3 {
			continue // verdict and severity keep their own colours
		}
		if got := fillOf(t, f, SheetTimeline, cell); got != AttackerRowFill {
			t.Errorf("attacker row cell %s fill = %q, want %s", cell, got, AttackerRowFill)
		}
		legit, _ := excelize.CoordinatesToCellName(col, 2)
		if got := fillOf(t, f, SheetTimeline, legit); got != "" {
			t.Errorf("legitimate row cell %s fill = %q, want none", legit, got)
		}
	}

	panes, err := f.GetPanes(SheetTimeline)
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 1 {
		t.Errorf("timeline panes = %+v (%v)", panes, err)
	}
	if !hasAutoFilter(t, f, raw, SheetTimeline, "A1:R13") {
		t.Error("timeline has no autofilter over A1:R13")
	}
	if !hasAutoFilter(t, f, raw, SheetResources, "A1:K5") {
		t.Error("resources sheet has no autofilter")
	}

	// The dimension is right although rows were streamed after it.
	if x := sheetXML(t, f, raw, SheetTimeline); !strings.Contains(x, `<dimension ref="A1:R13"`) {
		t.Error("timeline dimension is not A1:R13")
	}

	att := rows(t, f, SheetAttacker)
	if len(att) != 1+9 {
		t.Errorf("attacker sheet has %d rows, want 10", len(att))
	}
	for _, r := range att[1:] {
		if r[1] != string(VerdictAttacker) {
			t.Errorf("attacker sheet holds a %s event", r[1])
		}
	}

	for sheet, want := range map[string]int{SheetResources: 4, SheetActions: 7, SheetKeys: 3, SheetCoverage: 7, SheetGuardDuty: 1} {
		if got := len(rows(t, f, sheet)) - 1; got != want {
			t.Errorf("%s has %d rows, want %d", sheet, got, want)
		}
	}
	keys := rows(t, f, SheetKeys)
	if keys[2][0] != sessionKey || keys[2][4] != "denied" || keys[2][14] != leakedKey+" → "+sessionKey || keys[2][15] != "3" {
		t.Errorf("keys row = %q", keys[2])
	}
	// A resource removed by keyleak says so, not the error code AWS gave
	// when it was looked for afterwards.
	res := rows(t, f, SheetResources)
	if res[2][4] != "removed by keyleak" || res[2][5] != "" || res[2][6] != "2024-05-01 21:50:00" {
		t.Errorf("removed resource row = %q", res[2])
	}
	acts := rows(t, f, SheetActions)
	if acts[6][6] != ResultFailed || !strings.Contains(acts[6][7], "DeleteConflict") {
		t.Errorf("failed action row = %q", acts[6])
	}

	s := ComputeStats(m.Events)
	sum := summaryValues(t, f)
	for label, want := range map[string]int{
		LabelEvents: s.Events, LabelAttackerEvents: s.Attacker(), LabelRegions: len(s.Regions),
		LabelResourcesPresent: 2, "Legitimate events": 2, "Unclear events": 1, "Journal actions": 7,
	} {
		if sum[label] != strconv.Itoa(want) {
			t.Errorf("summary %q = %q, want %d", label, sum[label], want)
		}
	}
	if sum["Leaked access key"] != leakedKey || sum["AWS account"] != account {
		t.Errorf("summary case = %q %q", sum["Leaked access key"], sum["AWS account"])
	}
	if !strings.HasPrefix(sum["Leaked"], "2024-05-01 19:10:00 JST (given)") {
		t.Errorf("summary leak = %q", sum["Leaked"])
	}
	if !strings.Contains(sum["Regions not searched in full"], "me-south-1 (not enabled)") {
		t.Errorf("summary coverage = %q", sum["Regions not searched in full"])
	}
	// The support case's answers open the summary.
	if !strings.Contains(sum["The key"], "deactivated at 2024-05-01 21:27:00 JST") {
		t.Errorf("summary answer about the key = %q", sum["The key"])
	}

	// The chart's data is the incident chart and the chart is embedded.
	ch := IncidentChart(m, s)
	cd := rows(t, f, SheetChartData)
	if len(cd) != len(ch.Bins)+1 {
		t.Errorf("chart data has %d rows, want %d", len(cd)-1, len(ch.Bins))
	}
	if !zipHas(t, raw, "xl/charts/chart1.xml") {
		t.Error("workbook has no chart")
	}
}

// fillOf is the fill colour of a cell, "" when it has none.
func fillOf(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Fill.Type != "pattern" || len(st.Fill.Color) == 0 {
		return ""
	}
	return st.Fill.Color[0]
}

// hasAutoFilter reports whether the sheet has an autofilter over ref: the
// workbook's hidden _FilterDatabase name and the worksheet's autoFilter
// element (excelize has no getter for the latter, so its XML is read).
func hasAutoFilter(t *testing.T, f *excelize.File, raw []byte, sheet, ref string) bool {
	t.Helper()
	named := false
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" && dn.Scope == sheet && strings.HasSuffix(dn.RefersTo, "!"+absRef(ref)) {
			named = true
		}
	}
	return named && strings.Contains(sheetXML(t, f, raw, sheet), `<autoFilter ref="`+absRef(ref)+`"`)
}

// sheetXML returns a worksheet's XML; excelize names sheet parts by sheet ID.
func sheetXML(t *testing.T, f *excelize.File, raw []byte, sheet string) string {
	t.Helper()
	for id, name := range f.GetSheetMap() {
		if name != sheet {
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("xl/worksheets/sheet" + strconv.Itoa(id) + ".xml")
		if err != nil {
			t.Fatalf("open XML of %s: %v", sheet, err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Fatalf("no sheet %s", sheet)
	return ""
}

func absRef(ref string) string {
	a, b, _ := strings.Cut(ref, ":")
	abs := func(c string) string {
		i := strings.IndexAny(c, "0123456789")
		return "$" + c[:i] + "$" + c[i:]
	}
	return abs(a) + ":" + abs(b)
}

func zipHas(t *testing.T, raw []byte, name string) bool {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

func TestWriteXLSXSplitsTimeline(t *testing.T) {
	old := timelineRows
	timelineRows = 5
	t.Cleanup(func() { timelineRows = old })

	f, raw := writeWorkbook(t, fixtureModel(), XLSXOptions{TZ: time.UTC})
	want := []string{SheetSummary, "Timeline", "Timeline 2", "Timeline 3", "Attacker", "Attacker 2",
		SheetResources, SheetSecrets, SheetCost, SheetActions, SheetKeys, SheetCoverage, SheetGuardDuty, SheetChartData}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets = %v, want %v", got, want)
	}
	var ids []string
	for i, sheet := range []string{"Timeline", "Timeline 2", "Timeline 3"} {
		rs := rows(t, f, sheet)
		if want := []int{5, 5, 2}[i]; len(rs)-1 != want {
			t.Errorf("%s has %d events, want %d", sheet, len(rs)-1, want)
		}
		if rs[0][0] != "Time (UTC)" {
			t.Errorf("%s lacks headers", sheet)
		}
		id := column(t, rs[0], "Event ID")
		for _, r := range rs[1:] {
			ids = append(ids, r[id])
		}
		if !hasAutoFilter(t, f, raw, sheet, "A1:Q"+strconv.Itoa(len(rs))) {
			t.Errorf("%s has no autofilter", sheet)
		}
	}
	var want2 []string
	for _, ev := range fixtureEvents() {
		want2 = append(want2, ev.EventID)
	}
	if !slices.Equal(ids, want2) {
		t.Errorf("split timeline lost or reordered events:\n got %v\nwant %v", ids, want2)
	}
	if n := len(rows(t, f, "Attacker")) + len(rows(t, f, "Attacker 2")) - 2; n != 9 {
		t.Errorf("attacker pages hold %d events, want 9", n)
	}
}

func TestWriteXLSXSortsUnorderedEvents(t *testing.T) {
	m := fixtureModel()
	evs := fixtureEvents()
	slices.Reverse(evs)
	m.Events = slices.Values(evs)
	f, _ := writeWorkbook(t, m, XLSXOptions{TZ: time.UTC})
	rs := rows(t, f, SheetTimeline)
	id := column(t, rs[0], "Event ID")
	if rs[1][id] != fixtureEvents()[0].EventID || rs[len(rs)-1][id] != fixtureEvents()[11].EventID {
		t.Errorf("unordered input not sorted: first %s last %s", rs[1][id], rs[len(rs)-1][id])
	}
}

func TestWriteXLSXStaleStats(t *testing.T) {
	m := fixtureModel()
	m.Stats = ComputeStats(m.Events)
	evs := fixtureEvents()
	evs[3], evs[4] = evs[4], evs[3]
	m.Events = slices.Values(evs)
	if err := WriteXLSX(io.Discard, m, XLSXOptions{}); err == nil || !strings.Contains(err.Error(), "oldest first") {
		t.Errorf("out-of-order events with stats claiming order: err = %v", err)
	}

	// Stats that undercount still get every event written: extra pages are
	// appended rather than rows dropped.
	old := timelineRows
	timelineRows = 5
	t.Cleanup(func() { timelineRows = old })
	m = fixtureModel()
	m.Stats = ComputeStats(slices.Values(fixtureEvents()[:3]))
	f, _ := writeWorkbook(t, m, XLSXOptions{})
	total := 0
	for _, sheet := range f.GetSheetList() {
		if strings.HasPrefix(sheet, "Timeline") {
			total += len(rows(t, f, sheet)) - 1
		}
	}
	if total != 12 {
		t.Errorf("timeline pages hold %d events, want 12", total)
	}
}

func TestWriteXLSXEmpty(t *testing.T) {
	f, raw := writeWorkbook(t, &Model{Case: Case{KeyID: leakedKey}}, XLSXOptions{})
	if rs := rows(t, f, SheetTimeline); len(rs) != 1 || rs[0][0] != "Time (UTC)" {
		t.Errorf("empty timeline = %q", rs)
	}
	if sum := summaryValues(t, f); sum[LabelEvents] != "0" || sum["First attacker call"] != "none" {
		t.Errorf("empty summary = %v", sum)
	}
	if zipHas(t, raw, "xl/charts/chart1.xml") {
		t.Error("chart drawn without data")
	}
}

func TestWriteXLSXMasksSecrets(t *testing.T) {
	m := fixtureModel()
	evs := fixtureEvents()
	evs[1].UserAgent = "aws-cli/2.15.0 token=" + fakeToken
	evs[2].ErrorCode = "secret " + exampleSecret
	m.Events = slices.Values(evs)
	m.Actions[0].Detail = "used session " + fakeToken
	f, _ := writeWorkbook(t, m, XLSXOptions{})
	masked := 0
	for _, sheet := range f.GetSheetList() {
		for _, r := range rows(t, f, sheet) {
			for _, c := range r {
				if strings.Contains(c, "IQoJb3JpZ2lu") || strings.Contains(c, exampleSecret) {
					t.Errorf("%s holds a secret: %q", sheet, c)
				}
				if strings.Contains(c, Masked) {
					masked++
				}
			}
		}
	}
	// Two timeline cells and their attacker copies (the workbook does not
	// show the journal's free text).
	if masked != 4 {
		t.Errorf("%d masked cells, want 4", masked)
	}
}

// The Summary carries the bill and the rotate-these count; the Secrets
// read and Cost sheets carry the detail.
func TestWriteXLSXBillAndSecrets(t *testing.T) {
	f, _ := writeWorkbook(t, fixtureModel(), XLSXOptions{TZ: time.UTC})
	sum := summaryValues(t, f)
	for label, want := range map[string]string{
		LabelRunningCost: "1.048", LabelRemovedCost: "10.3616", LabelSpend: "13.21", LabelSecretsRead: "1",
	} {
		if sum[label] != want {
			t.Errorf("summary %q = %q, want %q", label, sum[label], want)
		}
	}
	if !strings.Contains(sum[LabelPriceSource], "pricing:GetProducts") {
		t.Errorf("price source = %q", sum[LabelPriceSource])
	}
	sec := rows(t, f, SheetSecrets)
	if len(sec) != 2 || sec[1][1] != "prod/payments/api-key" || sec[1][4] != "45.155.205.233" || sec[1][5] != "0a6c8a52-0099-4a1e-9d6e-000000000099" {
		t.Errorf("secrets sheet = %q", sec)
	}
	cost := rows(t, f, SheetCost)
	if len(cost) < 3 || cost[1][0] != "i-0a1b2c3d4e5f67890" || cost[1][3] != "removed" || cost[2][3] != "still present" {
		t.Errorf("cost sheet = %q", cost)
	}

	// Without a bill there is no Cost sheet, and the Summary says nothing
	// of prices.
	m := fixtureModel()
	m.Bill, m.Secrets = nil, nil
	f, _ = writeWorkbook(t, m, XLSXOptions{TZ: time.UTC})
	if slices.Contains(f.GetSheetList(), SheetCost) {
		t.Error("Cost sheet without a bill")
	}
	sum = summaryValues(t, f)
	if _, ok := sum[LabelRunningCost]; ok || sum[LabelSecretsRead] != "none found in the events" {
		t.Errorf("summary without bill: %q, secrets %q", sum[LabelRunningCost], sum[LabelSecretsRead])
	}
}

// column is the index of the header that starts with name.
func column(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if strings.HasPrefix(h, name) {
			return i
		}
	}
	t.Fatalf("no %q column in %q", name, header)
	return -1
}
