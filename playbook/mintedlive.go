package playbook

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// userLive is what IAM says of one user, read back after the steps.
type userLive struct {
	gone, readErr bool
	denied        bool
	deniedSince   time.Time
	revoked       time.Time // the revoke policy's time, zero if none
	keys          map[string]string
	keysRead      bool
	password      bool
	passwordRead  bool
	mfa           map[string]bool // serials of the MFA devices enabled for the user
	err           error
}

// roleLive is what IAM says of one role.
type roleLive struct {
	gone    bool
	revoked time.Time
	trust   string
	err     error
}

// readBackMinted reads, after the steps, the state of the leaked key and of
// every credential the run found the key minted, as AWS has it now. What
// cannot be read is CredUnknown with the reason: the journal never stands
// in for AWS. The reads change nothing and belong to no step, so they are
// not journaled.
func readBackMinted(ctx context.Context, api IAM, st *State) []AttackerCredential {
	var creds []AttackerCredential
	if st.trail == nil || st.trail.Found == nil {
		// In another account's run (contain --org) the leaked key is not
		// there: its own run reads it back.
		creds = append(creds, AttackerCredential{Kind: CredAccessKey, ID: st.KeyID, User: st.Owner, Note: "the leaked key"})
	}
	if st.trail != nil {
		found := st.minted.all()
		sort.SliceStable(found, func(i, j int) bool { return found[i].Issued.Before(found[j].Issued) })
		creds = append(creds, found...)
	}
	users := map[string]*userLive{}
	roles := map[string]*roleLive{}
	var (
		mfa      map[string]string // virtual MFA device -> the user it is enabled for
		mfaErr   error
		needsMFA bool
	)
	needKeys, needRevoke, needPassword, needMFA := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range creds {
		switch c.Kind {
		case CredAccessKey:
			if c.User != "" {
				users[c.User] = &userLive{}
				needKeys[c.User] = needKeys[c.User] || c.ID != st.KeyID || !st.live.keysRead
			}
		case CredSessionToken, CredFederationToken:
			if c.User != "" {
				users[c.User], needRevoke[c.User] = &userLive{}, true
			}
		case CredUser:
			users[c.ID] = &userLive{}
		case CredConsolePassword:
			users[c.User], needPassword[c.User] = &userLive{}, true
		case CredRoleSession:
			if name, err := RoleNameFromARN(c.Role); err == nil && c.Account == "" {
				roles[name] = &roleLive{}
			}
		case CredTrustPolicy:
			roles[c.ID] = &roleLive{}
		case CredMFADevice:
			needsMFA = true
			if c.User != "" {
				users[c.User], needMFA[c.User] = &userLive{}, true
			}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for name, u := range users {
		g.Go(func() error {
			_, err := api.GetUser(gctx, &iam.GetUserInput{UserName: aws.String(name)})
			if isNotFound(err) {
				u.gone = true
				return nil
			}
			if err != nil {
				u.err = fmt.Errorf("read user %s: %w", name, err)
				return nil
			}
			var (
				wg   sync.WaitGroup
				errs = make([]error, 5)
			)
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := api.GetUserPolicy(gctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(DenyAllPolicyName)})
				switch {
				case isNotFound(err):
				case err != nil:
					errs[0] = fmt.Errorf("read deny-all policy of %s: %w", name, err)
				default:
					u.deniedSince, u.denied = DenyAllSinceOf(aws.ToString(out.PolicyDocument))
				}
			}()
			if needRevoke[name] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					t, err := readUserRevokeTimeWith(gctx, api, name)
					if err != nil {
						errs[1] = err
					}
					u.revoked = t
				}()
			}
			if needKeys[name] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					keys, err := listKeysWith(gctx, api, st.KeyID, name)
					if err != nil {
						errs[2] = err
						return
					}
					u.keys, u.keysRead = map[string]string{}, true
					for _, k := range keys {
						u.keys[k.ID] = k.Status
					}
				}()
			}
			if needPassword[name] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := api.GetLoginProfile(gctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
					switch {
					case isNotFound(err):
						u.passwordRead = true
					case err != nil:
						errs[3] = fmt.Errorf("read login profile of %s: %w", name, err)
					default:
						u.password, u.passwordRead = true, true
					}
				}()
			}
			if needMFA[name] {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out, err := api.ListMFADevices(gctx, &iam.ListMFADevicesInput{UserName: aws.String(name)})
					if err != nil {
						errs[4] = fmt.Errorf("list MFA devices of %s: %w", name, err)
						return
					}
					u.mfa = map[string]bool{}
					for _, d := range out.MFADevices {
						u.mfa[aws.ToString(d.SerialNumber)] = true
					}
				}()
			}
			wg.Wait()
			u.err = errors.Join(errs...)
			return nil
		})
	}
	for name, rl := range roles {
		g.Go(func() error {
			out, err := api.GetRole(gctx, &iam.GetRoleInput{RoleName: aws.String(name)})
			if isNotFound(err) {
				rl.gone = true
				return nil
			}
			if err != nil {
				rl.err = fmt.Errorf("read role %s: %w", name, err)
				return nil
			}
			if out.Role != nil {
				rl.trust = aws.ToString(out.Role.AssumeRolePolicyDocument)
			}
			pol, err := api.GetRolePolicy(gctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokePolicyName)})
			switch {
			case isNotFound(err):
			case err != nil:
				rl.err = fmt.Errorf("read revoke policy of role %s: %w", name, err)
			default:
				rl.revoked, _ = RevokeTimeOf(aws.ToString(pol.PolicyDocument))
			}
			return nil
		})
	}
	if needsMFA {
		g.Go(func() error {
			mfa, mfaErr = listVirtualMFA(gctx, api)
			return nil
		})
	}
	_ = g.Wait() // the goroutines record their errors per user and role
	now := st.Now()
	for i := range creds {
		if st.trail != nil {
			creds[i].SeenIn = st.minted.regionsOf(creds[i].ID)
		}
		if c := &creds[i]; c.Kind == CredMFADevice {
			mfaStateOf(c, users[c.User], mfa, mfaErr)
			continue
		}
		liveStateOf(&creds[i], st, users, roles, now)
	}
	return creds
}

// liveStateOf sets a credential's State, DeniedSince and Note from what was
// read back.
func liveStateOf(c *AttackerCredential, st *State, users map[string]*userLive, roles map[string]*roleLive, now time.Time) {
	set := func(state, note string) {
		c.State = state
		if note != "" {
			if c.Note != "" && c.Kind != CredTrustPolicy {
				note = c.Note + "; " + note
			}
			c.Note = note
		}
	}
	expired := func() bool {
		if !c.Expires.IsZero() {
			return !c.Expires.After(now)
		}
		return c.Kind != CredAccessKey && !c.Issued.IsZero() && c.Issued.Add(36*time.Hour).Before(now)
	}
	if c.BeforeLeak || (!st.leakedAt.IsZero() && !c.Issued.IsZero() && c.Issued.Before(st.leakedAt)) {
		c.BeforeLeak = true
	}
	u := users[c.User]
	switch c.Kind {
	case CredAccessKey:
		switch {
		case c.ID == st.KeyID && st.live.keysRead:
			status := keyGone
			for _, k := range st.live.keys {
				if k.ID == c.ID {
					status = k.Status
				}
			}
			switch {
			case status == keyGone:
				set(CredDeleted, "")
			case status == "Inactive":
				set(CredInactive, "")
			case u != nil && u.denied:
				c.DeniedSince = u.deniedSince
				set(CredDenied, "active, but its user "+c.User+" is denied everything")
			default:
				set(CredWorking, "active: deactivate it (keyleak contain --key "+c.ID+")")
			}
		case c.User == "":
			set(CredUnknown, "a key of the root user: only the root user can read or deactivate it")
		case u == nil:
			set(CredUnknown, "not read")
		case u.gone:
			set(CredDeleted, "its user "+c.User+" is deleted")
		case u.err != nil && !u.keysRead:
			set(CredUnknown, u.err.Error())
		case u.keys[c.ID] == "":
			set(CredDeleted, "")
		case u.keys[c.ID] == "Inactive":
			set(CredInactive, "")
		case u.denied:
			c.DeniedSince = u.deniedSince
			set(CredDenied, "active, but its user "+c.User+" is denied everything")
		default:
			set(CredWorking, fmt.Sprintf("active: deactivate it (aws iam update-access-key --user-name %s --access-key-id %s --status Inactive)", c.User, c.ID))
		}
	case CredSessionToken, CredFederationToken:
		switch {
		case expired():
			set(CredExpired, "")
		case c.User == "":
			set(CredWorking, "a session of the root user: no policy can revoke it; it works until "+c.Expires.Format(time.RFC3339))
		case u == nil:
			set(CredUnknown, "not read")
		case u.gone:
			set(CredDeleted, "its user "+c.User+" is deleted")
		case u.denied:
			c.DeniedSince = u.deniedSince
			set(CredDenied, "its user "+c.User+" is denied everything")
		case u.err != nil:
			set(CredUnknown, u.err.Error())
		case covers(u.revoked, c.Issued):
			c.DeniedSince = u.revoked
			set(CredDenied, fmt.Sprintf("%s's revoke policy denies every session issued before %s", c.User, u.revoked.Format(time.RFC3339)))
		default:
			set(CredWorking, fmt.Sprintf("issued after %s's sessions were last revoked: revoke them again (keyleak contain --key %s)", c.User, st.KeyID))
		}
	case CredRoleSession:
		name, _ := RoleNameFromARN(c.Role)
		rl := roles[name]
		switch {
		case expired():
			set(CredExpired, "")
		case c.Account != "":
			set(CredUnknown, "a session of a role in account "+c.Account+", not read from this account: keyleak contain --org revokes the role's sessions there")
		case strings.Contains(c.Role, ":role/aws-service-role/"):
			set(CredWorking, "a service-linked role: AWS allows no policy on it; it works until "+c.Expires.Format(time.RFC3339))
		case strings.HasPrefix(name, "AWSReservedSSO_"):
			set(CredWorking, "a role of IAM Identity Center: end it there (remove the permission set, delete the user's sessions); it works until "+c.Expires.Format(time.RFC3339))
		case rl == nil:
			set(CredUnknown, "not read")
		case rl.gone:
			set(CredDeleted, "its role "+name+" is deleted")
		case rl.err != nil:
			set(CredUnknown, rl.err.Error())
		case covers(rl.revoked, c.Issued):
			c.DeniedSince = rl.revoked
			set(CredDenied, fmt.Sprintf("role %s's revoke policy denies every session issued before %s", name, rl.revoked.Format(time.RFC3339)))
		default:
			set(CredWorking, fmt.Sprintf("works until %s: revoke the sessions of role %s (keyleak contain --key %s)", c.Expires.Format(time.RFC3339), name, st.KeyID))
		}
	case CredUser:
		u = users[c.ID]
		switch {
		case u == nil:
			set(CredUnknown, "not read")
		case u.gone:
			set(CredDeleted, "")
		case u.denied:
			c.DeniedSince = u.deniedSince
			set(CredDenied, "denied everything: its keys, console password, session and federation tokens")
		case u.err != nil:
			set(CredUnknown, u.err.Error())
		default:
			set(CredWorking, fmt.Sprintf("deny it everything (keyleak contain --key %s) or delete it (keyleak eradicate)", st.KeyID))
		}
	case CredConsolePassword:
		switch {
		case u == nil:
			set(CredUnknown, "not read")
		case u.gone:
			set(CredDeleted, "its user is deleted")
		case u.passwordRead && !u.password:
			set(CredDeleted, "removed")
		case u.err != nil:
			set(CredUnknown, u.err.Error())
		case u.denied:
			c.DeniedSince = u.deniedSince
			set(CredDenied, "the password still signs in, but "+c.User+" is denied everything: remove it (aws iam delete-login-profile --user-name "+c.User+")")
		default:
			set(CredWorking, "remove it (aws iam delete-login-profile --user-name "+c.User+")")
		}
	case CredTrustPolicy:
		rl := roles[c.ID]
		switch {
		case rl == nil:
			set(CredUnknown, "not read")
		case rl.gone:
			set(CredDeleted, "role deleted")
		case rl.err != nil && rl.trust == "":
			set(CredUnknown, rl.err.Error())
		default:
			still := OutsidePrincipals(rl.trust, st.Responder.Account)
			if len(still) == 0 {
				set(CredReverted, "the trust policy admits no outside principal any more")
				break
			}
			set(CredWorking, fmt.Sprintf("the trust policy admits %s: restore it (aws iam update-assume-role-policy --role-name %s --policy-document file://trust.json)",
				strings.Join(still, ", "), c.ID))
		}
	case CredIdentityCenter:
		set(CredWorking, "no IAM policy reaches IAM Identity Center: undo the change there and delete the sessions of the users it touched")
	default:
		set(CredUnknown, "")
	}
	if c.BeforeLeak && c.State == CredWorking {
		c.Note = "made before the leak: left alone"
	}
}

// mfaStateOf sets the state of an MFA device of the attacker's from the
// account's virtual MFA devices and, for a device that is not one (a
// hardware device), the devices enabled for its user.
func mfaStateOf(c *AttackerCredential, u *userLive, virtual map[string]string, err error) {
	user, exists := virtual[c.ID]
	if !exists && u != nil && u.mfa[c.ID] {
		user, exists = c.User, true
	}
	switch {
	case err != nil:
		c.State, c.Note = CredUnknown, err.Error()
	case !exists && u != nil && u.err != nil:
		c.State, c.Note = CredUnknown, u.err.Error()
	case !exists:
		c.State, c.Note = CredDeleted, ""
	case user != "":
		c.State = CredWorking
		c.Note = fmt.Sprintf("enabled for %s: deactivate and delete it (aws iam deactivate-mfa-device --user-name %s --serial-number %s; aws iam delete-virtual-mfa-device --serial-number %s)",
			user, user, c.ID, c.ID)
	default:
		c.State = CredInactive
		c.Note = fmt.Sprintf("enabled for no user: delete it (aws iam delete-virtual-mfa-device --serial-number %s)", c.ID)
	}
}
