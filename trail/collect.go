package trail

import (
	"slices"
	"sort"
	"sync"
	"time"
)

// Investigation is what a sweep or a log scan found: the events of the
// leaked key and of every key derived from it, de-duplicated on eventID and
// ordered by time, the chain of keys, and the coverage of every source.
type Investigation struct {
	Key      string
	Account  string // from the key's own events; "" when it made none
	Window   Window
	Events   []Event
	Keys     []KeyLink // the leaked key first, then derived keys by issue time
	RoleARNs []string  // roles assumed along the chain, sorted
	Coverage Coverage
}

// Derived returns the keys issued from the leaked key, directly or not.
func (inv *Investigation) Derived() []KeyLink {
	var out []KeyLink
	for _, k := range inv.Keys {
		if k.Parent != "" {
			out = append(out, k)
		}
	}
	return out
}

// collector gathers events from concurrent workers, de-duplicates them and
// records the chain of keys. It is safe for concurrent use.
type collector struct {
	mu     sync.Mutex
	pivot  bool
	events map[string]*Event
	links  map[string]KeyLink // key ID -> how it was found
	order  []string           // keys in discovery order, roots first
}

func newCollector(pivot bool, roots []string) *collector {
	c := &collector{pivot: pivot, events: map[string]*Event{}, links: map[string]KeyLink{}}
	for _, k := range roots {
		if _, ok := c.links[k]; !ok {
			c.links[k] = KeyLink{AccessKeyID: k}
			c.order = append(c.order, k)
		}
	}
	return c
}

// add keeps e unless an event with the same key is kept already. It returns
// whether e was new and the keys e derived that nobody knew before; the
// caller searches those. A derived key is recorded only from an event of a
// key already in the chain, which keeps the chain a tree and the pivot
// cycle-safe.
func (c *collector) add(e Event) (added bool, fresh []KeyLink) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := e.Key()
	if _, dup := c.events[k]; dup {
		return false, nil
	}
	c.events[k] = &e
	if !c.pivot {
		return true, nil
	}
	if _, known := c.links[e.UserIdentity.AccessKeyID]; !known {
		return true, nil
	}
	if l, ok := e.Derivation(); ok {
		if _, seen := c.links[l.AccessKeyID]; !seen {
			c.links[l.AccessKeyID] = l
			c.order = append(c.order, l.AccessKeyID)
			fresh = append(fresh, l)
		}
	}
	return true, fresh
}

// keyIDs returns the keys of the chain in discovery order, roots first.
func (c *collector) keyIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.order)
}

// investigation assembles the result. now decides which derived keys may
// still be valid.
func (c *collector) investigation(key string, w Window, cov Coverage, now time.Time) *Investigation {
	c.mu.Lock()
	defer c.mu.Unlock()
	inv := &Investigation{Key: key, Window: w, Coverage: cov, Events: make([]Event, 0, len(c.events))}
	for _, e := range c.events {
		inv.Events = append(inv.Events, *e)
	}
	sort.Slice(inv.Events, func(i, j int) bool {
		a, b := &inv.Events[i], &inv.Events[j]
		if !a.EventTime.Equal(b.EventTime) {
			return a.EventTime.Before(b.EventTime)
		}
		return a.Key() < b.Key()
	})
	roles := map[string]bool{}
	var derived []KeyLink
	for _, id := range c.order {
		l := c.links[id]
		if l.Parent == "" {
			inv.Keys = append(inv.Keys, l)
			continue
		}
		l.MayBeValid = l.mayBeValid(now)
		derived = append(derived, l)
		if l.RoleARN != "" {
			roles[l.RoleARN] = true
		}
	}
	sort.SliceStable(derived, func(i, j int) bool { return derived[i].EventTime.Before(derived[j].EventTime) })
	inv.Keys = append(inv.Keys, derived...)
	for r := range roles {
		inv.RoleARNs = append(inv.RoleARNs, r)
	}
	slices.Sort(inv.RoleARNs)
	for _, e := range inv.Events {
		if e.UserIdentity.AccessKeyID == key {
			if inv.Account = e.AccountID(); inv.Account != "" {
				break
			}
		}
	}
	return inv
}
