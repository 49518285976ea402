package trail_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

func TestParseRecordPantherRobustness(t *testing.T) {
	samples := loadSamples(t, "panther_analysis")
	if len(samples) != 461 {
		t.Fatalf("loaded %d panther records, want 461", len(samples))
	}
	unreadableTimes := 0
	for i, s := range samples {
		e, err := trail.ParseRecord(s.Event)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !json.Valid(e.Raw) || strings.ContainsAny(string(e.Raw), "\n") {
			t.Fatalf("record %d: Raw is not one line of JSON", i)
		}
		var raw struct {
			EventTime any    `json:"eventTime"`
			EventName string `json:"eventName"`
		}
		if err := json.Unmarshal(s.Event, &raw); err != nil {
			t.Fatal(err)
		}
		if e.EventName != raw.EventName {
			t.Errorf("record %d: eventName %q, want %q", i, e.EventName, raw.EventName)
		}
		ts, _ := raw.EventTime.(string)
		if e.EventTime.IsZero() {
			unreadableTimes++
			// Only absent or placeholder times may stay unread.
			if ts != "" && ts != "redacted" && ts != "..." {
				t.Errorf("record %d: eventTime %q not parsed", i, ts)
			}
		} else if ts != "" && e.EventTime.Format("2006-01-02") != ts[:10] {
			t.Errorf("record %d: eventTime %q parsed as %v", i, ts, e.EventTime)
		}
	}
	if unreadableTimes != 15 {
		t.Errorf("%d records without readable time; the data set has 15", unreadableTimes)
	}
}

func TestParseRecordOTRF(t *testing.T) {
	for _, s := range loadSamples(t, "otrf_security_datasets") {
		e, err := trail.ParseRecord(s.Event)
		if err != nil {
			t.Fatal(err)
		}
		// These records carry their time only in @timestamp.
		if e.EventTime.IsZero() || e.EventTime.Year() != 2020 {
			t.Fatalf("event %s: time %v, want 2020 from @timestamp", e.EventID, e.EventTime)
		}
		if e.EventID == "fd4f1042-c7f6-4107-a6ee-d841d92596e7" {
			id := e.UserIdentity
			if id.Type != "IAMUser" || id.UserName != "pedro" || id.AccessKeyID != "ASIA5FLZVX4OI4ZDQJOL" ||
				id.AccountID != "123456789123" || id.PrincipalID != "AIDAICAK2CN5MGHIIDIHA" ||
				id.ARN != "arn:aws:iam::123456789123:user/pedro" || !id.MFAAuthenticated {
				t.Errorf("userIdentity = %+v", id)
			}
			if want := time.Date(2020, 9, 13, 17, 16, 47, 0, time.UTC); !id.SessionCreated.Equal(want) {
				t.Errorf("session created %v, want %v", id.SessionCreated, want)
			}
			if got := e.RequestString("DescribeInstanceTypesRequest", "MaxResults"); got != "100" {
				t.Errorf("requestParameters MaxResults = %q", got)
			}
			if e.ResponseElements != nil {
				t.Errorf("null responseElements kept as %s", e.ResponseElements)
			}
			if e.EventVersion != "1.05" || e.Region != "us-east-1" || e.EventSource != "ec2.amazonaws.com" {
				t.Errorf("event = %+v", e)
			}
		}
	}
}

func TestParseRecordTolerance(t *testing.T) {
	cases := map[string]string{
		"unknown fields and new version": `{"eventVersion":"9.99","eventID":"a","brandNew":{"x":[1,2]},"eventTime":"2024-01-02T03:04:05Z"}`,
		"identity is a string":           `{"eventID":"b","userIdentity":"root"}`,
		"readOnly as text":               `{"eventID":"c","readOnly":"True","managementEvent":"false"}`,
		"numbers where strings were":     `{"eventID":"d","eventTime":1704164645,"awsRegion":5,"userIdentity":{"accessKeyId":7}}`,
		"sessionContext odd":             `{"eventID":"e","userIdentity":{"sessionContext":[],"accessKeyId":"AKIAX"}}`,
		"resources odd":                  `{"eventID":"f","resources":[1,{"ARN":"arn:x","type":"AWS::S3::Bucket"}]}`,
		"pretty printed":                 "{\n  \"eventID\": \"g\",\n  \"eventName\": \"ListUsers\"\n}",
	}
	for name, rec := range cases {
		t.Run(name, func(t *testing.T) {
			e, err := trail.ParseRecord([]byte(rec))
			if err != nil {
				t.Fatal(err)
			}
			if e.EventID == "" || strings.Contains(string(e.Raw), "\n") {
				t.Errorf("event = %+v", e)
			}
		})
	}
	e, _ := trail.ParseRecord([]byte(cases["readOnly as text"]))
	if !e.ReadOnly || e.ManagementEvent {
		t.Errorf("readOnly %v managementEvent %v", e.ReadOnly, e.ManagementEvent)
	}
	e, _ = trail.ParseRecord([]byte(cases["numbers where strings were"]))
	if e.EventTime.Unix() != 1704164645 || e.UserIdentity.AccessKeyID != "7" {
		t.Errorf("event = %+v", e)
	}
	e, _ = trail.ParseRecord([]byte(cases["resources odd"]))
	if len(e.Resources) != 1 || e.Resources[0].ARN != "arn:x" {
		t.Errorf("resources = %+v", e.Resources)
	}
	for _, bad := range []string{`[1,2]`, `"x"`, `{"eventID":`, ``} {
		if _, err := trail.ParseRecord([]byte(bad)); err == nil {
			t.Errorf("ParseRecord(%q) succeeded", bad)
		}
	}
}

func TestEventKeyWithoutID(t *testing.T) {
	a, _ := trail.ParseRecord([]byte(`{"eventName":"X"}`))
	b, _ := trail.ParseRecord([]byte(`{ "eventName": "X" }`))
	c, _ := trail.ParseRecord([]byte(`{"eventName":"Y"}`))
	if a.Key() != b.Key() || a.Key() == c.Key() || !strings.HasPrefix(a.Key(), "sha256:") {
		t.Errorf("keys %q %q %q", a.Key(), b.Key(), c.Key())
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 7, 30, 22, 53, 13, 0, time.UTC)
	for _, s := range []string{
		"2024-07-30T22:53:13Z",
		"2024-07-30T22:53:13.000Z",
		"2024-07-31T00:53:13+02:00",
		"2024-07-30 22:53:13",
		"2024-07-30 22:53:13.000000000",
		"2024-07-30T22:53:13",
		"Jul 30, 2024 10:53:13 PM",
		"Jul 30, 2024, 10:53:13 PM",
		"Jul 30, 2024, 10:53:13\u202fPM",
		"1722379993",
		"1722379993000",
	} {
		got, ok := trail.ParseTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "redacted", "...", "null", "12"} {
		if got, ok := trail.ParseTime(s); ok {
			t.Errorf("ParseTime(%q) = %v, want failure", s, got)
		}
	}
}

func TestDerivationStratus(t *testing.T) {
	byID := map[string]trail.Event{}
	for _, s := range loadSamples(t, "stratus_red_team") {
		e, err := trail.ParseRecord(s.Event)
		if err != nil {
			t.Fatal(err)
		}
		byID[e.EventID] = e
	}
	var links []trail.KeyLink
	for _, e := range byID {
		if l, ok := e.Derivation(); ok {
			links = append(links, l)
		}
	}
	// 8 AssumeRole with credentials, 2 CreateAccessKey, 1 GetFederationToken.
	if len(links) != 11 {
		t.Fatalf("%d derivations, want 11: %+v", len(links), links)
	}
	found := map[string]trail.KeyLink{}
	for _, l := range links {
		found[l.AccessKeyID] = l
	}
	l := found["ASIANQQHHS551LWULIWD"]
	if l.Parent != "AKIAWOGXN38MFN92ING5" || l.Via != "AssumeRole" || !l.RoleSession || l.RoleARN == "" ||
		!l.Expiration.Equal(time.Date(2024, 7, 30, 21, 46, 15, 0, time.UTC)) {
		t.Errorf("AssumeRole link = %+v", l)
	}
	l = found["AKIAL80DWDVKKM0UXEER"]
	if l.Via != "CreateAccessKey" || l.Parent != "AKIA30BEZSJBVKOFKZW0" || l.UserName == "" || !l.Expiration.IsZero() || l.RoleSession {
		t.Errorf("CreateAccessKey link = %+v", l)
	}
	l = found["ASIASTJKC5GCM7ZE6LUP"]
	if l.Via != "GetFederationToken" || l.Expiration.IsZero() || l.RoleSession {
		t.Errorf("GetFederationToken link = %+v", l)
	}
}

func TestDerivationNeedsSuccess(t *testing.T) {
	rec := `{"eventID":"x","eventName":"GetSessionToken","userIdentity":{"accessKeyId":"AKIAAAAAAAAAAAAAAAAA"},` +
		`"responseElements":{"credentials":{"accessKeyId":"ASIABBBBBBBBBBBBBBBB","expiration":"Jul 30, 2024 10:53:13 PM"}}}`
	e, _ := trail.ParseRecord([]byte(rec))
	l, ok := e.Derivation()
	if !ok || l.AccessKeyID != "ASIABBBBBBBBBBBBBBBB" || l.Parent != "AKIAAAAAAAAAAAAAAAAA" || l.Expiration.Hour() != 22 {
		t.Errorf("Derivation() = %+v, %v", l, ok)
	}
	e.ErrorCode = "AccessDenied"
	if _, ok := e.Derivation(); ok {
		t.Error("a failed call derived a key")
	}
	e, _ = trail.ParseRecord([]byte(`{"eventName":"ListUsers","responseElements":{"credentials":{"accessKeyId":"ASIAX"}}}`))
	if _, ok := e.Derivation(); ok {
		t.Error("ListUsers derived a key")
	}
}

func TestValidAccessKeyID(t *testing.T) {
	for _, k := range []string{"AKIAIOSFODNN7EXAMPLE", "ASIA5FLZVX4OPVKKVBMX"} {
		if !trail.ValidAccessKeyID(k) {
			t.Errorf("%s rejected", k)
		}
	}
	for _, k := range []string{"", "akiaiosfodnn7example", "AKIA123", "AIDAICAK2CN5MGHIIDIHA", "AKIAIOSFODNN7EXAMPL!"} {
		if trail.ValidAccessKeyID(k) {
			t.Errorf("%q accepted", k)
		}
	}
}
