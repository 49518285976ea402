package awssim

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// stsOps returns the handlers of the simulated sts API.
func stsOps() map[string]handler {
	return map[string]handler{
		"GetCallerIdentity":  stsGetCallerIdentity,
		"GetAccessKeyInfo":   stsGetAccessKeyInfo,
		"GetSessionToken":    stsGetSessionToken,
		"GetFederationToken": stsGetFederationToken,
		"AssumeRole":         stsAssumeRole,
	}
}

// Session lifetimes, as STS documents them.
const (
	stsMinDuration        = 15 * time.Minute
	stsUserDefault        = 12 * time.Hour // GetSessionToken, GetFederationToken
	stsUserMax            = 36 * time.Hour
	stsRootMax            = time.Hour // sessions of the root user
	stsRoleDefault        = time.Hour // AssumeRole
	stsRoleChainingMax    = time.Hour // a role session assuming a role
	stsMaxSessionPolicy   = 2048      // characters of a Policy parameter
	stsPackedPolicyBudget = 2048      // what PackedPolicySize is a percentage of
)

// stsCTDate is how CloudTrail writes STS expirations in responseElements
// ("Jul 30, 2024, 9:46:15 PM" in real records; IAM dates have no comma after
// the year).
func stsCTDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// stsNamePattern is the pattern of RoleSessionName and a federated user's Name.
var stsNamePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)

// stsCheckSessionName validates a required session or federated user name.
func stsCheckSessionName(c *Call, param string, maxLen int) (string, *APIError) {
	v, ok := c.Params[param]
	if !ok || v == "" {
		return "", errMissingParam(param)
	}
	field := iamCamel(param)
	if len(v) < 2 || len(v) > maxLen {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length between 2 and %d", v, field, maxLen)
	}
	if !stsNamePattern.MatchString(v) {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", v, field)
	}
	return v, nil
}

// stsDuration reads DurationSeconds: def when absent, an error below 900 s
// or above longest. When clamp is set, a longer one is cut to longest instead:
// STS does so for sessions of the root user.
func stsDuration(c *Call, def, longest time.Duration, clamp bool) (time.Duration, *APIError) {
	v, ok := c.Params["DurationSeconds"]
	if !ok {
		return min(def, longest), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errValidation("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a number", v)
	}
	d := time.Duration(n) * time.Second
	if d < stsMinDuration {
		return 0, errValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", n, int(stsMinDuration/time.Second))
	}
	if d > longest {
		if clamp {
			return longest, nil
		}
		return 0, errValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, int(longest/time.Second))
	}
	return d, nil
}

// stsIssue makes a temporary credential for the caller and adds it to the
// account. do links it to the call's event and actor through Result.Derived.
func (s *Sim) stsIssue(c *Call, kind, via string, d time.Duration) *Credential {
	k := &Credential{Kind: kind, Via: via, Status: "Active", Secret: s.newSecret(), SessionToken: cryptoToken(),
		Created: c.Time.UTC(), Expires: c.Time.UTC().Add(d)}
	if c.cred != nil {
		k.Parent = c.cred.AccessKeyID
		k.UserName = c.cred.UserName
	}
	for k.AccessKeyID == "" || s.acct.Keys[k.AccessKeyID] != nil {
		k.AccessKeyID = s.newUniqueID("ASIA")
	}
	s.acct.Keys[k.AccessKeyID] = k
	return k
}

// stsCredentials is the Credentials element of an answer and the
// "credentials" object of the CloudTrail record (no secret, as in AWS).
func stsCredentials(k *Credential) (*Node, map[string]any) {
	n := elem("Credentials", el("AccessKeyId", k.AccessKeyID), el("SecretAccessKey", k.Secret),
		el("SessionToken", k.SessionToken), el("Expiration", isoTime(k.Expires)))
	rec := map[string]any{"accessKeyId": k.AccessKeyID, "sessionToken": k.SessionToken, "expiration": stsCTDate(k.Expires)}
	return n, rec
}

// errSessionCredentials is STS's answer to GetSessionToken or
// GetFederationToken signed with temporary credentials.
func errSessionCredentials(action string) *APIError {
	return errf(403, "AccessDenied", "Cannot call %s with session credentials", action)
}

// stsCallerRequired refuses calls without a resolved caller (scenario calls
// made in AWS's own name): STS issues sessions to principals only.
func stsCallerRequired(c *Call) *APIError {
	if c.cred == nil {
		return errf(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	return nil
}

// stsGetCallerIdentity answers who the caller is. For sessions from
// GetSessionToken it is the IAM user itself, as in AWS.
func stsGetCallerIdentity(s *Sim, c *Call) (*Result, error) {
	res := &Result{}
	if err := stsCallerRequired(c); err != nil {
		return res, err
	}
	cred := c.cred
	var userID string
	switch cred.Kind {
	case KindRootKey:
		userID = s.acct.ID
	case KindFederation:
		userID = s.acct.ID + ":" + cred.SessionName
	case KindRole:
		if r, ok := s.acct.Roles[cred.RoleName]; ok {
			userID = r.ID + ":" + cred.SessionName
		}
	default:
		if u, ok := s.acct.Users[cred.UserName]; ok {
			userID = u.ID
		} else {
			userID = s.acct.ID // a session of the root user
		}
	}
	res.XML = []*Node{el("UserId", userID), el("Account", s.acct.ID), el("Arn", s.arnOf(cred))}
	return res, nil
}

// stsAccessKeyIDPattern is the constraint of GetAccessKeyInfo's AccessKeyId.
var stsAccessKeyIDPattern = regexp.MustCompile(`^\w{16,128}$`)

// stsGetAccessKeyInfo returns the account of any key the account has, also
// inactive, deleted and temporary ones (AWS decodes the account from the key
// ID, so a key's state never matters). AWS answers for keys of other accounts
// too; the simulator knows no other account, so a well-formed key it does not
// have gets InvalidParameterValue (400), the common STS error for a parameter
// value that cannot be used. It is distinct from ValidationError (malformed
// key ID) and from InvalidClientTokenId, which would wrongly say the caller's
// own credentials were bad.
func stsGetAccessKeyInfo(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "AccessKeyId")}
	id, ok := c.Params["AccessKeyId"]
	if !ok || id == "" {
		return res, errMissingParam("AccessKeyId")
	}
	if !stsAccessKeyIDPattern.MatchString(id) {
		return res, errValidation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length between 16 and 128 and satisfy regular expression pattern: [\\w]*", id)
	}
	a := s.keyAccount(id)
	if a == nil {
		return res, errf(400, "InvalidParameterValue", "The access key ID %s does not belong to any account this endpoint knows.", id)
	}
	res.XML = []*Node{el("Account", a.ID)}
	return res, nil
}

// stsGetSessionToken issues a session credential of the caller's user (or
// of the root user, for at most an hour). STS refuses it to callers that
// already hold temporary credentials.
func stsGetSessionToken(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "DurationSeconds", "SerialNumber")}
	if err := stsCallerRequired(c); err != nil {
		return res, err
	}
	if c.cred.Temporary() {
		return res, errSessionCredentials("GetSessionToken")
	}
	def, longest, clamp := stsUserDefault, stsUserMax, false
	if c.cred.Kind == KindRootKey {
		def, longest, clamp = stsRootMax, stsRootMax, true
	}
	d, err := stsDuration(c, def, longest, clamp)
	if err != nil {
		return res, err
	}
	mfa, err := s.checkMFA(c)
	if err != nil {
		return res, err
	}
	k := s.stsIssue(c, KindSession, "GetSessionToken", d)
	if mfa {
		k.MFAAt = c.Time.UTC()
	}
	n, rec := stsCredentials(k)
	res.XML = []*Node{n}
	res.Response = map[string]any{"credentials": rec}
	res.Derived = []*Credential{k}
	return res, nil
}

// stsSessionPolicy joins the Policy and PolicyArns parameters into the one
// session policy document the credential carries. Only the explicit denies
// of it matter to the simulator's authorisation, so joining the statements
// keeps every deny of every part.
func (s *Sim) stsSessionPolicy(c *Call) (doc string, packedSize int, apiErr *APIError) {
	var parts []string
	if p, ok := c.Params["Policy"]; ok {
		if len(p) > stsMaxSessionPolicy {
			return "", 0, errValidation("1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", stsMaxSessionPolicy)
		}
		if err := iamCheckPolicy(p, iamSessionPolicy); err != nil {
			return "", 0, err
		}
		parts = append(parts, p)
		packedSize += len(stsCompactJSON(p))
	}
	for _, m := range structListParam(c.Params, "PolicyArns.member") {
		arn := m["arn"]
		p, ok := s.acct.Policies[arn]
		if !ok {
			return "", 0, errf(400, "InvalidParameterValue", "The policy ARN %s is not valid or does not exist.", arn)
		}
		parts = append(parts, p.Document)
		packedSize += len(arn)
	}
	switch len(parts) {
	case 0:
		return "", 0, nil
	case 1:
		return parts[0], stsPacked(packedSize), nil
	}
	var all []json.RawMessage
	for _, p := range parts {
		var d struct {
			Statement json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal([]byte(p), &d); err != nil {
			return "", 0, errf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
		}
		var list []json.RawMessage
		if json.Unmarshal(d.Statement, &list) != nil {
			list = []json.RawMessage{d.Statement}
		}
		all = append(all, list...)
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": all})
	if err != nil {
		return "", 0, errf(500, "InternalFailure", "simulator: join session policies: %v", err)
	}
	return string(b), stsPacked(packedSize), nil
}

// stsPacked is PackedPolicySize: the session policies' share of what STS can
// pack into a token, in percent (at least 1 when there is a policy), as the
// answer and the CloudTrail record report it.
func stsPacked(n int) int {
	return max(1, n*100/stsPackedPolicyBudget)
}

// stsCompactJSON is a document without insignificant white space, which is
// what STS packs.
func stsCompactJSON(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	b, err := json.Marshal(v)
	if err != nil {
		return doc
	}
	return string(b)
}

// stsGetFederationToken issues a federated user session of the caller's
// user. Like GetSessionToken it needs long-term credentials; its Policy is
// the session policy whose denies apply on top of the user's policies.
func stsGetFederationToken(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "Name", "Policy", "DurationSeconds")}
	if err := stsCallerRequired(c); err != nil {
		return res, err
	}
	if c.cred.Temporary() {
		return res, errSessionCredentials("GetFederationToken")
	}
	name, err := stsCheckSessionName(c, "Name", 32)
	if err != nil {
		return res, err
	}
	def, longest, clamp := stsUserDefault, stsUserMax, false
	if c.cred.Kind == KindRootKey {
		def, longest, clamp = stsRootMax, stsRootMax, true
	}
	d, err := stsDuration(c, def, longest, clamp)
	if err != nil {
		return res, err
	}
	policy, packed, err := s.stsSessionPolicy(c)
	if err != nil {
		return res, err
	}
	k := s.stsIssue(c, KindFederation, "GetFederationToken", d)
	k.SessionName = name
	k.InlinePolicy = policy
	n, rec := stsCredentials(k)
	arn := s.arnOf(k)
	fedID := s.acct.ID + ":" + name
	res.XML = []*Node{n, elem("FederatedUser", el("FederatedUserId", fedID), el("Arn", arn))}
	res.Response = map[string]any{"credentials": rec, "federatedUser": map[string]any{"arn": arn, "federatedUserId": fedID}}
	if policy != "" {
		res.XML = append(res.XML, el("PackedPolicySize", strconv.Itoa(packed)))
		res.Response["packedPolicySize"] = packed
	}
	res.Derived = []*Credential{k}
	return res, nil
}

// stsRoleFromARN finds the role a RoleArn names in this account.
func (s *Sim) stsRoleFromARN(arn string) (*Role, bool) {
	prefix := "arn:aws:iam::" + s.acct.ID + ":role/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok || rest == "" {
		return nil, false
	}
	name := rest[strings.LastIndex(rest, "/")+1:]
	r, ok := s.acct.Roles[name]
	if !ok || roleARN(s.acct.ID, r) != arn {
		return nil, false
	}
	return r, true
}

// stsAssumeRole issues a session of a role of the account. In an account
// with ImplicitDeny the role's trust policy must allow the caller (with the
// MFA given in the call as its context); elsewhere any caller may. A role
// that does not exist gets the AccessDenied AWS gives for it. Root may not assume roles, federated sessions may not
// call STS, and a role session assuming a role (role chaining) is limited to
// an hour, as in AWS.
func stsAssumeRole(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "RoleArn", "RoleSessionName", "DurationSeconds", "Policy", "ExternalId", "SerialNumber")}
	if err := stsCallerRequired(c); err != nil {
		return res, err
	}
	arn, ok := c.Params["RoleArn"]
	if !ok || arn == "" {
		return res, errMissingParam("RoleArn")
	}
	if len(arn) < 20 || len(arn) > 2048 {
		return res, errValidation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", arn)
	}
	session, err := stsCheckSessionName(c, "RoleSessionName", 64)
	if err != nil {
		return res, err
	}
	switch c.cred.Kind {
	case KindRootKey:
		return res, errf(403, "AccessDenied", "Roles may not be assumed by root accounts.")
	case KindFederation:
		return res, errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", s.arnOf(c.cred), arn)
	}
	// MFA is checked against the caller's devices, in the caller's
	// account; the trust policy sees whether it was given.
	mfa, err := s.checkMFA(c)
	if err != nil {
		return res, err
	}
	caller := s.trustCaller(c, mfa)
	// A role of another account of the simulator is assumed there: the
	// session belongs to that account (its calls are logged in that
	// account's CloudTrail), while this call is logged in the caller's.
	if target := s.roleAccount(arn); target != nil {
		defer s.enter(target)()
	}
	r, ok := s.stsRoleFromARN(arn)
	if !ok || !s.trusts(r, caller) {
		return res, errf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.arn, arn)
	}
	limit, tooLong := r.MaxSession, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	if limit == 0 {
		limit = iamDefaultMaxSession
	}
	if c.cred.Kind == KindRole {
		limit, tooLong = stsRoleChainingMax, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	}
	if n, convErr := strconv.Atoi(c.Params["DurationSeconds"]); convErr == nil && time.Duration(n)*time.Second > limit {
		return res, errValidation("%s", tooLong)
	}
	d, err := stsDuration(c, stsRoleDefault, limit, false)
	if err != nil {
		return res, err
	}
	policy, packed, err := s.stsSessionPolicy(c)
	if err != nil {
		return res, err
	}
	k := s.stsIssue(c, KindRole, "AssumeRole", d)
	if mfa {
		k.MFAAt = c.Time.UTC()
	}
	k.UserName = ""
	k.RoleName = r.Name
	k.SessionName = session
	k.InlinePolicy = policy
	n, rec := stsCredentials(k)
	userArn := s.arnOf(k)
	roleID := r.ID + ":" + session
	res.XML = []*Node{n, elem("AssumedRoleUser", el("AssumedRoleId", roleID), el("Arn", userArn))}
	res.Response = map[string]any{"credentials": rec, "assumedRoleUser": map[string]any{"assumedRoleId": roleID, "arn": userArn}}
	if policy != "" {
		res.XML = append(res.XML, el("PackedPolicySize", strconv.Itoa(packed)))
		res.Response["packedPolicySize"] = packed
	}
	res.Resources = []EventResource{{Type: "AWS::IAM::Role", Name: arn}}
	res.Derived = []*Credential{k}
	return res, nil
}
