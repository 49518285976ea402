package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// sweepStatusMsg is a region's progress.
type sweepStatusMsg struct{ s trail.SourceStatus }

// sweepSeenMsg is what one LookupEvents page held: the events' times, for
// the spark-line, and the keys they issued, shown as they are found.
type sweepSeenMsg struct {
	times []time.Time
	keys  []trail.KeyLink
}

// sweepDoneMsg ends a sweep: the investigation as now kept in the case.
type sweepDoneMsg struct {
	inv *trail.Investigation
	cov trail.Coverage
	gd  *assess.GuardDutyResult
	err error
}

// watchedClient is a region's CloudTrail client that reports each page it
// returns to the sweep, so that the screen shows derived keys and the
// shape of the activity while the sweep runs.
type watchedClient struct {
	cloudtrail.LookupEventsAPIClient
	send func(tea.Msg)
}

func (c watchedClient) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	out, err := c.LookupEventsAPIClient.LookupEvents(ctx, in, opts...)
	if err != nil || out == nil || len(out.Events) == 0 {
		return out, err
	}
	var seen sweepSeenMsg
	for _, ev := range out.Events {
		if ev.EventTime != nil {
			seen.times = append(seen.times, ev.EventTime.UTC())
		}
		switch name := deref(ev.EventName); {
		case name == "CreateAccessKey" || name == "GetSessionToken" || name == "GetFederationToken" || strings.HasPrefix(name, "AssumeRole"):
			e := trail.ParseLookupEvent(ev)
			if l, ok := e.Derivation(); ok {
				seen.keys = append(seen.keys, l)
			}
		}
	}
	c.send(seen)
	return out, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sweep runs trail's all-region sweep of the key, keeps what it found in
// the case (even when interrupted), and hands back the case's whole
// investigation.
func (s *session) sweep() tea.Cmd {
	c, cfg := s.c, s.cfg
	req := cfg.Investigate
	req.LookupRate, req.LookupBurst = cfg.LookupRate, cfg.LookupBurst
	req.WrapCloudTrail = nil
	return s.start("investigate", func(ctx context.Context, send func(tea.Msg)) {
		req.WrapCloudTrail = func(_ string, api cloudtrail.LookupEventsAPIClient) cloudtrail.LookupEventsAPIClient {
			return watchedClient{LookupEventsAPIClient: api, send: send}
		}
		h := respond.Hooks{Source: func(st trail.SourceStatus) { send(sweepStatusMsg{s: st}) }}
		res, runErr := cfg.Engine.Investigate(ctx, c, req, h)
		if res == nil {
			send(sweepDoneMsg{err: runErr})
			return
		}
		// What was fetched is kept even when the sweep was cut short; the
		// next sweep adds to it. The runbook shows the case's whole
		// investigation.
		all, err := casefile.LoadInvestigation(c)
		if err == nil && all == nil {
			all = res.Trail
		}
		if runErr != nil {
			err = runErr
		}
		send(sweepDoneMsg{inv: all, cov: res.Trail.Coverage, gd: res.GuardDuty, err: err})
	})
}

// investigateView shows the sweep live: one row per region (pages,
// events, throttles, state), the keys derived as they are found, the
// count of events, and a spark-line of their times.
type investigateView struct {
	s *session
	// pending is a confirmation asked by the role-session revocation.
	pending *confirmMsg
	// roles is what the last role-session revocation did.
	roles   string
	w, h    int
	regions map[string]trail.SourceStatus
	keys    []trail.KeyLink
	times   []time.Time
	err     error
	started bool
	scroll  int
	// open is what of the attacker's access was still open when the
	// investigation was about to start: it waits for Y.
	open []string
}

func newInvestigateView(s *session) *investigateView {
	return &investigateView{s: s, regions: map[string]trail.SourceStatus{}}
}

func (v *investigateView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *investigateView) Capturing() bool  { return false }

func (v *investigateView) Keys() helpKeys {
	km := v.s.km
	if v.pending != nil {
		return helpKeys{short: []key.Binding{km.Confirm, km.Decline}, full: [][]key.Binding{{km.Confirm, km.Decline}}}
	}
	short := []key.Binding{km.Enter, km.Refresh, km.Down}
	if v.roleARNs() != nil {
		short = append(short, km.RevokeRoles)
	}
	return helpKeys{short: short, full: [][]key.Binding{{km.Enter, km.Refresh, km.RevokeRoles, km.Up, km.Down}}}
}

// roleARNs are the roles the key's credentials assumed, as the case's
// investigation found them.
func (v *investigateView) roleARNs() []string {
	if v.s.inv == nil {
		return nil
	}
	return v.s.inv.RoleARNs
}

// revokeRoles revokes the older sessions of every role the key's
// credentials assumed, through the engine, each change confirmed.
func (v *investigateView) revokeRoles() tea.Cmd {
	c, eng, roles := v.s.c, v.s.cfg.Engine, v.roleARNs()
	const job = "revoke-roles"
	v.roles = "revoking the roles' older sessions…"
	return v.s.start(job, func(ctx context.Context, send func(tea.Msg)) {
		sum, err := eng.RevokeRoleSessions(ctx, c, roles, respond.Hooks{
			Confirm:  confirmer(job, send),
			Progress: func(p playbook.Progress) { send(runProgressMsg{job: job, p: p}) },
		})
		send(runDoneMsg{job: job, sum: sum, err: err})
	})
}

// resume shows the last sweep's coverage and keys.
func (v *investigateView) resume(rs resumeState) {
	if rs.inv == nil {
		return
	}
	v.showInvestigation(rs.inv, rs.inv.Coverage)
}

func (v *investigateView) showInvestigation(inv *trail.Investigation, cov trail.Coverage) {
	for _, src := range cov.Sources {
		v.regions[src.Name] = src
	}
	v.keys = inv.Derived()
	v.times = v.times[:0]
	for i := range inv.Events {
		v.times = append(v.times, inv.Events[i].EventTime)
	}
}

// Enter starts the sweep when it has not run to its end: the first
// time, or again after an interrupted or partial one (events already
// fetched are kept and not fetched twice into the case).
func (v *investigateView) Enter() tea.Cmd {
	if v.started || v.s.busy("investigate") || v.s.steps[stepInvestigate] == stateDone {
		return nil
	}
	if v.open = v.s.openAccess(); len(v.open) > 0 {
		return nil // asks first: see View
	}
	return v.start()
}

func (v *investigateView) start() tea.Cmd {
	v.started, v.err = true, nil
	v.regions = map[string]trail.SourceStatus{}
	v.keys, v.times = nil, nil
	v.s.steps[stepInvestigate] = stateRunning
	return v.s.sweep()
}

func (v *investigateView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case confirmMsg:
		if msg.job == "revoke-roles" {
			v.pending = &msg
		}
	case runDoneMsg:
		if msg.job != "revoke-roles" {
			return nil
		}
		v.pending = nil
		v.roles = roleRevokeText(msg.sum, msg.err)
	case sweepStatusMsg:
		v.regions[msg.s.Name] = msg.s
	case sweepSeenMsg:
		v.times = append(v.times, msg.times...)
		for _, k := range msg.keys {
			if !v.hasKey(k.AccessKeyID) {
				v.keys = append(v.keys, k)
			}
		}
	case sweepDoneMsg:
		v.err = msg.err
		for _, src := range msg.cov.Sources {
			v.regions[src.Name] = src
		}
		if msg.inv != nil {
			v.s.inv = msg.inv
			v.s.found = nil
			v.s.guardDuty = msg.gd
			v.showInvestigation(msg.inv, msg.cov)
		}
		switch {
		case msg.err != nil || msg.cov.Failed():
			v.s.steps[stepInvestigate] = stateFailed
		default:
			v.s.steps[stepInvestigate] = stateDone
		}
	case tea.KeyMsg:
		if len(v.open) > 0 && !v.started {
			if key.Matches(msg, km.Confirm) {
				v.open = nil
				return v.start()
			}
			return nil
		}
		switch {
		case v.pending != nil && key.Matches(msg, km.Confirm):
			v.pending.reply <- true
			v.pending = nil
		case v.pending != nil && key.Matches(msg, km.Decline):
			v.pending.reply <- false
			v.pending = nil
		case v.pending != nil:
		case key.Matches(msg, km.RevokeRoles):
			if len(v.roleARNs()) > 0 && !v.s.busy("revoke-roles") && !v.s.busy("investigate") {
				return v.revokeRoles()
			}
		case key.Matches(msg, km.Refresh):
			if !v.s.busy("investigate") && v.s.c != nil {
				return v.start()
			}
		case key.Matches(msg, km.Enter):
			switch {
			case v.s.busy("investigate"):
			case v.s.steps[stepInvestigate] == stateDone:
				return v.s.goNext()
			default:
				return v.start()
			}
		case key.Matches(msg, km.Down):
			v.scroll++
		case key.Matches(msg, km.Up):
			v.scroll = max(v.scroll-1, 0)
		}
	}
	return nil
}

func (v *investigateView) hasKey(id string) bool {
	for _, k := range v.keys {
		if k.AccessKeyID == id {
			return true
		}
	}
	return false
}

// regionRank orders the rows so that what needs attention comes first:
// running, failed, regions with events, queued, empty, not enabled.
func regionRank(s trail.SourceStatus) int {
	switch {
	case s.State == trail.StateRunning:
		return 0
	case s.State == trail.StateError || s.State == trail.StateDenied || s.State == trail.StatePartial:
		return 1
	case s.Events > 0:
		return 2
	case s.State == trail.StateQueued:
		return 3
	case s.State == trail.StateOK:
		return 4
	}
	return 5
}

func (v *investigateView) View() string {
	st := v.s.st
	total, done, pages, throttles := 0, 0, 0, 0
	rows := make([]trail.SourceStatus, 0, len(v.regions))
	for _, r := range v.regions {
		rows = append(rows, r)
		total += r.Events
		pages += r.Pages
		throttles += r.Throttles
		if r.State != trail.StateQueued && r.State != trail.StateRunning {
			done++
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := regionRank(rows[i]), regionRank(rows[j])
		if a != b {
			return a < b
		}
		return rows[i].Name < rows[j].Name
	})
	if v.pending != nil {
		lines := append(callLines(st, v.pending, v.w), "", st.bold.Render("Y (shift+y) confirms, n declines"))
		return block(lines, v.w, v.h)
	}
	if len(v.open) > 0 && !v.started {
		return openWarning(st, v.open, "investigating", "Investigate", v.w, v.h)
	}
	src := v.s.cfg.Investigate.Source
	title := "Investigate every region"
	switch src.Kind() {
	case "logs", "s3":
		title = "Investigate the log files in " + src.Logs
	case "athena":
		title = "Investigate the Athena table " + src.Athena
	case "security-lake":
		title = "Investigate Security Lake's CloudTrail table"
	case "lake":
		title = "Investigate the CloudTrail Lake store " + src.Lake
	case "org":
		title = "Investigate across the organization"
	}
	lines := []string{st.title.Render(cut(title, v.w)), ""}
	state := "not started: enter starts the sweep"
	switch {
	case v.s.busy("investigate"):
		state = "sweeping…"
	case v.s.steps[stepInvestigate] == stateDone:
		state = "sweep complete"
	case v.s.steps[stepInvestigate] == stateFailed:
		state = "sweep incomplete: enter sweeps again (nothing fetched is lost)"
	}
	lines = append(lines, fmt.Sprintf("%s %d  %s %d/%d  %s %d  %s %d",
		st.label.Render("events"), total, st.label.Render("regions"), done, len(rows),
		st.label.Render("pages"), pages, st.label.Render("throttled"), throttles))
	lines = append(lines, st.dim.Render(cut(state, v.w)))
	if len(v.times) > 0 {
		spark, from, to := sparkline(v.times, max(v.w-2, 10))
		lines = append(lines, spark, st.dim.Render(fit(from, v.w/2)+fmt.Sprintf("%*s", v.w-v.w/2, to)))
	} else {
		lines = append(lines, "", "")
	}
	if v.err != nil {
		for _, l := range wrapText(v.err.Error(), v.w) {
			lines = append(lines, st.bad.Render(l))
		}
	}
	// Derived keys first: they are what the responder acts on.
	keyLines := []string{st.bold.Render(fmt.Sprintf("Derived keys: %d", len(v.keys)))}
	for _, k := range v.keys {
		extra := ""
		if k.RoleARN != "" {
			extra = " " + k.RoleARN
		} else if k.UserName != "" {
			extra = " user " + k.UserName
		}
		keyLines = append(keyLines, fmt.Sprintf("  %s via %s%s", k.AccessKeyID, k.Via, extra))
	}
	room := v.h - len(lines) - 2
	maxKeys := max(min(len(keyLines), room/2), 1)
	if len(keyLines) > maxKeys {
		keyLines = append(keyLines[:maxKeys-1], st.dim.Render(fmt.Sprintf("  … %d more", len(v.keys)-(maxKeys-2))))
	}
	lines = append(lines, keyLines...)
	if roles := v.roleARNs(); len(roles) > 0 {
		lines = append(lines, st.warn.Render(cut(fmt.Sprintf("%d role(s) assumed with the key's credentials: their sessions survive the user's revoke policy; S revokes them", len(roles)), v.w)))
	}
	if v.roles != "" {
		lines = append(lines, st.dim.Render(cut(v.roles, v.w)))
	}
	if gd := v.s.guardDuty; gd != nil && len(gd.Findings) > 0 {
		lines = append(lines, st.warn.Render(cut(fmt.Sprintf("GuardDuty: %d finding(s) about the keys, the first: %s (%s, %.1f)",
			len(gd.Findings), gd.Findings[0].Type, gd.Findings[0].Region, gd.Findings[0].Severity), v.w)))
	}
	lines = append(lines, st.label.Render(fmt.Sprintf("%-15s %-11s %6s %7s %5s", "REGION", "STATE", "PAGES", "EVENTS", "THR")))
	room = v.h - len(lines)
	if v.scroll > len(rows)-room+1 {
		v.scroll = max(len(rows)-room+1, 0)
	}
	shown := rows[min(v.scroll, len(rows)):]
	for i, r := range shown {
		if i == room-1 && len(shown) > room {
			lines = append(lines, st.dim.Render(restSummary(shown[i:])))
			break
		}
		state := string(r.State)
		switch r.State {
		case trail.StateOK:
			state = st.ok.Render(fmt.Sprintf("%-11s", "done"))
		case trail.StateError, trail.StateDenied:
			state = st.bad.Render(fmt.Sprintf("%-11s", state))
		case trail.StateRunning, trail.StatePartial:
			state = st.warn.Render(fmt.Sprintf("%-11s", state))
		default:
			state = st.dim.Render(fmt.Sprintf("%-11s", state))
		}
		line := fmt.Sprintf("%-15s %s %6d %7d %5d", r.Name, state, r.Pages, r.Events, r.Throttles)
		if r.Err != "" {
			line += " " + st.dim.Render(r.Err)
		}
		lines = append(lines, line)
	}
	return block(lines, v.w, v.h)
}

// restSummary counts the regions that do not fit by state.
func restSummary(rows []trail.SourceStatus) string {
	counts := map[string]int{}
	var order []string
	for _, r := range rows {
		s := string(r.State)
		if r.State == trail.StateOK {
			s = "done"
		}
		if counts[s] == 0 {
			order = append(order, s)
		}
		counts[s]++
	}
	parts := make([]string, 0, len(order))
	for _, s := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return fmt.Sprintf("… %d more regions: %s", len(rows), strings.Join(parts, ", "))
}

// sparkline draws the events' times as width bars over their span, and
// returns the span's ends as labels.
func sparkline(times []time.Time, width int) (string, string, string) {
	bars := []rune("▁▂▃▄▅▆▇█")
	var lo, hi time.Time
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if hi.IsZero() || t.After(hi) {
			hi = t
		}
	}
	if lo.IsZero() {
		return "", "", ""
	}
	counts := make([]int, width)
	span := hi.Sub(lo)
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		i := 0
		if span > 0 {
			i = int(float64(t.Sub(lo)) / float64(span) * float64(width-1))
		}
		counts[i]++
	}
	peak := 0
	for _, c := range counts {
		peak = max(peak, c)
	}
	var b strings.Builder
	for _, c := range counts {
		switch {
		case c == 0:
			b.WriteRune(' ')
		default:
			b.WriteRune(bars[(c*len(bars)-1)/peak])
		}
	}
	layout := "01-02 15:04"
	return b.String(), lo.UTC().Format(layout), hi.UTC().Format(layout) + " UTC"
}

// roleRevokeText says what a role-session revocation did, for the screen.
func roleRevokeText(sum *playbook.Summary, err error) string {
	if sum == nil {
		if err != nil {
			return "role sessions not revoked: " + err.Error()
		}
		return ""
	}
	done, declined := 0, 0
	for _, s := range sum.Steps {
		if s.ID != playbook.StepRevokeRoleSessions {
			continue
		}
		for _, a := range s.Actions {
			switch a.Status {
			case playbook.StatusDone, playbook.StatusAlreadyDone, playbook.StatusReconciled:
				done++
			case playbook.StatusDeclined:
				declined++
			}
		}
	}
	text := fmt.Sprintf("role sessions: %d role(s) now deny sessions issued before the revocation", done)
	if declined > 0 {
		text += fmt.Sprintf(", %d declined", declined)
	}
	if err != nil {
		text += "; " + err.Error()
	}
	return text
}

func (v *investigateView) confirming() bool { return v.pending != nil }

// Esc declines a pending confirmation.
func (v *investigateView) Esc() (bool, tea.Cmd) {
	if v.pending == nil {
		return false, nil
	}
	v.pending.reply <- false
	v.pending = nil
	return true, nil
}
