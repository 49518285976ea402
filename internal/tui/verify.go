package tui

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/keyleak/keyleak/playbook"
	"github.com/keyleak/keyleak/trail"
)

// verifyCallMsg carries calls of the watched keys not seen before.
type verifyCallMsg struct{ events []trail.Event }

// verifyTickMsg is one finished poll.
type verifyTickMsg struct {
	polls   int
	keys    int
	regions int
	err     string
}

// verifyDoneMsg ends the watch.
type verifyDoneMsg struct{ err error }

// lateDelivery is how far back each poll looks: CloudTrail delivers
// events minutes after the call, with the call's time.
const lateDelivery = 15 * time.Minute

// maxVerifyPages bounds the pages read per key, region and poll.
const maxVerifyPages = 5

// watchKeys polls LookupEvents for the leaked key and the keys derived
// from it until d has passed, reporting every call not seen before (and
// keeping it in the case, for the report).
func (s *session) watchKeys(d time.Duration) tea.Cmd {
	c, cfg := s.c, s.cfg
	keys := []string{s.key}
	regions := map[string]bool{"us-east-1": true}
	seen := map[string]bool{}
	if s.inv != nil {
		for _, k := range s.inv.Derived() {
			keys = append(keys, k.AccessKeyID)
			if k.Region != "" {
				regions[k.Region] = true
			}
		}
		for i := range s.inv.Events {
			e := &s.inv.Events[i]
			seen[e.Key()] = true
			if e.Region != "" {
				regions[e.Region] = true
			}
		}
	}
	names := make([]string, 0, len(regions))
	for r := range regions {
		names = append(names, r)
	}
	sort.Strings(names)
	return s.start("verify", func(ctx context.Context, send func(tea.Msg)) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		clients, err := cfg.Engine.Clients(ctx)
		if err != nil {
			send(verifyTickMsg{err: err.Error()})
			send(verifyDoneMsg{})
			return
		}
		limiters := map[string]*rate.Limiter{}
		for _, r := range names {
			limiters[r] = rate.NewLimiter(cfg.LookupRate, cfg.LookupBurst)
		}
		var mu sync.Mutex
		for poll := 1; ; poll++ {
			since := cfg.Now().Add(-lateDelivery)
			var fresh []trail.Event
			g, gctx := errgroup.WithContext(ctx)
			mu.Lock()
			watched := slices.Clone(keys)
			mu.Unlock()
			for _, region := range names {
				g.Go(func() error {
					for _, k := range watched {
						evs, err := lookupSince(gctx, clients.CloudTrail(region), limiters[region], k, since)
						if err != nil {
							return fmt.Errorf("look up %s in %s: %w", k, region, err)
						}
						mu.Lock()
						for _, e := range evs {
							if e.Region == "" {
								e.Region = region
							}
							if !seen[e.Key()] {
								seen[e.Key()] = true
								fresh = append(fresh, e)
								if l, ok := e.Derivation(); ok && !slices.Contains(keys, l.AccessKeyID) {
									keys = append(keys, l.AccessKeyID)
								}
							}
						}
						mu.Unlock()
					}
					return nil
				})
			}
			err := g.Wait()
			if ctx.Err() != nil {
				send(verifyDoneMsg{})
				return
			}
			tick := verifyTickMsg{polls: poll, keys: len(watched), regions: len(names)}
			if err != nil {
				tick.err = err.Error()
			}
			if len(fresh) > 0 {
				sort.Slice(fresh, func(i, j int) bool { return fresh[i].EventTime.Before(fresh[j].EventTime) })
				if _, serr := trail.AppendEventsFile(c.Path(playbook.EventsFile), fresh); serr != nil {
					tick.err = serr.Error()
				}
				send(verifyCallMsg{events: fresh})
			}
			send(tick)
			select {
			case <-ctx.Done():
				send(verifyDoneMsg{})
				return
			case <-time.After(cfg.VerifyEvery):
			}
		}
	})
}

// lookupSince reads the key's events in a region since a time, newest
// first, a few pages at most.
func lookupSince(ctx context.Context, api cloudtrail.LookupEventsAPIClient, lim *rate.Limiter, keyID string, since time.Time) ([]trail.Event, error) {
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}},
		StartTime:        aws.Time(since),
		MaxResults:       aws.Int32(50),
	}
	var out []trail.Event
	for range maxVerifyPages {
		if err := lim.Wait(ctx); err != nil {
			return out, err
		}
		page, err := api.LookupEvents(ctx, in)
		if err != nil {
			return out, err
		}
		for _, ev := range page.Events {
			out = append(out, trail.ParseLookupEvent(ev))
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

// verifyView watches for further use of the key and the keys derived from
// it, for a chosen time, and shows each new call as soon as a poll finds
// it.
type verifyView struct {
	s       *session
	w, h    int
	choice  int
	calls   []trail.Event
	polls   int
	keys    int
	regions int
	started time.Time
	until   time.Time
	pollErr string
	ran     bool
}

func newVerifyView(s *session) *verifyView { return &verifyView{s: s} }

func (v *verifyView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *verifyView) Capturing() bool  { return false }
func (v *verifyView) Enter() tea.Cmd   { return nil }

func (v *verifyView) Keys() helpKeys {
	km := v.s.km
	return helpKeys{short: []key.Binding{km.Enter, km.Longer}, full: [][]key.Binding{{km.Enter, km.Longer, km.Shorter}}}
}

// used tells whether a watched key made a call that worked since the
// watch began. Calls found from before it (CloudTrail delivers late, and
// the investigation may have ended earlier) are shown but do not count.
func (v *verifyView) used() bool {
	for _, e := range v.calls {
		if e.ErrorCode == "" && !e.EventTime.Before(v.started) {
			return true
		}
	}
	return false
}

func (v *verifyView) Update(msg tea.Msg) tea.Cmd {
	km := v.s.km
	switch msg := msg.(type) {
	case verifyCallMsg:
		v.calls = append(v.calls, msg.events...)
		if v.used() {
			v.s.steps[stepVerify] = stateFailed
		}
	case verifyTickMsg:
		v.polls, v.keys, v.regions, v.pollErr = msg.polls, msg.keys, msg.regions, msg.err
	case verifyDoneMsg:
		switch {
		case v.used():
			v.s.steps[stepVerify] = stateFailed
		default:
			v.s.steps[stepVerify] = stateDone
		}
	case tea.KeyMsg:
		n := len(v.s.cfg.VerifyFor)
		switch {
		case key.Matches(msg, km.Longer):
			v.choice = min(v.choice+1, n-1)
		case key.Matches(msg, km.Shorter):
			v.choice = max(v.choice-1, 0)
		case key.Matches(msg, km.Enter):
			switch {
			case v.s.busy("verify"):
			case v.ran:
				return v.s.goNext()
			case v.s.c != nil:
				d := v.s.cfg.VerifyFor[v.choice]
				v.ran, v.calls, v.polls = true, nil, 0
				v.started = v.s.cfg.Now()
				v.until = v.started.Add(d)
				v.s.steps[stepVerify] = stateRunning
				return v.s.watchKeys(d)
			}
		}
	}
	return nil
}

// wide tells whether the region column fits.
func (v *verifyView) wide() bool { return v.w >= 80 }

func (v *verifyView) View() string {
	st := v.s.st
	lines := []string{st.title.Render("Verify: watch for further use"), ""}
	d := v.s.cfg.VerifyFor[v.choice]
	switch {
	case v.s.busy("verify"):
		lines = append(lines, wrapText(fmt.Sprintf("Watching %d keys in %d regions until %s UTC · %d polls",
			v.keys, v.regions, v.until.UTC().Format("15:04:05"), v.polls), v.w)...)
	case v.ran:
		lines = append(lines, wrapText(fmt.Sprintf("Watched %d keys in %d regions from %s to %s UTC · %d polls",
			v.keys, v.regions, v.started.UTC().Format("15:04:05"), v.until.UTC().Format("15:04:05"), v.polls), v.w)...)
	default:
		for _, l := range wrapText("Watch CloudTrail for calls of the leaked key and of every key derived from it: a call that still works means a credential is still open.", v.w) {
			lines = append(lines, l)
		}
		lines = append(lines, "", fmt.Sprintf("Watch for %s (+/- to change) · enter: start", d))
	}
	if v.pollErr != "" {
		lines = append(lines, st.bad.Render(cut(v.pollErr, v.w)))
	}
	lines = append(lines, "")
	if v.ran {
		switch {
		case v.used():
			for _, l := range wrapText("A watched key still works: remove it (Resources) or revoke it.", v.w) {
				lines = append(lines, st.bad.Render(l))
			}
		case len(v.calls) > 0:
			lines = append(lines, st.ok.Render("No call has worked since the watch began."))
		default:
			lines = append(lines, st.ok.Render("No call so far."))
		}
		hdr := fmt.Sprintf("%-8s %-20s ", "TIME", "KEY")
		if v.wide() {
			hdr += fmt.Sprintf("%-14s ", "REGION")
		}
		lines = append(lines, st.label.Render(hdr+"CALL"))
	}
	room := v.h - len(lines) - 1
	calls := v.calls
	if len(calls) > room {
		calls = calls[len(calls)-max(room, 0):]
	}
	for _, e := range calls {
		result := st.attacker.Render("worked")
		switch {
		case e.ErrorCode != "":
			result = st.ok.Render("refused: " + e.ErrorCode)
		case e.EventTime.Before(v.started):
			result = st.dim.Render("worked, before the watch")
		}
		line := fmt.Sprintf("%-8s %-20s ", e.EventTime.UTC().Format("15:04:05"), e.UserIdentity.AccessKeyID)
		if v.wide() {
			line += fmt.Sprintf("%-14s ", cut(e.Region, 14))
		}
		lines = append(lines, line+e.EventName+" "+result)
	}
	if v.ran && !v.s.busy("verify") {
		for len(lines) < v.h-1 {
			lines = append(lines, "")
		}
		lines = append(lines, st.dim.Render("enter: go on to the report"))
	}
	return block(lines, v.w, v.h)
}
