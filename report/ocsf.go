package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// OCSF identifiers of the API Activity class (category Application
// Activity), the class CloudTrail management events map to, and the
// schema version the records follow.
const (
	OCSFVersion     = "1.3.0"
	OCSFCategoryUID = 6
	OCSFClassUID    = 6003
)

// The API Activity class's activities.
const (
	OCSFActivityCreate = 1
	OCSFActivityRead   = 2
	OCSFActivityUpdate = 3
	OCSFActivityDelete = 4
	OCSFActivityOther  = 99
)

var ocsfActivityNames = map[int]string{
	OCSFActivityCreate: "Create", OCSFActivityRead: "Read", OCSFActivityUpdate: "Update",
	OCSFActivityDelete: "Delete", OCSFActivityOther: "Other",
}

// OCSFAPIActivity is one event as an OCSF API Activity (class 6003)
// record, what Amazon Security Lake, SIEMs and detection pipelines that
// speak OCSF ingest. keyleak's judgement (verdict, severity, rule, ATT&CK)
// rides in enrichments; the severity is keyleak's too.
type OCSFAPIActivity struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	StatusCode   string `json:"status_code,omitempty"`
	StatusDetail string `json:"status_detail,omitempty"`
	// Time is the event time in milliseconds since the epoch.
	Time        int64            `json:"time"`
	Message     string           `json:"message"`
	Metadata    OCSFMetadata     `json:"metadata"`
	Actor       OCSFActor        `json:"actor"`
	API         OCSFAPI          `json:"api"`
	SrcEndpoint OCSFEndpoint     `json:"src_endpoint"`
	HTTPRequest *OCSFHTTPRequest `json:"http_request,omitempty"`
	Cloud       OCSFCloud        `json:"cloud"`
	Resources   []OCSFResource   `json:"resources,omitempty"`
	Enrichments []OCSFEnrichment `json:"enrichments,omitempty"`
	Unmapped    map[string]any   `json:"unmapped,omitempty"`
}

// OCSFMetadata says which product wrote the record and after which schema.
type OCSFMetadata struct {
	Version     string      `json:"version"`
	Product     OCSFProduct `json:"product"`
	UID         string      `json:"uid,omitempty"`
	LogName     string      `json:"log_name,omitempty"`
	LogProvider string      `json:"log_provider,omitempty"`
}

// OCSFProduct names a product.
type OCSFProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// OCSFActor is who made the call.
type OCSFActor struct {
	User OCSFUser `json:"user"`
}

// OCSFUser is the caller's identity and the key it signed with.
type OCSFUser struct {
	Name          string       `json:"name,omitempty"`
	UID           string       `json:"uid,omitempty"`
	CredentialUID string       `json:"credential_uid,omitempty"`
	Account       *OCSFAccount `json:"account,omitempty"`
}

// OCSFAccount is an AWS account.
type OCSFAccount struct {
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// OCSFAPI is the call.
type OCSFAPI struct {
	Operation string      `json:"operation"`
	Service   OCSFService `json:"service"`
}

// OCSFService names the AWS service called.
type OCSFService struct {
	Name string `json:"name"`
}

// OCSFEndpoint is where the call came from: an IP address, or the AWS
// service that made it on the caller's behalf.
type OCSFEndpoint struct {
	IP   string `json:"ip,omitempty"`
	Name string `json:"name,omitempty"`
}

// OCSFHTTPRequest carries the caller's user agent.
type OCSFHTTPRequest struct {
	UserAgent string `json:"user_agent,omitempty"`
}

// OCSFCloud is the cloud and region of the call.
type OCSFCloud struct {
	Provider string       `json:"provider"`
	Region   string       `json:"region,omitempty"`
	Account  *OCSFAccount `json:"account,omitempty"`
}

// OCSFResource is a resource the call touched.
type OCSFResource struct {
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"`
}

// OCSFEnrichment is a judgement added to the record.
type OCSFEnrichment struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Type     string `json:"type,omitempty"`
	Provider string `json:"provider,omitempty"`
	Data     any    `json:"data"`
}

// ocsfActivity classifies a call as OCSF's create, read, update or delete
// by its verb; read-only calls are reads whatever their name.
func ocsfActivity(ev *Event) int {
	if ev.ReadOnly {
		return OCSFActivityRead
	}
	verbs := []struct {
		prefixes []string
		id       int
	}{
		{[]string{"Create", "Run", "Import", "Register", "Allocate", "Request", "Launch", "Issue", "Generate", "Add"}, OCSFActivityCreate},
		{[]string{"Get", "List", "Describe", "Lookup", "Search", "Head", "Batch Get", "Select"}, OCSFActivityRead},
		{[]string{"Delete", "Remove", "Terminate", "Detach", "Revoke", "Deregister", "Release", "Cancel", "Disable", "Stop"}, OCSFActivityDelete},
		{[]string{"Update", "Put", "Modify", "Set", "Attach", "Authorize", "Enable", "Associate", "Change", "Tag", "Untag", "Start", "Invoke", "Assume", "Accept", "Upload", "Reset", "Replace"}, OCSFActivityUpdate},
	}
	for _, v := range verbs {
		for _, p := range v.prefixes {
			if strings.HasPrefix(ev.Name, p) {
				return v.id
			}
		}
	}
	return OCSFActivityOther
}

// ocsfSeverity maps keyleak's severity onto OCSF's severity_id.
func ocsfSeverity(s Severity) (int, string) {
	switch s.Normalize() {
	case SeverityCritical:
		return 5, "Critical"
	case SeverityHigh:
		return 4, "High"
	case SeverityMedium:
		return 3, "Medium"
	case SeverityLow:
		return 2, "Low"
	}
	return 1, "Informational"
}

// ocsfEvent turns one event into its OCSF record.
func ocsfEvent(m *Model, chains *chainIndex, ev *Event) OCSFAPIActivity {
	act := ocsfActivity(ev)
	sevID, sev := ocsfSeverity(ev.Severity)
	svc := strings.TrimSuffix(ev.Source, ".amazonaws.com")
	var acct *OCSFAccount
	if m.Case.AccountID != "" {
		acct = &OCSFAccount{UID: m.Case.AccountID, TypeID: 10, Type: "AWS Account"}
	}
	out := OCSFAPIActivity{
		ActivityID: act, ActivityName: ocsfActivityNames[act],
		CategoryUID: OCSFCategoryUID, CategoryName: "Application Activity",
		ClassUID: OCSFClassUID, ClassName: "API Activity",
		TypeUID: OCSFClassUID*100 + act, TypeName: "API Activity: " + ocsfActivityNames[act],
		SeverityID: sevID, Severity: sev, StatusID: 1, Status: "Success",
		Time:    ev.Time.UnixMilli(),
		Message: fmt.Sprintf("%s by %s: %s", apiName(ev.Source, ev.Name), cmpOr(ev.UserName, ev.AccessKeyID, "unknown"), ev.Verdict.Normalize()),
		Metadata: OCSFMetadata{
			Version: OCSFVersion, UID: ev.EventID, LogName: "CloudTrail", LogProvider: "AWS CloudTrail",
			Product: OCSFProduct{Name: "keyleak", VendorName: "keyleak", Version: m.Case.ToolVersion},
		},
		Actor: OCSFActor{User: OCSFUser{Name: ev.UserName, UID: ev.UserARN, CredentialUID: ev.AccessKeyID, Account: acct}},
		API:   OCSFAPI{Operation: ev.Name, Service: OCSFService{Name: cmpOr(ev.Source, svc)}},
		Cloud: OCSFCloud{Provider: "AWS", Region: ev.Region, Account: acct},
	}
	if ev.ErrorCode != "" {
		out.StatusID, out.Status, out.StatusCode, out.StatusDetail = 2, "Failure", ev.ErrorCode, ev.ErrorMessage
	}
	if _, err := netip.ParseAddr(ev.SourceIP); err == nil {
		out.SrcEndpoint.IP = ev.SourceIP
	} else {
		// Calls AWS services make for the caller name the service.
		out.SrcEndpoint.Name = cmpOr(ev.SourceIP, "unknown")
	}
	if ev.UserAgent != "" {
		out.HTTPRequest = &OCSFHTTPRequest{UserAgent: ev.UserAgent}
	}
	for _, r := range ev.Resources {
		out.Resources = append(out.Resources, OCSFResource{Name: r.Name, Type: r.Type})
	}
	enrich := func(name, value string, data any) {
		if value != "" {
			out.Enrichments = append(out.Enrichments, OCSFEnrichment{Name: name, Value: value, Provider: "keyleak", Data: data})
		}
	}
	enrich("keyleak.verdict", string(ev.Verdict.Normalize()), map[string]string{"reason": ev.Reason, "severity": string(ev.Severity.Normalize())})
	enrich("keyleak.rule", ev.RuleID, map[string]string{"tactic": ev.tactic(), "category": ev.Category})
	if ev.Technique != "" {
		out.Enrichments = append(out.Enrichments, OCSFEnrichment{Name: "mitre_attack.technique", Value: ev.Technique,
			Type: "MITRE ATT&CK", Provider: "keyleak", Data: map[string]string{"tactic": ev.tactic()}})
	}
	out.Unmapped = map[string]any{"key_chain": chains.of(ev), "read_only": ev.ReadOnly}
	if m.Case.ID != "" {
		out.Unmapped["keyleak_case"] = m.Case.ID
	}
	return out
}

// WriteOCSF writes the events as a JSON array of OCSF API Activity
// (class 6003) records, one record a line, streamed from the model and
// masked as every report is.
func WriteOCSF(w io.Writer, m *Model) error {
	bw := bufio.NewWriter(w)
	chains := newChainIndex(m.Keys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_, _ = bw.WriteString("[")
	n := 0
	for ev := range m.eventsOf() {
		buf.Reset()
		if err := enc.Encode(ocsfEvent(m, chains, &ev)); err != nil {
			return fmt.Errorf("write ocsf: encode event %s: %w", ev.EventID, err)
		}
		if n > 0 {
			_, _ = bw.WriteString(",")
		}
		_, _ = bw.WriteString("\n")
		_, _ = bw.Write(MaskJSON(bytes.TrimRight(buf.Bytes(), "\n")))
		n++
	}
	if n > 0 {
		_, _ = bw.WriteString("\n")
	}
	_, _ = bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write ocsf: %w", err)
	}
	return nil
}
