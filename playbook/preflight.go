package playbook

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// PreflightResult says whether the responder may make every call the
// runbook needs.
type PreflightResult struct {
	Checked bool     `json:"checked"`          // the simulation ran
	Denied  []string `json:"denied,omitempty"` // actions the responder may not call
	Note    string   `json:"note,omitempty"`   // why it did not run
}

func preflightStep() Step {
	return Step{
		ID:    StepPreflight,
		Title: "Check the responder's permissions",
		Why: "Knowing before the first change that a later call will be denied avoids a half-done containment; " +
			"where the simulation is not allowed, the first denied call names the missing permission instead.",
		Idempotent: true,
		Optional:   true,
		Calls:      []string{"iam:SimulatePrincipalPolicy"},
		Prepare: func(ctx context.Context, st *State) error {
			res := Preflight(ctx, st.IAM, st.Responder.ARN, RequiredActions())
			st.Preflight = &res
			return nil
		},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			switch {
			case st.Preflight == nil:
			case !st.Preflight.Checked:
				if err := st.Note(ctx, st.Preflight.Note); err != nil {
					return nil, err
				}
			case len(st.Preflight.Denied) > 0:
				st.Warn("your credentials may not call %s: the steps that need them will fail", strings.Join(st.Preflight.Denied, ", "))
			}
			return nil, nil
		},
	}
}

// Preflight asks IAM (SimulatePrincipalPolicy) whether principalARN may call
// each action. It never fails: where the simulation is not possible (root,
// federated users, the permission missing, an endpoint without the API) the
// result says so in Note and the run goes on.
func Preflight(ctx context.Context, sim PolicySimulator, principalARN string, actions []string) PreflightResult {
	source, why := simulationSource(principalARN)
	if source == "" {
		return PreflightResult{Note: "preflight skipped: " + why}
	}
	res := PreflightResult{Checked: true}
	p := iam.NewSimulatePrincipalPolicyPaginator(sim, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: actions})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return PreflightResult{Note: fmt.Sprintf("preflight skipped: the permission simulation is not available (%v); the first denied call will name the missing permission", err)}
		}
		for _, r := range page.EvaluationResults {
			if r.EvalDecision != "allowed" {
				res.Denied = append(res.Denied, aws.ToString(r.EvalActionName))
			}
		}
	}
	return res
}

// simulationSource turns the responder's ARN into the ARN IAM can simulate.
func simulationSource(arn string) (source, why string) {
	switch {
	case arn == "":
		return "", "the responder is not known"
	case strings.HasSuffix(arn, ":root"):
		return "", "the root user cannot be simulated (and may do everything)"
	case strings.Contains(arn, ":federated-user/"):
		return "", "federated users cannot be simulated"
	case strings.Contains(arn, ":assumed-role/"):
		name, err := RoleNameFromARN(arn)
		if err != nil {
			return "", err.Error()
		}
		acct := strings.SplitN(arn, ":", 6)[4]
		// A role with a path has a different ARN; the simulation then fails
		// and the preflight is skipped, which is harmless.
		return "arn:aws:iam::" + acct + ":role/" + name, ""
	}
	return arn, ""
}
