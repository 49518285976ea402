package assess

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/keyleak/keyleak/resource"
)

// inventoryLimit bounds the describe calls in flight: enough to check a few
// hundred resources in seconds, few enough not to hit EC2's request limits.
const inventoryLimit = 8

// Inventory checks the live state of each resource in its region,
// concurrently, with its kind's Check (package resource), and returns the
// resources with State and StateReason set (present, gone, or unknown with
// the reason). A failed check never fails the inventory; only a cancelled
// context does.
func Inventory(ctx context.Context, c resource.Clients, resources []Resource) ([]Resource, error) {
	out := slices.Clone(resources)
	for i := range out {
		out[i].Details = cloneMap(out[i].Details)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inventoryLimit)
	for i := range out {
		g.Go(func() error {
			state, reason := resource.Check(gctx, &c, &out[i])
			if gctx.Err() != nil {
				return gctx.Err()
			}
			out[i].State, out[i].StateReason = state, reason
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return out, fmt.Errorf("check resources: %w", err)
	}
	return out, nil
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
