package trail

import (
	"regexp"
	"strings"
	"time"
)

// KeyLink is one access key in the chain of an investigation: the leaked key
// itself (no parent) or a key issued, directly or not, by it.
type KeyLink struct {
	AccessKeyID string    `json:"accessKeyId"`
	Parent      string    `json:"parent"` // the key whose call issued this one; "" for the leaked key
	Via         string    `json:"via"`    // the issuing call: GetSessionToken, AssumeRole, CreateAccessKey, ...
	EventID     string    `json:"eventID"`
	EventTime   time.Time `json:"eventTime,omitzero"`
	Expiration  time.Time `json:"expiration,omitzero"` // zero for long-term keys and unreadable expirations
	Region      string    `json:"region,omitempty"`    // where the issuing call was logged
	RoleARN     string    `json:"roleArn,omitempty"`   // the role assumed (AssumeRole*)
	UserName    string    `json:"userName,omitempty"`  // the user a CreateAccessKey key belongs to
	// RoleSession marks credentials of an assumed role: a deny policy on the
	// leaked key's user does not revoke them; the role needs its own.
	RoleSession bool `json:"roleSession,omitempty"`
	// MayBeValid marks keys that may still work at the time of the
	// investigation: temporary credentials not yet expired (or of unknown
	// expiration and recent) and long-term keys, which live until deleted.
	MayBeValid bool `json:"mayBeValid,omitempty"`
}

// derivingCalls maps each call that hands out credentials to the object of
// its responseElements holding the new accessKeyId.
var derivingCalls = map[string]string{
	"GetSessionToken":           "credentials",
	"GetFederationToken":        "credentials",
	"AssumeRole":                "credentials",
	"AssumeRoleWithSAML":        "credentials",
	"AssumeRoleWithWebIdentity": "credentials",
	"CreateAccessKey":           "accessKey",
}

// maxSessionLife bounds temporary credentials (GetSessionToken allows 36 h);
// used when an expiration could not be read.
const maxSessionLife = 36 * time.Hour

// Derivation reports the key an event issued, if it is a successful call of
// GetSessionToken, GetFederationToken, AssumeRole, AssumeRoleWithSAML,
// AssumeRoleWithWebIdentity or CreateAccessKey with the new key in its
// responseElements. MayBeValid is left for the caller, who knows "now".
func (e *Event) Derivation() (KeyLink, bool) {
	obj, ok := derivingCalls[e.EventName]
	if !ok || e.ErrorCode != "" {
		return KeyLink{}, false
	}
	id := e.ResponseString(obj, "accessKeyId")
	if id == "" || id == e.UserIdentity.AccessKeyID {
		return KeyLink{}, false
	}
	l := KeyLink{
		AccessKeyID: id,
		Parent:      e.UserIdentity.AccessKeyID,
		Via:         e.EventName,
		EventID:     e.EventID,
		EventTime:   e.EventTime,
		Region:      e.Region,
	}
	if exp, ok := ParseTime(e.ResponseString(obj, "expiration")); ok {
		l.Expiration = exp
	}
	if strings.HasPrefix(e.EventName, "AssumeRole") {
		l.RoleSession = true
		l.RoleARN = e.RequestString("roleArn")
	}
	if e.EventName == "CreateAccessKey" {
		l.UserName = e.ResponseString("accessKey", "userName")
		if l.UserName == "" {
			l.UserName = e.RequestString("userName")
		}
		if l.UserName == "" {
			// Without userName the key is made for the caller itself.
			l.UserName = e.UserIdentity.UserName
		}
	}
	return l, true
}

// mayBeValid tells whether a derived key may still work at now.
func (l KeyLink) mayBeValid(now time.Time) bool {
	switch {
	case l.Parent == "":
		return false // the leaked key's status is the playbook's business, not the trail's
	case l.Via == "CreateAccessKey":
		return true
	case !l.Expiration.IsZero():
		return l.Expiration.After(now)
	case l.EventTime.IsZero():
		return true
	default:
		return l.EventTime.Add(maxSessionLife).After(now)
	}
}

var keyIDPattern = regexp.MustCompile(`^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,124}$`)

// ValidAccessKeyID tells whether s has the form of an AWS access key ID
// (AKIA… long-term, ASIA… temporary), so that a typo is caught before any
// API call.
func ValidAccessKeyID(s string) bool { return keyIDPattern.MatchString(s) }
