package playbook

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func revertMintedStep() Step {
	return Step{
		ID:    StepRevertMinted,
		Title: "Undo the trust policies and MFA devices the attacker changed",
		Why: "A role whose trust policy admits an account of the attacker's, or an MFA device the attacker registered, is a way back in that no key holds. " +
			"Each change is shown and undone only when you confirm it: the outside principals are taken out of the trust policy (the policy before is journaled), " +
			"and the MFA device is deactivated and deleted, which cannot be undone.",
		Destructive: true,
		Calls: []string{"ec2:DescribeRegions", "cloudtrail:LookupEvents", "iam:GetRole", "iam:UpdateAssumeRolePolicy",
			"iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"},
		Prepare: func(ctx context.Context, st *State) error {
			if st.trail == nil {
				return nil
			}
			return st.minted.run(ctx, st)
		},
		Plan:  planRevertMinted,
		Apply: applyRevertMinted,
		Check: checkRevertMinted,
	}
}

// planRevertMinted plans, from the live state, the undoing of each trust
// policy change and MFA device of the attacker's that is still in place.
func planRevertMinted(ctx context.Context, st *State) ([]Action, error) {
	if st.trail == nil {
		return nil, nil
	}
	var (
		out     []Action
		virtual map[string]string // serial -> user ("" unassigned), read once
	)
	for _, c := range st.minted.all() {
		if !st.leakedAt.IsZero() && c.Issued.Before(st.leakedAt) {
			continue
		}
		switch c.Kind {
		case CredTrustPolicy:
			a, err := planTrustRevert(ctx, st, c)
			if err != nil {
				return nil, err
			}
			if a != nil {
				out = append(out, *a)
			}
		case CredMFADevice:
			if virtual == nil {
				var err error
				if virtual, err = listVirtualMFA(ctx, st.IAM); err != nil {
					return nil, err
				}
			}
			user, exists := virtual[c.ID]
			if !exists && c.User != "" {
				// Not a virtual device of the account (a hardware one), or
				// gone: the user's list says whether it is still enabled.
				enabled, err := mfaEnabled(ctx, st.IAM, c.User, c.ID)
				if err != nil {
					return nil, err
				}
				if enabled {
					user = c.User
				}
			}
			if user != "" {
				out = append(out, Action{
					ID:      StepRevertMinted + "/DeactivateMFADevice/" + c.ID,
					Service: "iam", Name: "DeactivateMFADevice",
					Params: map[string]string{"UserName": user, "SerialNumber": c.ID},
					Description: fmt.Sprintf("iam DeactivateMFADevice --user-name %s --serial-number %s (%s by %s at %s)",
						user, c.ID, c.Via, c.Parent, c.Issued.Format("2006-01-02T15:04:05Z07:00")),
				})
			}
			if exists {
				out = append(out, Action{
					ID:      StepRevertMinted + "/DeleteVirtualMFADevice/" + c.ID,
					Service: "iam", Name: "DeleteVirtualMFADevice",
					Params:      map[string]string{"SerialNumber": c.ID},
					Description: fmt.Sprintf("iam DeleteVirtualMFADevice --serial-number %s (made or enabled by %s)", c.ID, c.Parent),
				})
			}
			if user == "" && !exists {
				if _, done := st.DoneAt(StepRevertMinted + "/DeleteVirtualMFADevice/" + c.ID); done {
					out = append(out, Action{ID: StepRevertMinted + "/DeleteVirtualMFADevice/" + c.ID, Service: "iam", Name: "DeleteVirtualMFADevice",
						Description: "iam DeleteVirtualMFADevice --serial-number " + c.ID, InPlace: true})
				}
			}
		}
	}
	return out, nil
}

// planTrustRevert plans taking the outside principals the attacker added
// out of a role's trust policy, if they are still in it.
func planTrustRevert(ctx context.Context, st *State, c AttackerCredential) (*Action, error) {
	id := StepRevertMinted + "/UpdateAssumeRolePolicy/" + c.ID
	out, err := st.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(c.ID)})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read role %s: %w", c.ID, err)
	}
	if out.Role == nil {
		return nil, nil
	}
	if strings.HasPrefix(aws.ToString(out.Role.Path), "/aws-service-role/") {
		return nil, nil // AWS's own trust policy: not the attacker's to have changed
	}
	current := decodeDoc(aws.ToString(out.Role.AssumeRolePolicyDocument))
	var remove []string
	for _, p := range OutsidePrincipals(current, st.Responder.Account) {
		if slices.Contains(c.Principals, p) {
			remove = append(remove, p)
		}
	}
	if len(remove) == 0 {
		if _, done := st.DoneAt(id); done {
			return &Action{ID: id, Service: "iam", Name: "UpdateAssumeRolePolicy", InPlace: true,
				Description: "iam UpdateAssumeRolePolicy --role-name " + c.ID}, nil
		}
		return nil, nil
	}
	doc, err := withoutPrincipals(current, remove)
	if err != nil {
		return nil, fmt.Errorf("revert trust policy of %s: %w", c.ID, err)
	}
	if st.minted.once("trust-previous|" + c.ID) {
		st.Warn("the trust policy role %s had before %s changed it is not in CloudTrail's record of the change: "+
			"keyleak takes out only the principals the attacker added (%s); check that the role's legitimate principals are still in it",
			c.ID, c.Parent, strings.Join(remove, ", "))
	}
	return &Action{
		ID:      id,
		Service: "iam", Name: "UpdateAssumeRolePolicy",
		Params: map[string]string{"RoleName": c.ID, "PolicyDocument": doc, "Previous": current, "Removed": strings.Join(remove, " ")},
		Description: fmt.Sprintf("iam UpdateAssumeRolePolicy --role-name %s --policy-document '%s' (takes out %s, which %s let in with %s at %s)",
			c.ID, doc, strings.Join(remove, ", "), c.Parent, c.Via, c.Issued.Format("2006-01-02T15:04:05Z07:00")),
	}, nil
}

// withoutPrincipals returns the trust policy without the given AWS
// principals; a statement left with no principal goes, and a policy left
// with no statement denies everyone (IAM requires one).
func withoutPrincipals(doc string, remove []string) (string, error) {
	var p map[string]any
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return "", fmt.Errorf("read trust policy: %w", err)
	}
	var list []any
	switch s := p["Statement"].(type) {
	case []any:
		list = s
	case map[string]any:
		list = []any{s}
	}
	var kept []any
	for _, raw := range list {
		s, ok := raw.(map[string]any)
		if !ok {
			kept = append(kept, raw)
			continue
		}
		switch pr := s["Principal"].(type) {
		case string:
			if slices.Contains(remove, pr) {
				continue
			}
		case map[string]any:
			if aws, ok := pr["AWS"]; ok {
				var left []any
				switch v := aws.(type) {
				case string:
					if !slices.Contains(remove, v) {
						left = append(left, v)
					}
				case []any:
					for _, x := range v {
						if str, ok := x.(string); !ok || !slices.Contains(remove, str) {
							left = append(left, x)
						}
					}
				}
				switch len(left) {
				case 0:
					delete(pr, "AWS")
				case 1:
					pr["AWS"] = left[0]
				default:
					pr["AWS"] = left
				}
				if len(pr) == 0 {
					continue
				}
			}
		}
		kept = append(kept, s)
	}
	if len(kept) == 0 {
		kept = []any{map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"}}
	}
	p["Statement"] = kept
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("write trust policy: %w", err)
	}
	return string(b), nil
}

// listVirtualMFA maps every virtual MFA device of the account to the user
// it is enabled for ("" when none).
func listVirtualMFA(ctx context.Context, api RevertAPI) (map[string]string, error) {
	out := map[string]string{}
	p := iam.NewListVirtualMFADevicesPaginator(api, &iam.ListVirtualMFADevicesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list virtual MFA devices: %w", err)
		}
		for _, d := range page.VirtualMFADevices {
			user := ""
			if d.User != nil {
				user = aws.ToString(d.User.UserName)
			}
			out[aws.ToString(d.SerialNumber)] = user
		}
	}
	return out, nil
}

// mfaEnabled reports whether an MFA device is enabled for a user.
func mfaEnabled(ctx context.Context, api RevertAPI, user, serial string) (bool, error) {
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("list MFA devices of %s: %w", user, err)
		}
		for _, d := range page.MFADevices {
			if aws.ToString(d.SerialNumber) == serial {
				return true, nil
			}
		}
	}
	return false, nil
}

func applyRevertMinted(ctx context.Context, st *State, a Action) error {
	var err error
	switch a.Name {
	case "UpdateAssumeRolePolicy":
		_, err = st.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(a.Params["RoleName"]),
			PolicyDocument: aws.String(a.Params["PolicyDocument"])})
	case "DeactivateMFADevice":
		_, err = st.IAM.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String(a.Params["UserName"]),
			SerialNumber: aws.String(a.Params["SerialNumber"])})
	case "DeleteVirtualMFADevice":
		_, err = st.IAM.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(a.Params["SerialNumber"])})
	default:
		return fmt.Errorf("apply %s: unknown call", a.ID)
	}
	if isNotFound(err) {
		return AlreadyDone("it is gone already")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", strings.ToLower(a.Name[:1])+a.Name[1:], err)
	}
	return nil
}

func checkRevertMinted(ctx context.Context, st *State, a Action) (bool, error) {
	switch a.Name {
	case "UpdateAssumeRolePolicy":
		out, err := st.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(a.Params["RoleName"])})
		if isNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("read role %s: %w", a.Params["RoleName"], err)
		}
		doc := ""
		if out.Role != nil {
			doc = aws.ToString(out.Role.AssumeRolePolicyDocument)
		}
		for _, p := range OutsidePrincipals(doc, st.Responder.Account) {
			if slices.Contains(strings.Fields(a.Params["Removed"]), p) {
				return false, nil
			}
		}
		return true, nil
	case "DeactivateMFADevice":
		on, err := mfaEnabled(ctx, st.IAM, a.Params["UserName"], a.Params["SerialNumber"])
		return !on, err
	}
	virtual, err := listVirtualMFA(ctx, st.IAM)
	if err != nil {
		return false, err
	}
	_, exists := virtual[a.Params["SerialNumber"]]
	return !exists, nil
}
