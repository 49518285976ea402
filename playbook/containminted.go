package playbook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
)

// DenyAllPolicyName is the inline policy that denies everything to a user
// the attacker created: its keys, console password, session and federation
// tokens all stop, and deleting the policy undoes it.
const DenyAllPolicyName = "keyleak-deny-all"

// denyAllSid starts the Sid of the deny-all statement; the time it was put
// follows (20060102T150405Z), so the summary reads "denied since" from AWS.
const denyAllSid = "KeyleakDenyAll"

// DenyAllPolicyDocument denies every action, stamped with the time it is
// put.
func DenyAllPolicyDocument(since time.Time) string {
	type statement struct {
		Sid      string
		Effect   string
		Action   string
		Resource string
	}
	doc := struct {
		Version   string
		Statement []statement
	}{
		Version:   "2012-10-17",
		Statement: []statement{{Sid: denyAllSid + since.UTC().Format("20060102T150405Z"), Effect: "Deny", Action: "*", Resource: "*"}},
	}
	b, _ := json.Marshal(doc) // strings only: encoding cannot fail
	return string(b)
}

// DenyAllSinceOf returns the time a deny-all policy was put; ok is false
// when the document is not a keyleak deny-all policy.
func DenyAllSinceOf(doc string) (since time.Time, ok bool) {
	doc = decodeDoc(doc)
	if dec, err := url.QueryUnescape(doc); err == nil && !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		doc = dec
	}
	var p struct {
		Statement []struct {
			Sid    string
			Effect string
			Action json.RawMessage
		}
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return time.Time{}, false
	}
	for _, s := range p.Statement {
		stamp, found := strings.CutPrefix(s.Sid, denyAllSid)
		if !found || !strings.EqualFold(s.Effect, "Deny") || !contains(stringList(s.Action), "*") {
			continue
		}
		t, err := time.Parse("20060102T150405Z", stamp)
		if err != nil {
			return time.Time{}, true
		}
		return t.UTC(), true
	}
	return time.Time{}, false
}

// mintedCalls is every AWS action the contain-minted step may make.
var mintedCalls = []string{
	"ec2:DescribeRegions", "cloudtrail:LookupEvents",
	"iam:ListAccessKeys", "iam:UpdateAccessKey",
	"iam:GetUser", "iam:GetUserPolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy",
	"iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
}

func containMintedStep() Step {
	return Step{
		ID:    StepContainMinted,
		Title: "Stop every credential the key minted",
		Why: "Within minutes of a leak an attacker turns the key into others: keys of users it creates, session and federation tokens, role sessions. " +
			"Each keeps working when the key is off. CloudTrail names them, and each is stopped here, reversibly: " +
			"keys deactivated, users it created denied everything, sessions of users and roles revoked.",
		Idempotent: true,
		Calls:      mintedCalls,
		Prepare:    prepareMinted,
		Plan:       planMinted,
		Apply:      applyMinted,
		Check:      checkMinted,
		Undo:       undoMinted,
		Next: func(ctx context.Context, st *State) (bool, error) {
			if st.trail == nil {
				return false, nil
			}
			return st.minted.next(ctx)
		},
	}
}

// prepareMinted searches CloudTrail for what the key minted; it runs from
// the end of identify, beside the key's deactivation, until the search is
// over, while the step's rounds stop what it finds.
func prepareMinted(ctx context.Context, st *State) error {
	if st.trail == nil {
		return nil
	}
	return st.minted.run(ctx, st)
}

// mintedTargets are the credentials of one round grouped by what stops them.
type mintedTargets struct {
	keys      map[string][]AttackerCredential // user -> keys the attacker made for it
	users     map[string]AttackerCredential   // users the attacker created
	userSess  map[string]time.Time            // user -> issue time of its newest session or federation token
	roleSess  map[string]time.Time            // role name -> issue time of its newest session
	roleARN   map[string]string
	sessionOf map[string][]string  // principal -> credential labels, for descriptions
	trust     []AttackerCredential // trust policies changed to admit an outside principal
}

// planMinted plans, from the live state, what stops each credential found
// so far.
func planMinted(ctx context.Context, st *State) ([]Action, error) {
	if st.trail == nil {
		st.Warn("keyleak was given no CloudTrail access in this run, so it did not look for the credentials the key minted "+
			"(keys of users it created, session tokens, role sessions): run keyleak investigate --key %s and contain what it finds", st.KeyID)
		return nil, nil
	}
	d := st.minted
	creds := d.take()
	now := st.Now()
	t := mintedTargets{keys: map[string][]AttackerCredential{}, users: map[string]AttackerCredential{},
		userSess: map[string]time.Time{}, roleSess: map[string]time.Time{}, roleARN: map[string]string{}, sessionOf: map[string][]string{}}
	for _, c := range creds {
		if !st.leakedAt.IsZero() && c.Issued.Before(st.leakedAt) {
			if d.once("before-leak|" + c.Key()) {
				st.Warn("%s %s was made by %s at %s, before the leak (%s): left alone", c.Kind, c.Label(), c.Parent,
					c.Issued.Format(time.RFC3339), st.leakedAt.Format(time.RFC3339))
			}
			continue
		}
		if c.ID == st.KeyID {
			continue // the leaked key is the contain step's
		}
		live := c.Expires.IsZero() || c.Expires.After(now)
		switch c.Kind {
		case CredAccessKey:
			t.keys[c.User] = append(t.keys[c.User], c)
		case CredUser:
			t.users[c.ID] = c
		case CredSessionToken, CredFederationToken:
			if !live {
				continue
			}
			if c.User == "" {
				if d.once("root-session|" + c.ID) {
					st.Warn("%s is a session of the root user (%s by %s at %s): no policy can revoke it; it works until %s. "+
						"Delete the root user's access keys, change its password, and ask AWS Support to help if the session must end sooner",
						c.ID, c.Via, c.Parent, c.Issued.Format(time.RFC3339), c.Expires.Format(time.RFC3339))
				}
				continue
			}
			if c.Issued.After(t.userSess[c.User]) {
				t.userSess[c.User] = c.Issued
			}
			t.sessionOf[c.User] = append(t.sessionOf[c.User], c.ID)
		case CredRoleSession:
			if !live {
				continue
			}
			name, err := RoleNameFromARN(c.Role)
			switch {
			case err != nil:
				if d.once("bad-role|" + c.Key()) {
					st.Warn("role session %s names no role ARN (%q): revoke it by hand", c.ID, c.Role)
				}
				continue
			case c.Account != "" && st.trail.Found != nil:
				continue // contain --org revokes it in its own account
			case c.Account != "":
				if d.once("other-account|" + c.Key()) {
					st.Warn("role session %s is of %s in account %s: run contain with --org, or revoke the role's sessions in that account, to stop it",
						c.ID, c.Role, c.Account)
				}
				continue
			case strings.Contains(c.Role, ":role/aws-service-role/"):
				if d.once("slr|" + c.Key()) {
					st.Warn("role session %s is of the service-linked role %s: AWS allows no policy on it, so its sessions cannot be revoked; it works until %s. "+
						"Delete what the attacker made with it, or the service's resource that uses the role", c.ID, name, c.Expires.Format(time.RFC3339))
				}
				continue
			case strings.HasPrefix(name, "AWSReservedSSO_"):
				if d.once("sso|" + c.Key()) {
					st.Warn("role session %s is of %s, a role of IAM Identity Center: its policies cannot be changed in IAM. "+
						"In IAM Identity Center, remove the permission set from the user or delete the user's active sessions; it works until %s",
						c.ID, name, c.Expires.Format(time.RFC3339))
				}
				continue
			}
			if c.Issued.After(t.roleSess[name]) {
				t.roleSess[name] = c.Issued
			}
			t.roleARN[name] = c.Role
			t.sessionOf[name] = append(t.sessionOf[name], "session "+c.Session+" ("+c.ID+")")
		case CredTrustPolicy:
			t.trust = append(t.trust, c)
		case CredMFADevice:
			if d.once("mfa|" + c.Key()) {
				st.Warn("MFA device %s was registered by %s with %s at %s: step %s deactivates and deletes it when you confirm",
					c.ID, c.Parent, c.Via, c.Issued.Format(time.RFC3339), StepRevertMinted)
			}
		case CredIdentityCenter:
			if d.once("sso-change|" + c.Key()) {
				st.Warn("%s changed IAM Identity Center at %s (%s, event %s): no IAM policy reaches its users or sessions. "+
					"In IAM Identity Center, undo the change and delete the sessions of the users it touched", c.Parent, c.Issued.Format(time.RFC3339), c.Via, c.EventID)
			}
		}
	}
	// A user the attacker created is denied everything, sessions included:
	// its own revocation would add nothing.
	for u := range t.users {
		delete(t.userSess, u)
	}
	return planTargets(ctx, st, t)
}

// planTargets reads what each target looks like in AWS now, all at once,
// and plans the calls that stop what still works.
func planTargets(ctx context.Context, st *State, t mintedTargets) ([]Action, error) {
	var (
		mu                         sync.Mutex
		keyActs, denyActs, revActs []Action
	)
	add := func(list *[]Action, a Action) {
		mu.Lock()
		defer mu.Unlock()
		*list = append(*list, a)
	}
	now := ceilSecond(st.Now())
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for user, keys := range t.keys {
		g.Go(func() error {
			if user == "" && !st.Responder.IsRoot() {
				for _, k := range keys {
					if st.minted.once("root-key|" + k.ID) {
						st.Warn("access key %s of the root user was made by %s at %s: only the root user can deactivate it; sign in as the root user and delete it",
							k.ID, k.Parent, k.Issued.Format(time.RFC3339))
					}
				}
				return nil
			}
			listed, err := listKeys(gctx, st, user)
			if isNotFound(err) {
				return nil // the user is gone, its keys with it
			}
			if err != nil {
				return err
			}
			for _, k := range keys {
				if k.ID == st.Responder.KeyID {
					st.refuse(fmt.Sprintf("you are signed in with access key %s, which %s made at %s: the attacker holds it too; contain from another identity", k.ID, k.Parent, k.Issued.Format(time.RFC3339)))
					continue
				}
				for _, l := range listed {
					if l.ID != k.ID {
						continue
					}
					a := updateKeyAction(StepContainMinted, user, k.ID, "Inactive")
					a.Params["Kind"] = "key"
					a.Description += fmt.Sprintf(" (made by %s with %s at %s)", k.Parent, k.Via, k.Issued.Format(time.RFC3339))
					a.InPlace = l.Status != "Active"
					add(&keyActs, a)
				}
			}
			return nil
		})
	}
	for name, c := range t.users {
		g.Go(func() error {
			u, err := st.IAM.GetUser(gctx, &iam.GetUserInput{UserName: aws.String(name)})
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read user %s: %w", name, err)
			}
			if u.User != nil && aws.ToTime(u.User.CreateDate).After(c.Issued.Add(time.Minute)) {
				if st.minted.once("recreated|" + name) {
					st.Warn("user %s was made by %s at %s, deleted, and made again at %s: the user there now is not the attacker's; left alone",
						name, c.Parent, c.Issued.Format(time.RFC3339), aws.ToTime(u.User.CreateDate).UTC().Format(time.RFC3339))
				}
				return nil
			}
			if st.Responder.UserName() == name && !st.Force {
				st.refuse(fmt.Sprintf("you are signed in as %s, a user %s created at %s: denying it everything would lock you out; contain from another identity, or pass --force",
					st.Responder.ARN, c.Parent, c.Issued.Format(time.RFC3339)))
				return nil
			}
			since, found, err := readDenyAll(gctx, st, name)
			if err != nil {
				return err
			}
			a := denyAllAction(name, st.Now().Truncate(time.Second), c)
			if found {
				a = denyAllAction(name, since, c)
				a.InPlace = true
			}
			add(&denyActs, a)
			return nil
		})
	}
	for user, issued := range t.userSess {
		g.Go(func() error {
			had, err := readUserRevokeTime(gctx, st, user)
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			if st.journal == nil && user == st.Owner && covers(st.revokePlanned, issued) {
				return nil // a dry run: revoke-sessions' plan covers them, and lists its call
			}
			if covers(had, issued) {
				add(&revActs, revokeMintedAction("user", user, had, time.Time{}, t.sessionOf[user], true))
				return nil
			}
			if st.Responder.UserName() == user && st.responderMayBeSession() && !st.Force {
				st.refuse(fmt.Sprintf("you are signed in with a session of %s, whose sessions %s also holds: revoking them ends yours; revoke them from another identity, or pass --force to go ahead and lose this session",
					user, strings.Join(t.sessionOf[user], ", ")))
				return nil
			}
			add(&revActs, revokeMintedAction("user", user, now, had, t.sessionOf[user], false))
			return nil
		})
	}
	for role, issued := range t.roleSess {
		g.Go(func() error {
			had, err := readRoleRevokeTime(gctx, st, role)
			if err != nil {
				return err
			}
			if covers(had, issued) {
				add(&revActs, revokeMintedAction("role", role, had, time.Time{}, t.sessionOf[role], true))
				return nil
			}
			if st.Responder.RoleName() == role && !st.Force {
				st.refuse(fmt.Sprintf("you are signed in through role %s, whose sessions the attacker also holds (%s): revoking them ends yours; revoke them from another identity, or pass --force to go ahead and lose this session",
					role, strings.Join(t.sessionOf[role], ", ")))
				return nil
			}
			if st.minted.once("role-legit|" + role) {
				st.Warn("revoking the sessions of role %s ends its legitimate sessions too (every session issued before %s): workloads and people using the role assume it again and go on",
					role, now.Format(time.RFC3339))
			}
			add(&revActs, revokeMintedAction("role", role, now, had, t.sessionOf[role], false))
			return nil
		})
	}
	for _, c := range t.trust {
		g.Go(func() error {
			out, err := st.IAM.GetRole(gctx, &iam.GetRoleInput{RoleName: aws.String(c.ID)})
			if isNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read role %s: %w", c.ID, err)
			}
			var still []string
			if out.Role != nil {
				still = OutsidePrincipals(aws.ToString(out.Role.AssumeRolePolicyDocument), st.Responder.Account)
			}
			if len(still) > 0 && st.minted.once("trust|"+c.Key()) {
				st.Warn("the trust policy of role %s was changed by %s with %s at %s and admits %s: anyone there can assume the role; "+
					"step %s takes them out when you confirm", c.ID, c.Parent, c.Via, c.Issued.Format(time.RFC3339), strings.Join(still, ", "), StepRevertMinted)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Long-term keys first: they stop at once and never expire.
	byID := func(as []Action) {
		sort.Slice(as, func(i, j int) bool { return as[i].ID < as[j].ID })
	}
	byID(keyActs)
	byID(denyActs)
	byID(revActs)
	return append(append(keyActs, denyActs...), revActs...), nil
}

// covers reports whether a revocation time denies a session issued at
// issued. CloudTrail's times have whole seconds, and the session may have
// been issued up to a second after its event's time.
func covers(before, issued time.Time) bool {
	return !before.IsZero() && !before.Before(issued.Truncate(time.Second).Add(time.Second))
}

// refuse records a credential the run will not stop because stopping it
// would lock the responder out; the run ends with a SelfLockoutError.
func (st *State) refuse(reason string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.refusals {
		if r == reason {
			return
		}
	}
	st.refusals = append(st.refusals, reason)
}

func readDenyAll(ctx context.Context, st *State, user string) (time.Time, bool, error) {
	out, err := st.IAM.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(DenyAllPolicyName)})
	if isNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read deny-all policy of %s: %w", user, err)
	}
	since, ok := DenyAllSinceOf(aws.ToString(out.PolicyDocument))
	return since, ok, nil
}

// denyAllAction plans the deny-all policy on a user the attacker created.
func denyAllAction(user string, since time.Time, c AttackerCredential) Action {
	doc := DenyAllPolicyDocument(since)
	return Action{
		ID:      StepContainMinted + "/PutUserPolicy/" + DenyAllPolicyName + "/" + user,
		Service: "iam", Name: "PutUserPolicy",
		Params: map[string]string{"Kind": "deny-user", "Name": user, "PolicyName": DenyAllPolicyName, "PolicyDocument": doc,
			"Since": since.Format(time.RFC3339)},
		Description: fmt.Sprintf("iam PutUserPolicy --user-name %s --policy-name %s --policy-document '%s' "+
			"(user made by %s at %s: its keys, console password, session and federation tokens all stop)",
			user, DenyAllPolicyName, doc, c.Parent, c.Issued.Format(time.RFC3339)),
	}
}

// revokeMintedAction plans the revoke policy on a user or role whose
// sessions the attacker holds. Its ID carries the time, so that moving the
// time forward is a new action, not the old one found undone.
func revokeMintedAction(kind, name string, before, had time.Time, sessions []string, inPlace bool) Action {
	a := revokeAction(StepContainMinted, kind, name, before, had)
	a.ID += "@" + before.UTC().Format(time.RFC3339)
	if !had.IsZero() {
		a.Params["Had"] = had.UTC().Format(time.RFC3339)
	}
	sort.Strings(sessions)
	a.Description += " (ends " + strings.Join(dedupe(sessions), ", ") + ")"
	a.InPlace = inPlace
	return a
}

func applyMinted(ctx context.Context, st *State, a Action) error {
	name := aws.String(a.Params["Name"])
	switch a.Params["Kind"] {
	case "key":
		err := applyUpdateKey(ctx, st, a)
		if isNotFound(err) {
			return AlreadyDone("the key no longer exists")
		}
		return err
	case "deny-user":
		_, err := st.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String(DenyAllPolicyName),
			PolicyDocument: aws.String(a.Params["PolicyDocument"])})
		if isNotFound(err) {
			return AlreadyDone("the user no longer exists")
		}
		if err != nil {
			return fmt.Errorf("put deny-all policy: %w", err)
		}
		return nil
	case "user", "role":
		var err error
		doc := aws.String(a.Params["PolicyDocument"])
		if a.Params["Kind"] == "role" {
			_, err = st.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(RevokePolicyName), PolicyDocument: doc})
		} else {
			_, err = st.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String(RevokePolicyName), PolicyDocument: doc})
		}
		if isNotFound(err) {
			return AlreadyDone("the " + a.Params["Kind"] + " no longer exists, and its sessions with it")
		}
		if err != nil {
			return fmt.Errorf("put revoke policy: %w", err)
		}
		switch {
		case a.Params["Kind"] == "role" && st.Responder.RoleName() == a.Params["Name"]:
			st.selfLocked = true
		case a.Params["Kind"] == "user" && st.Responder.UserName() == a.Params["Name"] && st.responderMayBeSession():
			st.selfLocked = true
		}
		return nil
	}
	return fmt.Errorf("apply %s: unknown kind %q", a.ID, a.Params["Kind"])
}

func checkMinted(ctx context.Context, st *State, a Action) (bool, error) {
	switch a.Params["Kind"] {
	case "key":
		return checkKeyStatus(ctx, st, a)
	case "deny-user":
		_, found, err := readDenyAll(ctx, st, a.Params["Name"])
		return found, err
	}
	return checkRevoke(ctx, st, a)
}

func undoMinted(ctx context.Context, st *State, a Action) error {
	switch a.Params["Kind"] {
	case "key":
		return undoUpdateKey(ctx, st, a)
	case "deny-user":
		_, err := st.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(a.Params["Name"]), PolicyName: aws.String(DenyAllPolicyName)})
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("delete deny-all policy: %w", err)
		}
		return nil
	}
	// A revocation moved forward goes back to the time it had; one this
	// step put first goes.
	if had, err := time.Parse(time.RFC3339, a.Params["Had"]); err == nil {
		back := a
		back.Params = map[string]string{"Kind": a.Params["Kind"], "Name": a.Params["Name"], "PolicyDocument": RevokePolicyDocument(had)}
		return applyMinted(ctx, st, back)
	}
	return undoRevoke(ctx, st, a)
}

// mintedError is what a run that otherwise succeeded returns about the
// attacker's credentials: those it refused to stop (the responder would
// lose their own session) and the regions whose CloudTrail it could not
// read, so that nobody takes the run for complete.
func mintedError(st *State, changed []string) error {
	if refs := st.Refusals(); len(refs) > 0 {
		return &PartialError{Step: StepContainMinted, Done: changed, Err: &SelfLockoutError{Reason: strings.Join(refs, "; ")}}
	}
	if st.trail == nil {
		return nil
	}
	if s := st.minted.result(); s != nil && len(s.Failed) > 0 {
		return &PartialError{Step: StepContainMinted, Done: changed,
			Err: fmt.Errorf("CloudTrail could not be read in %s: what the key minted there is not known; fix access and run contain again", strings.Join(s.Failed, "; "))}
	}
	return nil
}
