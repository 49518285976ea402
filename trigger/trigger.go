// Package trigger reads the events that start an unattended response: the
// AWS Health event AWS raises when it finds an access key in public (as
// EventBridge delivers it, or its bare detail), a GitHub secret-scanning
// alert webhook for an AWS access key ID, and a GuardDuty finding about an
// access key (EventBridge-delivered or bare). Each becomes a Trigger: the
// keys it names, the account, when and where the leak was found.
//
// Parse never keeps the event itself: a GitHub alert for a secret access key
// carries the secret, and nothing of keyleak may hold one. A Trigger holds
// only what is safe to write into a case.
package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/keyleak/keyleak/playbook"
)

// Sources of a Trigger.
const (
	SourceHealth    = "aws.health"
	SourceGitHub    = "github.secret_scanning"
	SourceGuardDuty = "aws.guardduty"
)

// HealthTypes are the AWS Health event types (service RISK) that say an
// access key is exposed or compromised, or that AWS quarantined its user.
var HealthTypes = []string{
	"AWS_RISK_CREDENTIALS_EXPOSED",
	"AWS_RISK_CREDENTIALS_EXPOSURE_SUSPECTED",
	"AWS_RISK_CREDENTIALS_COMPROMISED",
	"AWS_RISK_CREDENTIALS_COMPROMISE_SUSPECTED",
	"AWS_RISK_IAM_QUARANTINE",
}

// Trigger is what an event says about a leak: enough to start the
// response, nothing secret.
type Trigger struct {
	// Source is SourceHealth, SourceGitHub or SourceGuardDuty.
	Source string `json:"source"`
	// Type is the Health event type code, "secret_scanning_alert.<action>",
	// or the GuardDuty finding type.
	Type string `json:"type"`
	// ID identifies the event: the Health event ARN, the alert's URL, the
	// finding's ID.
	ID string `json:"id,omitempty"`
	// Keys are the access key IDs the event names, in its order, each once.
	Keys []string `json:"keys"`
	// Account is the AWS account the event is about ("" when the event does
	// not say: a GitHub alert).
	Account string `json:"account,omitempty"`
	// User is the key's IAM user when the event names it.
	User string `json:"user,omitempty"`
	// Region is where the event was raised.
	Region string `json:"region,omitempty"`
	// DetectedAt is when the leak was found (the event's time).
	DetectedAt time.Time `json:"detectedAt,omitzero"`
	// ExposedURL is where the key was found, when the event says.
	ExposedURL string `json:"exposedUrl,omitempty"`
	// Channel is where the key leaked, in words ("public GitHub repository").
	Channel string `json:"channel,omitempty"`
}

// DetectedBy says who raised the event, for the reports.
func (t *Trigger) DetectedBy() string {
	switch t.Source {
	case SourceHealth:
		return "AWS Health (" + t.Type + ")"
	case SourceGitHub:
		return "GitHub secret scanning"
	case SourceGuardDuty:
		return "GuardDuty (" + t.Type + ")"
	}
	return t.Source
}

// EventError says why an event cannot start a response, in one sentence.
type EventError struct{ Reason string }

func (e *EventError) Error() string { return e.Reason }

func eventErrorf(format string, args ...any) error {
	return &EventError{Reason: fmt.Sprintf(format, args...)}
}

// maxEvent bounds what Parse reads: EventBridge events are at most 256 KB.
const maxEvent = 1 << 20

// Parse reads one event. An event of another kind, one that names no
// access key, or one that is not JSON is an *EventError.
func Parse(data []byte) (*Trigger, error) {
	if len(data) > maxEvent {
		return nil, eventErrorf("the event is %d bytes; an EventBridge event is at most 256 KB", len(data))
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, eventErrorf("the event is empty: give an AWS Health event, a GitHub secret-scanning alert or a GuardDuty finding as JSON")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, eventErrorf("the event is not a JSON object (%v): give an AWS Health event, a GitHub secret-scanning alert or a GuardDuty finding", jsonReason(err))
	}
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	var t *Trigger
	var err error
	switch source := str(top, "source"); {
	case source == "aws.health":
		t, err = parseHealth(top["detail"], str(top, "account"), str(top, "region"), str(top, "time"))
	case source == "aws.guardduty":
		t, err = parseGuardDuty(top["detail"], str(top, "time"))
	case source != "":
		return nil, eventErrorf("the event comes from %q; keyleak responds to aws.health, aws.guardduty and GitHub secret-scanning alerts", source)
	case top["eventTypeCode"] != nil:
		t, err = parseHealth(data, "", "", "")
	case top["alert"] != nil:
		t, err = parseGitHub(top)
	case top["schemaVersion"] != nil && top["resource"] != nil:
		t, err = parseGuardDuty(data, "")
	default:
		return nil, eventErrorf("the event is neither an AWS Health event, a GitHub secret-scanning alert nor a GuardDuty finding")
	}
	if err != nil {
		return nil, err
	}
	for _, k := range t.Keys {
		if err := playbook.ValidateKeyID(k); err != nil {
			return nil, eventErrorf("the event names %s", err)
		}
	}
	return t, nil
}

func jsonReason(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%v at byte %d", syn, syn.Offset)
	}
	return err.Error()
}

// healthDetail is the detail of an AWS Health event, as EventBridge
// delivers it and as the bare form holds it.
type healthDetail struct {
	EventArn          string `json:"eventArn"`
	Service           string `json:"service"`
	EventTypeCode     string `json:"eventTypeCode"`
	EventTypeCategory string `json:"eventTypeCategory"`
	StartTime         string `json:"startTime"`
	EventRegion       string `json:"eventRegion"`
	AffectedAccount   string `json:"affectedAccount"`
	EventDescription  []struct {
		Language          string `json:"language"`
		LatestDescription string `json:"latestDescription"`
	} `json:"eventDescription"`
	AffectedEntities []struct {
		EntityValue string            `json:"entityValue"`
		Tags        map[string]string `json:"tags"`
	} `json:"affectedEntities"`
	EventMetadata map[string]string `json:"eventMetadata"`
	ExposedURL    string            `json:"exposedUrl"`
}

func parseHealth(raw json.RawMessage, account, region, at string) (*Trigger, error) {
	if len(raw) == 0 {
		return nil, eventErrorf("the AWS Health event has no detail")
	}
	var d healthDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, eventErrorf("the AWS Health event's detail is malformed (%v)", jsonReason(err))
	}
	known := false
	for _, ty := range HealthTypes {
		known = known || d.EventTypeCode == ty
	}
	if !known {
		if d.EventTypeCode == "" {
			return nil, eventErrorf("the AWS Health event has no eventTypeCode")
		}
		return nil, eventErrorf("the AWS Health event is %s, not one about an exposed or compromised access key (%s)", d.EventTypeCode, strings.Join(HealthTypes, ", "))
	}
	t := &Trigger{Source: SourceHealth, Type: d.EventTypeCode, ID: d.EventArn, Account: account, Region: region,
		Channel: "found in public by AWS"}
	if t.Account == "" {
		t.Account = d.AffectedAccount
	}
	if t.Region == "" {
		t.Region = d.EventRegion
	}
	t.DetectedAt = parseTime(at)
	if t.DetectedAt.IsZero() {
		t.DetectedAt = parseTime(d.StartTime)
	}
	var texts []string
	for _, e := range d.AffectedEntities {
		t.addKey(e.EntityValue)
		for k, v := range e.Tags {
			if isURLField(k) {
				texts = append(texts, v)
			}
			if strings.EqualFold(k, "userName") || strings.EqualFold(k, "user") {
				t.User = v
			}
		}
	}
	for _, k := range sortedKeys(d.EventMetadata) {
		v := d.EventMetadata[k]
		if isURLField(k) {
			texts = append(texts, v)
		}
		if strings.EqualFold(k, "userName") || strings.EqualFold(k, "user") {
			t.User = v
		}
	}
	texts = append([]string{d.ExposedURL}, texts...)
	for _, desc := range d.EventDescription {
		texts = append(texts, desc.LatestDescription)
	}
	for _, s := range texts {
		if u := firstURL(s); u != "" {
			t.ExposedURL = u
			break
		}
	}
	if t.ExposedURL != "" && strings.Contains(t.ExposedURL, "github") {
		t.Channel = "public GitHub repository"
	}
	if len(t.Keys) == 0 {
		return nil, eventErrorf("the AWS Health event %s names no access key in detail.affectedEntities", d.EventTypeCode)
	}
	return t, nil
}

// gitHubAlert is the part of a secret_scanning_alert webhook keyleak reads.
// The secret itself is read only when its type is an access key ID, which
// is not a secret; a secret access key is never decoded.
type gitHubAlert struct {
	Action string `json:"action"`
	Alert  struct {
		Number     int    `json:"number"`
		HTMLURL    string `json:"html_url"`
		SecretType string `json:"secret_type"`
		CreatedAt  string `json:"created_at"`
	} `json:"alert"`
	Repository struct {
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
		Private  bool   `json:"private"`
	} `json:"repository"`
}

func parseGitHub(top map[string]json.RawMessage) (*Trigger, error) {
	var a gitHubAlert
	b, _ := json.Marshal(map[string]json.RawMessage{"action": top["action"], "alert": top["alert"], "repository": top["repository"]})
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, eventErrorf("the GitHub alert is malformed (%v)", jsonReason(err))
	}
	switch a.Alert.SecretType {
	case "aws_access_key_id":
	case "":
		return nil, eventErrorf("the GitHub alert has no secret_type: is it a secret_scanning_alert webhook?")
	default:
		return nil, eventErrorf("the GitHub alert is for a %s, not an AWS access key ID: give the alert of the key ID (aws_access_key_id) that leaked with it", a.Alert.SecretType)
	}
	switch a.Action {
	case "created", "reopened", "publicly_leaked", "validated", "":
	default:
		return nil, eventErrorf("the GitHub alert is %q; keyleak responds to created, reopened, publicly_leaked and validated alerts", a.Action)
	}
	var alert map[string]json.RawMessage
	_ = json.Unmarshal(top["alert"], &alert)
	var key string
	if err := json.Unmarshal(alert["secret"], &key); err != nil || key == "" {
		return nil, eventErrorf("the GitHub alert does not carry the key ID (alert.secret); fetch the alert with the GitHub API and give that instead")
	}
	t := &Trigger{Source: SourceGitHub, Type: "secret_scanning_alert." + a.Action, ID: a.Alert.HTMLURL,
		DetectedAt: parseTime(a.Alert.CreatedAt), ExposedURL: a.Alert.HTMLURL, Channel: "GitHub repository"}
	if t.Type == "secret_scanning_alert." {
		t.Type = "secret_scanning_alert"
	}
	if a.Repository.FullName != "" {
		kind := "public"
		if a.Repository.Private {
			kind = "private"
		}
		t.Channel = kind + " GitHub repository " + a.Repository.FullName
	}
	if t.ExposedURL == "" {
		t.ExposedURL = a.Repository.HTMLURL
	}
	t.addKey(key)
	return t, nil
}

// guardDutyFinding is the part of a GuardDuty finding keyleak reads.
type guardDutyFinding struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Region    string `json:"region"`
	Type      string `json:"type"`
	CreatedAt string `json:"createdAt"`
	Resource  struct {
		ResourceType     string `json:"resourceType"`
		AccessKeyDetails *struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
			UserType    string `json:"userType"`
		} `json:"accessKeyDetails"`
	} `json:"resource"`
}

func parseGuardDuty(raw json.RawMessage, at string) (*Trigger, error) {
	var f guardDutyFinding
	if len(raw) == 0 {
		return nil, eventErrorf("the GuardDuty event has no detail")
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, eventErrorf("the GuardDuty finding is malformed (%v)", jsonReason(err))
	}
	d := f.Resource.AccessKeyDetails
	if d == nil || d.AccessKeyID == "" {
		return nil, eventErrorf("the GuardDuty finding %s is about %s, and names no access key", f.Type, orWord(f.Resource.ResourceType, "a resource"))
	}
	if strings.HasPrefix(d.AccessKeyID, "Generated") {
		return nil, eventErrorf("the GuardDuty finding %s is a sample finding (its key is %s): there is no key to contain", f.Type, d.AccessKeyID)
	}
	t := &Trigger{Source: SourceGuardDuty, Type: f.Type, ID: f.ID, Account: f.AccountID, Region: f.Region,
		DetectedAt: parseTime(at), Channel: "seen misused by GuardDuty"}
	if t.DetectedAt.IsZero() {
		t.DetectedAt = parseTime(f.CreatedAt)
	}
	if d.UserType == "IAMUser" {
		t.User = d.UserName
	}
	t.addKey(d.AccessKeyID)
	return t, nil
}

func (t *Trigger) addKey(k string) {
	k = strings.TrimSpace(k)
	if k == "" {
		return
	}
	for _, have := range t.Keys {
		if have == k {
			return
		}
	}
	t.Keys = append(t.Keys, k)
}

// parseTime reads the times events carry: RFC 3339 (EventBridge, GitHub,
// GuardDuty) and RFC 1123 (Health's startTime, "Sat, 05 Jun 2016 15:10:09
// GMT"). Anything else is zero.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

var urlPattern = regexp.MustCompile(`https?://[^\s"'<>()\[\]]+`)

// firstURL returns the first http(s) URL in s, without trailing
// punctuation, or "".
func firstURL(s string) string {
	m := urlPattern.FindString(s)
	m = strings.TrimRight(m, ".,;:!?")
	if m == "" {
		return ""
	}
	if u, err := url.Parse(m); err != nil || u.Host == "" {
		return ""
	}
	return m
}

func isURLField(k string) bool { return strings.Contains(strings.ToLower(k), "url") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orWord(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
