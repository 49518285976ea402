package report

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
	"time"
)

// KeyChain returns the derivation chain from the leaked key to id, following
// ParentKeyID links in keys: [AKIA…, ASIA…, …, id]. An id that keys do not
// know is its own chain.
func KeyChain(keys []DerivedKey, id string) []string {
	parent := make(map[string]string, len(keys))
	for _, k := range keys {
		parent[k.AccessKeyID] = k.ParentKeyID
	}
	return chainFrom(parent, id)
}

func chainFrom(parent map[string]string, id string) []string {
	if id == "" {
		return nil
	}
	chain := []string{id}
	seen := map[string]bool{id: true}
	for cur := id; ; {
		p := parent[cur]
		// A cycle can only come from a corrupt journal; stop rather than loop.
		if p == "" || seen[p] {
			break
		}
		seen[p] = true
		chain = append(chain, p)
		cur = p
	}
	slices.Reverse(chain)
	return chain
}

// ChainString renders a key chain as "AKIA… → ASIA…", IDs whole.
func ChainString(chain []string) string { return strings.Join(chain, " → ") }

// chainIndex renders the chain of every key in keys once, so writers do not
// walk the chain per event.
type chainIndex struct {
	parent   map[string]string
	rendered map[string]string
}

func newChainIndex(keys []DerivedKey) *chainIndex {
	ci := &chainIndex{parent: map[string]string{}, rendered: map[string]string{}}
	for _, k := range keys {
		ci.parent[k.AccessKeyID] = k.ParentKeyID
	}
	return ci
}

// of returns the rendered chain for an event: its own KeyChain when set,
// else the chain derived from the keys.
func (ci *chainIndex) of(ev *Event) string {
	if len(ev.KeyChain) > 0 {
		return ChainString(ev.KeyChain)
	}
	if s, ok := ci.rendered[ev.AccessKeyID]; ok {
		return s
	}
	if _, known := ci.parent[ev.AccessKeyID]; !known {
		return ev.AccessKeyID
	}
	s := ChainString(chainFrom(ci.parent, ev.AccessKeyID))
	ci.rendered[ev.AccessKeyID] = s
	return s
}

// ConsoleURL is the CloudTrail console page of one event.
func ConsoleURL(region, eventID string) string {
	if region == "" {
		region = "us-east-1"
	}
	r := url.PathEscape(region)
	return "https://" + r + ".console.aws.amazon.com/cloudtrailv2/home?region=" + url.QueryEscape(region) +
		"#/events/" + url.PathEscape(eventID)
}

// apiName renders eventSource and eventName as service:Name, e.g.
// iam.amazonaws.com + CreateUser -> iam:CreateUser.
func apiName(source, name string) string {
	svc := strings.TrimSuffix(source, ".amazonaws.com")
	if svc == "" {
		return name
	}
	return svc + ":" + name
}

// Leak is when the key leaked as the reports state it.
type Leak struct {
	At time.Time
	// Inferred is set when At is an estimate.
	Inferred bool
	// Reason is the caller's explanation of an inferred time.
	Reason string
	// FromFirstAttacker is set when no time was given and At is the first
	// attacker call: the key leaked no later than that.
	FromFirstAttacker bool
}

// LeakOf returns the leak time given in the case, or, when none was given,
// the first attacker call.
func LeakOf(c Case, s *Stats) Leak {
	if !c.LeakedAt.IsZero() {
		return Leak{At: c.LeakedAt, Inferred: c.LeakedAtInferred, Reason: c.LeakedAtReason}
	}
	if s != nil && s.FirstAttacker != nil {
		return Leak{At: s.FirstAttacker.Time, Inferred: true, FromFirstAttacker: true}
	}
	return Leak{}
}

// MilestoneKind names a point in the incident's timeline.
type MilestoneKind string

// The milestones a timeline can hold, in the order they are listed when two
// share a time.
const (
	MilestoneLeaked        MilestoneKind = "leaked"
	MilestoneDetected      MilestoneKind = "detected"
	MilestoneFirstAttacker MilestoneKind = "first-attacker-call"
	MilestoneContained     MilestoneKind = "contained"
	MilestoneRevoked       MilestoneKind = "revoked"
	MilestoneLastAttacker  MilestoneKind = "last-attacker-call"
	MilestoneCleanupStart  MilestoneKind = "cleanup-started"
	MilestoneCleanupEnd    MilestoneKind = "cleanup-finished"
	MilestoneKeyDeleted    MilestoneKind = "key-deleted"
)

var milestoneOrder = []MilestoneKind{
	MilestoneLeaked, MilestoneDetected, MilestoneFirstAttacker, MilestoneContained,
	MilestoneRevoked, MilestoneLastAttacker, MilestoneCleanupStart, MilestoneCleanupEnd, MilestoneKeyDeleted,
}

// Milestone is one point of the incident's timeline.
type Milestone struct {
	Kind MilestoneKind `json:"kind"`
	Time time.Time     `json:"time"`
	// Inferred marks an estimated time (the leak).
	Inferred bool `json:"inferred,omitempty"`
	// Count is the number of resources removed, for clean-up milestones.
	Count int `json:"count,omitempty"`
}

// Milestones lists what is known of leak, detection, first and last
// attacker call, containment, revocation and clean-up, oldest first.
// Clean-up spans the removal times of resources and the successful actions
// of the eradicate step.
func Milestones(m *Model, s *Stats) []Milestone {
	var out []Milestone
	add := func(k MilestoneKind, t time.Time) {
		if !t.IsZero() {
			out = append(out, Milestone{Kind: k, Time: t})
		}
	}
	leak := LeakOf(m.Case, s)
	if !leak.At.IsZero() {
		out = append(out, Milestone{Kind: MilestoneLeaked, Time: leak.At, Inferred: leak.Inferred})
	}
	add(MilestoneDetected, m.Case.DetectedAt)
	if s != nil && s.FirstAttacker != nil {
		add(MilestoneFirstAttacker, s.FirstAttacker.Time)
		if s.LastAttacker.After(s.FirstAttacker.Time) {
			add(MilestoneLastAttacker, s.LastAttacker)
		}
	}
	add(MilestoneContained, m.Case.ContainedAt)
	add(MilestoneRevoked, m.Case.RevokedAt)
	add(MilestoneKeyDeleted, m.Case.DeletedAt)
	var first, last time.Time
	removed := 0
	note := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	for _, r := range m.Resources {
		if r.State == StateRemoved {
			removed++
			note(r.RemovedAt)
		}
	}
	for _, a := range m.Actions {
		if a.Step == "eradicate" && a.Result == ResultOK {
			note(a.Time)
		}
	}
	if !first.IsZero() {
		out = append(out, Milestone{Kind: MilestoneCleanupStart, Time: first, Count: removed})
		if last.After(first) {
			out = append(out, Milestone{Kind: MilestoneCleanupEnd, Time: last, Count: removed})
		}
	}
	slices.SortStableFunc(out, func(a, b Milestone) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(slices.Index(milestoneOrder, a.Kind), slices.Index(milestoneOrder, b.Kind))
	})
	return out
}

// TodoKind names an item of remaining work.
type TodoKind string

// The kinds of remaining work, in the order RemainingWork lists them.
const (
	TodoContain        TodoKind = "contain"
	TodoRevoke         TodoKind = "revoke-sessions"
	TodoRevokeRole     TodoKind = "revoke-role-sessions"
	TodoStopCredential TodoKind = "stop-credential"
	TodoRemove         TodoKind = "remove-resource"
	TodoCheckResource  TodoKind = "check-resource"
	TodoRetry          TodoKind = "retry-action"
	TodoRerun          TodoKind = "rerun-region"
	TodoExtend         TodoKind = "extend-investigation"
	TodoDataEvents     TodoKind = "review-data-events"
	TodoReviewUnclear  TodoKind = "review-unclear"
	TodoJudge          TodoKind = "judge-events"
	TodoReviewFindings TodoKind = "review-findings"
	TodoAudit          TodoKind = "audit-other-keys"
	TodoRotateWorkload TodoKind = "rotate-workload"
	TodoDeleteKey      TodoKind = "delete-key"
	TodoAnswerSupport  TodoKind = "answer-support-case"
)

// Todo is one item of work that remains after the report.
type Todo struct {
	Kind TodoKind `json:"kind"`
	// Subject is what the item is about: a key ID, a resource, an action.
	Subject string `json:"subject,omitempty"`
	Region  string `json:"region,omitempty"`
	// Detail is the removal action, an error or a target.
	Detail string `json:"detail,omitempty"`
	Count  int    `json:"count,omitempty"`
	// Since is a time the item refers to: the end of the investigated
	// period to extend.
	Since time.Time `json:"since,omitzero"`
}

// RemainingWork lists what is still to be done, grounded in the case as
// last read: the key still active, credentials the attacker holds that
// still work (sessions of the owner, role sessions, other credentials),
// the attacker's resources still present or not checked, journal actions
// whose last attempt failed, regions that failed, an investigated period
// that ends before the response did, data events LookupEvents cannot show,
// events nobody judged, open GuardDuty findings, the account's other keys
// when nobody audited them, the legitimate workload's new credential, the
// final deletion of the key and the reply to AWS support.
func RemainingWork(m *Model, s *Stats) []Todo {
	c := m.Case
	var out []Todo
	status := strings.ToLower(c.KeyStatus)
	if status == "active" || (status != "inactive" && status != "deleted" && c.ContainedAt.IsZero()) {
		out = append(out, Todo{Kind: TodoContain, Subject: c.KeyID})
	}
	creds := CredentialsOf(m)
	needRevoke := c.RevokedAt.IsZero() && c.RevokedBefore.IsZero()
	temp := 0
	var later []Todo
	roles := map[string]bool{}
	for _, cr := range creds {
		if cr.Kind == CredSessionToken || cr.Kind == CredFederationToken {
			temp++
		}
		if !cr.Live() || cr.ID == c.KeyID {
			continue
		}
		switch cr.Kind {
		case CredSessionToken, CredFederationToken:
			// Issued after the revocation, or never revoked: the deny
			// policy's time must move forward.
			needRevoke = true
		case CredRoleSession:
			name := RoleName(cr.Role)
			if !roles[name] {
				roles[name] = true
				later = append(later, Todo{Kind: TodoRevokeRole, Subject: name, Detail: cr.ID})
			}
		case CredAccessKey:
			if !hasResource(m, cr.ID) { // else the resource list asks for its removal
				later = append(later, Todo{Kind: TodoStopCredential, Subject: cr.ID, Detail: cr.Kind})
			}
		default:
			later = append(later, Todo{Kind: TodoStopCredential, Subject: cr.ID, Detail: cr.Kind})
		}
	}
	if needRevoke && !c.RootKey {
		out = append(out, Todo{Kind: TodoRevoke, Subject: c.KeyID, Count: temp})
	}
	out = append(out, later...)
	for _, r := range m.Resources {
		if r.Verdict == VerdictLegitimate {
			continue
		}
		switch r.State {
		case StatePresent:
			out = append(out, Todo{Kind: TodoRemove, Subject: resourceName(r), Region: r.Region, Detail: r.Removal})
		case StateUnknown, "":
			out = append(out, Todo{Kind: TodoCheckResource, Subject: resourceName(r), Region: r.Region})
		}
	}
	type actKey struct{ action, target string }
	last := map[actKey]Action{}
	var order []actKey
	for _, a := range m.Actions {
		if a.Result == ResultDryRun {
			continue
		}
		k := actKey{a.Action, a.Target}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = a
	}
	for _, k := range order {
		if a := last[k]; a.Result == ResultFailed {
			out = append(out, Todo{Kind: TodoRetry, Subject: a.Action, Detail: joinNonEmpty(": ", a.Target, a.Error)})
		}
	}
	logs := false
	for _, cv := range m.Coverage {
		if cv.Source != SourceLookupEvents && cv.Source != "" {
			logs = true
		}
		if cv.Status == CoverageFailed || cv.Status == CoveragePartial {
			out = append(out, Todo{Kind: TodoRerun, Subject: cv.Source, Region: cv.Region, Detail: cv.Error})
		}
	}
	if len(AfterPeriod(m, s)) > 0 || PeriodOpen(m) {
		out = append(out, Todo{Kind: TodoExtend, Since: c.Until})
	}
	if !logs {
		out = append(out, Todo{Kind: TodoDataEvents})
	}
	if s != nil && s.Verdicts[VerdictUnjudged] > 0 {
		out = append(out, Todo{Kind: TodoJudge, Count: s.Verdicts[VerdictUnjudged]})
	}
	if s != nil && s.Verdicts[VerdictUnclear] > 0 {
		out = append(out, Todo{Kind: TodoReviewUnclear, Count: s.Verdicts[VerdictUnclear]})
	}
	open := 0
	for _, f := range m.Findings {
		if !f.Archived {
			open++
		}
	}
	if open > 0 {
		out = append(out, Todo{Kind: TodoReviewFindings, Count: open})
	}
	if m.HygieneAt.IsZero() {
		out = append(out, Todo{Kind: TodoAudit})
	}
	if s != nil && s.Verdicts[VerdictLegitimate] > 0 {
		out = append(out, Todo{Kind: TodoRotateWorkload, Subject: c.KeyID, Count: s.Verdicts[VerdictLegitimate]})
	}
	if !strings.EqualFold(c.KeyStatus, "Deleted") {
		out = append(out, Todo{Kind: TodoDeleteKey, Subject: c.KeyID})
	}
	out = append(out, Todo{Kind: TodoAnswerSupport})
	return out
}

// hasResource reports whether m lists a resource with the given ID.
func hasResource(m *Model, id string) bool {
	for _, r := range m.Resources {
		if r.ID == id {
			return true
		}
	}
	return false
}

func resourceName(r Resource) string {
	return strings.TrimSpace(r.Type + " " + r.ID)
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

// RecKind names a recommendation.
type RecKind string

// The recommendations, in the order Recommendations lists them.
const (
	RecRootKey         RecKind = "remove-root-keys"
	RecRoles           RecKind = "use-roles"
	RecBastionMFA      RecKind = "bastion-mfa"
	RecVault           RecKind = "aws-vault"
	RecGitSecrets      RecKind = "git-secrets"
	RecRotate          RecKind = "rotate-90-days"
	RecGuardDuty       RecKind = "enable-guardduty"
	RecTrail           RecKind = "keep-trail"
	RecRestrictRegions RecKind = "restrict-regions"
	RecBudget          RecKind = "budget-alerts"
)

// Recommendation is one piece of advice, with the facts of the case that
// ground it.
type Recommendation struct {
	Kind RecKind `json:"kind"`
	// Subjects are the names the advice is about: the owner, the regions,
	// the API calls.
	Subjects []string `json:"subjects,omitempty"`
	// Count is a number the advice cites, e.g. the key's age in days.
	Count int `json:"count,omitempty"`
}

// RotationDays is the rotation period recommended for long-term keys.
const RotationDays = 90

// computeAPIs are calls that start billable compute; an attacker making
// them usually mines cryptocurrency, which a budget alert catches early.
var computeAPIs = map[string]bool{
	"RunInstances": true, "RequestSpotInstances": true, "RequestSpotFleet": true,
	"CreateFleet": true, "CreateFunction20150331": true, "CreateFunction": true,
	"CreateCluster": true, "RunTask": true, "CreateNotebookInstance": true,
	"CreateTrainingJob": true, "RunJobFlow": true, "CreateComputeEnvironment": true,
}

// Recommendations returns advice grounded in the case: roles and STS rather
// than long-term keys (or removing root keys), the bastion account with
// MFA-gated roles (seed 003) when the key needed no MFA to reach roles or its
// owner had none, aws-vault for keys that must
// stay, git-secrets, rotation every 90 days (citing the key's age),
// GuardDuty where it was off, a trail kept in S3 when only LookupEvents
// could be searched, restricting regions only the attacker used, and
// budget alerts when the attacker started compute.
func Recommendations(m *Model, s *Stats) []Recommendation {
	c := m.Case
	var out []Recommendation
	if c.RootKey {
		out = append(out, Recommendation{Kind: RecRootKey})
	} else {
		out = append(out, Recommendation{Kind: RecRoles, Subjects: nonEmpty(c.OwnerUser)})
	}
	if c.OwnerWithoutMFA || len(c.AssumeWithoutMFA) > 0 {
		out = append(out, Recommendation{Kind: RecBastionMFA, Subjects: slices.Clone(c.AssumeWithoutMFA)})
	}
	out = append(out, Recommendation{Kind: RecVault})
	out = append(out, Recommendation{Kind: RecGitSecrets, Subjects: nonEmpty(c.LeakChannel)})
	age := 0
	if !c.KeyCreatedAt.IsZero() {
		ref := LeakOf(c, s).At
		if ref.IsZero() {
			ref = c.GeneratedAt
		}
		if ref.After(c.KeyCreatedAt) {
			age = int(ref.Sub(c.KeyCreatedAt) / (24 * time.Hour))
		}
	}
	out = append(out, Recommendation{Kind: RecRotate, Count: age})
	if m.GuardDuty.Checked && len(m.GuardDuty.DisabledRegions) > 0 {
		regions := slices.Clone(m.GuardDuty.DisabledRegions)
		slices.Sort(regions)
		out = append(out, Recommendation{Kind: RecGuardDuty, Subjects: regions})
	}
	logs := false
	for _, cv := range m.Coverage {
		if cv.Source != SourceLookupEvents && cv.Source != "" {
			logs = true
		}
	}
	if !logs {
		out = append(out, Recommendation{Kind: RecTrail})
	}
	if s != nil {
		var only []string
		for _, r := range s.Regions {
			// us-east-1 serves IAM and the other global services, so it
			// cannot be denied; it is never proposed.
			if r.Attacker > 0 && r.Legitimate == 0 && r.Region != "" && r.Region != "us-east-1" && r.Region != "global" {
				only = append(only, r.Region)
			}
		}
		if len(only) > 0 {
			out = append(out, Recommendation{Kind: RecRestrictRegions, Subjects: only})
		}
		var compute []string
		for _, a := range s.Activity {
			if computeAPIs[a.Name] && !slices.Contains(compute, a.API()) {
				compute = append(compute, a.API())
			}
		}
		if len(compute) > 0 {
			out = append(out, Recommendation{Kind: RecBudget, Subjects: compute})
		}
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
