// Package resource holds every kind of AWS resource keyleak finds an
// attacker made, in one registry: for each kind, how it is found in
// CloudTrail events, how its live state is checked, how it is removed and
// the removal verified, and which AWS actions all that needs.
//
// Each kind is one file; Kinds is the one list of them. The assessment
// (package assess) extracts and checks resources through the list, the
// playbook's eradicate step removes them through it, and the responder
// policy is checked against the clients' interfaces it declares. Adding a
// kind is its file, its line in Kinds, and the simulator's part.
package resource

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Live states of a resource, as Check finds them.
const (
	StatePresent = "present"
	StateGone    = "gone"
	StateUnknown = "unknown"
)

// GlobalRegion is where IAM resources live.
const GlobalRegion = "us-east-1"

// Verdict says whose call made a resource: the assessment's verdict on the
// creating event (assess.Attacker, assess.Legitimate, assess.Unclear).
type Verdict string

// Resource is an object a key of the chain created (or, for shares, opened
// up), as found in the successful create call's request and response.
type Resource struct {
	Type      string    `json:"type"`
	ID        string    `json:"id"`
	Region    string    `json:"region"` // us-east-1 for IAM
	CreatedBy string    `json:"createdBy"`
	EventID   string    `json:"eventID"`
	EventName string    `json:"eventName"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
	// Verdict is that of the creating event: resources the workload made
	// stay out of eradication unless chosen.
	Verdict Verdict `json:"verdict"`
	// Details are what removal needs besides the ID: the user of an access
	// key or login profile, the group and rule of an ingress permission.
	Details map[string]string `json:"details,omitempty"`
	// State is present, gone or unknown once checked ("" before);
	// StateReason says why for gone and unknown.
	State       string `json:"state,omitempty"`
	StateReason string `json:"stateReason,omitempty"`
}

// Key identifies the resource: type, region and ID.
func (r Resource) Key() string { return r.Type + "|" + r.Region + "|" + r.ID }

// Call is one planned removal call: one AWS API call, with everything Apply
// and Done need in Params, so that it can be made, verified or reconciled
// from the journal alone. The playbook turns it into its Action.
type Call struct {
	// ID names the call stably across runs, API/region/object…, so the
	// journal can tell whether it was done; the playbook prefixes its step.
	ID      string
	Service string // "ec2"
	API     string // "TerminateInstances"
	// Params are the call's parameters; Params["Region"] is its region
	// ("global" for IAM).
	Params map[string]string
	// Description is the exact call in AWS CLI terms, for the plan and the
	// confirmation prompt.
	Description string
}

// Action returns "service:API", the IAM action name of the call.
func (c Call) Action() string { return c.Service + ":" + c.API }

// Region is the region the call goes to.
func (c Call) Region() string { return c.Params["Region"] }

// newCall builds one planned call. The ID names the API and the object.
func newCall(service, api, region string, params map[string]string, desc string, idParts ...string) Call {
	params["Region"] = region
	return Call{
		ID:      api + "/" + strings.Join(append([]string{region}, idParts...), "/"),
		Service: service, API: api, Params: params, Description: desc,
	}
}

// iamCall is a call to IAM, which is global: its region is "global".
func iamCall(api string, params map[string]string, desc string, idParts ...string) Call {
	return newCall("iam", api, "global", params, desc, idParts...)
}

// GoneError is what Apply returns when the object was already gone: no
// change was made, and the removal is done. Err is AWS's answer.
type GoneError struct {
	What string // "instance i-0123…"
	Err  error
}

func (e *GoneError) Error() string { return e.What + " was already gone" }

func (e *GoneError) Unwrap() error { return e.Err }

// errorCode returns the AWS error code of err, "" if AWS did not answer.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isCode reports whether err is an AWS error with one of the codes.
func isCode(err error, codes ...string) bool {
	return err != nil && slices.Contains(codes, errorCode(err))
}

// iamNotFound are IAM's codes for an entity that does not exist.
var iamNotFound = []string{"NoSuchEntity", "NoSuchEntityException"}

// removed turns the outcome of a removal call into Apply's error: a
// not-found code is a *GoneError (what was already gone), other errors are
// returned as AWS gave them.
func removed(err error, what string, notFound ...string) error {
	if isCode(err, notFound...) {
		return &GoneError{What: what, Err: err}
	}
	return err
}

// absent turns the outcome of a describe call into Done's answer: a
// not-found code means the removal took effect.
func absent(c Call, err error, notFound ...string) (bool, error) {
	switch {
	case err == nil:
		return false, nil
	case isCode(err, notFound...):
		return true, nil
	}
	return false, fmt.Errorf("check removal %s: %w", c.ID, err)
}

// fromErr turns a describe call's outcome into a state: no error is
// present, one of the not-found codes is gone, anything else unknown.
func fromErr(err error, notFound ...string) (string, string) {
	if err == nil {
		return StatePresent, ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && slices.Contains(notFound, ae.ErrorCode()) {
		return StateGone, ae.ErrorCode()
	}
	return StateUnknown, err.Error()
}

// noClient is the state of a resource whose service has no client.
func noClient(svc string) (string, string) {
	return StateUnknown, "no " + svc + " client to check it with"
}

// cannotCheck is Check for kinds keyleak has no client for: the resource
// is listed, with where to look.
func cannotCheck(_ context.Context, _ *Clients, r *Resource) (string, string) {
	return StateUnknown, fmt.Sprintf("keyleak cannot check %s resources; look in the console, region %s", r.Type, r.Region)
}

// redo is Done for calls that can be repeated safely (detaching a policy,
// removing from a group, deleting an inline policy, cancelling a spot
// request): not checked, redone.
func redo(context.Context, *Clients, Call) (bool, error) { return false, nil }

// errNoClient is Plan's error when the kind's service has no client.
func errNoClient(svc string) error { return fmt.Errorf("plan removal: no %s client", svc) }
