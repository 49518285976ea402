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

// WriteMarkdown writes the report for the AWS support case and for a reader
// who was not there: summary, timeline (with a Mermaid diagram), every
// journal action, attacker activity by ATT&CK tactic, derived keys,
// resources and their state, GuardDuty, what was and was not searched,
// remaining work and recommendations. lang is "en" (or empty) or "ja"; the
// Japanese report carries the same content with every fixed text
// translated. Times are UTC. Secrets are masked.
func WriteMarkdown(w io.Writer, m *Model, lang string) error {
	if lang == "" {
		lang = "en"
	}
	tab, ok := messages[lang]
	if !ok {
		return fmt.Errorf("write markdown: unknown language %q (want one of %s)", lang, strings.Join(Languages, ", "))
	}
	bw := bufio.NewWriter(w)
	md := &mdWriter{w: bw, tab: tab, m: m, s: m.stats()}
	md.header()
	md.summary()
	md.timeline()
	md.actions()
	md.activity()
	md.actors()
	md.keys()
	md.resources()
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

type mdWriter struct {
	w   *bufio.Writer
	tab map[string]string
	m   *Model
	s   *Stats
	err error
}

// plural formats the counted noun key for n: key+".one" when n is 1 and
// the language has such a form (Japanese has none).
func (md *mdWriter) plural(key string, n int) string {
	if _, ok := md.tab[key+".one"]; ok && n == 1 {
		key += ".one"
	}
	f := md.tr(key)
	if !strings.Contains(f, "%") {
		return f
	}
	return fmt.Sprintf(f, num(n))
}

// in renders "in <region>" or the language's word for global.
func (md *mdWriter) in(r string) string {
	if r == "" || r == "global" {
		return md.tr("inGlobal")
	}
	return md.tr("inRegion", r)
}

// tr formats the message key of the report's language.
func (md *mdWriter) tr(key string, args ...any) string {
	f, ok := md.tab[key]
	if !ok {
		if md.err == nil {
			md.err = fmt.Errorf("translate %q: no message", key)
		}
		return key
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
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

// ts renders a time in UTC; empty for zero.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// code renders an identifier as inline code, masked.
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(Mask(s), "`", "'") + "`"
}

// cell renders free text for a table cell, masked.
func cell(s string) string {
	s = Mask(s)
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// num renders n with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (md *mdWriter) or(s, key string) string {
	if s == "" {
		return md.tr(key)
	}
	return s
}

func (md *mdWriter) region(r string) string {
	if r == "" || r == "global" {
		return md.tr("global")
	}
	return r
}

func (md *mdWriter) detail(s string) string {
	if s == "" {
		return ""
	}
	return md.tr("detailSep", cell(s))
}

func (md *mdWriter) list(items []string) string {
	return strings.Join(items, md.tr("listSep"))
}

func (md *mdWriter) duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return md.tr("dur.hm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return md.tr("dur.m", int(d/time.Minute))
	}
	return md.tr("dur.s", int(d/time.Second))
}

func (md *mdWriter) header() {
	c := md.m.Case
	md.para(md.tr("title", code(c.KeyID)))
	var intro []string
	if !c.GeneratedAt.IsZero() || c.ToolVersion != "" {
		intro = append(intro, md.tr("generated", md.or(ts(c.GeneratedAt), "unknown"), md.or(cell(c.ToolVersion), "unknown")))
	}
	if c.ResponderARN != "" {
		intro = append(intro, md.tr("responder", code(c.ResponderARN)))
	}
	intro = append(intro, md.tr("allUTC"))
	md.para(strings.Join(intro, md.tr("sentSep")))
}

func (md *mdWriter) presentResources() []Resource {
	var out []Resource
	for _, r := range md.m.Resources {
		if r.State == StatePresent {
			out = append(out, r)
		}
	}
	return out
}

func (md *mdWriter) leak() string {
	c := md.m.Case
	l := LeakOf(c, md.s)
	var s string
	switch {
	case l.At.IsZero():
		s = md.tr("unknown")
	case l.FromFirstAttacker:
		s = md.tr("leak.first", ts(l.At))
	case l.Inferred && l.Reason != "":
		s = md.tr("leak.inf", ts(l.At), cell(l.Reason))
	case l.Inferred:
		s = md.tr("leak.infNR", ts(l.At))
	default:
		s = md.tr("leak.given", ts(l.At))
	}
	if c.LeakChannel != "" {
		s = md.tr("leak.via", s, cell(c.LeakChannel))
	}
	return s
}

func (md *mdWriter) firstCall() string {
	fa := md.s.FirstAttacker
	if fa == nil {
		return md.tr("none")
	}
	return md.tr("firstCall", ts(fa.Time), code(apiName(fa.Source, fa.Name)), md.or(code(fa.SourceIP), "unknown"), md.region(fa.Region))
}

func (md *mdWriter) summary() {
	c, s := md.m.Case, md.s
	md.para(md.tr("h.summary"))
	key := code(c.KeyID)
	if c.KeyStatus != "" {
		key = md.tr("sum.status", key, cell(c.KeyStatus))
	}
	owner := code(c.OwnerUser)
	if c.OwnerARN != "" {
		owner = strings.TrimSpace(owner + " (" + code(c.OwnerARN) + ")")
	}
	detected := md.or(ts(c.DetectedAt), "unknown")
	if c.DetectedBy != "" {
		detected += md.detail(c.DetectedBy)
	}
	since, until := c.Since, c.Until
	if since.IsZero() {
		since = s.First
	}
	if until.IsZero() {
		until = s.Last
	}
	period := md.tr("unknown")
	if !since.IsZero() || !until.IsZero() {
		period = md.tr("period", ts(since), ts(until))
	}
	rows := [][]string{
		{md.tr("sum.key"), key},
		{md.tr("sum.acct"), md.or(code(c.AccountID), "unknown")},
		{md.tr("sum.owner"), md.or(owner, "unknown")},
		{md.tr("sum.leaked"), md.leak()},
		{md.tr("sum.detect"), detected},
		{md.tr("sum.first"), md.firstCall()},
		{md.tr("sum.contnd"), md.or(ts(c.ContainedAt), "notDone")},
		{md.tr("sum.revokd"), md.or(ts(c.RevokedAt), "notDone")},
		{md.tr("sum.period"), period},
		{md.tr("sum.events"), md.tr("sum.evVal", num(s.Events), md.plural("n.regions", len(s.Regions)), num(s.Attacker()),
			num(s.Verdicts[VerdictLegitimate]), num(s.Verdicts[VerdictUnclear]))},
		{md.tr("sum.res"), md.tr("sum.resVal", len(md.m.Resources), len(md.presentResources()))},
	}
	md.table([]string{md.tr("sum.item"), md.tr("sum.value")}, rows)

	var narr []string
	if fa := s.FirstAttacker; fa != nil {
		narr = append(narr, md.tr("narr.att", md.plural("n.times", s.Attacker()), ts(fa.Time), ts(s.LastAttacker), md.plural("n.ips", s.AttackerIPCount)))
		if !c.ContainedAt.IsZero() {
			if s.LastAttacker.After(c.ContainedAt) {
				narr = append(narr, md.tr("narr.after", md.duration(s.LastAttacker.Sub(c.ContainedAt)), ts(s.LastAttacker)))
			} else {
				narr = append(narr, md.tr("narr.stop"))
			}
		}
	} else {
		narr = append(narr, md.tr("narr.none"))
	}
	if len(md.m.Resources) > 0 {
		narr = append(narr, md.tr("narr.res", len(md.m.Resources), len(md.presentResources())))
	}
	md.para(strings.Join(narr, md.tr("sentSep")))
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
}

func (md *mdWriter) milestoneLabel(ms Milestone) string {
	if ms.Kind == MilestoneLeaked && ms.Inferred {
		return md.tr("ms.leakedInf")
	}
	return md.tr(milestoneKeys[ms.Kind])
}

// mermaidLabel drops the characters that end a Mermaid gantt task name.
func mermaidLabel(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ':', '#', ';', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}

func mermaidTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func (md *mdWriter) timeline() {
	md.para(md.tr("h.timeline"))
	mss := Milestones(md.m, md.s)
	if len(mss) == 0 {
		md.para(md.tr("none"))
		return
	}
	axis := "%H:%M"
	if first, last := mss[0].Time.UTC(), mss[len(mss)-1].Time.UTC(); first.YearDay() != last.YearDay() || first.Year() != last.Year() {
		axis = "%m-%d %H:%M"
	}
	md.line("```mermaid")
	md.line("gantt")
	md.line("    title " + mermaidLabel(md.tr("tl.title")))
	md.line("    dateFormat YYYY-MM-DD HH:mm:ss")
	md.line("    axisFormat " + axis)
	incident := map[MilestoneKind]bool{MilestoneLeaked: true, MilestoneFirstAttacker: true, MilestoneLastAttacker: true}
	task := func(id int, label, kind string, from, to time.Time) {
		end := "0m"
		if !to.IsZero() {
			end = mermaidTime(to)
		}
		md.line(fmt.Sprintf("    %s : %s, t%d, %s, %s", mermaidLabel(label), kind, id, mermaidTime(from), end))
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
				d = md.tr("ms.detail.via", cell(md.m.Case.LeakChannel))
			}
		case MilestoneDetected:
			d = cell(md.m.Case.DetectedBy)
		case MilestoneFirstAttacker:
			fa := md.s.FirstAttacker
			d = md.tr("ms.detail.call", code(apiName(fa.Source, fa.Name)), md.or(code(fa.SourceIP), "unknown"))
		case MilestoneContained:
			d = code(md.m.Case.KeyID)
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
			what += md.tr("detailSep", d)
		}
		rows = append(rows, []string{ts(ms.Time), what})
	}
	md.table([]string{md.tr("tl.time"), md.tr("tl.what")}, rows)
}

var stepKeys = map[string]string{
	"identify": "step.identify", "contain": "step.contain", "revoke": "step.revoke",
	"investigate": "step.invest", "assess": "step.assess", "inventory": "step.invent",
	"eradicate": "step.eradic", "verify": "step.verify", "report": "step.report", "recover": "step.recover",
}

var resultKeys = map[string]string{
	ResultOK: "result.ok", ResultFailed: "result.fail", "dry-run": "result.dry",
	"skipped": "result.skip", "undone": "result.undo",
}

func (md *mdWriter) translated(keys map[string]string, v string) string {
	if k, ok := keys[v]; ok {
		return md.tr(k)
	}
	return cell(v)
}

func (md *mdWriter) actions() {
	md.para(md.tr("h.actions"))
	if len(md.m.Actions) == 0 {
		md.para(md.tr("act.none"))
		return
	}
	md.para(md.tr("act.intro"))
	rows := make([][]string, 0, len(md.m.Actions))
	for _, a := range md.m.Actions {
		result := md.translated(resultKeys, a.Result) + md.detail(a.Error)
		rows = append(rows, []string{
			strconv.Itoa(a.Seq), ts(a.Time), md.translated(stepKeys, a.Step), code(a.Action),
			cell(a.Target), cell(a.Actor), result,
		})
	}
	md.table([]string{md.tr("act.seq"), md.tr("act.time"), md.tr("act.step"), md.tr("act.action"),
		md.tr("act.target"), md.tr("act.by"), md.tr("act.result")}, rows)
}

func (md *mdWriter) category(c string) string {
	if c == "" {
		return md.tr("cat.other")
	}
	if _, ok := md.tab["cat."+c]; ok {
		return md.tr("cat." + c)
	}
	return cell(c)
}

func (md *mdWriter) counts(cs []Count, total int) string {
	items := make([]string, 0, len(cs))
	for _, c := range cs {
		items = append(items, md.tr("countOf", code(c.Value), c.N))
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
	headers := []string{md.tr("att.api"), md.tr("att.calls"), md.tr("att.failed"), md.tr("att.regions"), md.tr("att.first"), md.tr("att.last")}
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
			rows = append(rows, []string{code(a.API()), num(a.Calls), num(a.Failed), cell(strings.Join(regions, ", ")), ts(a.First), ts(a.Last)})
		}
		name := md.category(tactic)
		if len(cats) > 0 {
			name += ": " + cell(strings.Join(cats, ", "))
		}
		md.para(md.tr("att.heading", name, md.plural("n.calls", calls)))
		md.table(headers, rows)
		i = j
	}
}

// actors lists the threat-actor indicators that matched, when any did.
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
		rows = append(rows, []string{cell(name), cell(a.Explanation), code(a.Kind), num(a.Events), num(a.Attacker),
			ts(a.First), ts(a.Last), cell(a.Reported) + "<br>" + strings.Join(refs, "<br>")})
	}
	md.table([]string{md.tr("actor.actor"), md.tr("actor.indicator"), md.tr("actor.kind"), md.tr("actor.calls"),
		md.tr("actor.attacker"), md.tr("att.first"), md.tr("att.last"), md.tr("actor.research")}, rows)
}

func (md *mdWriter) keys() {
	md.para(md.tr("h.keys"))
	derived := 0
	for _, k := range md.m.Keys {
		if k.ParentKeyID != "" {
			derived++
		}
	}
	if derived == 0 {
		md.para(md.tr("keys.none"))
		return
	}
	md.para(md.tr("keys.intro"))
	rows := make([][]string, 0, len(md.m.Keys))
	for _, k := range md.m.Keys {
		rows = append(rows, []string{
			code(k.AccessKeyID), code(ChainString(KeyChain(md.m.Keys, k.AccessKeyID))), code(k.Via),
			ts(k.IssuedAt), ts(k.ExpiresAt), cell(k.Status), num(md.s.Keys[k.AccessKeyID]),
		})
	}
	md.table([]string{md.tr("keys.key"), md.tr("keys.chain"), md.tr("keys.via"), md.tr("keys.issued"),
		md.tr("keys.expire"), md.tr("keys.status"), md.tr("keys.events")}, rows)
}

var stateKeys = map[string]string{
	StatePresent: "state.present", StateRemoved: "state.removed", StateGone: "state.gone",
	StateUnknown: "state.unknown", "": "state.unknown",
}

func (md *mdWriter) resources() {
	md.para(md.tr("h.resources"))
	if len(md.m.Resources) == 0 {
		md.para(md.tr("res.none"))
		return
	}
	rows := make([][]string, 0, len(md.m.Resources))
	for _, r := range md.m.Resources {
		rows = append(rows, []string{
			code(r.Type), code(r.ID), md.region(r.Region), ts(r.CreatedAt), code(r.CreatedBy),
			md.translated(stateKeys, r.State), code(r.Removal),
		})
	}
	md.table([]string{md.tr("res.type"), md.tr("res.id"), md.tr("res.region"), md.tr("res.created"),
		md.tr("res.by"), md.tr("res.state"), md.tr("res.removal")}, rows)
	present := md.presentResources()
	if len(present) == 0 {
		md.para(md.tr("res.allGone"))
		return
	}
	md.line(md.tr("res.present"))
	md.line("")
	for _, r := range present {
		if r.Removal != "" {
			md.line("- " + md.tr("res.item", code(r.Type), code(r.ID), md.in(r.Region), code(r.Removal)))
		} else {
			md.line("- " + md.tr("res.itemNoAct", code(r.Type), code(r.ID), md.in(r.Region)))
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
				code(f.Type), md.region(f.Region), strconv.FormatFloat(f.Severity, 'f', 1, 64), num(f.Count),
				ts(f.FirstSeen), ts(f.LastSeen), archived,
			})
		}
		md.table([]string{md.tr("gd.type"), md.tr("gd.region"), md.tr("gd.severity"), md.tr("gd.count"),
			md.tr("gd.first"), md.tr("gd.last"), md.tr("gd.archived")}, rows)
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

var coverageKeys = map[string]string{
	CoverageOK: "cov.ok", CoveragePartial: "cov.partial", CoverageFailed: "cov.failed",
	CoverageNotEnabled: "cov.notEnabled", CoverageSkipped: "cov.skipped",
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
			note := cell(joinNonEmpty("; ", c.Error, c.Note))
			rows = append(rows, []string{md.region(c.Region), cell(c.Source), md.translated(coverageKeys, c.Status), num(c.Events), note})
			if c.Status != CoverageOK {
				name := md.region(c.Region)
				if c.Error != "" {
					name = md.tr("withDetail", name, cell(c.Error))
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

func (md *mdWriter) todo(t Todo) string {
	switch t.Kind {
	case TodoContain:
		return md.tr("todo.contain", code(t.Subject))
	case TodoRevoke:
		return md.tr("todo.revoke", code(t.Subject), t.Count)
	case TodoRemove:
		if t.Detail != "" {
			return md.tr("todo.remove", code(t.Subject), md.in(t.Region), code(t.Detail))
		}
		return md.tr("todo.removeNA", code(t.Subject), md.in(t.Region))
	case TodoCheckResource:
		return md.tr("todo.check", code(t.Subject), md.in(t.Region))
	case TodoRetry:
		if t.Detail == "" {
			return md.tr("todo.retryND", code(t.Subject))
		}
		return md.tr("todo.retry", code(t.Subject), cell(t.Detail))
	case TodoRerun:
		return md.tr("todo.rerun", md.region(t.Region), cell(t.Subject), md.detail(t.Detail))
	case TodoDataEvents:
		return md.tr("todo.dataEvents")
	case TodoReviewUnclear:
		return md.tr("todo.unclear", num(t.Count))
	case TodoReviewFindings:
		return md.tr("todo.findings", t.Count)
	case TodoRotateWorkload:
		return md.tr("todo.rotate", code(t.Subject), num(t.Count))
	case TodoDeleteKey:
		return md.tr("todo.deleteKey", code(t.Subject))
	case TodoAnswerSupport:
		return md.tr("todo.support")
	}
	return cell(string(t.Kind) + " " + t.Subject)
}

func (md *mdWriter) recommendations() {
	md.para(md.tr("h.recs"))
	for _, r := range Recommendations(md.m, md.s) {
		md.line("- " + md.recommendation(r))
	}
	if len(md.m.Hygiene) == 0 {
		return
	}
	md.line("")
	md.para(md.tr("h.hygiene", md.m.HygieneAt.UTC().Format("2006-01-02")))
	for _, h := range md.m.Hygiene {
		md.line("- " + md.hygiene(h))
	}
}

// hygiene renders one finding of the account's key audit.
func (md *mdWriter) hygiene(h HygieneItem) string {
	items := make([]string, len(h.Subjects))
	for i, s := range h.Subjects {
		items[i] = code(s)
	}
	key := "hyg." + h.Check
	if _, ok := md.tab[key]; !ok {
		if len(items) == 0 {
			return cell(h.Title)
		}
		return md.tr("hyg.other", cell(h.Title), md.list(items))
	}
	if len(items) == 0 {
		return md.tr(key, "—")
	}
	return md.tr(key, md.list(items))
}

func (md *mdWriter) recommendation(r Recommendation) string {
	subjects := func(wrap func(string) string) string {
		items := make([]string, len(r.Subjects))
		for i, s := range r.Subjects {
			items[i] = wrap(s)
		}
		return md.list(items)
	}
	switch r.Kind {
	case RecRootKey:
		return md.tr("rec.root")
	case RecRoles:
		if len(r.Subjects) > 0 {
			return md.tr("rec.rolesOwn", subjects(code))
		}
		return md.tr("rec.roles")
	case RecBastionMFA:
		if len(r.Subjects) > 0 {
			return md.tr("rec.bastionRoles", subjects(code))
		}
		return md.tr("rec.bastion")
	case RecVault:
		return md.tr("rec.vault")
	case RecGitSecrets:
		if len(r.Subjects) > 0 {
			return md.tr("rec.gitVia", subjects(cell))
		}
		return md.tr("rec.git")
	case RecRotate:
		if r.Count > RotationDays {
			return md.tr("rec.rotAge", r.Count)
		}
		return md.tr("rec.rotate")
	case RecGuardDuty:
		return md.tr("rec.gd", subjects(md.region))
	case RecTrail:
		return md.tr("rec.trail")
	case RecRestrictRegions:
		return md.tr("rec.regions", subjects(md.region))
	case RecBudget:
		return md.tr("rec.budget", subjects(code))
	}
	return cell(string(r.Kind))
}
