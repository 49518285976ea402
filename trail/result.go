package trail

import (
	"time"
)

// Result is the stable JSON form of an investigation, printed by
// `keyleak investigate -o json`. Slices are never null. Flags and Resources
// are left empty here; the assessment fills them.
type Result struct {
	Key       string         `json:"key"`
	Account   string         `json:"account"`
	Window    Window         `json:"window"`
	Keys      []KeyLink      `json:"keys"`
	Regions   []SourceResult `json:"regions"`
	Events    []EventSummary `json:"events"`
	Resources []Resource     `json:"resources"`
}

// SourceResult is one region (API) or file set (logs) of the coverage.
type SourceResult struct {
	Region    string `json:"region"`
	Status    State  `json:"status"`
	Events    int    `json:"events"`
	Pages     int    `json:"pages"`
	Throttled int    `json:"throttled"`
	Retries   int    `json:"retries"`
	Error     string `json:"error"`
	// Keys are the keys the region was searched for in full (see
	// SourceStatus.Keys).
	Keys     []string    `json:"keys,omitempty"`
	Files    int         `json:"files,omitempty"`
	Bytes    int64       `json:"bytes,omitempty"` // bytes read or scanned (log files, Athena)
	BadFiles []FileError `json:"badFiles,omitempty"`
	Skipped  []FileError `json:"skipped,omitempty"` // left out on purpose: see SourceStatus.Skipped
	Seconds  float64     `json:"seconds"`
}

// EventSummary is one event in the result: the fields a responder reads in
// a timeline. The raw record stays in the case's events.jsonl.
type EventSummary struct {
	EventID         string    `json:"eventID"`
	EventTime       time.Time `json:"eventTime,omitzero"`
	Region          string    `json:"region"`
	EventSource     string    `json:"eventSource"`
	EventName       string    `json:"eventName"`
	AccessKeyID     string    `json:"accessKeyId"`
	UserName        string    `json:"userName"`
	SourceIPAddress string    `json:"sourceIPAddress"`
	UserAgent       string    `json:"userAgent"`
	ErrorCode       string    `json:"errorCode"`
	ReadOnly        bool      `json:"readOnly"`
	Flags           []string  `json:"flags"`
}

// Resource is something made by one of the keys, as the assessment finds it
// in the events.
type Resource struct {
	Type      string `json:"type"` // CloudFormation-style, e.g. AWS::IAM::User
	ID        string `json:"id"`
	Region    string `json:"region"`
	CreatedBy string `json:"createdBy,omitempty"` // access key ID
	EventID   string `json:"eventID,omitempty"`
	State     string `json:"state,omitempty"`
}

// Summary returns the event's row in a Result.
func (e *Event) Summary() EventSummary {
	return EventSummary{
		EventID:         e.EventID,
		EventTime:       e.EventTime,
		Region:          e.Region,
		EventSource:     e.EventSource,
		EventName:       e.EventName,
		AccessKeyID:     e.UserIdentity.AccessKeyID,
		UserName:        e.UserName(),
		SourceIPAddress: e.SourceIPAddress,
		UserAgent:       e.UserAgent,
		ErrorCode:       e.ErrorCode,
		ReadOnly:        e.ReadOnly,
		Flags:           []string{},
	}
}

// Result returns the investigation's JSON form.
func (inv *Investigation) Result() Result {
	r := Result{
		Key:       inv.Key,
		Account:   inv.Account,
		Window:    inv.Window,
		Keys:      append([]KeyLink{}, inv.Keys...),
		Regions:   []SourceResult{},
		Events:    make([]EventSummary, 0, len(inv.Events)),
		Resources: []Resource{},
	}
	for _, s := range inv.Coverage.Sources {
		r.Regions = append(r.Regions, SourceResult{
			Region: s.Name, Status: s.State, Events: s.Events, Pages: s.Pages,
			Throttled: s.Throttles, Retries: s.Retries, Error: s.Err, Keys: s.Keys,
			Files: s.Files, Bytes: s.Bytes, BadFiles: s.BadFiles, Skipped: s.Skipped, Seconds: s.Duration.Seconds(),
		})
	}
	for i := range inv.Events {
		r.Events = append(r.Events, inv.Events[i].Summary())
	}
	return r
}
