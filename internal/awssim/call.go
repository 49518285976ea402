package awssim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Call is one API request to the simulated account, whether it came over
// HTTP or from a scenario's timeline. Both paths go through Sim.do, so state
// and CloudTrail records agree.
type Call struct {
	Service     string            // "iam", "sts", "ec2", "lambda", "cloudtrail", "guardduty"
	Action      string            // API action, e.g. "CreateUser"
	Region      string            // signing region
	Params      map[string]string // awsQuery/ec2Query parameters, or REST path parameters
	Body        []byte            // JSON body of JSON and REST-JSON protocols
	AccessKeyID string
	SourceIP    string
	UserAgent   string
	Time        time.Time // when the call happened (scenario calls may be in the past)

	// Actor is the scenario's label for the caller: "attacker", "workload",
	// "aws", "responder". /_sim/truth marks events of "attacker" calls.
	Actor string
	// Identity, when set, is the CloudTrail userIdentity of a caller that has
	// no access key in the account (AWS itself attaching a quarantine policy).
	Identity map[string]any

	cred *Credential // resolved caller, set by do
	// Host is the HTTP Host the request was sent to ("" for scenario
	// calls): answers that hand out URLs (Lambda's Code.Location) use it.
	Host string

	// sig is the request's SigV4 signature, checked against the caller's
	// secret; nil for calls that did not come over HTTP.
	sig *signedRequest
}

// Param returns a request parameter, "" when absent.
func (c *Call) Param(name string) string { return c.Params[name] }

// Caller returns the resolved credential of the call (nil for Identity calls).
func (c *Call) Caller() *Credential { return c.cred }

// Result is what a handler returns. The protocol layer turns XML or JSON into
// the HTTP answer; the recorder turns Request and Response into the CloudTrail
// record's requestParameters and responseElements.
type Result struct {
	XML       []*Node        // children of <ActionResult> (awsQuery) or <ActionResponse> (ec2Query)
	JSON      any            // body of JSON protocols; nil writes "{}"
	Status    int            // HTTP status for REST protocols; 0 means 200
	Request   map[string]any // CloudTrail requestParameters; nil records null
	Response  map[string]any // CloudTrail responseElements; nil records null
	Resources []EventResource
	// Raw is a body written as it is (S3's GetBucketPolicy answers with
	// the policy document).
	Raw []byte
	// NoRecord skips the CloudTrail record (calls AWS does not log).
	NoRecord bool
	// Derived are credentials the call created (GetSessionToken,
	// CreateAccessKey, ...). do links them to the call's event ID and gives
	// them the caller's actor, so truth follows the derivation chain.
	Derived []*Credential
}

// EventResource is a resource a CloudTrail event refers to, as LookupEvents
// reports and filters it (ResourceType, ResourceName).
type EventResource struct {
	Type string `json:"ResourceType"`
	Name string `json:"ResourceName"`
}

// APIError is an error answer in AWS's terms. The protocol layer writes it in
// the shape of the service's protocol.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// errf builds an APIError.
func errf(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors, in the code each protocol family uses.
func errMissingParam(name string) *APIError {
	return errf(400, "MissingParameter", "The request must contain the parameter %s", name)
}

func errValidation(format string, args ...any) *APIError {
	return errf(400, "ValidationError", format, args...)
}

// handler implements one action. It runs with Sim.mu held; it may change
// state and must not block.
type handler func(s *Sim, c *Call) (*Result, error)

// globalRegion is where events of global services are recorded.
var globalRegion = map[string]string{"iam": "us-east-1", "organizations": "us-east-1"}

// eventSource returns the CloudTrail eventSource of a service.
func eventSource(service string) string { return service + ".amazonaws.com" }

// Do runs a call against the account and returns the result or the API error.
// It is the entry point of scenarios and tests that bypass HTTP.
func (s *Sim) Do(c *Call) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.do(c)
}

// do runs a call with mu held: resolve and check the caller, run the handler,
// record the event.
func (s *Sim) do(c *Call) (*Result, error) {
	if c.Time.IsZero() {
		c.Time = s.now().UTC()
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if c.Identity == nil {
		// The call runs in the account of its caller's credential: its
		// handler sees that account, its record goes to that account's trail.
		if a := s.keyAccount(c.AccessKeyID); a != nil && a != s.acct {
			defer s.enter(a)()
		}
	}
	ops, ok := s.ops[c.Service]
	if !ok {
		return nil, errf(400, "UnknownService", "The service %q is not available in this simulator.", c.Service)
	}
	h, ok := ops[c.Action]
	if !ok {
		return nil, errInvalidAction(c.Service, c.Action)
	}
	if r, known := s.acct.regionInfo(c.Region); c.Service != "iam" && (!known || !r.Enabled()) {
		if !known {
			return nil, errf(400, "InvalidRegion", "The region %q does not exist.", c.Region)
		}
		return nil, errAuth(c.Service, "The security token included in the request is invalid.")
	}
	if c.Identity == nil {
		if apiErr := s.authenticate(c); apiErr != nil {
			return nil, apiErr
		}
		if apiErr := s.authorize(c); apiErr != nil {
			s.record(c, &Result{Request: requestParameters(c)}, apiErr)
			return nil, apiErr
		}
	}
	res, err := h(s, c)
	var apiErr *APIError
	if err != nil && !errors.As(err, &apiErr) {
		apiErr = errf(500, "InternalFailure", "simulator: %v", err)
		err = apiErr
	}
	if res == nil || !res.NoRecord {
		ev := s.record(c, res, apiErr)
		if res != nil && ev != nil {
			for _, d := range res.Derived {
				d.ViaEventID = ev.ID
			}
		}
	}
	if res != nil && apiErr == nil && !isReadOnly(c.Action) {
		for _, r := range res.Resources {
			k := r.Type + "|" + r.Name
			if _, seen := s.creators[k]; !seen {
				s.creators[k] = s.actorOf(c)
			}
		}
	}
	if res != nil && apiErr == nil {
		for _, d := range res.Derived {
			if d.Parent == "" && c.cred != nil {
				d.Parent = c.cred.AccessKeyID
			}
			if a := s.actorOf(c); a != "responder" {
				s.actors[d.AccessKeyID] = a
			}
		}
	}
	if c.cred != nil && !c.cred.Temporary() {
		c.cred.LastUsed = c.Time
		c.cred.LastUsedService = c.Service
		c.cred.LastUsedRegion = recordRegion(c)
	}
	return res, err
}

// errInvalidAction is the answer to an action the service does not have.
func errInvalidAction(service, action string) *APIError {
	switch {
	case jsonServices[service]:
		return errf(400, "UnknownOperationException", "Unknown operation %s", action)
	case restServices[service]:
		return errf(404, "UnknownOperationException", "Unknown operation %s", action)
	}
	return errf(400, "InvalidAction", "Could not find operation %s for version %s", action, apiVersion(service))
}

// errAuth is the answer to an unknown, inactive or deleted access key.
func errAuth(service, msg string) *APIError {
	switch service {
	case "ec2":
		return errf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case "s3":
		return errf(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	if jsonServices[service] || restServices[service] {
		return errf(403, "UnrecognizedClientException", "%s", msg)
	}
	return errf(403, "InvalidClientTokenId", "%s", msg)
}

// errSignature is the answer to a request signed with a secret other than
// its key's, in the code each service uses.
func errSignature(service string) *APIError {
	const msg = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	switch service {
	case "ec2":
		return errf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	}
	switch {
	case jsonServices[service]:
		return errf(400, "InvalidSignatureException", "%s", msg)
	case restServices[service]:
		return errf(403, "InvalidSignatureException", "%s", msg)
	}
	return errf(403, "SignatureDoesNotMatch", "%s", msg)
}

// errAccessDenied is the answer to an explicitly denied call, in the code the
// service uses.
func errAccessDenied(c *Call, arn string) *APIError {
	action := c.Service + ":" + c.Action
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s with an explicit deny in an identity-based policy", arn, action)
	switch c.Service {
	case "ec2":
		return errf(403, "UnauthorizedOperation", "You are not authorized to perform this operation. %s", msg)
	}
	if jsonServices[c.Service] || restServices[c.Service] {
		return errf(403, "AccessDeniedException", "%s", msg)
	}
	return errf(403, "AccessDenied", "%s", msg)
}

// errImplicitDeny is the AccessDenied of a call no policy allows, in an
// account that evaluates Allow statements.
func errImplicitDeny(c *Call, arn string) *APIError {
	action := c.Service + ":" + c.Action
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", arn, action, action)
	switch c.Service {
	case "ec2":
		return errf(403, "UnauthorizedOperation", "You are not authorized to perform this operation. %s", msg)
	}
	if jsonServices[c.Service] || restServices[c.Service] {
		return errf(403, "AccessDeniedException", "%s", msg)
	}
	return errf(403, "AccessDenied", "%s", msg)
}

// apiVersion is the API version string of a query-protocol service.
func apiVersion(service string) string {
	switch service {
	case "iam":
		return "2010-05-08"
	case "sts":
		return "2011-06-15"
	case "ec2":
		return "2016-11-15"
	case "autoscaling":
		return "2011-01-01"
	case "ses":
		return "2010-12-01"
	}
	return ""
}

// recordRegion is the region whose CloudTrail store holds the call's event.
func recordRegion(c *Call) string {
	if r, ok := globalRegion[c.Service]; ok {
		return r
	}
	return c.Region
}

// jsonBody decodes a JSON request body into v; an empty body is an empty object.
func (c *Call) jsonBody(v any) error {
	if len(strings.TrimSpace(string(c.Body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		return errf(http.StatusBadRequest, "SerializationException", "could not parse the request body: %v", err)
	}
	return nil
}

// requestParameters renders a refused call's parameters the way CloudTrail
// records them (camelCase keys), since no handler ran to do it: a denied
// CreateUser still shows which user was wanted.
func requestParameters(c *Call) map[string]any {
	out := map[string]any{}
	for k, v := range c.Params {
		if strings.Contains(k, ".") {
			continue // list members; their shape depends on the action
		}
		if k == "TokenCode" {
			continue // an MFA code is proof, not a parameter worth keeping
		}
		out[lowerInitial(k)] = v
	}
	if len(c.Body) > 0 {
		var body map[string]any
		if json.Unmarshal(c.Body, &body) == nil {
			for k, v := range body {
				out[lowerInitial(k)] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func lowerInitial(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
