package resource

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codebuild"

	"github.com/keyleak/keyleak/trail"
)

// TypeCodeBuild is a CodeBuild project the chain created: compute that
// runs whatever its buildspec says, with its service role.
const TypeCodeBuild = "AWS::CodeBuild::Project"

func codeBuildKind() Kind {
	return simple{
		Type:   TypeCodeBuild,
		Title:  "CodeBuild project",
		Events: []string{"CreateProject"},
		Extract: fromSource("codebuild.amazonaws.com", func(e *trail.Event) []Resource {
			return one(first(e.ResponseString("project", "name"), e.RequestString("name")), nil)
		}),
		Service: "CodeBuild",
		Has:     func(c *Clients) bool { return c.CodeBuild != nil },
		Calls:   []string{"codebuild:BatchGetProjects", "codebuild:DeleteProject"},
		Look: func(ctx context.Context, c *Clients, region string, p map[string]string) (bool, string, error) {
			out, err := c.CodeBuild(region).BatchGetProjects(ctx, &codebuild.BatchGetProjectsInput{Names: []string{p["ID"]}})
			if err != nil {
				return false, "", err
			}
			return len(out.Projects) > 0, "", nil
		},
		API: "DeleteProject",
		// CodeBuild answers a missing project's deletion with success.
		Remove: func(ctx context.Context, c *Clients, region string, p map[string]string) (any, error) {
			return c.CodeBuild(region).DeleteProject(ctx, &codebuild.DeleteProjectInput{Name: aws.String(p["ID"])})
		},
		CLI: func(region string, p map[string]string) string {
			return fmt.Sprintf("codebuild delete-project --region %s --name %s", region, p["ID"])
		},
		RemovedBy: "codebuild:DeleteProject",
	}.kind()
}
