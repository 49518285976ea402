package cli

import (
	"encoding/json"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/keyleak/keyleak/playbook"
)

// requiredActions is every AWS action keyleak's code can call, taken from
// the packages that declare them, not from a hand-kept list.
func requiredActions() []string {
	return playbook.RequiredActions()
}

// The minimal responder policy allows every action the code can call.
func TestResponderPolicyCoversEveryAction(t *testing.T) {
	b, err := os.ReadFile("../../examples/policies/responder.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("responder.json is not a policy: %v", err)
	}
	var allowed []string
	for _, st := range doc.Statement {
		if st.Effect == "Allow" {
			allowed = append(allowed, st.Action...)
		}
	}
	for _, a := range allowed {
		if a == "*" || strings.HasSuffix(a, ":*") {
			t.Errorf("responder.json allows %s: the policy must stay minimal", a)
		}
	}
	for _, need := range requiredActions() {
		ok := false
		for _, a := range allowed {
			if m, _ := path.Match(strings.ToLower(a), strings.ToLower(need)); m {
				ok = true
			}
		}
		if !ok {
			t.Errorf("responder.json does not allow %s, which keyleak calls", need)
		}
	}
}
