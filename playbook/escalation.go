package playbook

import (
	"strings"
)

// EscalationPath is a published way for an IAM principal to raise its own
// permissions: the actions that, granted together, let it act as someone
// more powerful (a role it passes to a service it controls, a policy it
// rewrites, a key it makes for another user).
type EscalationPath struct {
	ID      string   `json:"id"`
	Actions []string `json:"actions"`
	// How is one plain sentence: what the key's holder would do.
	How string `json:"how"`
}

// escalationPaths are the privilege-escalation methods published for IAM
// (Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and
// Mitigation", 2018, and its later additions; Bishop Fox's iam-vulnerable
// exercises them), each written here in keyleak's words. The list is what
// identify checks the owner's Allow statements against.
var escalationPaths = []EscalationPath{
	{ID: "create-policy-version", Actions: []string{"iam:CreatePolicyVersion"},
		How: "write a new default version of a managed policy attached to it, granting itself anything"},
	{ID: "set-default-policy-version", Actions: []string{"iam:SetDefaultPolicyVersion"},
		How: "switch an attached managed policy to an older, broader version"},
	{ID: "attach-user-policy", Actions: []string{"iam:AttachUserPolicy"},
		How: "attach AdministratorAccess to its own user"},
	{ID: "attach-group-policy", Actions: []string{"iam:AttachGroupPolicy"},
		How: "attach AdministratorAccess to a group it belongs to"},
	{ID: "attach-role-policy", Actions: []string{"iam:AttachRolePolicy", "sts:AssumeRole"},
		How: "attach AdministratorAccess to a role it can assume"},
	{ID: "put-user-policy", Actions: []string{"iam:PutUserPolicy"},
		How: "write an inline policy granting its own user anything"},
	{ID: "put-group-policy", Actions: []string{"iam:PutGroupPolicy"},
		How: "write an inline policy into a group it belongs to"},
	{ID: "put-role-policy", Actions: []string{"iam:PutRolePolicy", "sts:AssumeRole"},
		How: "write an inline policy into a role it can assume"},
	{ID: "add-user-to-group", Actions: []string{"iam:AddUserToGroup"},
		How: "add its own user to an administrators' group"},
	{ID: "create-access-key", Actions: []string{"iam:CreateAccessKey"},
		How: "make an access key for a more powerful user"},
	{ID: "create-login-profile", Actions: []string{"iam:CreateLoginProfile"},
		How: "set a console password on a more powerful user that has none"},
	{ID: "update-login-profile", Actions: []string{"iam:UpdateLoginProfile"},
		How: "change a more powerful user's console password"},
	{ID: "update-assume-role-policy", Actions: []string{"iam:UpdateAssumeRolePolicy", "sts:AssumeRole"},
		How: "rewrite a powerful role's trust policy to admit itself, then assume it"},
	{ID: "passrole-ec2", Actions: []string{"iam:PassRole", "ec2:RunInstances"},
		How: "start an instance with a powerful role and read the role's credentials from it"},
	{ID: "passrole-lambda-invoke", Actions: []string{"iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"},
		How: "create a function running as a powerful role and invoke it"},
	{ID: "passrole-lambda-event-source", Actions: []string{"iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"},
		How: "create a function running as a powerful role and have an event source trigger it"},
	{ID: "update-function-code", Actions: []string{"lambda:UpdateFunctionCode"},
		How: "replace the code of an existing function that runs as a powerful role"},
	{ID: "passrole-glue-dev-endpoint", Actions: []string{"iam:PassRole", "glue:CreateDevEndpoint"},
		How: "create a Glue development endpoint with a powerful role and log in to it"},
	{ID: "update-glue-dev-endpoint", Actions: []string{"glue:UpdateDevEndpoint"},
		How: "add its own SSH key to an existing Glue development endpoint that runs as a powerful role"},
	{ID: "passrole-cloudformation", Actions: []string{"iam:PassRole", "cloudformation:CreateStack"},
		How: "create a stack that runs as a powerful role and makes what it wants"},
	{ID: "passrole-datapipeline", Actions: []string{"iam:PassRole", "datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"},
		How: "run a data pipeline as a powerful role"},
	{ID: "passrole-sagemaker-notebook", Actions: []string{"iam:PassRole", "sagemaker:CreateNotebookInstance", "sagemaker:CreatePresignedNotebookInstanceUrl"},
		How: "open a SageMaker notebook running as a powerful role"},
	{ID: "passrole-codebuild", Actions: []string{"iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"},
		How: "run a build as a powerful role"},
	{ID: "ssm-send-command", Actions: []string{"ssm:SendCommand"},
		How: "run commands on an instance whose role is more powerful, and read that role's credentials"},
}

// EscalationPaths returns the published escalation paths the policies'
// Allow statements grant in full. Like ClassifyAccess it reads the policies
// as written: resource scoping, conditions, permission boundaries and SCPs
// may stop a path, so a path listed is one to check, not a proof.
func EscalationPaths(policies []PolicyRef) []EscalationPath {
	var allows []stmt
	for _, p := range policies {
		for _, s := range parseStatements(p.Doc) {
			if strings.EqualFold(s.Effect, "Allow") {
				allows = append(allows, s)
			}
		}
	}
	allowed := func(action string) bool {
		for _, s := range allows {
			if len(s.NotAction) > 0 && !matchAction(s.NotAction, action) {
				return true
			}
			if matchAction(s.Action, action) {
				return true
			}
		}
		return false
	}
	var out []EscalationPath
	for _, p := range escalationPaths {
		all := true
		for _, a := range p.Actions {
			if !allowed(a) {
				all = false
				break
			}
		}
		if all {
			out = append(out, p)
		}
	}
	return out
}
