package respond

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trigger"
)

// DefaultBudget bounds the unattended investigation when the request
// gives no budget: long enough to sweep every region of an ordinary
// account at LookupEvents' 2 requests a second, short enough that a person
// reads the summary while the incident is young.
const DefaultBudget = 5 * time.Minute

// reportReserve is the time kept, before a deadline, for the reports and
// the summary after the investigation.
const reportReserve = 45 * time.Second

// RespondRequest is an unattended response to one key an event named.
type RespondRequest struct {
	// Trigger is the event; Key the one of its keys this response is for.
	Trigger *trigger.Trigger
	Key     string
	// Plan makes nothing change: containment is planned from live state
	// (a dry run), the rest described, and a case made for it removed.
	Plan bool
	// Budget bounds the investigation (default DefaultBudget).
	Budget time.Duration
	// Deadline, when set, is when the whole response must be over (a
	// Lambda invocation's): the investigation gets what is left of it
	// after containment, less the time the reports need, and at most
	// Budget.
	Deadline time.Time
	// LookupRate paces LookupEvents per region (default 2, AWS's quota);
	// Options are extra collector options.
	LookupRate rate.Limit
	Options    []trail.Option
}

// RespondResult is what an unattended response did and what it leaves for
// a person, as AWS showed it at the end.
type RespondResult struct {
	Trigger *trigger.Trigger `json:"trigger"`
	Key     string           `json:"key"`
	Case    string           `json:"case"`
	Plan    bool             `json:"plan,omitempty"`
	// Contain is the containment's summary (a plan with Plan).
	Contain *playbook.Summary `json:"contain,omitempty"`
	// Budget is the time the investigation was given; Investigated how
	// long it ran; Complete whether it searched everything it meant to.
	Budget       time.Duration `json:"budgetNs"`
	Investigated time.Duration `json:"investigatedNs"`
	Complete     bool          `json:"complete"`
	// Investigation is the assessment's stable form; nil when none ran.
	Investigation *assess.Result `json:"investigation,omitempty"`
	// Reports are the report files written into the case.
	Reports []string `json:"reports,omitempty"`
	// Left is what a person must still do, each one sentence.
	Left []string `json:"leftForAPerson"`
	// Problems are what failed on the way, each one sentence.
	Problems []string `json:"problems,omitempty"`
}

// checkTrigger refuses, before anything is written or changed, an event
// that is about another account than the one the engine's credentials
// sign in to.
func (e *Engine) checkTrigger(ctx context.Context, t *trigger.Trigger) error {
	if t == nil || len(t.Keys) == 0 {
		return Usagef("the event names no access key")
	}
	if t.Account == "" {
		return nil
	}
	clients, err := e.Clients(ctx)
	if err != nil {
		return err
	}
	acct, err := callerAccount(ctx, clients)
	if err != nil {
		return err
	}
	if acct != t.Account {
		return Usagef("the event is about account %s, but these credentials sign in to account %s: nothing was done; respond with credentials of account %s",
			t.Account, acct, t.Account)
	}
	return nil
}

// Respond runs the unattended runbook for one key of an event: contain
// (the key, its sessions and every credential it minted, each change
// journaled), investigate with the default source within the budget,
// assess, and write the reports. Nothing is asked: the deployment of the
// responder is the confirmation, as `contain --yes` is. A key that is not
// in the account (deleted, or another account's) is a *UsageError and
// leaves no case behind when the case was new; with Plan, the case made for
// the plan is removed too. Re-running on the same case resumes: every step
// reads AWS first and does nothing twice.
func (e *Engine) Respond(ctx context.Context, ref casefile.Ref, req RespondRequest, h Hooks) (*RespondResult, error) {
	t := req.Trigger
	if t == nil {
		return nil, Usagef("no event to respond to")
	}
	if !slices.Contains(t.Keys, req.Key) {
		return nil, Usagef("the event does not name %s", req.Key)
	}
	if err := e.checkTrigger(ctx, t); err != nil {
		return nil, err
	}
	ref.Key = req.Key
	fresh := ref.Dir == "" || isEmptyOrMissing(ref.Dir)
	c, err := e.OpenCase(ref)
	if err != nil {
		return nil, err
	}
	fresh = fresh && journalEmpty(c)
	discard := func() {
		dir := c.Dir()
		c.Close()
		if fresh {
			_ = os.RemoveAll(dir)
		}
	}
	res := &RespondResult{Trigger: t, Key: req.Key, Case: c.Dir(), Plan: req.Plan}
	if !req.Plan {
		if err := casefile.SaveTrigger(c, t); err != nil {
			c.Close()
			return nil, err
		}
		msg := fmt.Sprintf("unattended response started by %s", t.DetectedBy())
		if t.ID != "" {
			msg += " " + t.ID
		}
		if t.ExposedURL != "" {
			msg += "; the key was found at " + t.ExposedURL
		}
		if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "respond", Message: msg}); err != nil {
			c.Close()
			return nil, fmt.Errorf("journal the event: %w", err)
		}
	}
	h.note("containing %s (%s)", req.Key, t.DetectedBy())
	yes := func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }
	ch := h
	ch.Confirm = yes
	contained, cErr := e.Contain(ctx, c, ContainRequest{DryRun: req.Plan, LookupRate: req.LookupRate, Options: req.Options}, ch)
	if contained != nil {
		res.Contain = contained.Summary
	}
	if cErr != nil && notInAccount(cErr) {
		discard()
		return nil, &UsageError{Err: cErr}
	}
	budget := req.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	if !req.Deadline.IsZero() {
		budget = min(budget, time.Until(req.Deadline)-reportReserve)
	}
	res.Budget = max(budget, 0)
	if req.Plan {
		discard()
		res.Case = ""
		if res.Contain != nil {
			res.Contain.Case = ""
		}
		res.Left = []string{fmt.Sprintf("without --plan: the changes above, then an investigation of every region for up to %s, the assessment and the reports", res.Budget.Round(time.Second))}
		return res, cErr
	}
	defer c.Close()
	if cErr != nil {
		res.Problems = append(res.Problems, cErr.Error())
	}
	if cErr != nil && contained == nil {
		// Nothing was read back: do not investigate on credentials that
		// failed, say what is left.
		res.Left = e.left(res, c, nil)
		return res, cErr
	}
	var inv *Investigation
	var iErr error
	if res.Budget <= 0 {
		res.Problems = append(res.Problems, "no time was left to investigate")
	} else {
		h.note("investigating %s in every region for up to %s", req.Key, res.Budget.Round(time.Second))
		start := time.Now()
		inv, iErr = e.Investigate(ctx, c, InvestigateRequest{Budget: res.Budget, LookupRate: req.LookupRate, Options: req.Options}, h)
		res.Investigated = time.Since(start)
		if iErr != nil {
			res.Problems = append(res.Problems, iErr.Error())
		}
		if inv != nil {
			r := inv.Result()
			res.Investigation = &r
			res.Complete = !inv.Trail.Coverage.Failed() && iErr == nil
		}
	}
	h.note("writing the reports")
	reports, rErr := e.Report(ctx, c, ReportRequest{TZ: time.UTC}, h)
	res.Reports = reports
	if rErr != nil {
		res.Problems = append(res.Problems, rErr.Error())
	}
	res.Left = e.left(res, c, inv)
	if _, err := c.Journal().Append(playbook.Entry{Kind: playbook.KindNote, Step: "respond",
		Message: "unattended response finished; left for a person: " + strings.Join(res.Left, " | ")}); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("journal the end: %v", err))
	}
	switch {
	case cErr != nil:
		return res, cErr
	case rErr != nil:
		return res, rErr
	case iErr != nil:
		return res, iErr
	}
	return res, nil
}

// left lists what the unattended response leaves for a person, from what
// AWS showed at the end of each step.
func (e *Engine) left(res *RespondResult, c *playbook.Case, inv *Investigation) []string {
	var out []string
	key := res.Key
	if s := res.Contain; s != nil {
		if s.KeyStatus != "Inactive" && s.KeyStatus != "Deleted" {
			out = append(out, fmt.Sprintf("the key is %s: run keyleak contain --key %s --case %s", orUnknown(s.KeyStatus), key, c.Dir()))
		}
		for _, cr := range s.Credentials {
			if cr.State == playbook.CredWorking || cr.State == playbook.CredUnknown {
				out = append(out, fmt.Sprintf("%s %s is %s: %s", cr.Kind, cr.ID, cr.State, cr.Note))
			}
		}
		if s.RootKey {
			out = append(out, "the key is the root user's: its sessions cannot be revoked by a policy; delete the key and enable MFA on the root user")
		}
	} else {
		out = append(out, fmt.Sprintf("containment did not finish: run keyleak contain --key %s --case %s", key, c.Dir()))
	}
	switch {
	case inv == nil:
		out = append(out, fmt.Sprintf("investigate: keyleak investigate --key %s --case %s", key, c.Dir()))
	case !res.Complete:
		what := "the search did not finish"
		if s := inv.Trail.Coverage.Summary(); s != "" {
			what = s
		}
		out = append(out, fmt.Sprintf("finish the investigation (%s): keyleak investigate --key %s --case %s", what, key, c.Dir()))
	}
	if inv != nil {
		present := 0
		for _, r := range inv.Assessment.Resources {
			if r.Verdict == assess.Attacker && r.State == assess.StatePresent {
				present++
			}
		}
		if present > 0 {
			out = append(out, fmt.Sprintf("remove what the attacker made (%d resources still exist; nothing is removed unattended): keyleak eradicate --key %s --case %s", present, key, c.Dir()))
		}
	}
	if repo := gitHubRepo(res.Trigger.ExposedURL); repo != "" {
		out = append(out, fmt.Sprintf("find every commit that holds the key, and whether it was pushed elsewhere: git clone %s leaked-repo && keyleak scan leaked-repo --key %s", repo, key))
	}
	out = append(out,
		"answer the AWS support case with "+ReportFile("md", "en"),
		fmt.Sprintf("give the legitimate workload a new key, then delete the old one: keyleak rotate --key %s", key))
	return out
}

// Text is the summary of an unattended response a person reads first (the
// notification, the command's output): what happened, as AWS showed it,
// and what is left.
func (r *RespondResult) Text() string {
	var b strings.Builder
	t := r.Trigger
	verb := "keyleak responded to"
	if r.Plan {
		verb = "keyleak plans its response to"
	}
	fmt.Fprintf(&b, "%s %s for access key %s", verb, t.DetectedBy(), r.Key)
	if t.Account != "" {
		fmt.Fprintf(&b, " in account %s", t.Account)
	}
	b.WriteString(".\n")
	if t.ExposedURL != "" {
		fmt.Fprintf(&b, "Found at: %s\n", t.ExposedURL)
	}
	if s := r.Contain; s != nil {
		if s.Owner != "" {
			fmt.Fprintf(&b, "Owner: %s\n", s.Owner)
		}
		if r.Plan {
			b.WriteString("Would do:\n")
			for _, st := range s.Steps {
				for _, a := range st.Actions {
					if a.Status == playbook.StatusPlanned {
						fmt.Fprintf(&b, "  %s\n", a.Description)
					}
				}
			}
		} else {
			fmt.Fprintf(&b, "Key: %s (read back from IAM at %s)\n", orUnknown(s.KeyStatus), s.ReadAt.UTC().Format(time.RFC3339))
			if !s.RevokedBefore.IsZero() {
				fmt.Fprintf(&b, "Sessions issued before %s: denied\n", s.RevokedBefore.UTC().Format(time.RFC3339))
			}
		}
		if len(s.Credentials) > 0 {
			b.WriteString("Attacker credentials:\n")
			for _, c := range s.Credentials {
				fmt.Fprintf(&b, "  %-16s %-24s %s\n", c.Kind, c.ID, c.State)
			}
		}
	}
	if inv := r.Investigation; inv != nil {
		fmt.Fprintf(&b, "Investigated for %s of a %s budget: %d events, %d by the attacker",
			r.Investigated.Round(100*time.Millisecond), r.Budget.Round(time.Second), len(inv.Events), inv.Counts.Attacker)
		if !r.Complete {
			b.WriteString(" (incomplete)")
		}
		b.WriteString("\n")
		for _, res := range inv.Resources {
			if res.Verdict == assess.Attacker {
				fmt.Fprintf(&b, "  made by the attacker: %s %s in %s, %s\n", res.Type, res.ID, res.Region, res.State)
			}
		}
	}
	if r.Case != "" {
		fmt.Fprintf(&b, "Case: %s\n", r.Case)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "Problem: %s\n", p)
	}
	if len(r.Left) > 0 {
		b.WriteString("Left for a person:\n")
		for _, l := range r.Left {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	return b.String()
}

// gitHubRepo returns the clone URL of the GitHub repository a URL points
// into (a file, a commit, an alert), or "" when it is not one.
func gitHubRepo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host != "github.com" {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return "https://github.com/" + parts[0] + "/" + strings.TrimSuffix(parts[1], ".git") + ".git"
}

// notInAccount reports whether containment failed because the key is not
// an access key of the account (deleted, another account's, temporary).
func notInAccount(err error) bool {
	var nf *playbook.NotFoundError
	var tmp *playbook.TemporaryKeyError
	return errors.As(err, &nf) || errors.As(err, &tmp)
}

func isEmptyOrMissing(dir string) bool {
	ents, err := os.ReadDir(dir)
	return err != nil || len(ents) == 0
}

func journalEmpty(c *playbook.Case) bool {
	entries, err := playbook.ReadJournal(c.Path(playbook.JournalFile))
	return err == nil && len(entries) == 0
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
