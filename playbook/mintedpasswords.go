package playbook

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func removeMintedPasswordsStep() Step {
	return Step{
		ID:    StepRemoveMintedLogins,
		Title: "Remove the console passwords the attacker set",
		Why: "A console password the attacker created or changed lets them sign in to the console whatever becomes of the keys; removing it closes that door. " +
			"It cannot be undone: the journal records that the password existed and when it was made, so its legitimate owner can be given a new one.",
		Destructive: true,
		Calls:       []string{"ec2:DescribeRegions", "cloudtrail:LookupEvents", "iam:GetLoginProfile", "iam:DeleteLoginProfile"},
		Prepare: func(ctx context.Context, st *State) error {
			if st.trail == nil {
				return nil
			}
			return st.minted.run(ctx, st)
		},
		Plan: planMintedPasswords,
		Apply: func(ctx context.Context, st *State, a Action) error {
			// That the password existed is journaled before it is gone.
			if err := st.Note(ctx, fmt.Sprintf("removing the console password of %s (created %s), which %s set with %s at %s",
				a.Params["UserName"], a.Params["PasswordCreated"], a.Params["SetBy"], a.Params["Via"], a.Params["SetAt"])); err != nil {
				return err
			}
			_, err := st.IAM.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String(a.Params["UserName"])})
			if isNotFound(err) {
				return AlreadyDone("the user has no console password any more")
			}
			if err != nil {
				return fmt.Errorf("delete login profile: %w", err)
			}
			return nil
		},
		Check: func(ctx context.Context, st *State, a Action) (bool, error) {
			_, err := st.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(a.Params["UserName"])})
			if isNotFound(err) {
				return true, nil
			}
			if err != nil {
				return false, fmt.Errorf("read login profile: %w", err)
			}
			return false, nil
		},
	}
}

// planMintedPasswords plans the removal of each console password the
// attacker created or changed that is still there. A password made again
// after the attacker's (by someone else) is left alone.
func planMintedPasswords(ctx context.Context, st *State) ([]Action, error) {
	if st.trail == nil {
		return nil, nil
	}
	var out []Action
	for _, c := range st.minted.all() {
		if c.Kind != CredConsolePassword || (!st.leakedAt.IsZero() && c.Issued.Before(st.leakedAt)) {
			continue
		}
		id := StepRemoveMintedLogins + "/DeleteLoginProfile/" + c.User
		lp, err := st.IAM.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(c.User)})
		if isNotFound(err) {
			if _, done := st.DoneAt(id); done {
				out = append(out, Action{ID: id, Service: "iam", Name: "DeleteLoginProfile", InPlace: true,
					Description: "iam DeleteLoginProfile --user-name " + c.User})
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read login profile of %s: %w", c.User, err)
		}
		created := aws.ToTime(lp.LoginProfile.CreateDate).UTC()
		if c.Via == "CreateLoginProfile" && created.After(c.Issued.Add(time.Minute)) {
			if st.minted.once("password-recreated|" + c.User) {
				st.Warn("the console password %s set for %s at %s was removed and made again at %s: the one there now is not the attacker's; left alone",
					c.Parent, c.User, c.Issued.Format(time.RFC3339), created.Format(time.RFC3339))
			}
			continue
		}
		out = append(out, Action{
			ID:      id,
			Service: "iam", Name: "DeleteLoginProfile",
			Params: map[string]string{"UserName": c.User, "PasswordCreated": created.Format(time.RFC3339),
				"SetBy": c.Parent, "Via": c.Via, "SetAt": c.Issued.Format(time.RFC3339)},
			Description: fmt.Sprintf("iam DeleteLoginProfile --user-name %s (console password created %s; %s by %s at %s)",
				c.User, created.Format(time.RFC3339), c.Via, c.Parent, c.Issued.Format(time.RFC3339)),
		})
	}
	return out, nil
}
