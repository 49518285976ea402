package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"golang.org/x/time/rate"
)

// containOptions are the flags of `keyleak contain`; only what the command uses.
type containOptions struct {
	Key                   string
	Yes                   bool
	DryRun                bool
	Force                 bool
	Delete                bool
	DeactivateOtherKeys   bool
	RemoveConsolePassword bool
	Preflight             bool
	CaseDir               string
	Parent                string
	Output                outputFormat
	// Org contains the key from its own account (assuming RoleName there
	// when it is not the responder's) and revokes the role sessions it made
	// in other accounts of the organization.
	Org      bool
	RoleName string
	// LeakedAt bounds what the key minted that contain stops (--leaked-at).
	LeakedAt string
	// LookupRate paces the search for what the key minted (hidden; AWS
	// allows 2 a second).
	LookupRate float64
}

func newCmdContain(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdContainWith(f, g, nil)
}

func newCmdContainWith(f *Factory, g *globalFlags, runF func(context.Context, *containOptions) error) *cobra.Command {
	o := &containOptions{}
	cmd := &cobra.Command{
		Use:   "contain --key AKIA…",
		Short: "Deactivate a leaked key and revoke the sessions made from it",
		Long: `Deactivate a leaked access key and revoke every session issued from it:

  1. identify  whose key it is, its status and last use, what it may do, who you are
  2. contain   iam UpdateAccessKey --status Inactive (never deleted by default:
               an inactive key can be reactivated if something legitimate breaks)
  3. revoke    an inline policy denying every session token issued before now
  4. minted    what the key and its sessions made, found in CloudTrail (IAM and
               global STS in us-east-1, regional STS everywhere) and stopped
               as it is found: keys deactivated, users it created denied
               everything, role sessions revoked, console passwords removed

Every AWS call is journaled in the case directory first. Running the command
again on the same case resumes and never does anything twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return containRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Key, "key", "", "the leaked access key ID (AKIA…)")
	fl.BoolVarP(&o.Yes, "yes", "y", false, "do not ask for confirmation")
	fl.BoolVar(&o.DryRun, "dry-run", false, "print the exact calls that would be made and change nothing")
	fl.BoolVar(&o.Force, "force", false, "act even where keyleak would otherwise refuse to lock you out (never with the leaked key itself)")
	fl.BoolVar(&o.Delete, "delete", false, "also delete the key, after it is deactivated (asks separately; prefer to delete later)")
	fl.BoolVar(&o.DeactivateOtherKeys, "deactivate-other-keys", false, "also deactivate the owner's other active keys")
	fl.BoolVar(&o.RemoveConsolePassword, "remove-console-password", false, "also remove the owner's console password (recorded first)")
	fl.BoolVar(&o.Preflight, "preflight", false, "check the permissions keyleak needs before changing anything (iam SimulatePrincipalPolicy)")
	fl.StringVar(&o.CaseDir, "case", "", "case directory to resume (default: the newest case of the key under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where new case directories are made")
	fl.BoolVar(&o.Org, "org", false, "work across the key's AWS organization: contain in the key's account; in every account its role sessions reach, revoke them and stop what they minted (keys, users, passwords, trust and MFA changes)")
	fl.StringVar(&o.RoleName, "role-name", respond.DefaultOrgRole, "with --org: the role assumed in accounts other than yours")
	fl.StringVar(&o.LeakedAt, "leaked-at", "", "when the key leaked (RFC 3339 or duration ago): what it minted before is listed and left alone (default: everything it minted)")
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "LookupEvents requests per second per region (AWS allows 2)")
	_ = fl.MarkHidden("lookup-rate")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// steps lists the playbook steps the flags ask for.
func (o *containOptions) steps() []string {
	var ids []string
	if o.Preflight {
		ids = append(ids, playbook.StepPreflight)
	}
	ids = append(ids, playbook.DefaultSteps()...)
	if o.DeactivateOtherKeys {
		ids = append(ids, playbook.StepDeactivateOtherKeys)
	}
	if o.RemoveConsolePassword {
		ids = append(ids, playbook.StepRemovePassword)
	}
	if o.Delete {
		ids = append(ids, playbook.StepDeleteKey)
	}
	return ids
}

func containRun(ctx context.Context, f *Factory, o *containOptions) error {
	if !o.Yes && !o.DryRun && !f.IO.StdinTTY {
		return usageErrorf("contain changes your AWS account and there is no terminal to confirm on: run it with --yes, or with --dry-run to see the plan")
	}
	var leakedAt time.Time
	if o.LeakedAt != "" {
		var err error
		if leakedAt, err = parseWhen(o.LeakedAt, f.Now()); err != nil {
			return usageErrorf("--leaked-at: %w", err)
		}
	}
	if o.LookupRate <= 0 {
		return usageErrorf("--lookup-rate must be more than 0")
	}
	e := f.Engine()
	// AWS first: a missing configuration leaves no case directory behind.
	if _, err := e.Clients(ctx); err != nil {
		return err
	}
	c, err := e.OpenCase(casefile.Ref{Dir: o.CaseDir, Parent: o.Parent, Key: o.Key})
	if err != nil {
		return err
	}
	defer c.Close()
	var h respond.Hooks
	if o.Yes {
		h.Confirm = func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }
	} else if f.IO.StdinTTY {
		h.Confirm = terminalConfirm(f.IO)
	}
	if o.Output == outputText && !o.DryRun {
		// A dry run's plan is the summary itself: printing it as progress
		// too would show it twice.
		h.Progress = func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }
	}
	h.Note = func(s string) { fmt.Fprintf(f.IO.ErrOut, "» %s\n", s) }
	res, runErr := e.Contain(ctx, c, respond.ContainRequest{
		Steps: o.steps(), DryRun: o.DryRun, Force: o.Force, Org: o.Org, RoleName: o.RoleName,
		LeakedAt: leakedAt, LookupRate: rate.Limit(o.LookupRate), Options: f.retryOptions(),
	}, h)
	if res != nil {
		var err error
		if o.Org {
			err = printOrgContain(f.IO.Out, o.Output, res)
		} else {
			err = printContainSummary(f.IO.Out, o.Output, res.Summary)
		}
		if err != nil {
			return err
		}
		if o.Output == outputText {
			switch {
			case o.DryRun:
				fmt.Fprintln(f.IO.Out, "Next: run it again without --dry-run to make these calls (with --yes where there is no terminal).")
			case runErr == nil:
				fmt.Fprintf(f.IO.Out, "Next: keyleak investigate --key %s --case %s\n", o.Key, res.Case)
			}
		}
	}
	return runErr
}

// printOrgContain writes the contain summary, those of the role sessions
// revoked in other accounts, and what was stopped of the credentials minted
// in each other account.
func printOrgContain(w io.Writer, format outputFormat, res *respond.ContainResult) error {
	sum, sessions := res.Summary, res.RoleSessions
	if format == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		out := struct {
			Contain      *playbook.Summary   `json:"contain"`
			RoleSessions []*playbook.Summary `json:"roleSessions"`
			Accounts     []*playbook.Summary `json:"accounts"`
		}{sum, sessions, res.Accounts}
		if out.RoleSessions == nil {
			out.RoleSessions = []*playbook.Summary{}
		}
		if out.Accounts == nil {
			out.Accounts = []*playbook.Summary{}
		}
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
		return nil
	}
	var b strings.Builder
	b.WriteString(renderContainText(sum))
	for _, s := range sessions {
		b.WriteString("\nRole sessions in other accounts:\n")
		for _, st := range s.Steps {
			if st.ID == playbook.StepRevokeRoleSessions {
				writeStepResult(&b, st)
			}
		}
	}
	for _, a := range res.Accounts {
		fmt.Fprintf(&b, "\nWhat the key's sessions minted in account %s:\n", a.Account)
		for _, st := range a.Steps {
			writeStepResult(&b, st)
		}
		for _, warn := range a.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", warn)
		}
		if creds := renderAttackerCredentials(a); creds != "" {
			b.WriteString(creds)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeStepResult writes a step's status, its actions and its error.
func writeStepResult(b *strings.Builder, st playbook.StepResult) {
	fmt.Fprintf(b, "%-24s %s\n", st.ID, st.Status)
	for _, a := range st.Actions {
		fmt.Fprintf(b, "  %-13s %s\n", a.Status, a.Description)
	}
	if st.Error != "" {
		fmt.Fprintf(b, "  %s\n", st.Error)
	}
}

// terminalConfirm asks on the terminal before each step that changes AWS,
// showing the exact calls. Only "y" or "yes" goes ahead.
func terminalConfirm(io *IOStreams) playbook.ConfirmFunc {
	in := bufio.NewReader(io.In)
	return func(ctx context.Context, s playbook.Step, actions []playbook.Action) (bool, error) {
		fmt.Fprintf(io.ErrOut, "\n%s — %s\n", s.Title, s.Why)
		for _, a := range actions {
			fmt.Fprintf(io.ErrOut, "  %s\n", a.Description)
		}
		fmt.Fprint(io.ErrOut, "Go ahead? [y/N] ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return false, fmt.Errorf("read confirmation: %w", err)
		}
		answer := strings.ToLower(strings.TrimSpace(line))
		return answer == "y" || answer == "yes", ctx.Err()
	}
}

func printProgress(w io.Writer, p playbook.Progress) {
	switch {
	case p.ActionID != "" && p.Status != playbook.StatusRunning:
		fmt.Fprintf(w, "  %-13s %s\n", p.Status, p.Description)
	case p.ActionID == "" && p.Status == playbook.StatusRunning:
		fmt.Fprintf(w, "» %s\n", p.Message)
	case p.ActionID == "" && (p.Status == playbook.StatusFailed || p.Status == playbook.StatusDeclined || p.Status == playbook.StatusSkipped):
		fmt.Fprintf(w, "  %s: %s\n", p.Status, p.Message)
	}
}

func printContainSummary(w io.Writer, format outputFormat, sum *playbook.Summary) error {
	return printResult(w, format, sum, func() string { return renderContainText(sum) })
}

// renderContainText is the text summary of a contain run.
func renderContainText(sum *playbook.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key        %s", sum.KeyID)
	if sum.KeyStatus != "" {
		fmt.Fprintf(&b, " (%s in IAM at %s)", sum.KeyStatus, sum.ReadAt.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if sum.Account != "" {
		fmt.Fprintf(&b, "Account    %s\n", sum.Account)
	}
	if sum.Owner != "" {
		fmt.Fprintf(&b, "Owner      %s\n", sum.Owner)
	}
	if sum.Access != nil {
		fmt.Fprintf(&b, "May do     %s\n", sum.Access.Summary)
	}
	if len(sum.Quarantine) > 0 {
		fmt.Fprintf(&b, "Quarantine %s attached: AWS has detected the leak\n", strings.Join(sum.Quarantine, ", "))
	}
	if sum.Responder != "" {
		fmt.Fprintf(&b, "Responder  %s\n", sum.Responder)
	}
	if !sum.FoundActiveAgain.IsZero() {
		fmt.Fprintf(&b, "Found      the key Active again at %s, although this case had deactivated it\n", sum.FoundActiveAgain.UTC().Format(time.RFC3339))
	}
	switch {
	case !sum.RevokedBefore.IsZero():
		fmt.Fprintf(&b, "Sessions   issued before %s are denied\n", sum.RevokedBefore.UTC().Format(time.RFC3339))
	case !sum.RootKey && !sum.DryRun && sum.KeyStatus != playbook.KeyStatusUnknown:
		b.WriteString("Sessions   NOT revoked: no revoke policy on the user\n")
	}
	b.WriteString("\n")
	for _, s := range sum.Steps {
		fmt.Fprintf(&b, "%-24s %s\n", s.ID, s.Status)
		for _, a := range s.Actions {
			t := ""
			if !a.Time.IsZero() {
				t = " at " + a.Time.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(&b, "  %-13s %s%s\n", a.Status, a.Description, t)
			if a.Found != "" {
				fmt.Fprintf(&b, "                %s\n", a.Found)
			}
			if a.Error != "" {
				fmt.Fprintf(&b, "                %s\n", a.Error)
			}
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "  %s\n", s.Error)
		}
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if creds := renderAttackerCredentials(sum); creds != "" {
		b.WriteString("\n" + creds)
	}
	switch {
	case sum.DryRun:
		b.WriteString("\nDry run: nothing was changed.\n")
	case alreadyContained(sum):
		b.WriteString("\nAlready contained: nothing was changed.\n")
	}
	if sum.Case != "" {
		fmt.Fprintf(&b, "Case       %s\n", sum.Case)
	}
	return b.String()
}

// alreadyContained reports whether a run found the key contained and
// changed nothing.
func alreadyContained(sum *playbook.Summary) bool {
	changed, contain := false, false
	for _, s := range sum.Steps {
		if s.ID == playbook.StepContain && (s.Status == playbook.StatusAlreadyDone || s.Status == playbook.StatusNothingToDo || s.Status == playbook.StatusReconciled) {
			contain = true
		}
		for _, a := range s.Actions {
			if a.Status == playbook.StatusDone {
				changed = true
			}
		}
	}
	return contain && !changed
}

// Interfaces the SDK clients must satisfy; checked at compile time so a
// change of the playbook's seams shows here first.
var (
	_ playbook.IAM = (*iam.Client)(nil)
	_ playbook.STS = (*sts.Client)(nil)
)
