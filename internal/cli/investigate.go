package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/internal/redact"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// investigateOptions are the flags of `keyleak investigate`.
type investigateOptions struct {
	Key     string
	Since   string
	Until   string
	CaseDir string
	Parent  string
	Output  outputFormat
	// LookupRate is LookupEvents requests per second per region. AWS allows
	// 2; only a simulator allows more, so the flag is hidden.
	LookupRate float64
	Offline    bool
	sourceFlags
}

// sourceFlags choose where and how an investigation looks: the source of
// events and the assessment's inputs. The investigate command and the
// interactive runbook (the root command) share them, so that the runbook
// can investigate from every source the command can.
type sourceFlags struct {
	Regions  string
	Logs     string
	LeakedAt string
	Rules    []string
	// Org follows the key across the accounts of its organization,
	// assuming RoleName in each account other than the responder's.
	Org      bool
	RoleName string
	SQL      sqlSourceFlags // --athena, --athena-workgroup, --athena-output, --lake
}

// add declares the flags.
func (o *sourceFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&o.Regions, "regions", "all", "regions to search: all, or a comma-separated list")
	fl.StringVar(&o.Logs, "logs", "", "read CloudTrail log files instead of LookupEvents: a directory or s3://bucket/prefix")
	fl.StringVar(&o.LeakedAt, "leaked-at", "", "when the key leaked (RFC 3339 or duration ago); calls from sources first seen after it weigh toward the attacker (default: inferred)")
	fl.StringSliceVar(&o.Rules, "rules", nil, "extra rule directories (*.yaml) added to the built-in catalog; a rule replaces one of the same ID only with override: true")
	o.SQL.addFlags(fl)
	fl.BoolVar(&o.Org, "org", false, "follow the key across its AWS organization: investigate in the key's account and in every account a role session of it reaches")
	fl.StringVar(&o.RoleName, "role-name", respond.DefaultOrgRole, "with --org: the role assumed in accounts other than yours")
}

// request turns the flags into the engine's request (without the window
// and pacing, which are the caller's), checking them before any AWS call.
func (o *sourceFlags) request(now time.Time) (respond.InvestigateRequest, error) {
	req := respond.InvestigateRequest{Rules: o.Rules, Source: respond.Source{Logs: o.Logs, Athena: o.SQL.Athena,
		AthenaWorkgroup: o.SQL.AthenaWorkgroup, AthenaOutput: o.SQL.AthenaOutput, Lake: o.SQL.Lake, Org: o.Org, RoleName: o.RoleName,
		SecurityLake: o.SQL.SecurityLake, SecurityLakeTable: o.SQL.SecurityLakeTable}}
	if err := req.Source.Validate(); err != nil {
		return req, err
	}
	if o.LeakedAt != "" {
		t, err := parseWhen(o.LeakedAt, now)
		if err != nil {
			return req, usageErrorf("--leaked-at: %w", err)
		}
		req.LeakedAt = t
	}
	if _, err := assess.LoadCatalog(o.Rules...); err != nil {
		return req, &UsageError{Err: fmt.Errorf("load rules: %w", err)}
	}
	if o.Regions != "" && o.Regions != "all" {
		for _, r := range strings.Split(o.Regions, ",") {
			if r = strings.TrimSpace(r); r != "" {
				req.Regions = append(req.Regions, r)
			}
		}
	}
	return req, nil
}

func newCmdInvestigate(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdInvestigateWith(f, g, nil)
}

func newCmdInvestigateWith(f *Factory, g *globalFlags, runF func(context.Context, *investigateOptions) error) *cobra.Command {
	o := &investigateOptions{}
	cmd := &cobra.Command{
		Use:   "investigate --key AKIA…",
		Short: "Find every CloudTrail event of a key and of the credentials derived from it",
		Long: `Find every CloudTrail event of the key, in every region, and follow the
credentials made from it (GetSessionToken, GetFederationToken, AssumeRole*,
CreateAccessKey) to their events too. Regions not enabled in the account are
listed as such. LookupEvents covers the last 90 days of management events;
for older events or data events, point --logs at the trail's log files.

--since and --until take RFC 3339 times or durations back from now (72h).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return investigateRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Key, "key", "", "the leaked access key ID (AKIA… or ASIA…)")
	fl.StringVar(&o.Since, "since", "", "start of the window: RFC 3339 time or duration ago (default: 90 days ago)")
	fl.StringVar(&o.Until, "until", "", "end of the window: RFC 3339 time or duration ago (default: now)")
	o.sourceFlags.add(fl)
	fl.StringVar(&o.CaseDir, "case", "", "case directory: a case to resume, or a new or empty directory (default: the newest case of the key under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where new case directories are made")
	fl.BoolVar(&o.Offline, "offline", false, "with --logs: no live check of the account (no live state of resources, no GuardDuty, no quarantine lookup)")
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "LookupEvents requests per second per region (AWS allows 2)")
	_ = fl.MarkHidden("lookup-rate")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// parseWhen reads an RFC 3339 time or a duration back from now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := time.ParseDuration(days + "h"); err == nil && d >= 0 {
			return now.Add(-24 * d).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2006-01-02T15:04:05Z) nor a duration like 72h or 7d", s)
}

// window resolves --since and --until.
func (o *investigateOptions) window(now time.Time) (time.Time, time.Time, error) {
	since, until := now.Add(-90*24*time.Hour).UTC(), now.UTC()
	var err error
	if o.Since != "" {
		if since, err = parseWhen(o.Since, now); err != nil {
			return since, until, usageErrorf("--since: %w", err)
		}
	}
	if o.Until != "" {
		if until, err = parseWhen(o.Until, now); err != nil {
			return since, until, usageErrorf("--until: %w", err)
		}
	}
	if !since.Before(until) {
		return since, until, usageErrorf("--since (%s) must be before --until (%s)", since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	return since, until, nil
}

func investigateRun(ctx context.Context, f *Factory, o *investigateOptions) error {
	since, until, err := o.window(f.Now())
	if err != nil {
		return err
	}
	if o.Offline && o.Logs == "" {
		return usageErrorf("--offline needs --logs: the API sweep itself calls AWS")
	}
	if o.LookupRate <= 0 {
		return usageErrorf("--lookup-rate must be more than 0")
	}
	req, err := o.sourceFlags.request(f.Now())
	if err != nil {
		return err
	}
	req.Since, req.Until, req.Offline = since, until, o.Offline
	req.LookupRate, req.LookupBurst = rate.Limit(o.LookupRate), max(1, int(o.LookupRate/2))
	req.Options = f.retryOptions()
	src := req.Source
	e := f.Engine()
	if !o.Offline || src.Kind() != "logs" {
		// AWS first: a missing configuration leaves no case directory behind.
		if _, err := e.Clients(ctx); err != nil {
			return err
		}
	}
	c, err := e.OpenCase(casefile.Ref{Dir: o.CaseDir, Parent: o.Parent, Key: o.Key})
	if err != nil {
		return err
	}
	defer c.Close()

	progress := newProgressPrinter(f.IO.ErrOut, o.Output == outputText, f.IO.StderrTTY)
	h := respond.Hooks{Source: progress.update, Note: func(s string) { fmt.Fprintln(f.IO.ErrOut, s) }}
	res, runErr := e.Investigate(ctx, c, req, h)
	progress.finish()
	if res == nil {
		return runErr
	}
	if err := printInvestigation(f.IO.Out, o.Output, res.Trail, res.Assessment, res.GuardDuty, c.Dir()); err != nil {
		return err
	}
	if o.Output == outputText {
		present := 0
		for _, r := range res.Assessment.Resources {
			if r.Verdict == assess.Attacker && r.State == assess.StatePresent {
				present++
			}
		}
		if present > 0 {
			fmt.Fprintf(f.IO.Out, "\nNext: keyleak eradicate --key %s --case %s (%d of the attacker's resources still exist)\n", o.Key, c.Dir(), present)
		} else {
			fmt.Fprintf(f.IO.Out, "\nNext: keyleak report --case %s\n", c.Dir())
		}
	}
	return runErr
}

func printInvestigation(w io.Writer, format outputFormat, inv *trail.Investigation, a *assess.Assessment, gd *assess.GuardDutyResult, caseDir string) error {
	res := a.Result(inv, gd)
	return printResult(w, format, res, func() string { return renderInvestigation(inv.Result(), caseDir) + renderAssessment(res) })
}

// renderAssessment is the text form of the assessment: the verdict counts,
// the leak time, the attacker's calls by rule, what still exists.
func renderAssessment(res assess.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nVerdicts: %d attacker, %d legitimate, %d unclear\n", res.Counts.Attacker, res.Counts.Legitimate, res.Counts.Unclear)
	if !res.Leak.Time.IsZero() {
		how := "given"
		if res.Leak.Inferred {
			how = "inferred: " + res.Leak.Reason
		}
		fmt.Fprintf(&b, "Leaked at %s (%s)\n", res.Leak.Time.UTC().Format(time.RFC3339), how)
	}
	if !res.Leak.DetectedAt.IsZero() {
		fmt.Fprintf(&b, "Detected at %s by %s\n", res.Leak.DetectedAt.UTC().Format(time.RFC3339), res.Leak.DetectedBy)
	}
	perRule := map[string]int{}
	for _, e := range res.Events {
		if e.Verdict == assess.Attacker {
			for _, f := range e.Flags {
				perRule[f]++
			}
		}
	}
	if len(res.Rules) > 0 {
		b.WriteString("\nWhat the attacker did (rule, severity, events):\n")
		rules := slices.Clone(res.Rules)
		sort.SliceStable(rules, func(i, j int) bool { return rules[i].Severity.Rank() > rules[j].Severity.Rank() })
		for _, r := range rules {
			if perRule[r.ID] == 0 {
				continue
			}
			fmt.Fprintf(&b, "  %-9s %4d  %-34s %s\n", r.Severity, perRule[r.ID], r.ID, r.Explanation)
		}
	}
	if len(res.Resources) > 0 {
		b.WriteString("\nResources created with the keys:\n")
		for _, r := range res.Resources {
			state := r.State
			if r.StateReason != "" {
				state += " (" + r.StateReason + ")"
			}
			fmt.Fprintf(&b, "  %-10s %-26s %-24s %-14s by %s\n", r.Verdict, r.Type, r.ID, r.Region, r.CreatedBy)
			fmt.Fprintf(&b, "             %s\n", state)
		}
	}
	if len(res.Secrets) > 0 {
		b.WriteString("\nSecrets the keys read after the leak (rotate them; CloudTrail has the names, never the values):\n")
		for _, sr := range res.Secrets {
			first := sr.Reads[0]
			fmt.Fprintf(&b, "  %-22s %-40s %-14s first %s from %s (event %s), %d read(s)\n", sr.Kind, redact.Text(sr.Name), sr.Region,
				first.Time.UTC().Format(time.RFC3339), first.SourceIP, first.EventID, len(sr.Reads))
		}
	}
	if res.GuardDuty != nil && len(res.GuardDuty.Findings) > 0 {
		b.WriteString("\nGuardDuty findings about the keys:\n")
		for _, g := range res.GuardDuty.Findings {
			fmt.Fprintf(&b, "  %-14s %4.1f  %s (%s)\n", g.Region, g.Severity, g.Type, g.AccessKeyID)
		}
	}
	return b.String()
}

// renderInvestigation is the text form of an investigation: coverage, the
// key chain, and what the keys did, by event name.
func renderInvestigation(res trail.Result, caseDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key %s", res.Key)
	if res.Account != "" {
		fmt.Fprintf(&b, " in account %s", res.Account)
	}
	fmt.Fprintf(&b, ", %s to %s\n\n", res.Window.Since.UTC().Format(time.RFC3339), res.Window.Until.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "%-16s %-12s %7s %6s %9s  %s\n", "REGION", "STATUS", "EVENTS", "PAGES", "THROTTLED", "ERROR")
	for _, r := range res.Regions {
		fmt.Fprintf(&b, "%-16s %-12s %7d %6d %9d  %s\n", r.Region, r.Status, r.Events, r.Pages, r.Throttled, r.Error)
	}
	for _, r := range res.Regions {
		for _, f := range r.BadFiles {
			fmt.Fprintf(&b, "  unreadable: %s: %s\n", f.Path, f.Reason)
		}
		for _, f := range r.Skipped {
			fmt.Fprintf(&b, "  skipped: %s: %s\n", f.Path, f.Reason)
		}
	}
	if len(res.Keys) > 1 {
		b.WriteString("\nCredentials derived from the key:\n")
		for _, k := range res.Keys {
			if k.Parent == "" {
				continue
			}
			line := fmt.Sprintf("  %s  from %s by %s at %s", k.AccessKeyID, k.Parent, k.Via, k.EventTime.UTC().Format(time.RFC3339))
			if k.RoleARN != "" {
				line += " (role " + k.RoleARN + ")"
			}
			if k.MayBeValid {
				line += " — may still be valid"
				if !k.Expiration.IsZero() {
					line += " until " + k.Expiration.UTC().Format(time.RFC3339)
				}
				if k.RoleSession {
					line += "; a role session: the user's revoke policy does not cover it"
				}
			}
			b.WriteString(line + "\n")
		}
	}
	counts := map[string]int{}
	for _, e := range res.Events {
		counts[e.EventSource+" "+e.EventName]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	fmt.Fprintf(&b, "\n%d events", len(res.Events))
	if len(names) > 0 {
		b.WriteString(", by call:\n")
	} else {
		b.WriteString("\n")
	}
	for _, n := range names {
		fmt.Fprintf(&b, "  %6d  %s\n", counts[n], n)
	}
	fmt.Fprintf(&b, "\nCase %s (events.jsonl holds the raw records)\n", caseDir)
	return b.String()
}

// progressPrinter reports a sweep's progress on stderr: a line for each
// region or file set that fails, as it fails; on a terminal one
// self-updating line with the count of sources done and events found, and
// elsewhere (a log file, a pipe) a line for each source as it finishes. The
// full table goes to stdout at the end.
type progressPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	on       bool
	live     bool
	sources  map[string]trail.SourceStatus
	failed   map[string]bool
	finished map[string]bool
}

func newProgressPrinter(w io.Writer, on, live bool) *progressPrinter {
	return &progressPrinter{w: w, on: on, live: live, sources: map[string]trail.SourceStatus{},
		failed: map[string]bool{}, finished: map[string]bool{}}
}

func (p *progressPrinter) update(s trail.SourceStatus) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sources[s.Name] = s
	if (s.State == trail.StateError || s.State == trail.StateDenied) && !p.failed[s.Name] {
		p.failed[s.Name] = true
		if p.live {
			fmt.Fprint(p.w, "\r\033[K")
		}
		fmt.Fprintf(p.w, "  %s: %s — %s\n", s.Name, s.State, s.Err)
	}
	if !p.live {
		if (s.State == trail.StateOK || s.State == trail.StateNotEnabled) && !p.finished[s.Name] {
			p.finished[s.Name] = true
			fmt.Fprintf(p.w, "  %s: %s, %d events, %d pages\n", s.Name, s.State, s.Events, s.Pages)
		}
		return
	}
	done, events := 0, 0
	for _, st := range p.sources {
		events += st.Events
		if st.State != trail.StateRunning && st.State != trail.StateQueued {
			done++
		}
	}
	fmt.Fprintf(p.w, "\r\033[K  %d of %d sources done, %d events", done, len(p.sources), events)
}

// finish ends the self-updating line.
func (p *progressPrinter) finish() {
	if p.on && p.live {
		p.mu.Lock()
		defer p.mu.Unlock()
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// sqlSourceFlags are the flags of `keyleak investigate` that read the
// events with SQL, from a table of the trail's logs in Athena or from a
// CloudTrail Lake event data store, instead of LookupEvents: for events
// older than LookupEvents' 90 days, data events, or an organization's
// accounts at once.
type sqlSourceFlags struct {
	Athena          string
	AthenaWorkgroup string
	AthenaOutput    string
	Lake            string
	// SecurityLake reads Amazon Security Lake's CloudTrail table
	// (SecurityLakeTable when not Security Lake's own name).
	SecurityLake      bool
	SecurityLakeTable string
}

// addFlags declares the flags on investigate's flag set.
func (s *sqlSourceFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&s.Athena, "athena", "", "read the events from this Athena table of the trail's logs (table or database.table; see 'keyleak athena ddl')")
	fl.StringVar(&s.AthenaWorkgroup, "athena-workgroup", "", "Athena workgroup to run the queries in")
	fl.StringVar(&s.AthenaOutput, "athena-output", "", "s3://bucket/prefix for Athena's query results (if the workgroup sets none)")
	fl.StringVar(&s.Lake, "lake", "", "read the events from this CloudTrail Lake event data store (ID or ARN)")
	fl.BoolVar(&s.SecurityLake, "security-lake", false, "read the events from Amazon Security Lake's CloudTrail table through Athena (with --athena-workgroup or --athena-output)")
	fl.StringVar(&s.SecurityLakeTable, "security-lake-table", "", "with --security-lake: the table as database.table, e.g. a subscriber's resource link (default: Security Lake's own, in --region)")
}
