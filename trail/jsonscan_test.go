package trail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// parseRecordReference is ParseRecord as it was written with encoding/json
// (json.Compact, then json.Unmarshal into lenient structs). The fast parser
// must give the same Event for every input; the tests below hold it to that.
func parseRecordReference(raw []byte) (Event, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return Event{}, fmt.Errorf("parse record: %w", err)
	}
	compact := buf.Bytes()
	if len(compact) == 0 || compact[0] != '{' {
		return Event{}, fmt.Errorf("parse record: %w", errNotObject)
	}
	var w refRecord
	if err := json.Unmarshal(compact, &w); err != nil {
		// Every field of refRecord accepts any JSON value, so this is not
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

// refRecord is the JSON shape of a record with lenient field types.
type refRecord struct {
	EventVersion       refString       `json:"eventVersion"`
	UserIdentity       refIdentity     `json:"userIdentity"`
	EventTime          refString       `json:"eventTime"`
	Timestamp          refString       `json:"@timestamp"`
	EventSource        refString       `json:"eventSource"`
	EventName          refString       `json:"eventName"`
	AWSRegion          refString       `json:"awsRegion"`
	SourceIPAddress    refString       `json:"sourceIPAddress"`
	UserAgent          refString       `json:"userAgent"`
	ErrorCode          refString       `json:"errorCode"`
	ErrorMessage       refString       `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          refString       `json:"requestID"`
	EventID            refString       `json:"eventID"`
	EventType          refString       `json:"eventType"`
	ReadOnly           refBool         `json:"readOnly"`
	ManagementEvent    refBool         `json:"managementEvent"`
	RecipientAccountID refString       `json:"recipientAccountId"`
	Resources          refResources    `json:"resources"`
}

type refIdentity struct {
	Type           refString  `json:"type"`
	PrincipalID    refString  `json:"principalId"`
	ARN            refString  `json:"arn"`
	AccountID      refString  `json:"accountId"`
	AccessKeyID    refString  `json:"accessKeyId"`
	UserName       refString  `json:"userName"`
	InvokedBy      refString  `json:"invokedBy"`
	SessionContext refSession `json:"sessionContext"`
}

// UnmarshalJSON ignores a userIdentity that is not an object.
func (w *refIdentity) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain refIdentity
	return json.Unmarshal(b, (*plain)(w))
}

func (w refIdentity) identity() UserIdentity {
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

type refSession struct {
	SessionIssuer refIssuer     `json:"sessionIssuer"`
	Attributes    refAttributes `json:"attributes"`
}

// UnmarshalJSON ignores a sessionContext that is not an object.
func (w *refSession) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain refSession
	return json.Unmarshal(b, (*plain)(w))
}

type refIssuer struct {
	Type        refString `json:"type"`
	PrincipalID refString `json:"principalId"`
	ARN         refString `json:"arn"`
	AccountID   refString `json:"accountId"`
	UserName    refString `json:"userName"`
}

// UnmarshalJSON ignores a sessionIssuer that is not an object.
func (w *refIssuer) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain refIssuer
	return json.Unmarshal(b, (*plain)(w))
}

type refAttributes struct {
	CreationDate     refString `json:"creationDate"`
	MFAAuthenticated refBool   `json:"mfaAuthenticated"`
}

// UnmarshalJSON ignores attributes that are not an object.
func (w *refAttributes) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	type plain refAttributes
	return json.Unmarshal(b, (*plain)(w))
}

// refString accepts any JSON value: strings as they are, numbers and
// booleans as their literal text, null, objects and arrays as "".
type refString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *refString) UnmarshalJSON(b []byte) error {
	*s = refString(scalar(b))
	return nil
}

// refBool accepts true/false and their string forms in any case ("True"
// occurs in hand-written test data); anything else is false.
type refBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *refBool) UnmarshalJSON(b []byte) error {
	t, _ := strconv.ParseBool(strings.ToLower(scalar(b)))
	*v = refBool(t)
	return nil
}

// refResources accepts a resources array and skips entries it cannot read.
type refResources []EventResource

// UnmarshalJSON implements json.Unmarshaler.
func (r *refResources) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if len(b) == 0 || b[0] != '[' || json.Unmarshal(b, &items) != nil {
		return nil
	}
	out := make([]EventResource, 0, len(items))
	for _, it := range items {
		var w struct {
			Type      refString `json:"type"`
			ARN       refString `json:"ARN"`
			AccountID refString `json:"accountId"`
		}
		if len(it) == 0 || it[0] != '{' || json.Unmarshal(it, &w) != nil {
			continue
		}
		out = append(out, EventResource{Type: string(w.Type), ARN: string(w.ARN), AccountID: string(w.AccountID)})
	}
	*r = out
	return nil
}

// referenceRecords are the raw records of every public data set in
// testdata, and records that try the edges of encoding/json's rules.
func referenceRecords(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range []string{"otrf_security_datasets", "stratus_red_team", "panther_analysis"} {
		f, err := os.Open(filepath.Join("testdata", name+".jsonl.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var s struct{ Event json.RawMessage }
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, s.Event)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range edgeRecords {
		out = append(out, []byte(s))
	}
	return out
}

var edgeRecords = []string{
	`{}`, `[]`, `"x"`, `null`, ` { "eventName" : "A" } `, "{\n\t\"eventName\":\r\"A\"}",
	`{"EVENTNAME":"Upper","eventname":"lower"}`,
	`{"eventName":"First","eventName":"Second"}`,
	`{"\u0065ventName":"Escaped","\u0041wsRegion":"eu-west-1"}`,
	`{"eventName":"A","EventName":null}`,
	`{"userIdentity":{"type":"IAMUser","arn":"a"},"userIdentity":{"accountId":"1"}}`,
	`{"userIdentity":"text","readOnly":"TRUE","managementEvent":1}`,
	`{"userIdentity":{"sessionContext":{"sessionIssuer":{"ARN":"r","USERNAME":"u"},"attributes":{"creationDate":"2024-01-02T03:04:05Z","mfaAuthenticated":"true"}}}}`,
	`{"userIdentity":{"sessionContext":[1,2],"accessKeyId":7}}`,
	`{"resources":[{"type":"t","arn":"lower","accountId":5},"x",null,[],{"ARN":"A"}]}`,
	`{"resources":[]}`, `{"resources":{"type":"t"}}`, `{"resources":[{"ARN":"a"}],"resources":null}`,
	`{"requestParameters":null,"responseElements":{"a":[1,{"b":"}"}]}}`,
	`{"requestParameters":{"x":1},"requestParameters":null}`,
	`{"eventTime":"bad","@timestamp":"2024-05-06T07:08:09.123Z"}`,
	`{"eventName":"caf\u00e9 \"quoted\" \\ tab\t","sourceIPAddress":"\ud83d\ude00"}`,
	"{\"eventName\":\"bad utf8 \xff\xfe\"}",
	`{"eventName":12.5e3,"awsRegion":true,"eventID":false,"errorCode":-0.0}`,
	`{"eventName":"\u017fvent"}`, "{\"\u212aey\":\"kelvin\",\"eventname\":1}",
	`{"eventName":"a"`, `{"eventName":"a",}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`,
	`{"a":"\x"}`, `{"a":"\u12G4"}`, "{\"a\":\"ctl\x01\"}", `{"a" 1}`, `{"a":1 "b":2}`, `{} {}`, `{"a":[1,]}`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	`{"a":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`,
}

// sameParse says how the fast parser and the reference differ on raw, or "".
func sameParse(raw []byte) string {
	got, gerr := ParseRecord(raw)
	want, werr := parseRecordReference(raw)
	if (gerr == nil) != (werr == nil) {
		return fmt.Sprintf("error %v, reference %v", gerr, werr)
	}
	if gerr != nil {
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("got %+v\nwant %+v", got, want)
	}
	return ""
}

func TestParseRecordMatchesEncodingJSON(t *testing.T) {
	for i, raw := range referenceRecords(t) {
		if d := sameParse(raw); d != "" {
			t.Errorf("record %d %.200q: %s", i, raw, d)
		}
	}
}

func TestCompactJSONMatchesEncodingJSON(t *testing.T) {
	for i, raw := range referenceRecords(t) {
		if d := sameCompact(raw); d != "" {
			t.Errorf("record %d %.200q: %s", i, raw, d)
		}
	}
}

// sameCompact says how compactJSON differs from json.Compact on src, or "".
func sameCompact(src []byte) string {
	got, gerr := compactJSON(nil, src)
	var want bytes.Buffer
	werr := json.Compact(&want, src)
	if (gerr == nil) != (werr == nil) || gerr == nil && json.Valid(src) != true {
		return fmt.Sprintf("error %v, json.Compact %v", gerr, werr)
	}
	if gerr == nil && !bytes.Equal(got, want.Bytes()) {
		return fmt.Sprintf("got %q, want %q", got, want.Bytes())
	}
	return ""
}

// FuzzParseRecordMatchesEncodingJSON: for any bytes, ParseRecord gives what
// json.Compact and json.Unmarshal into the lenient structs give.
func FuzzParseRecordMatchesEncodingJSON(f *testing.F) {
	records := referenceRecords(f)
	for i, raw := range records {
		if i%7 == 0 || i >= len(records)-len(edgeRecords) {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if d := sameParse(raw); d != "" {
			t.Fatal(d)
		}
		if d := sameCompact(raw); d != "" {
			t.Fatal(d)
		}
	})
}

// BenchmarkParseRecord parses every record of the public data sets, with
// ParseRecord and with the encoding/json reference, side by side.
func BenchmarkParseRecord(b *testing.B) {
	records := referenceRecords(b)
	records = records[:len(records)-len(edgeRecords)]
	var size int64
	for _, r := range records {
		size += int64(len(r))
	}
	for _, c := range []struct {
		name  string
		parse func([]byte) (Event, error)
	}{{"fast", ParseRecord}, {"encoding-json", parseRecordReference}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, r := range records {
					if _, err := c.parse(r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
