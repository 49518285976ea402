package awssim

import (
	"encoding/json"
	"path"
	"strconv"
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

// authorize evaluates the policies that govern the caller: the user's or
// role's inline and attached policies, the user's groups' policies, and a
// session policy. An explicit Deny always refuses. Allow statements count
// only in accounts with ImplicitDeny, where what nothing allows is refused
// (and a session policy must allow too); elsewhere every principal may do
// what is not explicitly denied, which is all the older scenarios and
// keyleak's containment need (the AWS quarantine policies and the
// aws:TokenIssueTime revocation).
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
	// STS checks an MFA code before any policy: a wrong one is refused
	// as such, not as a missing permission.
	if c.Service == "sts" {
		if _, _, err := s.verifyMFA(c); err != nil {
			return err
		}
	}
	ctx := s.callContext(c)
	req := request{action: action, resource: requestResource(c)}
	allowed := false
	for _, doc := range s.identityPoliciesOf(cred) {
		allow, deny := policyEffect(doc, req, ctx)
		if deny {
			return errAccessDenied(c, s.arnOf(cred))
		}
		allowed = allowed || allow
	}
	sessionAllows := true
	if cred.InlinePolicy != "" {
		allow, deny := policyEffect(cred.InlinePolicy, req, ctx)
		if deny {
			return errAccessDenied(c, s.arnOf(cred))
		}
		sessionAllows = allow
	}
	// GetSessionToken needs no permission, as in AWS.
	if s.acct.ImplicitDeny && (!allowed || !sessionAllows) && action != "sts:GetSessionToken" {
		return errImplicitDeny(c, s.arnOf(cred))
	}
	return nil
}

// callContext is what the call's conditions can look at: the time, the
// session's issue time, and its MFA (or the MFA the call itself carries:
// a code given to GetSessionToken or AssumeRole counts for that call).
func (s *Sim) callContext(c *Call) condContext {
	cred := c.cred
	ctx := condContext{now: c.Time}
	if cred.Temporary() {
		ctx.tokenIssueTime, ctx.hasToken = cred.Created, true
		ctx.mfaKnown = true
		if !cred.MFAAt.IsZero() {
			ctx.mfaAt, ctx.mfa = cred.MFAAt, true
		}
	}
	if c.Service == "sts" && c.Params["SerialNumber"] != "" && c.Params["TokenCode"] != "" && s.mfaCodeValid(c) {
		ctx.mfaKnown, ctx.mfa, ctx.mfaAt = true, true, c.Time
	}
	return ctx
}

// mfaCodeValid reports whether the call's SerialNumber and TokenCode are
// the caller's device and its current code, without spending the code
// (the handler's checkMFA does that).
func (s *Sim) mfaCodeValid(c *Call) bool {
	d, _, err := s.verifyMFA(c)
	return d != nil && err == nil
}

// requestResource is the ARN a call acts on, where a policy's Resource can
// be told from it: the role of AssumeRole. "" matches every Resource.
func requestResource(c *Call) string {
	if c.Service == "sts" && c.Action == "AssumeRole" {
		return c.Params["RoleArn"]
	}
	return ""
}

// trustCaller is who asks to assume a role, as a trust policy sees it.
type trustCaller struct {
	arn     string // the caller's principal ARN (user, root, assumed role)
	account string
	role    string // for a role session, the role's ARN
	ctx     condContext
}

// trustCaller describes the call's caller. Called in the caller's account.
func (s *Sim) trustCaller(c *Call, mfa bool) trustCaller {
	tc := trustCaller{arn: s.arnOf(c.cred), account: s.acct.ID, ctx: s.callContext(c)}
	if mfa {
		tc.ctx.mfaKnown, tc.ctx.mfa, tc.ctx.mfaAt = true, true, c.Time
	}
	if c.cred.Kind == KindRole {
		if r, ok := s.acct.Roles[c.cred.RoleName]; ok {
			tc.role = roleARN(s.acct.ID, r)
		}
	}
	return tc
}

// trusts reports whether the role's trust policy lets the caller assume it.
// Only accounts with ImplicitDeny evaluate trust policies. Called in the
// role's account.
func (s *Sim) trusts(r *Role, tc trustCaller) bool {
	if !s.acct.ImplicitDeny {
		return true
	}
	var p policyDocument
	if err := json.Unmarshal([]byte(r.AssumeRolePolicy), &p); err != nil {
		return false
	}
	allowed := false
	for _, st := range p.Statement {
		if !st.matchesAction("sts:AssumeRole") || !st.Principal.matches(tc) || !conditionsHold(st.Condition, tc.ctx) {
			continue
		}
		if strings.EqualFold(st.Effect, "Deny") {
			return false
		}
		allowed = allowed || strings.EqualFold(st.Effect, "Allow")
	}
	return allowed
}

// sessionLimits applies what AWS forbids temporary credentials whatever the
// policies: GetSessionToken credentials obtained without MFA may not call
// IAM, and of STS only AssumeRole; federation credentials may call neither
// IAM nor STS. GetCallerIdentity is handled before.
func sessionLimits(c *Call) *APIError {
	kind := c.cred.Kind
	if kind != KindSession && kind != KindFederation {
		return nil
	}
	switch {
	case c.Service == "iam" && kind == KindSession && c.cred.MFAAt.IsZero():
		return errf(403, "AccessDenied", "Cannot call IAM APIs with session credentials that were obtained without MFA.")
	case c.Service == "iam" && kind == KindFederation:
		return errf(403, "AccessDenied", "Cannot call IAM APIs with federated user credentials.")
	case c.Service == "sts" && kind == KindSession && c.Action != "AssumeRole":
		return errf(403, "AccessDenied", "Cannot call %s with session credentials", c.Action)
	case c.Service == "sts" && kind == KindFederation:
		return errf(403, "AccessDenied", "Cannot call %s with federated user credentials", c.Action)
	}
	return nil
}

// policiesOf lists the policy documents that govern a credential, its
// session policy last.
func (s *Sim) policiesOf(cred *Credential) []string {
	docs := s.identityPoliciesOf(cred)
	if cred.InlinePolicy != "" {
		docs = append(docs, cred.InlinePolicy)
	}
	return docs
}

// identityPoliciesOf lists the identity policies of a credential's
// principal: of the user (and its groups) or of the role.
func (s *Sim) identityPoliciesOf(cred *Credential) []string {
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
	// mfaKnown says aws:MultiFactorAuthPresent is in the context: it is
	// for temporary credentials and calls carrying a code, and absent for
	// long-term keys, as in AWS. mfa is its value, mfaAt when MFA was
	// proved (aws:MultiFactorAuthAge counts from it).
	mfaKnown bool
	mfa      bool
	mfaAt    time.Time
}

// request is what a statement's Action and Resource are matched against.
type request struct {
	action   string
	resource string // "" when the simulator does not tell resources apart
}

// policyDocument is the part of an IAM policy the simulator evaluates.
type policyDocument struct {
	Statement statements `json:"Statement"`
}

type statement struct {
	Effect      string                                `json:"Effect"`
	Principal   principal                             `json:"Principal"`
	Action      stringOrList                          `json:"Action"`
	NotAction   stringOrList                          `json:"NotAction"`
	Resource    stringOrList                          `json:"Resource"`
	NotResource stringOrList                          `json:"NotResource"`
	Condition   map[string]map[string]json.RawMessage `json:"Condition"`
}

func (st statement) matchesAction(action string) bool {
	if len(st.Action) > 0 && !matchAny(st.Action, action) {
		return false
	}
	return len(st.NotAction) == 0 || !matchAny(st.NotAction, action)
}

func (st statement) matchesResource(resource string) bool {
	if resource == "" {
		return true
	}
	if len(st.Resource) > 0 && !matchAny(st.Resource, resource) {
		return false
	}
	return len(st.NotResource) == 0 || !matchAny(st.NotResource, resource)
}

// principal is a trust policy's Principal: "*" or {"AWS": ARN or list, ...}.
type principal struct {
	any bool
	aws []string
}

func (p *principal) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		p.any = one == "*"
		return nil
	}
	var m map[string]stringOrList
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, v := range m["AWS"] {
		if v == "*" {
			p.any = true
		}
		p.aws = append(p.aws, v)
	}
	return nil
}

// matches reports whether the principal names the caller: everyone, the
// caller's account (its ID or root ARN; the account's own policies decide
// the rest), the caller's user, or the role whose session calls.
func (p principal) matches(tc trustCaller) bool {
	if p.any {
		return true
	}
	for _, a := range p.aws {
		switch a {
		case tc.account, "arn:aws:iam::" + tc.account + ":root", tc.arn:
			return true
		}
		if tc.role != "" && a == tc.role {
			return true
		}
	}
	return false
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

// policyEffect reports whether a policy document allows and whether it
// explicitly denies the request in the given context. Unparseable documents
// do neither (IAM would have refused them when they were put).
func policyEffect(doc string, req request, ctx condContext) (allow, deny bool) {
	var p policyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false, false
	}
	for _, st := range p.Statement {
		if !st.matchesAction(req.action) || !st.matchesResource(req.resource) || !conditionsHold(st.Condition, ctx) {
			continue
		}
		switch {
		case strings.EqualFold(st.Effect, "Deny"):
			deny = true
		case strings.EqualFold(st.Effect, "Allow"):
			allow = true
		}
	}
	return allow, deny
}

// policyDenies reports whether a policy document explicitly denies the action
// in the given context.
func policyDenies(doc, action string, ctx condContext) bool {
	_, deny := policyEffect(doc, request{action: action}, ctx)
	return deny
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
// on aws:TokenIssueTime and aws:CurrentTime, Bool on
// aws:MultiFactorAuthPresent, the Numeric operators on
// aws:MultiFactorAuthAge, Null on those three, and the IfExists form of each
// operator. An unsupported operator or key makes the statement not apply:
// the simulator never denies more than AWS would, and in accounts with
// ImplicitDeny never allows more.
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

// contextValue returns a condition key's value in the context, and whether
// the key is present at all.
func contextValue(key string, ctx condContext) (string, bool) {
	switch key {
	case "aws:tokenissuetime":
		return ctx.tokenIssueTime.UTC().Format(time.RFC3339), ctx.hasToken
	case "aws:currenttime":
		return ctx.now.UTC().Format(time.RFC3339), true
	case "aws:multifactorauthpresent":
		return strconv.FormatBool(ctx.mfa), ctx.mfaKnown
	case "aws:multifactorauthage":
		return strconv.FormatInt(int64(ctx.now.Sub(ctx.mfaAt)/time.Second), 10), ctx.mfa
	}
	return "", false
}

func conditionHolds(op, key string, vals []string, ctx condContext) bool {
	switch key {
	case "aws:tokenissuetime", "aws:currenttime", "aws:multifactorauthpresent", "aws:multifactorauthage":
	default:
		return false
	}
	v, present := contextValue(key, ctx)
	if op == "Null" {
		for _, want := range vals {
			if (want == "true") == !present {
				return true
			}
		}
		return false
	}
	base, ifExists := strings.CutSuffix(op, "IfExists")
	if !present {
		// A missing key matches no operator, except in its IfExists form.
		return ifExists
	}
	for _, want := range vals {
		ok, known := compare(base, v, want)
		if !known {
			return false
		}
		if ok {
			return true
		}
	}
	return false
}

// compare applies a condition operator to the context's value and the
// policy's; known is false for an operator the simulator does not have or
// a value it cannot read.
func compare(op, got, want string) (ok, known bool) {
	switch op {
	case "Bool":
		return strings.EqualFold(got, want), true
	case "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "DateEquals":
		t, err1 := time.Parse(time.RFC3339, got)
		ref, err2 := time.Parse(time.RFC3339, want)
		if err1 != nil || err2 != nil {
			return false, err1 == nil // an unreadable policy value matches nothing
		}
		return ordered(strings.TrimPrefix(op, "Date"), t.Compare(ref)), true
	case "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "NumericEquals", "NumericNotEquals":
		n, err1 := strconv.ParseFloat(got, 64)
		ref, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false, err1 == nil
		}
		cmp := 0
		switch {
		case n < ref:
			cmp = -1
		case n > ref:
			cmp = 1
		}
		return ordered(strings.TrimPrefix(op, "Numeric"), cmp), true
	}
	return false, false
}

// ordered applies a comparison name (LessThan, Equals, ...) to a three-way
// comparison's result.
func ordered(name string, cmp int) bool {
	switch name {
	case "LessThan":
		return cmp < 0
	case "LessThanEquals":
		return cmp <= 0
	case "GreaterThan":
		return cmp > 0
	case "GreaterThanEquals":
		return cmp >= 0
	case "Equals":
		return cmp == 0
	case "NotEquals":
		return cmp != 0
	}
	return false
}
