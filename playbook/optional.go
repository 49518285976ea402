package playbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func deactivateOtherKeysStep() Step {
	return Step{
		ID:    StepDeactivateOtherKeys,
		Title: "Deactivate the owner's other active keys",
		Why: "If the leaked key came from a machine or a repository, the owner's other keys may have leaked with it; " +
			"deactivating them costs the owner a rotation, not a breach.",
		Idempotent: true,
		Optional:   true,
		Calls:      []string{"iam:ListAccessKeys", "iam:UpdateAccessKey"},
		Prepare: func(ctx context.Context, st *State) error {
			if st.Root {
				return nil
			}
			keys, err := listKeys(ctx, st, st.Owner)
			st.otherKeys = keys
			return err
		},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			if err := sessionGuard(st, "deactivate the owner's keys"); err != nil {
				return nil, err
			}
			var out []Action
			for _, k := range st.otherKeys {
				if k.ID == st.KeyID || k.Status != "Active" {
					continue
				}
				if k.ID == st.Responder.KeyID {
					// The guard covers long-term keys too: deactivating
					// the key this run signs with locks the responder out
					// half-way through the runbook.
					st.Warn("access key %s is the key you are signed in with: it was left active; deactivate it yourself once you have switched to another identity", k.ID)
					continue
				}
				out = append(out, updateKeyAction(StepDeactivateOtherKeys, st.Owner, k.ID, "Inactive"))
			}
			return out, nil
		},
		Apply: applyUpdateKey,
		Check: checkKeyStatus,
		Undo:  undoUpdateKey,
	}
}

func removePasswordStep() Step {
	return Step{
		ID:    StepRemovePassword,
		Title: "Remove the owner's console password",
		Why: "An attacker holding the key may have set or changed the user's console password; removing it closes that door. " +
			"The journal records that the password existed, so it can be recreated for its legitimate owner.",
		Destructive: true,
		Optional:    true,
		Calls:       []string{"iam:GetLoginProfile", "iam:DeleteLoginProfile"},
		Prepare: func(ctx context.Context, st *State) error {
			if st.Root {
				return nil
			}
			out, err := st.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(st.Owner)})
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read login profile: %w", err)
			}
			st.LoginProfile = &LoginProfileInfo{}
			if lp := out.LoginProfile; lp != nil {
				st.LoginProfile.Created = aws.ToTime(lp.CreateDate).UTC()
				st.LoginProfile.ResetRequired = lp.PasswordResetRequired
			}
			return nil
		},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			if st.Root {
				st.Warn("the root user's console password cannot be removed through the API; change it and enable MFA")
				return nil, nil
			}
			if st.LoginProfile == nil {
				return nil, nil
			}
			created := st.LoginProfile.Created.Format(time.RFC3339)
			return []Action{{
				ID:      StepRemovePassword + "/DeleteLoginProfile/" + st.Owner,
				Service: "iam", Name: "DeleteLoginProfile",
				Params:      map[string]string{"UserName": st.Owner, "PasswordCreated": created},
				Description: fmt.Sprintf("iam DeleteLoginProfile --user-name %s (console password created %s)", st.Owner, created),
			}}, nil
		},
		Apply: deleteLoginProfile,
		Check: loginProfileGone,
	}
}

func revokeRoleSessionsStep() Step {
	return Step{
		ID:    StepRevokeRoleSessions,
		Title: "Revoke sessions of roles the key assumed",
		Why: "Role sessions made with AssumeRole survive the key's deactivation and the user's revoke policy; " +
			"the same deny policy on each role the key assumed ends them. Legitimate users of the role sign in again.",
		Idempotent: true,
		Optional:   true,
		Calls:      []string{"iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"},
		Prepare: func(ctx context.Context, st *State) error {
			st.roleRevokeFound = map[string]time.Time{}
			for _, arn := range st.Roles {
				name, err := RoleNameFromARN(arn)
				if err != nil {
					return err
				}
				t, err := readRoleRevokeTime(ctx, st, name)
				if err != nil {
					return err
				}
				st.roleRevokeFound[name] = t
			}
			return nil
		},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			t := ceilSecond(st.Now())
			var out []Action
			for _, arn := range st.Roles {
				name, err := RoleNameFromARN(arn)
				if err != nil {
					return nil, err
				}
				if st.Responder.RoleName() == name && !st.Force {
					return nil, &SelfLockoutError{Reason: fmt.Sprintf(
						"you are signed in through role %s, whose sessions this would end, yours included; revoke them from another identity, or pass --force to go ahead and lose this session", name)}
				}
				had := st.roleRevokeFound[name]
				if !had.Before(t) {
					a := revokeAction(StepRevokeRoleSessions, "role", name, had, time.Time{})
					a.InPlace = true
					out = append(out, a)
					continue
				}
				out = append(out, revokeAction(StepRevokeRoleSessions, "role", name, t, had))
			}
			return out, nil
		},
		Apply: applyRevoke,
		Check: checkRevoke,
		Undo:  undoRevoke,
	}
}

func readRoleRevokeTime(ctx context.Context, st *State, role string) (time.Time, error) {
	out, err := st.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(RevokePolicyName)})
	if isNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read role revoke policy: %w", err)
	}
	t, _ := RevokeTimeOf(aws.ToString(out.PolicyDocument))
	return t, nil
}

// RoleNameFromARN returns the role name of a role ARN
// (arn:aws:iam::123456789012:role/path/name) or of an assumed-role session
// ARN (arn:aws:sts::123456789012:assumed-role/name/session).
func RoleNameFromARN(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		res := parts[5]
		switch {
		case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
			return res[strings.LastIndex(res, "/")+1:], nil
		case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
			name, _, _ := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
			if name != "" {
				return name, nil
			}
		}
	}
	return "", &UsageError{Reason: fmt.Sprintf("%q is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", arn)}
}

func deleteKeyStep() Step {
	return Step{
		ID:    StepDeleteKey,
		Title: "Delete the key",
		Why: "Once nothing legitimate needs the key any more, deleting it makes sure nobody can reactivate it. " +
			"It cannot be undone; the key ID stays in CloudTrail and in this case's journal.",
		Destructive: true,
		Optional:    true,
		Calls:       []string{"iam:ListAccessKeys", "iam:DeleteAccessKey"},
		Plan: func(ctx context.Context, st *State) ([]Action, error) {
			keys, err := listKeys(ctx, st, st.Owner)
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				if k.ID != st.KeyID {
					continue
				}
				if k.Status == "Active" {
					return nil, fmt.Errorf("plan key deletion: access key %s is still active; deactivate it first (step %s) and make sure nothing legitimate breaks", st.KeyID, StepContain)
				}
				desc := "iam DeleteAccessKey"
				if st.Owner != "" {
					desc += " --user-name " + st.Owner
				}
				desc += " --access-key-id " + st.KeyID
				return []Action{{
					ID:      StepDeleteKey + "/DeleteAccessKey/" + st.KeyID,
					Service: "iam", Name: "DeleteAccessKey",
					Params:      map[string]string{"UserName": st.Owner, "AccessKeyId": st.KeyID, "KeyCreated": k.Created.Format(time.RFC3339)},
					Description: desc,
				}}, nil
			}
			st.Warn("access key %s is already deleted", st.KeyID)
			return nil, nil
		},
		Apply: func(ctx context.Context, st *State, a Action) error {
			// The ID is journaled before it is gone from IAM for good.
			if err := st.Note(ctx, fmt.Sprintf("deleting access key %s of %s (created %s); the ID stays searchable in CloudTrail",
				a.Params["AccessKeyId"], ownerLabel(a.Params["UserName"]), a.Params["KeyCreated"])); err != nil {
				return err
			}
			in := &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(a.Params["AccessKeyId"])}
			if u := a.Params["UserName"]; u != "" {
				in.UserName = aws.String(u)
			}
			_, err := st.IAM.DeleteAccessKey(ctx, in)
			if isNotFound(err) {
				return AlreadyDone("the key was already deleted")
			}
			if err != nil {
				return fmt.Errorf("delete access key: %w", err)
			}
			return nil
		},
		Check: func(ctx context.Context, st *State, a Action) (bool, error) {
			keys, err := listKeys(ctx, st, a.Params["UserName"])
			if err != nil {
				return false, err
			}
			for _, k := range keys {
				if k.ID == a.Params["AccessKeyId"] {
					return false, nil
				}
			}
			return true, nil
		},
	}
}

func ownerLabel(user string) string {
	if user == "" {
		return "the root user"
	}
	return "user " + user
}

// deleteLoginProfile removes the console password of the action's user; a
// password already gone is AlreadyDone.
func deleteLoginProfile(ctx context.Context, st *State, a Action) error {
	_, err := st.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(a.Params["UserName"])})
	if isNotFound(err) {
		return AlreadyDone("the user has no console password any more")
	}
	if err != nil {
		return fmt.Errorf("delete login profile: %w", err)
	}
	return nil
}

// loginProfileGone reads whether the action's user has no console password.
func loginProfileGone(ctx context.Context, st *State, a Action) (bool, error) {
	_, err := st.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(a.Params["UserName"])})
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read login profile: %w", err)
	}
	return false, nil
}
