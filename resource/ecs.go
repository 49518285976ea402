package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/keyleak/keyleak/trail"
)

// ECS clusters, services and tasks the chain created, usually Fargate
// tasks running miners. A service starts its tasks again, so services go
// first, then tasks, then the cluster, which ECS deletes only empty.
const (
	TypeECSCluster = "AWS::ECS::Cluster"
	TypeECSService = "AWS::ECS::Service"
	TypeECSTask    = "AWS::ECS::Task"
)

const ecsSource = "ecs.amazonaws.com"

func hasECS(c *Clients) bool { return c.ECS != nil }

func ecsClusterKind() Kind {
	return simple{
		Type:   TypeECSCluster,
		Title:  "ECS cluster",
		Events: []string{"CreateCluster"},
		Extract: fromSource(ecsSource, func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("cluster", "clusterName"), e.RequestString("clusterName")), nil)
		}),
		Service:  "ECS",
		Has:      hasECS,
		Calls:    []string{"ecs:DescribeClusters", "ecs:DeleteCluster"},
		NotFound: []string{"ClusterNotFoundException"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.ECS(region).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, cl := range out.Clusters {
				st := aws.ToString(cl.Status)
				return st != "INACTIVE", st, nil
			}
			return false, "missing", nil
		},
		API: "DeleteCluster",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.ECS(region).DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(p["ID"])})
			if isCode(err, "ClusterContainsServicesException", "ClusterContainsTasksException", "ClusterContainsContainerInstancesException") {
				return out, fmt.Errorf("ECS cluster %s still runs services or tasks; remove them and run again: %w", p["ID"], err)
			}
			return out, err
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ecs delete-cluster --region %s --cluster %s", region, p["ID"])
		},
		RemovedBy: "ecs:DeleteCluster",
	}.kind()
}

func ecsServiceKind() Kind {
	return simple{
		Type:   TypeECSService,
		Title:  "ECS service",
		Events: []string{"CreateService"},
		Extract: fromSource(ecsSource, func(e *trail.Event) []Resource {
			return one(e.ResponseString("service", "serviceArn"), map[string]string{
				"cluster": first(e.ResponseString("service", "clusterArn"), e.RequestString("cluster"), "default")})
		}),
		Service:  "ECS",
		Has:      hasECS,
		Calls:    []string{"ecs:DescribeServices", "ecs:DeleteService"},
		NotFound: []string{"ServiceNotFoundException", "ClusterNotFoundException"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.ECS(region).DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(p["cluster"]), Services: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, sv := range out.Services {
				// DRAINING: deleted, its tasks stopping.
				st := aws.ToString(sv.Status)
				return st == "ACTIVE", st, nil
			}
			return false, "missing", nil
		},
		API: "DeleteService",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			// Force: a service need not be scaled to zero first.
			return c.ECS(region).DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(p["cluster"]), Service: aws.String(p["ID"]), Force: aws.Bool(true)})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ecs delete-service --region %s --cluster %s --service %s --force", region, p["cluster"], p["ID"])
		},
		RemovedBy: "ecs:DeleteService (forced, its tasks stopped)",
	}.kind()
}

func ecsTaskKind() Kind {
	return simple{
		Type:   TypeECSTask,
		Title:  "ECS task",
		Events: []string{"RunTask"},
		Extract: fromSource(ecsSource, func(e *trail.Event) []Resource {
			var out []Resource
			for _, t := range items(e.Response("tasks")) {
				if arn := field(t, "taskArn"); arn != "" {
					out = append(out, Resource{ID: arn, Details: map[string]string{
						"cluster": first(field(t, "clusterArn"), e.RequestString("cluster"), "default"), "launchType": field(t, "launchType")}})
				}
			}
			return out
		}),
		Service:  "ECS",
		Has:      hasECS,
		Calls:    []string{"ecs:DescribeTasks", "ecs:StopTask"},
		NotFound: []string{"ClusterNotFoundException"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.ECS(region).DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(p["cluster"]), Tasks: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			for _, t := range out.Tasks {
				st := aws.ToString(t.LastStatus)
				if st == "STOPPED" || aws.ToString(t.DesiredStatus) == "STOPPED" {
					return false, st, nil
				}
				return true, st, nil
			}
			// ECS forgets stopped tasks within the hour.
			return false, "missing", nil
		},
		API: "StopTask",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.ECS(region).StopTask(ctx, &ecs.StopTaskInput{Cluster: aws.String(p["cluster"]), Task: aws.String(p["ID"]),
				Reason: aws.String("stopped by keyleak: started with a leaked access key")})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("ecs stop-task --region %s --cluster %s --task %s", region, p["cluster"], p["ID"])
		},
		RemovedBy: "ecs:StopTask",
	}.kind()
}
