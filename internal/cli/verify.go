package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

// verifyOptions are the flags of `keyleak verify`.
type verifyOptions struct {
	Key        string
	CaseDir    string
	Parent     string
	For        time.Duration
	Every      time.Duration
	LookupRate float64
	Output     outputFormat
}

func newCmdVerify(f *Factory, g *globalFlags) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify --key AKIA…",
		Short: "Watch CloudTrail for further use of the key and every credential made from it",
		Long: `Watch CloudTrail for calls of the leaked key and of every credential the case
found made from it (and of any they make), in every region where any of them
was seen and in us-east-1, and report each call as soon as it appears.

CloudTrail delivers events about 5 minutes after the call, sometimes 15, so
the watch lasts 20 minutes unless told: a call made when it starts is seen
before it ends. A call that worked after containment means containment is not
complete: the command then exits 3.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if err := playbook.ValidateKeyID(o.Key); err != nil {
				return &UsageError{Err: err}
			}
			if o.For <= 0 || o.Every <= 0 || o.LookupRate <= 0 {
				return usageErrorf("--for, --every and --lookup-rate must be more than 0")
			}
			return verifyRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Key, "key", "", "the leaked access key ID")
	fl.StringVar(&o.CaseDir, "case", "", "case directory (default: the newest case of the key under --dir, or a new one)")
	fl.StringVar(&o.Parent, "dir", ".", "where the key's case directories are")
	fl.DurationVar(&o.For, "for", trail.DefaultWatch, "how long to watch (longer than CloudTrail's delivery delay of up to 15 minutes)")
	fl.DurationVar(&o.Every, "every", 30*time.Second, "pause between polls")
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "LookupEvents requests per second per region (AWS allows 2)")
	_ = fl.MarkHidden("lookup-rate")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func verifyRun(ctx context.Context, f *Factory, o *verifyOptions) error {
	eng := f.Engine()
	c, err := eng.OpenCase(casefile.Ref{Dir: o.CaseDir, Parent: o.Parent, Key: o.Key})
	if err != nil {
		return err
	}
	defer c.Close()
	since, err := eng.VerifySince(c)
	if err != nil {
		return err
	}
	text := o.Output == outputText
	req := respond.VerifyRequest{For: o.For, Every: o.Every, LookupRate: o.LookupRate}
	if text {
		req.OnPoll = func(p trail.WatchPoll) {
			if p.Polls == 0 {
				fmt.Fprintf(f.IO.ErrOut, "» Watching %s in %s for %s; CloudTrail delivers calls about 5 minutes late, sometimes 15, so each poll looks 15 minutes back\n",
					strings.Join(p.Keys, ", "), strings.Join(p.Regions, ", "), o.For)
			}
		}
		req.OnCall = func(e trail.Event, _ bool) { fmt.Fprintln(f.IO.ErrOut, renderWatchedCall(e, since)) }
	}
	out, werr := eng.Verify(ctx, c, req)
	if out == nil {
		return werr
	}
	if err := printResult(f.IO.Out, o.Output, out, func() string { return renderVerify(out) }); err != nil {
		return err
	}
	return werr
}

// renderWatchedCall is one line of the live watch.
func renderWatchedCall(e trail.Event, since time.Time) string {
	verdict := "refused " + e.ErrorCode
	switch {
	case e.ErrorCode == "" && e.EventName == "GetCallerIdentity":
		verdict = "answered (GetCallerIdentity proves nothing)"
	case e.ErrorCode == "" && e.EventTime.Before(since):
		verdict = "worked, before containment"
	case e.ErrorCode == "":
		verdict = "WORKED"
	}
	return fmt.Sprintf("  %s  %-44s %s %s:%s in %s from %s", e.EventTime.UTC().Format(time.RFC3339), verdict,
		e.UserIdentity.AccessKeyID, strings.TrimSuffix(e.EventSource, ".amazonaws.com"), e.EventName, e.Region, e.SourceIPAddress)
}

// renderVerify is the text result of a watch.
func renderVerify(r *respond.VerifyResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Watched %d key(s) in %s from %s to %s (%d polls).\n", len(r.Keys), strings.Join(r.Regions, ", "),
		r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339), r.Polls)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "NOT WATCHED %s\n", f)
	}
	switch {
	case len(r.Worked) > 0:
		fmt.Fprintf(&b, "%d call(s) of attacker credentials WORKED after %s:\n", len(r.Worked), r.Since.Format(time.RFC3339))
		for _, e := range r.Worked {
			fmt.Fprintf(&b, "  %s  %s %s:%s in %s from %s\n", e.EventTime.UTC().Format(time.RFC3339), e.AccessKeyID,
				strings.TrimSuffix(e.EventSource, ".amazonaws.com"), e.EventName, e.Region, e.SourceIPAddress)
		}
	default:
		fmt.Fprintf(&b, "No call of the watched credentials worked after %s, of those CloudTrail had delivered by %s.\n",
			r.Since.Format(time.RFC3339), r.End.Format(time.RFC3339))
	}
	quiet := r.End.Add(-trail.DeliveryDelay)
	if quiet.After(r.Start) {
		fmt.Fprintf(&b, "CloudTrail delivers calls up to 15 minutes late: calls made up to %s are covered.\n", quiet.Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "CloudTrail delivers calls up to 15 minutes late and the watch was shorter: calls made since %s may not be delivered yet; watch again later.\n",
			quiet.Format(time.RFC3339))
	}
	return b.String()
}
