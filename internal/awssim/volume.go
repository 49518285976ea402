package awssim

import (
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"sort"
	"time"
)

// volumeOp is a read call a workload makes all day long.
type volumeOp struct {
	service, action string
	weight          int
	request         func(r *mrand.Rand) map[string]any
}

// volumeOps are the workload's calls, weighted like a service polling EC2
// and reading its configuration: Describe*, List*, Get*, nothing that
// changes the account. Event names are the ones CloudTrail logs (Lambda's
// carry their API version).
var volumeOps = []volumeOp{
	{"ec2", "DescribeInstances", 30, func(*mrand.Rand) map[string]any {
		return map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{}}
	}},
	{"ec2", "DescribeInstanceStatus", 10, func(*mrand.Rand) map[string]any {
		return map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{}, "includeAllInstances": false}
	}},
	{"ec2", "DescribeVolumes", 8, func(*mrand.Rand) map[string]any {
		return map[string]any{"volumeSet": map[string]any{}, "filterSet": map[string]any{}}
	}},
	{"ec2", "DescribeSecurityGroups", 6, func(*mrand.Rand) map[string]any {
		return map[string]any{"securityGroupSet": map[string]any{}, "securityGroupIdSet": map[string]any{}, "filterSet": map[string]any{}}
	}},
	{"ec2", "DescribeTags", 5, func(*mrand.Rand) map[string]any {
		return map[string]any{"filterSet": map[string]any{}}
	}},
	{"sts", "GetCallerIdentity", 8, func(*mrand.Rand) map[string]any { return nil }},
	{"ssm", "GetParameter", 10, func(r *mrand.Rand) map[string]any {
		return map[string]any{"name": volumeParams[r.IntN(len(volumeParams))], "withDecryption": true}
	}},
	{"ssm", "GetParameters", 4, func(r *mrand.Rand) map[string]any {
		return map[string]any{"names": []string{volumeParams[r.IntN(len(volumeParams))]}, "withDecryption": true}
	}},
	{"dynamodb", "DescribeTable", 5, func(r *mrand.Rand) map[string]any {
		return map[string]any{"tableName": volumeTables[r.IntN(len(volumeTables))]}
	}},
	{"lambda", "ListFunctions20150331", 4, func(*mrand.Rand) map[string]any { return nil }},
	{"logs", "DescribeLogStreams", 4, func(*mrand.Rand) map[string]any {
		return map[string]any{"logGroupName": "/app/worker", "orderBy": "LastEventTime", "descending": true}
	}},
	{"monitoring", "DescribeAlarms", 3, func(*mrand.Rand) map[string]any {
		return map[string]any{"stateValue": "ALARM"}
	}},
}

var (
	volumeParams = []string{"/app/prod/db-host", "/app/prod/queue-url", "/app/prod/feature-flags", "/app/prod/api-endpoint"}
	volumeTables = []string{"orders", "sessions", "inventory"}
)

// volumeSkew is the exponent of the Zipf-like spread over regions: the first
// region of the seeded order gets about a third of the events, the last a
// few percent, as a workload concentrated in a home region with scattered
// calls elsewhere would.
const volumeSkew = 1.2

// MaxVolume bounds AddVolume: every event is kept in memory (about 1.3 KB
// each, so a million take about 1.3 GB). Without a bound, a mistyped count
// (2e9) is not an error but a machine brought down by the OOM killer.
const MaxVolume = 1_000_000

// AddVolume records n CloudTrail events made by keyID (at most MaxVolume): a workload's
// read-mostly calls spread over every enabled region with a seeded, skewed
// distribution, at times spread over window before now. The events carry the
// workload's source IP and user agent (those of the key's latest "workload"
// event when there is one) and the actor "workload". They go through the
// same recorder as every other call, so they look exactly like them.
func (s *Sim) AddVolume(n int, keyID string, seed uint64, window time.Duration) error {
	if n < 0 {
		return fmt.Errorf("add volume: event count %d is negative", n)
	}
	if n > MaxVolume {
		return fmt.Errorf("add volume: %d events is more than the simulator holds (at most %d, about 1.3 GB of memory)", n, MaxVolume)
	}
	if window <= 0 {
		return fmt.Errorf("add volume: window %v must be positive", window)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cred, ok := s.acct.Keys[keyID]
	if !ok {
		return fmt.Errorf("add volume: no access key %s in the account", keyID)
	}
	if (cred.UserName != "" && s.acct.Users[cred.UserName] == nil) || (cred.Kind == KindRole && s.acct.Roles[cred.RoleName] == nil) {
		return fmt.Errorf("add volume: the principal of access key %s no longer exists", keyID)
	}
	if n == 0 {
		return nil
	}
	var regions []string
	for _, r := range s.acct.Regions {
		if r.Enabled() && s.acct.regions[r.Name] != nil {
			regions = append(regions, r.Name)
		}
	}
	if len(regions) == 0 {
		return fmt.Errorf("add volume: the account has no enabled region")
	}
	rng := mrand.New(mrand.NewPCG(seed, seed^0x5851f42d4c957f2d))

	// Which region each event goes to, drawn first so that the stores can
	// be sized once.
	rank := rng.Perm(len(regions)) // rank[i]: place of regions[i] in the skew
	cum := make([]float64, len(regions))
	total := 0.0
	for i := range regions {
		total += 1 / math.Pow(float64(rank[i]+1), volumeSkew)
		cum[i] = total
	}
	where := make([]uint8, n)
	counts := make([]int, len(regions))
	for i := range where {
		r := sort.SearchFloat64s(cum, rng.Float64()*total)
		r = min(r, len(regions)-1)
		where[i] = uint8(r)
		counts[r]++
	}
	// Times in ascending order, so that each region's new events arrive in
	// order and the store's sorted insert is an append.
	offsets := make([]int64, n)
	for i := range offsets {
		offsets[i] = rng.Int64N(int64(window))
	}
	slices.Sort(offsets)
	start := s.now().UTC().Add(-window)

	opWeights := 0
	for _, op := range volumeOps {
		opWeights += op.weight
	}
	ip, agent := s.workloadOrigin(keyID, rng)

	// Record into fresh stores and merge once per region: inserting a
	// million events one by one into a sorted slice would move the slice a
	// million times.
	old := make([]*trailStore, len(regions))
	for i, name := range regions {
		rs := s.acct.regions[name]
		old[i] = rs.Trail
		rs.Trail = &trailStore{events: make([]*storedEvent, 0, counts[i])}
	}
	defer func() {
		for i, name := range regions {
			rs := s.acct.regions[name]
			old[i].merge(rs.Trail.events)
			rs.Trail = old[i]
		}
	}()
	for i := range n {
		w := rng.IntN(opWeights)
		op := volumeOps[0]
		for _, o := range volumeOps {
			if w < o.weight {
				op = o
				break
			}
			w -= o.weight
		}
		c := &Call{
			Service: op.service, Action: op.action, Region: regions[where[i]],
			Params: map[string]string{}, AccessKeyID: keyID, SourceIP: ip,
			UserAgent: agent, Time: start.Add(time.Duration(offsets[i])),
			Actor: "workload", cred: cred,
		}
		s.record(c, &Result{Request: op.request(rng)}, nil)
	}
	return nil
}

// workloadOrigin is the source IP and user agent of the key's latest
// "workload" event, or a made-up EC2 address and SDK agent when there is
// none. Called with mu held.
func (s *Sim) workloadOrigin(keyID string, rng *mrand.Rand) (string, string) {
	var latest *storedEvent
	for _, rs := range s.acct.regions {
		evs := rs.Trail.events
		for i := len(evs) - 1; i >= 0; i-- {
			if e := evs[i]; e.AccessKeyID == keyID && e.Actor == "workload" {
				if latest == nil || eventAfter(e, latest) {
					latest = e
				}
				break
			}
		}
	}
	if latest != nil {
		var rec struct {
			SourceIP  string `json:"sourceIPAddress"`
			UserAgent string `json:"userAgent"`
		}
		if json.Unmarshal(latest.Raw, &rec) == nil && rec.SourceIP != "" {
			return rec.SourceIP, rec.UserAgent
		}
	}
	ip := fmt.Sprintf("54.%d.%d.%d", 144+rng.IntN(16), rng.IntN(256), 1+rng.IntN(254))
	return ip, "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64"
}

// merge adds events, themselves ordered by (Time, ID), keeping the store in
// order: one linear merge instead of a sorted insert each.
func (t *trailStore) merge(add []*storedEvent) {
	if len(add) == 0 {
		return
	}
	a := t.events
	out := make([]*storedEvent, 0, len(a)+len(add))
	i, j := 0, 0
	for i < len(a) && j < len(add) {
		if eventAfter(a[i], add[j]) {
			out = append(out, add[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, add[j:]...)
	t.events = out
}
