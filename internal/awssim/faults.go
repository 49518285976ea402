package awssim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the failures the simulator injects into HTTP requests. Every
// decision follows from counters and the simulator's clock, never from the
// wall clock or chance, so a run with the same requests fails the same way.
// The zero value injects nothing.
type Faults struct {
	// Latency is added before every API request is answered.
	Latency time.Duration `yaml:"latency,omitempty"`
	// ThrottleStorm answers the next N LookupEvents requests (all regions)
	// with ThrottlingException whatever their rate.
	ThrottleStorm int `yaml:"throttleStorm,omitempty"`
	// ThrottleStormFor answers LookupEvents with ThrottlingException for this
	// long, on the simulator's clock, from the first LookupEvents request.
	ThrottleStormFor time.Duration `yaml:"throttleStormFor,omitempty"`
	// FailEvery starts a burst of FailBurst server errors at every FailEvery-th
	// request of a service (counted per service): requests N, N+1, …, N+M-1,
	// 2N, …. Bursts alternate between HTTP 500 and 503.
	FailEvery int `yaml:"failEvery,omitempty"`
	// FailBurst is the length of each burst (default 1 when FailEvery is set).
	// It is below FailEvery, so every cycle lets requests through.
	FailBurst int `yaml:"failBurst,omitempty"`
	// FailServices limits the bursts to these services ("cloudtrail", ...);
	// empty means every service.
	FailServices []string `yaml:"failServices,omitempty"`
	// DenyRegions answer every CloudTrail request in them with
	// AccessDeniedException, as a service control policy would.
	DenyRegions []string `yaml:"denyRegions,omitempty"`
	// DisableRegions are made not opted in: DescribeRegions reports them as
	// "not-opted-in" and calls there fail as in a disabled region.
	DisableRegions []string `yaml:"disableRegions,omitempty"`
	// DenyServices answer every call to these services ("pricing", "ce")
	// with AccessDenied, as a service control policy would: what keyleak
	// does without the Price List or Cost Explorer.
	DenyServices []string `yaml:"denyServices,omitempty"`

	state *faultState // counters; shared by copies of an applied Faults
}

// faultState is what fault injection counts. It is guarded by Sim.mu.
type faultState struct {
	requests   map[string]int // requests seen per service, for 5xx bursts
	stormUsed  int            // LookupEvents requests answered by the counted storm
	stormStart time.Time      // start of the storm window: the first LookupEvents
	// restore is the opt-in status each disabled region had before.
	restore map[string]string
}

// Limits that keep a faulty simulator usable.
const (
	maxFaultLatency  = time.Minute
	maxStormRequests = 1_000_000
	maxStormWindow   = 24 * time.Hour
)

// faultServices are the services faults may name.
var faultServices = []string{"iam", "sts", "ec2", "lambda", "cloudtrail", "guardduty", "secretsmanager", "organizations", "pricing", "ce"}

// regionName is the shape of an AWS region name.
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// Validate reports the first setting that is out of range.
func (f Faults) Validate() error {
	switch {
	case f.Latency < 0 || f.Latency > maxFaultLatency:
		return fmt.Errorf("check faults: latency %v is outside 0..%v", f.Latency, maxFaultLatency)
	case f.ThrottleStorm < 0 || f.ThrottleStorm > maxStormRequests:
		return fmt.Errorf("check faults: throttle storm of %d requests is outside 0..%d", f.ThrottleStorm, maxStormRequests)
	case f.ThrottleStormFor < 0 || f.ThrottleStormFor > maxStormWindow:
		return fmt.Errorf("check faults: throttle storm window %v is outside 0..%v", f.ThrottleStormFor, maxStormWindow)
	case f.FailEvery < 0 || f.FailBurst < 0:
		return fmt.Errorf("check faults: 5xx every %d, burst %d: both must be positive", f.FailEvery, f.FailBurst)
	case f.FailBurst > 0 && f.FailEvery == 0:
		return fmt.Errorf("check faults: a 5xx burst needs 5xx-every")
	case f.FailEvery == 1:
		return fmt.Errorf("check faults: 5xx-every must be at least 2, or no request would succeed")
	case f.FailEvery > 0 && f.burst() >= f.FailEvery:
		return fmt.Errorf("check faults: 5xx burst %d must be shorter than 5xx-every %d, or no request would succeed", f.burst(), f.FailEvery)
	}
	for _, svc := range slices.Concat(f.FailServices, f.DenyServices) {
		if !slices.Contains(faultServices, svc) {
			return fmt.Errorf("check faults: unknown service %q (want one of %s)", svc, strings.Join(faultServices, ", "))
		}
	}
	for _, r := range slices.Concat(f.DenyRegions, f.DisableRegions) {
		if !regionName.MatchString(r) {
			return fmt.Errorf("check faults: %q is not a region name", r)
		}
	}
	return nil
}

// burst is the effective burst length.
func (f Faults) burst() int {
	if f.FailEvery > 0 && f.FailBurst == 0 {
		return 1
	}
	return f.FailBurst
}

// String writes the faults in the form ParseFaults reads.
func (f Faults) String() string {
	var parts []string
	if f.Latency > 0 {
		parts = append(parts, "latency="+f.Latency.String())
	}
	if f.ThrottleStorm > 0 {
		parts = append(parts, "throttle-storm="+strconv.Itoa(f.ThrottleStorm))
	}
	if f.ThrottleStormFor > 0 {
		parts = append(parts, "throttle-storm="+f.ThrottleStormFor.String())
	}
	if f.FailEvery > 0 {
		parts = append(parts, "5xx-every="+strconv.Itoa(f.FailEvery), "5xx-burst="+strconv.Itoa(f.burst()))
	}
	list := func(key string, vals []string) {
		for _, v := range vals {
			parts = append(parts, key+"="+v)
		}
	}
	list("5xx-service", f.FailServices)
	list("deny", f.DenyRegions)
	list("disable", f.DisableRegions)
	list("deny-service", f.DenyServices)
	return strings.Join(parts, ",")
}

// faultOptions are the keys ParseFaults knows.
const faultOptions = "latency, throttle-storm, 5xx-every, 5xx-burst, 5xx-service, deny, disable, deny-service"

// ParseFaults reads a fault specification, the value of a command-line flag:
// comma-separated key=value settings, e.g.
//
//	latency=100ms,throttle-storm=30,5xx-every=20,5xx-burst=3,deny=eu-west-1,disable=ap-south-1
//
// throttle-storm takes a count of requests (30) or a window (30s). The list
// keys (5xx-service, deny, disable) may repeat, and a bare value continues
// the list before it: deny=eu-west-1,eu-west-2.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return f, nil
	}
	seen := map[string]bool{}
	var list *[]string // the list a bare value continues
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		key, val, hasEq := strings.Cut(item, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !hasEq {
			if list == nil || item == "" {
				return Faults{}, fmt.Errorf("parse faults: %q is not key=value (keys: %s)", item, faultOptions)
			}
			*list = append(*list, item)
			continue
		}
		if val == "" {
			return Faults{}, fmt.Errorf("parse faults: %s has no value", key)
		}
		list = nil
		switch key {
		case "5xx-service":
			list = &f.FailServices
		case "deny":
			list = &f.DenyRegions
		case "disable":
			list = &f.DisableRegions
		case "deny-service":
			list = &f.DenyServices
		}
		if list != nil {
			*list = append(*list, val)
			continue
		}
		if seen[key] {
			return Faults{}, fmt.Errorf("parse faults: %s is given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "latency":
			f.Latency, err = time.ParseDuration(val)
		case "throttle-storm":
			if n, nerr := strconv.Atoi(val); nerr == nil {
				f.ThrottleStorm = n
			} else {
				f.ThrottleStormFor, err = time.ParseDuration(val)
			}
		case "5xx-every":
			f.FailEvery, err = strconv.Atoi(val)
		case "5xx-burst":
			f.FailBurst, err = strconv.Atoi(val)
		default:
			return Faults{}, fmt.Errorf("parse faults: unknown setting %q (keys: %s)", key, faultOptions)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("parse faults: %s=%s: want a number or a duration like 100ms", key, val)
		}
	}
	if err := f.Validate(); err != nil {
		return Faults{}, err
	}
	return f, nil
}

// SetFaults replaces the injected faults: counters start afresh, regions
// disabled by the previous faults get their opt-in status back, and the new
// ones are disabled. Region names the account does not have are ignored.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyFaults(f)
}

// applyFaults is SetFaults with mu held (or before the Sim is shared).
func (s *Sim) applyFaults(f Faults) {
	if st := s.faults.state; st != nil {
		for i, r := range s.acct.Regions {
			if old, ok := st.restore[r.Name]; ok {
				s.acct.Regions[i].OptInStatus = old
			}
		}
	}
	f.FailServices = slices.Clone(f.FailServices)
	f.DenyRegions = slices.Clone(f.DenyRegions)
	f.DisableRegions = slices.Clone(f.DisableRegions)
	f.DenyServices = slices.Clone(f.DenyServices)
	f.state = &faultState{requests: map[string]int{}, restore: map[string]string{}}
	for i, r := range s.acct.Regions {
		if slices.Contains(f.DisableRegions, r.Name) {
			f.state.restore[r.Name] = r.OptInStatus
			s.acct.Regions[i].OptInStatus = "not-opted-in"
		}
	}
	s.faults = f
}

// faultStateLocked returns the fault counters. Faults given to New with
// WithFaults have none yet; they are applied on first use. Called with mu held.
func (s *Sim) faultStateLocked() *faultState {
	if s.faults.state == nil {
		s.applyFaults(s.faults)
	}
	return s.faults.state
}

// faultLatency is the delay to add before answering a request.
func (s *Sim) faultLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultStateLocked()
	return s.faults.Latency
}

// injectFault returns the error to answer instead of running the call, or
// nil. It runs before the call reaches the account, so injected failures are
// not recorded in CloudTrail, like requests AWS rejects at its front door.
func (s *Sim) injectFault(c *Call) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.faultStateLocked()
	f := &s.faults
	if c.Service == "cloudtrail" && slices.Contains(f.DenyRegions, c.Region) {
		principal := "the caller"
		if k, ok := s.acct.Keys[c.AccessKeyID]; ok {
			principal = s.arnOf(k)
		}
		return errf(403, "AccessDeniedException", "User: %s is not authorized to perform: cloudtrail:%s with an explicit deny in a service control policy", principal, c.Action)
	}
	if slices.Contains(f.DenyServices, c.Service) {
		principal := "the caller"
		if k, ok := s.acct.Keys[c.AccessKeyID]; ok {
			principal = s.arnOf(k)
		}
		return &APIError{Status: 403, Code: errAccessDenied(c, principal).Code,
			Message: fmt.Sprintf("User: %s is not authorized to perform: %s:%s with an explicit deny in a service control policy", principal, c.Service, c.Action)}
	}
	if f.FailEvery > 0 && (len(f.FailServices) == 0 || slices.Contains(f.FailServices, c.Service)) {
		st.requests[c.Service]++
		n := st.requests[c.Service]
		if n >= f.FailEvery && n%f.FailEvery < f.burst() {
			return serverError(c.Service, n/f.FailEvery)
		}
	}
	if c.Service == "cloudtrail" && c.Action == "LookupEvents" {
		if st.stormUsed < f.ThrottleStorm {
			st.stormUsed++
			return errf(400, "ThrottlingException", "Rate exceeded")
		}
		if f.ThrottleStormFor > 0 {
			now := s.now()
			if st.stormStart.IsZero() {
				st.stormStart = now
			}
			if now.Before(st.stormStart.Add(f.ThrottleStormFor)) {
				return errf(400, "ThrottlingException", "Rate exceeded")
			}
		}
	}
	return nil
}

// serverError is the k-th injected server error: odd bursts are HTTP 500,
// even ones 503, in the codes the service uses.
func serverError(service string, k int) *APIError {
	if k%2 == 1 {
		if service == "ec2" {
			return errf(500, "InternalError", "An internal error has occurred")
		}
		return errf(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
	}
	if service == "ec2" {
		return errf(503, "Unavailable", "The server is overloaded and can't handle the request.")
	}
	return errf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
}
