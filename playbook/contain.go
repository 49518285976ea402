package playbook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// RevokePolicyName is the inline policy that denies sessions issued before
// the deactivation, on the owner and on roles the key assumed.
const RevokePolicyName = "keyleak-revoke-older-sessions"

func containStep() Step {
	return Step{
		ID:    StepContain,
		Title: "Deactivate the key",
		Why: "Deactivation stops the key at once and can be undone if a legitimate system breaks; " +
			"deleting comes later, once you are sure, so that the key ID stays searchable.",
		Idempotent: true,
		Calls:      []string{"iam:UpdateAccessKey", "iam:ListAccessKeys"},
		Prepare:    prepareContain,
		Plan:       planContain,
		Apply:      applyUpdateKey,
		Check:      checkKeyStatus,
		Undo:       undoUpdateKey,
	}
}

// sessionGuard refuses a step that would end the responder's own session,
// unless forced.
func sessionGuard(st *State, what string) error {
	if !st.responderIsOwner() || !st.responderMayBeSession() || st.Force {
		return nil
	}
	if st.Responder.KeyID == "" {
		return &SelfLockoutError{Reason: fmt.Sprintf(
			"you are signed in as %s, the owner of the leaked key, and keyleak cannot tell whether your credentials are the leaked key or a session made from it; "+
				"%s with another identity (another administrator or a role), or pass --force if you are sure they are neither",
			st.Responder.ARN, what)}
	}
	return &SelfLockoutError{Reason: fmt.Sprintf(
		"you are signed in with a session (%s) of %s, the owner of the leaked key: it may have been made from the leaked key, "+
			"and the session-revocation policy will end it too; %s with another identity, or pass --force to go ahead and lose this session",
		st.Responder.KeyID, st.Responder.ARN, what)}
}

// prepareContain reads the key's status as AWS has it now, beside the
// other steps' look-ups: the plan acts on what is, not on what the journal
// says was done.
func prepareContain(ctx context.Context, st *State) error {
	if st.Root && !st.Responder.IsRoot() {
		return nil // identify refuses; only the root user lists root keys
	}
	keys, err := listKeys(ctx, st, st.Owner)
	if err != nil {
		return err
	}
	st.keyFound = ""
	for _, k := range keys {
		if k.ID == st.KeyID {
			st.keyFound = k.Status
		}
	}
	if st.keyFound == "" {
		st.keyFound = keyGone
	}
	return nil
}

// keyGone is the live status of a key IAM no longer lists.
const keyGone = "Deleted"

func planContain(ctx context.Context, st *State) ([]Action, error) {
	if err := sessionGuard(st, "contain the key"); err != nil {
		return nil, err
	}
	a := updateKeyAction(StepContain, st.Owner, st.KeyID, "Inactive")
	switch st.keyFound {
	case "Inactive":
		a.InPlace = true
		return []Action{a}, nil
	case keyGone:
		st.Warn("access key %s no longer exists in IAM: nothing to deactivate", st.KeyID)
		a.InPlace = true
		return []Action{a}, nil
	}
	if at, done := st.DoneAt(a.ID); done {
		msg := fmt.Sprintf("access key %s was found %s at %s although this case deactivated it at %s; deactivating it again",
			st.KeyID, st.keyFound, st.Now().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		st.Warn("%s", msg)
		st.FoundActiveAgain = st.Now()
		if err := st.Note(ctx, msg); err != nil {
			return nil, err
		}
	}
	return []Action{a}, nil
}

// updateKeyAction plans iam:UpdateAccessKey. An empty user means the
// caller's own keys (the root user deactivating a root key).
func updateKeyAction(step, user, keyID, status string) Action {
	desc := "iam UpdateAccessKey"
	if user != "" {
		desc += " --user-name " + user
	}
	desc += " --access-key-id " + keyID + " --status " + status
	return Action{
		ID:      step + "/UpdateAccessKey/" + keyID,
		Service: "iam", Name: "UpdateAccessKey",
		Params:      map[string]string{"UserName": user, "AccessKeyId": keyID, "Status": status},
		Description: desc,
	}
}

func applyUpdateKey(ctx context.Context, st *State, a Action) error {
	in := &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(a.Params["AccessKeyId"]), Status: types.StatusType(a.Params["Status"])}
	if u := a.Params["UserName"]; u != "" {
		in.UserName = aws.String(u)
	}
	if _, err := st.IAM.UpdateAccessKey(ctx, in); err != nil {
		return fmt.Errorf("update access key: %w", err)
	}
	if a.Params["AccessKeyId"] == st.KeyID && a.Params["Status"] == "Inactive" {
		st.DeactivatedAt = st.Now()
	}
	return nil
}

func undoUpdateKey(ctx context.Context, st *State, a Action) error {
	back := a
	back.Params = map[string]string{"UserName": a.Params["UserName"], "AccessKeyId": a.Params["AccessKeyId"], "Status": "Active"}
	if a.Params["Status"] == "Active" {
		back.Params["Status"] = "Inactive"
	}
	return applyUpdateKey(ctx, st, back)
}

// listKeys returns the keys of a user ("" for the caller's own, i.e. root).
func listKeys(ctx context.Context, st *State, user string) ([]KeyInfo, error) {
	return listKeysWith(ctx, st.IAM, st.KeyID, user)
}

// listKeysWith is listKeys through the given client; leaked marks the
// leaked key.
func listKeysWith(ctx context.Context, api iam.ListAccessKeysAPIClient, leaked, user string) ([]KeyInfo, error) {
	in := &iam.ListAccessKeysInput{}
	if user != "" {
		in.UserName = aws.String(user)
	}
	var keys []KeyInfo
	p := iam.NewListAccessKeysPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list access keys: %w", err)
		}
		for _, k := range page.AccessKeyMetadata {
			id := aws.ToString(k.AccessKeyId)
			keys = append(keys, KeyInfo{ID: id, Status: string(k.Status), Created: aws.ToTime(k.CreateDate).UTC(), Leaked: id == leaked})
		}
	}
	return keys, nil
}

// checkKeyStatus reads whether the key already has the planned status. A key
// that is gone has no status to set: that counts as done, with a warning.
func checkKeyStatus(ctx context.Context, st *State, a Action) (bool, error) {
	keys, err := listKeys(ctx, st, a.Params["UserName"])
	if err != nil {
		return false, err
	}
	for _, k := range keys {
		if k.ID == a.Params["AccessKeyId"] {
			return k.Status == a.Params["Status"], nil
		}
	}
	st.Warn("access key %s no longer exists: someone deleted it", a.Params["AccessKeyId"])
	return true, nil
}

func revokeSessionsStep() Step {
	return Step{
		ID:    StepRevokeSessions,
		Title: "Revoke sessions made from the key",
		Why: "Temporary credentials made from the key (GetSessionToken, GetFederationToken) keep working for up to 36 hours after deactivation; " +
			"a deny policy on aws:TokenIssueTime ends every one of them.",
		Idempotent: true,
		Calls:      []string{"iam:GetUserPolicy", "iam:PutUserPolicy", "iam:DeleteUserPolicy"},
		Prepare:    prepareRevoke,
		Plan:       planRevoke,
		Apply:      applyRevoke,
		Check:      checkRevoke,
		Undo:       undoRevoke,
	}
}

// prepareRevoke reads the revoke policy already on the user, so that an
// update moves its time forward only. It runs while the key is deactivated.
func prepareRevoke(ctx context.Context, st *State) error {
	if st.Root {
		return nil
	}
	t, err := readUserRevokeTime(ctx, st, st.Owner)
	st.revokeFound = t
	return err
}

func readUserRevokeTime(ctx context.Context, st *State, user string) (time.Time, error) {
	return readUserRevokeTimeWith(ctx, st.IAM, user)
}

func readUserRevokeTimeWith(ctx context.Context, api RevokeAPI, user string) (time.Time, error) {
	out, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(RevokePolicyName)})
	if isNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read revoke policy: %w", err)
	}
	t, _ := RevokeTimeOf(aws.ToString(out.PolicyDocument))
	return t, nil
}

// revokeTime is the time before which sessions are denied: the deactivation,
// as recorded in this run or an earlier one, else now. It is rounded up to
// the second because the policy's time has whole seconds and a session made
// in the deactivation's second must be denied too.
func revokeTime(st *State) time.Time {
	t := st.DeactivatedAt
	if t.IsZero() {
		t, _ = st.DoneAt(StepContain + "/UpdateAccessKey/" + st.KeyID)
	}
	if t.IsZero() {
		t = st.Now()
	}
	return ceilSecond(t)
}

// deactivationKnown tells whether this run or the journal knows when the
// key was deactivated, from the call itself (a reconciliation only knows
// when the key was found inactive).
func deactivationKnown(st *State) bool {
	if !st.DeactivatedAt.IsZero() {
		return true
	}
	if st.journal == nil {
		return false
	}
	r := st.journal.Action(StepContain + "/UpdateAccessKey/" + st.KeyID)
	return r.Done && !r.Reconciled
}

// revokeCoversInactiveKey tells whether the revoke policy found on the
// owner already denies every session the leaked key can have made, when
// neither this run nor the journal knows when the key was deactivated (the
// journal was lost or cut, or another case or person deactivated it).
// AWS then answers instead: the key is Inactive, so it has made no session
// since it was last used; a policy whose time is at or after that last use
// (or a key never used) denies them all. Moving the time to now would
// repeat containment on every run and end the owner's legitimate sessions
// again each time.
func revokeCoversInactiveKey(st *State) bool {
	if st.keyFound != "Inactive" || st.revokeFound.IsZero() || deactivationKnown(st) {
		return false
	}
	return st.LastUsed == nil || !st.LastUsed.Time.After(st.revokeFound)
}

func ceilSecond(t time.Time) time.Time {
	t = t.UTC()
	if tr := t.Truncate(time.Second); !tr.Equal(t) {
		return tr.Add(time.Second)
	}
	return t
}

func planRevoke(ctx context.Context, st *State) ([]Action, error) {
	if st.Root {
		return nil, nil // identify warned: root sessions cannot be revoked by policy
	}
	if err := sessionGuard(st, "revoke the sessions"); err != nil {
		return nil, err
	}
	if strings.Contains(st.Responder.ARN, ":federated-user/") {
		st.Warn("you are signed in as a federated user (%s); if its token was made by %s, revoking sessions ends yours too", st.Responder.ARN, st.Owner)
	}
	t := revokeTime(st)
	if revokeCoversInactiveKey(st) {
		t = st.revokeFound
	}
	if !st.revokeFound.Before(t) {
		st.RevokedBefore = st.revokeFound // in place in AWS now
		a := revokeAction(StepRevokeSessions, "user", st.Owner, st.revokeFound, time.Time{})
		a.InPlace = true
		return []Action{a}, nil
	}
	st.revokePlanned = t
	return []Action{revokeAction(StepRevokeSessions, "user", st.Owner, t, st.revokeFound)}, nil
}

// revokeAction plans PutUserPolicy or PutRolePolicy of the revoke policy.
func revokeAction(step, kind, name string, before, had time.Time) Action {
	doc := RevokePolicyDocument(before)
	api, flag := "PutUserPolicy", "--user-name"
	if kind == "role" {
		api, flag = "PutRolePolicy", "--role-name"
	}
	desc := fmt.Sprintf("iam %s %s %s --policy-name %s --policy-document '%s'", api, flag, name, RevokePolicyName, doc)
	if !had.IsZero() {
		desc += fmt.Sprintf(" (moves the revocation time forward from %s)", had.Format(time.RFC3339))
	}
	return Action{
		ID:      step + "/" + api + "/" + name,
		Service: "iam", Name: api,
		Params:      map[string]string{"Kind": kind, "Name": name, "PolicyName": RevokePolicyName, "PolicyDocument": doc, "Before": before.Format(time.RFC3339)},
		Description: desc,
	}
}

func applyRevoke(ctx context.Context, st *State, a Action) error {
	name, doc := aws.String(a.Params["Name"]), aws.String(a.Params["PolicyDocument"])
	var err error
	if a.Params["Kind"] == "role" {
		_, err = st.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String(RevokePolicyName), PolicyDocument: doc})
	} else {
		_, err = st.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: name, PolicyName: aws.String(RevokePolicyName), PolicyDocument: doc})
	}
	if err != nil {
		return fmt.Errorf("put revoke policy: %w", err)
	}
	if a.Params["Kind"] != "role" {
		st.RevokedBefore, _ = time.Parse(time.RFC3339, a.Params["Before"])
		if st.responderIsOwner() && st.responderMayBeSession() {
			st.selfLocked = true
		}
	} else if st.Responder.RoleName() == a.Params["Name"] {
		st.selfLocked = true
	}
	return nil
}

// checkRevoke reads whether the policy in place already denies sessions up
// to the planned time (or later).
func checkRevoke(ctx context.Context, st *State, a Action) (bool, error) {
	want, err := time.Parse(time.RFC3339, a.Params["Before"])
	if err != nil {
		return false, fmt.Errorf("check revoke policy: %w", err)
	}
	var have time.Time
	if a.Params["Kind"] == "role" {
		have, err = readRoleRevokeTime(ctx, st, a.Params["Name"])
	} else {
		have, err = readUserRevokeTime(ctx, st, a.Params["Name"])
	}
	if err != nil {
		return false, err
	}
	return !have.Before(want), nil
}

func undoRevoke(ctx context.Context, st *State, a Action) error {
	var err error
	if a.Params["Kind"] == "role" {
		_, err = st.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(a.Params["Name"]), PolicyName: aws.String(RevokePolicyName)})
	} else {
		_, err = st.IAM.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(a.Params["Name"]), PolicyName: aws.String(RevokePolicyName)})
	}
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete revoke policy: %w", err)
	}
	return nil
}

// RevokePolicyDocument is the inline policy that denies every action to
// sessions whose token was issued before the given time (RFC 3339, UTC),
// the same policy as the console's "Revoke active sessions".
func RevokePolicyDocument(before time.Time) string {
	type condition struct {
		DateLessThan map[string]string
	}
	type statement struct {
		Sid       string
		Effect    string
		Action    string
		Resource  string
		Condition condition
	}
	doc := struct {
		Version   string
		Statement []statement
	}{
		Version: "2012-10-17",
		Statement: []statement{{
			Sid: "KeyleakRevokeOlderSessions", Effect: "Deny", Action: "*", Resource: "*",
			Condition: condition{DateLessThan: map[string]string{"aws:TokenIssueTime": before.UTC().Format(time.RFC3339)}},
		}},
	}
	b, _ := json.Marshal(doc) // strings only: encoding cannot fail
	return string(b)
}

// RevokeTimeOf returns the time a revoke policy denies sessions before; ok
// is false when the document is not such a policy. IAM returns documents
// URL-encoded; both forms are accepted.
func RevokeTimeOf(doc string) (before time.Time, ok bool) {
	if dec, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(doc), "%7B") {
		doc = dec
	}
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return time.Time{}, false
	}
	var sts []struct {
		Effect    string
		Condition map[string]map[string]json.RawMessage
	}
	if json.Unmarshal(p.Statement, &sts) != nil {
		var one struct {
			Effect    string
			Condition map[string]map[string]json.RawMessage
		}
		if json.Unmarshal(p.Statement, &one) != nil {
			return time.Time{}, false
		}
		sts = append(sts, one)
	}
	for _, s := range sts {
		if !strings.EqualFold(s.Effect, "Deny") {
			continue
		}
		for op, kv := range s.Condition {
			if op != "DateLessThan" {
				continue
			}
			for k, raw := range kv {
				if !strings.EqualFold(k, "aws:TokenIssueTime") {
					continue
				}
				var v string
				if json.Unmarshal(raw, &v) != nil {
					var vs []string
					if json.Unmarshal(raw, &vs) != nil || len(vs) == 0 {
						continue
					}
					v = vs[0]
				}
				if t, err := time.Parse(time.RFC3339, v); err == nil && t.After(before) {
					before, ok = t.UTC(), true
				}
			}
		}
	}
	return before, ok
}
