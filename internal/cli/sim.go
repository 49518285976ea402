package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/trail"
)

// simServeOptions are the flags of `keyleak sim serve`.
type simServeOptions struct {
	Scenario   string
	Addr       string
	Volume     int
	Seed       uint64
	Faults     string
	LookupRate float64
	EnvFile    string
	// HealthEvent is where the scenario's AWS Health event goes when the
	// leak is detected: a file, or an http:// URL on loopback to POST to.
	HealthEvent string
	Tick        time.Duration
	// Replay serves real CloudTrail log files (a directory or
	// s3://bucket/prefix) instead of a scenario; Key is the leaked key
	// /_sim/truth follows through them.
	Replay string
	Key    string
}

func newCmdSim(f *Factory, _ *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run the simulated AWS account the demo and the tests use",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdSimServe(f, nil))
	return cmd
}

func newCmdSimServe(f *Factory, runF func(*simServeOptions) error) *cobra.Command {
	o := &simServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a simulated AWS account on loopback until interrupted",
		Long: `Serve a simulated AWS account on a loopback address. Once listening, it prints
the environment that points the AWS CLI, the SDKs and keyleak at it:

  eval "$(keyleak sim serve --env-file /tmp/sim.env & sleep 1; cat /tmp/sim.env)"

Scenarios: ` + strings.Join(awssim.AllScenarioNames(), ", ") + ` (or a YAML file).

--replay DIR|s3://bucket/prefix serves real CloudTrail log files instead: every
record through LookupEvents (with its paging, throttle and lookup-attribute
rules) and in /_sim/truth, the key given with --key followed through them. The
account's clock stands a minute after the newest record, so that LookupEvents
reaches back 90 days from there; give keyleak investigate --since and --until
around the records. A way to rehearse on your own exported logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(o)
			}
			return simServeRun(cmd, f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Scenario, "scenario", "github-push", "scenario name or YAML file")
	fl.StringVar(&o.Addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free one)")
	fl.IntVar(&o.Volume, "volume", 0, "add N extra events by the leaked key over the enabled regions (for benchmarks; at most 1000000)")
	fl.Uint64Var(&o.Seed, "seed", 1, "seed of generated IDs and volume events")
	fl.StringVar(&o.Faults, "faults", "", `faults to inject, e.g. "latency=100ms,throttle-storm=30,5xx-every=20,5xx-burst=3,deny=eu-west-1,disable=ap-south-1,deny-service=pricing"`)
	fl.Float64Var(&o.LookupRate, "lookup-rate", 2, "CloudTrail LookupEvents requests per second per region before ThrottlingException")
	fl.StringVar(&o.EnvFile, "env-file", "", "also write the export lines to this file (mode 0600)")
	fl.StringVar(&o.HealthEvent, "health-event", "", "when the scenario's leak is detected, write its AWS Health event to this file, or POST it to this http://127.0.0.1 URL (for keyleak respond --event)")
	fl.DurationVar(&o.Tick, "tick", 2*time.Second, "pace of the scenario's ongoing attacker actions")
	fl.StringVar(&o.Replay, "replay", "", "serve the CloudTrail log files of a directory or s3://bucket/prefix instead of a scenario")
	fl.StringVar(&o.Key, "key", "", "with --replay: the leaked key /_sim/truth follows")
	return cmd
}

// replaySim builds a simulator that serves the records of o.Replay, with a
// responder key, on a clock that starts a minute after the newest record.
func replaySim(cmd *cobra.Command, f *Factory, o *simServeOptions, opts []awssim.Option) (*awssim.Sim, awssim.Credential, error) {
	ctx := cmd.Context()
	var src trail.LogSource = trail.DirLogs(o.Replay)
	if strings.HasPrefix(o.Replay, "s3://") {
		clients, err := f.Engine().Clients(ctx)
		if err != nil {
			return nil, awssim.Credential{}, err
		}
		s3src, err := trail.NewS3Logs(clients.S3(""), o.Replay)
		if err != nil {
			return nil, awssim.Credential{}, &UsageError{Err: err}
		}
		src = s3src
	}
	var records []json.RawMessage
	err := trail.ReadRecords(ctx, src, trail.Window{}, func(raw []byte) error {
		records = append(records, append(json.RawMessage(nil), raw...))
		return nil
	})
	if err != nil {
		return nil, awssim.Credential{}, &UsageError{Err: fmt.Errorf("--replay: %w", err)}
	}
	if len(records) == 0 {
		return nil, awssim.Credential{}, usageErrorf("--replay: no CloudTrail records (.json, .json.gz, .jsonl) in %s", o.Replay)
	}
	var mu sync.Mutex
	var base time.Time
	started := time.Now()
	sim := awssim.New(append(opts, awssim.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return base.Add(time.Since(started))
	}))...)
	_, newest, err := sim.Replay(records)
	if err != nil {
		sim.Close()
		return nil, awssim.Credential{}, &UsageError{Err: fmt.Errorf("--replay: %w", err)}
	}
	mu.Lock()
	base, started = newest.Add(time.Minute), time.Now()
	mu.Unlock()
	created := newest.AddDate(-1, 0, 0)
	if err := sim.AddUser("keyleak-responder", created, "AdministratorAccess"); err != nil {
		sim.Close()
		return nil, awssim.Credential{}, err
	}
	resp, err := sim.AddAccessKey("keyleak-responder", created, "responder")
	if err != nil {
		sim.Close()
		return nil, awssim.Credential{}, err
	}
	if o.Key != "" {
		sim.SetLeakedKey(o.Key)
	}
	fmt.Fprintf(f.IO.ErrOut, "keyleak sim: %d records replayed, the newest at %s\n", len(records), newest.Format(time.RFC3339))
	return sim, *resp, nil
}

func simServeRun(cmd *cobra.Command, f *Factory, o *simServeOptions) error {
	if o.Volume < 0 || o.Volume > awssim.MaxVolume {
		return usageErrorf("--volume must be between 0 and %d (each event is kept in memory), not %d", awssim.MaxVolume, o.Volume)
	}
	if o.LookupRate <= 0 {
		return usageErrorf("--lookup-rate must be more than 0")
	}
	if o.Key != "" && o.Replay == "" {
		return usageErrorf("--key needs --replay: a scenario names its own leaked key")
	}
	if o.HealthEvent != "" && o.Replay != "" {
		return usageErrorf("--health-event needs a scenario: a replay has no detection")
	}
	if err := checkHealthTarget(o.HealthEvent); err != nil {
		return err
	}
	opts := []awssim.Option{awssim.WithSeed(o.Seed), awssim.WithLookupRate(o.LookupRate, max(1, int(o.LookupRate)))}
	if o.Faults != "" {
		faults, err := awssim.ParseFaults(o.Faults)
		if err != nil {
			return &UsageError{Err: fmt.Errorf("parse --faults: %w", err)}
		}
		opts = append(opts, awssim.WithFaults(faults))
	}
	if o.Replay != "" {
		return simServe(cmd, f, o, opts)
	}
	sc, err := awssim.LoadScenario(o.Scenario)
	if err != nil {
		return &UsageError{Err: fmt.Errorf("load scenario: %w", err)}
	}
	sim, err := awssim.NewFromScenario(sc, opts...)
	if err != nil {
		return fmt.Errorf("build scenario %s: %w", o.Scenario, err)
	}
	if o.Volume > 0 {
		if err := sim.AddVolume(o.Volume, sim.LeakedKey(), o.Seed, 7*24*time.Hour); err != nil {
			sim.Close()
			return fmt.Errorf("add volume: %w", err)
		}
	}
	srv, err := awssim.Start(sim, o.Addr)
	if err != nil {
		sim.Close()
		return &UsageError{Err: err}
	}
	defer srv.Close()
	sim.StartActors(o.Tick)
	if o.HealthEvent != "" {
		if !sim.OnDetected(func(ev []byte) { emitHealthEvent(cmd.Context(), f.IO.ErrOut, o.HealthEvent, ev) }) {
			fmt.Fprintf(f.IO.ErrOut, "keyleak sim: scenario %s declares no detection: no Health event will be emitted\n", o.Scenario)
		}
	}

	// A responder who reaches the account through a role (bastion-mfa)
	// gets the role and the MFA device to configure a profile with, and
	// the file where the simulated device shows its current code.
	var extra [][2]string
	ra := sim.ResponderAccess()
	if ra.RoleARN != "" {
		extra = append(extra, [2]string{"KEYLEAK_ROLE_ARN", ra.RoleARN})
	}
	if ra.MFASerial != "" {
		codeFile, err := showMFADevice(cmd.Context(), sim, ra.MFASerial)
		if err != nil {
			return err
		}
		extra = append(extra, [2]string{"KEYLEAK_MFA_SERIAL", ra.MFASerial}, [2]string{"KEYLEAK_MFA_CODE_FILE", codeFile})
	}
	env := simEnv(srv.URL, sim.Responder(), sim.LeakedKey(), extra...)
	if _, err := io.WriteString(f.IO.Out, env); err != nil {
		return fmt.Errorf("print environment: %w", err)
	}
	if o.EnvFile != "" {
		if err := os.WriteFile(o.EnvFile, []byte(env), 0o600); err != nil {
			return fmt.Errorf("write env file: %w", err)
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "keyleak sim: scenario %s serving on %s; the attacker keeps acting until contained. Ctrl-C stops.\n", o.Scenario, srv.URL)
	if ra.RoleARN != "" {
		fmt.Fprintf(f.IO.ErrOut, "keyleak sim: the responder's key reaches the account only through %s (with the MFA device %s, whose current code is in %s).\n",
			ra.RoleARN, ra.MFASerial, "$KEYLEAK_MFA_CODE_FILE")
	}
	<-cmd.Context().Done()
	return nil
}

// simServe serves a replay of real logs until interrupted.
func simServe(cmd *cobra.Command, f *Factory, o *simServeOptions, opts []awssim.Option) error {
	sim, resp, err := replaySim(cmd, f, o, opts)
	if err != nil {
		return err
	}
	srv, err := awssim.Start(sim, o.Addr)
	if err != nil {
		sim.Close()
		return &UsageError{Err: err}
	}
	defer srv.Close()
	env := simEnv(srv.URL, resp, o.Key)
	if _, err := io.WriteString(f.IO.Out, env); err != nil {
		return fmt.Errorf("print environment: %w", err)
	}
	if o.EnvFile != "" {
		if err := os.WriteFile(o.EnvFile, []byte(env), 0o600); err != nil {
			return fmt.Errorf("write env file: %w", err)
		}
	}
	fmt.Fprintf(f.IO.ErrOut, "keyleak sim: replaying %s on %s. Ctrl-C stops.\n", o.Replay, srv.URL)
	<-cmd.Context().Done()
	return nil
}

// simEnv is the shell environment that points clients at the simulator.
// AWS_DEFAULT_REGION is for the AWS CLI v1, AWS_REGION for the SDKs. The
// extra variables come before KEYLEAK_LEAKED_KEY, which is always last.
func simEnv(url string, responder awssim.Credential, leaked string, extra ...[2]string) string {
	var b strings.Builder
	vars := [][2]string{
		{"AWS_ENDPOINT_URL", url},
		{"AWS_ACCESS_KEY_ID", responder.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", responder.Secret},
		{"AWS_REGION", "us-east-1"},
		{"AWS_DEFAULT_REGION", "us-east-1"},
	}
	vars = append(append(vars, extra...), [2]string{"KEYLEAK_LEAKED_KEY", leaked})
	for _, kv := range vars {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

// checkHealthTarget accepts a file path or a loopback http:// URL: the
// simulator never sends anything off this machine.
func checkHealthTarget(target string) error {
	if !strings.Contains(target, "://") {
		return nil
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		return usageErrorf("--health-event %q: give a file, or an http:// URL on 127.0.0.1", target)
	}
	return nil
}

// emitHealthEvent writes the Health event to a file (0600) or POSTs it to a
// loopback URL, as EventBridge would hand it to a target, and says so on w.
func emitHealthEvent(ctx context.Context, w io.Writer, target string, ev []byte) {
	if !strings.Contains(target, "://") {
		if err := os.WriteFile(target, append(ev, '\n'), 0o600); err != nil {
			fmt.Fprintf(w, "keyleak sim: write the Health event: %v\n", err)
			return
		}
		fmt.Fprintf(w, "keyleak sim: AWS detected the leak; its Health event is in %s (keyleak respond --event %s)\n", target, target)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(ev))
	if err != nil {
		fmt.Fprintf(w, "keyleak sim: post the Health event: %v\n", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(w, "keyleak sim: post the Health event: %v\n", err)
		return
	}
	_ = resp.Body.Close()
	fmt.Fprintf(w, "keyleak sim: AWS detected the leak; its Health event was posted to %s (%s)\n", target, resp.Status)
}
