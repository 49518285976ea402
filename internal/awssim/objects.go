package awssim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// object is a resource of the services the simulator keeps in one shape
// (Auto Scaling, ECS, EKS, Batch, Lightsail, SageMaker, CodeBuild, Glue,
// SES, Bedrock, the EC2 fleets and templates), and a change an attacker
// makes to the account's defences (a trail stopped, a detector disabled,
// a snapshot shared): each is kept under its CloudFormation-style type and
// its ID, so that /_sim/truth lists it with its state like every other
// resource, and the handlers of its service only add what is their own.
type object struct {
	Type    string
	ID      string
	ARN     string
	Status  string         // the service's status word, e.g. ACTIVE, InService
	Attrs   map[string]any // what the service's describe call returns besides
	Created time.Time
	// CreatedBy is the access key that made it; "" for scenario set-up.
	CreatedBy string
	// Gone marks an object removed (or a change undone); State then says
	// how, as truth reports it: deleted, stopped, cancelled, restored.
	Gone  bool
	State string
}

// objects returns the region's objects of one type, by ID.
func (rs *regionState) objectsOf(typ string) map[string]*object {
	if rs.Objects == nil {
		rs.Objects = map[string]map[string]*object{}
	}
	m := rs.Objects[typ]
	if m == nil {
		m = map[string]*object{}
		rs.Objects[typ] = m
	}
	return m
}

// obj returns the live object of a type and ID in the call's region, nil
// when there is none or it is gone.
func (s *Sim) obj(region, typ, id string) *object {
	o := s.acct.region(region).objectsOf(typ)[id]
	if o == nil || o.Gone {
		return nil
	}
	return o
}

// put makes (or makes again) an object in the call's region, made by the
// caller.
func (s *Sim) put(c *Call, typ, id string) *object {
	o := &object{Type: typ, ID: id, Attrs: map[string]any{}, Created: c.Time.UTC(), State: "present"}
	if cr := c.Caller(); cr != nil {
		o.CreatedBy = cr.AccessKeyID
	}
	s.acct.region(c.Region).objectsOf(typ)[id] = o
	return o
}

// drop marks an object gone, with how.
func (o *object) drop(state string) {
	o.Gone, o.State = true, state
}

// live lists the region's live objects of a type, sorted by ID.
func (s *Sim) live(region, typ string) []*object {
	var out []*object
	for _, o := range s.acct.region(region).objectsOf(typ) {
		if !o.Gone {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// arn builds an ARN of the account in a region.
func (s *Sim) arn(service, region, resource string) string {
	return "arn:aws:" + service + ":" + region + ":" + s.acct.ID + ":" + resource
}

// made is the Resources of a call that made an object.
func made(o *object) []EventResource { return []EventResource{{Type: o.Type, Name: o.ID}} }

// jsonIn decodes a JSON request body into a map (REST path parameters,
// which scenarios and the router put into Params, are read with pathOr).
func jsonIn(c *Call) (map[string]any, error) {
	m := map[string]any{}
	if err := c.jsonBody(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// str returns a string field of a JSON body ("" when absent or not text).
func str(m map[string]any, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// pathOr returns a REST call's path parameter, else the body's field.
func pathOr(c *Call, m map[string]any, name, field string) string {
	if v := c.Param(name); v != "" {
		return v
	}
	return str(m, field)
}

// strs returns a list-of-strings field of a JSON body.
func strs(m map[string]any, k string) []string {
	arr, _ := m[k].([]any)
	var out []string
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// lastPart is the name at the end of an ARN or path ("…/name" or
// "…:name"), or the value itself.
func lastPart(v string) string {
	if i := strings.LastIndexAny(v, "/:"); i >= 0 && strings.HasPrefix(v, "arn:") {
		return v[i+1:]
	}
	return v
}

// errJSON is a JSON-protocol error with a status of 400.
func errJSON(code, format string, args ...any) *APIError {
	return errf(http.StatusBadRequest, code, format, args...)
}
