package playbook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// Kinds of AttackerCredential.
const (
	CredAccessKey       = "access-key"       // the leaked key, or one made with CreateAccessKey
	CredSessionToken    = "session-token"    // GetSessionToken
	CredFederationToken = "federation-token" // GetFederationToken
	CredRoleSession     = "role-session"     // AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity
	CredUser            = "user"             // CreateUser
	CredConsolePassword = "console-password" // CreateLoginProfile, UpdateLoginProfile
	CredTrustPolicy     = "trust-policy"     // UpdateAssumeRolePolicy, or CreateRole, admitting an outside principal
	CredMFADevice       = "mfa-device"       // CreateVirtualMFADevice, EnableMFADevice
	CredIdentityCenter  = "identity-center"  // a change in IAM Identity Center (sso, identitystore)
)

// States of AttackerCredential, as AWS showed them when the run read them
// back.
const (
	CredInactive = "inactive" // an access key turned off
	CredDenied   = "denied"   // a deny policy refuses every call it makes (DeniedSince)
	CredExpired  = "expired"  // a temporary credential past its expiration
	CredDeleted  = "deleted"  // gone from IAM (a key, a user, a console password), or its principal is
	CredReverted = "reverted" // a trust policy that no longer admits the outside principal
	CredWorking  = "working"  // nothing stops it: Note says why and what to do
	CredUnknown  = "unknown"  // AWS could not be read; Note says why
)

// AttackerCredential is one credential the leaked key holds or made, or a
// credential made from one of those, with its state in AWS when the run
// read it back (Summary.ReadAt). The leaked key itself comes first.
type AttackerCredential struct {
	Kind string `json:"kind"`
	// ID names it: the access key ID; for a user or a console password the
	// user name; for a trust policy the role name; for an MFA device its
	// serial number.
	ID      string `json:"id"`
	User    string `json:"user,omitempty"`    // the IAM user it belongs to
	Role    string `json:"role,omitempty"`    // the role ARN (role sessions, trust policies)
	Session string `json:"session,omitempty"` // the role session or federated user name
	Account string `json:"account,omitempty"` // the account of the role, when it is not the key's
	// Principals are the outside principals a trust policy was made to admit.
	Principals []string `json:"principals,omitempty"`
	// Parent is the access key whose call made it, Via that call and
	// EventID its CloudTrail event, logged in Region at Issued.
	Parent  string    `json:"parent,omitempty"`
	Via     string    `json:"via,omitempty"`
	EventID string    `json:"eventID,omitempty"`
	Region  string    `json:"region,omitempty"`
	Issued  time.Time `json:"issued,omitzero"`
	Expires time.Time `json:"expires,omitzero"`
	// SeenIn are the regions where CloudTrail shows a call made with it
	// (access keys and sessions): where a watch for further use looks.
	SeenIn []string `json:"seenIn,omitempty"`
	// BeforeLeak marks what was made before the leak time the responder
	// gave: listed, never touched.
	BeforeLeak bool `json:"beforeLeak,omitempty"`
	// State is one of the Cred* states; DeniedSince is the time the deny
	// that refuses it took effect, as the policy in IAM says.
	State       string    `json:"state"`
	DeniedSince time.Time `json:"deniedSince,omitzero"`
	// Note says what stops it, or why nothing does and what to do next.
	Note string `json:"note,omitempty"`
}

// Key identifies the credential in a run: kind and ID.
func (c AttackerCredential) Key() string { return c.Kind + "|" + c.ID }

// Label is how text output names the credential.
func (c AttackerCredential) Label() string {
	switch c.Kind {
	case CredRoleSession:
		name, _ := RoleNameFromARN(c.Role)
		if name == "" {
			name = c.Role
		}
		return fmt.Sprintf("%s session %s (%s)", name, c.Session, c.ID)
	case CredFederationToken:
		return fmt.Sprintf("%s of %s (federated user %s)", c.ID, c.User, c.Session)
	case CredSessionToken, CredAccessKey:
		if c.User == "" {
			return c.ID + " (root user)"
		}
		return fmt.Sprintf("%s of %s", c.ID, c.User)
	case CredConsolePassword:
		return "console password of " + c.User
	case CredMFADevice:
		if c.User != "" {
			return fmt.Sprintf("%s of %s", c.ID, c.User)
		}
	}
	return c.ID
}

// MintedSearch says how containment looked for what the key minted: the
// CloudTrail it read and what it could not read.
type MintedSearch struct {
	// Searched is false when the run was given no CloudTrail access.
	Searched bool      `json:"searched"`
	Since    time.Time `json:"since,omitzero"`
	Until    time.Time `json:"until,omitzero"`
	Regions  int       `json:"regions"`
	Lookups  int       `json:"lookups"`
	Events   int       `json:"events"`
	// Failed lists the regions whose CloudTrail could not be read, each
	// with its reason: what was minted there is not known.
	Failed []string `json:"failed,omitempty"`
	// Delay states CloudTrail's delivery delay: what was minted in the last
	// minutes may not be visible yet.
	Delay string `json:"delay,omitempty"`
}

// DeliveryDelayNote is what every search says about CloudTrail's delay.
const DeliveryDelayNote = "CloudTrail delivers events about 5 minutes after the call, sometimes 15: " +
	"a credential minted in the last minutes before containment may not be visible yet; run contain again in 15 minutes to catch it"

// mintingCalls are the calls whose successful events make or change a
// credential; everything else the key did is the investigation's business.
var mintingCalls = map[string]bool{
	"CreateAccessKey": true, "GetSessionToken": true, "GetFederationToken": true,
	"AssumeRole": true, "AssumeRoleWithSAML": true, "AssumeRoleWithWebIdentity": true,
	"CreateUser": true, "CreateLoginProfile": true, "UpdateLoginProfile": true,
	"UpdateAssumeRolePolicy": true, "CreateRole": true,
	"CreateVirtualMFADevice": true, "EnableMFADevice": true,
}

// identityCenterSources are the services of IAM Identity Center, whose
// users and sessions no IAM policy reaches.
var identityCenterSources = map[string]bool{
	"sso.amazonaws.com": true, "identitystore.amazonaws.com": true, "sso-directory.amazonaws.com": true,
}

// mints reports whether a successful event of the chain makes or changes a
// credential.
func mints(e *trail.Event) bool {
	if e.ErrorCode != "" {
		return false
	}
	if identityCenterSources[e.EventSource] {
		return !e.ReadOnly && !strings.HasPrefix(e.EventName, "List") && !strings.HasPrefix(e.EventName, "Get") && !strings.HasPrefix(e.EventName, "Describe")
	}
	return mintingCalls[e.EventName]
}

// credentialsOf turns one successful event of the chain into the
// credentials it made, if any. account is the key's account: a role of
// another account, or a trust policy admitting one, is marked as such.
func credentialsOf(e *trail.Event, account string) []AttackerCredential {
	if !mints(e) {
		return nil
	}
	base := AttackerCredential{Parent: e.UserIdentity.AccessKeyID, Via: e.EventName, EventID: e.EventID,
		Region: e.Region, Issued: e.EventTime.UTC()}
	caller := callerUser(e)
	if identityCenterSources[e.EventSource] {
		c := base
		c.Kind, c.ID = CredIdentityCenter, e.EventName+" "+e.EventID
		return []AttackerCredential{c}
	}
	switch e.EventName {
	case "CreateAccessKey":
		c := base
		c.Kind, c.ID = CredAccessKey, e.ResponseString("accessKey", "accessKeyId")
		c.User = firstOf(e.ResponseString("accessKey", "userName"), e.RequestString("userName"), caller)
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "GetSessionToken", "GetFederationToken":
		c := base
		c.Kind, c.ID, c.User = CredSessionToken, e.ResponseString("credentials", "accessKeyId"), caller
		if e.EventName == "GetFederationToken" {
			c.Kind, c.Session = CredFederationToken, e.RequestString("name")
		}
		if t, ok := trail.ParseTime(e.ResponseString("credentials", "expiration")); ok {
			c.Expires = t
		}
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		c := base
		c.Kind, c.ID = CredRoleSession, e.ResponseString("credentials", "accessKeyId")
		c.Role, c.Session = e.RequestString("roleArn"), e.RequestString("roleSessionName")
		if t, ok := trail.ParseTime(e.ResponseString("credentials", "expiration")); ok {
			c.Expires = t
		}
		if a := arnAccount(c.Role); a != "" && account != "" && a != account {
			c.Account = a
		}
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "CreateUser":
		c := base
		c.Kind = CredUser
		c.ID = firstOf(e.ResponseString("user", "userName"), e.RequestString("userName"))
		c.User = c.ID
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "CreateLoginProfile", "UpdateLoginProfile":
		c := base
		c.Kind = CredConsolePassword
		c.User = firstOf(e.RequestString("userName"), e.ResponseString("loginProfile", "userName"), caller)
		c.ID = c.User
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "UpdateAssumeRolePolicy", "CreateRole":
		doc := e.RequestString("policyDocument")
		if e.EventName == "CreateRole" {
			doc = e.RequestString("assumeRolePolicyDocument")
		}
		outside := OutsidePrincipals(doc, account)
		if len(outside) == 0 {
			return nil
		}
		c := base
		c.Kind = CredTrustPolicy
		c.ID = firstOf(e.RequestString("roleName"), e.ResponseString("role", "roleName"))
		c.Role = e.ResponseString("role", "arn")
		c.Principals = outside
		c.Note = "admits " + strings.Join(outside, ", ")
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	case "CreateVirtualMFADevice", "EnableMFADevice":
		c := base
		c.Kind = CredMFADevice
		c.ID = firstOf(e.RequestString("serialNumber"), e.ResponseString("virtualMFADevice", "serialNumber"), e.RequestString("virtualMFADeviceName"))
		if e.EventName == "EnableMFADevice" {
			c.User = firstOf(e.RequestString("userName"), caller)
		}
		if c.ID == "" {
			return nil
		}
		return []AttackerCredential{c}
	}
	return nil
}

// callerUser is the IAM user whose credentials made the call, "" for the
// root user and for roles.
func callerUser(e *trail.Event) string {
	if e.UserIdentity.Type == "IAMUser" {
		return e.UserIdentity.UserName
	}
	return ""
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// arnAccount returns the account ID of an ARN, "" if it is not one.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// OutsidePrincipals lists the AWS principals a trust policy admits that
// are not of the account: other accounts, their users and roles, and "*".
// Services and federated providers are not listed. IAM returns documents
// URL-encoded; both forms are read.
func OutsidePrincipals(doc, account string) []string {
	doc = decodeDoc(doc)
	if dec, err := url.QueryUnescape(doc); err == nil && !strings.HasPrefix(strings.TrimSpace(doc), "{") {
		doc = dec
	}
	var p struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &p) != nil {
		return nil
	}
	type stmt struct {
		Effect    string
		Principal json.RawMessage
	}
	var list []stmt
	if json.Unmarshal(p.Statement, &list) != nil {
		var one stmt
		if json.Unmarshal(p.Statement, &one) != nil {
			return nil
		}
		list = []stmt{one}
	}
	var out []string
	for _, s := range list {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		var star string
		if json.Unmarshal(s.Principal, &star) == nil && star == "*" {
			out = append(out, "*")
			continue
		}
		var pr struct {
			AWS json.RawMessage
		}
		if json.Unmarshal(s.Principal, &pr) != nil {
			continue
		}
		for _, v := range stringList(pr.AWS) {
			acct := v
			if strings.HasPrefix(v, "arn:") {
				acct = arnAccount(v)
			}
			if v == "*" || acct != account {
				out = append(out, v)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
