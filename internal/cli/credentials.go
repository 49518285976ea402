package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

// renderAttackerCredentials is the part of the contain summary that says
// what still works: every credential of the attacker with its state as AWS
// had it when the run read it back, and how CloudTrail was searched.
func renderAttackerCredentials(sum *playbook.Summary) string {
	if len(sum.Credentials) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Attacker credentials, as AWS had them at %s:\n", sum.ReadAt.UTC().Format(time.RFC3339))
	working := 0
	for _, c := range sum.Credentials {
		state := c.State
		switch c.State {
		case playbook.CredDenied:
			if !c.DeniedSince.IsZero() {
				state = "denied since " + c.DeniedSince.UTC().Format(time.RFC3339)
			}
		case playbook.CredWorking:
			state = "STILL WORKING"
			working++
		}
		fmt.Fprintf(&b, "  %-37s %-16s %s\n", state, c.Kind, c.Label())
		var how []string
		if c.Via != "" {
			how = append(how, fmt.Sprintf("%s by %s at %s in %s", c.Via, c.Parent, c.Issued.UTC().Format(time.RFC3339), c.Region))
		}
		if !c.Expires.IsZero() && c.State != playbook.CredExpired {
			how = append(how, "expires "+c.Expires.UTC().Format(time.RFC3339))
		}
		if c.Note != "" {
			how = append(how, c.Note)
		}
		if len(how) > 0 {
			fmt.Fprintf(&b, "  %-37s %-16s %s\n", "", "", strings.Join(how, "; "))
		}
	}
	switch {
	case sum.DryRun:
		b.WriteString("Dry run: these are the states before any change.\n")
	case working == 1:
		b.WriteString("1 attacker credential still works: see what to do above.\n")
	case working > 1:
		fmt.Fprintf(&b, "%d attacker credentials still work: see what to do above.\n", working)
	default:
		b.WriteString("No attacker credential found works any more (sts:GetCallerIdentity answers whatever a policy says; it proves nothing).\n")
	}
	if s := sum.MintedSearch; s != nil {
		fmt.Fprintf(&b, "Searched CloudTrail for what the key minted: %d regions, %d lookups, %d events", s.Regions, s.Lookups, s.Events)
		if !s.Until.IsZero() {
			fmt.Fprintf(&b, ", up to %s", s.Until.UTC().Format(time.RFC3339))
		}
		b.WriteString(".\n")
		for _, f := range s.Failed {
			fmt.Fprintf(&b, "NOT SEARCHED %s\n", f)
		}
		if s.Delay != "" {
			fmt.Fprintf(&b, "Note: %s.\n", s.Delay)
		}
	}
	return b.String()
}
