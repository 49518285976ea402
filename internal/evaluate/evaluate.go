// Package evaluate measures keyleak's assessment on public CloudTrail data
// sets (Stratus Red Team detonations, Panther's rule tests, the OTRF lab
// breach), on the simulator's shipped scenarios against their ground
// truth, and the rule catalog's coverage of the events public detection
// catalogs name. `keyleak eval` prints its report.
package evaluate

import (
	"bufio"
	"compress/gzip"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

//go:embed data/*.jsonl.gz
var data embed.FS

// Record is one line of a data set: a raw CloudTrail record and its label.
type Record struct {
	Source    string          `json:"source"`
	Label     string          `json:"label"` // malicious or benign
	Technique string          `json:"technique"`
	Rule      string          `json:"rule"` // the Panther rule the record tests
	Event     json.RawMessage `json:"event"`
	Meta      json.RawMessage `json:"meta"`
}

// Data set names.
const (
	Stratus = "stratus_red_team"
	Panther = "panther_analysis"
	OTRF    = "otrf_security_datasets"
)

// OTRFStolenKey is the key stolen in the OTRF lab breach.
const OTRFStolenKey = "ASIA5FLZVX4OPVKKVBMX"

// LoadDataset reads an embedded data set by name.
func LoadDataset(name string) ([]Record, error) {
	f, err := data.Open("data/" + name + ".jsonl.gz")
	if err != nil {
		return nil, fmt.Errorf("open data set %s: %w", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read data set %s: %w", name, err)
	}
	var out []Record
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("read data set %s: line %d: %w", name, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read data set %s: %w", name, err)
	}
	return out, nil
}

// Counts are a confusion matrix of "attacker" (or "flagged") answers.
type Counts struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	TN int `json:"tn"`
	FN int `json:"fn"`
}

func (c *Counts) add(truth, got bool) {
	switch {
	case truth && got:
		c.TP++
	case truth:
		c.FN++
	case got:
		c.FP++
	default:
		c.TN++
	}
}

// Precision is TP/(TP+FP); 1 when nothing was called positive.
func (c Counts) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN); 1 when there was nothing to find.
func (c Counts) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// Agreement is the share of answers that match the labels.
func (c Counts) Agreement() float64 {
	n := c.TP + c.FP + c.TN + c.FN
	if n == 0 {
		return 1
	}
	return float64(c.TP+c.TN) / float64(n)
}

// Technique is how the rules did on one Stratus Red Team technique.
type Technique struct {
	Name   string `json:"name"`
	Events int    `json:"events"`
	// KeyRun tells whether a leaked access key can run the technique: its
	// calls are API calls signed with an access key (console sign-in is not).
	KeyRun  bool     `json:"keyRun"`
	Flagged bool     `json:"flagged"` // some event matched a rule above info
	Rules   []string `json:"rules"`
}

// PantherResult is the agreement with Panther's expected results, over
// the records whose Panther rule some keyleak rule corresponds to.
type PantherResult struct {
	Records       int      `json:"records"`
	InScope       int      `json:"inScope"`
	PantherRules  int      `json:"pantherRules"`
	Counts        Counts   `json:"counts"`
	Disagreements []string `json:"disagreements"`
}

// OTRFResult is the attacker verdicts on the stolen key's events.
type OTRFResult struct {
	Key     string `json:"key"`
	Events  int    `json:"events"`
	Counts  Counts `json:"counts"`
	LeakLog string `json:"leak"`
}

// ScenarioResult is how the assessment did on one simulator scenario.
type ScenarioResult struct {
	Name      string    `json:"name"`
	Events    int       `json:"events"` // events of the leaked and derived keys in the truth
	Attacker  int       `json:"attacker"`
	Counts    Counts    `json:"counts"`
	Resources int       `json:"resources"` // created by the keys, per the truth
	Found     int       `json:"found"`     // of those, listed by the assessment
	Findings  int       `json:"guarddutyFindings"`
	LeakedAt  time.Time `json:"leakedAt,omitzero"`
	FirstBad  time.Time `json:"firstAttackerCall,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// Report is the whole evaluation.
type Report struct {
	Rules      int              `json:"rules"`
	Coverage   Coverage         `json:"coverage"`
	Stratus    []Technique      `json:"stratus"`
	Panther    PantherResult    `json:"panther"`
	OTRF       OTRFResult       `json:"otrf"`
	Scenarios  []ScenarioResult `json:"scenarios"`
	GeneratedW time.Duration    `json:"-"`
}

// Run evaluates the catalog (nil: the built-in rules) on every data set
// and, with scenarios set, on the simulator's shipped scenarios.
func Run(ctx context.Context, cat *assess.Catalog, scenarios bool) (*Report, error) {
	if cat == nil {
		var err error
		if cat, err = assess.BuiltinCatalog(); err != nil {
			return nil, err
		}
	}
	rep := &Report{Rules: len(cat.Rules())}
	var err error
	if rep.Coverage, err = EvalCoverage(cat); err != nil {
		return nil, err
	}
	if rep.Stratus, err = EvalStratus(cat); err != nil {
		return nil, err
	}
	if rep.Panther, err = EvalPanther(cat); err != nil {
		return nil, err
	}
	if rep.OTRF, err = EvalOTRF(cat); err != nil {
		return nil, err
	}
	if scenarios {
		for _, name := range awssim.ScenarioNames() {
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			rep.Scenarios = append(rep.Scenarios, EvalScenario(ctx, cat, name))
		}
	}
	return rep, nil
}

func parse(r Record) (trail.Event, error) { return trail.ParseRecord(r.Event) }

// EvalStratus flags each Stratus Red Team technique's events.
func EvalStratus(cat *assess.Catalog) ([]Technique, error) {
	recs, err := LoadDataset(Stratus)
	if err != nil {
		return nil, err
	}
	by := map[string]*Technique{}
	rules := map[string]map[string]bool{}
	for _, r := range recs {
		name := strings.TrimPrefix(r.Technique, "stratus:")
		t := by[name]
		if t == nil {
			t = &Technique{Name: name, Rules: []string{}}
			by[name] = t
			rules[name] = map[string]bool{}
		}
		t.Events++
		e, err := parse(r)
		if err != nil {
			return nil, fmt.Errorf("evaluate stratus: %w", err)
		}
		if e.UserIdentity.AccessKeyID != "" && e.EventType == "AwsApiCall" {
			t.KeyRun = true
		}
		for _, rule := range cat.Match(&e) {
			if rule.Signal == "" && rule.Severity.Rank() > assess.SeverityInfo.Rank() {
				t.Flagged = true
				rules[name][rule.ID] = true
			}
		}
	}
	var out []Technique
	for name, t := range by {
		for id := range rules[name] {
			t.Rules = append(t.Rules, id)
		}
		slices.Sort(t.Rules)
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// EvalPanther compares flags with Panther's expected results on the
// records of the Panther rules the catalog says it covers.
func EvalPanther(cat *assess.Catalog) (PantherResult, error) {
	recs, err := LoadDataset(Panther)
	if err != nil {
		return PantherResult{}, err
	}
	refs := map[string][]string{} // Panther rule -> keyleak rules
	for _, r := range cat.Rules() {
		for _, p := range r.Panther {
			refs[p] = append(refs[p], r.ID)
		}
	}
	res := PantherResult{Records: len(recs), Disagreements: []string{}}
	covered := map[string]bool{}
	for _, r := range recs {
		ours := refs[r.Rule]
		if len(ours) == 0 {
			continue
		}
		e, err := parse(r)
		if err != nil {
			return res, fmt.Errorf("evaluate panther: %w", err)
		}
		covered[r.Rule] = true
		res.InScope++
		flagged := false
		for _, m := range cat.Match(&e) {
			if slices.Contains(ours, m.ID) {
				flagged = true
			}
		}
		want := r.Label == "malicious"
		res.Counts.add(want, flagged)
		if want != flagged {
			res.Disagreements = append(res.Disagreements, fmt.Sprintf("%s: %s %s expected %v", r.Rule, e.EventSource, e.EventName, want))
		}
	}
	res.PantherRules = len(covered)
	return res, nil
}

// EvalOTRF assesses the stolen key's events of the OTRF breach, as a sweep
// of that key would return them, and compares attacker verdicts with the
// labels.
func EvalOTRF(cat *assess.Catalog) (OTRFResult, error) {
	recs, err := LoadDataset(OTRF)
	if err != nil {
		return OTRFResult{}, err
	}
	inv := &trail.Investigation{Key: OTRFStolenKey}
	labels := map[string]bool{}
	for _, r := range recs {
		e, err := parse(r)
		if err != nil {
			return OTRFResult{}, fmt.Errorf("evaluate otrf: %w", err)
		}
		if e.UserIdentity.AccessKeyID != OTRFStolenKey {
			continue
		}
		labels[e.Key()] = r.Label == "malicious"
		inv.Events = append(inv.Events, e)
	}
	sort.SliceStable(inv.Events, func(i, j int) bool { return inv.Events[i].EventTime.Before(inv.Events[j].EventTime) })
	inv.Keys = []trail.KeyLink{{AccessKeyID: OTRFStolenKey}}
	a, err := assess.Assess(inv, assess.Options{Catalog: cat})
	if err != nil {
		return OTRFResult{}, err
	}
	res := OTRFResult{Key: OTRFStolenKey, Events: len(inv.Events), LeakLog: a.Leak.Reason}
	for i, e := range inv.Events {
		res.Counts.add(labels[e.Key()], a.Events[i].Verdict == assess.Attacker)
	}
	return res, nil
}

// EvalScenario sweeps a shipped scenario, assesses it, checks the
// resources' live state and GuardDuty, and compares with the truth.
func EvalScenario(ctx context.Context, cat *assess.Catalog, name string) ScenarioResult {
	res := ScenarioResult{Name: name}
	run, err := StartScenario(ctx, name)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer run.Close()
	a, err := run.Assess(assess.Options{Catalog: cat})
	if err != nil {
		res.Error = err.Error()
		return res
	}
	truth := run.Sim.Truth()
	res.Counts = Score(a, truth)
	res.Events = res.Counts.TP + res.Counts.FN + res.Counts.FP + res.Counts.TN
	res.Attacker = res.Counts.TP + res.Counts.FN
	res.LeakedAt = a.Leak.Time
	for _, e := range truth.Events {
		if e.Attacker && (res.FirstBad.IsZero() || e.EventTime.Before(res.FirstBad)) {
			res.FirstBad = e.EventTime
		}
	}
	listed := map[string]bool{}
	for _, r := range a.Resources {
		listed[r.Type+"|"+r.Region+"|"+r.ID] = true
	}
	keys := map[string]bool{}
	for _, k := range run.Keys() {
		keys[k] = true
	}
	for _, r := range truth.Resources {
		if !keys[r.CreatedBy] {
			continue
		}
		res.Resources++
		if listed[r.Type+"|"+r.Region+"|"+r.ID] {
			res.Found++
		}
	}
	gd, err := assess.GuardDuty(ctx, run.GuardDutyClient, run.EnabledRegions(), run.Keys())
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.Findings = len(gd.Findings)
	return res
}

// KeyRunFlagged counts the Stratus techniques a leaked key can run and how
// many of them were flagged.
func (r *Report) KeyRunFlagged() (flagged, total int) {
	for _, t := range r.Stratus {
		if t.KeyRun {
			total++
			if t.Flagged {
				flagged++
			}
		}
	}
	return flagged, total
}

// Write prints the report as text tables.
func (r *Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	yes := func(b bool) string { return map[bool]string{true: "yes", false: "no"}[b] }

	p("Coverage of the events public detection catalogs name (%d rules; eventSource:eventName pairs)\n\n", r.Rules)
	p("CATALOG\tNAMED\tRECOGNISED\t%%\n")
	for _, c := range r.Coverage.Sources {
		p("%s\t%d\t%d\t%.1f\n", c.Set, c.Named, c.Recognised, c.Percent())
	}
	for _, c := range r.Coverage.Sets {
		p("%s (%s)\t%d\t%d\t%.1f\n", c.Set, c.Title, c.Named, c.Recognised, c.Percent())
	}
	p("\n")

	flagged, total := r.KeyRunFlagged()
	p("Stratus Red Team detonations: %d rules, %d/%d techniques a leaked key can run flagged\n\n", r.Rules, flagged, total)
	p("TECHNIQUE\tEVENTS\tKEY\tFLAGGED\tRULES\n")
	for _, t := range r.Stratus {
		p("%s\t%d\t%s\t%s\t%s\n", t.Name, t.Events, yes(t.KeyRun), yes(t.Flagged), strings.Join(t.Rules, ", "))
	}
	pr := r.Panther
	p("\nPanther rule tests: %d of %d records in scope (%d Panther rules keyleak covers)\n", pr.InScope, pr.Records, pr.PantherRules)
	p("agreement %.1f%%  (TP %d  FP %d  TN %d  FN %d; Panther's rules often check conditions keyleak leaves to the verdict)\n",
		100*pr.Counts.Agreement(), pr.Counts.TP, pr.Counts.FP, pr.Counts.TN, pr.Counts.FN)
	o := r.OTRF
	p("\nOTRF lab breach, stolen key %s: %d events; attacker verdicts precision %.2f recall %.2f (TP %d FP %d FN %d)\n",
		o.Key, o.Events, o.Counts.Precision(), o.Counts.Recall(), o.Counts.TP, o.Counts.FP, o.Counts.FN)
	if len(r.Scenarios) > 0 {
		p("\nSimulator scenarios (attacker verdicts against /_sim/truth, events of the leaked and derived keys)\n\n")
		p("SCENARIO\tEVENTS\tATTACKER\tTP\tFP\tFN\tPRECISION\tRECALL\tRESOURCES\tGUARDDUTY\tLEAK INFERRED\tFIRST ATTACKER CALL\n")
		for _, s := range r.Scenarios {
			if s.Error != "" {
				p("%s\terror: %s\n", s.Name, s.Error)
				continue
			}
			p("%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%d/%d\t%d\t%s\t%s\n", s.Name, s.Events, s.Attacker, s.Counts.TP, s.Counts.FP, s.Counts.FN,
				s.Counts.Precision(), s.Counts.Recall(), s.Found, s.Resources, s.Findings,
				s.LeakedAt.Format(time.RFC3339), s.FirstBad.Format(time.RFC3339))
		}
	}
	return tw.Flush()
}
