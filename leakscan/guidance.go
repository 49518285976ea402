package leakscan

import (
	"fmt"
	"strings"
)

// Guidance is what the responder should take from a scan, one sentence
// each, most important first. The CLI prints it and the TUI shows it.
func Guidance(res *Result) []string {
	var out []string
	var creds, pushed, hidden []string
	for _, f := range res.Findings {
		if !IsCredential(f.Kind) || f.Kind == KindSecret {
			continue
		}
		creds = append(creds, f.Value)
		switch f.Reach {
		case ReachPushed:
			pushed = append(pushed, f.Value)
		case ReachStash, ReachReflog, ReachUnreachable:
			hidden = append(hidden, f.Value)
		}
	}
	if len(creds) == 0 {
		if res.Key != "" {
			out = append(out, fmt.Sprintf("%s is not in this repository's objects or working tree; if it leaked, it leaked from somewhere else (a ticket, a container image, a CI log): treat it as leaked all the same.", res.Key))
		}
		return out
	}
	out = append(out, "Treat every key listed as leaked even if the commit is removed: clones, forks, caches and anyone who fetched keep the objects — in the incident this tool is built for, deleting the repository did not stop the attacker.")
	if len(pushed) > 0 {
		out = append(out, fmt.Sprintf("Pushed to a remote (%s): if that remote is public, assume the key was copied within minutes; deactivate it now with keyleak contain --key %s.", strings.Join(pushed, ", "), pushed[0]))
	}
	if len(hidden) > 0 {
		out = append(out, fmt.Sprintf("Only in stashes, reflogs or unreachable objects (%s): on no branch, but in this clone's object store and in every copy of it (backups, images, CI caches).", strings.Join(hidden, ", ")))
	}
	out = append(out, "Rotate each key (keyleak rotate --key …) and keep the new secret out of code: a keychain such as aws-vault, roles and STS instead of long-term keys, and git-secrets as a pre-commit hook.")
	return out
}
