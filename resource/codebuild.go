package resource

import "github.com/keyleak/keyleak/trail"

// TypeCodeBuild is a CodeBuild project the chain created: compute that runs
// whatever its buildspec says. keyleak has no CodeBuild client: it is
// listed for the responder.
const TypeCodeBuild = "AWS::CodeBuild::Project"

func codeBuildKind() Kind {
	return Kind{
		Type:   TypeCodeBuild,
		Title:  "CodeBuild project",
		Events: []string{"CreateProject"},
		Extract: func(e *trail.Event) []Resource {
			if e.EventSource != "codebuild.amazonaws.com" {
				return nil
			}
			return one(e.RequestString("name"), nil)
		},
		Check:        cannotCheck,
		NotRemovable: "keyleak has no CodeBuild client: delete the project in the console or with aws codebuild",
	}
}
