package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// investigateOptions are the flags of `keyleak investigate`.
type investigateOptions struct {
	Key     string
	Since   string
	Until   string
	Regions string
	Logs    string
	CaseDir string
	Parent  string
	Output  outputFormat
	// LookupRate is LookupEvents requests per second per region. AWS allows
	// 2; only a simulator allows more, so the flag is hidden.
	LookupRate float64
	LeakedAt   string
	Rules      []string
	Offline    bool
	// Org follows the key across the accounts of its organization,
	// assuming RoleName in each account other than the responder's.
	Org      bool
	RoleName string
	SQL      sqlSourceFlags // --athena, --athena-workgroup, --athena-output, --lake
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
			if err := playbook.ValidateKeyID(o.Key); err != nil {
				return &UsageError{Err: err}
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
	fl.StringVar(&o.Regions, "regions", "all", "regions to search: all, or a comma-separated list")
	fl.StringVar(&o.Logs, "logs", "", "read CloudTrail log files instead of LookupEvents: a directory or s3://bucket/prefix")
	fl.StringVar(&o.CaseDir, "case", "", "case directory (default: the newest case of the key under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where new case directories are made")
	fl.StringVar(&o.LeakedAt, "leaked-at", "", "when the key leaked (RFC 3339 or duration ago); calls from sources first seen after it weigh toward the attacker (default: inferred)")
	fl.StringSliceVar(&o.Rules, "rules", nil, "extra rule directories (*.yaml) added to the built-in catalog")
	fl.BoolVar(&o.Offline, "offline", false, "with --logs: make no AWS call (no live state of resources, no GuardDuty, no quarantine lookup)")
	o.SQL.addFlags(fl)
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "LookupEvents requests per second per region (AWS allows 2)")
	_ = fl.MarkHidden("lookup-rate")
	fl.BoolVar(&o.Org, "org", false, "follow the key across its AWS organization: investigate in the key's account and in every account a role session of it reaches")
	fl.StringVar(&o.RoleName, "role-name", defaultOrgRole, "with --org: the role assumed in accounts other than yours")
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
	if err := o.SQL.validate(o.Logs); err != nil {
		return err
	}
	if o.Org && o.SQL.set() {
		return usageErrorf("--org sweeps each account's CloudTrail API; an organization trail's Athena table or Lake store already holds every account: leave out --org")
	}
	var leakedAt time.Time
	if o.LeakedAt != "" {
		if leakedAt, err = parseWhen(o.LeakedAt, f.Now()); err != nil {
			return usageErrorf("--leaked-at: %w", err)
		}
	}
	catalog, err := assess.LoadCatalog(o.Rules...)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("load rules: %w", err)}
	}
	if o.Org && o.Logs != "" {
		return usageErrorf("--org reads CloudTrail through the API of each account; it does not combine with --logs")
	}
	clients, err := f.Clients(ctx)
	if err != nil {
		return err
	}
	var access *orgAccess
	var keyAccount string
	if o.Org {
		if access, keyAccount, clients, err = openKeyAccount(ctx, clients, o.Key, o.RoleName); err != nil {
			return err
		}
	}
	c, err := openCase(o.CaseDir, o.Parent, o.Key, f.Now())
	if err != nil {
		return err
	}
	defer c.Close()

	progress := newProgressPrinter(f.IO.ErrOut, o.Output == outputText, f.IO.StderrTTY)
	if o.LookupRate <= 0 {
		return usageErrorf("--lookup-rate must be more than 0")
	}
	opts := []trail.Option{
		trail.WithWindow(since, until),
		trail.WithProgress(progress.update),
		trail.WithLimiterRate(rate.Limit(o.LookupRate), max(1, int(o.LookupRate/2))),
	}
	opts = append(opts, f.retryOptions()...)
	var inv *trail.Investigation
	var runErr error
	var enabled []string // regions GuardDuty is searched in
	switch {
	case o.SQL.set():
		inv, runErr = athenaOrLakeSource(ctx, clients, &o.SQL, o.Key, o.Regions, opts)
	case o.Logs != "":
		var src trail.LogSource
		if strings.HasPrefix(o.Logs, "s3://") {
			s3src, err := trail.NewS3Logs(clients.S3(""), o.Logs)
			if err != nil {
				return &UsageError{Err: err}
			}
			src = s3src
		} else {
			src = trail.DirLogs(o.Logs)
		}
		inv, runErr = trail.ScanLogs(ctx, src, o.Key, opts...)
		if errors.Is(runErr, trail.ErrNoLogFiles) {
			return &UsageError{Err: fmt.Errorf("no CloudTrail log files (.json, .json.gz, .jsonl) under %s", o.Logs)}
		}
	default:
		known, err := trail.ListRegions(ctx, clients.EC2(""))
		if err != nil {
			return fmt.Errorf("list regions: %w", err)
		}
		var names []string
		if o.Regions != "" && o.Regions != "all" {
			names = strings.Split(o.Regions, ",")
		}
		regions, err := trail.SelectRegions(known, names)
		if err != nil {
			return &UsageError{Err: err}
		}
		for _, r := range regions {
			if r.Enabled {
				enabled = append(enabled, r.Name)
			}
		}
		if o.Org {
			describeOrg(ctx, f.IO.ErrOut, clients)
			inv, runErr = trail.NewOrgSweep(keyAccount, access.opener(names), opts).Run(ctx, o.Key)
			break
		}
		sweep := trail.NewSweep(regions, func(region string) cloudtrail.LookupEventsAPIClient {
			return clients.CloudTrail(region)
		}, opts...)
		inv, runErr = sweep.Run(ctx, o.Key)
	}
	progress.finish()
	if inv == nil {
		return runErr
	}
	// Whatever was found is kept, even when the run was cut short.
	if err := saveInvestigation(c, inv); err != nil {
		return err
	}
	var live *awsapi.Clients
	if !o.Offline {
		live = clients
	}
	var accounts *keyAccounts
	if o.Org && live != nil {
		accounts = newKeyAccounts(access, keyAccount, inv)
	}
	a, gd, assessErr := assessInvestigationIn(ctx, live, accounts, enabled, c, inv, catalog, leakedAt, f.Now())
	if a == nil {
		return assessErr
	}
	if err := printInvestigation(f.IO.Out, o.Output, inv, a, gd, c.Dir()); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	var failed []string
	if s := inv.Coverage.Summary(); s != "" {
		failed = append(failed, s)
	}
	if gd != nil && gd.Failed() {
		for _, r := range gd.Regions {
			if r.Error != "" {
				failed = append(failed, "GuardDuty in "+r.Region+": "+r.Error)
			}
		}
	}
	if assessErr != nil {
		failed = append(failed, assessErr.Error())
	}
	if len(failed) > 0 {
		return &PartialError{Err: errors.New(strings.Join(failed, "; ") + "; what was found is saved in " + c.Dir() + ", and re-running resumes")}
	}
	return nil
}

// assessInvestigation judges the events, checks the live state of what the
// keys created and GuardDuty's findings (with clients; nil is offline), and
// writes findings.json. A failed live check is returned as an error beside
// a usable assessment.
func assessInvestigation(ctx context.Context, clients *awsapi.Clients, regions []string, c *playbook.Case, inv *trail.Investigation,
	catalog *assess.Catalog, leakedAt, now time.Time) (*assess.Assessment, *assess.GuardDutyResult, error) {
	return assessInvestigationIn(ctx, clients, nil, regions, c, inv, catalog, leakedAt, now)
}

// assessInvestigationIn is assessInvestigation where the resources a key
// made are checked with the clients of that key's account (accounts, for
// --org; nil checks everything with clients).
func assessInvestigationIn(ctx context.Context, clients *awsapi.Clients, accounts *keyAccounts, regions []string, c *playbook.Case, inv *trail.Investigation,
	catalog *assess.Catalog, leakedAt, now time.Time) (*assess.Assessment, *assess.GuardDutyResult, error) {
	opts := assess.Options{Catalog: catalog, LeakedAt: leakedAt}
	var sum playbook.Summary
	if ok, err := caseview.ReadFile(c, caseview.ContainFile, &sum); err != nil {
		return nil, nil, err
	} else if ok {
		opts.Owner = sum.Owner
	}
	var liveErr error
	if clients != nil {
		q, err := assess.QuarantineEvents(ctx, clients.CloudTrailRetrying("us-east-1"), opts.Owner, inv.Window)
		if err != nil {
			liveErr = fmt.Errorf("look up AWS's quarantine of the key: %w", err)
		}
		opts.Context = q
	}
	a, err := assess.Assess(inv, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("assess events: %w", err)
	}
	var gd *assess.GuardDutyResult
	if clients != nil {
		res, err := accounts.inventory(ctx, clients, a.Resources)
		if err != nil {
			return nil, nil, fmt.Errorf("check resources: %w", err)
		}
		a.Resources = res
		var keys []string
		for _, k := range inv.Keys {
			keys = append(keys, k.AccessKeyID)
		}
		if len(regions) > 0 {
			g, err := assess.GuardDuty(ctx, func(r string) assess.GuardDutyAPI { return clients.GuardDuty(r) }, regions, keys)
			if err != nil {
				return nil, nil, fmt.Errorf("search GuardDuty: %w", err)
			}
			gd = &g
		}
	}
	if err := c.WriteFindings(a.Findings(inv, gd, now)); err != nil {
		return nil, nil, fmt.Errorf("save findings: %w", err)
	}
	return a, gd, liveErr
}

// saveInvestigation writes the events and the coverage into the case and
// notes the run in the journal.
func saveInvestigation(c *playbook.Case, inv *trail.Investigation) error {
	added, err := trail.AppendEventsFile(c.Path(playbook.EventsFile), inv.Events)
	if err != nil {
		return fmt.Errorf("save events: %w", err)
	}
	res := inv.Result()
	res.Events = nil
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("save investigation: %w", err)
	}
	if err := c.WriteFile(caseview.InvestigationFile, b); err != nil {
		return fmt.Errorf("save investigation: %w", err)
	}
	if inv.Account != "" && c.Meta().Account == "" {
		if err := c.SetAccount(inv.Account); err != nil {
			return fmt.Errorf("save account: %w", err)
		}
	}
	msg := fmt.Sprintf("investigation: %d events (%d new) of %d keys", len(inv.Events), added, len(inv.Keys))
	if s := inv.Coverage.Summary(); s != "" {
		msg += "; " + s
	}
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "investigate", Message: msg}); err != nil {
		return fmt.Errorf("journal investigation: %w", err)
	}
	return nil
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
// region or file set that fails, as it fails, and on a terminal one
// self-updating line with the count of sources done and events found. The
// full table goes to stdout at the end.
type progressPrinter struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	live    bool
	sources map[string]trail.SourceStatus
	failed  map[string]bool
}

func newProgressPrinter(w io.Writer, on, live bool) *progressPrinter {
	return &progressPrinter{w: w, on: on, live: live, sources: map[string]trail.SourceStatus{}, failed: map[string]bool{}}
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
