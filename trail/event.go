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
	"unsafe"
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
// must never lose an event to a parser's opinion. Field names match as
// encoding/json matches them (exactly, else in any case); a string field
// takes a number or boolean as its text and anything else as "". The
// returned Event owns a compact copy of raw.
func ParseRecord(raw []byte) (Event, error) {
	compact, err := compactJSON(make([]byte, 0, len(raw)), raw)
	if err != nil {
		return Event{}, fmt.Errorf("parse record: %w", err)
	}
	if len(compact) == 0 || compact[0] != '{' {
		return Event{}, fmt.Errorf("parse record: %w", errNotObject)
	}
	e := Event{Raw: json.RawMessage(compact)}
	var eventTime, timestamp string
	var id identityFields
	eachMember(compact, func(key, val []byte) {
		switch memberIndex(recordFields, key) {
		case fEventVersion:
			e.EventVersion = scalar(val)
		case fUserIdentity:
			id.read(val)
		case fEventTime:
			eventTime = scalar(val)
		case fTimestamp:
			timestamp = scalar(val)
		case fEventSource:
			e.EventSource = scalar(val)
		case fEventName:
			e.EventName = scalar(val)
		case fAWSRegion:
			e.Region = scalar(val)
		case fSourceIPAddress:
			e.SourceIPAddress = scalar(val)
		case fUserAgent:
			e.UserAgent = scalar(val)
		case fErrorCode:
			e.ErrorCode = scalar(val)
		case fErrorMessage:
			e.ErrorMessage = scalar(val)
		case fRequestParameters:
			e.RequestParameters = val
		case fResponseElements:
			e.ResponseElements = val
		case fRequestID:
			e.RequestID = scalar(val)
		case fEventID:
			e.EventID = scalar(val)
		case fEventType:
			e.EventType = scalar(val)
		case fReadOnly:
			e.ReadOnly = lenientBool(val)
		case fManagementEvent:
			e.ManagementEvent = lenientBool(val)
		case fRecipientAccountID:
			e.RecipientAccountID = scalar(val)
		case fResources:
			if val[0] == '[' {
				e.Resources = readResources(val)
			}
		}
	})
	if isNull(e.RequestParameters) {
		e.RequestParameters = nil
	}
	if isNull(e.ResponseElements) {
		e.ResponseElements = nil
	}
	e.UserIdentity = id.identity()
	if t, ok := ParseTime(eventTime); ok {
		e.EventTime = t
	} else if t, ok := ParseTime(timestamp); ok {
		// Records exported through Logstash (the OTRF data sets) carry the
		// time only in @timestamp.
		e.EventTime = t
	}
	return e, nil
}

// parseRecordString is ParseRecord of a record held in a string (a
// LookupEvents answer's CloudTrailEvent) without copying it to bytes
// first: ParseRecord only reads raw, and the Event keeps its own compact
// copy, so the string's bytes are never written or retained.
func parseRecordString(s string) (Event, error) {
	return ParseRecord(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// recordFields are the record's members ParseRecord reads, in the order of
// the f… constants.
var recordFields = []string{"eventVersion", "userIdentity", "eventTime", "@timestamp", "eventSource", "eventName",
	"awsRegion", "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements",
	"requestID", "eventID", "eventType", "readOnly", "managementEvent", "recipientAccountId", "resources"}

const (
	fEventVersion = iota
	fUserIdentity
	fEventTime
	fTimestamp
	fEventSource
	fEventName
	fAWSRegion
	fSourceIPAddress
	fUserAgent
	fErrorCode
	fErrorMessage
	fRequestParameters
	fResponseElements
	fRequestID
	fEventID
	fEventType
	fReadOnly
	fManagementEvent
	fRecipientAccountID
	fResources
)

// identityFields are the scalars of userIdentity, its sessionContext's
// sessionIssuer and attributes. A member that is not an object where one
// is expected is ignored; a member given twice merges, later values first.
type identityFields struct {
	typ, principalID, arn, accountID, accessKeyID, userName, invokedBy string
	issuer                                                             [5]string // type, principalId, arn, accountId, userName
	creationDate                                                       string
	mfa                                                                bool
}

var (
	identityNames = []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext"}
	sessionNames  = []string{"sessionIssuer", "attributes"}
	issuerNames   = []string{"type", "principalId", "arn", "accountId", "userName"}
	attrNames     = []string{"creationDate", "mfaAuthenticated"}
)

func (f *identityFields) read(obj []byte) {
	eachMember(obj, func(key, val []byte) {
		switch i := memberIndex(identityNames, key); i {
		case 0:
			f.typ = scalar(val)
		case 1:
			f.principalID = scalar(val)
		case 2:
			f.arn = scalar(val)
		case 3:
			f.accountID = scalar(val)
		case 4:
			f.accessKeyID = scalar(val)
		case 5:
			f.userName = scalar(val)
		case 6:
			f.invokedBy = scalar(val)
		case 7:
			eachMember(val, func(key, val []byte) {
				switch memberIndex(sessionNames, key) {
				case 0:
					eachMember(val, func(key, val []byte) {
						if i := memberIndex(issuerNames, key); i >= 0 {
							f.issuer[i] = scalar(val)
						}
					})
				case 1:
					eachMember(val, func(key, val []byte) {
						switch memberIndex(attrNames, key) {
						case 0:
							f.creationDate = scalar(val)
						case 1:
							f.mfa = lenientBool(val)
						}
					})
				}
			})
		}
	})
}

func (f *identityFields) identity() UserIdentity {
	created, _ := ParseTime(f.creationDate)
	return UserIdentity{
		Type:        f.typ,
		PrincipalID: f.principalID,
		ARN:         f.arn,
		AccountID:   f.accountID,
		AccessKeyID: f.accessKeyID,
		UserName:    f.userName,
		InvokedBy:   f.invokedBy,
		SessionIssuer: SessionIssuer{
			Type:        f.issuer[0],
			PrincipalID: f.issuer[1],
			ARN:         f.issuer[2],
			AccountID:   f.issuer[3],
			UserName:    f.issuer[4],
		},
		SessionCreated:   created,
		MFAAuthenticated: f.mfa,
	}
}

// lenientBool reads true/false and their string forms in any case ("True"
// occurs in hand-written test data); anything else is false.
func lenientBool(val []byte) bool {
	t, _ := strconv.ParseBool(strings.ToLower(scalar(val)))
	return t
}

var resourceNames = []string{"type", "ARN", "accountId"}

// readResources reads a resources array, skipping entries that are not
// objects.
func readResources(arr []byte) []EventResource {
	out := []EventResource{}
	eachElement(arr, func(it []byte) {
		if it[0] != '{' {
			return
		}
		var r EventResource
		eachMember(it, func(key, val []byte) {
			switch memberIndex(resourceNames, key) {
			case 0:
				r.Type = scalar(val)
			case 1:
				r.ARN = scalar(val)
			case 2:
				r.AccountID = scalar(val)
			}
		})
		out = append(out, r)
	})
	return out
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
