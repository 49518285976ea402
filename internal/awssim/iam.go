package awssim

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// iamOps returns the handlers of the simulated iam API.
func iamOps() map[string]handler {
	return map[string]handler{
		"GetUser":              iamGetUser,
		"ListUsers":            iamListUsers,
		"CreateUser":           iamCreateUser,
		"DeleteUser":           iamDeleteUser,
		"GetAccessKeyLastUsed": iamGetAccessKeyLastUsed,
		"ListAccessKeys":       iamListAccessKeys,
		"UpdateAccessKey":      iamUpdateAccessKey,
		"DeleteAccessKey":      iamDeleteAccessKey,
		"CreateAccessKey":      iamCreateAccessKey,
		"ListGroupsForUser":    iamListGroupsForUser,
		"GetLoginProfile":      iamGetLoginProfile,
		"CreateLoginProfile":   iamCreateLoginProfile,
		"DeleteLoginProfile":   iamDeleteLoginProfile,

		"ListUserPolicies":         iamPolicyHandler(iamUserKind, iamListInline),
		"GetUserPolicy":            iamPolicyHandler(iamUserKind, iamGetInline),
		"PutUserPolicy":            iamPolicyHandler(iamUserKind, iamPutInline),
		"DeleteUserPolicy":         iamPolicyHandler(iamUserKind, iamDeleteInline),
		"ListAttachedUserPolicies": iamPolicyHandler(iamUserKind, iamListAttached),
		"AttachUserPolicy":         iamPolicyHandler(iamUserKind, iamAttach),
		"DetachUserPolicy":         iamPolicyHandler(iamUserKind, iamDetach),

		"CreateRole":               iamCreateRole,
		"GetRole":                  iamGetRole,
		"ListRoles":                iamListRoles,
		"DeleteRole":               iamDeleteRole,
		"ListRolePolicies":         iamPolicyHandler(iamRoleKind, iamListInline),
		"GetRolePolicy":            iamPolicyHandler(iamRoleKind, iamGetInline),
		"PutRolePolicy":            iamPolicyHandler(iamRoleKind, iamPutInline),
		"DeleteRolePolicy":         iamPolicyHandler(iamRoleKind, iamDeleteInline),
		"ListAttachedRolePolicies": iamPolicyHandler(iamRoleKind, iamListAttached),
		"AttachRolePolicy":         iamPolicyHandler(iamRoleKind, iamAttach),
		"DetachRolePolicy":         iamPolicyHandler(iamRoleKind, iamDetach),

		"CreateGroup":               iamCreateGroup,
		"ListGroups":                iamListGroups,
		"DeleteGroup":               iamDeleteGroup,
		"AddUserToGroup":            iamAddUserToGroup,
		"RemoveUserFromGroup":       iamRemoveUserFromGroup,
		"ListGroupPolicies":         iamPolicyHandler(iamGroupKind, iamListInline),
		"GetGroupPolicy":            iamPolicyHandler(iamGroupKind, iamGetInline),
		"PutGroupPolicy":            iamPolicyHandler(iamGroupKind, iamPutInline),
		"DeleteGroupPolicy":         iamPolicyHandler(iamGroupKind, iamDeleteInline),
		"ListAttachedGroupPolicies": iamPolicyHandler(iamGroupKind, iamListAttached),
		"AttachGroupPolicy":         iamPolicyHandler(iamGroupKind, iamAttach),
		"DetachGroupPolicy":         iamPolicyHandler(iamGroupKind, iamDetach),

		"GetPolicy":        iamGetPolicy,
		"GetPolicyVersion": iamGetPolicyVersion,

		"UpdateAssumeRolePolicy": iamUpdateAssumeRolePolicy,
		"CreateVirtualMFADevice": iamCreateVirtualMFADevice,
		"EnableMFADevice":        iamEnableMFADevice,
		"ListMFADevices":         iamListMFADevices,
		"DeactivateMFADevice":    iamDeactivateMFADevice,
		"DeleteVirtualMFADevice": iamDeleteVirtualMFADevice,
		"ListVirtualMFADevices":  iamListVirtualMFADevices,

		"GenerateCredentialReport": iamGenerateCredentialReport,
		"GetCredentialReport":      iamGetCredentialReport,
	}
}

// IAM quotas the simulator enforces (AWS defaults).
const (
	iamMaxKeysPerUser     = 2
	iamMaxManagedAttached = 10
	iamDefaultMaxItems    = 100
)

// iamCTDate is how CloudTrail writes IAM dates in responseElements
// ("Aug 1, 2024 1:42:21 PM" in real records).
func iamCTDate(t time.Time) string { return t.UTC().Format("Jan 2, 2006 3:04:05 PM") }

// iamEncodeDoc percent-encodes a policy document as IAM returns it
// (RFC 3986: spaces as %20, never '+'). SDK users must URL-decode it.
func iamEncodeDoc(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// iamNamePattern is IAM's pattern for user, role, group and policy names.
var iamNamePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)

// iamCheckName validates a required name parameter: present, of IAM's
// characters and at most maxLen long.
func iamCheckName(c *Call, param string, maxLen int) (string, *APIError) {
	v, ok := c.Params[param]
	if !ok || v == "" {
		return "", errMissingParam(param)
	}
	field := iamCamel(param)
	if len(v) > maxLen {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", v, field, maxLen)
	}
	if !iamNamePattern.MatchString(v) {
		return "", errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, field)
	}
	return v, nil
}

// iamCheckPath validates an optional Path parameter ("/" when absent).
func iamCheckPath(c *Call) (string, *APIError) {
	p, ok := c.Params["Path"]
	if !ok {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return "", errValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

// iamCamel is the CloudTrail spelling of a query parameter name.
func iamCamel(param string) string {
	r := []rune(param)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// iamRequest builds CloudTrail requestParameters from the named query
// parameters that are present, in camelCase as real records have them.
// DurationSeconds, MaxSessionDuration and MaxItems become numbers and
// PasswordResetRequired a boolean; Tags.member.N become [{"key","value"}].
// It returns nil when none is present, which records null as AWS does.
func iamRequest(c *Call, params ...string) map[string]any {
	req := map[string]any{}
	for _, p := range params {
		if p == "Tags" {
			if tags := structListParam(c.Params, "Tags.member"); len(tags) > 0 {
				var list []map[string]any
				for _, t := range tags {
					list = append(list, map[string]any{"key": t["Key"], "value": t["Value"]})
				}
				req["tags"] = list
			}
			continue
		}
		v, ok := c.Params[p]
		if !ok {
			continue
		}
		switch p {
		case "DurationSeconds", "MaxSessionDuration", "MaxItems":
			if n, err := strconv.Atoi(v); err == nil {
				req[iamCamel(p)] = n
				continue
			}
		case "PasswordResetRequired":
			req[iamCamel(p)] = v == "true"
			continue
		}
		req[iamCamel(p)] = v
	}
	if len(req) == 0 {
		return nil
	}
	return req
}

// iamTags reads Tags.member.N.Key/Value.
func iamTags(c *Call) (map[string]string, *APIError) {
	tags := map[string]string{}
	for _, t := range structListParam(c.Params, "Tags.member") {
		k, ok := t["Key"]
		if !ok || k == "" {
			return nil, errValidation("1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null")
		}
		tags[k] = t["Value"]
	}
	if len(tags) > 50 {
		return nil, errf(409, "LimitExceeded", "Cannot exceed quota for TagsPerUser: 50")
	}
	return tags, nil
}

func iamTagNodes(tags map[string]string) *Node {
	if len(tags) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var items []*Node
	for _, k := range keys {
		items = append(items, elem("", el("Key", k), el("Value", tags[k])))
	}
	return members("Tags", "member", items)
}

// iamPage applies Marker and MaxItems to a list sorted by key and returns
// the page and the IsTruncated/Marker elements of the answer. The marker is
// the (opaque-looking) key of the next item, so that pages stay stable
// when items before the marker are deleted between calls.
func iamPage[T any](c *Call, items []T, key func(T) string) ([]T, []*Node, *APIError) {
	limit := iamDefaultMaxItems
	if v, ok := c.Params["MaxItems"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, nil, errValidation("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		limit = n
	}
	start := 0
	if m, ok := c.Params["Marker"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, nil, errValidation("Invalid Marker.")
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) >= string(raw) })
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if end < len(items) {
		return page, []*Node{el("IsTruncated", "true"), el("Marker", base64.RawURLEncoding.EncodeToString([]byte(key(items[end]))))}, nil
	}
	return page, []*Node{el("IsTruncated", "false")}, nil
}

// iamFind looks a name up the way IAM does: names are unique regardless of
// case, so "Bob" finds "bob".
func iamFind[T any](m map[string]T, name string) (T, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func errNoSuchUser(name string) *APIError {
	return errf(404, "NoSuchEntity", "The user with name %s cannot be found.", name)
}

// iamCreator is the access key recorded as the creator of a new object ("" for
// calls made by AWS itself).
func iamCreator(c *Call) string {
	if c.cred == nil {
		return ""
	}
	return c.cred.AccessKeyID
}

// errNonUserCredentials is IAM's answer when an action that defaults to the
// caller's user is called by a role or federated session without UserName.
func errNonUserCredentials() *APIError {
	return errValidation("Must specify userName when calling with non-User credentials")
}

// iamTargetUser resolves the UserName parameter, or the caller's user when
// it is absent. root is true when the caller is the root user and no
// UserName was given: then the action applies to the root user.
func (s *Sim) iamTargetUser(c *Call) (u *User, root bool, err *APIError) {
	if c.Params["UserName"] != "" {
		name, apiErr := iamCheckName(c, "UserName", 64)
		if apiErr != nil {
			return nil, false, apiErr
		}
		u, ok := iamFind(s.acct.Users, name)
		if !ok {
			return nil, false, errNoSuchUser(name)
		}
		return u, false, nil
	}
	cred := c.cred
	switch {
	case cred == nil:
		return nil, false, errMissingParam("UserName")
	case cred.Kind == KindRootKey:
		return nil, true, nil
	case cred.Kind == KindUserKey || cred.Kind == KindSession:
		if cred.UserName == "" {
			return nil, true, nil // a session of the root user
		}
		u, ok := s.acct.Users[cred.UserName]
		if !ok {
			return nil, false, errNoSuchUser(cred.UserName)
		}
		return u, false, nil
	}
	return nil, false, errNonUserCredentials()
}

func (s *Sim) iamUserARN(u *User) string {
	return s.arnOf(&Credential{Kind: KindUserKey, UserName: u.Name})
}

func (s *Sim) iamGroupARN(g *Group) string {
	p := g.Path
	if p == "" {
		p = "/"
	}
	return "arn:aws:iam::" + s.acct.ID + ":group" + p + g.Name
}

func iamPathOf(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// iamUserNode is the User structure of GetUser, CreateUser and ListUsers.
func (s *Sim) iamUserNode(u *User, withTags bool) *Node {
	n := elem("User",
		el("Path", iamPathOf(u.Path)), el("UserName", u.Name), el("UserId", u.ID),
		el("Arn", s.iamUserARN(u)), el("CreateDate", isoTime(u.Created)))
	if withTags {
		if t := iamTagNodes(u.Tags); t != nil {
			n.Kids = append(n.Kids, t)
		}
	}
	return n
}

func (s *Sim) iamGroupNode(g *Group) *Node {
	return elem("Group", el("Path", iamPathOf(g.Path)), el("GroupName", g.Name), el("GroupId", g.ID),
		el("Arn", s.iamGroupARN(g)), el("CreateDate", isoTime(g.Created)))
}

func iamUserResource(name string) EventResource {
	return EventResource{Type: "AWS::IAM::User", Name: name}
}

func iamKeyResource(id string) EventResource {
	return EventResource{Type: "AWS::IAM::AccessKey", Name: id}
}

// iamGetUser answers GetUser; without UserName it describes the caller, and
// for the root user the account itself (no UserName or Path, as AWS does).
func iamGetUser(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	u, root, err := s.iamTargetUser(c)
	if err != nil {
		return res, err
	}
	if root {
		created := c.Time
		for _, id := range s.acct.RootKeys {
			if k := s.acct.Keys[id]; k != nil && k.Created.Before(created) {
				created = k.Created
			}
		}
		res.XML = []*Node{elem("User", el("UserId", s.acct.ID), el("Arn", "arn:aws:iam::"+s.acct.ID+":root"),
			el("CreateDate", isoTime(created)))}
		return res, nil
	}
	res.XML = []*Node{s.iamUserNode(u, true)}
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

func iamListUsers(s *Sim, c *Call) (*Result, error) {
	return iamListByPath(c, s.acct.Users, "Users", func(u *User) string { return u.Path },
		func(u *User) string { return u.Name }, func(u *User) *Node { return s.iamUserNode(u, false) })
}

func iamCreateUser(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName", "Path", "Tags")}
	name, err := iamCheckName(c, "UserName", 64)
	if err != nil {
		return res, err
	}
	path, err := iamCheckPath(c)
	if err != nil {
		return res, err
	}
	tags, err := iamTags(c)
	if err != nil {
		return res, err
	}
	if _, ok := iamFind(s.acct.Users, name); ok {
		return res, errf(409, "EntityAlreadyExists", "User with name %s already exists.", name)
	}
	u := &User{Name: name, ID: s.newUniqueID("AIDA"), Path: path, Created: c.Time.UTC(),
		Inline: map[string]string{}, Tags: tags, CreatedBy: iamCreator(c)}
	s.acct.Users[name] = u
	// Sessions of an earlier user of the same name must not come back to
	// life: AWS tells users apart by their unique ID, not their name.
	s.iamEndSessions(func(k *Credential) bool { return k.UserName == name && k.Created.Before(u.Created) })
	res.XML = []*Node{s.iamUserNode(u, true)}
	user := map[string]any{"arn": s.iamUserARN(u), "createDate": iamCTDate(u.Created), "path": u.Path,
		"userId": u.ID, "userName": u.Name}
	if t, ok := res.Request["tags"]; ok {
		user["tags"] = t
	}
	res.Response = map[string]any{"user": user}
	res.Resources = []EventResource{iamUserResource(name)}
	return res, nil
}

// iamEndSessions marks the matching temporary credentials deleted, so that
// they fail authentication for good once their principal is gone.
func (s *Sim) iamEndSessions(match func(*Credential) bool) {
	for _, k := range s.acct.Keys {
		if k.Temporary() && !k.Deleted && match(k) {
			k.Deleted = true
		}
	}
}

// iamUserKeys lists a user's access keys that are not deleted, oldest first.
func (s *Sim) iamUserKeys(user string) []*Credential {
	var keys []*Credential
	for _, k := range s.acct.Keys {
		if k.Kind == KindUserKey && k.UserName == user && !k.Deleted {
			keys = append(keys, k)
		}
	}
	iamSortKeys(keys)
	return keys
}

func (s *Sim) iamRootKeys() []*Credential {
	var keys []*Credential
	for _, id := range s.acct.RootKeys {
		if k := s.acct.Keys[id]; k != nil && !k.Deleted {
			keys = append(keys, k)
		}
	}
	iamSortKeys(keys)
	return keys
}

func iamSortKeys(keys []*Credential) {
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].Created.Equal(keys[j].Created) {
			return keys[i].Created.Before(keys[j].Created)
		}
		return keys[i].AccessKeyID < keys[j].AccessKeyID
	})
}

// iamDeleteUser refuses, as AWS does, while anything still hangs off the
// user: the responder must remove a backdoor user's keys, policies, groups
// and password first.
func iamDeleteUser(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	name, err := iamCheckName(c, "UserName", 64)
	if err != nil {
		return res, err
	}
	u, ok := iamFind(s.acct.Users, name)
	if !ok {
		return res, errNoSuchUser(name)
	}
	conflict := func(what string) (*Result, error) {
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must %s first.", what)
	}
	switch {
	case u.LoginProfile != nil:
		return conflict("delete login profile")
	case len(s.iamUserKeys(u.Name)) > 0:
		return conflict("delete access keys")
	case len(u.Inline) > 0:
		return conflict("delete policies")
	case len(u.Attached) > 0:
		return conflict("detach all policies")
	case len(u.Groups) > 0:
		return conflict("remove users from group")
	}
	delete(s.acct.Users, u.Name)
	s.iamEndSessions(func(k *Credential) bool {
		return (k.Kind == KindSession || k.Kind == KindFederation) && k.UserName == u.Name
	})
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamLongTermKey finds a long-term key that is not deleted.
func (s *Sim) iamLongTermKey(id string) (*Credential, bool) {
	k, ok := s.acct.Keys[id]
	if !ok || k.Deleted || k.Temporary() {
		return nil, false
	}
	return k, true
}

// iamGetAccessKeyLastUsed reports a key's last use ("N/A" service and region
// when never used, as AWS answers). For a key the account does not have
// (unknown, deleted or temporary) it answers AccessDenied on the key: the API
// model lists no NoSuchEntity for this action, and AccessDenied is what AWS
// gives for keys the caller cannot reach.
func iamGetAccessKeyLastUsed(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "AccessKeyId")}
	id := c.Params["AccessKeyId"]
	if id == "" {
		return res, errMissingParam("AccessKeyId")
	}
	k, ok := s.iamLongTermKey(id)
	if !ok {
		who := "arn:aws:iam::" + s.acct.ID + ":root"
		if c.cred != nil {
			who = s.arnOf(c.cred)
		}
		return res, errf(403, "AccessDenied", "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", who, id)
	}
	user := k.UserName
	if k.Kind == KindRootKey {
		user = "root"
	}
	last := elem("AccessKeyLastUsed", el("ServiceName", "N/A"), el("Region", "N/A"))
	if !k.LastUsed.IsZero() {
		last = elem("AccessKeyLastUsed", el("LastUsedDate", isoTime(k.LastUsed)),
			el("ServiceName", k.LastUsedService), el("Region", k.LastUsedRegion))
	}
	res.XML = []*Node{el("UserName", user), last}
	res.Resources = []EventResource{iamKeyResource(id)}
	return res, nil
}

func iamKeyMetadata(k *Credential) *Node {
	n := elem("", el("AccessKeyId", k.AccessKeyID), el("Status", k.Status), el("CreateDate", isoTime(k.Created)))
	if k.Kind == KindUserKey {
		n.Kids = append([]*Node{el("UserName", k.UserName)}, n.Kids...)
	}
	return n
}

func iamListAccessKeys(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName", "MaxItems", "Marker")}
	u, root, err := s.iamTargetUser(c)
	if err != nil {
		return res, err
	}
	var keys []*Credential
	if root {
		keys = s.iamRootKeys()
	} else {
		keys = s.iamUserKeys(u.Name)
		res.Resources = []EventResource{iamUserResource(u.Name)}
	}
	// Pages follow the creation order, so the marker is the creation time
	// and ID of the next key.
	page, trailer, err := iamPage(c, keys, func(k *Credential) string {
		return k.Created.UTC().Format("20060102150405.000000000") + k.AccessKeyID
	})
	if err != nil {
		return res, err
	}
	var items []*Node
	for _, k := range page {
		items = append(items, iamKeyMetadata(k))
	}
	res.XML = []*Node{members("AccessKeyMetadata", "member", items)}
	if u != nil {
		res.XML = append(res.XML, el("UserName", u.Name))
	}
	res.XML = append(res.XML, trailer...)
	return res, nil
}

// iamTargetKey finds the key an access-key action names: it must belong to
// UserName, or to the caller's user when UserName is absent (IAM infers the
// user from the signing key, so naming another user's key without UserName
// fails with NoSuchEntity, as in AWS).
func (s *Sim) iamTargetKey(c *Call) (*Credential, *User, *APIError) {
	id := c.Params["AccessKeyId"]
	if id == "" {
		return nil, nil, errMissingParam("AccessKeyId")
	}
	if len(id) < 16 || len(id) > 128 {
		return nil, nil, errValidation("1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16", id)
	}
	u, root, err := s.iamTargetUser(c)
	if err != nil {
		return nil, nil, err
	}
	notFound := errf(404, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
	k, ok := s.iamLongTermKey(id)
	if !ok {
		return nil, nil, notFound
	}
	if root && k.Kind != KindRootKey || !root && (k.Kind != KindUserKey || k.UserName != u.Name) {
		return nil, nil, notFound
	}
	return k, u, nil
}

func iamUpdateAccessKey(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "AccessKeyId", "Status", "UserName")}
	status, ok := c.Params["Status"]
	if !ok {
		return res, errMissingParam("Status")
	}
	if status != "Active" && status != "Inactive" {
		return res, errValidation("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	k, _, err := s.iamTargetKey(c)
	if err != nil {
		return res, err
	}
	k.Status = status
	res.Resources = s.iamKeyResources(k)
	return res, nil
}

func (s *Sim) iamKeyResources(k *Credential) []EventResource {
	rr := []EventResource{iamKeyResource(k.AccessKeyID)}
	if k.Kind == KindUserKey {
		rr = append(rr, iamUserResource(k.UserName))
	}
	return rr
}

// iamDeleteAccessKey marks the key deleted but keeps it, so that /_sim/truth
// and GetAccessKeyInfo still know it (its ID stays searchable in CloudTrail).
func iamDeleteAccessKey(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "AccessKeyId", "UserName")}
	k, _, err := s.iamTargetKey(c)
	if err != nil {
		return res, err
	}
	k.Deleted = true
	res.Resources = s.iamKeyResources(k)
	return res, nil
}

// iamCreateAccessKey makes a new long-term key. It is derived from the
// calling key (Parent, Via), so a backdoor key made with a leaked key shows
// up in the leaked key's derivation chain. The secret is in the answer only,
// never in the CloudTrail record.
func iamCreateAccessKey(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	u, root, err := s.iamTargetUser(c)
	if err != nil {
		return res, err
	}
	var existing []*Credential
	k := &Credential{Kind: KindUserKey, Status: "Active", Created: c.Time.UTC(), Via: "CreateAccessKey",
		Parent: iamCreator(c), Secret: s.newSecret()}
	if root {
		existing = s.iamRootKeys()
		k.Kind = KindRootKey
	} else {
		existing = s.iamUserKeys(u.Name)
		k.UserName = u.Name
	}
	if len(existing) >= iamMaxKeysPerUser {
		return res, errf(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", iamMaxKeysPerUser)
	}
	for k.AccessKeyID == "" || s.acct.Keys[k.AccessKeyID] != nil {
		k.AccessKeyID = s.newUniqueID("AKIA")
	}
	s.acct.Keys[k.AccessKeyID] = k
	if root {
		s.acct.RootKeys = append(s.acct.RootKeys, k.AccessKeyID)
	}
	ak := elem("AccessKey", el("AccessKeyId", k.AccessKeyID), el("Status", k.Status),
		el("SecretAccessKey", k.Secret), el("CreateDate", isoTime(k.Created)))
	rec := map[string]any{"accessKeyId": k.AccessKeyID, "createDate": iamCTDate(k.Created), "status": k.Status}
	if !root {
		ak.Kids = append([]*Node{el("UserName", u.Name)}, ak.Kids...)
		rec["userName"] = u.Name
	}
	res.XML = []*Node{ak}
	res.Response = map[string]any{"accessKey": rec}
	res.Resources = s.iamKeyResources(k)
	res.Derived = []*Credential{k}
	return res, nil
}

func iamListGroupsForUser(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName", "MaxItems", "Marker")}
	name, err := iamCheckName(c, "UserName", 64)
	if err != nil {
		return res, err
	}
	u, ok := iamFind(s.acct.Users, name)
	if !ok {
		return res, errNoSuchUser(name)
	}
	var groups []*Group
	for _, g := range u.Groups {
		if grp, ok := s.acct.Groups[g]; ok {
			groups = append(groups, grp)
		}
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].Name < groups[j].Name })
	page, trailer, err := iamPage(c, groups, func(g *Group) string { return g.Name })
	if err != nil {
		return res, err
	}
	var items []*Node
	for _, g := range page {
		items = append(items, s.iamGroupNode(g))
	}
	res.XML = append([]*Node{members("Groups", "member", items)}, trailer...)
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamLoginUser resolves the user of a login-profile action; the root user's
// password cannot be managed through IAM.
func (s *Sim) iamLoginUser(c *Call) (*User, *APIError) {
	u, root, err := s.iamTargetUser(c)
	if err != nil {
		return nil, err
	}
	if root {
		return nil, errValidation("Must specify userName when calling with root credentials")
	}
	return u, nil
}

func iamLoginProfileNode(u *User) *Node {
	return elem("LoginProfile", el("UserName", u.Name), el("CreateDate", isoTime(u.LoginProfile.Created)),
		el("PasswordResetRequired", strconv.FormatBool(u.LoginProfile.PasswordResetRequired)))
}

func iamGetLoginProfile(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	if u.LoginProfile == nil {
		return res, errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.Name)
	}
	res.XML = []*Node{iamLoginProfileNode(u)}
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// iamCreateLoginProfile gives a user a console password. The password is
// neither kept nor recorded, as in CloudTrail.
func iamCreateLoginProfile(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	reset := c.Params["PasswordResetRequired"] == "true"
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	if res.Request == nil {
		res.Request = map[string]any{}
	}
	res.Request["userName"] = u.Name
	res.Request["passwordResetRequired"] = reset
	pw := c.Params["Password"]
	if pw == "" {
		return res, errValidation("Password is required when creating a login profile for an IAM user.")
	}
	if len(pw) < 8 || len(pw) > 128 {
		return res, errf(400, "PasswordPolicyViolation", "Password should have a minimum length of 8")
	}
	if u.LoginProfile != nil {
		return res, errf(409, "EntityAlreadyExists", "Login Profile for user %s already exists.", u.Name)
	}
	u.LoginProfile = &LoginProfile{Created: c.Time.UTC(), PasswordResetRequired: reset}
	res.XML = []*Node{iamLoginProfileNode(u)}
	res.Response = map[string]any{"loginProfile": map[string]any{
		"createDate": iamCTDate(u.LoginProfile.Created), "passwordResetRequired": reset, "userName": u.Name}}
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

func iamDeleteLoginProfile(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "UserName")}
	u, err := s.iamLoginUser(c)
	if err != nil {
		return res, err
	}
	if u.LoginProfile == nil {
		return res, errf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.Name)
	}
	u.LoginProfile = nil
	res.Resources = []EventResource{iamUserResource(u.Name)}
	return res, nil
}

// Roles.

const (
	iamDefaultMaxSession = time.Hour
	iamMaxMaxSession     = 12 * time.Hour
)

func errNoSuchRole(name string) *APIError {
	return errf(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
}

func (s *Sim) iamRoleNode(r *Role, withLastUsed bool) *Node {
	longest := r.MaxSession
	if longest == 0 {
		longest = iamDefaultMaxSession
	}
	n := elem("Role", el("Path", iamPathOf(r.Path)), el("RoleName", r.Name), el("RoleId", r.ID),
		el("Arn", roleARN(s.acct.ID, r)), el("CreateDate", isoTime(r.Created)),
		el("AssumeRolePolicyDocument", iamEncodeDoc(r.AssumeRolePolicy)),
		el("MaxSessionDuration", strconv.Itoa(int(longest/time.Second))))
	if withLastUsed {
		last := elem("RoleLastUsed")
		var newest *Credential
		for _, k := range s.acct.Keys {
			if k.Kind == KindRole && k.RoleName == r.Name && (newest == nil || k.Created.After(newest.Created)) {
				newest = k
			}
		}
		if newest != nil {
			last = elem("RoleLastUsed", el("LastUsedDate", isoTime(newest.Created)))
		}
		n.Kids = append(n.Kids, last)
	}
	return n
}

func iamCreateRole(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "RoleName", "Path", "AssumeRolePolicyDocument", "Description", "MaxSessionDuration", "Tags", "PermissionsBoundary")}
	name, err := iamCheckName(c, "RoleName", 64)
	if err != nil {
		return res, err
	}
	path, err := iamCheckPath(c)
	if err != nil {
		return res, err
	}
	trust, ok := c.Params["AssumeRolePolicyDocument"]
	if !ok {
		return res, errMissingParam("AssumeRolePolicyDocument")
	}
	if err := iamCheckPolicy(trust, iamTrustPolicy); err != nil {
		return res, err
	}
	longest := iamDefaultMaxSession
	if v, ok := c.Params["MaxSessionDuration"]; ok {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 3600 || n > 43200 {
			return res, errValidation("1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", v)
		}
		longest = time.Duration(n) * time.Second
	}
	if _, err := iamTags(c); err != nil {
		return res, err
	}
	if _, ok := iamFind(s.acct.Roles, name); ok {
		return res, errf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	boundary := c.Param("PermissionsBoundary")
	if _, ok := s.acct.Policies[boundary]; boundary != "" && !ok {
		return res, errf(404, "NoSuchEntity", "Scope ARN: %s does not exist or is not attachable.", boundary)
	}
	r := &Role{Name: name, ID: s.newUniqueID("AROA"), Path: path, Created: c.Time.UTC(), AssumeRolePolicy: trust,
		Inline: map[string]string{}, MaxSession: longest, CreatedBy: iamCreator(c)}
	s.acct.Roles[name] = r
	s.iamEndSessions(func(k *Credential) bool {
		return k.Kind == KindRole && k.RoleName == name && k.Created.Before(r.Created)
	})
	res.XML = []*Node{s.iamRoleNode(r, false)}
	res.Response = map[string]any{"role": map[string]any{
		"arn": roleARN(s.acct.ID, r), "assumeRolePolicyDocument": iamEncodeDoc(trust), "createDate": iamCTDate(r.Created),
		"path": r.Path, "roleId": r.ID, "roleName": r.Name}}
	if boundary != "" {
		res.Response["role"].(map[string]any)["permissionsBoundary"] = map[string]any{"permissionsBoundaryArn": boundary, "permissionsBoundaryType": "Policy"}
	}
	res.Resources = []EventResource{{Type: "AWS::IAM::Role", Name: name}}
	return res, nil
}

func iamGetRole(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "RoleName")}
	name, err := iamCheckName(c, "RoleName", 64)
	if err != nil {
		return res, err
	}
	r, ok := iamFind(s.acct.Roles, name)
	if !ok {
		return res, errNoSuchRole(name)
	}
	res.XML = []*Node{s.iamRoleNode(r, true)}
	res.Resources = []EventResource{{Type: "AWS::IAM::Role", Name: r.Name}}
	return res, nil
}

func iamListRoles(s *Sim, c *Call) (*Result, error) {
	return iamListByPath(c, s.acct.Roles, "Roles", func(r *Role) string { return r.Path },
		func(r *Role) string { return r.Name }, func(r *Role) *Node { return s.iamRoleNode(r, false) })
}

// iamDeleteRole deletes a role without policies; its sessions die with it.
func iamDeleteRole(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "RoleName")}
	name, err := iamCheckName(c, "RoleName", 64)
	if err != nil {
		return res, err
	}
	r, ok := iamFind(s.acct.Roles, name)
	if !ok {
		return res, errNoSuchRole(name)
	}
	if len(r.Inline) > 0 {
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	if len(r.Attached) > 0 {
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	delete(s.acct.Roles, r.Name)
	s.iamEndSessions(func(k *Credential) bool { return k.Kind == KindRole && k.RoleName == r.Name })
	res.Resources = []EventResource{{Type: "AWS::IAM::Role", Name: r.Name}}
	return res, nil
}

// Groups.

func errNoSuchGroup(name string) *APIError {
	return errf(404, "NoSuchEntity", "The group with name %s cannot be found.", name)
}

func iamCreateGroup(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "GroupName", "Path")}
	name, err := iamCheckName(c, "GroupName", 128)
	if err != nil {
		return res, err
	}
	path, err := iamCheckPath(c)
	if err != nil {
		return res, err
	}
	if _, ok := iamFind(s.acct.Groups, name); ok {
		return res, errf(409, "EntityAlreadyExists", "Group with name %s already exists.", name)
	}
	g := &Group{Name: name, ID: s.newUniqueID("AGPA"), Path: path, Created: c.Time.UTC(), Inline: map[string]string{}}
	s.acct.Groups[name] = g
	res.XML = []*Node{s.iamGroupNode(g)}
	res.Response = map[string]any{"group": map[string]any{"arn": s.iamGroupARN(g), "createDate": iamCTDate(g.Created),
		"groupId": g.ID, "groupName": g.Name, "path": g.Path}}
	res.Resources = []EventResource{{Type: "AWS::IAM::Group", Name: name}}
	return res, nil
}

func iamListGroups(s *Sim, c *Call) (*Result, error) {
	return iamListByPath(c, s.acct.Groups, "Groups", func(g *Group) string { return g.Path },
		func(g *Group) string { return g.Name }, s.iamGroupNode)
}

// iamListByPath answers ListUsers, ListRoles and ListGroups: the entities
// under PathPrefix, by name, a page at a time, in a <list> of members.
func iamListByPath[T any](c *Call, all map[string]T, list string, path, name func(T) string, node func(T) *Node) (*Result, error) {
	res := &Result{Request: iamRequest(c, "PathPrefix", "MaxItems", "Marker")}
	prefix := c.Params["PathPrefix"]
	var found []T
	for _, v := range all {
		if strings.HasPrefix(iamPathOf(path(v)), prefix) {
			found = append(found, v)
		}
	}
	sort.Slice(found, func(i, j int) bool { return name(found[i]) < name(found[j]) })
	page, trailer, err := iamPage(c, found, name)
	if err != nil {
		return res, err
	}
	items := make([]*Node, 0, len(page))
	for _, v := range page {
		items = append(items, node(v))
	}
	res.XML = append([]*Node{members(list, "member", items)}, trailer...)
	return res, nil
}

func (s *Sim) iamGroupMembers(name string) []*User {
	var out []*User
	for _, u := range s.acct.Users {
		if slices.Contains(u.Groups, name) {
			out = append(out, u)
		}
	}
	return out
}

func iamDeleteGroup(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "GroupName")}
	name, err := iamCheckName(c, "GroupName", 128)
	if err != nil {
		return res, err
	}
	g, ok := iamFind(s.acct.Groups, name)
	if !ok {
		return res, errNoSuchGroup(name)
	}
	switch {
	case len(s.iamGroupMembers(g.Name)) > 0:
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must remove users from group first.")
	case len(g.Inline) > 0:
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	case len(g.Attached) > 0:
		return res, errf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	delete(s.acct.Groups, g.Name)
	res.Resources = []EventResource{{Type: "AWS::IAM::Group", Name: g.Name}}
	return res, nil
}

// iamUserAndGroup resolves the GroupName and UserName of a membership call.
func (s *Sim) iamUserAndGroup(c *Call) (*User, *Group, *APIError) {
	gname, err := iamCheckName(c, "GroupName", 128)
	if err != nil {
		return nil, nil, err
	}
	uname, err := iamCheckName(c, "UserName", 64)
	if err != nil {
		return nil, nil, err
	}
	g, ok := iamFind(s.acct.Groups, gname)
	if !ok {
		return nil, nil, errNoSuchGroup(gname)
	}
	u, ok := iamFind(s.acct.Users, uname)
	if !ok {
		return nil, nil, errNoSuchUser(uname)
	}
	return u, g, nil
}

func iamAddUserToGroup(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "GroupName", "UserName")}
	u, g, err := s.iamUserAndGroup(c)
	if err != nil {
		return res, err
	}
	if !slices.Contains(u.Groups, g.Name) {
		u.Groups = append(u.Groups, g.Name)
	}
	res.Resources = []EventResource{{Type: "AWS::IAM::Group", Name: g.Name}, iamUserResource(u.Name)}
	return res, nil
}

func iamRemoveUserFromGroup(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "GroupName", "UserName")}
	u, g, err := s.iamUserAndGroup(c)
	if err != nil {
		return res, err
	}
	if !slices.Contains(u.Groups, g.Name) {
		return res, errf(404, "NoSuchEntity", "The user with name %s is not in group %s.", u.Name, g.Name)
	}
	u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == g.Name })
	res.Resources = []EventResource{{Type: "AWS::IAM::Group", Name: g.Name}, iamUserResource(u.Name)}
	return res, nil
}

// Inline and managed policies of users, roles and groups share one
// implementation, parameterised by the kind of principal.

// iamKind describes a principal kind for the policy actions.
type iamKind struct {
	noun      string // "user", "role", "group"
	param     string // "UserName", ...
	maxName   int
	inlineMax int    // aggregate inline policy size quota, non-whitespace characters
	resType   string // CloudTrail resource type
}

var (
	iamUserKind  = iamKind{"user", "UserName", 64, 2048, "AWS::IAM::User"}
	iamRoleKind  = iamKind{"role", "RoleName", 64, 10240, "AWS::IAM::Role"}
	iamGroupKind = iamKind{"group", "GroupName", 128, 5120, "AWS::IAM::Group"}
)

// iamHolder is a principal's policies.
type iamHolder struct {
	name     string
	inline   map[string]string
	attached *[]string
}

func (s *Sim) iamHolderOf(k iamKind, c *Call) (*iamHolder, *APIError) {
	name, err := iamCheckName(c, k.param, k.maxName)
	if err != nil {
		return nil, err
	}
	switch k.noun {
	case "user":
		if u, ok := iamFind(s.acct.Users, name); ok {
			if u.Inline == nil {
				u.Inline = map[string]string{}
			}
			return &iamHolder{u.Name, u.Inline, &u.Attached}, nil
		}
	case "role":
		if r, ok := iamFind(s.acct.Roles, name); ok {
			if strings.HasPrefix(r.Path, serviceRolePath) && !strings.HasPrefix(c.Action, "Get") && !strings.HasPrefix(c.Action, "List") {
				return nil, errProtectedRole(r.Name)
			}
			if r.Inline == nil {
				r.Inline = map[string]string{}
			}
			return &iamHolder{r.Name, r.Inline, &r.Attached}, nil
		}
	case "group":
		if g, ok := iamFind(s.acct.Groups, name); ok {
			if g.Inline == nil {
				g.Inline = map[string]string{}
			}
			return &iamHolder{g.Name, g.Inline, &g.Attached}, nil
		}
	}
	return nil, errf(404, "NoSuchEntity", "The %s with name %s cannot be found.", k.noun, name)
}

// iamPolicyOp is one policy action on a resolved principal.
type iamPolicyOp func(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError

// iamPolicyHandler binds a policy action to a principal kind.
func iamPolicyHandler(k iamKind, op iamPolicyOp) handler {
	return func(s *Sim, c *Call) (*Result, error) {
		res := &Result{Request: iamRequest(c, k.param, "PolicyName", "PolicyArn", "PolicyDocument", "PathPrefix", "MaxItems", "Marker")}
		h, err := s.iamHolderOf(k, c)
		if err != nil {
			return res, err
		}
		res.Resources = []EventResource{{Type: k.resType, Name: h.name}}
		if err := op(s, c, k, h, res); err != nil {
			res.Resources = nil
			return res, err
		}
		return res, nil
	}
}

func iamListInline(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	names := make([]string, 0, len(h.inline))
	for n := range h.inline {
		names = append(names, n)
	}
	sort.Strings(names)
	page, trailer, err := iamPage(c, names, func(n string) string { return n })
	if err != nil {
		return err
	}
	var items []*Node
	for _, n := range page {
		items = append(items, el("", n))
	}
	res.XML = append([]*Node{members("PolicyNames", "member", items)}, trailer...)
	return nil
}

func errNoSuchInline(k iamKind, name string) *APIError {
	return errf(404, "NoSuchEntity", "The %s policy with name %s cannot be found.", k.noun, name)
}

// iamGetInline returns the document URL-encoded, as IAM does.
func iamGetInline(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	name, err := iamCheckName(c, "PolicyName", 128)
	if err != nil {
		return err
	}
	doc, ok := h.inline[name]
	if !ok {
		return errNoSuchInline(k, name)
	}
	res.XML = []*Node{el(k.param, h.name), el("PolicyName", name), el("PolicyDocument", iamEncodeDoc(doc))}
	return nil
}

// iamPutInline validates and stores an inline policy, enforcing the
// principal's aggregate inline size quota.
func iamPutInline(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	name, err := iamCheckName(c, "PolicyName", 128)
	if err != nil {
		return err
	}
	doc, ok := c.Params["PolicyDocument"]
	if !ok {
		return errMissingParam("PolicyDocument")
	}
	if err := iamCheckPolicy(doc, iamIdentityPolicy); err != nil {
		return err
	}
	size := iamPolicySize(doc)
	for n, d := range h.inline {
		if n != name {
			size += iamPolicySize(d)
		}
	}
	if size > k.inlineMax {
		return errf(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for %s %s", k.inlineMax, k.noun, h.name)
	}
	h.inline[name] = doc
	return nil
}

// iamPolicySize counts what IAM counts against inline quotas: characters
// other than white space.
func iamPolicySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func iamDeleteInline(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	name, err := iamCheckName(c, "PolicyName", 128)
	if err != nil {
		return err
	}
	if _, ok := h.inline[name]; !ok {
		return errNoSuchInline(k, name)
	}
	delete(h.inline, name)
	return nil
}

func iamListAttached(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	prefix := c.Params["PathPrefix"]
	var pols []*ManagedPolicy
	for _, arn := range *h.attached {
		if p, ok := s.acct.Policies[arn]; ok && strings.HasPrefix(iamPathOf(p.Path), prefix) {
			pols = append(pols, p)
		}
	}
	sort.Slice(pols, func(i, j int) bool { return pols[i].ARN < pols[j].ARN })
	page, trailer, err := iamPage(c, pols, func(p *ManagedPolicy) string { return p.ARN })
	if err != nil {
		return err
	}
	var items []*Node
	for _, p := range page {
		items = append(items, elem("", el("PolicyName", p.Name), el("PolicyArn", p.ARN)))
	}
	res.XML = append([]*Node{members("AttachedPolicies", "member", items)}, trailer...)
	return nil
}

// iamPolicyARN validates the PolicyArn parameter and finds the policy.
func (s *Sim) iamPolicyARN(c *Call) (*ManagedPolicy, *APIError) {
	arn, ok := c.Params["PolicyArn"]
	if !ok || arn == "" {
		return nil, errMissingParam("PolicyArn")
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "policy/") {
		return nil, errf(400, "InvalidInput", "ARN %s is not valid.", arn)
	}
	p, ok := s.acct.Policies[arn]
	if !ok {
		return nil, errf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func iamAttach(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	p, err := s.iamPolicyARN(c)
	if err != nil {
		return err
	}
	if slices.Contains(*h.attached, p.ARN) {
		return nil // attaching twice changes nothing, as in AWS
	}
	if len(*h.attached) >= iamMaxManagedAttached {
		return errf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPer%s: %d", strings.ToUpper(k.noun[:1])+k.noun[1:], iamMaxManagedAttached)
	}
	*h.attached = append(*h.attached, p.ARN)
	res.Resources = append(res.Resources, EventResource{Type: "AWS::IAM::Policy", Name: p.ARN})
	return nil
}

func iamDetach(s *Sim, c *Call, k iamKind, h *iamHolder, res *Result) *APIError {
	p, err := s.iamPolicyARN(c)
	if err != nil {
		return err
	}
	if !slices.Contains(*h.attached, p.ARN) {
		return errf(404, "NoSuchEntity", "Policy %s was not found.", p.ARN)
	}
	*h.attached = slices.DeleteFunc(*h.attached, func(a string) bool { return a == p.ARN })
	res.Resources = append(res.Resources, EventResource{Type: "AWS::IAM::Policy", Name: p.ARN})
	return nil
}

// Managed policies: read-only, so that a tool can read what a principal's
// attached policies allow and deny.

// iamPolicyVersion is the only version the simulator keeps of a managed
// policy.
const iamPolicyVersion = "v1"

func (s *Sim) iamAttachmentCount(arn string) int {
	n := 0
	for _, u := range s.acct.Users {
		if slices.Contains(u.Attached, arn) {
			n++
		}
	}
	for _, r := range s.acct.Roles {
		if slices.Contains(r.Attached, arn) {
			n++
		}
	}
	for _, g := range s.acct.Groups {
		if slices.Contains(g.Attached, arn) {
			n++
		}
	}
	return n
}

func iamGetPolicy(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "PolicyArn")}
	p, err := s.iamPolicyARN(c)
	if err != nil {
		return res, err
	}
	res.XML = []*Node{elem("Policy",
		el("PolicyName", p.Name), el("PolicyId", p.ID), el("Arn", p.ARN), el("Path", iamPathOf(p.Path)),
		el("DefaultVersionId", iamPolicyVersion), el("AttachmentCount", strconv.Itoa(s.iamAttachmentCount(p.ARN))),
		el("PermissionsBoundaryUsageCount", "0"), el("IsAttachable", "true"),
		el("CreateDate", isoTime(p.Created)), el("UpdateDate", isoTime(p.Created)))}
	res.Resources = []EventResource{{Type: "AWS::IAM::Policy", Name: p.ARN}}
	return res, nil
}

func iamGetPolicyVersion(s *Sim, c *Call) (*Result, error) {
	res := &Result{Request: iamRequest(c, "PolicyArn", "VersionId")}
	p, err := s.iamPolicyARN(c)
	if err != nil {
		return res, err
	}
	v, ok := c.Params["VersionId"]
	if !ok {
		return res, errMissingParam("VersionId")
	}
	if v != iamPolicyVersion {
		return res, errf(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", p.ARN, v)
	}
	res.XML = []*Node{elem("PolicyVersion", el("Document", iamEncodeDoc(p.Document)), el("VersionId", v),
		el("IsDefaultVersion", "true"), el("CreateDate", isoTime(p.Created)))}
	res.Resources = []EventResource{{Type: "AWS::IAM::Policy", Name: p.ARN}}
	return res, nil
}

// Policy document validation.

// Kinds of policy documents, which differ in the fields they need.
const (
	iamIdentityPolicy = iota // inline and managed identity policies
	iamTrustPolicy           // a role's trust policy: Principal, no Resource
	iamSessionPolicy         // a session policy of GetFederationToken or AssumeRole
)

// iamCheckPolicy checks a policy document the way IAM does on the way in,
// with IAM's messages: JSON, a known Version, statements with an Effect,
// actions prefixed by a service, resources (or principals for trust policies).
func iamCheckPolicy(doc string, kind int) *APIError {
	malformed := func(msg string) *APIError { return errf(400, "MalformedPolicyDocument", "%s", msg) }
	if strings.TrimSpace(doc) == "" {
		return malformed("Syntax errors in policy.")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return malformed("Syntax errors in policy.")
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return malformed("Syntax errors in policy.")
		}
	}
	if raw, ok := top["Version"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil || (v != "2012-10-17" && v != "2008-10-17") {
			return malformed("The policy failed legacy parsing")
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return malformed("Syntax errors in policy.")
	}
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil {
			return malformed("Syntax errors in policy.")
		}
		list = []map[string]json.RawMessage{one}
	}
	if len(list) == 0 {
		return malformed("Syntax errors in policy.")
	}
	for _, st := range list {
		if err := iamCheckStatement(st, kind); err != nil {
			return malformed(err.Error())
		}
	}
	return nil
}

// iamPolicyProblem is a reason a statement is refused, in IAM's words.
type iamPolicyProblem string

func (p iamPolicyProblem) Error() string { return string(p) }

func iamCheckStatement(st map[string]json.RawMessage, kind int) error {
	var effect string
	if json.Unmarshal(st["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return iamPolicyProblem("Syntax errors in policy.")
	}
	_, hasAction := st["Action"]
	_, hasNotAction := st["NotAction"]
	if hasAction == hasNotAction {
		return iamPolicyProblem("Policy statement must contain actions.")
	}
	for _, field := range []string{"Action", "NotAction"} {
		raw, ok := st[field]
		if !ok {
			continue
		}
		var acts stringOrList
		if json.Unmarshal(raw, &acts) != nil || len(acts) == 0 {
			return iamPolicyProblem("Syntax errors in policy.")
		}
		for _, a := range acts {
			if a != "*" && !strings.Contains(a, ":") {
				return iamPolicyProblem("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
			}
		}
	}
	_, hasRes := st["Resource"]
	_, hasNotRes := st["NotResource"]
	_, hasPrincipal := st["Principal"]
	_, hasNotPrincipal := st["NotPrincipal"]
	switch kind {
	case iamTrustPolicy:
		if hasRes || hasNotRes {
			return iamPolicyProblem("Has prohibited field Resource")
		}
		if !hasPrincipal && !hasNotPrincipal {
			return iamPolicyProblem("Missing required field Principal")
		}
	default:
		if hasPrincipal || hasNotPrincipal {
			return iamPolicyProblem("Policy document should not specify a principal.")
		}
		if !hasRes && !hasNotRes {
			return iamPolicyProblem("Policy statement must contain resources.")
		}
	}
	if raw, ok := st["Condition"]; ok {
		var cond map[string]map[string]json.RawMessage
		if json.Unmarshal(raw, &cond) != nil {
			return iamPolicyProblem("Syntax errors in policy.")
		}
	}
	return nil
}
