package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/leakscan"
)

// scanOptions are the flags of `keyleak scan`.
type scanOptions struct {
	Path   string
	Key    string
	Output outputFormat
}

func newCmdScan(f *Factory, g *globalFlags) *cobra.Command {
	return newCmdScanWith(f, g, nil)
}

func newCmdScanWith(f *Factory, g *globalFlags, runF func(context.Context, *scanOptions) error) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan PATH [--key AKIA…]",
		Short: "Find where a key leaked in a git repository",
		Long: `Find AWS keys in a git repository: every object it holds — all branches,
tags, stashes, reflogs and unreachable commits, each file version read once —
and the working tree, ignored files included. For each key found: the commits,
paths, authors and dates that brought it in, and which remote-tracking
branches hold those commits (was it pushed?).

Access key IDs (AKIA, ASIA) and the other AWS unique IDs (AIDA users, AROA
roles, …) are found anywhere; secret access keys only next to a key ID or the
word "secret", and they are never shown, only a fingerprint.

With --key, only that key (and the secret next to it) is reported.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Path = args[0]
			o.Output = g.output
			if o.Key != "" {
				if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return scanRun(cmd.Context(), f, o)
		},
	}
	cmd.Flags().StringVar(&o.Key, "key", "", "report only this access key ID (AKIA… or ASIA…)")
	return cmd
}

func scanRun(ctx context.Context, f *Factory, o *scanOptions) error {
	var opts []leakscan.Option
	if o.Key != "" {
		opts = append(opts, leakscan.WithKey(o.Key))
	}
	res, err := leakscan.Scan(ctx, o.Path, opts...)
	var in *leakscan.InputError
	if errors.As(err, &in) {
		return &UsageError{Err: err}
	}
	if err != nil {
		return fmt.Errorf("scan %s: %w", o.Path, err)
	}
	out := struct {
		*leakscan.Result
		Guidance []string `json:"guidance"`
	}{res, leakscan.Guidance(res)}
	return printResult(f.IO.Out, o.Output, out, func() string { return renderScan(res) })
}

// renderScan is the text form of a scan: what was read, each finding with
// its sightings, the notes and the guidance. Secrets appear only as masks.
func renderScan(res *leakscan.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scanned %s: %d objects (%d blobs, commits and tags read), %d working-tree files, %s.\n",
		res.Repo, res.Objects, res.Scanned, res.Files, humanBytes(res.Bytes))
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if len(res.Findings) == 0 {
		if res.Key == "" {
			b.WriteString("\nNo AWS key IDs or secret access keys found.\n")
		}
	}
	for _, f := range res.Findings {
		b.WriteString("\n")
		label := f.Value
		if f.Kind == leakscan.KindSecret && f.Near != "" {
			label += " (next to " + f.Near + ")"
		}
		fmt.Fprintf(&b, "%s  %s  %s", label, f.Kind, reachLabel(f.Reach))
		if len(f.PushedTo) > 0 {
			fmt.Fprintf(&b, " to %s", strings.Join(f.PushedTo, ", "))
		}
		b.WriteString("\n")
		for _, l := range f.Locations {
			b.WriteString("  " + locationLine(l) + "\n")
		}
	}
	if g := leakscan.Guidance(res); len(g) > 0 {
		b.WriteString("\n")
		for _, s := range g {
			fmt.Fprintf(&b, "» %s\n", s)
		}
	}
	return b.String()
}

func reachLabel(r string) string {
	switch r {
	case leakscan.ReachPushed:
		return "PUSHED"
	case leakscan.ReachLocal:
		return "committed, not on any remote-tracking branch"
	case leakscan.ReachStash:
		return "only in a stash"
	case leakscan.ReachReflog:
		return "only in reflogs"
	case leakscan.ReachUnreachable:
		return "only in an unreachable commit"
	}
	return "on disk only"
}

func locationLine(l leakscan.Location) string {
	at := l.Path
	if l.Line > 0 {
		at = fmt.Sprintf("%s:%d", l.Path, l.Line)
	}
	if l.Binary {
		at += " (binary)"
	}
	switch l.Source {
	case leakscan.SourceCommit:
		s := fmt.Sprintf("%s  commit %s %s %s %q", at, short(l.Commit), l.Date.UTC().Format("2006-01-02 15:04Z"), l.Author, l.Subject)
		if !l.InHEAD {
			s += ", removed from the checked-out tree since"
		}
		if len(l.Refs) > 0 {
			s += "  [" + strings.Join(l.Refs, " ") + "]"
		}
		return s
	case leakscan.SourceCommitMessage:
		return fmt.Sprintf("message of commit %s  [%s]", short(l.Commit), strings.Join(l.Refs, " "))
	case leakscan.SourceTagMessage:
		return "message of tag object " + short(l.Blob)
	case leakscan.SourceIndex:
		return at + "  staged in the index, never committed"
	case leakscan.SourceObject:
		return fmt.Sprintf("blob %s:%d  in the object store, in no commit", short(l.Blob), l.Line)
	}
	return at + "  working tree"
}

func short(id string) string { return id[:min(len(id), 10)] }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
