// Package report turns a keyleak case into the documents a responder hands
// on: an Excel workbook (timeline, attacker activity, resources, journal,
// derived keys, coverage), a Markdown report for the AWS support case in
// English or Japanese, and a JSON dump of the whole model.
//
// The package is pure: it knows nothing of case directories, AWS or the
// playbook. The caller fills a Model; the builders in this package derive
// counts, the histogram, the remaining work and the recommendations from it;
// the writers render it. Events are supplied as an iterator so that a case
// with a million events never needs them all in memory at once.
package report

import (
	"encoding/json"
	"iter"
	"strings"
	"time"
)

// SchemaVersion is the version of the JSON document WriteJSON produces. It
// changes only when a field changes meaning or disappears.
const SchemaVersion = 1

// Verdict says whose call an event was.
type Verdict string

// The verdicts an event can carry. Anything else (including "") is reported
// as VerdictUnclear.
const (
	VerdictAttacker   Verdict = "attacker"
	VerdictLegitimate Verdict = "legitimate"
	VerdictUnclear    Verdict = "unclear"
	// VerdictUnjudged marks an event the assessment never saw (fetched by a
	// run that stopped before judging it, and not judged since): it is
	// neither the attacker's nor legitimate until judged.
	VerdictUnjudged Verdict = "unjudged"
)

// Verdicts lists the verdicts in the order the reports show them.
var Verdicts = []Verdict{VerdictAttacker, VerdictLegitimate, VerdictUnclear}

// Normalize maps an unknown or empty verdict to VerdictUnclear, so that an
// event the assessor did not judge is never counted as legitimate.
// VerdictUnjudged stays itself: the reports say how many events were not
// judged at all. (The timeline chart counts them with the unclear ones.)
func (v Verdict) Normalize() Verdict {
	switch v {
	case VerdictAttacker, VerdictLegitimate, VerdictUnjudged:
		return v
	}
	return VerdictUnclear
}

// Severity is how much an event matters to the responder.
type Severity string

// The severities an event can carry, highest first. Anything else is
// reported as SeverityInfo.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists the severities highest first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Normalize maps an unknown or empty severity to SeverityInfo.
func (s Severity) Normalize() Severity {
	switch s {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		return s
	}
	return SeverityInfo
}

// Rank orders severities: critical is 4, info is 0.
func (s Severity) Rank() int {
	switch s.Normalize() {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Model is everything a report says about one case. The caller fills it
// (typically from a case directory); the writers never modify it.
type Model struct {
	// Case is who, what and when.
	Case Case
	// Events yields every CloudTrail event of the leaked key and of the keys
	// derived from it, oldest first. It must be re-iterable: a writer ranges
	// over it once to compute Stats when Stats is nil, and once more to
	// write. A nil Events means no events.
	Events iter.Seq[Event]
	// Stats summarises Events. Leave it nil to let each writer compute it
	// with one pass over Events; set it (ComputeStats) to save that pass
	// when several writers run on the same model.
	Stats *Stats
	// Keys is the derivation chain: the leaked key and every credential
	// minted from it, directly or transitively.
	Keys []DerivedKey
	// Credentials are the credentials the attacker held or made — the
	// leaked key first — each with its state in AWS when it was last read.
	// When empty, the writers show Keys with their Status instead.
	Credentials []Credential
	// Actions is the case journal: every action keyleak took, in order.
	Actions []Action
	// Resources are the objects created with the leaked or derived keys.
	Resources []Resource
	// ResourcesReadAt is when the resources' states were read from AWS;
	// zero when they never were (an offline analysis).
	ResourcesReadAt time.Time
	// Coverage says, per region and per source, what was searched and how
	// that went.
	Coverage []Coverage
	// GuardDuty says in which regions GuardDuty was on.
	GuardDuty GuardDuty
	// Findings are the GuardDuty findings that concern the key.
	Findings []Finding
	// Actors are the indicators public threat research attributes to named
	// actors or tool families that matched the key's events.
	Actors []ActorMatch
	// Hygiene is what an audit of the account's other long-term keys found
	// (keyleak audit), so the next incident is not one of them; empty when
	// no audit was run for the case.
	Hygiene []HygieneItem
	// HygieneAt is when that audit's credential report was generated.
	HygieneAt time.Time
	// Chart is the Summary chart's data; nil lets each writer compute it
	// with one pass over Events (IncidentChart).
	Chart *Chart
	// Bill is what the leak costs; nil when it was not computed.
	Bill *Bill
	// Secrets are what the keys read that must be rotated.
	Secrets []SecretRead
}

// HygieneItem is one finding of the account's key audit: which check, how
// serious, and whom it concerns (users, or user/key ID).
type HygieneItem struct {
	// Check is the audit check: root-access-key, administrator-key,
	// console-user-without-mfa, two-active-keys, old-key, unused-key,
	// policies-unread; other values are shown with Title.
	Check    string   `json:"check"`
	Severity string   `json:"severity"`
	Title    string   `json:"title,omitempty"`
	Subjects []string `json:"subjects,omitempty"`
}

// Case is the case's metadata. Zero times mean "not known" or "not done".
type Case struct {
	// ID is the case directory name, e.g. keyleak-case-AKIA…-20240501T101500Z.
	ID string `json:"id,omitempty"`
	// KeyID is the leaked access key ID, shown whole.
	KeyID string `json:"keyId"`
	// AccountID is the AWS account the key belongs to.
	AccountID string `json:"accountId,omitempty"`
	// OwnerUser is the IAM user name that owns the key ("root" for a root key).
	OwnerUser string `json:"ownerUser,omitempty"`
	// OwnerARN is the owner's ARN.
	OwnerARN string `json:"ownerArn,omitempty"`
	// RootKey is set when the leaked key belongs to the root user, whose
	// sessions cannot be revoked by a policy.
	RootKey bool `json:"rootKey,omitempty"`
	// OwnerWithoutMFA is set when the owner had no MFA device, and
	// AssumeWithoutMFA lists the roles its policies let the key assume
	// without MFA: what seed 003's bastion-and-MFA setup closes.
	OwnerWithoutMFA  bool     `json:"ownerWithoutMfa,omitempty"`
	AssumeWithoutMFA []string `json:"assumeWithoutMfa,omitempty"`
	// KeyCreatedAt is when the leaked key was created; it grounds the
	// rotation recommendation.
	KeyCreatedAt time.Time `json:"keyCreatedAt,omitzero"`
	// KeyStatus is the key's status as IAM listed it at KeyStatusAt:
	// Active, Inactive, Deleted or unknown.
	KeyStatus   string    `json:"keyStatus,omitempty"`
	KeyStatusAt time.Time `json:"keyStatusAt,omitzero"`
	// FoundActiveAgain is when a run found the key Active again after the
	// case had deactivated it.
	FoundActiveAgain time.Time `json:"foundActiveAgain,omitzero"`
	// LeakChannel says where the key leaked, e.g. "public GitHub repository".
	LeakChannel string `json:"leakChannel,omitempty"`
	// ExposedURL is where the key was found in public, as the event that
	// started the response said (AWS Health, GitHub secret scanning).
	ExposedURL string `json:"exposedUrl,omitempty"`
	// LeakedAt is when the key leaked. When LeakedAtInferred is set it is an
	// estimate and LeakedAtReason says what it was inferred from. When it is
	// zero, the reports infer it from the first attacker call.
	LeakedAt         time.Time `json:"leakedAt,omitzero"`
	LeakedAtInferred bool      `json:"leakedAtInferred,omitempty"`
	LeakedAtReason   string    `json:"leakedAtReason,omitempty"`
	// LeakClues are the signs an inferred leak time rests on, oldest first;
	// the writers render them in the report's language, LeakedAtReason
	// only when there are none.
	LeakClues []LeakClue `json:"leakClues,omitempty"`
	// DetectedAt is when the leak was detected, e.g. when AWS attached its
	// quarantine policy; DetectedBy says by whom or what. When
	// QuarantinePolicy is set, AWS attached that policy to QuarantinedUser
	// and the writers say so in the report's language.
	DetectedAt       time.Time `json:"detectedAt,omitzero"`
	DetectedBy       string    `json:"detectedBy,omitempty"`
	QuarantinePolicy string    `json:"quarantinePolicy,omitempty"`
	QuarantinedUser  string    `json:"quarantinedUser,omitempty"`
	// ContainedAt is when the key was deactivated.
	ContainedAt time.Time `json:"containedAt,omitzero"`
	// RevokedAt is when sessions issued from the key were revoked (deny
	// policy on aws:TokenIssueTime).
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	// RevokedBefore is the time before which the owner's sessions are
	// denied, as the policy in IAM said at KeyStatusAt (zero: no policy or
	// not read).
	RevokedBefore time.Time `json:"sessionsRevokedBefore,omitzero"`
	// DeletedAt is when keyleak deleted the key.
	DeletedAt time.Time `json:"deletedAt,omitzero"`
	// Since and Until bound the investigated period.
	Since time.Time `json:"since,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// GeneratedAt is when the report was produced; the writers print it as
	// given, so goldens stay stable.
	GeneratedAt time.Time `json:"generatedAt,omitzero"`
	// ToolVersion is keyleak's version.
	ToolVersion string `json:"toolVersion,omitempty"`
	// ResponderARN is the identity that ran keyleak.
	ResponderARN string `json:"responderArn,omitempty"`
}

// Event is one CloudTrail event, already assessed.
type Event struct {
	EventID string    `json:"eventID"`
	Time    time.Time `json:"eventTime"`
	Region  string    `json:"awsRegion"`
	Source  string    `json:"eventSource"`
	Name    string    `json:"eventName"`
	// AccessKeyID is the key that signed the call.
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// KeyChain leads from the leaked key to AccessKeyID, e.g.
	// [AKIA…, ASIA…]. When empty the writers derive it from Model.Keys.
	KeyChain     []string `json:"keyChain,omitempty"`
	UserName     string   `json:"userName,omitempty"`
	UserARN      string   `json:"userArn,omitempty"`
	SourceIP     string   `json:"sourceIPAddress,omitempty"`
	UserAgent    string   `json:"userAgent,omitempty"`
	ErrorCode    string   `json:"errorCode,omitempty"`
	ErrorMessage string   `json:"errorMessage,omitempty"`
	ReadOnly     bool     `json:"readOnly"`
	Verdict      Verdict  `json:"verdict"`
	Severity     Severity `json:"severity"`
	// RuleID names the detection rule that set the verdict or severity.
	RuleID string `json:"ruleId,omitempty"`
	// Technique is the MITRE ATT&CK technique, e.g. T1136.003.
	Technique string `json:"technique,omitempty"`
	// Tactic is the ATT&CK tactic in lower-case hyphenated form, e.g.
	// persistence, discovery, impact; the report groups by it.
	Tactic string `json:"tactic,omitempty"`
	// Category is keyleak's category within the tactic: the tactic again,
	// or a label such as resource-hijacking or llm-jacking. Cases written
	// before tactics had their own field hold the tactic here.
	Category string `json:"category,omitempty"`
	// Reason says in a few words why the verdict was given.
	Reason string `json:"reason,omitempty"`
	// Resources are the objects the call touched.
	Resources []ResourceRef `json:"resources,omitempty"`
	// Raw is the original CloudTrail record. Only WriteJSON writes it, with
	// session tokens and secrets masked.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// ResourceRef names a resource touched by an event, as CloudTrail's
// LookupEvents Resources do.
type ResourceRef struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// String renders the reference as "Type Name".
func (r ResourceRef) String() string {
	if r.Type == "" {
		return r.Name
	}
	return r.Type + " " + r.Name
}

// DerivedKey is one credential in the derivation chain.
type DerivedKey struct {
	AccessKeyID string `json:"accessKeyId"`
	// ParentKeyID is the key that minted this one; empty for the leaked key.
	ParentKeyID string `json:"parentKeyId,omitempty"`
	// Via is the call that minted it: GetSessionToken, AssumeRole,
	// GetFederationToken, CreateAccessKey.
	Via string `json:"via,omitempty"`
	// EventID is the CloudTrail event of that call.
	EventID   string    `json:"eventID,omitempty"`
	IssuedAt  time.Time `json:"issuedAt,omitzero"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// Principal is who the key acts as (user or assumed-role ARN).
	Principal string `json:"principal,omitempty"`
	Region    string `json:"region,omitempty"`
	// Status is what keyleak last saw: active, inactive, expired, revoked,
	// deleted, unknown.
	Status string `json:"status,omitempty"`
}

// Temporary reports whether the key is a session credential (ASIA…).
func (k DerivedKey) Temporary() bool { return strings.HasPrefix(k.AccessKeyID, "ASIA") }

// Action is one journal entry: something keyleak did or tried.
type Action struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	// Step is the playbook step, e.g. contain, revoke, eradicate.
	Step string `json:"step,omitempty"`
	// Action is the AWS call or local action, e.g. iam:UpdateAccessKey.
	Action string `json:"action"`
	// Target is what it acted on.
	Target string `json:"target,omitempty"`
	// Actor is who ran it (responder ARN).
	Actor string `json:"actor,omitempty"`
	// Result is ok, failed, dry-run, skipped or undone.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Count is how many planned calls a dry-run row stands for, or the
	// number of events an investigation note counts.
	Count int `json:"count,omitempty"`
	// New is the number of events an investigation added to the case.
	New int `json:"new,omitempty"`
}

// Action results.
const (
	ResultOK      = "ok"
	ResultFailed  = "failed"
	ResultDryRun  = "dry-run"
	ResultSkipped = "skipped"
	ResultUndone  = "undone"
)

// Resource states.
const (
	// StatePresent means the resource still exists.
	StatePresent = "present"
	// StateRemoved means keyleak removed it.
	StateRemoved = "removed"
	// StateGone means it no longer exists but keyleak did not remove it.
	StateGone = "gone"
	// StateUnknown means its existence could not be checked.
	StateUnknown = "unknown"
)

// Resource is an object created with the leaked key or a derived key.
type Resource struct {
	// Type is the CloudFormation-style type, e.g. AWS::IAM::User.
	Type string `json:"type"`
	ID   string `json:"id"`
	// Region is empty or "global" for IAM.
	Region    string    `json:"region,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// CreatedBy is the access key that created it.
	CreatedBy      string `json:"createdBy,omitempty"`
	CreatedByEvent string `json:"createdByEvent,omitempty"`
	// Verdict is that of the call that created it: the workload's
	// resources are listed apart from the attacker's.
	Verdict Verdict `json:"verdict,omitempty"`
	// State is one of StatePresent, StateRemoved, StateGone, StateUnknown.
	State string `json:"state"`
	// Removal is the action that removes it (done or to do), e.g.
	// iam:DeleteUser.
	Removal   string    `json:"removal,omitempty"`
	RemovedAt time.Time `json:"removedAt,omitzero"`
	// Status is the resource's own status in AWS's words when it was read:
	// running, stopped, Active, Inactive, terminated.
	Status string `json:"status,omitempty"`
	// GoneWith names the resource whose removal took this one with it, as
	// "Type ID" (an access key goes with its user).
	GoneWith string `json:"goneWith,omitempty"`
	// Note is why its state could not be read, in AWS's words.
	Note string `json:"note,omitempty"`
}

// Coverage statuses.
const (
	CoverageOK         = "ok"
	CoveragePartial    = "partial"
	CoverageFailed     = "failed"
	CoverageNotEnabled = "not-enabled"
	CoverageSkipped    = "skipped"
)

// Coverage sources.
const (
	// SourceLookupEvents is CloudTrail's LookupEvents API (management
	// events of the last 90 days only).
	SourceLookupEvents = "LookupEvents"
	// SourceLogFiles is a trail's log files (a directory or S3).
	SourceLogFiles = "log files"
)

// Coverage is what was searched in one region from one source.
type Coverage struct {
	Region string `json:"region"`
	// Source is SourceLookupEvents, or a log location (s3://…, a directory
	// or file).
	Source string `json:"source"`
	// Status is one of the Coverage* constants.
	Status    string    `json:"status"`
	Events    int       `json:"events"`
	Pages     int       `json:"pages,omitempty"`
	Throttles int       `json:"throttles,omitempty"`
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	Error     string    `json:"error,omitempty"`
	Note      string    `json:"note,omitempty"`
	// Keys are the access keys the region was searched for; a region
	// searched without every key of the investigation is partial.
	Keys []string `json:"keys,omitempty"`
	// Files and BadFiles count the log files read and those that could
	// not be.
	Files    int `json:"files,omitempty"`
	BadFiles int `json:"badFiles,omitempty"`
}

// GuardDuty records whether GuardDuty was on. Checked is false when nobody
// looked, and then no recommendation is made about it.
type GuardDuty struct {
	Checked         bool     `json:"checked"`
	EnabledRegions  []string `json:"enabledRegions,omitempty"`
	DisabledRegions []string `json:"disabledRegions,omitempty"`
}

// Finding is a GuardDuty finding that concerns the key.
type Finding struct {
	ID       string  `json:"id"`
	Region   string  `json:"region"`
	Type     string  `json:"type"`
	Title    string  `json:"title,omitempty"`
	Severity float64 `json:"severity"`
	// Resource is what the finding is about, e.g. the access key ID.
	Resource  string    `json:"resource,omitempty"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	Count     int       `json:"count,omitempty"`
	Archived  bool      `json:"archived,omitempty"`
}

// eventsOf returns m.Events, or an empty sequence when it is nil.
func (m *Model) eventsOf() iter.Seq[Event] {
	if m.Events == nil {
		return func(func(Event) bool) {}
	}
	return m.Events
}

// stats returns m.Stats or computes it with one pass over the events.
func (m *Model) stats() *Stats {
	if m.Stats != nil {
		return m.Stats
	}
	return ComputeStats(m.eventsOf())
}

// ActorMatch is an indicator that public threat research attributes to an
// actor (or a family of tools), matched by some of the key's events. It is
// a resemblance to reported tradecraft, not an attribution of the incident.
type ActorMatch struct {
	Actor   string   `json:"actor"`
	Aliases []string `json:"aliases,omitempty"`
	// Type is group or tool-family.
	Type string `json:"type,omitempty"`
	// Indicator names the indicator; Kind is what it looks at (user-agent,
	// user-name, group-name, account-id, call-pattern).
	Indicator   string    `json:"indicator"`
	Kind        string    `json:"kind"`
	Explanation string    `json:"explanation"`
	Reported    string    `json:"reported"`
	References  []string  `json:"references"`
	Events      int       `json:"events"`
	Attacker    int       `json:"attacker"`
	First       time.Time `json:"first,omitzero"`
	Last        time.Time `json:"last,omitzero"`
	EventIDs    []string  `json:"eventIDs,omitempty"`
}

// LeakClue is one sign an inferred leak time rests on.
type LeakClue struct {
	// Kind is ClueQuarantine, ClueHighSeverity, ClueNewSource or
	// ClueFirstCall.
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	// EventName, SourceIP, UserAgent and Rule describe the call; Policy and
	// User the quarantine.
	EventName string `json:"eventName,omitempty"`
	SourceIP  string `json:"sourceIPAddress,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	Rule      string `json:"rule,omitempty"`
	Policy    string `json:"policy,omitempty"`
	User      string `json:"user,omitempty"`
}

// The kinds of LeakClue.
const (
	// ClueQuarantine: AWS attached its quarantine policy, so it had found
	// the key in public by then.
	ClueQuarantine = "quarantine"
	// ClueHighSeverity: the first high-severity call from a source the key
	// had not used before.
	ClueHighSeverity = "high-severity-new-source"
	// ClueNewSource: the first new source shortly before the other signs.
	ClueNewSource = "new-source"
	// ClueFirstCall: the key's first call, with no history to compare.
	ClueFirstCall = "first-call"
)

// Kinds of Credential, as the containment summary names them.
const (
	CredAccessKey       = "access-key"
	CredSessionToken    = "session-token"
	CredFederationToken = "federation-token"
	CredRoleSession     = "role-session"
	CredUser            = "user"
	CredConsolePassword = "console-password"
	CredTrustPolicy     = "trust-policy"
	CredMFADevice       = "mfa-device"
	CredIdentityCenter  = "identity-center"
)

// States of a Credential in AWS when it was last read.
const (
	CredInactive = "inactive" // an access key turned off
	CredDenied   = "denied"   // a deny policy refuses every call it makes (since DeniedSince)
	CredExpired  = "expired"  // a temporary credential past its expiration
	CredDeleted  = "deleted"  // gone from IAM, or its principal is
	CredReverted = "reverted" // a trust policy that no longer admits the outside principal
	CredWorking  = "working"  // nothing stops it
	CredUnknown  = "unknown"  // AWS could not be read
)

// Credential is one credential the attacker held or made, with its state
// in AWS when it was last read.
type Credential struct {
	Kind string `json:"kind"`
	// ID names it: the access key ID; for a user or a console password the
	// user name; for a trust policy the role name; for an MFA device its
	// serial number.
	ID      string `json:"id"`
	User    string `json:"user,omitempty"`
	Role    string `json:"role,omitempty"`    // role ARN (role sessions, trust policies)
	Session string `json:"session,omitempty"` // role session or federated user name
	Account string `json:"account,omitempty"`
	// Parent is the access key whose call made it, Via that call and
	// EventID its CloudTrail event, logged in Region at Issued.
	Parent  string    `json:"parent,omitempty"`
	Via     string    `json:"via,omitempty"`
	EventID string    `json:"eventID,omitempty"`
	Region  string    `json:"region,omitempty"`
	Issued  time.Time `json:"issued,omitzero"`
	Expires time.Time `json:"expires,omitzero"`
	// State is one of the Cred* states; DeniedSince is when the deny that
	// refuses it took effect.
	State       string    `json:"state"`
	DeniedSince time.Time `json:"deniedSince,omitzero"`
	// StateAt is when AWS was read for State; zero when the state comes
	// from the case's records (the journal, the expiration) rather than a
	// read.
	StateAt time.Time `json:"stateAt,omitzero"`
	// Note says what stops it, or why nothing does and what to do next.
	// The writers show it in English reports only; the other languages
	// render the state and Reason.
	Note string `json:"note,omitempty"`
	// Reason says in one word why it is in State when that is not
	// obvious: ReasonUserGone, ReasonRoleNotRevoked, ReasonOwnerRevoked,
	// ReasonRoleRevoked.
	Reason string `json:"reason,omitempty"`
}

// Reasons of a Credential's state.
const (
	ReasonUserGone       = "user-gone"        // deleted: its IAM user no longer exists
	ReasonOwnerRevoked   = "owner-revoked"    // denied by the revoke policy on the leaked key's owner
	ReasonRoleRevoked    = "role-revoked"     // denied by the revoke policy on the role
	ReasonRoleNotRevoked = "role-not-revoked" // working: the owner's deny does not reach a role session
	ReasonNotRevoked     = "not-revoked"      // working: no revoke policy covers it
)

// Live reports whether the credential can still be used.
func (c Credential) Live() bool { return c.State == CredWorking }
