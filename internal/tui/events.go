package tui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/trail"
)

// eventRow is one event as the Assess table shows it, with its display
// strings made once so that drawing a frame costs only the visible rows.
type eventRow struct {
	ev       *trail.Event
	ea       assess.EventAssessment
	time     string
	verdict  string
	severity string
	category string
	region   string
	key      string
	name     string
	ip       string
	// hay is the lower-cased text `/` searches.
	hay string
}

// buildRows pairs each event with its assessment.
func buildRows(inv *trail.Investigation, a *assess.Assessment) []eventRow {
	rows := make([]eventRow, len(inv.Events))
	aligned := a != nil && len(a.Events) == len(inv.Events)
	for i := range inv.Events {
		e := &inv.Events[i]
		var ea assess.EventAssessment
		switch {
		case aligned && a.Events[i].EventID == e.EventID:
			ea = a.Events[i]
		case a != nil:
			ea, _ = a.Event(e.Key())
		}
		rows[i] = newEventRow(e, ea)
	}
	return rows
}

func newEventRow(e *trail.Event, ea assess.EventAssessment) eventRow {
	name := e.EventName
	if e.ErrorCode != "" {
		name += " ✗" + e.ErrorCode
	}
	r := eventRow{
		ev: e, ea: ea,
		time:     e.EventTime.UTC().Format("01-02 15:04:05"),
		verdict:  string(ea.Verdict),
		severity: string(ea.Severity),
		category: ea.Category,
		region:   e.Region,
		key:      e.UserIdentity.AccessKeyID,
		name:     name,
		ip:       e.SourceIPAddress,
	}
	if r.verdict == "" {
		r.verdict = "unassessed"
	}
	r.hay = strings.ToLower(strings.Join([]string{r.name, r.ip, r.key, r.region, e.EventSource, e.UserAgent, e.UserName(), e.EventID, r.category, strings.Join(ea.Flags, " ")}, " "))
	return r
}

// assessDoneMsg ends the assessment.
type assessDoneMsg struct {
	found *assess.Assessment
	rows  []eventRow
	err   error
	// warn is a live check that failed beside a usable assessment.
	warn error
}

// assessCase judges every event of the case's investigation, as
// `keyleak investigate` does, and keeps the findings in the case.
func (s *session) assessCase() tea.Cmd {
	c, eng := s.c, s.cfg.Engine
	return s.start("assess", func(ctx context.Context, send func(tea.Msg)) {
		res, err := eng.Reassess(ctx, c, true)
		if res == nil {
			if err == nil {
				err = fmt.Errorf("assess: the case has no investigation yet")
			}
			send(assessDoneMsg{err: err})
			return
		}
		send(assessDoneMsg{found: res.Assessment, rows: buildRows(res.Trail, res.Assessment), warn: err})
	})
}

// filterField is one of the table's filters.
type filterField int

const (
	filterVerdict filterField = iota
	filterSeverity
	filterCategory
	filterRegion
	filterKey
	numFilters
)

func (f filterField) String() string {
	return [...]string{"verdict", "severity", "category", "region", "key"}[f]
}

func (r *eventRow) field(f filterField) string {
	switch f {
	case filterVerdict:
		return r.verdict
	case filterSeverity:
		return r.severity
	case filterCategory:
		return r.category
	case filterRegion:
		return r.region
	}
	return r.key
}

// eventsView is the Assess screen: every event with its verdict, in a
// table that draws only the rows in view (so 100,000 events scroll as
// fast as 100), filters by verdict, severity, category, region and key,
// `/` search, and a detail pane with the raw record.
type eventsView struct {
	s    *session
	w, h int
	rows []eventRow
	// shown indexes rows that pass the filters and the search.
	shown   []int
	cursor  int
	offset  int
	filters [numFilters]string
	values  [numFilters][]string
	query   string
	typing  bool
	detail  bool
	detailY int
	raw     []string
	err     error
	warn    error
}

func newEventsView(s *session) *eventsView { return &eventsView{s: s} }

func (v *eventsView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *eventsView) Capturing() bool  { return v.typing }

func (v *eventsView) Keys() helpKeys {
	km := v.s.km
	switch {
	case v.typing:
		return helpKeys{short: []key.Binding{km.Enter, km.Back}}
	case v.detail:
		return helpKeys{short: []key.Binding{km.Up, km.Down, km.Back}, full: [][]key.Binding{{km.Up, km.Down, km.PageUp, km.PageDown, km.Back}}}
	}
	return helpKeys{
		short: []key.Binding{km.Enter, km.Verdict, km.Severity, km.Search},
		full: [][]key.Binding{
			{km.Up, km.Down, km.PageUp, km.PageDown, km.Top, km.Bottom, km.Enter},
			{km.Verdict, km.Severity, km.Category, km.Region, km.KeyID, km.Search, km.Clear},
		},
	}
}

// Enter assesses the case's events when that has not been done in this
// session, or when a sweep has brought new ones.
func (v *eventsView) Enter() tea.Cmd {
	if v.s.found != nil || v.s.busy("assess") || v.s.inv == nil {
		return nil
	}
	v.s.steps[stepAssess] = stateRunning
	return v.s.assessCase()
}

// setRows replaces the table's rows and resets the filters' choices.
func (v *eventsView) setRows(rows []eventRow) {
	v.rows = rows
	for f := range numFilters {
		seen := map[string]bool{}
		var vals []string
		for i := range rows {
			if x := rows[i].field(f); x != "" && !seen[x] {
				seen[x] = true
				vals = append(vals, x)
			}
		}
		slices.Sort(vals)
		if f == filterSeverity {
			slices.SortFunc(vals, func(a, b string) int { return assess.Severity(b).Rank() - assess.Severity(a).Rank() })
		}
		v.values[f] = vals
		if !seen[v.filters[f]] {
			v.filters[f] = ""
		}
	}
	v.apply()
}

// apply recomputes the rows shown; the cursor stays on the same event when
// it still passes.
func (v *eventsView) apply() {
	var keep *trail.Event
	if v.cursor < len(v.shown) {
		keep = v.rows[v.shown[v.cursor]].ev
	}
	v.shown = v.shown[:0]
	q := strings.ToLower(v.query)
	for i := range v.rows {
		r := &v.rows[i]
		ok := true
		for f := range numFilters {
			if v.filters[f] != "" && r.field(f) != v.filters[f] {
				ok = false
				break
			}
		}
		if ok && q != "" && !strings.Contains(r.hay, q) {
			ok = false
		}
		if ok {
			v.shown = append(v.shown, i)
		}
	}
	v.cursor = 0
	for i, idx := range v.shown {
		if v.rows[idx].ev == keep {
			v.cursor = i
			break
		}
	}
	v.clamp()
}

// cycle moves a filter to its next value, "" (all) after the last.
func (v *eventsView) cycle(f filterField) {
	vals := v.values[f]
	cur := v.filters[f]
	next := ""
	if cur == "" && len(vals) > 0 {
		next = vals[0]
	} else if i := slices.Index(vals, cur); i >= 0 && i+1 < len(vals) {
		next = vals[i+1]
	}
	v.filters[f] = next
	v.apply()
}

// tableHeight is the rows the table shows.
func (v *eventsView) tableHeight() int { return max(v.h-5, 1) }

func (v *eventsView) clamp() {
	n := len(v.shown)
	v.cursor = max(min(v.cursor, n-1), 0)
	th := v.tableHeight()
	if v.cursor < v.offset {
		v.offset = v.cursor
	}
	if v.cursor >= v.offset+th {
		v.offset = v.cursor - th + 1
	}
	v.offset = max(min(v.offset, n-th), 0)
}

func (v *eventsView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case assessDoneMsg:
		v.err = msg.err
		if msg.err != nil {
			v.s.steps[stepAssess] = stateFailed
			return nil
		}
		v.s.found = msg.found
		v.warn = msg.warn
		v.s.steps[stepAssess] = stateDone
		v.setRows(msg.rows)
		if msg.found.Counts.Attacker > 0 {
			v.filters[filterVerdict] = string(assess.Attacker)
			v.apply()
		}
	case sweepDoneMsg:
		// New events: the assessment is redone when the screen is shown.
		v.rows, v.shown = nil, nil
	case tea.KeyMsg:
		if v.typing {
			return v.typeKey(msg)
		}
		if v.detail {
			return v.detailKey(msg)
		}
		th := v.tableHeight()
		switch {
		case key.Matches(msg, km.Down):
			v.cursor++
		case key.Matches(msg, km.Up):
			v.cursor--
		case key.Matches(msg, km.PageDown):
			v.cursor += th
		case key.Matches(msg, km.PageUp):
			v.cursor -= th
		case key.Matches(msg, km.Top):
			v.cursor = 0
		case key.Matches(msg, km.Bottom):
			v.cursor = len(v.shown) - 1
		case key.Matches(msg, km.Enter):
			if len(v.shown) > 0 {
				v.openDetail()
			}
		case key.Matches(msg, km.Verdict):
			v.cycle(filterVerdict)
		case key.Matches(msg, km.Severity):
			v.cycle(filterSeverity)
		case key.Matches(msg, km.Category):
			v.cycle(filterCategory)
		case key.Matches(msg, km.Region):
			v.cycle(filterRegion)
		case key.Matches(msg, km.KeyID):
			v.cycle(filterKey)
		case key.Matches(msg, km.Clear):
			v.filters, v.query = [numFilters]string{}, ""
			v.apply()
		case key.Matches(msg, km.Search):
			v.typing = true
		case key.Matches(msg, km.Refresh):
			if !v.s.busy("assess") && v.s.inv != nil {
				v.s.found = nil
				return v.Enter()
			}
		}
		v.clamp()
	}
	return nil
}

// typeKey edits the search; the table follows as it is typed.
func (v *eventsView) typeKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEnter:
		v.typing = false
	case tea.KeyEsc:
		v.typing, v.query = false, ""
	case tea.KeyCtrlC:
		v.typing = false
	case tea.KeyBackspace:
		if r := []rune(v.query); len(r) > 0 {
			v.query = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		v.query += string(msg.Runes)
		if msg.Type == tea.KeySpace {
			v.query += " "
		}
	default:
		return nil
	}
	v.apply()
	return nil
}

func (v *eventsView) openDetail() {
	r := &v.rows[v.shown[v.cursor]]
	v.detail, v.detailY = true, 0
	var b bytes.Buffer
	if err := json.Indent(&b, r.ev.Raw, "", "  "); err != nil {
		b.Reset()
		b.Write(r.ev.Raw)
	}
	v.raw = strings.Split(b.String(), "\n")
}

func (v *eventsView) detailKey(msg tea.KeyMsg) tea.Cmd {
	km := v.s.km
	switch {
	case key.Matches(msg, km.Back), key.Matches(msg, km.Enter):
		v.detail = false
	case key.Matches(msg, km.Down):
		v.detailY++
	case key.Matches(msg, km.Up):
		v.detailY--
	case key.Matches(msg, km.PageDown):
		v.detailY += v.h - 2
	case key.Matches(msg, km.PageUp):
		v.detailY -= v.h - 2
	case key.Matches(msg, km.Top):
		v.detailY = 0
	case key.Matches(msg, km.Bottom):
		v.detailY = len(v.raw)
	}
	return nil
}

// columns decides which columns fit the width: time, verdict, severity
// and event always; region, key and source IP as room allows.
type columns struct{ region, key, ip bool }

func (v *eventsView) columns() (columns, int) {
	fixed := 14 + 1 + 10 + 1 + 8 + 1 + 2
	var c columns
	rest := v.w - fixed
	if rest-15 >= 20 {
		c.region, rest = true, rest-15
	}
	if rest-21 >= 24 {
		c.key, rest = true, rest-21
	}
	if rest-16 >= 24 {
		c.ip, rest = true, rest-16
	}
	return c, rest
}

func (v *eventsView) View() string {
	st := v.s.st
	if v.detail && len(v.shown) > 0 {
		return v.detailView()
	}
	lines := []string{}
	switch {
	case v.err != nil:
		lines = append(lines, st.title.Render("Assess the events"), "")
		for _, l := range wrapText("Assessment failed: "+v.err.Error(), v.w) {
			lines = append(lines, st.bad.Render(l))
		}
		return block(lines, v.w, v.h)
	case v.s.busy("assess"):
		return block([]string{st.title.Render("Assess the events"), "", "Judging every event…"}, v.w, v.h)
	case v.rows == nil && v.s.inv == nil:
		return block([]string{st.title.Render("Assess the events"), "", st.dim.Render("Investigate first: there are no events yet.")}, v.w, v.h)
	case v.rows == nil:
		return block([]string{st.title.Render("Assess the events"), "", st.dim.Render("R assesses the events.")}, v.w, v.h)
	}
	head := fmt.Sprintf("Assess: %d events", len(v.rows))
	if f := v.s.found; f != nil {
		head += fmt.Sprintf(" · %s %d · unclear %d · legitimate %d", st.attacker.Render("attacker"), f.Counts.Attacker, f.Counts.Unclear, f.Counts.Legitimate)
	}
	lines = append(lines, st.title.Render("Assess")+cut(strings.TrimPrefix(head, "Assess"), v.w-6))
	var filt []string
	for f := range numFilters {
		if val := v.filters[f]; val != "" {
			filt = append(filt, f.String()+"="+val)
		}
	}
	fl := "all events (filter: v s c r K, / search)"
	if len(filt) > 0 {
		fl = strings.Join(filt, " ") + " (0 clears)"
	}
	if v.typing || v.query != "" {
		q := "/" + v.query
		if v.typing {
			q += "█"
		}
		fl = q + "  " + fl
	}
	lines = append(lines, st.dim.Render(cut(fl, v.w)))
	if v.warn != nil {
		lines = append(lines, st.warn.Render(cut("! "+v.warn.Error(), v.w)))
	} else if f := v.s.found; f != nil && !f.Leak.Time.IsZero() {
		lines = append(lines, st.dim.Render(cut("leak "+f.Leak.Time.UTC().Format("2006-01-02 15:04")+" UTC: "+f.Leak.Reason, v.w)))
	} else {
		lines = append(lines, "")
	}
	cols, nameW := v.columns()
	hdr := fmt.Sprintf("  %-14s %-10s %-8s ", "TIME", "VERDICT", "SEVERITY")
	if cols.region {
		hdr += fmt.Sprintf("%-14s ", "REGION")
	}
	if cols.key {
		hdr += fmt.Sprintf("%-20s ", "KEY")
	}
	if cols.ip {
		hdr += fmt.Sprintf("%-15s ", "SOURCE IP")
	}
	hdr += "EVENT"
	lines = append(lines, st.label.Render(cut(hdr, v.w)))
	th := v.tableHeight()
	end := min(v.offset+th, len(v.shown))
	for i := v.offset; i < end; i++ {
		r := &v.rows[v.shown[i]]
		verdict := fmt.Sprintf("%-10s", r.verdict)
		if r.verdict == string(assess.Attacker) {
			verdict = st.attacker.Render(verdict)
		}
		line := fmt.Sprintf("%-14s %s %-8s ", r.time, verdict, r.severity)
		if cols.region {
			line += fmt.Sprintf("%-14s ", cut(r.region, 14))
		}
		if cols.key {
			line += fmt.Sprintf("%-20s ", r.key)
		}
		if cols.ip {
			line += fmt.Sprintf("%-15s ", cut(r.ip, 15))
		}
		line += cut(r.name, nameW)
		if i == v.cursor {
			line = st.cursor.Render("› " + line)
		} else {
			line = "  " + line
		}
		lines = append(lines, line)
	}
	for len(lines) < v.h-1 {
		lines = append(lines, "")
	}
	pos := fmt.Sprintf("row %d of %d shown", min(v.cursor+1, len(v.shown)), len(v.shown))
	if len(v.shown) == 0 {
		pos = "no event matches: 0 clears the filters"
	}
	lines = append(lines, st.dim.Render(pos+" · enter: details"))
	return block(lines, v.w, v.h)
}

// detailView is the event's assessment and its raw record, pretty-printed.
func (v *eventsView) detailView() string {
	st := v.s.st
	r := &v.rows[v.shown[v.cursor]]
	head := []string{
		st.title.Render(cut(r.ev.EventName+" "+r.time+" "+r.region, v.w)),
		cut(fmt.Sprintf("%s (score %d, %s)", r.verdict, r.ea.Score, r.severity), v.w),
	}
	if len(r.ea.Flags) > 0 {
		head = append(head, cut("flags: "+strings.Join(r.ea.Flags, ", "), v.w))
	}
	for _, why := range r.ea.Reasons {
		head = append(head, st.dim.Render(cut("· "+why, v.w)))
	}
	head = append(head, "")
	room := max(v.h-len(head)-1, 1)
	v.detailY = max(min(v.detailY, len(v.raw)-room), 0)
	body := v.raw[v.detailY:min(v.detailY+room, len(v.raw))]
	lines := append(head, body...)
	for len(lines) < v.h-1 {
		lines = append(lines, "")
	}
	lines = append(lines, st.dim.Render(fmt.Sprintf("lines %d-%d of %d · esc: back", v.detailY+1, v.detailY+len(body), len(v.raw))))
	return block(lines, v.w, v.h)
}

// Esc closes the detail pane.
func (v *eventsView) Esc() (bool, tea.Cmd) {
	if !v.detail {
		return false, nil
	}
	v.detail = false
	return true, nil
}
