package resource

import "github.com/keyleak/keyleak/trail"

// ECS clusters and services the chain created, usually to run miners.
// keyleak has no ECS client: they are listed for the responder.
const (
	TypeECSCluster = "AWS::ECS::Cluster"
	TypeECSService = "AWS::ECS::Service"
)

const noECSClient = "keyleak has no ECS client: delete the service, then the cluster, in the console or with aws ecs"

func ecsClusterKind() Kind {
	return Kind{
		Type:   TypeECSCluster,
		Title:  "ECS cluster",
		Events: []string{"CreateCluster"},
		Extract: func(e *trail.Event) []Resource {
			if e.EventSource != "ecs.amazonaws.com" {
				return nil
			}
			return one(first(e.ResponseString("cluster", "clusterName"), e.RequestString("clusterName")), nil)
		},
		Check:        cannotCheck,
		NotRemovable: noECSClient,
	}
}

func ecsServiceKind() Kind {
	return Kind{
		Type:   TypeECSService,
		Title:  "ECS service",
		Events: []string{"CreateService"},
		Extract: func(e *trail.Event) []Resource {
			if e.EventSource != "ecs.amazonaws.com" {
				return nil
			}
			return one(e.ResponseString("service", "serviceArn"), map[string]string{"cluster": e.RequestString("cluster")})
		},
		Check:        cannotCheck,
		NotRemovable: noECSClient,
	}
}
