package caseview

import (
	"strings"
	"time"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// credentials lists the credentials the attacker held or made — the leaked
// key, then every key the investigation found derived from it — each with
// the state the case's records support, and when AWS was read for it:
//
//   - the leaked key: its status as the last containment run read it back;
//   - a key made with CreateAccessKey: its resource's live state (Active,
//     Inactive, deleted, or gone with its user), as last inventoried;
//   - a session or federation token: expired past its expiration; deleted
//     when its user is; denied when the owner's revoke policy, as last
//     read, covers its issue time; otherwise it still works;
//   - a role session: expired, or denied when the journal shows the
//     role's revoke policy put after it was issued (the owner's policy
//     does not reach it), otherwise it still works.
//
// Then the contain run's own read of each credential in AWS, where it is
// the newer, replaces what the case's records support (withContained).
func credentials(m *report.Model, sum *playbook.Summary, inv *trail.Result, entries []playbook.Entry, now time.Time) []report.Credential {
	if inv == nil || len(inv.Keys) == 0 {
		return withContained(nil, sum)
	}
	c := m.Case
	resources := map[string]report.Resource{}
	for _, r := range m.Resources {
		resources[r.Type+"|"+r.ID] = r
	}
	roleRevoked := roleRevocations(entries)
	users := map[string]string{} // key ID → the IAM user it acts as
	var out []report.Credential
	for _, k := range inv.Keys {
		cr := report.Credential{ID: k.AccessKeyID, Parent: k.Parent, Via: k.Via, EventID: k.EventID, Region: k.Region,
			Issued: k.EventTime.UTC(), Expires: k.Expiration.UTC(), Account: inv.Account}
		if k.Expiration.IsZero() {
			cr.Expires = time.Time{}
		}
		if k.EventTime.IsZero() {
			cr.Issued = time.Time{}
		}
		switch k.Via {
		case "GetSessionToken":
			cr.Kind = report.CredSessionToken
		case "GetFederationToken":
			cr.Kind = report.CredFederationToken
		case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
			cr.Kind, cr.Role = report.CredRoleSession, k.RoleARN
		default:
			cr.Kind = report.CredAccessKey
		}
		switch {
		case k.Parent == "":
			cr.User = c.OwnerUser
		case k.UserName != "":
			cr.User = k.UserName
		case cr.Kind != report.CredRoleSession:
			cr.User = users[k.Parent]
		}
		users[k.AccessKeyID] = cr.User
		if cr.Kind == report.CredRoleSession {
			users[k.AccessKeyID] = ""
		}
		leakedKeyState(&cr, c, sum, k.Parent == "")
		if k.Parent != "" {
			derivedState(&cr, c, resources, m.ResourcesReadAt, roleRevoked, now)
		}
		out = append(out, cr)
	}
	return withContained(out, sum)
}

// withContained lays the contain run's read of the attacker's credentials
// over what the investigation and the resources say: the run read each one
// in IAM (or found it expired or denied) at sum.ReadAt, so where that read
// is the newer one it decides the state. Credentials only the run found
// (console passwords, trust policies, MFA devices: no CloudTrail key of
// their own) are added.
func withContained(out []report.Credential, sum *playbook.Summary) []report.Credential {
	if sum == nil {
		return out
	}
	at := sum.ReadAt.UTC()
	index := map[string]int{}
	for i, cr := range out {
		index[cr.Kind+"|"+cr.ID] = i
	}
	for _, ac := range sum.Credentials {
		if ac.BeforeLeak {
			continue
		}
		i, ok := index[ac.Key()]
		if !ok {
			out = append(out, report.Credential{Kind: ac.Kind, ID: ac.ID, User: ac.User, Role: ac.Role, Session: ac.Session,
				Account: ac.Account, Parent: ac.Parent, Via: ac.Via, EventID: ac.EventID, Region: ac.Region,
				Issued: ac.Issued.UTC(), Expires: ac.Expires.UTC()})
			i = len(out) - 1
			index[ac.Key()] = i
			if ac.Issued.IsZero() {
				out[i].Issued = time.Time{}
			}
			if ac.Expires.IsZero() {
				out[i].Expires = time.Time{}
			}
		} else if !out[i].StateAt.IsZero() && out[i].StateAt.After(at) {
			continue
		}
		cr := &out[i]
		if cr.State != ac.State {
			cr.Reason = readReason(ac)
		}
		cr.State, cr.DeniedSince, cr.Note = ac.State, ac.DeniedSince.UTC(), ac.Note
		if ac.DeniedSince.IsZero() {
			cr.DeniedSince = time.Time{}
		}
		if ac.State != report.CredExpired {
			cr.StateAt = at
		}
	}
	return out
}

// leakedKeyState sets the leaked key's state from the containment's read-back.
func leakedKeyState(cr *report.Credential, c report.Case, sum *playbook.Summary, leaked bool) {
	if !leaked {
		return
	}
	switch strings.ToLower(c.KeyStatus) {
	case "inactive":
		cr.State = report.CredInactive
	case "active":
		cr.State = report.CredWorking
	case "deleted":
		cr.State = report.CredDeleted
	default:
		cr.State = report.CredUnknown
	}
	if sum != nil {
		cr.StateAt = sum.ReadAt.UTC()
	}
}

func derivedState(cr *report.Credential, c report.Case, resources map[string]report.Resource, resAt time.Time, roleRevoked map[string]time.Time, now time.Time) {
	userGone := func() bool {
		u, ok := resources[resource.TypeUser+"|"+cr.User]
		return ok && cr.User != "" && (u.State == report.StateRemoved || u.State == report.StateGone)
	}
	switch cr.Kind {
	case report.CredAccessKey:
		r, ok := resources[resource.TypeAccessKey+"|"+cr.ID]
		switch {
		case !ok:
			cr.State = report.CredUnknown
		case r.State == report.StateRemoved || r.State == report.StateGone:
			cr.State = report.CredDeleted
			if r.GoneWith != "" {
				cr.Reason = report.ReasonUserGone
			}
		case r.State == report.StatePresent && strings.EqualFold(r.Status, "Inactive"):
			cr.State = report.CredInactive
		case r.State == report.StatePresent:
			cr.State = report.CredWorking
		default:
			cr.State = report.CredUnknown
		}
		cr.StateAt = resAt
		return
	}
	if !cr.Expires.IsZero() && !cr.Expires.After(now) {
		cr.State = report.CredExpired
		return
	}
	if cr.Kind == report.CredRoleSession {
		name := report.RoleName(cr.Role)
		if t, ok := roleRevoked[name]; ok && !cr.Issued.IsZero() && cr.Issued.Before(t) {
			cr.State, cr.DeniedSince, cr.Reason = report.CredDenied, t, report.ReasonRoleRevoked
			return
		}
		cr.State, cr.Reason = report.CredWorking, report.ReasonRoleNotRevoked
		return
	}
	if userGone() {
		cr.State, cr.Reason = report.CredDeleted, report.ReasonUserGone
		cr.StateAt = resAt
		return
	}
	if cr.User == c.OwnerUser && !c.RevokedBefore.IsZero() && !cr.Issued.IsZero() && cr.Issued.Before(c.RevokedBefore) {
		cr.State, cr.DeniedSince, cr.Reason, cr.StateAt = report.CredDenied, c.RevokedBefore, report.ReasonOwnerRevoked, c.KeyStatusAt
		return
	}
	cr.State, cr.Reason = report.CredWorking, report.ReasonNotRevoked
}

// roleRevocations are, per role name, the latest time before which the
// journal shows the role's sessions denied: a revoke policy put (or found
// in place) and not undone since.
func roleRevocations(entries []playbook.Entry) map[string]time.Time {
	type rec struct {
		name   string
		before time.Time
		done   bool
	}
	recs := map[string]*rec{}
	for _, e := range entries {
		if e.Step != playbook.StepRevokeRoleSessions || e.ActionID == "" {
			continue
		}
		r := recs[e.ActionID]
		if r == nil {
			r = &rec{}
			recs[e.ActionID] = r
		}
		if e.Params["Name"] != "" {
			r.name = e.Params["Name"]
			r.before, _ = time.Parse(time.RFC3339, e.Params["Before"])
		}
		switch e.Kind {
		case playbook.KindOutcome:
			if e.Error == nil {
				r.done = true
			}
		case playbook.KindReconciled:
			r.done = true
		case playbook.KindUndone:
			r.done = false
		}
	}
	out := map[string]time.Time{}
	for _, r := range recs {
		if r.done && r.name != "" && r.before.After(out[r.name]) {
			out[r.name] = r.before
		}
	}
	return out
}

// readReason is the Reason of a state the contain run read: what denies a
// session, or why a session still works. Other states need none.
func readReason(ac playbook.AttackerCredential) string {
	role := ac.Kind == report.CredRoleSession
	switch {
	case ac.State == report.CredDenied && role:
		return report.ReasonRoleRevoked
	case ac.State == report.CredDenied:
		return report.ReasonOwnerRevoked
	case ac.State == report.CredWorking && role:
		return report.ReasonRoleNotRevoked
	case ac.State == report.CredWorking && (ac.Kind == report.CredSessionToken || ac.Kind == report.CredFederationToken):
		return report.ReasonNotRevoked
	}
	return ""
}
