package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MarkdownOptions chooses the Markdown report's language and zone.
type MarkdownOptions struct {
	// Lang is "en" (or empty) or "ja".
	Lang string
	// TZ is the zone every time is shown in, with its name; nil is UTC.
	TZ *time.Location
}

// WriteMarkdown writes the report for the AWS support case and for a reader
// who was not there. It opens with the answers the support case asks for,
// one sentence each, then the detail: summary (with the bill), the
// secrets the attacker read to rotate, timeline (with a Mermaid diagram),
// the credentials the attacker held and their state, every journal action,
// attacker activity by ATT&CK tactic, resources and their state, the cost,
// GuardDuty, what was and was not searched, remaining work and
// recommendations. Every fixed text is in the chosen language; every time
// carries its zone. Secrets are masked.
func WriteMarkdown(w io.Writer, m *Model, o MarkdownOptions) error {
	t, err := newText(o.Lang, o.TZ)
	if err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	bw := bufio.NewWriter(w)
	md := &mdWriter{w: bw, story: &story{text: t, m: m, s: m.stats()}}
	md.ref = md.s.First
	if md.ref.IsZero() {
		md.ref = m.Case.GeneratedAt
	}
	md.header()
	md.answers()
	md.summary()
	md.secrets()
	md.timeline()
	md.credentials()
	md.actions()
	md.activity()
	md.actors()
	md.resources()
	md.cost()
	md.guardDuty()
	md.coverage()
	md.remaining()
	md.recommendations()
	if md.err != nil {
		return fmt.Errorf("write markdown: %w", md.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// story is what the reports say about a case, in one language: the
// answers to the support case and the sentences of the summary, shared by
// the Markdown and the workbook.
type story struct {
	*text
	m *Model
	s *Stats
}

type mdWriter struct {
	*story
	w *bufio.Writer
	// ref is the time the zone's abbreviation is taken at for headers.
	ref time.Time
}

func (md *mdWriter) line(s string) {
	_, _ = md.w.WriteString(s)
	_ = md.w.WriteByte('\n')
}

func (md *mdWriter) para(s string) {
	md.line(s)
	md.line("")
}

func (md *mdWriter) table(headers []string, rows [][]string) {
	md.line("| " + strings.Join(headers, " | ") + " |")
	seps := make([]string, len(headers))
	for i := range seps {
		seps[i] = "---"
	}
	md.line("| " + strings.Join(seps, " | ") + " |")
	for _, r := range rows {
		md.line("| " + strings.Join(r, " | ") + " |")
	}
	md.line("")
}

// th is a table header naming a time column with the report's zone.
func (md *mdWriter) th(key string) string { return md.tr(key, md.zone(md.ref)) }

func (md *mdWriter) header() {
	c := md.m.Case
	md.para(md.tr("title", md.code(c.KeyID)))
	var intro []string
	if !c.GeneratedAt.IsZero() || c.ToolVersion != "" {
		intro = append(intro, md.tr("generated", md.or(md.when(c.GeneratedAt), "unknown"), md.or(md.cell(c.ToolVersion), "unknown")))
	}
	if c.ResponderARN != "" {
		intro = append(intro, md.tr("responder", md.code(c.ResponderARN)))
	}
	intro = append(intro, md.tr("timesIn", md.zoneLong(md.ref)))
	md.para(strings.Join(intro, md.tr("sentSep")))
}

// attackerResources are the resources the answers and the remaining work
// speak of: those the workload did not make.
func (md *story) attackerResources() []Resource { return AttackerResources(md.m) }

// answers opens the report with what AWS's support case asks about an
// exposed key, in its order, one sentence each.
func (md *mdWriter) answers() {
	md.para(md.tr("h.answers"))
	md.para(md.tr("ans.intro"))
	for i, a := range md.answerList() {
		md.line(strconv.Itoa(i+1) + ". " + md.tr("ans.item", a.label, a.text))
	}
	md.line("")
}

// answer is one answer to the support case: what it is about, and one
// sentence.
type answer struct{ label, text string }

// answerList is the five answers, in the order of AWS's questions.
func (md *story) answerList() []answer {
	return []answer{
		{md.tr("ans.label.key"), md.answerKey()},
		{md.tr("ans.label.trail"), md.answerTrail()},
		{md.tr("ans.label.res"), md.answerResources()},
		{md.tr("ans.label.cred"), md.answerCredentials()},
		{md.tr("ans.label.todo"), md.answerTodo()},
	}
}

func (md *story) answerKey() string {
	c := md.m.Case
	key := md.code(c.KeyID)
	read := md.readClause(c.KeyStatusAt)
	var s string
	switch status := strings.ToLower(c.KeyStatus); {
	case !c.DeletedAt.IsZero() && !c.ContainedAt.IsZero():
		s = md.tr("ans.key.deleted", key, md.when(c.ContainedAt), md.when(c.DeletedAt))
	case !c.DeletedAt.IsZero():
		s = md.tr("ans.key.deletedOnly", key, md.when(c.DeletedAt))
	case status == "deleted":
		s = md.tr("ans.key.gone", key, read)
	case status == "inactive" && !c.ContainedAt.IsZero():
		s = md.tr("ans.key.inactive", key, md.when(c.ContainedAt), read)
	case status == "inactive":
		s = md.tr("ans.key.inactiveBy", key, read)
	case status == "active":
		s = md.tr("ans.key.active", key, read)
	case !c.ContainedAt.IsZero():
		s = md.tr("ans.key.unread", key, md.when(c.ContainedAt))
	default:
		s = md.tr("ans.key.none", key)
	}
	if !c.FoundActiveAgain.IsZero() {
		s += md.tr("sentSep") + md.tr("ans.key.again", md.when(c.FoundActiveAgain))
	}
	return s
}

// readClause says when AWS was read: " (read …)", or nothing when it
// never was.
func (t *text) readClause(at time.Time) string {
	if at.IsZero() {
		return ""
	}
	return t.tr("readAt", t.when(at))
}

func (md *story) answerTrail() string {
	sr := SearchedOf(md.m)
	if len(md.m.Coverage) == 0 && md.s.Events == 0 {
		return md.tr("ans.trail.none")
	}
	derived := 0
	for _, k := range md.m.Keys {
		if k.ParentKeyID != "" {
			derived++
		}
	}
	var regions string
	switch {
	case sr.Enabled == 0:
		regions = md.plural("n.regions", len(md.s.Regions))
	case len(sr.Incomplete) == 0:
		regions = md.tr("ans.trail.all", sr.Enabled)
	default:
		regions = md.tr("ans.trail.some", sr.Regions, sr.Enabled, md.list(sr.Incomplete))
	}
	if sr.NotEnabled > 0 {
		regions += md.tr("ans.trail.notEnabled", md.plural("n.regions", sr.NotEnabled))
	}
	var source string
	switch {
	case sr.Logs && sr.LookupEvents:
		source = md.tr("src.both")
	case sr.Logs:
		source = md.tr("src.logs")
	default:
		source = md.tr("src.lookup")
	}
	from, to := sr.From, sr.To
	if from.IsZero() {
		from = md.s.First
	}
	if to.IsZero() {
		to = md.s.Last
	}
	s := md.tr("ans.trail", derived, regions, md.or(md.when(from), "unknown"), md.or(md.when(to), "unknown"), source)
	if after := AfterPeriod(md.m, md.s); len(after) > 0 {
		last := after[len(after)-1]
		s += md.tr("ans.trail.after", md.milestoneLabel(last), md.when(last.Time))
	}
	return s + md.tr("stop")
}

// typeCounts renders resource types with their counts: `AWS::EC2::Instance` ×6.
func (md *story) typeCounts(cs []Count) string {
	items := make([]string, len(cs))
	for i, c := range cs {
		items[i] = md.tr("typeCount", md.code(c.Value), c.N)
	}
	return md.list(items)
}

func (md *story) answerResources() string {
	rs := md.attackerResources()
	t := TallyOf(rs)
	read := md.tr("ans.res.never")
	if !md.m.ResourcesReadAt.IsZero() {
		read = md.tr("ans.res.read", md.when(md.m.ResourcesReadAt))
	}
	switch {
	case t.Total == 0:
		return md.tr("ans.res.none")
	case t.Present == 0 && t.Unknown == 0:
		return md.tr("ans.res.gone", t.Total, md.typeCounts(t.Types), read)
	}
	var present, unknown []string
	for _, r := range rs {
		switch r.State {
		case StateRemoved, StateGone:
		case StatePresent:
			present = append(present, md.code(r.ID))
		default:
			unknown = append(unknown, md.code(r.ID))
		}
	}
	var parts []string
	if n := t.Removed + t.Gone; n > 0 {
		parts = append(parts, md.tr("ans.res.goneN", n))
	}
	if len(present) > 0 {
		parts = append(parts, md.tr("ans.res.presentN", len(present), md.list(present)))
	}
	if len(unknown) > 0 {
		parts = append(parts, md.tr("ans.res.unknownN", len(unknown), md.list(unknown)))
	}
	return md.tr("ans.res.left", t.Total, md.typeCounts(t.Types), md.list(parts), read)
}

func (md *story) answerCredentials() string {
	creds := CredentialsOf(md.m)
	var own []Credential
	for _, c := range creds {
		if c.ID != md.m.Case.KeyID {
			own = append(own, c)
		}
	}
	var s string
	live := LiveCredentials(md.m)
	switch {
	case len(own) == 0:
		s = md.tr("ans.cred.none")
	case len(live) == 0:
		s = md.tr("ans.cred.stopped", len(own))
	default:
		names := make([]string, len(live))
		for i, c := range live {
			names[i] = md.credName(c)
		}
		s = md.tr("ans.cred.live", len(own), md.plural("n.stillWork", len(live)), md.list(names))
	}
	s += md.tr("clauseSep")
	if md.m.HygieneAt.IsZero() {
		s += md.tr("ans.cred.noAudit")
	} else {
		s += md.tr("ans.cred.audit", md.day(md.m.HygieneAt), len(md.m.Hygiene))
	}
	return s
}

func (md *story) answerTodo() string {
	var items []string
	for _, t := range RemainingWork(md.m, md.s) {
		if t.Kind == TodoAnswerSupport {
			continue
		}
		k := "short." + string(t.Kind)
		if !slices.Contains(items, md.tr(k)) {
			items = append(items, md.tr(k))
		}
	}
	if len(items) == 0 {
		return md.tr("ans.todo.none")
	}
	return md.tr("ans.todo", md.list(items))
}

func (md *story) presentResources() []Resource {
	var out []Resource
	for _, r := range md.m.Resources {
		if r.State == StatePresent && r.Verdict != VerdictLegitimate {
			out = append(out, r)
		}
	}
	return out
}

func (md *story) leak() string {
	c := md.m.Case
	l := LeakOf(c, md.s)
	var s string
	switch {
	case l.At.IsZero():
		s = md.tr("unknown")
	case l.FromFirstAttacker:
		s = md.tr("leak.first", md.when(l.At))
	case l.Inferred:
		s = md.tr("leak.inf", md.when(l.At))
	default:
		s = md.tr("leak.given", md.when(l.At))
	}
	if c.LeakChannel != "" {
		s = md.tr("leak.via", s, md.cell(c.LeakChannel))
	}
	return s
}

// detectedBy says who detected the leak, in the report's language when the
// model says it was AWS's quarantine.
func (t *text) detectedBy(c Case) string {
	switch {
	case c.QuarantinePolicy != "" && c.QuarantinedUser != "":
		return t.tr("detect.quarantine", t.code(c.QuarantinePolicy), t.code(c.QuarantinedUser))
	case c.QuarantinePolicy != "":
		return t.tr("detect.quarantineNoUser", t.code(c.QuarantinePolicy))
	}
	return t.cell(c.DetectedBy)
}

// detected says when and by whom the leak was detected.
func (t *text) detected(c Case) string {
	by := t.detectedBy(c)
	switch {
	case by == "":
		return t.or(t.when(c.DetectedAt), "unknown")
	case c.DetectedAt.IsZero():
		return by + t.tr("timeUnknown")
	}
	return t.when(c.DetectedAt) + t.detail(by)
}

func (md *story) firstCall() string {
	fa := md.s.FirstAttacker
	if fa == nil {
		return md.tr("none")
	}
	return md.tr("firstCall", md.when(fa.Time), md.code(apiName(fa.Source, fa.Name)), md.or(md.code(fa.SourceIP), "unknown"), md.region(fa.Region))
}

// revoked says whose sessions are denied since when, as IAM said when last
// read, and which role sessions still work.
func (md *story) revoked() string {
	c := md.m.Case
	var s string
	switch {
	case c.RootKey:
		s = md.tr("rev.root")
	case !c.RevokedBefore.IsZero():
		s = md.tr("rev.policy", md.code(c.OwnerUser), md.when(c.RevokedBefore), md.or(md.when(c.KeyStatusAt), "unknown"))
	case !c.RevokedAt.IsZero():
		s = md.tr("rev.journal", md.code(c.OwnerUser), md.when(c.RevokedAt))
	default:
		s = md.tr("notDone")
	}
	var roles []string
	for _, cr := range LiveCredentials(md.m) {
		if cr.Kind == CredRoleSession {
			roles = append(roles, md.credName(cr))
		}
	}
	if len(roles) > 0 {
		s += md.tr("clauseSep") + md.tr("rev.roleLive", md.list(roles))
	}
	return s
}

func (md *mdWriter) summary() {
	c, s := md.m.Case, md.s
	md.para(md.tr("h.summary"))
	key := md.code(c.KeyID)
	if c.KeyStatus != "" {
		if c.KeyStatusAt.IsZero() {
			key = md.tr("sum.status", key, md.keyStatus(c.KeyStatus))
		} else {
			key = md.tr("sum.statusAt", key, md.keyStatus(c.KeyStatus), md.when(c.KeyStatusAt))
		}
	}
	owner := md.code(c.OwnerUser)
	if c.OwnerARN != "" {
		owner = md.tr("withDetail", owner, md.code(c.OwnerARN))
	}
	detected := md.detected(c)
	sr := SearchedOf(md.m)
	since, until := sr.From, sr.To
	if since.IsZero() {
		since = s.First
	}
	if until.IsZero() {
		until = s.Last
	}
	period := md.tr("unknown")
	if !since.IsZero() || !until.IsZero() {
		period = md.tr("period", md.when(since), md.when(until))
	}
	rt := TallyOf(md.attackerResources())
	rows := [][]string{
		{md.tr("sum.key"), key},
		{md.tr("sum.acct"), md.or(md.code(c.AccountID), "unknown")},
		{md.tr("sum.owner"), md.or(owner, "unknown")},
		{md.tr("sum.leaked"), md.leak()},
		{md.tr("sum.detect"), detected},
	}
	if c.ExposedURL != "" {
		rows = append(rows, []string{md.tr("sum.found"), md.cell(c.ExposedURL)})
	}
	rows = append(rows, [][]string{
		{md.tr("sum.first"), md.firstCall()},
		{md.tr("sum.contnd"), md.or(md.when(c.ContainedAt), "notDone")},
		{md.tr("sum.revokd"), md.revoked()},
		{md.tr("sum.period"), period},
		{md.tr("sum.events"), md.tr("sum.evVal", num(s.Events), md.plural("n.regions", len(s.Regions)), num(s.Attacker()),
			num(s.Verdicts[VerdictLegitimate]), num(s.Verdicts[VerdictUnclear])) + md.unjudged(s)},
		{md.tr("sum.res"), md.tr("sum.resVal", rt.Total, rt.Present)},
	}...)
	rows = append(rows, md.billRows()...)
	secrets := md.tr("sec.none")
	if len(md.m.Secrets) > 0 {
		names := make([]string, 0, len(md.m.Secrets))
		for _, sr := range md.m.Secrets {
			names = append(names, md.code(sr.Name))
		}
		secrets = md.list(names)
	}
	rows = append(rows, []string{md.tr("sum.secrets"), secrets})
	md.table([]string{md.tr("sum.item"), md.tr("sum.value")}, rows)
	md.leakClues()

	var narr []string
	if fa := s.FirstAttacker; fa != nil {
		if s.AttackerIPCount > 0 {
			narr = append(narr, md.tr("narr.att", md.plural("n.times", s.Attacker()), md.when(fa.Time), md.when(s.LastAttacker), md.plural("n.ips", s.AttackerIPCount)))
		} else {
			narr = append(narr, md.tr("narr.attNoIP", md.plural("n.times", s.Attacker()), md.when(fa.Time), md.when(s.LastAttacker)))
		}
		if !c.ContainedAt.IsZero() {
			switch {
			case s.LastAttacker.After(c.ContainedAt) && PeriodOpen(md.m):
				narr = append(narr, md.tr("narr.afterOpen", md.duration(s.LastAttacker.Sub(c.ContainedAt)), md.when(s.LastAttacker), md.when(c.Until)))
			case s.LastAttacker.After(c.ContainedAt):
				narr = append(narr, md.tr("narr.after", md.duration(s.LastAttacker.Sub(c.ContainedAt)), md.when(s.LastAttacker)))
			case PeriodOpen(md.m):
				narr = append(narr, md.tr("narr.stopOpen", md.when(c.Until)))
			default:
				narr = append(narr, md.tr("narr.stop"))
			}
		}
	} else if s.Verdicts[VerdictUnjudged] > 0 {
		// Not "no attacker call": some calls were never judged.
		narr = append(narr, md.tr("narr.unjudged", num(s.Verdicts[VerdictUnjudged])))
	} else {
		narr = append(narr, md.tr("narr.none"))
	}
	switch {
	case rt.Total > 0 && rt.Present == 0:
		narr = append(narr, md.tr("narr.resGone", rt.Total))
	case rt.Total > 0:
		narr = append(narr, md.tr("narr.res", rt.Total, rt.Present))
	}
	md.para(strings.Join(narr, md.tr("sentSep")))
	if after := AfterPeriod(md.m, md.s); len(after) > 0 {
		names := make([]string, len(after))
		for i, ms := range after {
			names[i] = md.tr("withDetail", md.milestoneLabel(ms), md.when(ms.Time))
		}
		md.para(md.tr("narr.window", md.when(c.Until), md.list(names)))
	}
}

// leakClues lists what an inferred leak time rests on.
func (md *mdWriter) leakClues() {
	c := md.m.Case
	if !c.LeakedAtInferred || len(c.LeakClues) == 0 {
		if c.LeakedAtInferred && c.LeakedAtReason != "" && md.lang == "en" {
			md.para(md.tr("clue.reason", md.cell(c.LeakedAtReason)))
		}
		return
	}
	md.line(md.tr("clue.intro"))
	md.line("")
	for _, cl := range c.LeakClues {
		md.line("- " + md.clue(cl))
	}
	md.line("")
}

func (md *story) clue(cl LeakClue) string {
	at := md.when(cl.Time)
	switch cl.Kind {
	case ClueQuarantine:
		return md.tr("clue.quarantine", at, md.code(cl.Policy), md.code(cl.User))
	case ClueHighSeverity:
		return md.tr("clue.high", at, md.code(cl.EventName), md.code(cl.SourceIP), md.code(cl.Rule))
	case ClueNewSource:
		return md.tr("clue.new", at, md.code(cl.SourceIP), md.code(cl.UserAgent))
	case ClueFirstCall:
		return md.tr("clue.firstCall", at, md.code(cl.EventName), md.code(cl.SourceIP))
	}
	return md.tr("clue.other", at, md.code(cl.Kind))
}

// unjudged is the summary's note on events never assessed, "" when none.
func (md *mdWriter) unjudged(s *Stats) string {
	if n := s.Verdicts[VerdictUnjudged]; n > 0 {
		return md.tr("sum.unjudged", num(n))
	}
	return ""
}

var milestoneKeys = map[MilestoneKind]string{
	MilestoneLeaked:        "ms.leaked",
	MilestoneDetected:      "ms.detected",
	MilestoneFirstAttacker: "ms.first",
	MilestoneLastAttacker:  "ms.last",
	MilestoneContained:     "ms.contained",
	MilestoneRevoked:       "ms.revoked",
	MilestoneCleanupStart:  "ms.cleanupStart",
	MilestoneCleanupEnd:    "ms.cleanupEnd",
	MilestoneKeyDeleted:    "ms.keyDeleted",
}

func (t *text) milestoneLabel(ms Milestone) string {
	if ms.Kind == MilestoneLeaked && ms.Inferred {
		return t.tr("ms.leakedInf")
	}
	return t.tr(milestoneKeys[ms.Kind])
}

// mermaidLabel drops the characters that end a Mermaid gantt task name.
func mermaidLabel(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ':', '#', ';', '\n', '\r', '`':
			return ' '
		}
		return r
	}, s)
}

func (md *mdWriter) mermaidTime(t time.Time) string {
	return t.In(md.loc).Format("2006-01-02 15:04:05")
}

func (md *mdWriter) timeline() {
	md.para(md.tr("h.timeline"))
	mss := Milestones(md.m, md.s)
	if len(mss) == 0 {
		md.para(md.tr("none"))
		return
	}
	axis := "%H:%M"
	first, last := mss[0].Time.In(md.loc), mss[len(mss)-1].Time.In(md.loc)
	if first.YearDay() != last.YearDay() || first.Year() != last.Year() {
		axis = "%m-%d %H:%M"
	}
	md.line("```mermaid")
	md.line("gantt")
	md.line("    title " + mermaidLabel(md.th("tl.title")))
	md.line("    dateFormat YYYY-MM-DD HH:mm:ss")
	md.line("    axisFormat " + axis)
	incident := map[MilestoneKind]bool{MilestoneLeaked: true, MilestoneFirstAttacker: true, MilestoneLastAttacker: true}
	task := func(id int, label, kind string, from, to time.Time) {
		end := "0m"
		if !to.IsZero() {
			end = md.mermaidTime(to)
		}
		md.line(fmt.Sprintf("    %s : %s, t%d, %s, %s", mermaidLabel(label), kind, id, md.mermaidTime(from), end))
	}
	id := 0
	md.line("    section " + mermaidLabel(md.tr("tl.secInc")))
	for _, ms := range mss {
		if incident[ms.Kind] {
			id++
			task(id, md.milestoneLabel(ms), "milestone", ms.Time, time.Time{})
		}
	}
	if fa := md.s.FirstAttacker; fa != nil && md.s.LastAttacker.After(fa.Time) {
		id++
		task(id, md.tr("tl.active"), "crit", fa.Time, md.s.LastAttacker)
	}
	md.line("    section " + mermaidLabel(md.tr("tl.secResp")))
	var cleanupStart, cleanupEnd time.Time
	for _, ms := range mss {
		if incident[ms.Kind] {
			continue
		}
		switch ms.Kind {
		case MilestoneCleanupStart:
			cleanupStart = ms.Time
		case MilestoneCleanupEnd:
			cleanupEnd = ms.Time
		}
		id++
		task(id, md.milestoneLabel(ms), "milestone", ms.Time, time.Time{})
	}
	if !cleanupEnd.IsZero() {
		id++
		task(id, md.tr("tl.cleanup"), "active", cleanupStart, cleanupEnd)
	}
	md.line("```")
	md.line("")

	rows := make([][]string, 0, len(mss))
	hasEnd := !cleanupEnd.IsZero()
	for _, ms := range mss {
		what := md.milestoneLabel(ms)
		var d string
		switch ms.Kind {
		case MilestoneLeaked:
			if md.m.Case.LeakChannel != "" {
				d = md.tr("ms.detail.via", md.cell(md.m.Case.LeakChannel))
			}
		case MilestoneDetected:
			d = md.detectedBy(md.m.Case)
		case MilestoneFirstAttacker:
			fa := md.s.FirstAttacker
			d = md.tr("ms.detail.call", md.code(apiName(fa.Source, fa.Name)), md.or(md.code(fa.SourceIP), "unknown"))
		case MilestoneContained, MilestoneKeyDeleted:
			d = md.code(md.m.Case.KeyID)
		case MilestoneCleanupStart:
			if !hasEnd && ms.Count > 0 {
				d = md.tr("ms.detail.remove", ms.Count)
			}
		case MilestoneCleanupEnd:
			if ms.Count > 0 {
				d = md.tr("ms.detail.remove", ms.Count)
			}
		}
		if d != "" {
			what += md.detail(d)
		}
		rows = append(rows, []string{md.when(ms.Time), what})
	}
	md.table([]string{md.th("tl.time"), md.tr("tl.what")}, rows)
}

// credName names a credential for a sentence: the key ID, with the role
// and session of a role session.
func (t *text) credName(c Credential) string {
	switch c.Kind {
	case CredRoleSession:
		return t.tr("cred.roleSession", t.code(RoleName(c.Role)), t.code(c.ID))
	case CredUser, CredConsolePassword:
		return t.code(c.ID)
	}
	return t.code(c.ID)
}

// credState renders a credential's state and when it was read.
func (t *text) credState(c Credential) string {
	var s string
	switch c.State {
	case CredDenied:
		if !c.DeniedSince.IsZero() {
			s = t.tr("credState.deniedSince", t.when(c.DeniedSince))
		} else {
			s = t.tr("credState.denied")
		}
	case CredExpired:
		s = t.tr("credState.expired")
		if !c.Expires.IsZero() {
			s = t.tr("credState.expiredAt", t.when(c.Expires))
		}
	case CredWorking, CredInactive, CredDeleted, CredReverted, CredUnknown:
		s = t.tr("credState." + c.State)
	default:
		s = c.State
	}
	if c.Reason != "" && t.has("credReason."+c.Reason) {
		s += t.tr("detailSep", t.tr("credReason."+c.Reason))
	}
	if !c.StateAt.IsZero() {
		s += t.tr("readAt", t.when(c.StateAt))
	}
	return s
}

func (md *mdWriter) credentials() {
	md.para(md.tr("h.keys"))
	creds := CredentialsOf(md.m)
	derived := 0
	for _, c := range creds {
		if c.ID != md.m.Case.KeyID {
			derived++
		}
	}
	if derived == 0 {
		md.para(md.tr("keys.none"))
		return
	}
	md.para(md.tr("keys.intro"))
	rows := make([][]string, 0, len(creds))
	for _, c := range creds {
		made := md.code(c.Via)
		if c.Parent != "" {
			made = md.tr("keys.madeBy", md.code(c.Via), md.code(c.Parent))
		}
		who := md.code(c.User)
		if c.Kind == CredRoleSession {
			who = md.code(c.Role)
		}
		state := md.credState(c)
		if c.Note != "" && md.lang == "en" {
			state += md.detail(md.cell(c.Note))
		}
		rows = append(rows, []string{
			md.code(c.ID), md.translated(credKindKeys, c.Kind), who, made, md.when(c.Issued), md.when(c.Expires), state, num(md.s.Keys[c.ID]),
		})
	}
	md.table([]string{md.tr("keys.key"), md.tr("keys.kind"), md.tr("keys.principal"), md.tr("keys.via"), md.th("keys.issued"),
		md.th("keys.expire"), md.tr("keys.status"), md.tr("keys.events")}, rows)
}

// actionRows folds the journal's actions for the report: consecutive plans
// of a dry run become one row, and notes say what they record.
func actionRows(actions []Action) []Action {
	var out []Action
	for _, a := range actions {
		if a.Result == ResultDryRun {
			if n := len(out); n > 0 && out[n-1].Result == ResultDryRun && out[n-1].Step == a.Step {
				out[n-1].Count++
				continue
			}
			a.Count = 1
			a.Target = ""
		}
		out = append(out, a)
	}
	return out
}

// actionTarget is what an action acted on, or what a row of the journal
// records when it is not a call.
func (t *text) actionTarget(a Action) string {
	switch {
	case a.Result == ResultDryRun:
		return t.tr("act.dry", a.Count)
	case a.Step == "investigate" && a.Count > 0:
		return t.tr("act.invest", num(a.Count), num(a.New))
	case a.Step == "report" && a.Target == "":
		return t.tr("act.report")
	case a.Result == ResultSkipped:
		return t.tr("act.declined")
	}
	return t.cell(a.Target)
}

func (md *mdWriter) actions() {
	md.para(md.tr("h.actions"))
	if len(md.m.Actions) == 0 {
		md.para(md.tr("act.none"))
		return
	}
	md.para(md.tr("act.intro"))
	rows := make([][]string, 0, len(md.m.Actions))
	for _, a := range actionRows(md.m.Actions) {
		result := md.translated(resultKeys, a.Result)
		if a.Error != "" {
			result += md.detail(md.code(a.Error))
		}
		action := md.code(a.Action)
		if a.Action == a.Step {
			action = ""
		}
		rows = append(rows, []string{
			strconv.Itoa(a.Seq), md.when(a.Time), md.translated(stepKeys, a.Step), action,
			md.actionTarget(a), md.cell(a.Actor), result,
		})
	}
	md.table([]string{md.tr("act.seq"), md.th("act.time"), md.tr("act.step"), md.tr("act.action"),
		md.tr("act.target"), md.tr("act.by"), md.tr("act.result")}, rows)
}

func (md *mdWriter) counts(cs []Count, total int) string {
	items := make([]string, 0, len(cs))
	for _, c := range cs {
		items = append(items, md.tr("countOf", md.code(c.Value), c.N))
	}
	s := md.list(items)
	if total > len(cs) {
		s = md.tr("andMore", s, total-len(cs))
	}
	return s
}

func (md *mdWriter) activity() {
	s := md.s
	md.para(md.tr("h.activity"))
	if s.Attacker() == 0 {
		if n := s.Verdicts[VerdictUnjudged]; n > 0 {
			md.para(md.tr("narr.unjudged", num(n)))
			return
		}
		md.para(md.tr("att.none"))
		return
	}
	md.para(md.tr("att.intro", num(s.Attacker())))
	if len(s.AttackerIPs) > 0 {
		md.para(md.tr("att.ips", md.counts(s.AttackerIPs, s.AttackerIPCount)))
	}
	if len(s.AttackerUserAgents) > 0 {
		uas := s.AttackerUserAgents
		if len(uas) > 5 {
			uas = uas[:5]
		}
		md.para(md.tr("att.uas", md.counts(uas, len(s.AttackerUserAgents))))
	}
	headers := []string{md.tr("att.api"), md.tr("att.calls"), md.tr("att.failed"), md.tr("att.regions"), md.th("att.first"), md.th("att.last")}
	for i := 0; i < len(s.Activity); {
		tactic := s.Activity[i].Tactic
		j := i
		calls := 0
		var rows [][]string
		var cats []string // keyleak's categories within the tactic
		for ; j < len(s.Activity) && s.Activity[j].Tactic == tactic; j++ {
			a := s.Activity[j]
			calls += a.Calls
			if a.Category != "" && a.Category != tactic && !slices.Contains(cats, a.Category) {
				cats = append(cats, a.Category)
			}
			regions := make([]string, len(a.Regions))
			for k, r := range a.Regions {
				regions[k] = md.region(r)
			}
			rows = append(rows, []string{md.code(a.API()), num(a.Calls), num(a.Failed), md.cell(strings.Join(regions, ", ")), md.when(a.First), md.when(a.Last)})
		}
		name := md.category(tactic)
		if len(cats) > 0 {
			names := make([]string, len(cats))
			for k, c := range cats {
				names[k] = md.category(c)
			}
			name = md.tr("att.withCats", name, md.list(names))
		}
		md.para(md.tr("att.heading", name, md.plural("n.calls", calls)))
		md.table(headers, rows)
		i = j
	}
}

var indicatorKindKeys = map[string]string{
	"user-agent": "ind.user-agent", "user-name": "ind.user-name", "group-name": "ind.group-name",
	"account-id": "ind.account-id", "call-pattern": "ind.call-pattern",
}

// actors lists the threat-actor indicators that matched, when any did. The
// catalog explains each in English; other languages say what matched from
// the indicator's fields.
func (md *mdWriter) actors() {
	if len(md.m.Actors) == 0 {
		return
	}
	md.para(md.tr("h.actors"))
	md.para(md.tr("actor.intro"))
	rows := make([][]string, 0, len(md.m.Actors))
	for _, a := range md.m.Actors {
		name := a.Actor
		if len(a.Aliases) > 0 {
			name += " (" + strings.Join(a.Aliases, ", ") + ")"
		}
		refs := make([]string, len(a.References))
		for i, r := range a.References {
			refs[i] = "<" + r + ">"
		}
		explain := md.cell(a.Explanation)
		if md.lang != "en" || explain == "" {
			explain = md.tr("actor.matched", md.translated(indicatorKindKeys, a.Kind), md.code(a.Indicator))
		}
		rows = append(rows, []string{md.cell(name), explain, num(a.Events), num(a.Attacker),
			md.when(a.First), md.when(a.Last), md.cell(a.Reported) + "<br>" + strings.Join(refs, "<br>")})
	}
	md.table([]string{md.tr("actor.actor"), md.tr("actor.indicator"), md.tr("actor.calls"),
		md.tr("actor.attacker"), md.th("att.first"), md.th("att.last"), md.tr("actor.research")}, rows)
}

// resourceState renders a resource's state with its detail: when keyleak
// removed it, what took it with it, its own status in AWS.
func (t *text) resourceState(r Resource) string {
	s := t.translated(stateKeys, r.State)
	switch {
	case r.State == StateRemoved && !r.RemovedAt.IsZero():
		s = t.tr("state.removedAt", t.when(r.RemovedAt))
	case r.GoneWith != "":
		s += t.detail(t.tr("state.goneWith", t.code(r.GoneWith)))
	case r.Status != "":
		s += t.detail(t.code(r.Status))
	case r.Note != "" && r.State != StateRemoved && r.State != StateGone:
		s += t.detail(t.code(r.Note))
	}
	return s
}

func (t *text) detail(s string) string {
	if s == "" {
		return ""
	}
	return t.tr("detailSep", s)
}

func (md *mdWriter) resources() {
	md.para(md.tr("h.resources"))
	if len(md.m.Resources) == 0 {
		md.para(md.tr("res.none"))
		return
	}
	if !md.m.ResourcesReadAt.IsZero() {
		md.para(md.tr("res.readAt", md.when(md.m.ResourcesReadAt)))
	} else {
		md.para(md.tr("res.notRead"))
	}
	rows := make([][]string, 0, len(md.m.Resources))
	for _, r := range md.m.Resources {
		rows = append(rows, []string{
			md.code(r.Type), md.code(r.ID), md.region(r.Region), md.when(r.CreatedAt), md.code(r.CreatedBy),
			md.translated(verdictKeys, string(r.Verdict.Normalize())), md.resourceState(r), md.code(md.removal(r.Removal)),
		})
	}
	md.table([]string{md.tr("res.type"), md.tr("res.id"), md.tr("res.region"), md.th("res.created"),
		md.tr("res.by"), md.tr("res.verdict"), md.tr("res.state"), md.tr("res.removal")}, rows)
	present := md.presentResources()
	if len(present) == 0 {
		md.para(md.tr("res.allGone"))
		return
	}
	md.line(md.tr("res.present"))
	md.line("")
	for _, r := range present {
		if r.Removal != "" {
			md.line("- " + md.tr("res.item", md.code(r.Type), md.code(r.ID), md.in(r.Region), md.code(md.removal(r.Removal))))
		} else {
			md.line("- " + md.tr("res.itemNoAct", md.code(r.Type), md.code(r.ID), md.in(r.Region)))
		}
	}
	md.line("")
}

func (md *mdWriter) guardDuty() {
	md.para(md.tr("h.guardduty"))
	if len(md.m.Findings) > 0 {
		rows := make([][]string, 0, len(md.m.Findings))
		for _, f := range md.m.Findings {
			archived := md.tr("no")
			if f.Archived {
				archived = md.tr("yes")
			}
			rows = append(rows, []string{
				md.code(f.Type), md.region(f.Region), strconv.FormatFloat(f.Severity, 'f', 1, 64), num(f.Count),
				md.when(f.FirstSeen), md.when(f.LastSeen), archived,
			})
		}
		md.table([]string{md.tr("gd.type"), md.tr("gd.region"), md.tr("gd.severity"), md.tr("gd.count"),
			md.th("gd.first"), md.th("gd.last"), md.tr("gd.archived")}, rows)
	} else if md.m.GuardDuty.Checked {
		md.para(md.tr("gd.none"))
	}
	switch gd := md.m.GuardDuty; {
	case !gd.Checked:
		md.para(md.tr("gd.unchecked"))
	case len(gd.DisabledRegions) > 0:
		regions := slices.Clone(gd.DisabledRegions)
		slices.Sort(regions)
		md.para(md.tr("gd.off", md.list(regions)))
	default:
		md.para(md.tr("gd.on"))
	}
}

// source names a coverage source: LookupEvents, log files, or a location.
func (t *text) source(s string) string {
	switch s {
	case SourceLookupEvents, "":
		return "LookupEvents"
	case SourceLogFiles:
		return t.tr("src.logFiles")
	}
	return s
}

func (md *mdWriter) coverage() {
	md.para(md.tr("h.coverage"))
	if len(md.s.Regions) > 0 {
		regions := make([]string, len(md.s.Regions))
		for i, r := range md.s.Regions {
			regions[i] = md.tr("countOf", md.region(r.Region), r.Events)
		}
		md.para(md.tr("cov.regions", md.list(regions)))
	}
	logs := false
	byStatus := map[string][]string{}
	if len(md.m.Coverage) == 0 {
		md.para(md.tr("cov.none"))
	} else {
		rows := make([][]string, 0, len(md.m.Coverage))
		for _, c := range md.m.Coverage {
			if c.Source != SourceLookupEvents && c.Source != "" {
				logs = true
			}
			var note []string
			if c.Error != "" {
				note = append(note, md.code(c.Error))
			}
			if c.BadFiles > 0 {
				note = append(note, md.tr("cov.badFiles", c.BadFiles, c.Files))
			} else if c.Note != "" && md.lang == "en" {
				note = append(note, md.cell(c.Note))
			}
			rows = append(rows, []string{md.region(c.Region), md.cell(md.source(c.Source)), md.translated(coverageKeys, c.Status), num(c.Events), md.list(note)})
			if c.Status != CoverageOK {
				name := md.region(c.Region)
				if c.Error != "" {
					name = md.tr("withDetail", name, md.code(c.Error))
				}
				if !slices.Contains(byStatus[c.Status], name) {
					byStatus[c.Status] = append(byStatus[c.Status], name)
				}
			}
		}
		md.table([]string{md.tr("cov.region"), md.tr("cov.source"), md.tr("cov.status"), md.tr("cov.events"), md.tr("cov.note")}, rows)
	}
	md.line(md.tr("cov.missing"))
	md.line("")
	md.line("- " + md.tr("cov.data"))
	if logs {
		md.line("- " + md.tr("cov.dataLogs"))
	}
	if !md.m.Case.Until.IsZero() {
		md.line("- " + md.tr("cov.after", md.when(md.m.Case.Until)))
	}
	for _, st := range []struct{ status, key string }{
		{CoverageNotEnabled, "cov.notEnReg"}, {CoverageFailed, "cov.failReg"},
		{CoveragePartial, "cov.partReg"}, {CoverageSkipped, "cov.skipReg"},
	} {
		if names := byStatus[st.status]; len(names) > 0 {
			md.line("- " + md.tr(st.key, md.list(names)))
		}
	}
	md.line("")
}

func (md *mdWriter) remaining() {
	md.para(md.tr("h.todo"))
	for i, t := range RemainingWork(md.m, md.s) {
		md.line(strconv.Itoa(i+1) + ". " + md.todo(t))
	}
	md.line("")
}

func (t *text) todo(td Todo) string {
	switch td.Kind {
	case TodoContain:
		return t.tr("todo.contain", t.code(td.Subject))
	case TodoRevoke:
		return t.tr("todo.revoke", t.code(td.Subject), td.Count)
	case TodoRevokeRole:
		return t.tr("todo.revokeRole", t.code(td.Subject), t.code(td.Detail))
	case TodoStopCredential:
		return t.tr("todo.stopCred", t.translated(credKindKeys, td.Detail), t.code(td.Subject))
	case TodoRemove:
		if td.Detail != "" {
			return t.tr("todo.remove", t.code(td.Subject), t.in(td.Region), t.code(t.removal(td.Detail)))
		}
		return t.tr("todo.removeNA", t.code(td.Subject), t.in(td.Region))
	case TodoCheckResource:
		return t.tr("todo.check", t.code(td.Subject), t.in(td.Region))
	case TodoRetry:
		if td.Detail == "" {
			return t.tr("todo.retryND", t.code(td.Subject))
		}
		return t.tr("todo.retry", t.code(td.Subject), t.code(td.Detail))
	case TodoRerun:
		d := ""
		if td.Detail != "" {
			d = t.detail(t.code(td.Detail))
		}
		return t.tr("todo.rerun", t.region(td.Region), t.cell(t.source(td.Subject)), d)
	case TodoExtend:
		return t.tr("todo.extend", t.when(td.Since))
	case TodoDataEvents:
		return t.tr("todo.dataEvents")
	case TodoReviewUnclear:
		return t.tr("todo.unclear", num(td.Count))
	case TodoJudge:
		return t.tr("todo.judge", num(td.Count))
	case TodoReviewFindings:
		return t.tr("todo.findings", td.Count)
	case TodoAudit:
		return t.tr("todo.audit")
	case TodoRotateWorkload:
		return t.tr("todo.rotate", t.code(td.Subject), num(td.Count))
	case TodoDeleteKey:
		return t.tr("todo.deleteKey", t.code(td.Subject))
	case TodoAnswerSupport:
		return t.tr("todo.support")
	}
	return t.cell(string(td.Kind) + " " + td.Subject)
}

func (md *mdWriter) recommendations() {
	md.para(md.tr("h.recs"))
	for _, r := range Recommendations(md.m, md.s) {
		md.line("- " + md.recommendation(r))
	}
	md.line("")
	if md.m.HygieneAt.IsZero() {
		md.para(md.tr("h.hygieneNone"))
		md.para(md.tr("hyg.notRun"))
	} else {
		md.para(md.tr("h.hygiene", md.day(md.m.HygieneAt)))
		if len(md.m.Hygiene) == 0 {
			md.line("- " + md.tr("hyg.clean"))
		}
		for _, h := range md.m.Hygiene {
			md.line("- " + md.hygiene(h))
		}
		md.line("")
	}
	if ps := AttackerPrincipals(md.m); len(ps) > 0 {
		md.para(md.tr("hyg.attacker"))
		for _, r := range ps {
			md.line("- " + md.tr("hyg.attackerItem", md.code(r.Type), md.code(r.ID), md.resourceState(r)))
		}
		md.line("")
	}
}

// hygiene renders one finding of the account's key audit.
func (t *text) hygiene(h HygieneItem) string {
	items := make([]string, len(h.Subjects))
	for i, s := range h.Subjects {
		items[i] = t.code(s)
	}
	key := "hyg." + h.Check
	if !t.has(key) {
		title := t.cell(h.Title)
		if t.lang != "en" || title == "" {
			title = t.code(h.Check)
		}
		if len(items) == 0 {
			return title
		}
		return t.tr("hyg.other", title, t.list(items))
	}
	if len(items) == 0 {
		return t.tr(key, "—")
	}
	return t.tr(key, t.list(items))
}

func (t *text) recommendation(r Recommendation) string {
	subjects := func(wrap func(string) string) string {
		items := make([]string, len(r.Subjects))
		for i, s := range r.Subjects {
			items[i] = wrap(s)
		}
		return t.list(items)
	}
	switch r.Kind {
	case RecRootKey:
		return t.tr("rec.root")
	case RecRoles:
		if len(r.Subjects) > 0 {
			return t.tr("rec.rolesOwn", subjects(t.code))
		}
		return t.tr("rec.roles")
	case RecBastionMFA:
		// The profile settings are code: the same words in every language.
		settings := []any{t.code("source_profile"), t.code("role_arn"), t.code("mfa_serial")}
		if len(r.Subjects) > 0 {
			return t.tr("rec.bastionRoles", append(settings, subjects(t.code))...)
		}
		return t.tr("rec.bastion", settings...)
	case RecVault:
		return t.tr("rec.vault")
	case RecGitSecrets:
		if len(r.Subjects) > 0 {
			return t.tr("rec.gitVia", subjects(t.cell))
		}
		return t.tr("rec.git")
	case RecRotate:
		if r.Count > RotationDays {
			return t.tr("rec.rotAge", r.Count)
		}
		return t.tr("rec.rotate")
	case RecGuardDuty:
		return t.tr("rec.gd", subjects(t.region))
	case RecTrail:
		return t.tr("rec.trail")
	case RecRestrictRegions:
		return t.tr("rec.regions", subjects(t.region))
	case RecBudget:
		return t.tr("rec.budget", subjects(t.code))
	}
	return t.cell(string(r.Kind))
}

// billRows are the Summary's lines about the bill: what still runs costs
// per hour, what was removed cost, where the prices came from, and the
// account's spend. None without a bill.
func (md *mdWriter) billRows() [][]string {
	b := md.m.Bill
	if b == nil {
		return nil
	}
	now := md.tr("cost.nowNone")
	if b.PresentCount > 0 {
		now = md.tr("cost.now", usdHour(b.PresentHourlyUSD), md.plural("n.instances", b.PresentCount), usd(b.PresentCostUSD))
	}
	gone := md.tr("none")
	if b.RemovedCount > 0 {
		gone = md.tr("cost.gone", usd(b.RemovedCostUSD), md.plural("n.instances", b.RemovedCount), usdHour(b.RemovedHourlyUSD))
	}
	spend := md.tr("spend.none")
	if sp := b.Spend; sp != nil {
		switch {
		case sp.Error != "":
			spend = md.tr("spend.err", md.cell(sp.Error))
		default:
			est := ""
			if sp.Estimated {
				est = md.tr("spend.est")
			}
			spend = md.tr("spend.val", usd(sp.TotalUSD), sp.Start, sp.End, est)
		}
	}
	return [][]string{
		{md.tr("sum.costNow"), now},
		{md.tr("sum.costGone"), gone},
		{md.tr("sum.prices"), md.priceSource(b)},
		{md.tr("sum.spend"), spend},
	}
}

// priceSource says where the bill's prices came from, and why the Price
// List was not used when it was not.
func (t *text) priceSource(b *Bill) string {
	var prices string
	switch b.PriceSource {
	case PriceList:
		prices = t.tr("price.list", t.when(b.At))
	case PriceTable:
		prices = t.tr("price.table")
	case "":
		prices = t.tr("unknown")
	default:
		prices = t.tr("price.mixed")
	}
	if b.PricingError != "" {
		prices += t.tr("price.notUsed", t.cell(b.PricingError))
	}
	if len(b.Unpriced) > 0 {
		prices += t.tr("price.unpriced", t.list(b.Unpriced))
	}
	return prices
}

// secrets is the rotate-these list: every secret the keys read, with
// where it was read from. Nothing when none was read.
func (md *mdWriter) secrets() {
	if len(md.m.Secrets) == 0 {
		return
	}
	md.para(md.tr("h.secrets"))
	md.para(md.tr("sec.intro"))
	rows := make([][]string, 0, len(md.m.Secrets))
	for _, sr := range md.m.Secrets {
		ips := make([]string, 0, len(sr.Reads))
		for _, ip := range sr.sourceIPs() {
			ips = append(ips, md.code(ip))
		}
		rows = append(rows, []string{md.translated(secretKinds, sr.Kind), md.code(sr.Name), md.region(sr.Region),
			md.when(sr.first().Time), md.list(ips), md.cell(sr.eventIDs()), num(len(sr.Reads))})
	}
	md.table([]string{md.tr("sec.kind"), md.tr("sec.name"), md.tr("sec.region"), md.th("sec.first"),
		md.tr("sec.ips"), md.tr("sec.events"), md.tr("sec.reads")}, rows)
}

// secretKinds are the message keys of SecretRead kinds.
var secretKinds = map[string]string{
	"secretsmanager-secret": "kind.secretsmanager-secret",
	"ssm-parameter":         "kind.ssm-parameter",
	"kms-key":               "kind.kms-key",
	"lambda-environment":    "kind.lambda-environment",
	"ec2-user-data":         "kind.ec2-user-data",
	"s3-object":             "kind.s3-object",
}

// cost lists each priced instance and the spend by service and region.
func (md *mdWriter) cost() {
	b := md.m.Bill
	if b == nil || (len(b.Lines) == 0 && (b.Spend == nil || len(b.Spend.Lines) == 0)) {
		return
	}
	md.para(md.tr("h.cost"))
	if len(b.Lines) > 0 {
		md.para(md.tr("cost.intro"))
		rows := make([][]string, 0, len(b.Lines))
		for _, l := range b.Lines {
			state := md.tr("cost.present")
			switch {
			case l.Present:
			case l.EndUnknown || l.End.IsZero():
				state = md.tr("cost.endUnknown")
			default:
				state = md.tr("cost.ended", md.when(l.End))
			}
			hourly, total := md.tr("unknown"), md.tr("unknown")
			if l.PriceSource != "" {
				hourly, total = usdHour(l.HourlyUSD), usd(l.CostUSD)
			}
			rows = append(rows, []string{md.code(l.ID), md.code(l.InstanceType), md.region(l.Region), state, hourly,
				fmt.Sprintf("%.1f", l.Hours), total})
		}
		md.table([]string{md.tr("cost.instance"), md.tr("cost.itype"), md.tr("cost.region"), md.tr("cost.state"),
			md.tr("cost.hourly"), md.tr("cost.hours"), md.tr("cost.total")}, rows)
	}
	if sp := b.Spend; sp != nil && len(sp.Lines) > 0 {
		md.line(md.tr("cost.spendH"))
		md.line("")
		rows := make([][]string, 0, len(sp.Lines))
		for _, l := range sp.Lines {
			rows = append(rows, []string{md.cell(l.Service), md.region(l.Region), usd(l.AmountUSD)})
		}
		md.table([]string{md.tr("cost.service"), md.tr("cost.region"), md.tr("cost.amount")}, rows)
	}
}
