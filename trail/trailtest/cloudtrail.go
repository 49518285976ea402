// Package trailtest provides in-memory fakes of the AWS APIs the trail
// package reads (CloudTrail LookupEvents, EC2 DescribeRegions, S3), a rate
// limiter and a clock on virtual time, for unit tests that must neither
// reach the network nor sleep. Integration tests use the simulator
// (internal/awssim) instead.
package trailtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// CloudTrail holds CloudTrail events per region and answers LookupEvents
// the way the service does: at most one lookup attribute, at most 50 events
// a page, newest first, a NextToken valid only with the same parameters.
// Errors can be injected per region. It is safe for concurrent use.
type CloudTrail struct {
	mu     sync.Mutex
	stores map[string][]stored
	queued map[string][]error
	calls  map[string]int
	// Fault, if set, is asked before every call (after the queued errors)
	// with the region and the call's number in it (from 1); a non-nil error
	// is returned instead of the page.
	Fault func(region string, call int) error
}

type stored struct {
	id, key, user, name, source string
	at                          time.Time
	readOnly                    bool
	resources                   []types.Resource
	raw                         string
}

// NewCloudTrail returns an empty fake.
func NewCloudTrail() *CloudTrail {
	return &CloudTrail{stores: map[string][]stored{}, queued: map[string][]error{}, calls: map[string]int{}}
}

// AddRecord stores a raw CloudTrail record in a region. The fields
// LookupEvents filters on are read from the record itself.
func (f *CloudTrail) AddRecord(region string, raw []byte) error {
	var r struct {
		EventID      string `json:"eventID"`
		EventTime    string `json:"eventTime"`
		EventName    string `json:"eventName"`
		EventSource  string `json:"eventSource"`
		ReadOnly     any    `json:"readOnly"`
		UserIdentity struct {
			AccessKeyID string `json:"accessKeyId"`
			UserName    string `json:"userName"`
		} `json:"userIdentity"`
		Resources []struct {
			Type string `json:"type"`
			ARN  string `json:"ARN"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("add record: %w", err)
	}
	at, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return fmt.Errorf("add record %s: %w", r.EventID, err)
	}
	if r.EventID == "" {
		return fmt.Errorf("add record: no eventID")
	}
	s := stored{id: r.EventID, key: r.UserIdentity.AccessKeyID, user: r.UserIdentity.UserName,
		name: r.EventName, source: r.EventSource, at: at.UTC(), raw: string(raw)}
	switch v := r.ReadOnly.(type) {
	case bool:
		s.readOnly = v
	case string:
		s.readOnly = strings.EqualFold(v, "true")
	}
	for _, res := range r.Resources {
		s.resources = append(s.resources, types.Resource{ResourceType: aws.String(res.Type), ResourceName: aws.String(res.ARN)})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := append(f.stores[region], s)
	sort.Slice(evs, func(i, j int) bool { return newer(evs[i], evs[j]) })
	f.stores[region] = evs
	return nil
}

// newer is LookupEvents' order: newest first, then by event ID so that
// pages are stable.
func newer(a, b stored) bool {
	if !a.at.Equal(b.at) {
		return a.at.After(b.at)
	}
	return a.id > b.id
}

// Inject queues errors for the next calls in a region, one per call, in
// order; a nil entry lets that call through.
func (f *CloudTrail) Inject(region string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queued[region] = append(f.queued[region], errs...)
}

// Calls returns how many LookupEvents calls reached a region (including
// those answered with an injected error).
func (f *CloudTrail) Calls(region string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[region]
}

// Events returns how many events a region holds.
func (f *CloudTrail) Events(region string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stores[region])
}

// Client returns a LookupEvents client bound to a region.
func (f *CloudTrail) Client(region string) cloudtrail.LookupEventsAPIClient {
	return regionClient{f: f, region: region}
}

type regionClient struct {
	f      *CloudTrail
	region string
}

// LookupEvents implements cloudtrail.LookupEventsAPIClient.
func (c regionClient) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, opError(err)
	}
	return c.f.lookup(c.region, in)
}

func (f *CloudTrail) lookup(region string, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[region]++
	if q := f.queued[region]; len(q) > 0 {
		f.queued[region] = q[1:]
		if q[0] != nil {
			return nil, q[0]
		}
	}
	if f.Fault != nil {
		if err := f.Fault(region, f.calls[region]); err != nil {
			return nil, err
		}
	}
	if len(in.LookupAttributes) > 1 {
		return nil, apiError(400, "InvalidLookupAttributesException", "you can specify only one lookup attribute")
	}
	var attr types.LookupAttribute // none: every event matches
	if len(in.LookupAttributes) == 1 {
		attr = in.LookupAttributes[0]
		if aws.ToString(attr.AttributeValue) == "" {
			return nil, apiError(400, "InvalidLookupAttributesException", "the lookup attribute's value cannot be empty")
		}
	}
	val := aws.ToString(attr.AttributeValue)
	limit := 50
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
		if limit < 1 || limit > 50 {
			return nil, apiError(400, "InvalidMaxResultsException", "MaxResults must be between 1 and 50")
		}
	}
	start, end := aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)
	if !start.IsZero() && !end.IsZero() && start.After(end) {
		return nil, apiError(400, "InvalidTimeRangeException", "StartTime is after EndTime")
	}
	params := fmt.Sprintf("%s=%s|%d|%d", attr.AttributeKey, val, start.UnixNano(), end.UnixNano())
	var after *stored
	if tok := aws.ToString(in.NextToken); tok != "" {
		pos, ok := decodeToken(tok, params)
		if !ok {
			return nil, apiError(400, "InvalidNextTokenException", "the NextToken is not valid for these parameters")
		}
		after = &pos
	}
	out := &cloudtrail.LookupEventsOutput{}
	var last stored
	more := false
	for _, s := range f.stores[region] {
		if after != nil && !newer(*after, s) {
			continue
		}
		if (!start.IsZero() && s.at.Before(start)) || (!end.IsZero() && s.at.After(end)) {
			continue
		}
		ok, err := matches(s, attr.AttributeKey, val)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if len(out.Events) == limit {
			more = true
			break
		}
		out.Events = append(out.Events, s.event())
		last = s
	}
	if more {
		out.NextToken = aws.String(encodeToken(params, last))
	}
	return out, nil
}

func matches(s stored, key types.LookupAttributeKey, val string) (bool, error) {
	switch key {
	case "":
		return true, nil
	case types.LookupAttributeKeyAccessKeyId:
		return s.key == val, nil
	case types.LookupAttributeKeyUsername:
		return s.user == val, nil
	case types.LookupAttributeKeyEventId:
		return s.id == val, nil
	case types.LookupAttributeKeyEventName:
		return s.name == val, nil
	case types.LookupAttributeKeyEventSource:
		return s.source == val, nil
	case types.LookupAttributeKeyReadOnly:
		return strconv.FormatBool(s.readOnly) == strings.ToLower(val), nil
	case types.LookupAttributeKeyResourceName, types.LookupAttributeKeyResourceType:
		for _, r := range s.resources {
			v := aws.ToString(r.ResourceName)
			if key == types.LookupAttributeKeyResourceType {
				v = aws.ToString(r.ResourceType)
			}
			if v == val {
				return true, nil
			}
		}
		return false, nil
	}
	return false, apiError(400, "InvalidLookupAttributesException", "unknown lookup attribute "+string(key))
}

func (s stored) event() types.Event {
	return types.Event{
		AccessKeyId:     aws.String(s.key),
		CloudTrailEvent: aws.String(s.raw),
		EventId:         aws.String(s.id),
		EventName:       aws.String(s.name),
		EventSource:     aws.String(s.source),
		EventTime:       aws.Time(s.at),
		ReadOnly:        aws.String(strconv.FormatBool(s.readOnly)),
		Resources:       s.resources,
		Username:        aws.String(s.user),
	}
}

// The token carries the parameters it was issued for and the position of
// the last event returned, so that events added between pages do not shift
// the pages (as they would with an offset).
type token struct {
	P  string `json:"p"`
	T  int64  `json:"t"`
	ID string `json:"id"`
}

func encodeToken(params string, last stored) string {
	b, err := json.Marshal(token{P: params, T: last.at.UnixNano(), ID: last.id})
	if err != nil {
		panic(err) // a struct of strings and an int always marshals
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(tok, params string) (stored, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return stored{}, false
	}
	var t token
	if json.Unmarshal(b, &t) != nil || t.P != params {
		return stored{}, false
	}
	return stored{at: time.Unix(0, t.T).UTC(), id: t.ID}, true
}

// Throttling returns the error of a LookupEvents call over the quota, shaped
// as the SDK returns it (an operation error around an HTTP 400 response
// error around the API error).
func Throttling() error {
	return apiError(400, "ThrottlingException", "Rate exceeded")
}

// ServerError returns an HTTP 5xx answer as the SDK returns it.
func ServerError(status int) error {
	return apiError(status, "InternalFailure", http.StatusText(status))
}

// AccessDenied returns the error of a caller without cloudtrail:LookupEvents.
func AccessDenied() error {
	return apiError(400, "AccessDeniedException", "User is not authorized to perform: cloudtrail:LookupEvents")
}

func apiError(status int, code, msg string) error {
	fault := smithy.FaultClient
	if status >= 500 {
		fault = smithy.FaultServer
	}
	return opError(&awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault},
		},
		RequestID: "00000000-0000-4000-8000-000000000000",
	})
}

func opError(err error) error {
	return &smithy.OperationError{ServiceID: "CloudTrail", OperationName: "LookupEvents", Err: err}
}
