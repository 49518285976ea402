package awssim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// replayRecord is what the simulator reads of a real CloudTrail record to
// serve it through LookupEvents.
type replayRecord struct {
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	Stamp        string `json:"@timestamp"` // records exported through Logstash
	EventName    string `json:"eventName"`
	EventSource  string `json:"eventSource"`
	Region       string `json:"awsRegion"`
	ErrorCode    string `json:"errorCode"`
	ReadOnly     any    `json:"readOnly"`
	UserIdentity struct {
		AccessKeyID    string `json:"accessKeyId"`
		UserName       string `json:"userName"`
		SessionContext struct {
			SessionIssuer struct {
				UserName string `json:"userName"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	Resources []struct {
		Type string `json:"type"`
		ARN  string `json:"ARN"`
	} `json:"resources"`
	Response struct {
		Credentials struct {
			AccessKeyID string `json:"accessKeyId"`
			Expiration  string `json:"expiration"`
		} `json:"credentials"`
		AccessKey struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
	} `json:"responseElements"`
}

// replayTimeLayouts are the forms of eventTime in real records and exports.
var replayTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

func replayTime(s string) (time.Time, bool) {
	for _, l := range replayTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Replay adds real CloudTrail records to the home account's trails, as
// they are, so that LookupEvents serves them with its paging, throttle and
// lookup-attribute rules and /_sim/truth reports them: a sweep can be
// tested on real records, and a responder can rehearse on their own
// exported logs. Each record goes to the store of its awsRegion; a region
// the account does not know is added as enabled. Records repeated (same
// eventID) are kept once. It returns how many records it added and the
// time of the newest: LookupEvents reaches 90 days back from the
// simulator's clock, which should stand just after it.
//
// A record without an eventID or a readable time cannot be served and
// makes Replay fail, naming it.
func (s *Sim) Replay(records []json.RawMessage) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.home
	seen := map[string]bool{}
	for _, r := range a.Regions {
		for _, e := range a.regions[r.Name].Trail.events {
			seen[e.ID] = true
		}
	}
	byRegion := map[string][]*storedEvent{}
	var newest time.Time
	added := 0
	for i, raw := range records {
		var r replayRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return added, newest, fmt.Errorf("replay record %d: %w", i+1, err)
		}
		at, ok := replayTime(r.EventTime)
		if !ok {
			at, ok = replayTime(r.Stamp)
		}
		if r.EventID == "" || !ok {
			return added, newest, fmt.Errorf("replay record %d: no eventID or no readable eventTime", i+1)
		}
		if seen[r.EventID] {
			continue
		}
		seen[r.EventID] = true
		region := r.Region
		if region == "" {
			region = "us-east-1"
		}
		if _, known := a.regionInfo(region); !known {
			a.Regions = append(a.Regions, Region{Name: region, OptInStatus: "opt-in-not-required"})
			a.regions[region] = newRegionState()
		}
		user := r.UserIdentity.UserName
		if user == "" {
			user = r.UserIdentity.SessionContext.SessionIssuer.UserName
		}
		ev := &storedEvent{
			ID: r.EventID, Time: at.Truncate(time.Second), Name: r.EventName, Source: r.EventSource,
			AccessKeyID: r.UserIdentity.AccessKeyID, Username: user, ReadOnly: isTrue(r.ReadOnly),
			Raw: append(json.RawMessage(nil), raw...), Region: region, ErrorCode: r.ErrorCode,
		}
		for _, res := range r.Resources {
			ev.Resources = append(ev.Resources, EventResource{Type: res.Type, Name: res.ARN})
		}
		byRegion[region] = append(byRegion[region], ev)
		if at.After(newest) {
			newest = at
		}
		added++
	}
	for region, evs := range byRegion {
		sort.Slice(evs, func(i, j int) bool { return eventAfter(evs[j], evs[i]) })
		a.regions[region].Trail.merge(evs)
	}
	s.replayed = true
	return added, newest, nil
}

func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// replayDerived follows the keys issued by root through the replayed
// records, as a sweep must: GetSessionToken, GetFederationToken,
// AssumeRole* and CreateAccessKey of a key in the chain. mu is held.
func (s *Sim) replayDerived(root string) []TruthKey {
	var evs []*storedEvent
	for _, r := range s.home.Regions {
		evs = append(evs, s.home.regions[r.Name].Trail.events...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return eventAfter(evs[j], evs[i]) })
	chain := map[string]bool{root: true}
	var out []TruthKey
	for changed := true; changed; {
		changed = false
		for _, e := range evs {
			if !chain[e.AccessKeyID] || e.ErrorCode != "" {
				continue
			}
			var r replayRecord
			if json.Unmarshal(e.Raw, &r) != nil {
				continue
			}
			id, kind := r.Response.Credentials.AccessKeyID, KindSession
			switch {
			case e.Name == "CreateAccessKey":
				id, kind = r.Response.AccessKey.AccessKeyID, KindUserKey
			case e.Name == "GetFederationToken":
				kind = KindFederation
			case strings.HasPrefix(e.Name, "AssumeRole"):
				kind = KindRole
			case e.Name != "GetSessionToken":
				continue
			}
			if id == "" || chain[id] {
				continue
			}
			chain[id] = true
			changed = true
			out = append(out, TruthKey{AccessKeyID: id, Account: s.home.ID, Parent: e.AccessKeyID, Via: e.Name, EventID: e.ID, Kind: kind, Created: e.Time})
		}
	}
	return out
}
