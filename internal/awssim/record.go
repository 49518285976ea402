package awssim

import (
	"encoding/json"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"
)

// storedEvent is one CloudTrail record in a region's store with the fields
// LookupEvents filters on pulled out.
type storedEvent struct {
	ID          string
	Time        time.Time
	Name        string
	Source      string
	AccessKeyID string
	Username    string
	ReadOnly    bool
	Resources   []EventResource
	Raw         []byte // the record as JSON, exactly as LookupEvents returns it in CloudTrailEvent
	Actor       string // scenario actor, for /_sim/truth
	Region      string
	ErrorCode   string
}

// trailStore holds a region's events ordered by (Time, ID) ascending.
type trailStore struct {
	events []*storedEvent
}

// add inserts an event in order.
func (t *trailStore) add(e *storedEvent) {
	i := sort.Search(len(t.events), func(i int) bool { return eventAfter(t.events[i], e) })
	t.events = append(t.events, nil)
	copy(t.events[i+1:], t.events[i:])
	t.events[i] = e
}

// eventAfter orders events by time, then ID, so that pagination is stable.
func eventAfter(a, b *storedEvent) bool {
	if !a.Time.Equal(b.Time) {
		return a.Time.After(b.Time)
	}
	return a.ID > b.ID
}

// versionedEventNames are the event names CloudTrail gives calls of APIs
// whose name carries the API version, failed calls included.
var versionedEventNames = map[string]string{
	"lambda:CreateFunction": "CreateFunction20150331",
	"lambda:DeleteFunction": "DeleteFunction20150331",
	"lambda:GetFunction":    "GetFunction20150331v2",
	"lambda:ListFunctions":  "ListFunctions20150331",
	// Function URLs and resource policies, as the real records name them.
	"lambda:CreateFunctionUrlConfig": "CreateFunctionUrlConfig20211031",
	"lambda:GetFunctionUrlConfig":    "GetFunctionUrlConfig20211031",
	"lambda:DeleteFunctionUrlConfig": "DeleteFunctionUrlConfig20211031",
	"lambda:AddPermission":           "AddPermission20150331v2",
	"lambda:GetPolicy":               "GetPolicy20150331v2",
	"lambda:RemovePermission":        "RemovePermission20150331v2",
}

// readOnlyPrefixes are the action prefixes CloudTrail marks readOnly.
var readOnlyPrefixes = []string{"Get", "List", "Describe", "Lookup", "Head", "BatchGet", "Search"}

func isReadOnly(action string) bool {
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(action, p) {
			return true
		}
	}
	return false
}

// record writes the CloudTrail record of a call into the store of the region
// that logs it. Called with mu held.
func (s *Sim) record(c *Call, res *Result, apiErr *APIError) *storedEvent {
	region := recordRegion(c)
	rs := s.acct.region(region)
	if rs == nil {
		return nil
	}
	identity, accessKey, username := s.userIdentity(c)
	name := c.Action
	if n, ok := versionedEventNames[c.Service+":"+c.Action]; ok {
		name = n
	}
	rec := map[string]any{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          c.Time.UTC().Format(time.RFC3339),
		"eventSource":        eventSource(c.Service),
		"eventName":          name,
		"awsRegion":          region,
		"sourceIPAddress":    c.SourceIP,
		"userAgent":          c.UserAgent,
		"requestParameters":  nil,
		"responseElements":   nil,
		"requestID":          s.newUUID(),
		"eventID":            s.newUUID(),
		"readOnly":           isReadOnly(c.Action),
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": s.acct.ID,
		"eventCategory":      "Management",
		"tlsDetails": map[string]any{
			"tlsVersion":               "TLSv1.3",
			"cipherSuite":              "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": hostHeader(c.Service, c.Region),
		},
	}
	if res != nil {
		if res.Request != nil {
			rec["requestParameters"] = res.Request
		}
		if res.Response != nil {
			rec["responseElements"] = res.Response
			if _, ok := res.Response["requestId"]; c.Service == "ec2" && !ok {
				// EC2's responseElements repeat the request's ID.
				resp := maps.Clone(res.Response)
				resp["requestId"] = rec["requestID"]
				rec["responseElements"] = resp
			}
		}
	}
	if apiErr != nil {
		code := apiErr.Code
		if c.Service == "ec2" {
			code = "Client." + code
		}
		rec["errorCode"] = code
		rec["errorMessage"] = apiErr.Message
		rec["responseElements"] = nil
	}
	var resources []EventResource
	if res != nil && apiErr == nil {
		resources = res.Resources
	}
	if len(resources) > 0 {
		var rr []map[string]any
		for _, r := range resources {
			rr = append(rr, map[string]any{"type": r.Type, "ARN": r.Name, "accountId": s.acct.ID})
		}
		rec["resources"] = rr
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		panic(err) // records are built from JSON-safe values only
	}
	ev := &storedEvent{
		ID:          rec["eventID"].(string),
		Time:        c.Time.UTC().Truncate(time.Second),
		Name:        name,
		Source:      eventSource(c.Service),
		AccessKeyID: accessKey,
		Username:    username,
		ReadOnly:    isReadOnly(c.Action),
		Resources:   resources,
		Raw:         raw,
		Actor:       s.actorOf(c),
		Region:      region,
	}
	if code, ok := rec["errorCode"].(string); ok {
		ev.ErrorCode = code
	}
	rs.Trail.add(ev)
	return ev
}

// hostHeader is the endpoint host a real client would have used.
func hostHeader(service, region string) string {
	if service == "iam" {
		return "iam.amazonaws.com"
	}
	return service + "." + region + ".amazonaws.com"
}

// actorOf is the truth label of a call: the scenario's, or the one the
// calling key inherited from the scenario action that created it, or
// "responder" for anyone else calling over HTTP.
func (s *Sim) actorOf(c *Call) string {
	if c.Actor != "" {
		return c.Actor
	}
	if a, ok := s.actors[c.AccessKeyID]; ok {
		return a
	}
	return "responder"
}

// userIdentity builds the record's userIdentity block, the access key ID and
// the user name LookupEvents' Username attribute matches.
func (s *Sim) userIdentity(c *Call) (map[string]any, string, string) {
	if c.Identity != nil {
		name, _ := c.Identity["userName"].(string)
		key, _ := c.Identity["accessKeyId"].(string)
		return c.Identity, key, name
	}
	cred := c.cred
	if cred == nil {
		return map[string]any{"type": "Unknown", "accessKeyId": c.AccessKeyID}, c.AccessKeyID, ""
	}
	id := s.acct.ID
	attrs := map[string]any{
		"creationDate":     cred.Created.UTC().Format(time.RFC3339),
		"mfaAuthenticated": strconv.FormatBool(!cred.MFAAt.IsZero()),
	}
	rootSession := cred.Temporary() && cred.Kind != KindRole && cred.UserName == ""
	switch {
	case cred.Kind == KindRootKey || (rootSession && cred.Kind == KindSession):
		ident := map[string]any{
			"type": "Root", "principalId": id, "arn": "arn:aws:iam::" + id + ":root",
			"accountId": id, "accessKeyId": cred.AccessKeyID,
		}
		if rootSession {
			ident["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{}, "webIdFederationData": map[string]any{}, "attributes": attrs}
		}
		return ident, cred.AccessKeyID, "root"
	case rootSession: // federation token of the root user
		return map[string]any{
			"type": "FederatedUser", "principalId": id + ":" + cred.SessionName, "arn": s.arnOf(cred),
			"accountId": id, "accessKeyId": cred.AccessKeyID,
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{
					"type": "Root", "principalId": id, "arn": "arn:aws:iam::" + id + ":root", "accountId": id,
				},
				"webIdFederationData": map[string]any{},
				"attributes":          attrs,
			},
		}, cred.AccessKeyID, cred.SessionName
	}
	switch cred.Kind {
	case KindUserKey, KindSession:
		u := s.acct.Users[cred.UserName]
		ident := map[string]any{
			"type": "IAMUser", "principalId": u.ID, "arn": s.arnOf(cred),
			"accountId": id, "accessKeyId": cred.AccessKeyID, "userName": u.Name,
		}
		if cred.Kind == KindSession {
			ident["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{}, "webIdFederationData": map[string]any{}, "attributes": attrs}
		}
		return ident, cred.AccessKeyID, u.Name
	case KindFederation:
		u := s.acct.Users[cred.UserName]
		return map[string]any{
			"type": "FederatedUser", "principalId": id + ":" + cred.SessionName, "arn": s.arnOf(cred),
			"accountId": id, "accessKeyId": cred.AccessKeyID,
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{
					"type": "IAMUser", "principalId": u.ID, "arn": s.arnOf(&Credential{Kind: KindUserKey, UserName: u.Name}),
					"accountId": id, "userName": u.Name,
				},
				"webIdFederationData": map[string]any{},
				"attributes":          attrs,
			},
		}, cred.AccessKeyID, cred.SessionName
	case KindRole:
		r := s.acct.Roles[cred.RoleName]
		return map[string]any{
			"type": "AssumedRole", "principalId": r.ID + ":" + cred.SessionName, "arn": s.arnOf(cred),
			"accountId": id, "accessKeyId": cred.AccessKeyID,
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{
					"type": "Role", "principalId": r.ID, "arn": roleARN(id, r),
					"accountId": id, "userName": r.Name,
				},
				"webIdFederationData": map[string]any{},
				"attributes":          attrs,
			},
		}, cred.AccessKeyID, cred.SessionName
	}
	return map[string]any{"type": "Unknown"}, cred.AccessKeyID, ""
}

// roleARN returns a role's ARN.
func roleARN(account string, r *Role) string {
	p := r.Path
	if p == "" {
		p = "/"
	}
	return "arn:aws:iam::" + account + ":role" + p + r.Name
}
