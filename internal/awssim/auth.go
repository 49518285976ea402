package awssim

import (
	"encoding/json"
	"path"
	"strings"
	"time"
)

// authenticate resolves the call's access key and refuses unknown, inactive,
// deleted and expired credentials, and session credentials whose principal is
// gone. Such calls never reach the account and are not recorded, as in AWS.
func (s *Sim) authenticate(c *Call) *APIError {
	const invalid = "The security token included in the request is invalid."
	cred, ok := s.acct.Keys[c.AccessKeyID]
	if !ok || cred.Deleted {
		return errAuth(c.Service, invalid)
	}
	if !cred.Temporary() && cred.Status != "Active" {
		return errAuth(c.Service, invalid)
	}
	if c.sig != nil {
		// A temporary key is valid only with its session token, a
		// long-term one only without; then the signature must be made
		// with the key's secret.
		if c.sig.token != cred.SessionToken {
			return errAuth(c.Service, invalid)
		}
		if !c.sig.verify(cred.Secret) {
			return errSignature(c.Service)
		}
	}
	if cred.Temporary() && !c.Time.Before(cred.Expires) {
		return errf(403, "ExpiredToken", "The security token included in the request is expired")
	}
	switch cred.Kind {
	case KindUserKey, KindSession, KindFederation:
		if cred.Kind != KindUserKey && cred.UserName == "" {
			break // a session of the root user
		}
		if _, ok := s.acct.Users[cred.UserName]; !ok {
			return errAuth(c.Service, invalid)
		}
	case KindRole:
		if _, ok := s.acct.Roles[cred.RoleName]; !ok {
			return errAuth(c.Service, invalid)
		}
	}
	c.cred = cred
	return nil
}

// authorize applies the explicit Deny statements of every policy that governs
// the caller: the user's or role's inline and attached policies, the user's
// groups' policies, and a session policy. Allow statements are not evaluated
// (every principal may do everything not explicitly denied), which is enough
// for what keyleak relies on: the AWS quarantine policies and the
// aws:TokenIssueTime revocation policy.
func (s *Sim) authorize(c *Call) *APIError {
	cred := c.cred
	action := c.Service + ":" + c.Action
	if action == "sts:GetCallerIdentity" {
		return nil // AWS answers it whatever the policies say
	}
	if err := sessionLimits(c); err != nil {
		return err
	}
	if cred.Kind == KindRootKey || (cred.Temporary() && cred.Kind != KindRole && cred.UserName == "") {
		return nil // no identity policy can restrict the root user
	}
	ctx := condContext{now: c.Time}
	if cred.Temporary() {
		ctx.tokenIssueTime = cred.Created
		ctx.hasToken = true
	}
	for _, doc := range s.policiesOf(cred) {
		if policyDenies(doc, action, ctx) {
			return errAccessDenied(c, s.arnOf(cred))
		}
	}
	return nil
}

// sessionLimits applies what AWS forbids temporary credentials whatever the
// policies: GetSessionToken credentials obtained without MFA (the simulator
// has no MFA) may not call IAM, and of STS only AssumeRole; federation
// credentials may call neither IAM nor STS. GetCallerIdentity is handled
// before.
func sessionLimits(c *Call) *APIError {
	kind := c.cred.Kind
	if kind != KindSession && kind != KindFederation {
		return nil
	}
	switch {
	case c.Service == "iam" && kind == KindSession:
		return errf(403, "AccessDenied", "Cannot call IAM APIs with session credentials that were obtained without MFA.")
	case c.Service == "iam":
		return errf(403, "AccessDenied", "Cannot call IAM APIs with federated user credentials.")
	case c.Service == "sts" && kind == KindSession && c.Action != "AssumeRole":
		return errf(403, "AccessDenied", "Cannot call %s with session credentials", c.Action)
	case c.Service == "sts" && kind == KindFederation:
		return errf(403, "AccessDenied", "Cannot call %s with federated user credentials", c.Action)
	}
	return nil
}

// policiesOf lists the policy documents that govern a credential.
func (s *Sim) policiesOf(cred *Credential) []string {
	var docs []string
	addManaged := func(arns []string) {
		for _, a := range arns {
			if p, ok := s.acct.Policies[a]; ok {
				docs = append(docs, p.Document)
			}
		}
	}
	switch cred.Kind {
	case KindUserKey, KindSession, KindFederation:
		u := s.acct.Users[cred.UserName]
		if u == nil {
			return nil
		}
		for _, d := range u.Inline {
			docs = append(docs, d)
		}
		addManaged(u.Attached)
		for _, gname := range u.Groups {
			if g, ok := s.acct.Groups[gname]; ok {
				for _, d := range g.Inline {
					docs = append(docs, d)
				}
				addManaged(g.Attached)
			}
		}
	case KindRole:
		r := s.acct.Roles[cred.RoleName]
		if r == nil {
			return nil
		}
		for _, d := range r.Inline {
			docs = append(docs, d)
		}
		addManaged(r.Attached)
	}
	if cred.InlinePolicy != "" {
		docs = append(docs, cred.InlinePolicy)
	}
	return docs
}

// arnOf returns the ARN of a credential's principal as AWS prints it in
// errors and CloudTrail.
func (s *Sim) arnOf(cred *Credential) string {
	id := s.acct.ID
	switch {
	case cred.Kind == KindRootKey, cred.Kind == KindSession && cred.UserName == "":
		return "arn:aws:iam::" + id + ":root"
	}
	switch cred.Kind {
	case KindFederation:
		return "arn:aws:sts::" + id + ":federated-user/" + cred.SessionName
	case KindRole:
		return "arn:aws:sts::" + id + ":assumed-role/" + cred.RoleName + "/" + cred.SessionName
	}
	return "arn:aws:iam::" + id + ":user/" + userPath(s.acct.Users[cred.UserName]) + cred.UserName
}

func userPath(u *User) string {
	if u == nil || u.Path == "" || u.Path == "/" {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// condContext is what condition operators can look at.
type condContext struct {
	now            time.Time
	tokenIssueTime time.Time
	hasToken       bool
}

// policyDocument is the part of an IAM policy the simulator evaluates.
type policyDocument struct {
	Statement statements `json:"Statement"`
}

type statement struct {
	Effect    string                                `json:"Effect"`
	Action    stringOrList                          `json:"Action"`
	NotAction stringOrList                          `json:"NotAction"`
	Condition map[string]map[string]json.RawMessage `json:"Condition"`
}

// statements accepts a single statement object or a list of them.
type statements []statement

func (st *statements) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var one statement
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*st = statements{one}
		return nil
	}
	var many []statement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*st = many
	return nil
}

// stringOrList accepts "x" or ["x", "y"].
type stringOrList []string

func (sl *stringOrList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*sl = stringOrList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*sl = many
	return nil
}

// policyDenies reports whether a policy document explicitly denies the action
// in the given context. Unparseable documents deny nothing (IAM would have
// refused them when they were put).
func policyDenies(doc, action string, ctx condContext) bool {
	var p policyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false
	}
	for _, st := range p.Statement {
		if !strings.EqualFold(st.Effect, "Deny") {
			continue
		}
		if len(st.Action) > 0 && !matchAny(st.Action, action) {
			continue
		}
		if len(st.NotAction) > 0 && matchAny(st.NotAction, action) {
			continue
		}
		if conditionsHold(st.Condition, ctx) {
			return true
		}
	}
	return false
}

// matchAny matches an action against IAM action patterns (case-insensitive,
// with * and ? wildcards).
func matchAny(patterns []string, action string) bool {
	a := strings.ToLower(action)
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), a); ok {
			return true
		}
		if p == "*" {
			return true
		}
	}
	return false
}

// conditionsHold evaluates a Condition block. Supported: the Date operators
// on aws:TokenIssueTime and aws:CurrentTime, and Null on aws:TokenIssueTime.
// An unsupported operator or key makes the statement not apply, so the
// simulator never denies more than AWS would.
func conditionsHold(cond map[string]map[string]json.RawMessage, ctx condContext) bool {
	for op, kv := range cond {
		for key, raw := range kv {
			var vals stringOrList
			if err := json.Unmarshal(raw, &vals); err != nil {
				var b bool
				if json.Unmarshal(raw, &b) != nil {
					return false
				}
				vals = stringOrList{map[bool]string{true: "true", false: "false"}[b]}
			}
			if !conditionHolds(op, strings.ToLower(key), vals, ctx) {
				return false
			}
		}
	}
	return true
}

func conditionHolds(op, key string, vals []string, ctx condContext) bool {
	if op == "Null" && key == "aws:tokenissuetime" {
		for _, v := range vals {
			if (v == "true") == !ctx.hasToken {
				return true
			}
		}
		return false
	}
	var t time.Time
	switch key {
	case "aws:tokenissuetime":
		if !ctx.hasToken {
			return false // key absent: Date operators do not match
		}
		t = ctx.tokenIssueTime
	case "aws:currenttime":
		t = ctx.now
	default:
		return false
	}
	for _, v := range vals {
		ref, err := time.Parse(time.RFC3339, v)
		if err != nil {
			continue
		}
		var ok bool
		switch op {
		case "DateLessThan":
			ok = t.Before(ref)
		case "DateLessThanEquals":
			ok = !t.After(ref)
		case "DateGreaterThan":
			ok = t.After(ref)
		case "DateGreaterThanEquals":
			ok = !t.Before(ref)
		case "DateEquals":
			ok = t.Equal(ref)
		default:
			return false
		}
		if ok {
			return true
		}
	}
	return false
}
