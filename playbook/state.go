package playbook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Identity is the responder as sts:GetCallerIdentity reports it.
type Identity struct {
	ARN     string `json:"arn"`
	UserID  string `json:"userId"`
	Account string `json:"account"`
	// KeyID is the responder's access key ID when the caller told the runner
	// (WithResponderKeyID); "" when unknown.
	KeyID string `json:"keyId,omitempty"`
}

// IsRoot reports whether the responder is the account's root user.
func (id Identity) IsRoot() bool { return strings.HasSuffix(id.ARN, ":root") }

// UserName returns the IAM user name when the responder is an IAM user (or
// a GetSessionToken session of one, which has the same ARN), else "".
func (id Identity) UserName() string {
	_, rest, ok := strings.Cut(id.ARN, ":user/")
	if !ok || !strings.HasPrefix(id.ARN, "arn:") || !strings.Contains(id.ARN, ":iam:") {
		return ""
	}
	return rest[strings.LastIndex(rest, "/")+1:]
}

// RoleName returns the role of an assumed-role responder, else "".
func (id Identity) RoleName() string {
	_, rest, ok := strings.Cut(id.ARN, ":assumed-role/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// KeyInfo is one access key of the owner.
type KeyInfo struct {
	ID      string    `json:"id"`
	Status  string    `json:"status"`
	Created time.Time `json:"created,omitzero"`
	Leaked  bool      `json:"leaked,omitempty"`
}

// KeyUse is a key's last use as IAM reports it.
type KeyUse struct {
	Time    time.Time `json:"time,omitzero"`
	Service string    `json:"service,omitempty"`
	Region  string    `json:"region,omitempty"`
}

// LoginProfileInfo records that the owner had a console password.
type LoginProfileInfo struct {
	Created       time.Time `json:"created,omitzero"`
	ResetRequired bool      `json:"resetRequired,omitempty"`
}

// State is what the steps know and share during one run. Fields are filled
// by the steps named in their comments; a step only reads fields of steps
// before it. The journaling clients are IAM and STS.
type State struct {
	KeyID string
	Force bool
	// Roles are role ARNs whose sessions revoke-role-sessions revokes
	// (fed by the investigation: roles the key assumed).
	Roles []string

	IAM IAM
	STS STS

	// identify
	Responder  Identity
	KeyAccount string // the account sts:GetAccessKeyInfo names
	Owner      string // IAM user name owning the key
	Root       bool   // the key is a root user key
	LastUsed   *KeyUse

	// contain
	DeactivatedAt time.Time
	// FoundActiveAgain is when this run found the key Active although the
	// case had deactivated it before (zero otherwise).
	FoundActiveAgain time.Time
	keyFound         string // the key's status in IAM when the run read it

	// revoke-sessions
	RevokedBefore time.Time // the time the user's revoke policy now denies before
	revokeFound   time.Time // the existing policy's time, read in Prepare
	revokePlanned time.Time // the time this run's revoke-sessions plans to put

	// scope
	Keys       []KeyInfo
	Access     *Access
	Quarantine []string // AWS quarantine policies attached to the owner

	// deactivate-other-keys
	otherKeys []KeyInfo

	// remove-console-password
	LoginProfile *LoginProfileInfo

	// revoke-role-sessions
	roleRevokeFound map[string]time.Time

	// preflight
	Preflight *PreflightResult

	// contain-minted and remove-minted-passwords
	trail    *TrailClients // nil: no CloudTrail access in this run
	leakedAt time.Time
	minted   *discovery
	refusals []string // credentials left working because stopping them would lock the responder out
	// containEnded is closed when the contain step has ended, or at once
	// when the run has none.
	containEnded chan struct{}
	// wantCreds asks the read-back for the attacker's credentials (runs
	// that contain).
	wantCreds bool

	// live is what the run read back from AWS after its steps.
	live liveState

	now        func() time.Time
	journal    *Journal  // nil in a dry run
	rec        *recorder // journals the calls of the clients the steps build
	mu         sync.Mutex
	warnings   []string
	selfLocked bool // the responder revoked their own session (--force)
}

// Now returns the run's clock.
func (st *State) Now() time.Time { return st.now().UTC() }

// Warn adds a warning to the run's summary. Safe for concurrent use.
func (st *State) Warn(format string, args ...any) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.warnings = append(st.warnings, fmt.Sprintf(format, args...))
}

// Warnings returns the warnings so far.
func (st *State) Warnings() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.warnings...)
}

// Note writes a note to the journal (nothing in a dry run).
func (st *State) Note(ctx context.Context, msg string) error {
	if st.journal == nil {
		return nil
	}
	_, err := st.journal.Append(Entry{Time: st.Now(), Kind: KindNote, Step: callFrom(ctx).step, Message: msg})
	return err
}

// DoneAt returns when the journal recorded the action done, in this run or
// an earlier one.
func (st *State) DoneAt(actionID string) (time.Time, bool) {
	if st.journal == nil {
		return time.Time{}, false
	}
	r := st.journal.Action(actionID)
	return r.DoneAt, r.Done
}

func (st *State) setResponder(id Identity) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Responder = id
}

// responderARN is safe to call while identify runs (errors of its
// concurrent calls name the responder).
func (st *State) responderARN() string {
	if st == nil {
		return ""
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.Responder.ARN
}

// responderIsOwner reports whether the responder is the key's owner signed
// in as the IAM user itself (its long-term keys or a GetSessionToken session).
func (st *State) responderIsOwner() bool {
	if st.Root {
		return st.Responder.IsRoot()
	}
	return st.Owner != "" && st.Responder.UserName() == st.Owner
}

// responderMayBeSession reports whether the responder's credentials may be
// a session token: unknown key, or an ASIA key.
func (st *State) responderMayBeSession() bool {
	return st.Responder.KeyID == "" || strings.HasPrefix(st.Responder.KeyID, "ASIA")
}

// Refusals returns what the run left working because stopping it would
// lock the responder out.
func (st *State) Refusals() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.refusals...)
}

// liveState is what a run reads back from AWS after its steps, for the
// summary: the owner's keys and revoke policy as they are now.
type liveState struct {
	keys          []KeyInfo
	keysRead      bool
	revokedBefore time.Time
	revokeRead    bool
	creds         []AttackerCredential
}
