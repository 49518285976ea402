package awssim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Truth is the ground truth of the simulated account, for tests: every event
// in every region's CloudTrail store, the keys derived from the leaked key,
// and the resources made by keys. With several accounts (an organization)
// it covers all of them; Account is the home account.
type Truth struct {
	Account     string          `json:"account"`
	Accounts    []string        `json:"accounts"` // every account, home first
	LeakedKey   string          `json:"leakedKey"`
	DerivedKeys []TruthKey      `json:"derivedKeys"`
	Events      []TruthEvent    `json:"events"`
	Resources   []TruthResource `json:"resources"`
}

// TruthKey is a key derived (directly or not) from the leaked key.
type TruthKey struct {
	AccessKeyID string    `json:"accessKeyId"`
	Account     string    `json:"account"` // the account the key belongs to
	Parent      string    `json:"parent"`
	Via         string    `json:"via"`
	EventID     string    `json:"eventID,omitempty"`
	Kind        string    `json:"kind"`
	UserName    string    `json:"userName,omitempty"`
	RoleName    string    `json:"roleName,omitempty"`
	Created     time.Time `json:"created"`
	Expiration  time.Time `json:"expiration,omitzero"`
	Status      string    `json:"status"` // Active, Inactive, Deleted, Expired
}

// TruthEvent is one CloudTrail event of the account.
type TruthEvent struct {
	EventID     string    `json:"eventID"`
	EventTime   time.Time `json:"eventTime"`
	Account     string    `json:"account"` // the account whose CloudTrail holds the event
	Region      string    `json:"region"`
	EventSource string    `json:"eventSource"`
	EventName   string    `json:"eventName"`
	AccessKeyID string    `json:"accessKeyId"`
	Actor       string    `json:"actor"`
	Attacker    bool      `json:"attacker"`
	ErrorCode   string    `json:"errorCode,omitempty"`
}

// TruthResource is a resource of the account made by an access key, or a
// change a key made to the account's defences (a trail stopped, a snapshot
// shared): State says whether it is still there or in effect.
type TruthResource struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Account   string `json:"account"`
	Region    string `json:"region"`
	State     string `json:"state"`
	CreatedBy string `json:"createdBy,omitempty"`
	Attacker  bool   `json:"attacker"`
}

// Present tells whether the resource is still there, or the change still
// in effect: not terminated, deleted, cancelled, stopped for good, or
// undone.
func (r TruthResource) Present() bool {
	switch r.State {
	case "terminated", "shutting-down", "deleted", "cancelled", "ended", "restored", "unshared":
		return false
	}
	return true
}

// Truth returns the account's ground truth now.
func (s *Sim) Truth() Truth {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := Truth{Account: s.home.ID, LeakedKey: s.leaked, DerivedKeys: []TruthKey{}, Events: []TruthEvent{}, Resources: []TruthResource{}}
	for _, k := range s.derivedFrom(s.leaked) {
		tk := TruthKey{AccessKeyID: k.AccessKeyID, Account: s.keyAccount(k.AccessKeyID).ID, Parent: k.Parent, Via: k.Via, EventID: k.ViaEventID, Kind: k.Kind,
			UserName: k.UserName, RoleName: k.RoleName, Created: k.Created, Expiration: k.Expires, Status: k.Status}
		switch {
		case k.Deleted:
			tk.Status = "Deleted"
		case k.Temporary() && !s.now().Before(k.Expires):
			tk.Status = "Expired"
		case k.Temporary():
			tk.Status = "Active"
		}
		t.DerivedKeys = append(t.DerivedKeys, tk)
	}
	if s.replayed && s.leaked != "" {
		t.DerivedKeys = append(t.DerivedKeys, s.replayDerived(s.leaked)...)
	}
	for _, a := range s.allAccounts() {
		t.Accounts = append(t.Accounts, a.ID)
		for _, r := range a.Regions {
			rs := a.regions[r.Name]
			for _, e := range rs.Trail.events {
				t.Events = append(t.Events, TruthEvent{EventID: e.ID, EventTime: e.Time, Account: a.ID, Region: e.Region, EventSource: e.Source,
					EventName: e.Name, AccessKeyID: e.AccessKeyID, Actor: e.Actor, Attacker: e.Actor == "attacker", ErrorCode: e.ErrorCode})
			}
		}
	}
	sort.Slice(t.Events, func(i, j int) bool {
		if !t.Events[i].EventTime.Equal(t.Events[j].EventTime) {
			return t.Events[i].EventTime.Before(t.Events[j].EventTime)
		}
		return t.Events[i].EventID < t.Events[j].EventID
	})
	t.Resources = s.resources()
	return t
}

// derivedFrom lists the keys made from root, transitively, oldest first.
// Called with mu held.
func (s *Sim) derivedFrom(root string) []*Credential {
	if root == "" {
		return nil
	}
	in := map[string]bool{root: true}
	var out []*Credential
	for changed := true; changed; {
		changed = false
		for _, a := range s.allAccounts() {
			for _, k := range a.Keys {
				if !in[k.AccessKeyID] && k.Parent != "" && in[k.Parent] {
					in[k.AccessKeyID] = true
					out = append(out, k)
					changed = true
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].AccessKeyID < out[j].AccessKeyID
	})
	return out
}

// resources lists what access keys created, with its current state. Called
// with mu held.
func (s *Sim) resources() []TruthResource {
	out := []TruthResource{}
	for _, a := range s.allAccounts() {
		out = s.accountResources(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// accountResources appends what access keys created in one account. Called
// with mu held.
func (s *Sim) accountResources(out []TruthResource, acct *account) []TruthResource {
	add := func(typ, id, region, state, by string) {
		if by == "" {
			return // part of the scenario's set-up, not made by a key
		}
		actor, ok := s.creators[typ+"|"+id]
		if !ok {
			actor = s.actors[by]
		}
		out = append(out, TruthResource{Type: typ, ID: id, Account: acct.ID, Region: region, State: state, CreatedBy: by, Attacker: actor == "attacker"})
	}
	for _, u := range acct.Users {
		add("AWS::IAM::User", u.Name, "us-east-1", "present", u.CreatedBy)
	}
	for _, r := range acct.Roles {
		add("AWS::IAM::Role", r.Name, "us-east-1", "present", r.CreatedBy)
	}
	for _, k := range acct.Keys {
		if k.Via == "CreateAccessKey" {
			state := map[bool]string{true: "deleted", false: "present"}[k.Deleted]
			add("AWS::IAM::AccessKey", k.AccessKeyID, "us-east-1", state, k.Parent)
		}
	}
	for _, r := range acct.Regions {
		rs := acct.regions[r.Name]
		for _, i := range rs.Instances {
			add("AWS::EC2::Instance", i.ID, r.Name, i.State, i.CreatedBy)
		}
		for _, k := range rs.KeyPairs {
			add("AWS::EC2::KeyPair", k.Name, r.Name, "present", k.CreatedBy)
		}
		for _, g := range rs.SecurityGroups {
			add("AWS::EC2::SecurityGroup", g.ID, r.Name, "present", g.CreatedBy)
		}
		for _, f := range rs.Functions {
			add("AWS::Lambda::Function", f.Name, r.Name, "present", f.CreatedBy)
		}
		for _, byID := range rs.Objects {
			for _, o := range byID {
				add(o.Type, o.ID, r.Name, o.State, o.CreatedBy)
			}
		}
	}
	return out
}

// serveSim answers the simulator's own endpoints.
func (s *Sim) serveSim(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, lambdaCodePath) {
		s.serveLambdaCode(w, r)
		return
	}
	switch r.URL.Path {
	case "/_sim/truth":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Truth())
	case "/_sim/health":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	default:
		http.NotFound(w, r)
	}
}

// Records returns every CloudTrail record of every account and region, as
// LookupEvents returns them in CloudTrailEvent, oldest first.
func (s *Sim) Records() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var evs []*storedEvent
	for _, a := range s.allAccounts() {
		for _, r := range a.Regions {
			evs = append(evs, a.regions[r.Name].Trail.events...)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return eventAfter(evs[j], evs[i]) })
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		out[i] = e.Raw
	}
	return out
}
