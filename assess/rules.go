package assess

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/keyleak/keyleak/internal/awserr"
	"github.com/keyleak/keyleak/trail"
)

//go:embed rules/*.yaml
var builtinRules embed.FS

// The tests check the rules' event names against the names CloudTrail
// writes, taken from the AWS SDK's service models (botocore's, which the AWS
// CLI ships; BOTOCORE_DATA is its data directory). Regenerate when a rule
// names a new service:
//go:generate sh -c "go run ./internal/gennames -botocore \"$BOTOCORE_DATA\" -o testdata/eventnames.txt rules/*.yaml ../internal/evaluate/data/catalogs/*.txt testdata/cloudtrail-only.txt"

// Severity is how much a rule's match matters to the responder.
type Severity string

// Severities, from the most to the least serious.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Rank orders severities: critical 4 down to info 0; -1 for an unknown one.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	case SeverityInfo:
		return 0
	}
	return -1
}

// Rule is one entry of the rule catalog: what it matches, and what the
// responder should know and do when it does.
type Rule struct {
	ID string `yaml:"id" json:"id"`
	// Tactic is the ATT&CK tactic the matched call serves, as a slug of
	// Tactics (impact, credential-access, ...); reports group by it. Signal
	// rules have none.
	Tactic string `yaml:"tactic" json:"tactic,omitempty"`
	// Category is keyleak's label within the tactic: the tactic's own slug,
	// or one of keyleak's (resource-hijacking, llm-jacking, ...).
	Category string   `yaml:"category" json:"category"`
	Severity Severity `yaml:"severity" json:"severity"`
	// Technique is the MITRE ATT&CK technique, e.g. T1136.003.
	Technique   string `yaml:"technique" json:"technique"`
	Explanation string `yaml:"explanation" json:"explanation"` // one line
	Action      string `yaml:"action" json:"action"`           // the recommended action
	// Match selects single events. A rule with a Sequence matches the
	// events of one key that together meet it instead.
	Match    Match     `yaml:"match" json:"-"`
	Sequence *Sequence `yaml:"sequence,omitempty" json:"-"`
	// Signal marks rules that are evidence about the leak rather than about
	// who made a call: "quarantine" (AWS attached its quarantine policy,
	// so AWS saw the key in public). They weigh nothing in verdicts.
	Signal string `yaml:"signal,omitempty" json:"signal,omitempty"`
	// Sources cites the public detection catalogs that name the rule's
	// events: a catalog's key (SourceCatalogs) and its entries that do.
	Sources map[string][]string `yaml:"sources,omitempty" json:"sources,omitempty"`
	// Actor is set on rules made from the threat-actor catalog's
	// indicators (actors/*.yaml): whose tradecraft the match resembles.
	Actor *ActorRef `yaml:"-" json:"actor,omitempty"`
	// Panther names the panther-analysis rules this rule corresponds to;
	// `keyleak eval` measures agreement with their expected results.
	Panther []string `yaml:"panther,omitempty" json:"-"`
	// Override lets a rule of a --rules directory replace a rule of the
	// same ID defined before it (a built-in one, or one of an earlier
	// file). Without it a reused ID is an error: a site's rule must never
	// silently take the place of a built-in one.
	Override bool `yaml:"override,omitempty" json:"override,omitempty"`

	source string // file the rule came from, for errors
}

// Match is the condition of a single-event rule. Every field given must
// match; list fields match when any of their values does.
type Match struct {
	Source StringList `yaml:"source"` // eventSource, e.g. iam.amazonaws.com
	Name   StringList `yaml:"name"`   // eventName, exact (list both spellings of versioned names)
	// Error is "any" (default: attempts count too), "none" (successful calls
	// only), "denied" (access-denied errors only) or a list of error codes.
	Error StringList `yaml:"error"`
	// UserAgent holds regular expressions (case-insensitive) of which one
	// must match the userAgent.
	UserAgent StringList `yaml:"userAgent"`
	// IdentityType lists userIdentity.type values (IAMUser, AssumedRole,
	// FederatedUser, Root).
	IdentityType StringList `yaml:"identityType"`
	// PrincipalID is a regular expression on userIdentity.principalId,
	// e.g. the ":i-…" suffix of an EC2 instance's role session.
	PrincipalID string `yaml:"principalId"`
	// Request and Response map a dotted path inside requestParameters or
	// responseElements ("" for the whole object) to a regular expression
	// (case-insensitive) that the value there must match: a scalar's text,
	// or an object's or array's compact JSON.
	Request  map[string]string `yaml:"request"`
	Response map[string]string `yaml:"response"`
	// NotRequest excludes events whose request matches.
	NotRequest map[string]string `yaml:"notRequest"`

	ua       *uaMatcher
	princ    *regexp.Regexp
	request  []pathRE
	response []pathRE
	notReq   []pathRE
}

// Sequence is the condition of a rule over the events of one access key:
// at least Count failed calls with one of the error codes within Window;
// or, with All, calls of every one of the rule's match names (each call
// meeting the rest of the match) within Window, in any order: a call
// pattern such as an SES sending check.
type Sequence struct {
	Errors []string `yaml:"errors"` // default: the access-denied codes
	Count  int      `yaml:"count"`
	All    bool     `yaml:"all"`
	Window string   `yaml:"window"` // a Go duration, e.g. 10m

	window time.Duration
}

type pathRE struct {
	path []string
	re   *regexp.Regexp
}

// StringList is a YAML value given as one string or a list of strings.
type StringList []string

// UnmarshalYAML accepts "x" or [x, y].
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var out []string
		if err := n.Decode(&out); err != nil {
			return err
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: want a string or a list of strings", n.Line)
}

// IsDenied tells whether an error code means the call was refused for lack
// of permission.
func IsDenied(code string) bool { return awserr.IsDeniedCode(code) }

// Categories a rule may have: a tactic's slug, or one of keyleak's own
// labels within a tactic: resource-hijacking, llm-jacking and
// messaging-abuse (impact: the account's services used on its bill),
// ransomware (impact), tooling (a known attacker tool, whatever it calls),
// threat-actor (an indicator public research attributes to a named group)
// and detection (signals that someone detected the leak).
var categories = []string{"resource-hijacking", "llm-jacking", "messaging-abuse", "ransomware", "tooling",
	"threat-actor", "detection"}

// SourceCatalogs are the public detection catalogs rules cite, by key.
var SourceCatalogs = map[string]struct{ Name, URL string }{
	"traildiscover": {"TrailDiscover", "https://traildiscover.cloud/"},
	"stratus":       {"Stratus Red Team", "https://stratus-red-team.cloud/attack-techniques/AWS/"},
	"sigma":         {"Sigma", "https://github.com/SigmaHQ/sigma/tree/master/rules/cloud/aws/cloudtrail"},
	"elastic":       {"Elastic detection rules", "https://github.com/elastic/detection-rules/tree/main/rules/integrations/aws"},
	"panther":       {"Panther", "https://github.com/panther-labs/panther-analysis/tree/develop/rules/aws_cloudtrail_rules"},
	"invictus":      {"Invictus IR AWS CloudTrail cheat sheet", "https://github.com/invictus-ir/aws-cheatsheet"},
	"aws-irp":       {"AWS incident response playbook IRP-CredCompromise", "https://github.com/aws-samples/aws-incident-response-playbooks/blob/main/playbooks/IRP-CredCompromise.md"},
}

// Catalog is a checked set of rules, indexed for matching.
type Catalog struct {
	rules  []*Rule
	byName map[string][]*Rule // rules with names, by event name
	any    []*Rule            // single-event rules without names
	seqs   []*Rule
}

// Rules returns the catalog's rules in ID order.
func (c *Catalog) Rules() []Rule {
	out := make([]Rule, 0, len(c.rules))
	for _, r := range c.rules {
		out = append(out, *r)
	}
	return out
}

// Rule returns the rule with the given ID.
func (c *Catalog) Rule(id string) (Rule, bool) {
	for _, r := range c.rules {
		if r.ID == id {
			return *r, true
		}
	}
	return Rule{}, false
}

// ruleSet is the rules of a catalog being loaded, by ID, in the order
// their IDs were first defined.
type ruleSet struct {
	byID  map[string]*Rule
	order []string
}

// add parses a rules file into the set. A rule whose ID is already defined
// replaces the earlier one only when it says override.
func (s *ruleSet) add(source string, data []byte) error {
	rules, err := parseRules(source, data)
	if err != nil {
		return err
	}
	for _, r := range rules {
		prev, ok := s.byID[r.ID]
		switch {
		case !ok:
			s.order = append(s.order, r.ID)
		case !r.Override:
			return fmt.Errorf("check rules %s: rule %q has the ID of a rule in %s: give it another ID, or add override: true to replace that rule", source, r.ID, prev.source)
		}
		s.byID[r.ID] = r
	}
	return nil
}

// clone copies the set; the rules are shared, as nothing changes a rule
// once it is parsed.
func (s *ruleSet) clone() *ruleSet {
	return &ruleSet{byID: maps.Clone(s.byID), order: slices.Clone(s.order)}
}

// builtinRuleSet parses the embedded rules and threat-actor indicators,
// once per process: every investigation, assessment and report loads the
// catalog, and the YAML of some 2,500 lines took longer to parse than most
// assessments take.
var builtinRuleSet = sync.OnceValues(func() (*ruleSet, error) {
	set := &ruleSet{byID: map[string]*Rule{}}
	entries, err := fs.ReadDir(builtinRules, "rules")
	if err != nil {
		return nil, fmt.Errorf("read built-in rules: %w", err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(builtinRules, "rules/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read built-in rules: %w", err)
		}
		if err := set.add("rules/"+e.Name(), b); err != nil {
			return nil, err
		}
	}
	actors, err := Actors()
	if err != nil {
		return nil, err
	}
	for _, a := range actors {
		rs, err := a.rules("actors")
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if _, ok := set.byID[r.ID]; ok {
				return nil, fmt.Errorf("check actors: indicator %q is defined twice", r.ID)
			}
			set.order = append(set.order, r.ID)
			set.byID[r.ID] = r
		}
	}
	return set, nil
})

// BuiltinCatalog returns the catalog embedded in keyleak.
func BuiltinCatalog() (*Catalog, error) { return LoadCatalog() }

// LoadCatalog reads the embedded rules and threat-actor indicators, then
// every *.yaml and *.yml file of the given directories (--rules DIR), in
// name order. A rule whose ID is
// already defined replaces the earlier one, so a site can tune a built-in
// rule as well as add its own. Errors name the file and the rule.
func LoadCatalog(dirs ...string) (*Catalog, error) {
	builtin, err := builtinRuleSet()
	if err != nil {
		return nil, err
	}
	set := builtin.clone()
	for _, dir := range dirs {
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read rules directory: %w", err)
		}
		n := 0
		for _, f := range files {
			ext := filepath.Ext(f.Name())
			if f.IsDir() || (ext != ".yaml" && ext != ".yml") {
				continue
			}
			path := filepath.Join(dir, f.Name())
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("read rules: %w", err)
			}
			if err := set.add(path, b); err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("read rules directory %s: no .yaml or .yml files", dir)
		}
	}
	c := &Catalog{byName: map[string][]*Rule{}}
	for _, id := range set.order {
		c.rules = append(c.rules, set.byID[id])
	}
	sort.Slice(c.rules, func(i, j int) bool { return c.rules[i].ID < c.rules[j].ID })
	for _, r := range c.rules {
		switch {
		case r.Sequence != nil:
			c.seqs = append(c.seqs, r)
		case len(r.Match.Name) == 0:
			c.any = append(c.any, r)
		default:
			for _, n := range r.Match.Name {
				c.byName[n] = append(c.byName[n], r)
			}
		}
	}
	return c, nil
}

// parseRules reads one rules file: {rules: [...]}, with unknown fields refused.
func parseRules(source string, data []byte) ([]*Rule, error) {
	var doc struct {
		Rules []*Rule `yaml:"rules"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse rules %s: %w", source, err)
	}
	seen := map[string]bool{}
	for i, r := range doc.Rules {
		if r == nil {
			// A bare "-" in the list.
			return nil, fmt.Errorf("check rules %s: rule %d of the list is empty", source, i+1)
		}
		r.source = source
		if err := r.compile(); err != nil {
			return nil, fmt.Errorf("check rules %s: rule %q: %w", source, r.ID, err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("check rules %s: rule %q is defined twice", source, r.ID)
		}
		seen[r.ID] = true
	}
	return doc.Rules, nil
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

// compile checks a rule and compiles its expressions.
func (r *Rule) compile() error {
	if !ruleIDPattern.MatchString(r.ID) {
		return errors.New("id must be lower-case letters, digits, dots and dashes")
	}
	if err := r.checkTactic(); err != nil {
		return err
	}
	if r.Severity.Rank() < 0 {
		return fmt.Errorf("severity %q, want critical, high, medium, low or info", r.Severity)
	}
	if r.Explanation == "" || r.Action == "" {
		return errors.New("explanation and action are required")
	}
	if r.Signal != "" && r.Signal != "quarantine" {
		return fmt.Errorf("signal %q, want quarantine", r.Signal)
	}
	m := &r.Match
	if s := r.Sequence; s != nil {
		d, err := time.ParseDuration(s.Window)
		if err != nil || d <= 0 {
			return fmt.Errorf("sequence window %q, want a duration like 10m", s.Window)
		}
		s.window = d
		switch {
		case s.All:
			if len(m.Name) < 2 {
				return errors.New("a sequence of all names needs at least two match names")
			}
		case s.Count < 2:
			return errors.New("sequence count must be at least 2")
		default:
			if len(s.Errors) == 0 {
				s.Errors = awserr.DeniedCodes
			}
			return nil
		}
	}
	if len(m.Name) == 0 && len(m.UserAgent) == 0 && len(m.Source) == 0 {
		return errors.New("match needs a name, a source or a userAgent")
	}
	for _, e := range m.Error {
		if e == "" {
			return errors.New("empty error code")
		}
	}
	m.ua = nil
	if len(m.UserAgent) > 0 {
		alt := make([]string, 0, len(m.UserAgent))
		for _, p := range m.UserAgent {
			if _, err := regexp.Compile("(?i)" + p); err != nil {
				return fmt.Errorf("userAgent %q: %w", p, err)
			}
			alt = append(alt, "(?:"+p+")")
		}
		m.ua = &uaMatcher{re: regexp.MustCompile("(?i)" + strings.Join(alt, "|")), seen: map[string]bool{}}
	}
	if m.PrincipalID != "" {
		re, err := regexp.Compile(m.PrincipalID)
		if err != nil {
			return fmt.Errorf("principalId %q: %w", m.PrincipalID, err)
		}
		m.princ = re
	}
	var err error
	if m.request, err = compilePaths(m.Request); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if m.response, err = compilePaths(m.Response); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	if m.notReq, err = compilePaths(m.NotRequest); err != nil {
		return fmt.Errorf("notRequest: %w", err)
	}
	return nil
}

// checkTactic checks the rule's tactic, category, technique and sources.
func (r *Rule) checkTactic() error {
	var slugs []string
	for _, t := range Tactics {
		slugs = append(slugs, t.Slug)
	}
	if r.Tactic == "" && r.Signal == "" {
		// Rules written before tactics were their own field said the
		// tactic in the category; keyleak's impact labels say it too.
		if slices.Contains(slugs, r.Category) {
			r.Tactic = r.Category
		} else if slices.Contains([]string{"resource-hijacking", "llm-jacking", "messaging-abuse", "ransomware"}, r.Category) {
			r.Tactic = "impact"
		}
	}
	if r.Signal == "" || r.Tactic != "" {
		if _, ok := TacticOf(r.Tactic); !ok {
			return fmt.Errorf("tactic %q, want one of %s", r.Tactic, strings.Join(slugs, ", "))
		}
	}
	if !slices.Contains(categories, r.Category) && !slices.Contains(slugs, r.Category) {
		return fmt.Errorf("category %q, want a tactic or one of %s", r.Category, strings.Join(categories, ", "))
	}
	if r.Technique != "" {
		if !techniqueID.MatchString(r.Technique) {
			return fmt.Errorf("technique %q, want an ATT&CK ID like T1098 or T1098.001", r.Technique)
		}
		if t, ok := TechniqueOf(r.Technique); ok && r.Tactic != "" && !slices.Contains(t.Tactics, r.Tactic) {
			return fmt.Errorf("technique %s (%s) serves %s, not %s", t.ID, t.Name, strings.Join(t.Tactics, ", "), r.Tactic)
		}
	}
	for k, refs := range r.Sources {
		if _, ok := SourceCatalogs[k]; !ok {
			return fmt.Errorf("source %q is no known catalog", k)
		}
		if len(refs) == 0 {
			return fmt.Errorf("source %s: name the catalog's entries", k)
		}
	}
	return nil
}

func compilePaths(m map[string]string) ([]pathRE, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []pathRE
	for _, k := range keys {
		re, err := regexp.Compile("(?i)" + m[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		var path []string
		if k != "" {
			path = strings.Split(k, ".")
		}
		out = append(out, pathRE{path: path, re: re})
	}
	return out, nil
}

// matches tells whether a single-event rule matches e.
func (r *Rule) matches(e *trail.Event) bool {
	m := &r.Match
	if len(m.Source) > 0 && !slices.Contains(m.Source, e.EventSource) {
		return false
	}
	if len(m.Name) > 0 && !slices.Contains(m.Name, e.EventName) {
		return false
	}
	if !matchError(m.Error, e.ErrorCode) {
		return false
	}
	if len(m.IdentityType) > 0 && !slices.Contains(m.IdentityType, e.UserIdentity.Type) {
		return false
	}
	if m.princ != nil && !m.princ.MatchString(e.UserIdentity.PrincipalID) {
		return false
	}
	if m.ua != nil && !m.ua.match(e.UserAgent) {
		return false
	}
	for _, p := range m.request {
		if !p.re.MatchString(valueText(e.Request(p.path...))) {
			return false
		}
	}
	for _, p := range m.response {
		if !p.re.MatchString(valueText(e.Response(p.path...))) {
			return false
		}
	}
	for _, p := range m.notReq {
		if p.re.MatchString(valueText(e.Request(p.path...))) {
			return false
		}
	}
	return true
}

func matchError(want StringList, code string) bool {
	if len(want) == 0 {
		return true
	}
	for _, w := range want {
		switch w {
		case "any":
			return true
		case "none":
			if code == "" {
				return true
			}
		case "denied":
			if IsDenied(code) {
				return true
			}
		default:
			if w == code {
				return true
			}
		}
	}
	return false
}

// valueText is the text a request or response expression sees: a JSON
// string's value, or the compact JSON of anything else ("" when absent).
func valueText(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// uaMatcher is a rule's userAgent patterns as one case-insensitive
// alternation, with the answer for each user agent it has seen: rules with
// only a userAgent condition are tried on every event, and an
// investigation's events come from a few dozen user agents at most. It is
// safe for concurrent use.
type uaMatcher struct {
	re   *regexp.Regexp
	mu   sync.Mutex
	seen map[string]bool
}

// uaSeenMax bounds the answers a uaMatcher keeps.
const uaSeenMax = 4096

func (u *uaMatcher) match(ua string) bool {
	u.mu.Lock()
	ok, known := u.seen[ua]
	u.mu.Unlock()
	if known {
		return ok
	}
	ok = u.re.MatchString(ua)
	u.mu.Lock()
	if len(u.seen) < uaSeenMax {
		u.seen[ua] = ok
	}
	u.mu.Unlock()
	return ok
}

// Match returns the single-event rules that match e, most severe first.
func (c *Catalog) Match(e *trail.Event) []*Rule {
	var out []*Rule
	for _, r := range c.byName[e.EventName] {
		if r.matches(e) {
			out = append(out, r)
		}
	}
	for _, r := range c.any {
		if r.matches(e) {
			out = append(out, r)
		}
	}
	sortRules(out)
	return out
}

// Named returns the single-event rules that name the event: eventName is
// one of their names and eventSource one of their sources (or they give
// none). They recognise the event even when their other conditions (a
// request parameter, an error code) make one particular call not match.
func (c *Catalog) Named(source, name string) []Rule {
	var out []Rule
	for _, r := range c.byName[name] {
		if len(r.Match.Source) == 0 || slices.Contains(r.Match.Source, source) {
			out = append(out, *r)
		}
	}
	return out
}

// sortRules orders rules most severe first, then by ID.
func sortRules(rs []*Rule) {
	sort.SliceStable(rs, func(i, j int) bool {
		if a, b := rs[i].Severity.Rank(), rs[j].Severity.Rank(); a != b {
			return a > b
		}
		return rs[i].ID < rs[j].ID
	})
}

// matchSequences returns, for each event index of events (one key's events
// in time order), the sequence rules it takes part in.
func (c *Catalog) matchSequences(events []*trail.Event) map[int][]*Rule {
	out := map[int][]*Rule{}
	for _, r := range c.seqs {
		s := r.Sequence
		if s.All {
			for _, i := range matchAll(r, events) {
				out[i] = append(out[i], r)
			}
			continue
		}
		var idx []int
		for i, e := range events {
			if slices.Contains(s.Errors, e.ErrorCode) {
				idx = append(idx, i)
			}
		}
		hit := map[int]bool{}
		start := 0
		for end := range idx {
			for events[idx[end]].EventTime.Sub(events[idx[start]].EventTime) > s.window {
				start++
			}
			if end-start+1 >= s.Count {
				for k := start; k <= end; k++ {
					hit[idx[k]] = true
				}
			}
		}
		for i := range hit {
			out[i] = append(out[i], r)
		}
	}
	return out
}

// matchAll returns the indexes of events (in time order) that take part in
// a window holding a call of each of the rule's names.
func matchAll(r *Rule, events []*trail.Event) []int {
	var idx []int
	for i, e := range events {
		if r.matches(e) {
			idx = append(idx, i)
		}
	}
	want := len(r.Match.Name)
	hit := map[int]bool{}
	names := map[string]int{} // calls of each name in the window
	start := 0
	for end := range idx {
		names[events[idx[end]].EventName]++
		for events[idx[end]].EventTime.Sub(events[idx[start]].EventTime) > r.Sequence.window {
			n := events[idx[start]].EventName
			if names[n]--; names[n] == 0 {
				delete(names, n)
			}
			start++
		}
		if len(names) == want {
			for k := start; k <= end; k++ {
				hit[idx[k]] = true
			}
		}
	}
	out := make([]int, 0, len(hit))
	for i := range hit {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}
