package rotate

import (
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

// journalState is what earlier runs left in the case's journal: the
// rotation resumes from it.
type journalState struct {
	incident       bool // containment or investigation ran on this case
	investigated   bool // an investigation ran
	user           string
	newKey         string // the key this rotation made and still has
	creates        int    // CreateAccessKey attempts
	pendingCreates []time.Time
	handedOver     map[string]bool
	switched       map[string]bool // new key -> the responder confirmed the switch
	deactivatedAt  time.Time
	foundInactive  time.Time
}

// readJournal reads the case's journal for the rotation of old.
func readJournal(c *playbook.Case, old string) (journalState, error) {
	st := journalState{handedOver: map[string]bool{}, switched: map[string]bool{}}
	entries, err := playbook.ReadJournal(c.Journal().Path())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	intents := map[string]time.Time{}
	deleted := map[string]bool{}
	for _, e := range entries {
		mine := strings.HasPrefix(e.Step, "rotate-")
		if !mine && (e.Kind == playbook.KindIntent || e.Kind == playbook.KindNote || e.Kind == playbook.KindOutcome) {
			// Any containment or investigation entry makes this an
			// incident: the key is known to have leaked.
			st.incident = true
		}
		if e.Kind == playbook.KindNote && e.Step == "investigate" {
			st.investigated = true
		}
		if !mine {
			continue
		}
		switch e.Kind {
		case playbook.KindNote:
			if e.Params["key"] == old && e.Params["user"] != "" {
				st.user = e.Params["user"]
			}
			if t, err := time.Parse(time.RFC3339Nano, e.Params["foundInactive"]); err == nil && st.foundInactive.IsZero() {
				st.foundInactive = t
			}
		case playbook.KindIntent:
			if e.Action == "iam:CreateAccessKey" {
				st.creates++
				intents[e.ActionID] = e.Time
			}
		case playbook.KindOutcome:
			// A create that failed without a definite answer (network, 5xx)
			// may have made a key: it stays pending.
			if e.Action == "iam:CreateAccessKey" && (e.Error == nil || e.Error.Definite) {
				delete(intents, e.ActionID)
				if e.Error == nil {
					if m, ok := e.Response.(map[string]any); ok {
						if id, _ := m["accessKeyId"].(string); id != "" {
							st.newKey = id
						}
					}
				}
			}
			if e.Error != nil {
				continue
			}
			switch {
			case strings.HasPrefix(e.ActionID, StepHandover+"/"):
				st.handedOver[strings.TrimPrefix(e.ActionID, StepHandover+"/")] = true
			case strings.HasPrefix(e.ActionID, "rotate/DeleteAccessKey/"):
				deleted[strings.TrimPrefix(e.ActionID, "rotate/DeleteAccessKey/")] = true
			case e.ActionID == StepDeactivate+"/UpdateAccessKey/"+old:
				st.deactivatedAt = e.Time
			}
		case playbook.KindReconciled:
			if strings.HasPrefix(e.ActionID, StepHandover+"/") {
				id := strings.TrimPrefix(e.ActionID, StepHandover+"/")
				st.handedOver[id] = true
				if e.Params["newKey"] == id {
					st.newKey = id
				}
			}
		case playbook.KindDecision:
			if e.Step == StepSwitch && strings.HasPrefix(e.Message, "approved") && e.Params["newKey"] != "" {
				st.switched[e.Params["newKey"]] = true
			}
		}
	}
	if deleted[st.newKey] {
		st.newKey = ""
	}
	for _, t := range intents {
		st.pendingCreates = append(st.pendingCreates, t)
	}
	return st, nil
}
