package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// text renders the fixed texts of one language and the times of one zone.
// Every writer that speaks to people (Markdown, the workbook) goes through
// it, so a report says the same thing in the same words, in the same zone,
// whichever format it is read in.
type text struct {
	lang string
	tab  map[string]string
	loc  *time.Location
	err  error
	// plain renders identifiers and free text without Markdown (the
	// workbook's cells).
	plain bool
}

// code renders an identifier as inline code, masked.
func (t *text) code(s string) string {
	if s == "" {
		return ""
	}
	if t.plain {
		return Mask(s)
	}
	return "`" + strings.ReplaceAll(Mask(s), "`", "'") + "`"
}

// cell renders free text for a table cell, masked.
func (t *text) cell(s string) string {
	s = Mask(s)
	if t.plain {
		return s
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// newText returns the texts of lang ("" is English) in zone loc (nil is
// UTC).
func newText(lang string, loc *time.Location) (*text, error) {
	if lang == "" {
		lang = "en"
	}
	tab, ok := messages[lang]
	if !ok {
		return nil, fmt.Errorf("unknown language %q (want one of %s)", lang, strings.Join(Languages, ", "))
	}
	if loc == nil {
		loc = time.UTC
	}
	return &text{lang: lang, tab: tab, loc: loc}, nil
}

// tr formats the message key of the language. A missing key is an error
// the writer returns, so a forgotten translation fails the tests rather
// than showing a key to a reader.
func (t *text) tr(key string, args ...any) string {
	f, ok := t.tab[key]
	if !ok {
		if t.err == nil {
			t.err = fmt.Errorf("translate %q: no message", key)
		}
		return key
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// has reports whether the language has a message for key.
func (t *text) has(key string) bool {
	_, ok := t.tab[key]
	return ok
}

// plural formats the counted noun key for n: key+".one" when n is 1 and
// the language has such a form (Japanese has none).
func (t *text) plural(key string, n int) string {
	if _, ok := t.tab[key+".one"]; ok && n == 1 {
		key += ".one"
	}
	f := t.tr(key)
	if !strings.Contains(f, "%") {
		return f
	}
	return fmt.Sprintf(f, num(n))
}

// when renders a time in the report's zone with the zone's name, e.g.
// "2024-05-01 19:10:00 JST"; empty for the zero time.
func (t *text) when(tm time.Time) string {
	if tm.IsZero() {
		return ""
	}
	l := tm.In(t.loc)
	return l.Format("2006-01-02 15:04:05") + " " + zoneAbbr(l)
}

// day renders the date of tm in the report's zone.
func (t *text) day(tm time.Time) string {
	if tm.IsZero() {
		return ""
	}
	return tm.In(t.loc).Format("2006-01-02")
}

// zone names the report's zone for headers: its abbreviation at ref
// ("UTC", "JST").
func (t *text) zone(ref time.Time) string {
	if ref.IsZero() {
		ref = time.Now()
	}
	return zoneAbbr(ref.In(t.loc))
}

// zoneLong names the zone for the report's opening: "UTC", or
// "Asia/Tokyo (JST, UTC+09:00)".
func (t *text) zoneLong(ref time.Time) string {
	if ref.IsZero() {
		ref = time.Now()
	}
	l := ref.In(t.loc)
	abbr := zoneAbbr(l)
	_, off := l.Zone()
	name := t.loc.String()
	if off == 0 && (name == "UTC" || name == "" || abbr == "UTC") {
		return "UTC"
	}
	utc := "UTC" + l.Format("-07:00")
	switch {
	case name == "Local" || name == "":
		if abbr == utc {
			return utc
		}
		return abbr + " (" + utc + ")"
	case abbr == utc:
		return name + " (" + utc + ")"
	}
	return name + " (" + abbr + ", " + utc + ")"
}

// zoneAbbr is the zone's abbreviation at t, or UTC±hh:mm where the zone
// has none (Go prints "+09" for those).
func zoneAbbr(t time.Time) string {
	abbr, _ := t.Zone()
	if abbr == "" || abbr[0] == '+' || abbr[0] == '-' {
		if _, off := t.Zone(); off == 0 {
			return "UTC"
		}
		return "UTC" + t.Format("-07:00")
	}
	return abbr
}

func (t *text) or(s, key string) string {
	if s == "" {
		return t.tr(key)
	}
	return s
}

// region renders a region, or the language's word for global.
func (t *text) region(r string) string {
	if r == "" || r == "global" {
		return t.tr("global")
	}
	return r
}

// in renders "in <region>" or the language's word for global.
func (t *text) in(r string) string {
	if r == "" || r == "global" {
		return t.tr("inGlobal")
	}
	return t.tr("inRegion", r)
}

func (t *text) list(items []string) string {
	return strings.Join(items, t.tr("listSep"))
}

func (t *text) duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 48*time.Hour:
		return t.tr("dur.dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return t.tr("dur.hm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return t.tr("dur.m", int(d/time.Minute))
	}
	return t.tr("dur.s", int(d/time.Second))
}

// translated renders v through a map of message keys, or v itself.
func (t *text) translated(keys map[string]string, v string) string {
	if k, ok := keys[v]; ok {
		return t.tr(k)
	}
	return v
}

// category names an ATT&CK tactic or keyleak category.
func (t *text) category(c string) string {
	if c == "" {
		return t.tr("cat.other")
	}
	if t.has("cat." + c) {
		return t.tr("cat." + c)
	}
	return c
}

// HasCategory reports whether the reports name the tactic or category c
// in every language, rather than showing it as it is.
func HasCategory(c string) bool {
	for _, tab := range messages {
		if _, ok := tab["cat."+c]; !ok {
			return false
		}
	}
	return true
}

var stepKeys = map[string]string{
	"identify": "step.identify", "contain": "step.contain", "revoke": "step.revoke",
	"investigate": "step.invest", "assess": "step.assess", "inventory": "step.invent",
	"eradicate": "step.eradic", "verify": "step.verify", "report": "step.report", "recover": "step.recover",
	"support": "step.support",
}

var resultKeys = map[string]string{
	ResultOK: "result.ok", ResultFailed: "result.fail", ResultDryRun: "result.dry",
	ResultSkipped: "result.skip", ResultUndone: "result.undo",
}

var stateKeys = map[string]string{
	StatePresent: "state.present", StateRemoved: "state.removed", StateGone: "state.gone",
	StateUnknown: "state.unknown", "": "state.unknown",
}

var coverageKeys = map[string]string{
	CoverageOK: "cov.ok", CoveragePartial: "cov.partial", CoverageFailed: "cov.failed",
	CoverageNotEnabled: "cov.notEnabled", CoverageSkipped: "cov.skipped",
}

var verdictKeys = map[string]string{
	string(VerdictAttacker): "verdict.attacker", string(VerdictLegitimate): "verdict.legitimate", string(VerdictUnclear): "verdict.unclear",
	string(VerdictUnjudged): "verdict.unjudged",
}

var severityKeys = map[string]string{
	string(SeverityCritical): "sev.critical", string(SeverityHigh): "sev.high", string(SeverityMedium): "sev.medium",
	string(SeverityLow): "sev.low", string(SeverityInfo): "sev.info",
}

var credKindKeys = map[string]string{
	CredAccessKey: "credKind.access-key", CredSessionToken: "credKind.session-token",
	CredFederationToken: "credKind.federation-token", CredRoleSession: "credKind.role-session",
	CredUser: "credKind.user", CredConsolePassword: "credKind.console-password",
	CredTrustPolicy: "credKind.trust-policy", CredMFADevice: "credKind.mfa-device",
	CredIdentityCenter: "credKind.identity-center",
}

var credStateKeys = map[string]string{
	CredInactive: "credState.inactive", CredDenied: "credState.denied", CredExpired: "credState.expired",
	CredDeleted: "credState.deleted", CredReverted: "credState.reverted", CredWorking: "credState.working",
	CredUnknown: "credState.unknown",
}

// keyStatusKeys names IAM's key statuses.
var keyStatusKeys = map[string]string{
	"active": "keyStatus.active", "inactive": "keyStatus.inactive", "deleted": "keyStatus.deleted", "unknown": "keyStatus.unknown",
}

// keyStatus renders IAM's status of the leaked key.
func (t *text) keyStatus(s string) string {
	if k, ok := keyStatusKeys[strings.ToLower(s)]; ok {
		return t.tr(k)
	}
	return s
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

// removal names the call that removes a resource. The registry's English
// note on what goes first ("(after its keys, …)") is shown in English
// reports only; every reader recognises the API name.
func (t *text) removal(s string) string {
	if t.lang != "en" {
		s, _, _ = strings.Cut(s, " (")
	}
	return s
}
