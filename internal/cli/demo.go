package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/respond"
)

// demoOptions are the flags of `keyleak demo`.
type demoOptions struct {
	Scenario string
	Dir      string
	Plain    bool
	// Unattended replays the moment AWS detects the leak: the scenario's
	// Health event starts keyleak respond, which nobody confirms.
	Unattended bool
	Tick       time.Duration
	Watch      time.Duration
}

func newCmdDemo(f *Factory, _ *globalFlags) *cobra.Command {
	o := &demoOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the runbook against a built-in simulated AWS account",
		Long: `Start a simulated AWS account in-process, replay a leak (github-push: a CI
key pushed to a public GitHub repository), and walk through the response
against it: the attacker keeps calling until contained, so you see the key's
calls stop when it is deactivated and the session key's calls stop only when
sessions are revoked. Nothing leaves this machine: every AWS call goes to the
simulator on 127.0.0.1. The case directory is left behind for you to read.

With --scenario bastion-mfa the responder works as seed 003 teaches: from a
bastion account, through a role that asks for MFA. The demo asks for the code
and names the file where the simulated MFA device shows it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demoRun(cmd.Context(), f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Scenario, "scenario", "github-push", "scenario name or YAML file: "+strings.Join(awssim.AllScenarioNames(), ", "))
	fl.StringVar(&o.Dir, "dir", "", "where to leave the case directory (default: a new temporary directory)")
	fl.BoolVar(&o.Plain, "plain", false, "narrate the demo as text instead of the terminal UI")
	fl.BoolVar(&o.Unattended, "unattended", false, "the unattended response: AWS's Health event starts keyleak respond, as the Lambda function would (narrated as text)")
	fl.DurationVar(&o.Tick, "tick", 400*time.Millisecond, "pace of the simulated attacker")
	fl.DurationVar(&o.Watch, "watch", 3*time.Second, "how long the narrated demo watches the attacker between steps")
	return cmd
}

func demoRun(ctx context.Context, f *Factory, o *demoOptions) error {
	// Ends what the demo started in the background (the MFA device).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Tick <= 0 || o.Watch < 0 {
		return usageErrorf("--tick must be more than 0 and --watch 0 or more")
	}
	sc, err := awssim.LoadScenario(o.Scenario)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("load scenario: %w", err)}
	}
	sim, err := awssim.NewFromScenario(sc, awssim.WithLookupRate(50, 50))
	if err != nil {
		return fmt.Errorf("build scenario %s: %w", o.Scenario, err)
	}
	srv, err := awssim.Start(sim, "127.0.0.1:0")
	if err != nil {
		sim.Close()
		return err
	}
	defer srv.Close()
	sim.StartActors(o.Tick)
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "keyleak-demo-"); err != nil {
			return fmt.Errorf("make demo directory: %w", err)
		}
	}
	// Every AWS call of the demo goes to the simulator as its responder.
	cfg, err := demoConfig(ctx, f, srv)
	if err != nil {
		return err
	}
	f.loadConfig = func(context.Context, awsapi.Options) (aws.Config, error) { return cfg, nil }
	if o.Unattended {
		return narrateUnattended(ctx, f, o, srv)
	}
	if !o.Plain && f.IO.StdinTTY && f.IO.StderrTTY {
		return demoRunbook(ctx, f, o, srv)
	}
	return narrate(ctx, f, o, srv)
}

// demoConfig is the responder's configuration in the simulator: its key, or,
// when the scenario has the responder assume a role (bastion-mfa), that
// role's session through the SDK's own AssumeRole provider, with the MFA
// code asked for on the terminal. The code is asked for now, before the
// runbook takes the terminal; the simulated device shows it in a file the
// prompt names (the code only, never the device's seed).
func demoConfig(ctx context.Context, f *Factory, srv *awssim.Server) (aws.Config, error) {
	ra := srv.Sim.ResponderAccess()
	cfg := srv.Config(ra.Key, "us-east-1")
	cfg.RetryMaxAttempts = 3
	if ra.RoleARN == "" {
		return cfg, nil
	}
	prompt := func() (string, error) { return "", nil }
	var serial *string
	if ra.MFASerial != "" {
		serial = aws.String(ra.MFASerial)
		display, err := showMFADevice(ctx, srv.Sim, ra.MFASerial)
		if err != nil {
			return aws.Config{}, err
		}
		prompt = func() (string, error) {
			fmt.Fprintf(f.IO.ErrOut, "The responder works from the bastion account through %s, which asks for MFA.\n"+
				"The simulated MFA device %s shows its current code in %s.\n", ra.RoleARN, ra.MFASerial, display)
			return awsapi.ReadToken(f.IO.In, f.IO.ErrOut, ra.MFASerial)
		}
	}
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), ra.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "keyleak-demo"
		o.SerialNumber = serial
		o.TokenProvider = prompt
	})
	cfg.Credentials = aws.NewCredentialsCache(provider)
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, &AuthError{Err: fmt.Errorf("assume %s as the demo's responder: %w", ra.RoleARN, err)}
	}
	return cfg, nil
}

// showMFADevice plays the responder's phone: it writes the device's
// current code to a file (mode 0600, in a new temporary directory) and
// keeps it current until ctx ends. It returns the file's path.
func showMFADevice(ctx context.Context, sim *awssim.Sim, serial string) (string, error) {
	dir, err := os.MkdirTemp("", "keyleak-demo-mfa-")
	if err != nil {
		return "", fmt.Errorf("make the MFA device's directory: %w", err)
	}
	path := filepath.Join(dir, "code")
	show := func() error {
		code, err := sim.MFACode(serial, time.Now())
		if err != nil {
			return err
		}
		return os.WriteFile(path, []byte(code+"\n"), 0o600)
	}
	if err := show(); err != nil {
		return "", fmt.Errorf("show the MFA code: %w", err)
	}
	go func() {
		defer os.RemoveAll(dir)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = show() // the next tick writes it again
			}
		}
	}()
	return path, nil
}

// narrate walks through the response as text on stdout: what the attacker
// does, each step and what it changed, and where the case is.
func narrate(ctx context.Context, f *Factory, o *demoOptions, srv *awssim.Server) error {
	w := f.IO.Out
	sim := srv.Sim
	key := sim.LeakedKey()
	sc := sim.Scenario()
	fmt.Fprintf(w, "keyleak demo — scenario %s, simulated account %s at %s\n\n", sc.Name, sim.AccountID(), srv.URL)
	fmt.Fprintf(w, "%s\n\n", wrap(sc.Description, 78))
	fmt.Fprintf(w, "The leaked key is %s. The attacker is calling AWS right now:\n", key)
	seen := map[string]bool{}
	for _, e := range sim.Truth().Events {
		seen[e.EventID] = true
	}
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n1. Identify and deactivate the key (keyleak contain --key %s --yes).\n", key)
	fmt.Fprint(w, "   Deactivate first, delete later: an inactive key can be turned back on if\n   something legitimate breaks, and its ID stays searchable.\n\n")
	if err := demoStep(ctx, f, o, key, playbook.StepIdentify, playbook.StepContain); err != nil {
		return err
	}
	markSeen(sim, seen) // calls made while the step ran are not after it
	fmt.Fprint(w, "\n   The key's own calls stop now. Calls with the session token it issued do not:\n")
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}

	fmt.Fprint(w, "\n2. Revoke every session issued before now (a deny on aws:TokenIssueTime).\n\n")
	if err := demoStep(ctx, f, o, key, playbook.StepRevokeSessions, playbook.StepScope); err != nil {
		return err
	}
	markSeen(sim, seen)
	fmt.Fprint(w, "\n   The session's calls stop too. What still calls is the backdoor user the\n   attacker created with its own key: that is for eradication.\n")
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n3. Investigate every region, following the derived keys (keyleak investigate).\n\n")
	// The commands' own output is indented under the narration; their
	// progress lines would repeat what the table says.
	orig := f.IO
	streams := *f.IO
	streams.Out = indent{w: w}
	streams.ErrOut = io.Discard
	f.IO = &streams
	defer func() { f.IO = orig }()
	if err := investigateRun(ctx, f, &investigateOptions{Key: key, Parent: o.Dir, sourceFlags: sourceFlags{Regions: "all"}, Output: outputText, LookupRate: 40}); err != nil {
		return err
	}

	caseDir, err := playbook.FindCase(o.Dir, key)
	if err != nil {
		return fmt.Errorf("find the demo's case: %w", err)
	}
	fmt.Fprint(w, "\n4. Remove what the attacker created (keyleak eradicate --apply), one confirmation\n   per resource; the demo answers yes to each.\n\n")
	if err := demoEradicate(ctx, f, key, caseDir); err != nil {
		return err
	}
	f.IO = orig
	markSeen(sim, seen)
	fmt.Fprint(w, "\n   The backdoor user is gone, and its key with it:\n")
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}
	f.IO = &streams

	fmt.Fprint(w, "\n5. Write the reports for the AWS support case (keyleak report).\n\n")
	if err := reportRun(f, &reportOptions{CaseDir: caseDir, Formats: []string{"xlsx", "md", "json"}, Lang: "en", Output: outputText}); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDone. The case, its journal and the reports are in %s\n", caseDir)
	return nil
}

// narrateUnattended shows the unattended path: the simulator emits the
// scenario's AWS Health event when the leak is detected, and keyleak
// respond takes it from there, as the Lambda function does, without a
// question; then the attacker's calls are refused.
func narrateUnattended(ctx context.Context, f *Factory, o *demoOptions, srv *awssim.Server) error {
	w := f.IO.Out
	sim := srv.Sim
	events := make(chan []byte, 1)
	if !sim.OnDetected(func(ev []byte) { events <- ev }) {
		return usageErrorf("scenario %s declares no detection: --unattended needs one (see examples/scenarios/README.md)", sim.Scenario().Name)
	}
	var ev []byte
	select {
	case ev = <-events:
	case <-ctx.Done():
		return ctx.Err()
	}
	path := filepath.Join(o.Dir, "health-event.json")
	if err := os.WriteFile(path, ev, 0o600); err != nil {
		return fmt.Errorf("write the Health event: %w", err)
	}
	fmt.Fprintf(w, "keyleak demo — unattended response, scenario %s, simulated account %s at %s\n\n", sim.Scenario().Name, sim.AccountID(), srv.URL)
	fmt.Fprintf(w, "AWS found the key %s in public and raised its Health event (%s).\nThe attacker is calling AWS right now:\n", sim.LeakedKey(), path)
	seen := map[string]bool{}
	for _, e := range sim.Truth().Events {
		seen[e.EventID] = true
	}
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe EventBridge rule starts keyleak (keyleak respond --event %s); nobody is asked:\n\n", path)
	orig := f.IO
	streams := *f.IO
	streams.Out = indent{w: w}
	streams.ErrOut = io.Discard
	f.IO = &streams
	err := respondRun(ctx, f, &respondOptions{Event: path, Budget: respond.DefaultBudget, Parent: o.Dir, Output: outputText, LookupRate: 40})
	f.IO = orig
	if err != nil {
		return err
	}
	markSeen(sim, seen)
	fmt.Fprint(w, "\nEvery credential of the attacker is refused now, so its calls have stopped:\n")
	if err := watch(ctx, w, sim, seen, o.Watch); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nDone. The case, its journal and the reports are under %s\n", o.Dir)
	return nil
}

// demoEradicate removes every resource the investigation found the attacker
// made, as `keyleak eradicate --apply --yes --only …` with the full list.
func demoEradicate(ctx context.Context, f *Factory, key, caseDir string) error {
	c, err := casefile.OpenExisting(caseDir)
	if err != nil {
		return fmt.Errorf("open the demo's case: %w", err)
	}
	targets, _, err := f.Engine().Targets(ctx, c, false)
	c.Close()
	if err != nil {
		return err
	}
	var ids []string
	for _, t := range targets {
		ids = append(ids, t.Key())
	}
	if len(ids) == 0 {
		fmt.Fprintln(f.IO.Out, "Nothing to remove.")
		return nil
	}
	return eradicateRun(ctx, f, &eradicateOptions{Key: key, CaseDir: caseDir, Apply: true, Yes: true, Only: ids, Output: outputText})
}

// demoStep runs playbook steps on the demo's case with --yes semantics.
func demoStep(ctx context.Context, f *Factory, o *demoOptions, key string, steps ...string) error {
	e := f.Engine()
	c, err := e.OpenCase(casefile.Ref{Parent: o.Dir, Key: key})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = e.Contain(ctx, c, respond.ContainRequest{Steps: steps, LookupRate: 40}, respond.Hooks{
		Confirm: func(context.Context, playbook.Step, []playbook.Action) (bool, error) { return true, nil },
		Progress: func(p playbook.Progress) {
			if p.ActionID != "" && p.Status == playbook.StatusDone {
				fmt.Fprintf(f.IO.Out, "   done  %s\n", shorten(p.Description, 100))
			}
		},
	})
	return err
}

// watch shows the calls of the leaked key's chain as they happen, for d:
// the first few, then a tally per key of what worked and what was refused.
func watch(ctx context.Context, w io.Writer, sim *awssim.Sim, seen map[string]bool, d time.Duration) error {
	const maxLines = 6
	deadline := time.Now().Add(d)
	lines := 0
	ok, refused := map[string]int{}, map[string]int{}
	var order []string
	for {
		tr := sim.Truth()
		chain := chainLabels(tr)
		var fresh []awssim.TruthEvent
		for _, e := range tr.Events {
			if !seen[e.EventID] {
				seen[e.EventID] = true
				if _, ok := chain[e.AccessKeyID]; ok && e.Attacker {
					fresh = append(fresh, e)
				}
			}
		}
		sort.Slice(fresh, func(i, j int) bool { return fresh[i].EventTime.Before(fresh[j].EventTime) })
		for _, e := range fresh {
			who := chain[e.AccessKeyID]
			if ok[who]+refused[who] == 0 {
				order = append(order, who)
			}
			status := "ok"
			if e.ErrorCode != "" {
				status = "refused: " + e.ErrorCode
				refused[who]++
			} else {
				ok[who]++
			}
			if lines < maxLines {
				fmt.Fprintf(w, "   %s  %-12s %-22s %-24s %s\n", e.EventTime.Format("15:04:05"), who, e.AccessKeyID, e.EventName, status)
				lines++
			}
		}
		if !time.Now().Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var parts []string
	for _, who := range order {
		p := fmt.Sprintf("%s %d ok", who, ok[who])
		if refused[who] > 0 {
			p += fmt.Sprintf(", %d refused", refused[who])
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		parts = []string{"no call from the attacker"}
	}
	fmt.Fprintf(w, "   in %s: %s\n", d.Round(time.Second), strings.Join(parts, " · "))
	return nil
}

// chainLabels names each key of the leaked key's chain as the demo shows
// it: the leaked key, a session key (ASIA…) or a backdoor key (a long-term
// key the attacker made).
func chainLabels(tr awssim.Truth) map[string]string {
	chain := map[string]string{tr.LeakedKey: "leaked key"}
	for _, k := range tr.DerivedKeys {
		who := "backdoor key"
		if strings.HasPrefix(k.AccessKeyID, "ASIA") {
			who = "session key"
		}
		chain[k.AccessKeyID] = who
	}
	return chain
}

// markSeen marks every event recorded so far as seen.
func markSeen(sim *awssim.Sim, seen map[string]bool) {
	for _, e := range sim.Truth().Events {
		seen[e.EventID] = true
	}
}

// indent prefixes each line written through it with three spaces.
type indent struct{ w io.Writer }

func (i indent) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(string(p), "\n", "\n   ")
	if strings.HasSuffix(s, "   ") {
		s = strings.TrimSuffix(s, "   ")
	}
	if _, err := io.WriteString(i.w, "   "+s); err != nil {
		return 0, err
	}
	return len(p), nil
}

// wrap folds text at width columns.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		if n > 0 && n+1+len(word) > width {
			b.WriteString("\n")
			n = 0
		} else if n > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// shorten cuts s to n characters, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
