package report

import (
	"strings"
	"time"
)

// DeliveryDelay is how late CloudTrail can deliver an event: up to about
// 15 minutes after the call. An investigation that ends sooner than that
// after the containment may not hold the attacker's last calls yet.
const DeliveryDelay = 15 * time.Minute

// CredentialsOf returns the credentials the report shows: m.Credentials
// when the containment summary listed them, otherwise the derived keys of
// the investigation as credentials, with the status the case recorded.
func CredentialsOf(m *Model) []Credential {
	if len(m.Credentials) > 0 {
		return m.Credentials
	}
	out := make([]Credential, 0, len(m.Keys))
	for _, k := range m.Keys {
		c := Credential{ID: k.AccessKeyID, Parent: k.ParentKeyID, Via: k.Via, EventID: k.EventID, Region: k.Region,
			Issued: k.IssuedAt, Expires: k.ExpiresAt, Kind: credKindOf(k)}
		switch c.Kind {
		case CredRoleSession:
			c.Role = k.Principal
		default:
			c.User = k.Principal
		}
		switch strings.ToLower(k.Status) {
		case "inactive":
			c.State = CredInactive
		case "revoked", "denied":
			c.State = CredDenied
		case "expired":
			c.State = CredExpired
		case "deleted":
			c.State = CredDeleted
		case "active", "working":
			c.State = CredWorking
		default:
			c.State = CredUnknown
		}
		out = append(out, c)
	}
	return out
}

func credKindOf(k DerivedKey) string {
	switch k.Via {
	case "GetSessionToken":
		return CredSessionToken
	case "GetFederationToken":
		return CredFederationToken
	case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		return CredRoleSession
	}
	return CredAccessKey
}

// RoleName is the role's name in a role or assumed-role ARN, or the ARN
// itself when it is not one.
func RoleName(arn string) string {
	i := strings.LastIndex(arn, ":")
	if i < 0 {
		return arn
	}
	res := arn[i+1:]
	switch {
	case strings.HasPrefix(res, "role/"):
		return res[strings.LastIndex(res, "/")+1:]
	case strings.HasPrefix(res, "assumed-role/"):
		name, _, _ := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		return name
	}
	return arn
}

// AttackerResources are the resources whose creating call was not judged
// the workload's: the unauthorised resources AWS's support case asks about.
func AttackerResources(m *Model) []Resource {
	var out []Resource
	for _, r := range m.Resources {
		if r.Verdict != VerdictLegitimate {
			out = append(out, r)
		}
	}
	return out
}

// Tally counts resources by state and type.
type Tally struct {
	Total, Removed, Gone, Present, Unknown int
	// Types counts them per type, most frequent first.
	Types []Count
	// LastRemoved is when the last of them was removed by keyleak.
	LastRemoved time.Time
}

// TallyOf counts rs.
func TallyOf(rs []Resource) Tally {
	var t Tally
	types := map[string]int{}
	for _, r := range rs {
		t.Total++
		types[r.Type]++
		switch r.State {
		case StateRemoved:
			t.Removed++
			if r.RemovedAt.After(t.LastRemoved) {
				t.LastRemoved = r.RemovedAt
			}
		case StateGone:
			t.Gone++
		case StatePresent:
			t.Present++
		default:
			t.Unknown++
		}
	}
	t.Types = topCounts(types, len(types))
	return t
}

// Searched is what the investigation covered, from the coverage rows.
type Searched struct {
	// Regions is the number of regions searched in full, Enabled the
	// number of regions enabled in the account (searched or attempted),
	// NotEnabled the number of regions not enabled (opt-in regions
	// nobody opted in to: no call can be made there).
	Regions, Enabled, NotEnabled int
	// Incomplete names the enabled regions whose search failed or was
	// partial or skipped.
	Incomplete []string
	// LookupEvents and Logs say which sources were read.
	LookupEvents, Logs bool
	From, To           time.Time
}

// SearchedOf summarises m's coverage: regions are counted once whatever
// the number of sources that searched them.
func SearchedOf(m *Model) Searched {
	var s Searched
	status := map[string]string{}
	var order []string
	for _, cv := range m.Coverage {
		if cv.Source == SourceLookupEvents || cv.Source == "" {
			s.LookupEvents = true
		} else {
			s.Logs = true
		}
		prev, seen := status[cv.Region]
		if !seen {
			order = append(order, cv.Region)
		}
		// A region counts as searched when any source searched it in full.
		if !seen || prev != CoverageOK {
			status[cv.Region] = cv.Status
		}
		if !cv.From.IsZero() && (s.From.IsZero() || cv.From.Before(s.From)) {
			s.From = cv.From
		}
		if cv.To.After(s.To) {
			s.To = cv.To
		}
	}
	for _, r := range order {
		switch status[r] {
		case CoverageOK:
			s.Regions++
			s.Enabled++
		case CoverageNotEnabled:
			s.NotEnabled++
		default:
			s.Enabled++
			s.Incomplete = append(s.Incomplete, r)
		}
	}
	if !m.Case.Since.IsZero() {
		s.From = m.Case.Since
	}
	if !m.Case.Until.IsZero() {
		s.To = m.Case.Until
	}
	return s
}

// AfterPeriod lists the response milestones (deactivation, revocation,
// clean-up, deletion of the key) that came after the investigated period
// ended: the events of those moments are not in the report. Empty when
// the period is unknown or covers them all.
func AfterPeriod(m *Model, s *Stats) []Milestone {
	until := m.Case.Until
	if until.IsZero() {
		return nil
	}
	var out []Milestone
	for _, ms := range Milestones(m, s) {
		switch ms.Kind {
		case MilestoneContained, MilestoneRevoked, MilestoneCleanupStart, MilestoneCleanupEnd, MilestoneKeyDeleted:
			if ms.Time.After(until) {
				out = append(out, ms)
			}
		}
	}
	return out
}

// PeriodOpen reports whether the investigated period may miss attacker
// calls made before it ended: it ended less than DeliveryDelay after the
// key was deactivated (or before), so calls made in the last minutes may
// not have been delivered to CloudTrail yet.
func PeriodOpen(m *Model) bool {
	c := m.Case
	if c.Until.IsZero() || c.ContainedAt.IsZero() {
		return false
	}
	return c.Until.Sub(c.ContainedAt) < DeliveryDelay
}

// AttackerPrincipals are the IAM users and access keys the attacker
// created: never the subject of hygiene advice, always listed with their
// state.
func AttackerPrincipals(m *Model) []Resource {
	var out []Resource
	for _, r := range AttackerResources(m) {
		switch r.Type {
		case "AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::IAM::LoginProfile", "AWS::IAM::Role":
			out = append(out, r)
		}
	}
	return out
}

// LiveCredentials are the credentials that still work, as last read.
func LiveCredentials(m *Model) []Credential {
	var out []Credential
	for _, c := range CredentialsOf(m) {
		if c.Live() {
			out = append(out, c)
		}
	}
	return out
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
