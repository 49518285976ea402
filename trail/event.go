// Package trail finds every CloudTrail event of a leaked access key and of
// the credentials derived from it.
//
// It reads events from two sources, the CloudTrail LookupEvents API (Sweep)
// and CloudTrail log files in a directory or an S3 bucket (ScanLogs), parses
// them into one Event model that keeps the raw record, follows the keys the
// leaked key issued (session tokens, assumed roles, new access keys) in every
// region, and accounts for every region or file set it read in a Coverage.
// Both sources return an Investigation; its Result is the stable JSON form.
package trail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one CloudTrail record. The typed fields are the ones keyleak
// reads; everything else stays reachable through Raw, RequestParameters and
// ResponseElements, so that newer event versions never lose information.
type Event struct {
	EventID            string
	EventTime          time.Time // zero when the record's time could not be read
	EventVersion       string
	EventSource        string
	EventName          string
	EventType          string
	Region             string // awsRegion
	SourceIPAddress    string
	UserAgent          string
	ErrorCode          string
	ErrorMessage       string
	RequestID          string
	ReadOnly           bool
	ManagementEvent    bool
	RecipientAccountID string
	UserIdentity       UserIdentity
	RequestParameters  json.RawMessage // nil when absent or null
	ResponseElements   json.RawMessage // nil when absent or null
	Resources          []EventResource
	Raw                json.RawMessage // the whole record, compact (one line)
}

// UserIdentity is the record's userIdentity block: who made the call, with
// which key, and for temporary credentials who issued the session and when.
type UserIdentity struct {
	Type             string
	PrincipalID      string
	ARN              string
	AccountID        string
	AccessKeyID      string
	UserName         string
	InvokedBy        string
	SessionIssuer    SessionIssuer
	SessionCreated   time.Time // sessionContext.attributes.creationDate
	MFAAuthenticated bool
}

// SessionIssuer is userIdentity.sessionContext.sessionIssuer: the user or
// role whose credentials issued the session.
type SessionIssuer struct {
	Type        string
	PrincipalID string
	ARN         string
	AccountID   string
	UserName    string
}

// EventResource is one entry of the record's resources list.
type EventResource struct {
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
}

// Key is the identity used to de-duplicate events: the eventID, or for the
// rare record without one (hand-written test data) a hash of the record.
func (e *Event) Key() string {
	if e.EventID != "" {
		return e.EventID
	}
	sum := sha256.Sum256(e.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// UserName is the name a responder knows the caller by: the IAM user name,
// or for a role or federated session the name of the user or role that
// issued it.
func (e *Event) UserName() string {
	if e.UserIdentity.UserName != "" {
		return e.UserIdentity.UserName
	}
	return e.UserIdentity.SessionIssuer.UserName
}

// AccountID is the account the event belongs to: the caller's account, else
// the account that received the call.
func (e *Event) AccountID() string {
	if e.UserIdentity.AccountID != "" {
		return e.UserIdentity.AccountID
	}
	return e.RecipientAccountID
}

// Request returns the value at path inside requestParameters, or nil.
func (e *Event) Request(path ...string) json.RawMessage { return lookup(e.RequestParameters, path) }

// Response returns the value at path inside responseElements, or nil.
func (e *Event) Response(path ...string) json.RawMessage { return lookup(e.ResponseElements, path) }

// RequestString returns the scalar at path inside requestParameters as a
// string ("" when missing or not a scalar).
func (e *Event) RequestString(path ...string) string { return scalar(e.Request(path...)) }

// ResponseString returns the scalar at path inside responseElements as a
// string ("" when missing or not a scalar).
func (e *Event) ResponseString(path ...string) string { return scalar(e.Response(path...)) }

// lookup walks raw JSON objects along path. It decodes one level at a time so
// that only the objects on the path are parsed.
func lookup(raw json.RawMessage, path []string) json.RawMessage {
	cur := raw
	for _, p := range path {
		if len(cur) == 0 || cur[0] != '{' {
			return nil
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(cur, &m) != nil {
			return nil
		}
		cur = m[p]
	}
	if isNull(cur) {
		return nil
	}
	return cur
}

// scalar renders a JSON string, number or boolean as a Go string.
func scalar(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		// Most strings have no escape: take them as they are, without a
		// decoder (this runs for every field of every event parsed).
		if n := len(raw); n >= 2 && raw[n-1] == '"' && bytes.IndexByte(raw[1:n-1], '\\') < 0 && bytes.IndexByte(raw[1:n-1], '"') < 0 && utf8.Valid(raw[1:n-1]) {
			return string(raw[1 : n-1])
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	case '{', '[', 'n':
		return ""
	}
	return string(raw)
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// errNotObject reports a record that is valid JSON but not an object.
var errNotObject = errors.New("record is not a JSON object")

// ParseRecord parses one CloudTrail record. It fails only when raw is not a
// JSON object: unknown fields, newer event versions, fields of an unexpected
// JSON type and unreadable timestamps are tolerated, because an investigation
// must never lose an event to a parser's opinion. The returned Event owns a
// compact copy of raw.
func ParseRecord(raw []byte) (Event, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return Event{}, fmt.Errorf("parse record: %w", err)
	}
	compact := buf.Bytes()
	if len(compact) == 0 || compact[0] != '{' {
		return Event{}, fmt.Errorf("parse record: %w", errNotObject)
	}
	var w wireRecord
	if err := json.Unmarshal(compact, &w); err != nil {
		// Every field of wireRecord accepts any JSON value, so this is not
		// expected; keep the error rather than a half-filled event.
		return Event{}, fmt.Errorf("parse record: %w", err)
	}
	e := Event{
		EventID:            string(w.EventID),
		EventVersion:       string(w.EventVersion),
		EventSource:        string(w.EventSource),
		EventName:          string(w.EventName),
		EventType:          string(w.EventType),
		Region:             string(w.AWSRegion),
		SourceIPAddress:    string(w.SourceIPAddress),
		UserAgent:          string(w.UserAgent),
		ErrorCode:          string(w.ErrorCode),
		ErrorMessage:       string(w.ErrorMessage),
		RequestID:          string(w.RequestID),
		ReadOnly:           bool(w.ReadOnly),
		ManagementEvent:    bool(w.ManagementEvent),
		RecipientAccountID: string(w.RecipientAccountID),
		UserIdentity:       w.UserIdentity.identity(),
		Resources:          w.Resources,
		Raw:                json.RawMessage(compact),
	}
	if !isNull(w.RequestParameters) {
		e.RequestParameters = w.RequestParameters
	}
	if !isNull(w.ResponseElements) {
		e.ResponseElements = w.ResponseElements
	}
	if t, ok := ParseTime(string(w.EventTime)); ok {
		e.EventTime = t
	} else if t, ok := ParseTime(string(w.Timestamp)); ok {
		// Records exported through Logstash (the OTRF data sets) carry the
		// time only in @timestamp.
		e.EventTime = t
	}
	return e, nil
}

// wireRecord is the JSON shape of a record with lenient field types.
type wireRecord struct {
	EventVersion       lenString       `json:"eventVersion"`
	UserIdentity       wireIdentity    `json:"userIdentity"`
	EventTime          lenString       `json:"eventTime"`
	Timestamp          lenString       `json:"@timestamp"`
	EventSource        lenString       `json:"eventSource"`
	EventName          lenString       `json:"eventName"`
	AWSRegion          lenString       `json:"awsRegion"`
	SourceIPAddress    lenString       `json:"sourceIPAddress"`
	UserAgent          lenString       `json:"userAgent"`
	ErrorCode          lenString       `json:"errorCode"`
	ErrorMessage       lenString       `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          lenString       `json:"requestID"`
	EventID            lenString       `json:"eventID"`
	EventType          lenString       `json:"eventType"`
	ReadOnly           lenBool         `json:"readOnly"`
	ManagementEvent    lenBool         `json:"managementEvent"`
	RecipientAccountID lenString       `json:"recipientAccountId"`
	Resources          lenResources    `json:"resources"`
}

type wireIdentity struct {
	Type           lenString   `json:"type"`
	PrincipalID    lenString   `json:"principalId"`
	ARN            lenString   `json:"arn"`
	AccountID      lenString   `json:"accountId"`
	AccessKeyID    lenString   `json:"accessKeyId"`
	UserName       lenString   `json:"userName"`
	InvokedBy      lenString   `json:"invokedBy"`
	SessionContext wireSession `json:"sessionContext"`
}

// UnmarshalJSON ignores a userIdentity that is not an object.
func (w *wireIdentity) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain wireIdentity
	return json.Unmarshal(b, (*plain)(w))
}

func (w wireIdentity) identity() UserIdentity {
	sc := w.SessionContext
	created, _ := ParseTime(string(sc.Attributes.CreationDate))
	return UserIdentity{
		Type:        string(w.Type),
		PrincipalID: string(w.PrincipalID),
		ARN:         string(w.ARN),
		AccountID:   string(w.AccountID),
		AccessKeyID: string(w.AccessKeyID),
		UserName:    string(w.UserName),
		InvokedBy:   string(w.InvokedBy),
		SessionIssuer: SessionIssuer{
			Type:        string(sc.SessionIssuer.Type),
			PrincipalID: string(sc.SessionIssuer.PrincipalID),
			ARN:         string(sc.SessionIssuer.ARN),
			AccountID:   string(sc.SessionIssuer.AccountID),
			UserName:    string(sc.SessionIssuer.UserName),
		},
		SessionCreated:   created,
		MFAAuthenticated: bool(sc.Attributes.MFAAuthenticated),
	}
}

type wireSession struct {
	SessionIssuer wireIssuer     `json:"sessionIssuer"`
	Attributes    wireAttributes `json:"attributes"`
}

// UnmarshalJSON ignores a sessionContext that is not an object.
func (w *wireSession) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain wireSession
	return json.Unmarshal(b, (*plain)(w))
}

type wireIssuer struct {
	Type        lenString `json:"type"`
	PrincipalID lenString `json:"principalId"`
	ARN         lenString `json:"arn"`
	AccountID   lenString `json:"accountId"`
	UserName    lenString `json:"userName"`
}

// UnmarshalJSON ignores a sessionIssuer that is not an object.
func (w *wireIssuer) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain wireIssuer
	return json.Unmarshal(b, (*plain)(w))
}

type wireAttributes struct {
	CreationDate     lenString `json:"creationDate"`
	MFAAuthenticated lenBool   `json:"mfaAuthenticated"`
}

// UnmarshalJSON ignores attributes that are not an object.
func (w *wireAttributes) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain wireAttributes
	return json.Unmarshal(b, (*plain)(w))
}

// lenString accepts any JSON value: strings as they are, numbers and
// booleans as their literal text, null, objects and arrays as "".
type lenString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *lenString) UnmarshalJSON(b []byte) error {
	*s = lenString(scalar(b))
	return nil
}

// lenBool accepts true/false and their string forms in any case ("True"
// occurs in hand-written test data); anything else is false.
type lenBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *lenBool) UnmarshalJSON(b []byte) error {
	t, _ := strconv.ParseBool(strings.ToLower(scalar(b)))
	*v = lenBool(t)
	return nil
}

// lenResources accepts a resources array and skips entries it cannot read.
type lenResources []EventResource

// UnmarshalJSON implements json.Unmarshaler.
func (r *lenResources) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	out := make([]EventResource, 0, len(items))
	for _, it := range items {
		var w struct {
			Type      lenString `json:"type"`
			ARN       lenString `json:"ARN"`
			AccountID lenString `json:"accountId"`
		}
		if len(it) == 0 || it[0] != '{' || json.Unmarshal(it, &w) != nil {
			continue
		}
		out = append(out, EventResource{Type: string(w.Type), ARN: string(w.ARN), AccountID: string(w.AccountID)})
	}
	*r = out
	return nil
}

// timeLayouts are the timestamp forms seen in CloudTrail records, exports
// and hand-written test data, and in STS responses' expiration field. A
// fractional second is accepted after the seconds of any layout.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006, 3:04:05 PM MST",
	"Jan 2, 2006 3:04:05 PM MST",
	time.UnixDate,
	time.RFC1123,
	time.RFC1123Z,
}

var javaSpaces = strings.NewReplacer("\u202f", " ", "\u00a0", " ")

// ParseTime reads the timestamp forms found in CloudTrail data: RFC 3339,
// "2006-01-02 15:04:05[.frac]", dates alone, STS expirations such as
// "Jul 30, 2024, 9:46:15 PM" (with or without the comma) and Unix seconds
// or milliseconds. Times without a zone are UTC. It reports false for
// anything else ("", "redacted", "...").
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	// Newer Java date formatting puts a narrow no-break space before AM/PM.
	s = javaSpaces.Replace(s)
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		switch {
		case n >= 1e11 && n < 1e14: // milliseconds
			return time.UnixMilli(n).UTC(), true
		case n >= 1e8 && n < 1e11: // seconds
			return time.Unix(n, 0).UTC(), true
		}
	}
	return time.Time{}, false
}
