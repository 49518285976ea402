package caseview

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"errors"
	"github.com/keyleak/keyleak/internal/casefile"
	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
	"io/fs"
)

// Watched is what a case says a watch for further use must watch: the
// leaked key and every credential made from it that the contain run and
// the investigation found, every region where any of them was seen (the
// watch adds us-east-1), the calls already seen, and when containment was
// last read back (calls that work after it show that it is not complete).
type Watched struct {
	Keys        []string
	Regions     []string
	Known       map[string]bool
	ContainedAt time.Time
}

// WatchedOf reads the case's contain summary, investigation and events.
func WatchedOf(c *playbook.Case) (*Watched, error) {
	w := &Watched{Known: map[string]bool{}}
	keys := map[string]bool{c.Meta().KeyID: true}
	regions := map[string]bool{}
	sum, err := casefile.LoadContain(c)
	if err != nil {
		return nil, err
	}
	if sum == nil {
		sum = &playbook.Summary{}
	}
	if !sum.DryRun {
		w.ContainedAt = sum.ReadAt
	}
	for _, cr := range sum.Credentials {
		if trail.ValidAccessKeyID(cr.ID) {
			keys[cr.ID] = true
		}
		if cr.Region != "" {
			regions[cr.Region] = true
		}
		for _, r := range cr.SeenIn {
			regions[r] = true
		}
	}
	res, err := casefile.LoadResult(c)
	if err != nil {
		return nil, err
	}
	if res == nil {
		res = &trail.Result{}
	}
	for _, k := range res.Keys {
		keys[k.AccessKeyID] = true
		if k.Region != "" {
			regions[k.Region] = true
		}
	}
	events, _, err := trail.ReadEventsFile(c.Path(casefile.EventsFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read events: %w", err)
	}
	for _, e := range events {
		w.Known[e.Key()] = true
		if keys[e.UserIdentity.AccessKeyID] && e.Region != "" {
			regions[e.Region] = true
		}
	}
	for k := range keys {
		if k != "" {
			w.Keys = append(w.Keys, k)
		}
	}
	// The leaked key first, then the others in order.
	sort.Slice(w.Keys, func(i, j int) bool {
		li, lj := w.Keys[i] == c.Meta().KeyID, w.Keys[j] == c.Meta().KeyID
		if li != lj {
			return li
		}
		return strings.Compare(w.Keys[i], w.Keys[j]) < 0
	})
	for r := range regions {
		w.Regions = append(w.Regions, r)
	}
	slices.Sort(w.Regions)
	return w, nil
}
