package audit

import (
	"fmt"
	"slices"
)

// Recommendation is one line of a report's recommendations section: what to
// do, why, and to whom it applies.
type Recommendation struct {
	ID       string   `json:"id"` // the check it comes from, or "keychain", "git-secrets"
	Severity string   `json:"severity"`
	Title    string   `json:"title"` // what to do, one sentence
	Why      string   `json:"why"`
	Subjects []string `json:"subjects,omitempty"` // users, or user/key ID
}

// recommendationText is the title and reason of each check's recommendation.
var recommendationText = map[string][2]string{
	CheckRootKey: {"Delete the root user's access keys and use IAM roles instead.",
		"Root keys can do anything, cannot be restricted by any policy, and cannot be revoked by session policies."},
	CheckAdminKey: {"Replace administrators' long-term keys with roles assumed for short sessions (with MFA).",
		"A leaked administrator key gives the attacker the whole account, as in the incident this tool was built for."},
	CheckConsoleNoMFA: {"Enable MFA for every console user who also has access keys.",
		"A phished password is enough to create new keys when there is no second factor."},
	CheckTwoActiveKeys: {"Keep one active key per user; deactivate the key no workload uses.",
		"The second slot exists for rotation; a forgotten active key is a leak nobody watches."},
	CheckOldKey: {"Rotate keys older than the age limit (keyleak rotate --key …).",
		"Old keys have had the most chances to be copied into code, tickets and images."},
	CheckUnusedKey: {"Deactivate keys unused for the limit, then delete them.",
		"A key nothing uses can only be used by someone who should not."},
	CheckPoliciesUnread: {"Allow the auditor to read IAM policies (iam:List*Policies, iam:Get*Policy*, iam:ListGroupsForUser).",
		"Without them the administrator check could not be made."},
}

// Recommendations turns an audit into the report's recommendations, most
// severe first, one per check with every subject it applies to, followed by
// the standing advice on where keys belong.
func Recommendations(r *Report) []Recommendation {
	byCheck := map[string]*Recommendation{}
	var order []string
	for _, f := range r.Findings {
		rec := byCheck[f.Check]
		if rec == nil {
			txt := recommendationText[f.Check]
			rec = &Recommendation{ID: f.Check, Severity: f.Severity, Title: txt[0], Why: txt[1]}
			byCheck[f.Check] = rec
			order = append(order, f.Check)
		}
		if f.Severity == SeverityHigh {
			rec.Severity = SeverityHigh
		}
		subject := f.User
		if f.AccessKeyID != "" {
			subject += "/" + f.AccessKeyID
		} else if f.Slot > 0 {
			subject += fmt.Sprintf("/key %d", f.Slot)
		}
		if !slices.Contains(rec.Subjects, subject) {
			rec.Subjects = append(rec.Subjects, subject)
		}
	}
	var out []Recommendation
	for _, id := range order {
		out = append(out, *byCheck[id])
	}
	keys := 0
	for _, u := range r.Users {
		for _, k := range u.Keys {
			if k.Active {
				keys++
			}
		}
	}
	if keys > 0 {
		out = append(out, Recommendation{ID: "keychain", Severity: SeverityLow,
			Title: "Keep the long-term keys that remain in a keychain (aws-vault), never in files or code; prefer roles and STS.",
			Why:   fmt.Sprintf("The account has %d active long-term keys; a key in a plain file is one commit away from a public repository.", keys)})
	}
	out = append(out, Recommendation{ID: "git-secrets", Severity: SeverityLow,
		Title: "Install git-secrets (or a similar pre-commit hook) in every repository.",
		Why:   "It refuses commits that hold AWS keys, before they can be pushed."})
	return out
}
