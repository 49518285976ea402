package resource

import (
	"encoding/json"

	"github.com/keyleak/keyleak/trail"
)

// TypeLightsail is a Lightsail instance the chain created. keyleak has no
// Lightsail client: it is listed for the responder.
const TypeLightsail = "AWS::Lightsail::Instance"

func lightsailKind() Kind {
	return Kind{
		Type:   TypeLightsail,
		Title:  "Lightsail instance",
		Events: []string{"CreateInstances"},
		Extract: func(e *trail.Event) []Resource {
			if e.EventSource != "lightsail.amazonaws.com" {
				return nil
			}
			var names []string
			if json.Unmarshal(e.Request("instanceNames"), &names) != nil {
				return nil
			}
			var out []Resource
			for _, n := range names {
				out = append(out, Resource{ID: n})
			}
			return out
		},
		Check:        cannotCheck,
		NotRemovable: "keyleak has no Lightsail client: delete the instance in the Lightsail console or with aws lightsail",
	}
}
