package playbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func identifyStep() Step {
	return Step{
		ID:    StepIdentify,
		Title: "Identify the key and the responder",
		Why: "Before touching anything: whose key it is, in which account, when it was last used, " +
			"and who you are — so that you never act with the leaked key itself or lock yourself out.",
		Idempotent: true,
		Calls:      []string{"sts:GetCallerIdentity", "sts:GetAccessKeyInfo", "iam:GetAccessKeyLastUsed"},
		Prepare:    identify,
		Plan:       identifyGuard,
	}
}

// identify makes the three calls that need nothing but the key ID, all at
// once: this is the first of the three round-trip stages before the key is
// inactive.
func identify(ctx context.Context, st *State) error {
	if st.trail != nil && st.trail.Found != nil {
		return identifyInAccount(ctx, st, st.trail.Account)
	}
	var (
		wg                     sync.WaitGroup
		who                    *sts.GetCallerIdentityOutput
		info                   *sts.GetAccessKeyInfoOutput
		last                   *iam.GetAccessKeyLastUsedOutput
		whoErr, infoErr, luErr error
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		who, whoErr = st.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if whoErr == nil {
			st.setResponder(Identity{ARN: aws.ToString(who.Arn), UserID: aws.ToString(who.UserId),
				Account: aws.ToString(who.Account), KeyID: st.Responder.KeyID})
		}
	}()
	go func() {
		defer wg.Done()
		info, infoErr = st.STS.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(st.KeyID)})
	}()
	go func() {
		defer wg.Done()
		last, luErr = st.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(st.KeyID)})
	}()
	wg.Wait()
	if whoErr != nil {
		return fmt.Errorf("identify responder: %w", whoErr)
	}
	if st.journal != nil {
		st.journal.SetCaller(st.Responder.ARN)
	}
	acct := st.Responder.Account
	keyUnknown := false
	var denied *AccessDeniedError
	switch {
	case infoErr == nil:
		st.KeyAccount = aws.ToString(info.Account)
	case errors.As(infoErr, &denied):
		st.Warn("could not confirm the key's account (%s was denied); assuming account %s", denied.Action, acct)
	case isCode(infoErr, "InvalidParameterValue", "ValidationError", "InvalidParameter"):
		keyUnknown = true
	case errorCode(infoErr) == "":
		return fmt.Errorf("look up key account: %w", infoErr)
	default:
		st.Warn("could not confirm the key's account: %v", infoErr)
	}
	if st.KeyAccount != "" && st.KeyAccount != acct {
		return &NotFoundError{KeyID: st.KeyID, Account: acct, KeyAccount: st.KeyAccount}
	}
	if strings.HasPrefix(st.KeyID, "ASIA") {
		return &TemporaryKeyError{KeyID: st.KeyID}
	}
	switch {
	case luErr == nil:
	case keyUnknown || isNotFound(luErr) || deniedOnMissingKey(luErr):
		// A key this case deleted is gone for good; later steps (revoking
		// role sessions the investigation found) still need its owner.
		if st.journal != nil {
			if rec := st.journal.Action(StepDeleteKey + "/DeleteAccessKey/" + st.KeyID); rec.Done {
				st.Owner = rec.Params["UserName"]
				st.Root = st.Owner == ""
				st.Warn("access key %s was deleted earlier in this case", st.KeyID)
				return nil
			}
		}
		return &NotFoundError{KeyID: st.KeyID, Account: acct}
	default:
		return fmt.Errorf("look up key owner: %w", luErr)
	}
	st.Owner = aws.ToString(last.UserName)
	if st.Owner == "" {
		return &NotFoundError{KeyID: st.KeyID, Account: acct}
	}
	if st.Owner == "root" || st.Owner == "<root_account>" {
		st.Root, st.Owner = true, ""
	}
	if u := last.AccessKeyLastUsed; u != nil {
		lu := &KeyUse{Time: aws.ToTime(u.LastUsedDate)}
		if s := aws.ToString(u.ServiceName); s != "N/A" {
			lu.Service = s
		}
		if r := aws.ToString(u.Region); r != "N/A" {
			lu.Region = r
		}
		st.LastUsed = lu
	}
	return nil
}

// identifyInAccount identifies the responder in another account of the
// organization than the key's (contain --org stopping there what the key's
// sessions minted): the key is not there to look up, and acting in any
// account but the one the events are of is refused.
func identifyInAccount(ctx context.Context, st *State, account string) error {
	who, err := st.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("identify responder: %w", err)
	}
	st.setResponder(Identity{ARN: aws.ToString(who.Arn), UserID: aws.ToString(who.UserId),
		Account: aws.ToString(who.Account), KeyID: st.Responder.KeyID})
	if st.journal != nil {
		st.journal.SetCaller(st.Responder.ARN)
	}
	if st.Responder.Account != account {
		return fmt.Errorf("identify responder: signed in to account %s, but the credentials to stop are in account %s", st.Responder.Account, account)
	}
	return nil
}

// identifyGuard refuses what must never happen whatever the flags: acting
// with the leaked key itself, and an IAM user touching a root key.
func identifyGuard(ctx context.Context, st *State) ([]Action, error) {
	if st.Responder.KeyID == st.KeyID {
		return nil, &SelfLockoutError{Reason: fmt.Sprintf(
			"you are signed in with the leaked key %s itself: use other credentials (another administrator, or a role) — "+
				"the attacker holds these too, AWS's quarantine policy may block the containment calls, and deactivating the key would cut you off halfway",
			st.KeyID)}
	}
	if st.Root && !st.Responder.IsRoot() {
		return nil, &RootKeyError{KeyID: st.KeyID, Account: st.Responder.Account}
	}
	if st.Root {
		st.Warn("the key belongs to the root user: no IAM policy restricts it and its sessions cannot be revoked by policy; delete it once deactivated and enable MFA on the root user")
	}
	return nil, nil
}
