package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/audit"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/respond"
)

// auditOptions are the flags of `keyleak audit`.
type auditOptions struct {
	MaxAge    time.Duration
	MaxUnused time.Duration
	CaseDir   string
	Output    outputFormat
}

func newCmdAudit(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdAuditWith(f, g, nil)
}

func newCmdAuditWith(f *Factory, g *globalFlags, runF func(context.Context, *auditOptions) error) *cobra.Command {
	o := &auditOptions{}
	var maxAge, maxUnused string
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the account's access-key hygiene from the IAM credential report",
		Long: `Read the IAM credential report and list what makes the next leak likely or
costly: root access keys, administrators' long-term keys, console users with
keys and no MFA, users with two active keys, keys older than --max-age and
keys unused for --max-unused. Ages are measured when the report was made.

Needs iam:GenerateCredentialReport, iam:GetCredentialReport, iam:ListAccessKeys
and the policy reads (iam:List*Policies, iam:Get*Policy*, iam:ListGroupsForUser).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			var err error
			if o.MaxAge, err = parseDays(maxAge); err != nil {
				return usageErrorf("--max-age: %w", err)
			}
			if o.MaxUnused, err = parseDays(maxUnused); err != nil {
				return usageErrorf("--max-unused: %w", err)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return auditRun(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&maxAge, "max-age", "90d", "an active key older than this is old (e.g. 90d, 2160h)")
	cmd.Flags().StringVar(&maxUnused, "max-unused", "90d", "an active key unused for this long is unused")
	cmd.Flags().StringVar(&o.CaseDir, "case", "", "also keep the audit in this case directory, for its report's recommendations")
	return cmd
}

// parseDays reads "90d" or a Go duration; it must be positive.
func parseDays(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days like 90d", s)
		}
		d = time.Duration(v) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration like 90d or 720h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be more than zero", s)
	}
	return d, nil
}

func auditRun(ctx context.Context, f *Factory, o *auditOptions) error {
	clients, err := f.Clients(ctx)
	if err != nil {
		return err
	}
	r, err := audit.Run(ctx, clients.IAM(), audit.WithMaxAge(o.MaxAge), audit.WithMaxUnused(o.MaxUnused))
	if err != nil {
		return err
	}
	if o.CaseDir != "" {
		c, err := casefile.OpenExisting(o.CaseDir)
		if err != nil {
			return respond.Classify(err)
		}
		defer c.Close()
		if err := casefile.SaveAudit(c, r); err != nil {
			return err
		}
	}
	out := struct {
		*audit.Report
		Recommendations []audit.Recommendation `json:"recommendations"`
	}{r, audit.Recommendations(r)}
	return printResult(f.IO.Out, o.Output, out, func() string { return renderAudit(r) })
}

// renderAudit is the text table of an audit and its recommendations.
func renderAudit(r *audit.Report) string {
	var b strings.Builder
	keys := 0
	for _, u := range r.Users {
		keys += len(u.Keys)
	}
	fmt.Fprintf(&b, "Account %s: %d users, %d access keys; credential report of %s.\n\n",
		r.Account, len(r.Users), keys, r.Generated.UTC().Format(time.RFC3339))
	if len(r.Findings) == 0 {
		b.WriteString("No findings: no root keys, no old, unused or doubled keys, no administrator keys, MFA wherever there is a password.\n")
		return b.String()
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCHECK\tUSER\tKEY\tCREATED\tLAST USED")
	for _, f := range r.Findings {
		key := f.AccessKeyID
		if key == "" && f.Slot > 0 {
			key = fmt.Sprintf("key %d", f.Slot)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Severity, f.Check, f.User, dash(key), day(f.Created), day(f.LastUsed))
	}
	tw.Flush()
	b.WriteString("\n")
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s %s: %s\n", f.User, f.Check, f.Detail)
	}
	b.WriteString("\nRecommendations:\n")
	for _, rec := range audit.Recommendations(r) {
		fmt.Fprintf(&b, "  [%s] %s\n", rec.Severity, rec.Title)
		if len(rec.Subjects) > 0 {
			fmt.Fprintf(&b, "         %s\n", strings.Join(rec.Subjects, ", "))
		}
	}
	return b.String()
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
