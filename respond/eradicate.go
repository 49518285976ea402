package respond

import (
	"context"
	"fmt"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
)

// EradicateRequest chooses what to remove of what the attacker created.
type EradicateRequest struct {
	// Only narrows the targets (TYPE|REGION|ID or ID); empty is all.
	Only []string
	// All also offers resources the legitimate workload made with the key.
	All    bool
	DryRun bool
	// NoEvidence removes without keeping evidence first. By default each
	// instance's volumes are snapshotted (tagged with the case) and its
	// console output, user data and metadata saved, each function's code
	// and configuration, each user's and role's policy documents, into the
	// case's evidence folder.
	NoEvidence bool
}

// EradicateResult is the run's summary and the targets it worked on, as
// AWS showed them before the run.
type EradicateResult struct {
	*playbook.Summary
	Targets []playbook.Target `json:"targets"`
}

// Targets returns what eradication would remove now: the resources of the
// case's findings whose live state says they still exist.
func (e *Engine) Targets(ctx context.Context, c *playbook.Case, all bool) ([]playbook.Target, []assess.Resource, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, nil, err
	}
	f, err := casefile.LoadFindings(c)
	if err != nil {
		return nil, nil, err
	}
	if f == nil {
		return nil, nil, Usagef("case %s has no findings: investigate the key first", c.Dir())
	}
	// The state may have changed since the investigation: check it again.
	resources, err := assess.Inventory(ctx, inventoryClients(clients), f.Resources)
	if err != nil {
		return nil, nil, fmt.Errorf("check resources: %w", err)
	}
	return assess.Targets(resources, all), resources, nil
}

// Eradicate removes the chosen resources, each confirmed on its own
// through the hooks and journaled, then reads every resource's state back
// from AWS into the findings, so that the report says what is left.
func (e *Engine) Eradicate(ctx context.Context, c *playbook.Case, req EradicateRequest, h Hooks) (*EradicateResult, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	var opts []playbook.Option
	if !req.NoEvidence {
		opts = append(opts, playbook.WithEvidence(clients.HTTP()))
	}
	r, err := e.runnerFor(ctx, c, req.DryRun, h, opts...)
	if err != nil {
		return nil, err
	}
	targets, _, err := e.Targets(ctx, c, req.All)
	if err != nil {
		return nil, err
	}
	if len(req.Only) > 0 {
		if targets, err = playbook.SelectTargets(targets, req.Only); err != nil {
			return nil, playbookError(err)
		}
	}
	sum, runErr := r.Eradicate(ctx, targets, inventoryClients(clients))
	if !req.DryRun {
		if _, err := e.refreshResources(ctx, c); err != nil && runErr == nil {
			runErr = err
		}
	}
	var res *EradicateResult
	if sum != nil {
		res = &EradicateResult{Summary: sum, Targets: targets}
	}
	return res, playbookError(runErr)
}

// refreshResources reads the live state of every resource in the findings
// and saves it: what eradication removed is shown removed.
func (e *Engine) refreshResources(ctx context.Context, c *playbook.Case) (*assess.Findings, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	f, err := casefile.LoadFindings(c)
	if err != nil || f == nil {
		return f, err
	}
	after, err := assess.Inventory(ctx, inventoryClients(clients), f.Resources)
	if err != nil {
		return f, fmt.Errorf("check resources: %w", err)
	}
	f.Resources = after
	f.GeneratedAt = e.now().UTC()
	f.ResourcesCheckedAt = f.GeneratedAt
	if err := casefile.SaveFindings(c, *f); err != nil {
		return f, err
	}
	return f, nil
}

// Inventory reads the live state of the given resources in every region.
func (e *Engine) Inventory(ctx context.Context, resources []assess.Resource) ([]assess.Resource, error) {
	clients, err := e.Clients(ctx)
	if err != nil {
		return nil, err
	}
	return assess.Inventory(ctx, inventoryClients(clients), resources)
}
