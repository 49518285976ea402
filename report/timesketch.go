package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// TimesketchEvent is one line of the Timesketch timeline: the three fields
// Timesketch requires (message, datetime, timestamp_desc), the timestamp in
// microseconds it sorts by, and the event's fields flat, so that each can
// be searched and filtered on.
type TimesketchEvent struct {
	Message       string `json:"message"`
	Datetime      string `json:"datetime"`
	Timestamp     int64  `json:"timestamp"`
	TimestampDesc string `json:"timestamp_desc"`

	EventID      string `json:"event_id"`
	EventName    string `json:"event_name"`
	EventSource  string `json:"event_source"`
	API          string `json:"api"`
	Region       string `json:"aws_region"`
	AccountID    string `json:"account_id,omitempty"`
	AccessKeyID  string `json:"access_key_id,omitempty"`
	KeyChain     string `json:"key_chain,omitempty"`
	UserName     string `json:"user_name,omitempty"`
	UserARN      string `json:"user_arn,omitempty"`
	SourceIP     string `json:"source_ip,omitempty"`
	UserAgent    string `json:"user_agent,omitempty"`
	ErrorCode    string `json:"error_code,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	ReadOnly     bool   `json:"read_only"`
	Verdict      string `json:"verdict"`
	Severity     string `json:"severity"`
	RuleID       string `json:"rule_id,omitempty"`
	Technique    string `json:"mitre_technique,omitempty"`
	Tactic       string `json:"mitre_tactic,omitempty"`
	Category     string `json:"category,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Resources    string `json:"resources,omitempty"`
	ConsoleURL   string `json:"console_url,omitempty"`
	// Tag is the labels Timesketch shows on the event: the verdict, and
	// the severity when it is high or critical.
	Tag []string `json:"tag,omitempty"`
	// CaseID names the keyleak case, for sketches that hold several.
	CaseID string `json:"keyleak_case,omitempty"`
}

// TimesketchTimestampDesc is what the timestamp of every line is: the
// time CloudTrail recorded the call.
const TimesketchTimestampDesc = "CloudTrail event time"

// timesketchEvent turns one event into its Timesketch line.
func timesketchEvent(m *Model, chains *chainIndex, ev *Event) TimesketchEvent {
	v, sev := ev.Verdict.Normalize(), ev.Severity.Normalize()
	api := apiName(ev.Source, ev.Name)
	out := TimesketchEvent{
		Datetime: ev.Time.UTC().Format(time.RFC3339Nano), Timestamp: ev.Time.UnixMicro(), TimestampDesc: TimesketchTimestampDesc,
		EventID: ev.EventID, EventName: ev.Name, EventSource: ev.Source, API: api, Region: ev.Region, AccountID: m.Case.AccountID,
		AccessKeyID: ev.AccessKeyID, KeyChain: chains.of(ev), UserName: ev.UserName, UserARN: ev.UserARN, SourceIP: ev.SourceIP,
		UserAgent: ev.UserAgent, ErrorCode: ev.ErrorCode, ErrorMessage: ev.ErrorMessage, ReadOnly: ev.ReadOnly,
		Verdict: string(v), Severity: string(sev), RuleID: ev.RuleID, Technique: ev.Technique, Tactic: ev.tactic(),
		Category: ev.Category, Reason: ev.Reason, CaseID: m.Case.ID, Tag: []string{"keyleak-" + string(v)},
	}
	if ev.EventID != "" {
		out.ConsoleURL = ConsoleURL(ev.Region, ev.EventID)
	}
	if sev.Rank() >= SeverityHigh.Rank() {
		out.Tag = append(out.Tag, "keyleak-"+string(sev))
	}
	parts := make([]string, len(ev.Resources))
	for i, r := range ev.Resources {
		parts[i] = r.String()
	}
	out.Resources = strings.Join(parts, "; ")
	// The message reads as a line of the timeline: whose call, what, by
	// which key, from where, and how it ended.
	msg := fmt.Sprintf("[%s/%s] %s by %s", v, sev, api, cmpOr(ev.UserName, ev.AccessKeyID, "unknown"))
	if ev.AccessKeyID != "" && ev.UserName != "" {
		msg += " (" + ev.AccessKeyID + ")"
	}
	if ev.SourceIP != "" {
		msg += " from " + ev.SourceIP
	}
	msg += " in " + cmpOr(ev.Region, "global")
	if ev.ErrorCode != "" {
		msg += ": " + ev.ErrorCode
	}
	if t := ev.tactic(); t != "" {
		msg += " — " + t
		if ev.Technique != "" {
			msg += " " + ev.Technique
		}
	}
	out.Message = msg
	return out
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// WriteTimesketch writes the events as a Timesketch JSONL timeline, one
// event a line, oldest first as the model yields them, masked as every
// report is. Timesketch imports it as it is (web upload, timesketch_importer
// or tsctl import).
func WriteTimesketch(w io.Writer, m *Model) error {
	bw := bufio.NewWriter(w)
	chains := newChainIndex(m.Keys)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for ev := range m.eventsOf() {
		buf.Reset()
		if err := enc.Encode(timesketchEvent(m, chains, &ev)); err != nil {
			return fmt.Errorf("write timesketch: encode event %s: %w", ev.EventID, err)
		}
		_, _ = bw.Write(MaskJSON(buf.Bytes()))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write timesketch: %w", err)
	}
	return nil
}
