package evaluate

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/awssim"
	"github.com/keyleak/keyleak/resource"
	"github.com/keyleak/keyleak/trail"
)

// ScenarioRun is a shipped scenario served on loopback and swept for its
// leaked key with real SDK clients, as `keyleak investigate` would.
type ScenarioRun struct {
	Name          string
	Sim           *awssim.Sim
	Server        *awssim.Server
	Responder     awssim.Credential
	Regions       []trail.Region
	Investigation *trail.Investigation
	// Quarantine are AWS's attachments of its quarantine policy to the
	// key's user, found by a lookup by event name.
	Quarantine []trail.Event
}

// StartScenario builds the scenario, serves it on 127.0.0.1 and sweeps its
// leaked key as the scenario's responder. The simulator's LookupEvents
// throttle is raised so that the sweep takes a moment, not minutes: the
// eval measures the findings, not the pacing. Close the run when done.
func StartScenario(ctx context.Context, name string) (*ScenarioRun, error) {
	sc, err := awssim.LoadScenario(name)
	if err != nil {
		return nil, err
	}
	s, err := awssim.NewFromScenario(sc, awssim.WithLookupRate(1000, 1000))
	if err != nil {
		return nil, err
	}
	srv, err := awssim.Start(s, "127.0.0.1:0")
	if err != nil {
		s.Close()
		return nil, err
	}
	r := &ScenarioRun{Name: name, Sim: s, Server: srv, Responder: s.Responder()}
	if err := r.sweep(ctx); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return r, nil
}

func (r *ScenarioRun) sweep(ctx context.Context) error {
	regions, err := trail.ListRegions(ctx, ec2.NewFromConfig(r.Config("us-east-1")))
	if err != nil {
		return fmt.Errorf("sweep scenario %s: %w", r.Name, err)
	}
	r.Regions = regions
	client := func(region string) cloudtrail.LookupEventsAPIClient {
		return cloudtrail.NewFromConfig(r.Config(region), trail.NoSDKRetries)
	}
	inv, err := trail.NewSweep(regions, client, trail.WithLimiterRate(1000, 50)).Run(ctx, r.Sim.LeakedKey())
	if err != nil {
		return fmt.Errorf("sweep scenario %s: %w", r.Name, err)
	}
	if inv.Coverage.Failed() {
		return fmt.Errorf("sweep scenario %s: %s", r.Name, inv.Coverage.Summary())
	}
	r.Investigation = inv
	user := ""
	if k, ok := r.Sim.Key(r.Sim.LeakedKey()); ok {
		user = k.UserName
	}
	q, err := assess.QuarantineEvents(ctx, client("us-east-1"), user, inv.Window)
	if err != nil {
		return fmt.Errorf("sweep scenario %s: %w", r.Name, err)
	}
	r.Quarantine = q
	return nil
}

// Config is the responder's aws.Config for a region of the simulator.
func (r *ScenarioRun) Config(region string) aws.Config { return r.Server.Config(r.Responder, region) }

// Clients are the responder's clients for the resources, built as the
// CLI builds them: for the inventory and for eradication.
func (r *ScenarioRun) Clients() resource.Clients {
	return resource.NewClients(awsapi.NewClients(r.Config("us-east-1")))
}

// GuardDutyClient returns the responder's GuardDuty client of a region.
func (r *ScenarioRun) GuardDutyClient(region string) assess.GuardDutyAPI {
	return guardduty.NewFromConfig(r.Config(region))
}

// EnabledRegions are the names of the account's enabled regions.
func (r *ScenarioRun) EnabledRegions() []string {
	var out []string
	for _, reg := range r.Regions {
		if reg.Enabled {
			out = append(out, reg.Name)
		}
	}
	return out
}

// Keys are the leaked key and the keys derived from it, as the sweep found
// them.
func (r *ScenarioRun) Keys() []string {
	var out []string
	for _, k := range r.Investigation.Keys {
		out = append(out, k.AccessKeyID)
	}
	return out
}

// Assess assesses the run's investigation with the quarantine events as
// context.
func (r *ScenarioRun) Assess(opts assess.Options) (*assess.Assessment, error) {
	opts.Context = append(opts.Context, r.Quarantine...)
	return assess.Assess(r.Investigation, opts)
}

// Close stops the simulator.
func (r *ScenarioRun) Close() error { return r.Server.Close() }

// Score compares attacker verdicts with the simulator's truth over the
// events of the leaked key and its derived keys.
func Score(a *assess.Assessment, truth awssim.Truth) Counts {
	keys := map[string]bool{truth.LeakedKey: true}
	for _, k := range truth.DerivedKeys {
		keys[k.AccessKeyID] = true
	}
	var c Counts
	for _, e := range truth.Events {
		if !keys[e.AccessKeyID] {
			continue
		}
		ea, found := a.Event(e.EventID)
		c.add(e.Attacker, found && ea.Verdict == assess.Attacker)
	}
	return c
}
