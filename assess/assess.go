package assess

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// Verdict says whose call an event was. It is resource.Verdict, so that a
// resource carries the verdict on the call that made it.
type Verdict = resource.Verdict

// Verdicts.
const (
	Attacker   Verdict = "attacker"
	Legitimate Verdict = "legitimate"
	Unclear    Verdict = "unclear"
)

// Options configure Assess. The zero value assesses with the built-in
// rules and infers the leak time.
type Options struct {
	// Catalog is the rule catalog (nil: BuiltinCatalog).
	Catalog *Catalog
	// LeakedAt is when the key leaked (--leaked-at); zero infers it.
	LeakedAt time.Time
	// Context are other events of the account that are not the key's own,
	// such as AWS's attachment of its quarantine policy (made by AWS, not
	// by the key, so a lookup by access key never returns it). They are
	// read for signals only and get no verdict.
	Context []trail.Event
	// Owner is the IAM user of the leaked key; only quarantine policies
	// attached to this user count. "" takes it from the key's own events.
	Owner string
}

// Leak is when the key leaked and how keyleak knows.
type Leak struct {
	Time     time.Time `json:"time,omitzero"`
	Inferred bool      `json:"inferred"`
	Reason   string    `json:"reason"`
	// Clues are the signs an inferred Time rests on, oldest first: Reason
	// in parts a report can render in any language.
	Clues []LeakClue `json:"clues,omitempty"`
	// DetectedAt is when AWS attached its quarantine policy, if it did:
	// AWS saw the key in public by then. QuarantinePolicy is that policy's
	// name and QuarantinedUser the user it was attached to.
	DetectedAt       time.Time `json:"detectedAt,omitzero"`
	DetectedBy       string    `json:"detectedBy,omitempty"`
	QuarantinePolicy string    `json:"quarantinePolicy,omitempty"`
	QuarantinedUser  string    `json:"quarantinedUser,omitempty"`
}

// LeakClue is one sign an inferred leak time rests on.
type LeakClue struct {
	// Kind is ClueQuarantine, ClueHighSeverity, ClueNewSource or
	// ClueFirstCall.
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	EventName string    `json:"eventName,omitempty"`
	SourceIP  string    `json:"sourceIPAddress,omitempty"`
	// UserAgent is the caller's user-agent family (aws-cli/2, Boto3/1).
	UserAgent string `json:"userAgent,omitempty"`
	Rule      string `json:"rule,omitempty"`
	Policy    string `json:"policy,omitempty"`
	User      string `json:"user,omitempty"`
}

// The kinds of LeakClue.
const (
	ClueQuarantine   = "quarantine"               // AWS attached its quarantine policy
	ClueHighSeverity = "high-severity-new-source" // first high-severity call from a new source
	ClueNewSource    = "new-source"               // first new source shortly before the other signs
	ClueFirstCall    = "first-call"               // the key's first call, no history to compare
)

// Baseline is what the leaked key's legitimate workload looked like before
// the leak: its sources, clients, regions and calls.
type Baseline struct {
	Events     int      `json:"events"`
	IPs        []string `json:"ips"`
	UserAgents []string `json:"userAgents"` // families, e.g. aws-cli/2
	Regions    []string `json:"regions"`
	EventNames []string `json:"eventNames"`

	ips, uas, families, regions, names map[string]bool
}

// EventAssessment is the verdict on one event and why.
type EventAssessment struct {
	EventID     string   `json:"eventID"`
	AccessKeyID string   `json:"accessKeyId"`
	Verdict     Verdict  `json:"verdict"`
	Score       int      `json:"score"`
	Severity    Severity `json:"severity"`            // of the most severe flag; info without flags
	Flags       []string `json:"flags"`               // rule IDs, most severe first
	Tactic      string   `json:"tactic,omitempty"`    // ATT&CK tactic of the most severe flag
	Category    string   `json:"category,omitempty"`  // keyleak's category of the most severe flag
	Technique   string   `json:"technique,omitempty"` // of the most severe flag
	Reasons     []string `json:"reasons"`
}

// KeyAssessment says who a key of the chain belongs to: the leaked key's
// holder is decided event by event; a derived key belongs to whoever made
// the call that created it.
type KeyAssessment struct {
	AccessKeyID string  `json:"accessKeyId"`
	Parent      string  `json:"parent,omitempty"`
	Via         string  `json:"via,omitempty"`
	EventID     string  `json:"eventID,omitempty"`
	Owner       Verdict `json:"owner,omitempty"` // "" for the leaked key
}

// Assessment is the outcome of Assess.
type Assessment struct {
	Key      string            `json:"key"`
	Leak     Leak              `json:"leak"`
	Baseline Baseline          `json:"baseline"`
	Events   []EventAssessment `json:"events"` // in the investigation's event order
	Keys     []KeyAssessment   `json:"keys"`
	// Resources are the objects the key and its derived keys created, as
	// the events tell; Inventory fills in their live state.
	Resources []Resource `json:"resources"`
	// Actors are the threat-actor indicators that matched.
	Actors []ActorMatch `json:"actors"`
	Counts Counts       `json:"counts"`
	// Secrets are what the keys read that must now be rotated.
	Secrets []SecretRead `json:"secretsRead"`

	catalog *Catalog
	byID    map[string]int
}

// Counts are the number of events of each verdict.
type Counts struct {
	Attacker   int `json:"attacker"`
	Legitimate int `json:"legitimate"`
	Unclear    int `json:"unclear"`
}

// Catalog returns the rules the assessment used.
func (a *Assessment) Catalog() *Catalog { return a.catalog }

// Event returns the assessment of the event with the given ID.
func (a *Assessment) Event(id string) (EventAssessment, bool) {
	i, ok := a.byID[id]
	if !ok {
		return EventAssessment{}, false
	}
	return a.Events[i], true
}

// Weights of the evidence. A call after the leak scores up for what is new
// about it and down for what matches the key's own workload; the rules add
// their severity. AttackerScore and above is the attacker's,
// LegitimateScore and below the workload's, the rest unclear.
const (
	weightNewIP        = 3
	weightKnownIP      = -3
	weightKnownUA      = -3
	weightNewUAFamily  = 1
	weightNewRegion    = 1
	weightNewEventName = 1
	AttackerScore      = 3
	LegitimateScore    = -2
)

// severityWeight is what a matched rule adds to an event's score.
func severityWeight(s Severity) int { return max(s.Rank(), 0) }

// noveltyLookback is how long before the first sure sign of the attacker
// (quarantine, or a high-severity call from a new source) the first new
// source is looked for: attackers verify a key minutes to hours before
// using it.
const noveltyLookback = 24 * time.Hour

// warmUp is how much history the key needs before a new source alone,
// without any other sign, is taken for the leak.
const warmUp = 24 * time.Hour

// Assess gives every event of the investigation a verdict (attacker,
// legitimate or unclear) and its flags, decides or infers when the key
// leaked, and lists the resources the keys created.
func Assess(inv *trail.Investigation, opts Options) (*Assessment, error) {
	if inv == nil {
		return nil, fmt.Errorf("assess investigation: no investigation")
	}
	cat := opts.Catalog
	if cat == nil {
		var err error
		if cat, err = BuiltinCatalog(); err != nil {
			return nil, err
		}
	}
	a := &Assessment{Key: inv.Key, catalog: cat, byID: map[string]int{}, Events: make([]EventAssessment, len(inv.Events))}
	events := make([]*trail.Event, len(inv.Events))
	for i := range inv.Events {
		events[i] = &inv.Events[i]
	}
	order := timeOrder(events)

	// Rules: single events, then sequences per key.
	matched := make([][]*Rule, len(events))
	byKey := map[string][]int{}
	for _, i := range order {
		matched[i] = cat.Match(events[i])
		k := events[i].UserIdentity.AccessKeyID
		byKey[k] = append(byKey[k], i)
	}
	for _, idx := range byKey {
		evs := make([]*trail.Event, len(idx))
		for j, i := range idx {
			evs[j] = events[i]
		}
		for j, rs := range cat.matchSequences(evs) {
			matched[idx[j]] = append(matched[idx[j]], rs...)
		}
	}
	for i := range matched {
		sortRules(matched[i])
	}

	owner := opts.Owner
	if owner == "" {
		owner = keyUser(events, inv.Key)
	}
	a.Leak = findQuarantine(cat, events, opts.Context, owner)
	if !opts.LeakedAt.IsZero() {
		a.Leak.Time = opts.LeakedAt.UTC()
		a.Leak.Reason = "given with --leaked-at"
	} else {
		a.inferLeak(events, order, matched)
	}
	a.Baseline = baseline(events, order, inv.Key, a.Leak.Time)

	// Verdicts, in time order so that a derived key's creating event is
	// judged before the key's own events.
	links := map[string]trail.KeyLink{}
	for _, l := range inv.Keys {
		links[l.AccessKeyID] = l
	}
	created := map[string]string{} // event ID -> derived key it created
	for _, l := range inv.Keys {
		if l.Parent != "" && l.EventID != "" {
			created[l.EventID] = l.AccessKeyID
		}
	}
	owners := map[string]Verdict{}
	for _, i := range order {
		e := events[i]
		ea := a.judge(e, matched[i], links, owners)
		if k, ok := created[e.EventID]; ok {
			owners[k] = ea.Verdict
		}
		a.Events[i] = ea
		a.byID[e.Key()] = i
		switch ea.Verdict {
		case Attacker:
			a.Counts.Attacker++
		case Legitimate:
			a.Counts.Legitimate++
		default:
			a.Counts.Unclear++
		}
	}
	for _, l := range inv.Keys {
		ka := KeyAssessment{AccessKeyID: l.AccessKeyID, Parent: l.Parent, Via: l.Via, EventID: l.EventID}
		if l.Parent != "" {
			ka.Owner = owners[l.AccessKeyID]
			if ka.Owner == "" {
				ka.Owner = Unclear
			}
		}
		a.Keys = append(a.Keys, ka)
	}
	a.Resources = a.extractResources(events)
	a.Actors = actorMatches(events, order, matched, a.Events)
	a.Secrets = secretsRead(events, order, a.Events, a.Leak.Time)
	return a, nil
}

// timeOrder returns the event indexes by time (unknown times last), stable.
func timeOrder(events []*trail.Event) []int {
	order := make([]int, len(events))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		a, b := events[order[x]].EventTime, events[order[y]].EventTime
		switch {
		case a.IsZero() || b.IsZero():
			return !a.IsZero() && b.IsZero()
		default:
			return a.Before(b)
		}
	})
	return order
}

// keyUser is the IAM user of the key, from its own events.
func keyUser(events []*trail.Event, key string) string {
	for _, e := range events {
		if e.UserIdentity.AccessKeyID == key && e.UserIdentity.Type == "IAMUser" && e.UserIdentity.UserName != "" {
			return e.UserIdentity.UserName
		}
	}
	return ""
}

// findQuarantine looks for AWS attaching its quarantine policy to the
// owner, in the key's events and the context.
func findQuarantine(cat *Catalog, events []*trail.Event, context []trail.Event, owner string) Leak {
	var l Leak
	check := func(e *trail.Event) {
		for _, r := range cat.Match(e) {
			if r.Signal != "quarantine" {
				continue
			}
			if owner != "" && e.RequestString("userName") != owner {
				continue
			}
			if !e.EventTime.IsZero() && (l.DetectedAt.IsZero() || e.EventTime.Before(l.DetectedAt)) {
				l.DetectedAt = e.EventTime
				l.QuarantinePolicy, l.QuarantinedUser = policyName(e.RequestString("policyArn")), e.RequestString("userName")
				l.DetectedBy = fmt.Sprintf("AWS (quarantine policy %s attached to %s)", l.QuarantinePolicy, l.QuarantinedUser)
			}
		}
	}
	for _, e := range events {
		check(e)
	}
	for i := range context {
		check(&context[i])
	}
	return l
}

func policyName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// inferLeak sets the leak time to the earliest of: AWS's quarantine, the
// first high-severity call of the leaked key from a source it had not used
// before, and the first new source shortly before those (or, without them,
// after a day of history).
func (a *Assessment) inferLeak(events []*trail.Event, order []int, matched [][]*Rule) {
	a.Leak.Inferred = true
	var own []int // the leaked key's events with a time, in order
	for _, i := range order {
		if events[i].UserIdentity.AccessKeyID == a.Key && !events[i].EventTime.IsZero() {
			own = append(own, i)
		}
	}
	novel := make(map[int]bool, len(own))
	ips, uas := map[string]bool{}, map[string]bool{}
	for _, i := range own {
		e := events[i]
		novel[i] = !ips[e.SourceIPAddress] && !uas[e.UserAgent]
		ips[e.SourceIPAddress], uas[e.UserAgent] = true, true
	}

	type clue struct {
		t    time.Time
		what string
		c    LeakClue
	}
	var clues []clue
	if !a.Leak.DetectedAt.IsZero() {
		clues = append(clues, clue{a.Leak.DetectedAt, "detected by " + a.Leak.DetectedBy + ", which means AWS found the key in public",
			LeakClue{Kind: ClueQuarantine, Time: a.Leak.DetectedAt, Policy: a.Leak.QuarantinePolicy, User: a.Leak.QuarantinedUser}})
	}
	for _, i := range own {
		if !novel[i] {
			continue
		}
		if r := topRule(matched[i]); r != nil && r.Severity.Rank() >= SeverityHigh.Rank() {
			e := events[i]
			clues = append(clues, clue{e.EventTime, fmt.Sprintf("first high-severity call from a new source: %s from %s (%s)", e.EventName, e.SourceIPAddress, r.ID),
				LeakClue{Kind: ClueHighSeverity, Time: e.EventTime, EventName: e.EventName, SourceIP: e.SourceIPAddress, Rule: r.ID}})
			break
		}
	}
	var anchor time.Time
	for _, c := range clues {
		if anchor.IsZero() || c.t.Before(anchor) {
			anchor = c.t
		}
	}
	// The window in which a new source counts as the leak: shortly before
	// the first sure sign, or anywhere after a day of history without one.
	var from, to time.Time
	switch {
	case !anchor.IsZero():
		from, to = anchor.Add(-noveltyLookback), anchor
	case len(own) > 0:
		from = events[own[0]].EventTime.Add(warmUp)
	}
	for _, i := range own {
		e := events[i]
		if !novel[i] || e.EventTime.Before(from) || (!to.IsZero() && e.EventTime.After(to)) {
			continue
		}
		what := fmt.Sprintf("first new source: %s with %s", e.SourceIPAddress, uaFamily(e.UserAgent))
		c := LeakClue{Kind: ClueNewSource, Time: e.EventTime, EventName: e.EventName, SourceIP: e.SourceIPAddress, UserAgent: uaFamily(e.UserAgent)}
		if i == own[0] {
			what = fmt.Sprintf("first call of the key, with no earlier history to compare with: %s from %s", e.EventName, e.SourceIPAddress)
			c.Kind = ClueFirstCall
		}
		clues = append(clues, clue{e.EventTime, what, c})
		break
	}
	if len(clues) == 0 {
		a.Leak.Reason = "no sign of a leak in the key's events: no quarantine by AWS, no high-severity call or new source after the first day; pass --leaked-at if you know when it leaked"
		return
	}
	sort.SliceStable(clues, func(i, j int) bool { return clues[i].t.Before(clues[j].t) })
	a.Leak.Time = clues[0].t
	var parts []string
	for _, c := range clues {
		parts = append(parts, fmt.Sprintf("%s at %s", c.what, c.t.Format(time.RFC3339)))
		a.Leak.Clues = append(a.Leak.Clues, c.c)
	}
	a.Leak.Reason = "inferred as the earliest of: " + strings.Join(parts, "; ")
}

// baseline collects the leaked key's sources before the leak.
func baseline(events []*trail.Event, order []int, key string, leak time.Time) Baseline {
	b := Baseline{ips: map[string]bool{}, uas: map[string]bool{}, families: map[string]bool{}, regions: map[string]bool{}, names: map[string]bool{}}
	if leak.IsZero() {
		return b.finish()
	}
	for _, i := range order {
		e := events[i]
		if e.UserIdentity.AccessKeyID != key || e.EventTime.IsZero() || !e.EventTime.Before(leak) {
			continue
		}
		b.Events++
		b.ips[e.SourceIPAddress] = true
		b.uas[e.UserAgent] = true
		b.families[uaFamily(e.UserAgent)] = true
		b.regions[e.Region] = true
		b.names[e.EventName] = true
	}
	return b.finish()
}

func (b Baseline) finish() Baseline {
	b.IPs, b.UserAgents, b.Regions, b.EventNames = keys(b.ips), keys(b.families), keys(b.regions), keys(b.names)
	return b
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// topRule is the most severe rule that weighs in verdicts.
func topRule(rs []*Rule) *Rule {
	for _, r := range rs {
		if r.Signal == "" {
			return r
		}
	}
	return nil
}

// judge gives one event its verdict.
func (a *Assessment) judge(e *trail.Event, rules []*Rule, links map[string]trail.KeyLink, owners map[string]Verdict) EventAssessment {
	ea := EventAssessment{EventID: e.EventID, AccessKeyID: e.UserIdentity.AccessKeyID, Severity: SeverityInfo, Flags: []string{}, Reasons: []string{}}
	for _, r := range rules {
		ea.Flags = append(ea.Flags, r.ID)
	}
	top := topRule(rules)
	if top != nil {
		ea.Severity, ea.Tactic, ea.Category, ea.Technique = top.Severity, top.Tactic, top.Category, top.Technique
	} else if len(rules) > 0 {
		ea.Tactic, ea.Category = rules[0].Tactic, rules[0].Category
	}
	reason := func(format string, args ...any) { ea.Reasons = append(ea.Reasons, fmt.Sprintf(format, args...)) }

	key := e.UserIdentity.AccessKeyID
	if l, ok := links[key]; ok && l.Parent != "" {
		if v, ok := owners[key]; ok {
			ea.Verdict = v
			reason("key %s was made by %s in a call judged %s; its calls are that caller's", key, l.Via, v)
			return ea
		}
	}
	leak := a.Leak.Time
	switch {
	case leak.IsZero():
		ea.Verdict = Legitimate
		reason("no sign of a leak")
		if top != nil && top.Severity.Rank() >= SeverityHigh.Rank() {
			ea.Verdict = Unclear
			reason("but %s matched", top.ID)
		}
		return ea
	case !e.EventTime.IsZero() && e.EventTime.Before(leak):
		ea.Verdict = Legitimate
		reason("before the leak (%s)", leak.Format(time.RFC3339))
		if top != nil && top.Category == "tooling" {
			ea.Verdict = Unclear
			reason("but made with a known attacker tool (%s)", top.ID)
		}
		return ea
	}

	b := &a.Baseline
	score := 0
	switch {
	case b.ips[e.SourceIPAddress]:
		score += weightKnownIP
		reason("source %s was used before the leak", e.SourceIPAddress)
	case awsService(e):
		reason("made by an AWS service on the caller's behalf (%s)", e.SourceIPAddress)
	default:
		score += weightNewIP
		reason("new source %s", e.SourceIPAddress)
	}
	fam := uaFamily(e.UserAgent)
	switch {
	case b.uas[e.UserAgent]:
		score += weightKnownUA
		reason("same client as before the leak")
	case b.families[fam]:
		reason("client family %s seen before the leak, another version", fam)
	default:
		score += weightNewUAFamily
		reason("new client %s", fam)
	}
	if len(b.regions) > 0 && !b.regions[e.Region] {
		score += weightNewRegion
		reason("region %s not used before the leak", e.Region)
	}
	if len(b.names) > 0 && !b.names[e.EventName] {
		score += weightNewEventName
		reason("%s not called before the leak", e.EventName)
	}
	if top != nil {
		if w := severityWeight(top.Severity); w > 0 {
			score += w
			reason("%s (%s)", top.ID, top.Severity)
		}
	}
	ea.Score = score
	switch {
	case score >= AttackerScore:
		ea.Verdict = Attacker
	case score <= LegitimateScore:
		ea.Verdict = Legitimate
	default:
		ea.Verdict = Unclear
	}
	return ea
}

// awsService tells whether an AWS service made the call for the caller
// (sourceIPAddress is then a service name, not an address).
func awsService(e *trail.Event) bool {
	ip := e.SourceIPAddress
	return e.UserIdentity.InvokedBy != "" || strings.HasSuffix(ip, ".amazonaws.com") || ip == "AWS Internal"
}

// uaFamily reduces a user agent to its client and major version
// ("aws-cli/2", "Boto3/1", "aws-sdk-go-v2/1", "console.amazonaws.com"), so
// that an upgrade of the workload's SDK is not a new client.
func uaFamily(ua string) string {
	ua = strings.TrimSpace(strings.Trim(ua, "[]"))
	if ua == "" {
		return "(none)"
	}
	first, _, _ := strings.Cut(ua, " ")
	name, ver, ok := strings.Cut(first, "/")
	if !ok {
		return first
	}
	major, _, _ := strings.Cut(ver, ".")
	return name + "/" + major
}
