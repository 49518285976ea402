package resource

import "github.com/keyleak/keyleak/trail"

// TypeNotebook is a SageMaker notebook instance the chain created: GPU
// time for mining. keyleak has no SageMaker client: it is listed for the
// responder.
const TypeNotebook = "AWS::SageMaker::NotebookInstance"

func notebookKind() Kind {
	return Kind{
		Type:   TypeNotebook,
		Title:  "SageMaker notebook instance",
		Events: []string{"CreateNotebookInstance"},
		Extract: func(e *trail.Event) []Resource {
			return one(e.RequestString("notebookInstanceName"), nil)
		},
		Check:        cannotCheck,
		NotRemovable: "keyleak has no SageMaker client: stop and delete the notebook instance in the console or with aws sagemaker",
	}
}
