package awssim

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scenarioRun is a scenario being played on a Sim: the names the timeline
// refers to, the occurrences still to come and the ongoing actors.
type scenarioRun struct {
	sc        *Scenario
	start     time.Time // "now" of the scenario: every `at` is relative to it
	responder string    // access key ID of the responder
	// mfaSeeds are the seeds of the devices the scenario declared, by
	// serial number: the simulated devices MFACode reads.
	mfaSeeds map[string]string

	mu      sync.Mutex
	refs    map[string]string // key reference (declared or saved) -> access key ID
	vars    map[string]string // captured values
	queue   occurrences       // scheduled occurrences not yet run
	live    []*liveActor      // ongoing actions, run once per tick
	started bool
	ticks   int // ticks done by StartActors, for tests
}

// liveActor is an ongoing action in the live part of the scenario.
type liveActor struct {
	idx       int // index in the timeline
	rep       int // next repetition number
	stopped   bool
	stoppedAt time.Time
	stopCode  string // the error code that stopped it
	acts      int    // calls made in the live part
}

// ActorState is one ongoing action of a scenario's live part, for tests
// and benchmarks that watch when the attacker is stopped.
type ActorState struct {
	Actor       string // "attacker", "workload", ...
	Credential  string // the scenario's name of the credential it signs with
	AccessKeyID string
	Service     string
	Action      string
	Acts        int // calls made since StartActors
	Stopped     bool
	StoppedAt   time.Time // the simulator's time of the call that failed
	StopCode    string    // its error code
}

// Actors returns the ongoing actions of the scenario's live part in
// timeline order: who they are, how often they have acted, and whether and
// when their credential stopped working. Nil for a Sim without a scenario.
func (s *Sim) Actors() []ActorState {
	run := runOf(s)
	if run == nil {
		return nil
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	live := append([]*liveActor(nil), run.live...)
	sort.SliceStable(live, func(i, j int) bool { return live[i].idx < live[j].idx })
	out := make([]ActorState, 0, len(live))
	for _, la := range live {
		a := &run.sc.Timeline[la.idx]
		out = append(out, ActorState{Actor: a.Actor, Credential: a.As, AccessKeyID: run.refs[a.As], Service: a.Service, Action: a.Action,
			Acts: la.acts, Stopped: la.stopped, StoppedAt: la.stoppedAt, StopCode: la.stopCode})
	}
	return out
}

// occurrence is one scheduled run of a timeline action.
type occurrence struct {
	t   time.Time
	idx int
	rep int
}

// occurrences is a min-heap by time, then timeline order.
type occurrences []occurrence

func (q occurrences) Len() int { return len(q) }
func (q occurrences) Less(i, j int) bool {
	if !q[i].t.Equal(q[j].t) {
		return q[i].t.Before(q[j].t)
	}
	if q[i].idx != q[j].idx {
		return q[i].idx < q[j].idx
	}
	return q[i].rep < q[j].rep
}
func (q occurrences) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *occurrences) Push(x any)   { *q = append(*q, x.(occurrence)) }
func (q *occurrences) Pop() any {
	old := *q
	o := old[len(old)-1]
	*q = old[:len(old)-1]
	return o
}

func setRun(s *Sim, r *scenarioRun) {
	s.mu.Lock()
	s.scen = r
	s.mu.Unlock()
}

func runOf(s *Sim) *scenarioRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scen
}

// defaultAge is how old users, groups and roles are when the scenario does
// not say.
const defaultAge = -365 * 24 * time.Hour

// NewFromScenario builds the scenario's account and replays its timeline up
// to now (the simulator's clock when it is called). Options apply after the
// scenario's own (account ID, faults), so callers can override them.
func NewFromScenario(sc *Scenario, opts ...Option) (*Sim, error) {
	// A scenario built in code rather than parsed is checked here.
	if err := sc.check(); err != nil {
		return nil, fmt.Errorf("check scenario %s: %w", sc.label(), err)
	}
	base := []Option{WithFaults(sc.Faults)}
	if sc.Account.ID != "" {
		base = append(base, WithAccountID(sc.Account.ID))
	}
	s := New(append(base, opts...)...)
	// Faults shape what a client of the simulator sees, not the past: the
	// timeline is replayed without them (a region disabled by a fault still
	// holds the attacker's earlier calls), and they apply from then on.
	s.mu.Lock()
	faults := s.faults
	s.applyFaults(Faults{})
	s.mu.Unlock()

	run := &scenarioRun{sc: sc, start: s.now().UTC(), refs: map[string]string{}, vars: map[string]string{}}
	if err := s.setUp(run); err != nil {
		return nil, fmt.Errorf("set up scenario %s: %w", sc.label(), err)
	}
	for i, a := range sc.Timeline {
		heap.Push(&run.queue, occurrence{t: run.start.Add(a.At.D()), idx: i})
	}
	if err := s.replay(run); err != nil {
		return nil, fmt.Errorf("replay scenario %s: %w", sc.label(), err)
	}
	if v := sc.Volume; v != nil {
		if err := s.AddVolume(v.Events, run.refs[v.Key], v.Seed, v.Window.D()); err != nil {
			return nil, fmt.Errorf("set up scenario %s: %w", sc.label(), err)
		}
	}
	s.SetFaults(faults)
	setRun(s, run)
	return s, nil
}

// Scenario returns the scenario the Sim was built from, nil for New.
func (s *Sim) Scenario() *Scenario {
	if run := runOf(s); run != nil {
		return run.sc
	}
	return nil
}

// Responder returns the key of the scenario's user "responder", which the
// responder (keyleak, in the demo) uses. It is the zero Credential for a Sim
// not built from a scenario.
func (s *Sim) Responder() Credential {
	run := runOf(s)
	if run == nil {
		return Credential{}
	}
	c, _ := s.Key(run.responder)
	return c
}

// ResponderAccess is how the scenario's responder reaches the account: the
// key of the user "responder", and the role it assumes with the MFA device
// of that user when the scenario declares them.
type ResponderAccess struct {
	Key       Credential
	RoleARN   string // "" when the responder works with the key itself
	MFASerial string // "" when the user has no MFA device
}

// ResponderAccess returns the scenario's way in for the responder.
func (s *Sim) ResponderAccess() ResponderAccess {
	run := runOf(s)
	if run == nil {
		return ResponderAccess{}
	}
	ra := ResponderAccess{Key: s.Responder()}
	if r := run.sc.Responder; r != nil {
		ra.RoleARN = r.Role
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.keyAccount(ra.Key.AccessKeyID); a != nil {
		for _, d := range a.MFADevices {
			if d.User == ra.Key.UserName && d.User != "" {
				ra.MFASerial = d.Serial
			}
		}
	}
	return ra
}

// MFACode is what the scenario's simulated MFA device shows at time at:
// the code, never the seed, so that a demo can display it as a phone
// would. It fails for a device the scenario did not declare.
func (s *Sim) MFACode(serial string, at time.Time) (string, error) {
	run := runOf(s)
	if run == nil || run.mfaSeeds[serial] == "" {
		return "", fmt.Errorf("read MFA device %s: not a device of the scenario", serial)
	}
	return TOTP(run.mfaSeeds[serial], at)
}

// ScenarioKey returns the credential a scenario name refers to: a declared
// key or one saved by the timeline (`save:`).
func (s *Sim) ScenarioKey(name string) (Credential, bool) {
	run := runOf(s)
	if run == nil {
		return Credential{}, false
	}
	run.mu.Lock()
	id, ok := run.refs[name]
	run.mu.Unlock()
	if !ok {
		return Credential{}, false
	}
	return s.Key(id)
}

// setUp creates the scenario's accounts: regions, groups, users, keys,
// roles; then the organization.
func (s *Sim) setUp(run *scenarioRun) error {
	sc, start := run.sc, run.start
	at := func(o Offset) time.Time {
		if o == 0 {
			return start.Add(defaultAge)
		}
		return start.Add(o.D())
	}
	s.mu.Lock()
	s.acct.Alias = sc.Account.Alias
	s.acct.ImplicitDeny = sc.Account.ImplicitDeny
	s.setRegions(sc.Account.Regions)
	for _, g := range sc.Groups {
		grp := &Group{Name: g.Name, ID: s.newUniqueID("AGPA"), Path: "/", Created: at(g.Created), Inline: map[string]string{}}
		if err := s.applyPolicies(&grp.Attached, grp.Inline, g.ManagedPolicies, g.InlinePolicies); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("group %s: %w", g.Name, err)
		}
		s.acct.Groups[g.Name] = grp
	}
	s.mu.Unlock()
	if err := s.setUpIdentities(run, sc.Users, sc.Roles); err != nil {
		return err
	}
	for _, k := range sc.RootKeys {
		cred := s.AddRootKey(at(k.Created))
		s.mu.Lock()
		if a := keyActor(k, ""); a != "" {
			s.actors[cred.AccessKeyID] = a
		}
		s.mu.Unlock()
		s.finishKey(run, k, cred.AccessKeyID)
	}
	for _, d := range sc.GuardDuty {
		if s.EnableGuardDuty(d.Region) == "" {
			return fmt.Errorf("guardduty: no region %s", d.Region)
		}
		for _, f := range d.Findings {
			key, _ := s.Key(run.refs[f.Key])
			gf := GuardDutyFinding{Type: f.Type, Severity: f.Severity, AccessKeyID: key.AccessKeyID, UserName: key.UserName,
				Title: f.Title, Description: f.Description, API: f.Action, RemoteIP: f.IP, Count: f.Count,
				FirstSeen: start.Add(f.FirstSeen.D())}
			if f.Service != "" {
				gf.ServiceName = eventSource(f.Service)
			}
			if f.LastSeen != 0 {
				gf.LastSeen = start.Add(f.LastSeen.D())
			}
			if _, err := s.AddGuardDutyFinding(d.Region, gf); err != nil {
				return err
			}
		}
	}
	for _, m := range sc.Accounts {
		if err := s.AddAccount(m.ID, m.Alias); err != nil {
			return err
		}
		err := s.InAccount(m.ID, func() error {
			s.mu.Lock()
			s.acct.Joined = at(m.Joined)
			s.acct.ImplicitDeny = m.ImplicitDeny
			s.setRegions(m.Regions)
			s.mu.Unlock()
			return s.setUpIdentities(run, m.Users, m.Roles)
		})
		if err != nil {
			return fmt.Errorf("account %s: %w", m.ID, err)
		}
	}
	if o := sc.Organization; o != nil {
		master := orDefault(o.MasterAccount, s.AccountID())
		if err := s.SetOrganization(o.ID, master); err != nil {
			return err
		}
	}
	return nil
}

// setRegions overrides the opt-in status of the current account's regions.
// Called with mu held.
func (s *Sim) setRegions(status map[string]string) {
	for i, r := range s.acct.Regions {
		if st, ok := status[r.Name]; ok {
			s.acct.Regions[i].OptInStatus = st
		}
	}
}

// setUpIdentities creates roles, users and their keys in the current set-up
// account (see InAccount).
func (s *Sim) setUpIdentities(run *scenarioRun, users []UserSpec, roles []RoleSpec) error {
	start := run.start
	at := func(o Offset) time.Time {
		if o == 0 {
			return start.Add(defaultAge)
		}
		return start.Add(o.D())
	}
	s.mu.Lock()
	for _, r := range roles {
		role := &Role{Name: r.Name, ID: s.newUniqueID("AROA"), Path: orDefault(r.Path, "/"), Created: at(r.Created),
			Inline: map[string]string{}, MaxSession: time.Hour}
		if r.MaxSession > 0 {
			role.MaxSession = r.MaxSession.D()
		}
		if r.AssumeRolePolicy != nil {
			doc, err := policyJSON(r.AssumeRolePolicy)
			if err != nil {
				s.mu.Unlock()
				return fmt.Errorf("role %s: %w", r.Name, err)
			}
			role.AssumeRolePolicy = doc
		}
		if err := s.applyPolicies(&role.Attached, role.Inline, r.ManagedPolicies, r.InlinePolicies); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("role %s: %w", r.Name, err)
		}
		s.acct.Roles[r.Name] = role
	}
	// The responder's user is in the home account unless the scenario
	// puts it elsewhere.
	responderHere := s.acct == s.home
	if r := run.sc.Responder; r != nil && r.Account != "" {
		responderHere = s.acct.ID == r.Account
	}
	s.mu.Unlock()

	for _, u := range users {
		created := at(u.Created)
		if err := s.AddUser(u.Name, created, u.ManagedPolicies...); err != nil {
			return err
		}
		s.mu.Lock()
		usr := s.acct.Users[u.Name]
		usr.Path = orDefault(u.Path, "/")
		usr.Groups = append(usr.Groups, u.Groups...)
		err := s.applyPolicies(nil, usr.Inline, nil, u.InlinePolicies)
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("user %s: %w", u.Name, err)
		}
		if u.MFADevice != "" {
			serial, seed, err := s.AddMFADevice(u.Name, u.MFADevice, created)
			if err != nil {
				return fmt.Errorf("user %s: %w", u.Name, err)
			}
			if run.mfaSeeds == nil {
				run.mfaSeeds = map[string]string{}
			}
			run.mfaSeeds[serial] = seed
		}
		for _, k := range u.Keys {
			kc := created
			if k.Created != 0 {
				kc = start.Add(k.Created.D())
			}
			cred, err := s.AddAccessKey(u.Name, kc, keyActor(k, u.Name))
			if err != nil {
				return err
			}
			s.finishKey(run, k, cred.AccessKeyID)
			if responderHere && u.Name == ResponderUser && run.responder == "" && k.Status != "Inactive" {
				run.responder = cred.AccessKeyID
			}
		}
	}
	return nil
}

// finishKey records a declared key's name, status and leak.
func (s *Sim) finishKey(run *scenarioRun, k KeySpec, id string) {
	run.refs[k.Name] = id
	if k.Status == "Inactive" {
		s.mu.Lock()
		s.keyAccount(id).Keys[id].Status = "Inactive"
		s.mu.Unlock()
	}
	if k.Leaked {
		s.SetLeakedKey(id)
	}
}

// keyActor is the actor label of a declared key (see KeySpec.Actor).
func keyActor(k KeySpec, user string) string {
	switch {
	case k.Actor != "":
		return k.Actor
	case k.Leaked:
		// The leaked key is shared by the workload and the attacker: each
		// scenario action says whose call it is, and calls over HTTP with it
		// are whoever holds it now (the responder, in tests).
		return ""
	case user == ResponderUser:
		return "responder"
	}
	return "workload"
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// applyPolicies resolves managed policy names to ARNs and encodes inline
// policies. Called with mu held.
func (s *Sim) applyPolicies(attached *[]string, inline map[string]string, managed []string, docs map[string]any) error {
	for _, p := range managed {
		arn := p
		if _, ok := s.acct.Policies[arn]; !ok {
			arn = "arn:aws:iam::aws:policy/" + p
		}
		if _, ok := s.acct.Policies[arn]; !ok {
			return fmt.Errorf("no managed policy %s", p)
		}
		*attached = append(*attached, arn)
	}
	for name, d := range docs {
		doc, err := policyJSON(d)
		if err != nil {
			return fmt.Errorf("inline policy %s: %w", name, err)
		}
		inline[name] = doc
	}
	return nil
}

// replay runs every occurrence up to the scenario's start, in time order.
// An outcome other than the one the action expects is an error: the
// scenario would not tell the story it claims.
func (s *Sim) replay(run *scenarioRun) error {
	for run.queue.Len() > 0 && !run.queue[0].t.After(run.start) {
		o := heap.Pop(&run.queue).(occurrence)
		a := &run.sc.Timeline[o.idx]
		res, err := s.runAction(run, o.idx, o.rep, o.t)
		if a.Ongoing != nil {
			if stopsActor(err) {
				continue // the credential stopped working: so does the actor
			}
			if err != nil {
				return lineErr(a.line, "%s %s at %s: %v", a.Service, a.Action, fmtOffset(o.t.Sub(run.start)), err)
			}
			next := o.t.Add(a.Ongoing.Every.D())
			if next.After(run.start) {
				// From now on the actor acts once per tick of StartActors,
				// from the first one.
				run.live = append(run.live, &liveActor{idx: o.idx, rep: o.rep + 1})
				continue
			}
			heap.Push(&run.queue, occurrence{t: next, idx: o.idx, rep: o.rep + 1})
			continue
		}
		if err := s.settle(run, a, res, err); err != nil {
			return lineErr(a.line, "%s %s at %s: %v", a.Service, a.Action, fmtOffset(o.t.Sub(run.start)), err)
		}
		if o.rep+1 < a.Repeat {
			heap.Push(&run.queue, occurrence{t: o.t.Add(a.Every.D()), idx: o.idx, rep: o.rep + 1})
		}
	}
	return nil
}

// fmtOffset writes an offset from the scenario's start like the YAML does.
func fmtOffset(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	if days := d / (24 * time.Hour); days > 0 {
		rest := d - days*24*time.Hour
		if rest == 0 {
			return fmt.Sprintf("%s%dd", sign, days)
		}
		return fmt.Sprintf("%s%dd%s", sign, days, rest)
	}
	return sign + d.String()
}

// settle checks an action's outcome against its expectation and keeps what
// it saves and captures. Called with run.mu held or before the run is shared.
func (s *Sim) settle(run *scenarioRun, a *ActionSpec, res *Result, err error) error {
	var apiErr *APIError
	if err != nil && !errors.As(err, &apiErr) {
		return err
	}
	switch {
	case a.Expect == "" && err != nil:
		return fmt.Errorf("the call failed: %w", err)
	case a.Expect != "" && err == nil:
		return fmt.Errorf("the call succeeded, want error %s", a.Expect)
	case a.Expect != "" && apiErr.Code != a.Expect:
		return fmt.Errorf("the call failed with %s (%s), want error %s", apiErr.Code, apiErr.Message, a.Expect)
	case err != nil:
		return nil // failed as expected
	}
	if a.Save != "" {
		if len(res.Derived) == 0 {
			return fmt.Errorf("save %s: the call created no credential", a.Save)
		}
		run.refs[a.Save] = res.Derived[0].AccessKeyID
	}
	if len(a.Capture) > 0 {
		var resp any
		b, err := json.Marshal(res.Response)
		if err != nil {
			return fmt.Errorf("capture: encode response: %w", err)
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			return fmt.Errorf("capture: decode response: %w", err)
		}
		for name, p := range a.Capture {
			v, ok := lookupPath(resp, p)
			if !ok {
				return fmt.Errorf("capture %s: no %s in the response %s", name, p, b)
			}
			run.vars[name] = v
		}
	}
	return nil
}

// lookupPath follows a dotted path (map keys and list indexes) to a scalar.
func lookupPath(v any, p string) (string, bool) {
	for _, seg := range strings.Split(p, ".") {
		switch t := v.(type) {
		case map[string]any:
			x, ok := t[seg]
			if !ok {
				return "", false
			}
			v = x
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(t) {
				return "", false
			}
			v = t[i]
		default:
			return "", false
		}
	}
	switch t := v.(type) {
	case string:
		return t, true
	case float64, bool:
		return scalarString(t), true
	}
	return "", false
}

// stopCodes are the errors that end an ongoing actor: its credential no
// longer authenticates, or it is denied (a revoked session, a quarantine).
var stopCodes = map[string]bool{
	"InvalidClientTokenId": true, "AuthFailure": true, "UnrecognizedClientException": true,
	"ExpiredToken": true, "AccessDenied": true, "AccessDeniedException": true, "UnauthorizedOperation": true,
}

func stopsActor(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && stopCodes[apiErr.Code]
}

// awsInternal is the CloudTrail identity of AWS acting on the account itself
// (attaching the quarantine policy to a user whose key it found exposed).
func awsInternal() map[string]any {
	return map[string]any{"type": "AWSService", "invokedBy": "AWS Internal"}
}

// runAction makes one occurrence of a timeline action at time t.
func (s *Sim) runAction(run *scenarioRun, idx, rep int, t time.Time) (*Result, error) {
	a := &run.sc.Timeline[idx]
	region := a.Region.at(rep, "us-east-1")
	lookup := func(name string) (string, bool) {
		switch name {
		case "account":
			return s.AccountID(), true
		case "region":
			return region, true
		case "rep":
			return strconv.Itoa(rep), true
		}
		if v, ok := run.refs[name]; ok {
			return v, true
		}
		v, ok := run.vars[name]
		return v, ok
	}
	params, err := substitute(a.Params.at(rep), lookup)
	if err != nil {
		return nil, err
	}
	c := &Call{
		Service:   a.Service,
		Action:    a.Action,
		Region:    region,
		SourceIP:  a.IP.at(rep, ""),
		UserAgent: a.UserAgent.at(rep, ""),
		Time:      t,
		Actor:     a.Actor,
		Identity:  a.Identity,
		Params:    map[string]string{},
	}
	if a.Actor == "aws" && a.As == "" && c.Identity == nil {
		c.Identity = awsInternal()
	}
	if c.SourceIP == "" && c.Identity != nil {
		c.SourceIP = "AWS Internal"
	}
	if c.UserAgent == "" && c.Identity != nil {
		c.UserAgent = "AWS Internal"
	}
	if a.As != "" {
		id, ok := run.refs[a.As]
		if !ok {
			return nil, fmt.Errorf("as %s: no such credential yet (is it saved by a later action?)", a.As)
		}
		c.AccessKeyID = id
	}
	if a.RecordOnly {
		var resp map[string]any
		if a.Response != nil {
			r, err := substitute(a.Response, lookup)
			if err != nil {
				return nil, err
			}
			resp = r
		}
		return s.recordOnly(c, params, resp, a.Error)
	}
	if jsonBodyServices[a.Service] {
		if params != nil {
			body, err := json.Marshal(params)
			if err != nil {
				return nil, fmt.Errorf("encode params: %w", err)
			}
			c.Body = body
		}
		// REST services take some parameters in the path (FunctionName of
		// GetFunction); the handlers read those from Params.
		for k, v := range params {
			if str, ok := scalar(v); ok {
				c.Params[k] = str
			}
		}
	} else {
		flatten(c.Params, "", params)
	}
	return s.Do(c)
}

// recordOnly records a call to a service the simulator does not serve, after
// the checks every call gets: an unknown, inactive or revoked key records
// nothing new, and an explicit deny records the denial.
func (s *Sim) recordOnly(c *Call, request, response map[string]any, fail *ErrorSpec) (*Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Time.IsZero() {
		c.Time = s.now().UTC()
	}
	r, known := s.acct.regionInfo(c.Region)
	if !known {
		return nil, errf(400, "InvalidRegion", "The region %q does not exist.", c.Region)
	}
	if !r.Enabled() {
		return nil, recordOnlyErr(c.Service, errAuth(c.Service, "The security token included in the request is invalid."))
	}
	if c.Identity == nil {
		if apiErr := s.authenticate(c); apiErr != nil {
			return nil, recordOnlyErr(c.Service, apiErr)
		}
		if apiErr := s.authorize(c); apiErr != nil {
			apiErr = recordOnlyErr(c.Service, apiErr)
			s.record(c, &Result{Request: request}, apiErr)
			return nil, apiErr
		}
	}
	res := &Result{Request: request, Response: response}
	var apiErr *APIError
	if fail != nil {
		apiErr = &APIError{Status: 400, Code: fail.Code, Message: fail.Message}
	}
	s.record(c, res, apiErr)
	if c.cred != nil && !c.cred.Temporary() {
		c.cred.LastUsed = c.Time
		c.cred.LastUsedService = c.Service
		c.cred.LastUsedRegion = recordRegion(c)
	}
	return res, nil
}

// jsonErrorServices answer in the JSON protocols' error codes.
var jsonErrorServices = map[string]bool{
	"bedrock": true, "bedrock-runtime": true, "secretsmanager": true, "ssm": true, "kms": true,
	"logs": true, "ecr": true, "ecs": true, "dynamodb": true, "sagemaker": true, "glue": true, "codebuild": true,
}

// recordOnlyErr turns the query-protocol codes of errAuth and
// errAccessDenied into those a JSON-protocol service answers with.
func recordOnlyErr(service string, e *APIError) *APIError {
	if !jsonErrorServices[service] {
		return e
	}
	cp := *e
	switch e.Code {
	case "InvalidClientTokenId":
		cp.Code = "UnrecognizedClientException"
	case "AccessDenied":
		cp.Code = "AccessDeniedException"
	}
	return &cp
}

// substitute returns a deep copy of m with ${name} replaced in every string.
func substitute(m map[string]any, lookup func(string) (string, bool)) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	v, err := substituteValue(m, lookup)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func substituteValue(v any, lookup func(string) (string, bool)) (any, error) {
	switch t := v.(type) {
	case string:
		var missing string
		out := refPattern.ReplaceAllStringFunc(t, func(m string) string {
			name := m[2 : len(m)-1]
			val, ok := lookup(name)
			if !ok && missing == "" {
				missing = name
			}
			return val
		})
		if missing != "" {
			return nil, fmt.Errorf("${%s} has no value yet (is it saved or captured by a later action?)", missing)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, err := substituteValue(x, lookup)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, err := substituteValue(x, lookup)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	return v, nil
}

// flatten writes YAML parameters in awsQuery form: nested maps as
// Name.Key and lists as Name.1, Name.2 ...
func flatten(dst map[string]string, prefix string, v any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			flatten(dst, join(k), x)
		}
	case []any:
		for i, x := range t {
			flatten(dst, join(strconv.Itoa(i+1)), x)
		}
	default:
		if s, ok := scalar(t); ok && prefix != "" {
			dst[prefix] = s
		}
	}
}

// scalar turns a YAML scalar into its query-string form.
func scalar(v any) (string, bool) {
	switch v.(type) {
	case string, int, int64, uint64, float64, bool:
		return scalarString(v), true
	case nil:
		return "", true
	}
	return "", false
}

func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case uint64:
		return strconv.FormatUint(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// StartActors lets the scenario go on in the background: occurrences whose
// time comes (repeated workload, future actions) run when the clock passes
// them, and every ongoing attacker action still alive acts once per tick, at
// the simulator's clock, until its credential stops working. Everything stops
// at Close. Calling it again, or on a Sim without a scenario, does nothing.
func (s *Sim) StartActors(tick time.Duration) {
	run := runOf(s)
	if run == nil || tick <= 0 {
		return
	}
	run.mu.Lock()
	already := run.started
	run.started = true
	run.mu.Unlock()
	if already {
		return
	}
	// Add to bg under mu, which Close holds to close stopped: an Add never
	// races with Close's Wait.
	s.mu.Lock()
	select {
	case <-s.stopped:
		s.mu.Unlock()
		return
	default:
	}
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-s.stopped:
				return
			case <-t.C:
				if !s.tickActors(run) {
					return
				}
			}
		}
	}()
}

// tickActors runs what is due at the simulator's clock and one repetition
// of every live ongoing actor. It reports whether anything is left to do.
func (s *Sim) tickActors(run *scenarioRun) bool {
	now := s.now().UTC()
	run.mu.Lock()
	defer run.mu.Unlock()
	for run.queue.Len() > 0 && !run.queue[0].t.After(now) {
		o := heap.Pop(&run.queue).(occurrence)
		a := &run.sc.Timeline[o.idx]
		if a.Ongoing != nil {
			run.live = append(run.live, &liveActor{idx: o.idx, rep: o.rep})
			continue
		}
		res, err := s.runAction(run, o.idx, o.rep, o.t)
		// Outcomes are not checked here as in the replay: the responder may
		// have changed the account, and the scenario goes on regardless.
		_ = s.settle(run, a, res, err)
		if o.rep+1 < a.Repeat {
			heap.Push(&run.queue, occurrence{t: o.t.Add(a.Every.D()), idx: o.idx, rep: o.rep + 1})
		}
	}
	sort.SliceStable(run.live, func(i, j int) bool { return run.live[i].idx < run.live[j].idx })
	alive := 0
	for _, la := range run.live {
		if la.stopped {
			continue
		}
		select {
		case <-s.stopped:
			return false
		default:
		}
		_, err := s.runAction(run, la.idx, la.rep, now)
		la.rep++
		la.acts++
		if stopsActor(err) {
			la.stopped, la.stoppedAt = true, now
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				la.stopCode = apiErr.Code
			}
			continue
		}
		alive++
	}
	run.ticks++
	return alive > 0 || run.queue.Len() > 0
}
