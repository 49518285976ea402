package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/keyleak/keyleak/trail"
)

// EKS clusters and their managed node groups (the instances). EKS deletes
// a cluster only once its node groups are gone, so they go first.
const (
	TypeEKSCluster   = "AWS::EKS::Cluster"
	TypeEKSNodegroup = "AWS::EKS::Nodegroup"
)

const eksSource = "eks.amazonaws.com"

var eksNotFound = []string{"ResourceNotFoundException"}

func hasEKS(c *Clients) bool { return c.EKS != nil }

func eksClusterKind() Kind {
	return simple{
		Type:   TypeEKSCluster,
		Title:  "EKS cluster",
		Events: []string{"CreateCluster"},
		Extract: fromSource(eksSource, func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("cluster", "name"), e.RequestString("name")), nil)
		}),
		Service:  "EKS",
		Has:      hasEKS,
		Calls:    []string{"eks:DescribeCluster", "eks:DeleteCluster"},
		NotFound: eksNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EKS(region).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(p["ID"])})
			if err != nil {
				return false, "", err
			}
			st := out.Cluster.Status
			return st != ekstypes.ClusterStatusDeleting, string(st), nil
		},
		API: "DeleteCluster",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			out, err := c.EKS(region).DeleteCluster(ctx, &eks.DeleteClusterInput{Name: aws.String(p["ID"])})
			if isCode(err, "ResourceInUseException") {
				return out, fmt.Errorf("EKS cluster %s still has node groups; remove them and run again once they are deleted: %w", p["ID"], err)
			}
			return out, err
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("eks delete-cluster --region %s --name %s", region, p["ID"])
		},
		RemovedBy: "eks:DeleteCluster",
	}.kind()
}

func eksNodegroupKind() Kind {
	return simple{
		Type:   TypeEKSNodegroup,
		Title:  "EKS node group",
		Events: []string{"CreateNodegroup"},
		Extract: fromSource(eksSource, func(e *trail.Event) []Resource {
			cluster := first(e.ResponseString("nodegroup", "clusterName"), e.RequestString("name"), e.RequestString("clusterName"))
			name := first(e.ResponseString("nodegroup", "nodegroupName"), e.RequestString("nodegroupName"))
			if cluster == "" || name == "" {
				return nil
			}
			return one(cluster+"/"+name, map[string]string{"cluster": cluster, "nodegroup": name})
		}),
		Service:  "EKS",
		Has:      hasEKS,
		Calls:    []string{"eks:DescribeNodegroup", "eks:DeleteNodegroup"},
		NotFound: eksNotFound,
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.EKS(region).DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(p["cluster"]), NodegroupName: aws.String(p["nodegroup"])})
			if err != nil {
				return false, "", err
			}
			st := out.Nodegroup.Status
			return st != ekstypes.NodegroupStatusDeleting, string(st), nil
		},
		API: "DeleteNodegroup",
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.EKS(region).DeleteNodegroup(ctx, &eks.DeleteNodegroupInput{ClusterName: aws.String(p["cluster"]), NodegroupName: aws.String(p["nodegroup"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("eks delete-nodegroup --region %s --cluster-name %s --nodegroup-name %s", region, p["cluster"], p["nodegroup"])
		},
		RemovedBy: "eks:DeleteNodegroup (with its instances)",
	}.kind()
}
