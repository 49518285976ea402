package awssim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/keyleak/keyleak/examples/scenarios"
)

// Scenario is a simulated incident as declared in YAML: the account before
// the incident, and a timeline of API calls relative to the moment the
// simulator starts. examples/scenarios/README.md documents the format.
type Scenario struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Account     AccountSpec    `yaml:"account"`
	Groups      []GroupSpec    `yaml:"groups"`
	Users       []UserSpec     `yaml:"users"`
	RootKeys    []KeySpec      `yaml:"rootKeys"`
	Roles       []RoleSpec     `yaml:"roles"`
	GuardDuty   []DetectorSpec `yaml:"guardduty"`
	// Detection is when AWS finds the leaked key in public and raises its
	// Health event (HealthEvent, OnDetected).
	Detection *DetectionSpec `yaml:"detection"`
	Faults    Faults         `yaml:"faults"`
	Volume    *VolumeSpec    `yaml:"volume"`
	Timeline  []ActionSpec   `yaml:"timeline"`
	// Accounts are further accounts besides the home one (Account), e.g.
	// member accounts of an organization; their keys are declared and
	// referred to like the home account's.
	Accounts     []MemberAccountSpec `yaml:"accounts"`
	Organization *OrganizationSpec   `yaml:"organization"`
	// Responder says how the responder reaches the account: from the user
	// "responder" of Account (default: the home account), through Role
	// when set (with the user's MFA device when it has one), as seed 003
	// teaches.
	Responder *ResponderSpec `yaml:"responder"`

	source string // file name, for errors
}

// ResponderSpec is where the responder works from.
type ResponderSpec struct {
	Account string `yaml:"account"` // the account of the user "responder"
	Role    string `yaml:"role"`    // the role ARN the responder assumes
}

// AccountSpec is the account's identity and its regions' opt-in status.
type AccountSpec struct {
	ID    string `yaml:"id"`
	Alias string `yaml:"alias"`
	// ImplicitDeny makes the account evaluate Allow statements and trust
	// policies (see account.ImplicitDeny).
	ImplicitDeny bool `yaml:"implicitDeny"`
	// Regions overrides the default opt-in status of regions: region name ->
	// "opted-in", "not-opted-in" or "opt-in-not-required".
	Regions map[string]string `yaml:"regions"`
}

// MemberAccountSpec is an account besides the home one: its identity,
// regions, users and roles (a role's trust policy may name the home account).
type MemberAccountSpec struct {
	ID      string            `yaml:"id"`
	Alias   string            `yaml:"alias"`
	Joined  Offset            `yaml:"joined"` // when it joined the organization
	Regions map[string]string `yaml:"regions"`
	// ImplicitDeny: see AccountSpec.
	ImplicitDeny bool       `yaml:"implicitDeny"`
	Users        []UserSpec `yaml:"users"`
	Roles        []RoleSpec `yaml:"roles"`
}

// OrganizationSpec makes every account of the scenario a member of one AWS
// Organizations organization.
type OrganizationSpec struct {
	ID            string `yaml:"id"`            // o- and 10 to 32 characters
	MasterAccount string `yaml:"masterAccount"` // default: the home account
}

// GroupSpec is an IAM group of the account.
type GroupSpec struct {
	Name            string         `yaml:"name"`
	Created         Offset         `yaml:"created"`
	ManagedPolicies []string       `yaml:"managedPolicies"`
	InlinePolicies  map[string]any `yaml:"inlinePolicies"`

	line int
}

// UserSpec is an IAM user of the account and its access keys.
type UserSpec struct {
	Name            string         `yaml:"name"`
	Path            string         `yaml:"path"`
	Created         Offset         `yaml:"created"`
	ManagedPolicies []string       `yaml:"managedPolicies"`
	InlinePolicies  map[string]any `yaml:"inlinePolicies"` // policy name -> document (YAML object or JSON string)
	Groups          []string       `yaml:"groups"`
	Keys            []KeySpec      `yaml:"keys"`
	// MFADevice, when set, gives the user an enabled virtual MFA device
	// of that name.
	MFADevice string `yaml:"mfaDevice"`

	line int
}

// KeySpec is a long-term access key declared by the scenario. Name is how the
// timeline refers to it (`as: name`).
type KeySpec struct {
	Name    string `yaml:"name"`
	Created Offset `yaml:"created"`
	// Actor labels calls made with the key outside the timeline (over HTTP)
	// and the resources it creates. Default: "attacker" for the leaked key
	// (whoever presents it, other than the scripted workload, is the
	// attacker), "responder" for keys of the user "responder", else "workload".
	Actor  string `yaml:"actor"`
	Leaked bool   `yaml:"leaked"`
	Status string `yaml:"status"` // Active (default) or Inactive

	line int
}

// RoleSpec is an IAM role of the account.
type RoleSpec struct {
	Name             string         `yaml:"name"`
	Path             string         `yaml:"path"`
	Created          Offset         `yaml:"created"`
	AssumeRolePolicy any            `yaml:"assumeRolePolicy"` // YAML object or JSON string
	ManagedPolicies  []string       `yaml:"managedPolicies"`
	InlinePolicies   map[string]any `yaml:"inlinePolicies"`
	MaxSession       Offset         `yaml:"maxSession"`

	line int
}

// DetectorSpec is a GuardDuty detector in a region and its findings.
type DetectorSpec struct {
	Region   string        `yaml:"region"`
	Findings []FindingSpec `yaml:"findings"`

	line int
}

// FindingSpec is a GuardDuty finding about a declared access key.
type FindingSpec struct {
	Type        string  `yaml:"type"`
	Severity    float64 `yaml:"severity"` // 1-8.9; 0 means 5
	Title       string  `yaml:"title"`
	Description string  `yaml:"description"`
	Key         string  `yaml:"key"`       // a declared key name
	Service     string  `yaml:"service"`   // service of the call GuardDuty saw, e.g. "iam"
	Action      string  `yaml:"action"`    // the call, e.g. "CreateUser"
	IP          string  `yaml:"ip"`        // its caller's address
	Count       int     `yaml:"count"`     // how often it was seen; 0 means 1
	FirstSeen   Offset  `yaml:"firstSeen"` // relative to the start, like `at`
	LastSeen    Offset  `yaml:"lastSeen"`  // 0 means firstSeen
}

// VolumeSpec adds background CloudTrail events of a key, to give sweeps a
// realistic amount of data to page through.
type VolumeSpec struct {
	Events int    `yaml:"events"`
	Key    string `yaml:"key"`
	Seed   uint64 `yaml:"seed"`
	Window Offset `yaml:"window"` // the events are spread over the window ending now
}

// ActionSpec is one entry of the timeline: an API call, possibly repeated.
type ActionSpec struct {
	At      *Offset `yaml:"at"`    // relative to the simulator's start, e.g. "-2h10m"
	Actor   string  `yaml:"actor"` // attacker, workload, aws or responder
	As      string  `yaml:"as"`    // key reference: a declared key or a `save` name
	Service string  `yaml:"service"`
	Action  string  `yaml:"action"`
	// Region, IP and UserAgent take one value or a list; repetitions rotate
	// through lists.
	Region    StringList `yaml:"region"`
	IP        StringList `yaml:"ip"`
	UserAgent StringList `yaml:"userAgent"`
	// Params are the request: a flat awsQuery map for iam, sts and ec2
	// (nested lists and maps are flattened to Name.1, Name.Key), the JSON body
	// for lambda, guardduty and cloudtrail. A list of maps rotates. Strings
	// may hold ${name}: a saved key's ID, a captured value, or ${account},
	// ${region}, ${rep}.
	Params ParamSets `yaml:"params"`

	Repeat  int          `yaml:"repeat"` // number of occurrences, `every` apart
	Every   Offset       `yaml:"every"`
	Ongoing *OngoingSpec `yaml:"ongoing"`

	Save    string            `yaml:"save"`    // name for the credential the call creates
	Capture map[string]string `yaml:"capture"` // name -> dotted path in the CloudTrail responseElements
	Expect  string            `yaml:"expect"`  // error code the call must fail with; "" means it must succeed

	// RecordOnly writes the CloudTrail record of a call to a service the
	// simulator does not serve (bedrock, ses, s3, sns ...), after the same
	// authentication and policy checks.
	RecordOnly bool           `yaml:"recordOnly"`
	Response   map[string]any `yaml:"response"` // responseElements of a record-only call
	Error      *ErrorSpec     `yaml:"error"`    // error outcome of a record-only call

	// Identity is the CloudTrail userIdentity of a caller without a key;
	// defaults to AWS's own principal for actor "aws".
	Identity map[string]any `yaml:"identity"`

	line int
}

// OngoingSpec makes an action continue until its credential stops working:
// every `Every` in the replayed past, then once per tick of StartActors.
type OngoingSpec struct {
	Every Offset `yaml:"every"`
}

// ErrorSpec is the error a record-only call records.
type ErrorSpec struct {
	Code    string `yaml:"code"`
	Message string `yaml:"message"`
}

// Offset is a signed duration that also accepts days: "-2h10m", "-7d",
// "-3d4h", "30s".
type Offset time.Duration

// D returns the offset as a time.Duration.
func (o Offset) D() time.Duration { return time.Duration(o) }

// UnmarshalYAML parses an offset.
func (o *Offset) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration like -2h10m or -7d", n.Line)
	}
	d, err := parseOffset(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*o = Offset(d)
	return nil
}

// parseOffset parses a duration with an optional leading day count.
func parseOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	neg := false
	rest := s
	if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	var d time.Duration
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		days, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("parse duration %q: bad day count", s)
		}
		d = time.Duration(days) * 24 * time.Hour
		rest = rest[i+1:]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("parse duration %q: want a duration like -2h10m or -7d", s)
		}
		d += r
	} else if d == 0 {
		return 0, fmt.Errorf("parse duration %q: want a duration like -2h10m or -7d", s)
	}
	if neg {
		d = -d
	}
	return d, nil
}

// StringList is a YAML value given as one string or a list of strings.
type StringList []string

// UnmarshalYAML accepts "x" or [x, y].
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.ScalarNode:
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = resolveAlias(c)
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: want a string", c.Line)
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// resolveAlias follows a YAML alias (*name) to its anchored node.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// at returns the value for repetition rep, or def for an empty list.
func (l StringList) at(rep int, def string) string {
	if len(l) == 0 {
		return def
	}
	return l[rep%len(l)]
}

// ParamSets are the request parameters of an action: one map, or a list of
// maps that repetitions rotate through.
type ParamSets []map[string]any

// UnmarshalYAML accepts a map or a list of maps.
func (p *ParamSets) UnmarshalYAML(n *yaml.Node) error {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]any
		if err := n.Decode(&m); err != nil {
			return err
		}
		*p = ParamSets{m}
		return nil
	case yaml.SequenceNode:
		var out []map[string]any
		for _, c := range n.Content {
			c = resolveAlias(c)
			if c.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: want a map of parameters", c.Line)
			}
			var m map[string]any
			if err := c.Decode(&m); err != nil {
				return err
			}
			out = append(out, m)
		}
		*p = out
		return nil
	}
	return fmt.Errorf("line %d: want a map of parameters or a list of them", n.Line)
}

// at returns the parameters for repetition rep (nil when there are none).
func (p ParamSets) at(rep int) map[string]any {
	if len(p) == 0 {
		return nil
	}
	return p[rep%len(p)]
}

// Source returns the scenario's file name ("" for one built in code).
func (sc *Scenario) Source() string { return sc.source }

// label names the scenario in errors: its file, or its name.
func (sc *Scenario) label() string {
	if sc.source != "" {
		return sc.source
	}
	return sc.Name
}

// ScenarioNames returns the names of the one-account scenarios shipped
// with keyleak: those the runbook, the demo and `make eval` replay as they
// are. OrgScenarioNames lists the others.
func ScenarioNames() []string { return shippedScenarios(false) }

// AllScenarioNames returns the names of every shipped scenario, sorted,
// without reading them: what help texts list.
func AllScenarioNames() []string {
	entries, err := fs.ReadDir(scenarios.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	return names
}

// OrgScenarioNames returns the names of the shipped scenarios that span
// several accounts (`accounts:`): their attacker pivots into accounts that
// only an organization-wide investigation (--org) reaches.
func OrgScenarioNames() []string { return shippedScenarios(true) }

// shippedScenarios lists the shipped scenarios of several accounts (multi)
// or of one, sorted. The scenarios are embedded, so the lists are made once
// per process; only the accounts key is decoded (the full check runs when
// one is loaded).
func shippedScenarios(multi bool) []string {
	single, orgs := shippedLists()
	if multi {
		return slices.Clone(orgs)
	}
	return slices.Clone(single)
}

var shippedLists = sync.OnceValues(func() (single, multi []string) {
	for _, n := range AllScenarioNames() {
		var head struct {
			Accounts []yaml.Node `yaml:"accounts"`
		}
		if b, err := fs.ReadFile(scenarios.FS, n+".yaml"); err == nil {
			_ = yaml.Unmarshal(b, &head) // a broken file is listed; loading it says what is wrong
		}
		if len(head.Accounts) > 0 {
			multi = append(multi, n)
		} else {
			single = append(single, n)
		}
	}
	sort.Strings(single)
	sort.Strings(multi)
	return single, multi
})

// LoadScenario reads a shipped scenario by name, or a scenario YAML file by
// path, and checks it. Errors name the file and the line.
func LoadScenario(nameOrFile string) (*Scenario, error) {
	for _, n := range append(ScenarioNames(), OrgScenarioNames()...) {
		if n == nameOrFile {
			b, err := fs.ReadFile(scenarios.FS, n+".yaml")
			if err != nil {
				return nil, fmt.Errorf("read scenario %s: %w", n, err)
			}
			return ParseScenario(n+".yaml", b)
		}
	}
	b, err := os.ReadFile(nameOrFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("load scenario %q: no such file, and no shipped scenario of that name (shipped: %s)",
				nameOrFile, strings.Join(append(ScenarioNames(), OrgScenarioNames()...), ", "))
		}
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(path.Base(nameOrFile), b)
}

// ParseScenario parses and checks a scenario's YAML; source names it in errors.
func ParseScenario(source string, data []byte) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse scenario %s: %s", source, yamlMessage(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("parse scenario %s: the file is empty", source)
	}
	sc := &Scenario{source: source}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(sc); err != nil {
		return nil, fmt.Errorf("parse scenario %s: %s", source, yamlMessage(err))
	}
	setLines(sc, root.Content[0])
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(source, path.Ext(source))
	}
	if err := sc.check(); err != nil {
		return nil, fmt.Errorf("check scenario %s: %w", source, err)
	}
	return sc, nil
}

// friendlyTypes turn yaml.v3's Go type names into the format's words.
var friendlyTypes = strings.NewReplacer(
	"type awssim.ActionSpec", "a timeline action",
	"type awssim.UserSpec", "a user",
	"type awssim.KeySpec", "a key",
	"type awssim.GroupSpec", "a group",
	"type awssim.RoleSpec", "a role",
	"type awssim.DetectorSpec", "a guardduty detector",
	"type awssim.FindingSpec", "a guardduty finding",
	"type awssim.VolumeSpec", "volume",
	"type awssim.OngoingSpec", "ongoing",
	"type awssim.ErrorSpec", "error",
	"type awssim.AccountSpec", "account",
	"type awssim.Faults", "faults",
	"type awssim.Scenario", "the scenario",
)

// yamlMessage turns a yaml.v3 error into one line: "line N: what".
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return friendlyTypes.Replace(strings.Join(te.Errors, "; "))
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// setLines copies line numbers from the YAML tree into the specs that the
// checks report on. The struct decode has already validated the shape.
func setLines(sc *Scenario, doc *yaml.Node) {
	items := func(key string) []*yaml.Node {
		if v := mapValue(doc, key); v != nil && v.Kind == yaml.SequenceNode {
			return v.Content
		}
		return nil
	}
	for i, n := range items("timeline") {
		if i < len(sc.Timeline) {
			sc.Timeline[i].line = n.Line
		}
	}
	for i, n := range items("groups") {
		if i < len(sc.Groups) {
			sc.Groups[i].line = n.Line
		}
	}
	for i, n := range items("roles") {
		if i < len(sc.Roles) {
			sc.Roles[i].line = n.Line
		}
	}
	for i, n := range items("guardduty") {
		if i < len(sc.GuardDuty) {
			sc.GuardDuty[i].line = n.Line
		}
	}
	for i, n := range items("rootKeys") {
		if i < len(sc.RootKeys) {
			sc.RootKeys[i].line = n.Line
		}
	}
	for i, n := range items("users") {
		if i >= len(sc.Users) {
			break
		}
		sc.Users[i].line = n.Line
		if keys := mapValue(n, "keys"); keys != nil && keys.Kind == yaml.SequenceNode {
			for j, k := range keys.Content {
				if j < len(sc.Users[i].Keys) {
					sc.Users[i].Keys[j].line = k.Line
				}
			}
		}
	}
}

// mapValue returns the value of key in a mapping node, nil if absent.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lineErr is a check failure at a line of the file.
func lineErr(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// jsonBodyServices take their parameters as a JSON body: the JSON and REST
// protocols' services.
var jsonBodyServices = map[string]bool{"lambda": true, "cloudtrail": true, "guardduty": true, "organizations": true,
	"ecs": true, "eks": true, "batch": true, "lightsail": true, "sagemaker": true, "codebuild": true, "glue": true, "bedrock": true,
	"secretsmanager": true, "pricing": true, "ce": true}

var actorNames = map[string]bool{"attacker": true, "workload": true, "aws": true, "responder": true}

var (
	refPattern     = regexp.MustCompile(`\$\{([^}]*)\}`)
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

// builtinRefs are the ${...} names every action can use.
var builtinRefs = map[string]bool{"account": true, "region": true, "rep": true}

// ResponderUser is the IAM user whose key the responder uses.
const ResponderUser = "responder"

// check validates the scenario beyond its YAML shape: references, names,
// policies, regions and the timeline's rules.
// orgIDPattern is an AWS Organizations organization ID.
var orgIDPattern = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)

func (sc *Scenario) check() error {
	if sc.Account.ID != "" && !accountPattern.MatchString(sc.Account.ID) {
		return fmt.Errorf("account id %q: want 12 digits", sc.Account.ID)
	}
	if sc.Detection != nil {
		if err := sc.Detection.check(); err != nil {
			return err
		}
	}
	regions := map[string]bool{}
	for _, r := range defaultRegions() {
		regions[r.Name] = true
	}
	for name, status := range sc.Account.Regions {
		if !regions[name] {
			return fmt.Errorf("account regions: unknown region %q", name)
		}
		switch status {
		case "opted-in", "not-opted-in", "opt-in-not-required":
		default:
			return fmt.Errorf("account regions: %s: status %q, want opted-in, not-opted-in or opt-in-not-required", name, status)
		}
	}
	if err := sc.Faults.Validate(); err != nil {
		return fmt.Errorf("faults: %w", err)
	}
	if r := sc.Responder; r != nil {
		known := r.Account == "" || r.Account == sc.Account.ID
		for _, m := range sc.Accounts {
			known = known || m.ID == r.Account
		}
		if !known {
			return fmt.Errorf("responder: account %q is not one of the scenario's", r.Account)
		}
		if r.Role != "" && !strings.HasPrefix(r.Role, "arn:aws:iam::") {
			return fmt.Errorf("responder: role %q: want a role ARN", r.Role)
		}
	}
	managed := map[string]bool{}
	for _, p := range awsManagedPolicies() {
		managed[p.Name] = true
		managed[p.ARN] = true
	}
	checkPolicies := func(line int, owner string, names []string, inline map[string]any) error {
		for _, p := range names {
			if !managed[p] {
				return lineErr(line, "%s: no AWS managed policy %q in the simulator", owner, p)
			}
		}
		for name, doc := range inline {
			if _, err := policyJSON(doc); err != nil {
				return lineErr(line, "%s: inline policy %s: %v", owner, name, err)
			}
		}
		return nil
	}

	groups := map[string]bool{}
	for _, g := range sc.Groups {
		if !namePattern.MatchString(g.Name) || groups[g.Name] {
			return lineErr(g.line, "group name %q is empty, invalid or repeated", g.Name)
		}
		groups[g.Name] = true
		if err := checkPolicies(g.line, "group "+g.Name, g.ManagedPolicies, g.InlinePolicies); err != nil {
			return err
		}
	}

	keys := map[string]bool{} // key reference names
	leaked := 0
	checkKey := func(k KeySpec, owner string) error {
		if !namePattern.MatchString(k.Name) || keys[k.Name] {
			return lineErr(k.line, "%s: key name %q is empty, invalid or repeated", owner, k.Name)
		}
		keys[k.Name] = true
		if k.Actor != "" && !actorNames[k.Actor] {
			return lineErr(k.line, "key %s: actor %q, want attacker, workload, aws or responder", k.Name, k.Actor)
		}
		if k.Status != "" && k.Status != "Active" && k.Status != "Inactive" {
			return lineErr(k.line, "key %s: status %q, want Active or Inactive", k.Name, k.Status)
		}
		if k.Created > 0 {
			return lineErr(k.line, "key %s: created %s is in the future", k.Name, k.Created.D())
		}
		if k.Leaked {
			leaked++
		}
		return nil
	}
	users := map[string]bool{}
	responderKeys := 0
	for _, u := range sc.Users {
		if !namePattern.MatchString(u.Name) || users[u.Name] {
			return lineErr(u.line, "user name %q is empty, invalid or repeated", u.Name)
		}
		users[u.Name] = true
		if err := checkPolicies(u.line, "user "+u.Name, u.ManagedPolicies, u.InlinePolicies); err != nil {
			return err
		}
		for _, g := range u.Groups {
			if !groups[g] {
				return lineErr(u.line, "user %s: no group %q in groups", u.Name, g)
			}
		}
		if u.Created > 0 {
			return lineErr(u.line, "user %s: created %s is in the future", u.Name, u.Created.D())
		}
		uc := u.Created
		if uc == 0 {
			uc = Offset(defaultAge)
		}
		for _, k := range u.Keys {
			if err := checkKey(k, "user "+u.Name); err != nil {
				return err
			}
			if k.Created != 0 && k.Created < uc {
				return lineErr(k.line, "key %s: created before its user %s", k.Name, u.Name)
			}
			if u.Name == ResponderUser && k.Status != "Inactive" && (sc.Responder == nil || sc.Responder.Account == "" || sc.Responder.Account == sc.Account.ID) {
				responderKeys++
			}
		}
	}
	for _, k := range sc.RootKeys {
		if err := checkKey(k, "rootKeys"); err != nil {
			return err
		}
	}
	accounts := map[string]bool{sc.Account.ID: true}
	for _, m := range sc.Accounts {
		if !accountPattern.MatchString(m.ID) || accounts[m.ID] {
			return fmt.Errorf("accounts: id %q is not 12 digits or is repeated", m.ID)
		}
		accounts[m.ID] = true
		for name, status := range m.Regions {
			if !regions[name] || (status != "opted-in" && status != "not-opted-in" && status != "opt-in-not-required") {
				return fmt.Errorf("account %s regions: %s: unknown region or status %q", m.ID, name, status)
			}
		}
		names := map[string]bool{}
		for _, u := range m.Users {
			if !namePattern.MatchString(u.Name) || names["user/"+u.Name] {
				return lineErr(u.line, "account %s: user name %q is empty, invalid or repeated", m.ID, u.Name)
			}
			names["user/"+u.Name] = true
			if err := checkPolicies(u.line, "user "+u.Name, u.ManagedPolicies, u.InlinePolicies); err != nil {
				return err
			}
			for _, k := range u.Keys {
				if err := checkKey(k, "user "+u.Name); err != nil {
					return err
				}
				if u.Name == ResponderUser && k.Status != "Inactive" && sc.Responder != nil && sc.Responder.Account == m.ID {
					responderKeys++
				}
			}
		}
		for _, r := range m.Roles {
			if !namePattern.MatchString(r.Name) || names["role/"+r.Name] {
				return lineErr(r.line, "account %s: role name %q is empty, invalid or repeated", m.ID, r.Name)
			}
			names["role/"+r.Name] = true
			if err := checkPolicies(r.line, "role "+r.Name, r.ManagedPolicies, r.InlinePolicies); err != nil {
				return err
			}
			if r.AssumeRolePolicy != nil {
				if _, err := policyJSON(r.AssumeRolePolicy); err != nil {
					return lineErr(r.line, "role %s: assumeRolePolicy: %v", r.Name, err)
				}
			}
		}
	}
	if o := sc.Organization; o != nil {
		if !orgIDPattern.MatchString(o.ID) {
			return fmt.Errorf("organization id %q: want o- and 10 to 32 lower-case letters or digits", o.ID)
		}
		if o.MasterAccount != "" && !accounts[o.MasterAccount] {
			return fmt.Errorf("organization masterAccount %s: not one of the scenario's accounts", o.MasterAccount)
		}
	}
	if leaked != 1 {
		return fmt.Errorf("%d keys are marked leaked: true, want exactly one", leaked)
	}
	if responderKeys == 0 {
		return fmt.Errorf("no user %q with an active key in the responder's account: the responder needs one (give it AdministratorAccess, or a role to assume)", ResponderUser)
	}
	roles := map[string]bool{}
	for _, r := range sc.Roles {
		if !namePattern.MatchString(r.Name) || roles[r.Name] {
			return lineErr(r.line, "role name %q is empty, invalid or repeated", r.Name)
		}
		roles[r.Name] = true
		if err := checkPolicies(r.line, "role "+r.Name, r.ManagedPolicies, r.InlinePolicies); err != nil {
			return err
		}
		if r.AssumeRolePolicy != nil {
			if _, err := policyJSON(r.AssumeRolePolicy); err != nil {
				return lineErr(r.line, "role %s: assumeRolePolicy: %v", r.Name, err)
			}
		}
	}
	for _, d := range sc.GuardDuty {
		if !regions[d.Region] {
			return lineErr(d.line, "guardduty: unknown region %q", d.Region)
		}
		for _, f := range d.Findings {
			if f.Type == "" {
				return lineErr(d.line, "guardduty finding without a type")
			}
			if !keys[f.Key] {
				return lineErr(d.line, "guardduty finding %s: no declared key %q", f.Type, f.Key)
			}
			if f.Severity != 0 && (f.Severity < 1 || f.Severity > 10) {
				return lineErr(d.line, "guardduty finding %s: severity %v is outside 1-10", f.Type, f.Severity)
			}
		}
	}
	if v := sc.Volume; v != nil {
		if v.Events <= 0 {
			return fmt.Errorf("volume: events must be positive")
		}
		if v.Events > MaxVolume {
			return fmt.Errorf("volume: %d events is more than the simulator holds (at most %d)", v.Events, MaxVolume)
		}
		if !keys[v.Key] {
			return fmt.Errorf("volume: no declared key %q", v.Key)
		}
		if v.Window <= 0 {
			return fmt.Errorf("volume: window must be a positive duration")
		}
	}
	return sc.checkTimeline(keys, regions)
}

// checkTimeline validates the actions and the names they save and use.
func (sc *Scenario) checkTimeline(keys, regions map[string]bool) error {
	saved := map[string]bool{}    // credentials saved by actions
	captured := map[string]bool{} // values captured by actions
	for _, a := range sc.Timeline {
		if a.Save != "" {
			if !namePattern.MatchString(a.Save) || keys[a.Save] || saved[a.Save] {
				return lineErr(a.line, "save name %q is invalid or already used", a.Save)
			}
			saved[a.Save] = true
		}
		for name := range a.Capture {
			if !namePattern.MatchString(name) || keys[name] || saved[name] || captured[name] || builtinRefs[name] {
				return lineErr(a.line, "capture name %q is invalid or already used", name)
			}
			captured[name] = true
		}
	}
	for i := range sc.Timeline {
		a := &sc.Timeline[i]
		what := fmt.Sprintf("%s %s", a.Service, a.Action)
		if a.At == nil {
			return lineErr(a.line, "%s: missing at (e.g. at: -2h10m)", what)
		}
		if a.Service == "" || a.Action == "" {
			return lineErr(a.line, "action without service or action name")
		}
		if !actorNames[a.Actor] {
			return lineErr(a.line, "%s: actor %q, want attacker, workload, aws or responder", what, a.Actor)
		}
		if a.As == "" && a.Identity == nil && a.Actor != "aws" {
			return lineErr(a.line, "%s: missing as (the key that makes the call)", what)
		}
		if a.Identity == nil && a.Actor != "aws" && (len(a.IP) == 0 || len(a.UserAgent) == 0) {
			return lineErr(a.line, "%s: missing ip or userAgent (CloudTrail records both)", what)
		}
		if a.As != "" && !keys[a.As] && !saved[a.As] {
			return lineErr(a.line, "%s: as %q is neither a declared key nor a saved credential", what, a.As)
		}
		for _, r := range a.Region {
			if !regions[r] {
				return lineErr(a.line, "%s: unknown region %q", what, r)
			}
		}
		if a.RecordOnly {
			if Serves(a.Service, a.Action) {
				return lineErr(a.line, "%s: recordOnly is for calls the simulator does not serve", what)
			}
			if a.Save != "" || len(a.Capture) > 0 {
				return lineErr(a.line, "%s: a record-only call creates nothing to save or capture", what)
			}
		} else {
			if !Serves(a.Service, a.Action) {
				return lineErr(a.line, "%s: the simulator does not serve %s:%s; add recordOnly: true to only record the call", what, a.Service, a.Action)
			}
			if a.Response != nil || a.Error != nil {
				return lineErr(a.line, "%s: response and error are for recordOnly calls", what)
			}
		}
		if a.Error != nil && a.Error.Code == "" {
			return lineErr(a.line, "%s: error without a code", what)
		}
		if a.Repeat < 0 {
			return lineErr(a.line, "%s: repeat must not be negative", what)
		}
		if a.Repeat > 1 && a.Every <= 0 {
			return lineErr(a.line, "%s: repeat needs a positive every", what)
		}
		if a.Ongoing != nil {
			if a.Ongoing.Every <= 0 {
				return lineErr(a.line, "%s: ongoing needs a positive every", what)
			}
			if a.Repeat > 0 {
				return lineErr(a.line, "%s: an action is either repeated or ongoing, not both", what)
			}
			if a.Expect != "" || a.Save != "" || len(a.Capture) > 0 {
				return lineErr(a.line, "%s: an ongoing action cannot expect an error, save or capture", what)
			}
			if a.As == "" {
				return lineErr(a.line, "%s: an ongoing action needs a key (as)", what)
			}
		}
		var bad string
		walkStrings(a.Params, func(s string) {
			for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
				if n := m[1]; !builtinRefs[n] && !keys[n] && !saved[n] && !captured[n] && bad == "" {
					bad = n
				}
			}
		})
		if bad != "" {
			return lineErr(a.line, "%s: ${%s} is not a declared key, a saved credential, a captured value or one of account, region, rep", what, bad)
		}
	}
	return nil
}

// walkStrings calls f with every string inside v (maps, lists, scalars).
func walkStrings(v any, f func(string)) {
	switch t := v.(type) {
	case string:
		f(t)
	case ParamSets:
		for _, m := range t {
			walkStrings(m, f)
		}
	case map[string]any:
		for _, x := range t {
			walkStrings(x, f)
		}
	case []any:
		for _, x := range t {
			walkStrings(x, f)
		}
	}
}

// policyJSON turns a policy given as a YAML object or a JSON string into
// JSON, and checks it is an object with a Statement.
func policyJSON(doc any) (string, error) {
	var b []byte
	switch t := doc.(type) {
	case string:
		b = []byte(t)
	default:
		var err error
		if b, err = json.Marshal(t); err != nil {
			return "", fmt.Errorf("encode policy: %w", err)
		}
	}
	var p struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return "", fmt.Errorf("policy is not a JSON object: %w", err)
	}
	if len(p.Statement) == 0 {
		return "", errors.New("policy has no Statement")
	}
	return string(b), nil
}
