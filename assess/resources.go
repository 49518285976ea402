package assess

import (
	"sort"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// Resource is an object a key of the chain created, with the verdict on
// its creating event and, once Inventory ran, its live state. The kinds of
// resources and what keyleak knows of each are in package resource.
type Resource = resource.Resource

// Live states of a resource, as Inventory finds them.
const (
	StatePresent = resource.StatePresent
	StateGone    = resource.StateGone
	StateUnknown = resource.StateUnknown
)

// extractResources reads the resources the chain's successful calls made.
func (a *Assessment) extractResources(events []*trail.Event) []Resource {
	seen := map[string]bool{}
	var out []Resource
	for _, e := range events {
		if e.ErrorCode != "" {
			continue
		}
		verdict := Unclear
		if ea, ok := a.Event(e.Key()); ok {
			verdict = ea.Verdict
		}
		for _, r := range resource.Extract(e) {
			r.CreatedBy, r.EventID, r.EventName, r.CreatedAt, r.Verdict = e.UserIdentity.AccessKeyID, e.EventID, e.EventName, e.EventTime, verdict
			if r.ID == "" || seen[r.Key()] {
				continue
			}
			seen[r.Key()] = true
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].Key() < out[j].Key()
	})
	if out == nil {
		out = []Resource{}
	}
	return out
}

// target returns the resource as the eradicate step takes it.
func target(r Resource) playbook.Target {
	return playbook.Target{Type: r.Type, ID: r.ID, Region: r.Region, Details: cloneMap(r.Details)}
}

// Targets returns the resources to offer for removal: those still present
// (or of unknown state) that the attacker created, or every such resource
// whatever its creator when all is set. Types keyleak cannot remove are
// left out; the report lists them with their state.
func Targets(resources []Resource, all bool) []playbook.Target {
	var out []playbook.Target
	for _, r := range resources {
		if r.State == StateGone || (!all && r.Verdict != Attacker) || !resource.Removable(r.Type) {
			continue
		}
		out = append(out, target(r))
	}
	return out
}
