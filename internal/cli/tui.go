package cli

import (
	"context"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"fmt"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/tui"
	"io"
)

// runbookOptions are the root command's flags: `keyleak [--key K] [--case DIR]`
// opens the interactive runbook.
type runbookOptions struct {
	Key     string
	CaseDir string
	sourceFlags
}

// runbookRun opens the terminal UI. Without a terminal there is nobody to
// ask for confirmations: the root command prints its help instead, unless
// a key or case was given, which is then a usage error pointing at the
// non-interactive commands.
func runbookRun(cmd *cobra.Command, f *Factory, o *runbookOptions) error {
	tty := f.IO.StdinTTY && f.IO.StderrTTY
	if o.Key == "" && o.CaseDir == "" && !tty {
		return cmd.Help()
	}
	if o.Key != "" {
		if err := checkKey(f.IO.ErrOut, o.Key); err != nil {
			return err
		}
	}
	if !tty {
		return usageErrorf("the interactive runbook needs a terminal; without one use keyleak contain, investigate and report")
	}
	req, err := o.sourceFlags.request(f.Now())
	if err != nil {
		return err
	}
	cfg := tui.Config{
		Key:         o.Key,
		CaseDir:     o.CaseDir,
		Parent:      ".",
		Now:         f.Now,
		Version:     version(),
		Engine:      f.Engine(),
		Investigate: req,
	}
	dir, err := tui.Run(cmd.Context(), cfg, f.IO.In, f.IO.ErrOut)
	printResumeLine(f.IO.ErrOut, dir)
	return err
}

// printResumeLine tells the responder, after the runbook closes, where the
// case is and how to come back to it.
func printResumeLine(w io.Writer, dir string) {
	if dir == "" {
		return
	}
	fmt.Fprintf(w, "Case %s\nResume with: keyleak --case %s\n", dir, dir)
}

// demoRunbook runs the runbook against the demo's simulator: the leaked key
// is offered in the key entry, LookupEvents is paced for the simulator,
// and the status line shows the simulated attacker's calls as they happen.
func demoRunbook(ctx context.Context, f *Factory, o *demoOptions, srv *awssim.Server) error {
	sim := srv.Sim
	cfg := tui.Config{
		SuggestKey:  sim.LeakedKey(),
		Parent:      o.Dir,
		Now:         f.Now,
		Version:     version(),
		Title:       "keyleak demo (" + sim.Scenario().Name + ", simulated account)",
		LookupRate:  40,
		LookupBurst: 20,
		VerifyEvery: time.Second,
		VerifyFor:   []time.Duration{30 * time.Second, time.Minute, 5 * time.Minute},
		Attacker:    AttackerFeed(sim),
		Engine:      f.Engine(),
	}
	dir, err := tui.Run(ctx, cfg, f.IO.In, f.IO.ErrOut)
	if dir != "" {
		fmt.Fprintf(f.IO.ErrOut, "Case %s (its simulated account ended with the demo; read the journal and reports there)\n", dir)
	}
	return err
}

// AttackerFeed returns the calls the simulated attacker made with the
// leaked key's chain since the previous call (the first call returns those
// since the feed was made), from the simulator's ground truth.
func AttackerFeed(sim *awssim.Sim) func() []tui.AttackerCall {
	var mu sync.Mutex
	seen := map[string]bool{}
	for _, e := range sim.Truth().Events {
		seen[e.EventID] = true
	}
	return func() []tui.AttackerCall {
		mu.Lock()
		defer mu.Unlock()
		tr := sim.Truth()
		chain := chainLabels(tr)
		var out []tui.AttackerCall
		for _, e := range tr.Events {
			if seen[e.EventID] {
				continue
			}
			seen[e.EventID] = true
			if who, ok := chain[e.AccessKeyID]; ok && e.Attacker {
				out = append(out, tui.AttackerCall{Time: e.EventTime, Who: who, KeyID: e.AccessKeyID, EventName: e.EventName, ErrorCode: e.ErrorCode})
			}
		}
		return out
	}
}
