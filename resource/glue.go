package resource

import "github.com/keyleak/keyleak/trail"

// TypeGlueDevEndpoint is a Glue development endpoint the chain created: an
// SSH-reachable machine with the role it was given. keyleak has no Glue
// client: it is listed for the responder.
const TypeGlueDevEndpoint = "AWS::Glue::DevEndpoint"

func glueDevEndpointKind() Kind {
	return Kind{
		Type:   TypeGlueDevEndpoint,
		Title:  "Glue development endpoint",
		Events: []string{"CreateDevEndpoint"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.RequestString("endpointName"), nil)
		},
		Check:        cannotCheck,
		NotRemovable: "keyleak has no Glue client: delete the endpoint in the console or with aws glue",
	}
}
