package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/caseview"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
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
	// LeakedAt, when given, leaves alone what the key minted before it.
	LeakedAt string
	// LookupRate paces CloudTrail LookupEvents per region while looking
	// for what the key minted (AWS allows 2 a second).
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
			if err := playbook.ValidateKeyID(o.Key); err != nil {
				return &UsageError{Err: err}
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
	fl.BoolVar(&o.Org, "org", false, "work across the key's AWS organization: contain in the key's account, revoke its role sessions in every account they reach")
	fl.StringVar(&o.RoleName, "role-name", defaultOrgRole, "with --org: the role assumed in accounts other than yours")
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
	creds, err := clients.Config().Credentials.Retrieve(ctx)
	if err != nil {
		return &AuthError{Err: fmt.Errorf("load AWS credentials: %w", err)}
	}
	c, err := openCase(o.CaseDir, o.Parent, o.Key, f.Now())
	if err != nil {
		return err
	}
	defer c.Close()

	opts := []playbook.Option{
		playbook.WithResponderKeyID(creds.AccessKeyID),
		playbook.WithDryRun(o.DryRun),
		playbook.WithForce(o.Force),
		playbook.WithClock(f.Now),
		playbook.WithLeakedAt(leakedAt),
	}

	if o.Yes {
		opts = append(opts, playbook.WithConfirm(func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil }))
	} else if f.IO.StdinTTY {
		opts = append(opts, playbook.WithConfirm(terminalConfirm(f.IO)))
	}
	if o.Output == outputText {
		opts = append(opts, playbook.WithProgress(func(p playbook.Progress) { printProgress(f.IO.ErrOut, p) }))
	}
	// The key's own account is searched for what it minted; the org's
	// other accounts get their role sessions revoked below.
	r := playbook.NewRunner(c, clients.IAM(), clients.STS(""), append(slices.Clone(opts), playbook.WithTrail(playbook.TrailClients{
		Regions:    clients.EC2("us-east-1"),
		CloudTrail: func(region string) cloudtrail.LookupEventsAPIClient { return clients.CloudTrail(region) },
		Options:    []trail.Option{trail.WithLimiterRate(rate.Limit(o.LookupRate), 1)},
	}))...)
	sum, runErr := r.Run(ctx, o.steps()...)
	if sum != nil && !sum.DryRun {
		if err := saveSummary(c, sum); err != nil {
			return err
		}
	}
	if !o.Org {
		if sum != nil {
			if err := printContainSummary(f.IO.Out, o.Output, sum); err != nil {
				return err
			}
		}
		return playbookError(runErr)
	}
	var sessions []*playbook.Summary
	orgErr := runErr
	if runErr == nil {
		sessions, orgErr = containOrgSessions(ctx, f, o, access, keyAccount, clients, func(i playbook.IAM, s playbook.STS) *playbook.Runner {
			return playbook.NewRunner(c, i, s, opts...)
		})
	}
	if sum != nil {
		if err := printOrgContain(f.IO.Out, o.Output, sum, sessions); err != nil {
			return err
		}
	}
	if orgErr != nil && runErr == nil {
		var pe *PartialError
		if errors.As(orgErr, &pe) {
			return orgErr
		}
		return &PartialError{Err: orgErr}
	}
	return playbookError(runErr)
}

// containOrgSessions sweeps the key's trail across the organization for the
// role sessions it made and revokes them in each role's account.
func containOrgSessions(ctx context.Context, f *Factory, o *containOptions, access *orgAccess, keyAccount string,
	clients *awsapi.Clients, newRunner func(playbook.IAM, playbook.STS) *playbook.Runner) ([]*playbook.Summary, error) {
	if o.Output == outputText {
		fmt.Fprintf(f.IO.ErrOut, "» Looking for role sessions of %s across the organization\n", o.Key)
	}
	inv, err := trail.NewOrgSweep(keyAccount, access.opener(nil), nil).Run(ctx, o.Key)
	if inv == nil {
		return nil, err
	}
	sums, revokeErr := orgRevoke(ctx, access, clients, inv, newRunner)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	if s := inv.Coverage.Summary(); s != "" {
		problems = append(problems, "role sessions may be missed: "+s)
	}
	if revokeErr != nil {
		problems = append(problems, revokeErr.Error())
	}
	if len(problems) > 0 {
		return sums, &PartialError{Err: errors.New(strings.Join(problems, "; "))}
	}
	return sums, nil
}

// printOrgContain writes the contain summary and those of the role sessions
// revoked in other accounts.
func printOrgContain(w io.Writer, format outputFormat, sum *playbook.Summary, sessions []*playbook.Summary) error {
	if format == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		out := struct {
			Contain      *playbook.Summary   `json:"contain"`
			RoleSessions []*playbook.Summary `json:"roleSessions"`
		}{sum, sessions}
		if out.RoleSessions == nil {
			out.RoleSessions = []*playbook.Summary{}
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
			if st.ID != playbook.StepRevokeRoleSessions {
				continue
			}
			fmt.Fprintf(&b, "%-24s %s\n", st.ID, st.Status)
			for _, a := range st.Actions {
				fmt.Fprintf(&b, "  %-13s %s\n", a.Status, a.Description)
			}
			if st.Error != "" {
				fmt.Fprintf(&b, "  %s\n", st.Error)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// saveSummary keeps the run's summary in the case for the report.
func saveSummary(c *playbook.Case, sum *playbook.Summary) error {
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("save contain summary: %w", err)
	}
	if err := c.WriteFile(caseview.ContainFile, b); err != nil {
		return fmt.Errorf("save contain summary: %w", err)
	}
	return nil
}

// openCase opens the case the flags name, or the key's newest one under
// parent, or makes a new one.
func openCase(dir, parent, key string, now time.Time) (*playbook.Case, error) {
	if dir != "" {
		c, err := playbook.OpenCase(dir)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("open case: %w", err)}
		}
		if c.Meta().KeyID != key {
			c.Close()
			return nil, usageErrorf("case %s is for key %s, not %s", dir, c.Meta().KeyID, key)
		}
		return c, nil
	}
	c, _, err := playbook.OpenOrCreateCase(parent, key, now)
	if err != nil {
		return nil, fmt.Errorf("open case: %w", err)
	}
	return c, nil
}

// playbookError maps the playbook's typed errors onto the exit-code table.
func playbookError(err error) error {
	if err == nil {
		return nil
	}
	var partial *playbook.PartialError
	var denied *playbook.AccessDeniedError
	var creds *playbook.CredentialsError
	switch {
	case errors.Is(err, playbook.ErrInvalidKeyID):
		return &UsageError{Err: err}
	case errors.As(err, &partial):
		return &PartialError{Err: err}
	case errors.As(err, &denied), errors.As(err, &creds):
		return &AuthError{Err: err}
	}
	return err
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
		fmt.Fprintf(&b, " (%s)", sum.KeyStatus)
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
	if !sum.RevokedBefore.IsZero() {
		fmt.Fprintf(&b, "Sessions   issued before %s are denied\n", sum.RevokedBefore.UTC().Format(time.RFC3339))
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
