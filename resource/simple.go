package resource

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/keyleak/keyleak/trail"
)

// simple declares a kind of the commonest shape: one read tells whether
// the resource (or the attacker's change) is in effect, and one call
// removes (or undoes) it. Most kinds are this shape; kind() turns the
// declaration into a Kind, so that each kind's file holds only what is
// its own: the events, the read and the call.
type simple struct {
	Type, Title string
	Global      bool
	Events      []string
	Extract     func(e *trail.Event) []Resource
	// Service names the client in "no … client" ("ECS"); Has tells
	// whether the clients hold it.
	Service string
	Has     func(c *Clients) bool
	Calls   []string
	// NotFound are the codes with which the read and the call answer for
	// an object that does not exist.
	NotFound []string
	// Look reads whether the resource or change is in effect, and its
	// status in AWS's words. p holds "ID" and the resource's details.
	Look func(ctx context.Context, c *Clients, region string, p map[string]string) (present bool, status string, err error)

	// Removal: API names the one call ("DeleteCluster"), Remove makes it,
	// CLI is the same call in AWS CLI terms (after "aws "). Without
	// Remove the kind is not removable and NotRemovable says why.
	API          string
	Remove       func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error)
	CLI          func(region string, p map[string]string) string
	RemovedBy    string
	RemovedWith  func(r Resource) (typ, id string)
	NotRemovable string
	// First, when set, is a call that must come before the removal while
	// the status says so (stop a notebook before deleting it, disable a
	// compute environment).
	First *firstCall
}

// firstCall is a call a removal needs first.
type firstCall struct {
	API string
	// Needed tells from the status whether the call is still to make.
	Needed func(status string) bool
	Do     func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error)
	CLI    func(region string, p map[string]string) string
}

// params are a resource's call parameters: its ID and its details.
func params(r Resource) map[string]string {
	p := maps.Clone(r.Details)
	if p == nil {
		p = map[string]string{}
	}
	p["ID"] = r.ID
	return p
}

func (s simple) kind() Kind {
	k := Kind{Type: s.Type, Title: s.Title, Global: s.Global, Events: s.Events, Extract: s.Extract, Calls: s.Calls}
	k.Check = func(ctx context.Context, c *Clients, r *Resource) (string, string) {
		if !s.Has(c) {
			return noClient(s.Service)
		}
		present, status, err := s.Look(ctx, c, r.Region, params(*r))
		switch {
		case err != nil:
			return fromErr(err, s.NotFound...)
		case present:
			return StatePresent, status
		}
		return StateGone, status
	}
	if s.Remove == nil {
		k.NotRemovable = s.NotRemovable
		return k
	}
	service, _, _ := strings.Cut(s.Calls[len(s.Calls)-1], ":")
	k.RemovedBy, k.RemovedWith = s.RemovedBy, s.RemovedWith
	k.Plan = func(ctx context.Context, c *Clients, r Resource) ([]Call, error) {
		if !s.Has(c) {
			return nil, errNoClient(s.Service)
		}
		p := params(r)
		present, status, err := s.Look(ctx, c, r.Region, p)
		switch {
		case isCode(err, s.NotFound...):
			return nil, nil
		case err != nil:
			return nil, fmt.Errorf("read %s %s: %w", s.Title, r.ID, err)
		case !present:
			return nil, nil
		}
		// IAM's calls go to its one endpoint: their region is "global",
		// as every IAM call's in the journal.
		region := r.Region
		if service == "iam" {
			region = "global"
		}
		var out []Call
		if s.First != nil && s.First.Needed(status) {
			out = append(out, newCall(service, s.First.API, region, maps.Clone(p), s.First.CLI(r.Region, p), r.ID))
		}
		return append(out, newCall(service, s.API, region, p, s.CLI(r.Region, p), r.ID)), nil
	}
	k.Apply = func(ctx context.Context, c *Clients, call Call) (any, error) {
		do := s.Remove
		if s.First != nil && call.API == s.First.API {
			do = s.First.Do
		}
		out, err := do(ctx, c, call.Region(), call.Params)
		return out, removed(err, s.Title+" "+call.Params["ID"], s.NotFound...)
	}
	k.Done = func(ctx context.Context, c *Clients, call Call) (bool, error) {
		present, status, err := s.Look(ctx, c, call.Region(), call.Params)
		switch {
		case err != nil:
			return absent(call, err, s.NotFound...)
		case s.First != nil && call.API == s.First.API:
			return !present || !s.First.Needed(status), nil
		}
		return !present, nil
	}
	return k
}

// messageSays reports whether err is an AWS error with the code whose
// message holds text: the services that answer a missing object with a
// general code (SageMaker's ValidationException, Auto Scaling's
// ValidationError) say so only in the message.
func messageSays(err error, code, text string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code && strings.Contains(strings.ToLower(ae.ErrorMessage()), strings.ToLower(text))
}

// goneIf turns an error that messageSays is a missing object into a
// *GoneError, for Apply.
func goneIf(err error, what, code, text string) error {
	if messageSays(err, code, text) {
		return &GoneError{What: what, Err: err}
	}
	return err
}

// requestOr returns the first non-empty request parameter of names.
func requestOr(e *trail.Event, names ...string) string {
	for _, n := range names {
		if v := e.RequestString(n); v != "" {
			return v
		}
	}
	return ""
}

// fromSource keeps an extraction to the events of one service: event names
// such as CreateCluster are shared by ECS, EKS and others.
func fromSource(source string, f func(e *trail.Event) []Resource) func(e *trail.Event) []Resource {
	return func(e *trail.Event) []Resource {
		if e.EventSource != source {
			return nil
		}
		return f(e)
	}
}
