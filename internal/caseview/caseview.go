// Package caseview reads a case directory into the report model: the glue
// between what the playbook and the investigation write (journal, events,
// coverage, summaries) and the pure report package. The CLI and the TUI
// both use it, so a report looks the same whichever wrote the case.
package caseview

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/audit"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/report"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trigger"
)

// Options are what the case cannot tell: when the report is made and by
// which version of keyleak.
type Options struct {
	Now     time.Time
	Version string
}

// Load reads the case into a report model. Missing parts (no contain run
// yet, no investigation yet) leave their fields empty; a damaged file is an
// error naming it.
func Load(c *playbook.Case, o Options) (*report.Model, error) {
	meta := c.Meta()
	m := &report.Model{Case: report.Case{
		ID:          filepath.Base(c.Dir()),
		KeyID:       meta.KeyID,
		AccountID:   meta.Account,
		GeneratedAt: o.Now.UTC(),
		ToolVersion: o.Version,
	}}
	sum, err := casefile.LoadContain(c)
	if err != nil {
		return nil, err
	}
	if sum != nil {
		applySummary(&m.Case, sum)
	}
	inv, err := casefile.LoadResult(c)
	if err != nil {
		return nil, err
	}
	if inv != nil {
		applyInvestigation(m, inv)
	}
	entries, err := playbook.ReadJournal(c.Path(playbook.JournalFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	m.Actions = actions(entries, &m.Case)
	findings, err := casefile.LoadFindings(c)
	if err != nil {
		return nil, err
	}
	var judged map[string]assess.EventResult
	var judgedSet *trail.EventSet
	if findings != nil {
		judged = applyFindings(m, findings, entries)
		judgedSet = findings.Judged
		m.Secrets = reportSecrets(findings.Secrets)
	}
	rep, err := casefile.LoadAudit(c)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		applyAudit(m, rep)
	}
	trig, err := casefile.LoadTrigger(c)
	if err != nil {
		return nil, err
	}
	if trig != nil {
		applyTrigger(&m.Case, trig)
	}
	b, err := casefile.LoadBill(c)
	if err != nil {
		return nil, err
	}
	m.Bill = reportBill(b)
	events, err := loadEvents(c.Path(playbook.EventsFile), judged, judgedSet)
	if err != nil {
		return nil, err
	}
	m.Events = events
	m.Stats = report.ComputeStats(m.Events)
	if len(m.Credentials) == 0 {
		m.Credentials = credentials(m, sum, inv, entries, o.Now)
	}
	m.Chart = report.IncidentChart(m, m.Stats)
	return m, nil
}

// applyAudit adds the account's key audit, without the attacker's own
// users and keys (they are to be removed, not advised on; the report lists
// them with their state) and without the leaked key (the report's subject).
func applyAudit(m *report.Model, rep *audit.Report) {
	m.HygieneAt = rep.Generated
	skip := map[string]bool{}
	if m.Case.KeyID != "" {
		skip[m.Case.KeyID] = true
	}
	for _, r := range report.AttackerPrincipals(m) {
		skip[r.ID] = true
	}
	for _, r := range audit.Recommendations(rep) {
		if standingAdvice[r.ID] {
			continue // the report's own recommendations say it already
		}
		var subjects []string
		for _, sub := range r.Subjects {
			user, key, _ := strings.Cut(sub, "/")
			if skip[user] || (key != "" && skip[key]) {
				continue
			}
			subjects = append(subjects, sub)
		}
		if len(r.Subjects) > 0 && len(subjects) == 0 {
			continue
		}
		m.Hygiene = append(m.Hygiene, report.HygieneItem{Check: r.ID, Severity: r.Severity, Title: r.Title, Subjects: subjects})
	}
}

func applySummary(c *report.Case, s *playbook.Summary) {
	if s.Account != "" {
		c.AccountID = s.Account
	}
	c.OwnerUser = s.Owner
	if s.Owner != "" && c.AccountID != "" && !s.RootKey {
		c.OwnerARN = "arn:aws:iam::" + c.AccountID + ":user/" + s.Owner
	}
	c.RootKey = s.RootKey
	if s.Access != nil && s.Access.MFA.Gap() {
		c.OwnerWithoutMFA = s.Access.MFA.Devices == 0
		c.AssumeWithoutMFA = s.Access.MFA.AssumeWithoutMFA
	}
	c.KeyStatus = s.KeyStatus
	c.KeyStatusAt = s.ReadAt.UTC()
	c.RevokedBefore = s.RevokedBefore.UTC()
	c.FoundActiveAgain = s.FoundActiveAgain.UTC()
	c.ResponderARN = s.Responder
	for _, k := range s.OwnerKeys {
		if k.ID == s.KeyID {
			c.KeyCreatedAt = k.Created
		}
	}
	if len(s.Quarantine) > 0 {
		c.DetectedBy = "AWS (" + strings.Join(s.Quarantine, ", ") + " attached)"
		c.QuarantinePolicy, c.QuarantinedUser = strings.Join(s.Quarantine, ", "), s.Owner
	}
}

// applyTrigger says where the key was found and who found it, from the
// event that started the response. AWS's quarantine, when the summary saw
// it, stays the detection's account; the event adds the URL and the time.
func applyTrigger(c *report.Case, t *trigger.Trigger) {
	c.ExposedURL = t.ExposedURL
	if c.LeakChannel == "" {
		c.LeakChannel = t.Channel
	}
	if c.DetectedAt.IsZero() {
		c.DetectedAt = t.DetectedAt
	}
	by := t.DetectedBy()
	if c.DetectedBy == "" {
		c.DetectedBy = by
	} else if !strings.Contains(c.DetectedBy, by) {
		c.DetectedBy = by + "; " + c.DetectedBy
	}
	if c.AccountID == "" {
		c.AccountID = t.Account
	}
}

func applyInvestigation(m *report.Model, inv *trail.Result) {
	if m.Case.AccountID == "" {
		m.Case.AccountID = inv.Account
	}
	m.Case.Since, m.Case.Until = inv.Window.Since, inv.Window.Until
	for _, k := range inv.Keys {
		dk := report.DerivedKey{
			AccessKeyID: k.AccessKeyID, ParentKeyID: k.Parent, Via: k.Via, EventID: k.EventID,
			IssuedAt: k.EventTime, ExpiresAt: k.Expiration, Region: k.Region,
		}
		switch {
		case k.RoleARN != "":
			dk.Principal = k.RoleARN
		case k.UserName != "":
			dk.Principal = k.UserName
		}
		switch {
		case k.Parent == "":
			dk.Status = strings.ToLower(m.Case.KeyStatus)
		case k.MayBeValid:
			dk.Status = "active"
		case !k.Expiration.IsZero():
			dk.Status = "expired"
		}
		if dk.Status == "" {
			dk.Status = "unknown"
		}
		m.Keys = append(m.Keys, dk)
	}
	for _, r := range inv.Regions {
		cov := report.Coverage{
			Region: r.Region, Source: report.SourceLookupEvents, Events: r.Events, Pages: r.Pages,
			Throttles: r.Throttled, From: inv.Window.Since, To: inv.Window.Until, Error: r.Error, Keys: r.Keys,
		}
		if r.Files > 0 || len(r.BadFiles) > 0 {
			cov.Source = report.SourceLogFiles
			cov.Files, cov.BadFiles = r.Files, len(r.BadFiles)
			if len(r.BadFiles) > 0 {
				cov.Note = fmt.Sprintf("%d of %d files unreadable", len(r.BadFiles), r.Files)
			}
		}
		switch r.Status {
		case trail.StateOK:
			cov.Status = report.CoverageOK
			if len(r.BadFiles) > 0 {
				cov.Status = report.CoveragePartial
			}
		case trail.StatePartial:
			cov.Status = report.CoveragePartial
		case trail.StateNotEnabled:
			cov.Status = report.CoverageNotEnabled
		default:
			cov.Status = report.CoverageFailed
		}
		if cov.Source == report.SourceLookupEvents && r.Status != trail.StateNotEnabled && r.Region != trail.Interrupted {
			// Which keys each region was searched for, in the note every
			// writer shows.
			keys := "searched for no key"
			if len(r.Keys) > 0 {
				keys = fmt.Sprintf("searched for %d of %d keys: %s", len(r.Keys), len(inv.Keys), strings.Join(r.Keys, ", "))
			}
			cov.Note = joinNote(cov.Note, keys)
		}
		m.Coverage = append(m.Coverage, cov)
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// stepNames maps playbook step IDs to the report's step vocabulary.
var stepNames = map[string]string{
	playbook.StepRevokeSessions:      "revoke",
	playbook.StepRevokeRoleSessions:  "revoke",
	playbook.StepDeactivateOtherKeys: "contain",
	playbook.StepRemovePassword:      "contain",
	playbook.StepContainMinted:       "contain",
	playbook.StepRemoveMintedLogins:  "contain",
	playbook.StepRevertMinted:        "contain",
	playbook.StepDeleteKey:           "eradicate",
	playbook.StepScope:               "identify",
	playbook.StepPreflight:           "identify",
}

// actions turns the journal into the report's list of what was done: every
// planned call's outcome, reconciliations, dry-run plans, declined steps,
// undos, and notes. Read calls of identify are left out: they change
// nothing. It also fills the case's containment and revocation times.
func actions(entries []playbook.Entry, c *report.Case) []report.Action {
	var out []report.Action
	for _, e := range entries {
		step := e.Step
		if n, ok := stepNames[step]; ok {
			step = n
		}
		a := report.Action{Seq: int(e.Seq), Time: e.Time.UTC(), Step: step, Action: e.Action, Actor: e.Caller, Detail: e.Description}
		switch e.Kind {
		case playbook.KindOutcome:
			if e.ActionID == "" {
				continue
			}
			a.Target = target(e.ActionID)
			a.Result = report.ResultOK
			if e.Error != nil {
				a.Result = report.ResultFailed
				a.Error = e.Error.Message
			} else {
				noteMilestone(e, c)
			}
		case playbook.KindReconciled:
			a.Target, a.Result, a.Detail = target(e.ActionID), report.ResultOK, e.Message
			noteMilestone(e, c)
		case playbook.KindPlan:
			a.Result, a.Detail = report.ResultDryRun, e.Message
		case playbook.KindDecision:
			if !strings.HasPrefix(e.Message, "declined") && !strings.Contains(e.Message, "declined") {
				continue
			}
			a.Result, a.Detail = report.ResultSkipped, e.Message
		case playbook.KindUndone:
			a.Target, a.Result, a.Detail = target(e.ActionID), report.ResultUndone, e.Message
		case playbook.KindNote:
			if e.Step == "" || strings.HasPrefix(e.Message, "run ") {
				continue
			}
			a.Action, a.Result, a.Detail = e.Step, report.ResultOK, e.Message
			if e.Step == "investigate" {
				var keys int
				if n, _ := fmt.Sscanf(e.Message, "investigation: %d events (%d new) of %d keys", &a.Count, &a.New, &keys); n < 2 {
					a.Count, a.New = 0, 0
				}
			}
		default:
			continue
		}
		if a.Action == "" {
			a.Action = e.Step
		}
		out = append(out, a)
	}
	return out
}

// target is the object of a planned action: its ID is step/API/target.
func target(actionID string) string {
	parts := strings.SplitN(actionID, "/", 3)
	if len(parts) == 3 {
		return parts[2]
	}
	return actionID
}

// noteMilestone records when the key was deactivated and sessions revoked,
// the first time the journal shows each done.
func noteMilestone(e playbook.Entry, c *report.Case) {
	switch {
	case e.Step == playbook.StepContain && e.Action == "iam:UpdateAccessKey" && strings.HasSuffix(e.ActionID, "/"+c.KeyID):
		if c.ContainedAt.IsZero() {
			c.ContainedAt = e.Time.UTC()
		}
	case e.Step == playbook.StepRevokeSessions && e.Action == "iam:PutUserPolicy":
		if c.RevokedAt.IsZero() {
			c.RevokedAt = e.Time.UTC()
		}
	case e.Step == playbook.StepDeleteKey && e.Action == "iam:DeleteAccessKey" && strings.HasSuffix(e.ActionID, "/"+c.KeyID):
		if c.DeletedAt.IsZero() {
			c.DeletedAt = e.Time.UTC()
		}
	}
}

// standingAdvice are the audit's recommendations that hold for every
// account (keychains, git-secrets); the report makes them on its own.
var standingAdvice = map[string]bool{"keychain": true, "git-secrets": true}

// removalOf names the call that removes a resource, for the report's
// removal column: its kind's RemovedBy, "" for kinds keyleak leaves to the
// responder.
func removalOf(typ string) string {
	k, _ := resource.Lookup(typ)
	return k.RemovedBy
}

// applyFindings fills the leak, resources, threat-actor indicators and
// GuardDuty from findings.json
// and returns the judged events by ID (findings hold the attacker and
// unclear ones; the rest were judged legitimate).
func applyFindings(m *report.Model, f *assess.Findings, entries []playbook.Entry) map[string]assess.EventResult {
	c := &m.Case
	if !f.Leak.Time.IsZero() {
		c.LeakedAt, c.LeakedAtInferred, c.LeakedAtReason = f.Leak.Time, f.Leak.Inferred, f.Leak.Reason
	}
	for _, cl := range f.Leak.Clues {
		c.LeakClues = append(c.LeakClues, report.LeakClue{Kind: cl.Kind, Time: cl.Time.UTC(), EventName: cl.EventName,
			SourceIP: cl.SourceIP, UserAgent: cl.UserAgent, Rule: cl.Rule, Policy: cl.Policy, User: cl.User})
	}
	if !f.Leak.DetectedAt.IsZero() {
		c.DetectedAt, c.DetectedBy = f.Leak.DetectedAt, f.Leak.DetectedBy
		c.QuarantinePolicy, c.QuarantinedUser = f.Leak.QuarantinePolicy, f.Leak.QuarantinedUser
	}
	m.ResourcesReadAt = f.ResourcesCheckedAt.UTC()
	// A resource the journal shows removed by eradicate is "removed", not
	// merely gone.
	removedAt := map[string]time.Time{}
	for _, e := range entries {
		if e.Kind == playbook.KindOutcome && e.Step == playbook.StepEradicate && e.Error == nil && e.ActionID != "" {
			removedAt[e.ActionID] = e.Time.UTC()
		}
	}
	for _, r := range f.Resources {
		rr := report.Resource{Type: r.Type, ID: r.ID, Region: r.Region, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy,
			CreatedByEvent: r.EventID, Removal: removalOf(r.Type), Verdict: report.Verdict(r.Verdict)}
		switch r.State {
		case "present":
			rr.State, rr.Status = report.StatePresent, r.StateReason
		case "gone":
			rr.State = report.StateGone
			rr.Status, rr.GoneWith = goneDetail(r)
			// An ingress rule goes with its group when keyleak deletes that.
			ids := []string{r.ID}
			if g := r.Details["groupId"]; g != "" && r.Type == resource.TypeIngressRule {
				ids = append(ids, g)
			}
			for id, at := range removedAt {
				for _, want := range ids {
					// The last call about it is the one that removed it.
					if (strings.HasSuffix(id, "/"+want) || strings.Contains(id, "/"+want+"/")) && at.After(rr.RemovedAt) {
						rr.State, rr.RemovedAt = report.StateRemoved, at
					}
				}
			}
		default:
			rr.State, rr.Note = report.StateUnknown, r.StateReason
		}
		if rr.State == report.StateRemoved {
			rr.Status, rr.GoneWith = "", ""
		}
		m.Resources = append(m.Resources, rr)
	}
	for _, a := range f.Actors {
		m.Actors = append(m.Actors, report.ActorMatch{Actor: a.Actor.Name, Type: a.Actor.Type, Aliases: a.Actor.Aliases,
			Indicator: a.Actor.Indicator, Kind: a.Actor.Kind, Explanation: a.Explaining, Reported: a.Actor.Reported,
			References: a.Actor.References, Events: a.Events, Attacker: a.Attacker, First: a.First, Last: a.Last,
			EventIDs: a.EventIDs})
	}
	if f.GuardDuty != nil {
		m.GuardDuty.Checked = true
		for _, g := range f.GuardDuty.Regions {
			switch {
			case g.Error != "":
			case g.DetectorID != "":
				m.GuardDuty.EnabledRegions = append(m.GuardDuty.EnabledRegions, g.Region)
			default:
				m.GuardDuty.DisabledRegions = append(m.GuardDuty.DisabledRegions, g.Region)
			}
		}
		for _, g := range f.GuardDuty.Findings {
			m.Findings = append(m.Findings, report.Finding{ID: g.ID, Region: g.Region, Type: g.Type, Title: g.Title,
				Severity: g.Severity, Resource: g.AccessKeyID, FirstSeen: g.FirstSeen, LastSeen: g.LastSeen, Count: g.Count})
		}
	}
	judged := make(map[string]assess.EventResult, len(f.Events))
	for _, e := range f.Events {
		judged[e.EventID] = e
	}
	return judged
}

// goneDetail reads why a resource is gone from the kind's check: an
// instance's own status (terminated), or the resource it went with (an
// access key with its user, a rule with its group). A not-found error
// code says only that it is gone, which the state says already.
func goneDetail(r assess.Resource) (status, with string) {
	reason := r.StateReason
	switch {
	case strings.HasPrefix(reason, "its user ") && strings.HasSuffix(reason, " is gone"):
		return "", resource.TypeUser + " " + strings.TrimSuffix(strings.TrimPrefix(reason, "its user "), " is gone")
	case strings.HasPrefix(reason, "its security group ") && strings.HasSuffix(reason, " is gone"):
		return "", "AWS::EC2::SecurityGroup " + strings.TrimSuffix(strings.TrimPrefix(reason, "its security group "), " is gone")
	case reason == "terminated" || reason == "shutting-down":
		return reason, ""
	}
	return "", ""
}

// indexEntry locates one record of events.jsonl: when it happened and
// where its line is. 24 bytes an event, so a million-event case indexes in
// about 24 MB while the records stay on disk.
type indexEntry struct {
	unixNano int64
	off      int64
	n        int64
}

// loadEvents returns the case's events oldest first, with their verdicts.
// It reads events.jsonl once to index it by time, then every iteration
// reads the records back from the file in that order, so memory does not
// grow with the number of events. Lines that do not parse (a torn last line
// after a crash) are left out.
//
// judged holds the events the findings list (attacker and unclear ones);
// judgedSet names every event the assessment judged. Only when it is
// exactly the file's events is an event outside judged legitimate; else
// such an event is unjudged: a run fetched it and stopped before judging
// it, and an event no one judged is never called legitimate.
func loadEvents(path string, judged map[string]assess.EventResult, judgedSet *trail.EventSet) (iter.Seq[report.Event], error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return func(func(report.Event) bool) {}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer f.Close()
	var index []indexEntry
	var inFile trail.EventSetBuilder
	br := bufio.NewReaderSize(f, 256<<10)
	var off int64
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if e, perr := trail.ParseRecord(bytes.TrimSpace(line)); perr == nil && line[len(line)-1] == '\n' {
				index = append(index, indexEntry{unixNano: e.EventTime.UnixNano(), off: off, n: int64(len(line))})
				inFile.Add(&e)
			}
			off += int64(len(line))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
	}
	slices.SortStableFunc(index, func(a, b indexEntry) int { return cmp.Compare(a.unixNano, b.unixNano) })
	complete := judgedSet != nil && *judgedSet == inFile.Set()
	return func(yield func(report.Event) bool) {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		var buf []byte
		for _, ix := range index {
			if int64(cap(buf)) < ix.n {
				buf = make([]byte, ix.n)
			}
			b := buf[:ix.n]
			if _, err := f.ReadAt(b, ix.off); err != nil {
				return
			}
			e, err := trail.ParseRecord(bytes.TrimSpace(b))
			if err != nil {
				continue
			}
			if !yield(judgedRow(&e, judged, complete)) {
				return
			}
		}
	}, nil
}

// judgedRow is an event's row with its verdict: from the findings when it
// is there; legitimate when the findings judged every event of the case
// (they keep only attacker and unclear events); else unjudged.
func judgedRow(e *trail.Event, judged map[string]assess.EventResult, complete bool) report.Event {
	row := eventRow(e)
	if j, ok := judged[e.EventID]; ok {
		row.Verdict, row.Severity = report.Verdict(j.Verdict), report.Severity(j.Severity)
		row.Tactic, row.Category, row.Technique = j.Tactic, j.Category, j.Technique
		row.Reason = strings.Join(j.Reasons, "; ")
		if len(j.Flags) > 0 {
			row.RuleID = j.Flags[0]
		}
	} else if complete {
		row.Verdict = report.VerdictLegitimate
	} else {
		row.Verdict = report.VerdictUnjudged
		row.Reason = "not judged: fetched by a run that stopped before the assessment"
	}
	return row
}

// eventRow is one event as the report shows it, before assessment.
func eventRow(e *trail.Event) report.Event {
	r := report.Event{
		EventID: e.EventID, Time: e.EventTime.UTC(), Region: e.Region, Source: e.EventSource, Name: e.EventName,
		AccessKeyID: e.UserIdentity.AccessKeyID, UserName: e.UserName(), UserARN: e.UserIdentity.ARN,
		SourceIP: e.SourceIPAddress, UserAgent: e.UserAgent, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage,
		ReadOnly: e.ReadOnly, Raw: e.Raw,
	}
	for _, res := range e.Resources {
		r.Resources = append(r.Resources, report.ResourceRef{Type: res.Type, Name: res.ARN})
	}
	return r
}
