package awssim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// cloudtrailOps returns the handlers of the simulated CloudTrail API.
func cloudtrailOps() map[string]handler {
	return map[string]handler{
		"LookupEvents":    lookupEvents,
		"StartQuery":      ctStartQuery,
		"DescribeQuery":   ctDescribeQuery,
		"GetQueryResults": ctGetQueryResults,
	}
}

// lookupLimiter is the per-region LookupEvents throttle (a token bucket per
// region, as AWS applies it per account and region).
type lookupLimiter struct {
	mu       sync.Mutex
	perSec   float64
	burst    int
	byRegion map[string]*rate.Limiter
}

func newLookupLimiter(perSecond float64, burst int) *lookupLimiter {
	return &lookupLimiter{perSec: perSecond, burst: burst, byRegion: map[string]*rate.Limiter{}}
}

// allow takes a token from the region's bucket at time now, the simulator's
// clock rather than the wall clock, so that tests can drive it.
func (l *lookupLimiter) allow(region string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byRegion[region]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(l.perSec), l.burst)
		l.byRegion[region] = lim
	}
	return lim.AllowN(now, 1)
}

// LookupEvents limits, as AWS documents them.
const (
	lookupMaxResults = 50
	lookupRetention  = 90 * 24 * time.Hour
)

// lookupAttributeKeys are the attribute keys LookupEvents accepts.
var lookupAttributeKeys = []string{
	"EventId", "EventName", "ReadOnly", "Username",
	"ResourceType", "ResourceName", "EventSource", "AccessKeyId",
}

// lookupEventsInput is the JSON request. Times are epoch seconds, as the
// JSON 1.1 protocol sends timestamps.
type lookupEventsInput struct {
	LookupAttributes []struct {
		AttributeKey   *string
		AttributeValue *string
	}
	StartTime     *float64
	EndTime       *float64
	EventCategory *string
	MaxResults    *int
	NextToken     *string
}

// lookupEvent is one event of the response, in the shape of the API's Event.
type lookupEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string `json:",omitempty"`
	EventTime       int64
	EventSource     string
	Username        string          `json:",omitempty"`
	Resources       []EventResource `json:",omitempty"`
	CloudTrailEvent string
}

// lookupEventsOutput is the JSON response.
type lookupEventsOutput struct {
	Events    []lookupEvent
	NextToken string `json:",omitempty"`
}

// lookupQuery is a validated LookupEvents request.
type lookupQuery struct {
	key, value string // attribute; key "" matches every event
	start, end *time.Time
	max        int
	insight    bool
}

// fingerprint identifies the query a NextToken belongs to: the attribute, the
// time range as given and the page size.
func (q *lookupQuery) fingerprint() [8]byte {
	ms := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%d\x00%t", q.key, q.value, ms(q.start), ms(q.end), q.max, q.insight))
	var fp [8]byte
	copy(fp[:], sum[:8])
	return fp
}

// lookupCursor is where the next page starts: strictly older, in (time, event
// ID) order, than the last event returned. Anchoring on an event rather than
// on an offset is what keeps pages stable while new events are recorded
// (the responder's own lookups among them): new events sort newer than the
// cursor, so they neither repeat nor push older events off a page.
type lookupCursor struct {
	time time.Time
	id   string
}

// lookupEvents answers CloudTrail LookupEvents.
func lookupEvents(s *Sim, c *Call) (*Result, error) {
	now := s.now().UTC()
	if !s.limits.allow(c.Region, now) {
		// AWS does not log a throttled call.
		return &Result{NoRecord: true}, errf(400, "ThrottlingException", "Rate exceeded")
	}
	var in lookupEventsInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	q, cur, apiErr := s.parseLookup(&in)
	if apiErr != nil {
		return nil, apiErr
	}
	out := lookupEventsOutput{Events: []lookupEvent{}}
	if !q.insight { // no trail has Insights enabled, so there are none to return
		events, next := lookupPage(s.acct.regions[c.Region].Trail, q, cur, now)
		for _, e := range events {
			out.Events = append(out.Events, lookupEvent{
				EventId:         e.ID,
				EventName:       e.Name,
				ReadOnly:        strconv.FormatBool(e.ReadOnly),
				AccessKeyId:     e.AccessKeyID,
				EventTime:       e.Time.Unix(),
				EventSource:     e.Source,
				Username:        e.Username,
				Resources:       e.Resources,
				CloudTrailEvent: string(e.Raw),
			})
		}
		if next != nil {
			out.NextToken = s.encodeLookupToken(q, *next)
		}
	}
	return &Result{JSON: out, Request: lookupRequestParameters(&in)}, nil
}

// parseLookup validates a request the way CloudTrail does and returns the
// query and, for a follow-up page, its cursor.
func (s *Sim) parseLookup(in *lookupEventsInput) (*lookupQuery, *lookupCursor, *APIError) {
	q := &lookupQuery{max: lookupMaxResults}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > lookupMaxResults {
			return nil, nil, errf(400, "InvalidMaxResultsException", "Value %d for MaxResults is invalid: it must be between 1 and %d.", *in.MaxResults, lookupMaxResults)
		}
		q.max = *in.MaxResults
	}
	switch len(in.LookupAttributes) {
	case 0:
	case 1:
		a := in.LookupAttributes[0]
		if a.AttributeKey == nil || !validLookupKey(*a.AttributeKey) {
			key := ""
			if a.AttributeKey != nil {
				key = *a.AttributeKey
			}
			return nil, nil, errf(400, "InvalidLookupAttributesException", "Lookup attribute key %q is not valid. Valid keys: %v.", key, lookupAttributeKeys)
		}
		if a.AttributeValue == nil || *a.AttributeValue == "" {
			return nil, nil, errf(400, "InvalidLookupAttributesException", "The value of lookup attribute %s cannot be empty.", *a.AttributeKey)
		}
		if len(*a.AttributeValue) > 2000 {
			return nil, nil, errf(400, "InvalidLookupAttributesException", "The value of lookup attribute %s is longer than 2000 characters.", *a.AttributeKey)
		}
		if *a.AttributeKey == "ReadOnly" && *a.AttributeValue != "true" && *a.AttributeValue != "false" {
			return nil, nil, errf(400, "InvalidLookupAttributesException", "The value of lookup attribute ReadOnly must be true or false.")
		}
		q.key, q.value = *a.AttributeKey, *a.AttributeValue
	default:
		return nil, nil, errf(400, "InvalidLookupAttributesException", "You can specify only one lookup attribute; the request has %d.", len(in.LookupAttributes))
	}
	var err *APIError
	if q.start, err = epochTime(in.StartTime, "StartTime"); err != nil {
		return nil, nil, err
	}
	if q.end, err = epochTime(in.EndTime, "EndTime"); err != nil {
		return nil, nil, err
	}
	if q.start != nil && q.end != nil && q.start.After(*q.end) {
		return nil, nil, errf(400, "InvalidTimeRangeException", "Start time must be equal to or earlier than end time.")
	}
	if in.EventCategory != nil {
		if *in.EventCategory != "insight" {
			return nil, nil, errf(400, "InvalidEventCategoryException", "Event category %q is not valid. Valid value: insight.", *in.EventCategory)
		}
		q.insight = true
	}
	if in.NextToken == nil {
		return q, nil, nil
	}
	cur, ok := s.decodeLookupToken(q, *in.NextToken)
	if !ok {
		return nil, nil, errf(400, "InvalidNextTokenException", "Invalid NextToken: it is malformed or was issued for different request parameters.")
	}
	return q, cur, nil
}

func validLookupKey(k string) bool {
	for _, v := range lookupAttributeKeys {
		if k == v {
			return true
		}
	}
	return false
}

// epochTime converts a JSON 1.1 timestamp (epoch seconds, millisecond
// precision) to a time.
func epochTime(v *float64, name string) (*time.Time, *APIError) {
	if v == nil {
		return nil, nil
	}
	if math.IsNaN(*v) || math.IsInf(*v, 0) || math.Abs(*v) > 1e11 {
		return nil, errf(400, "InvalidTimeRangeException", "%s is out of the range of valid times.", name)
	}
	t := time.UnixMilli(int64(math.Round(*v * 1000))).UTC()
	return &t, nil
}

// lookupPage returns the next page of a query in a region's store, newest
// first, and the cursor of the page after it (nil on the last page).
func lookupPage(t *trailStore, q *lookupQuery, cur *lookupCursor, now time.Time) ([]*storedEvent, *lookupCursor) {
	oldest := now.Add(-lookupRetention)
	if q.start != nil && q.start.After(oldest) {
		oldest = *q.start
	}
	newest := now
	if q.end != nil && q.end.Before(newest) {
		newest = *q.end
	}
	evs := t.events
	// i is one past the newest candidate: events are sorted by (time, ID).
	i := sort.Search(len(evs), func(i int) bool { return evs[i].Time.After(newest) })
	if cur != nil {
		j := sort.Search(len(evs), func(i int) bool { return !lessEvent(evs[i], cur.time, cur.id) })
		i = min(i, j)
	}
	var page []*storedEvent
	for i--; i >= 0; i-- {
		e := evs[i]
		if e.Time.Before(oldest) {
			return page, nil
		}
		if !matchLookup(e, q) {
			continue
		}
		if len(page) == q.max {
			last := page[len(page)-1]
			return page, &lookupCursor{time: last.Time, id: last.ID}
		}
		page = append(page, e)
	}
	return page, nil
}

// lessEvent orders an event before the position (t, id).
func lessEvent(e *storedEvent, t time.Time, id string) bool {
	if !e.Time.Equal(t) {
		return e.Time.Before(t)
	}
	return e.ID < id
}

// matchLookup applies the query's attribute to an event.
func matchLookup(e *storedEvent, q *lookupQuery) bool {
	switch q.key {
	case "":
		return true
	case "EventId":
		return e.ID == q.value
	case "EventName":
		return e.Name == q.value
	case "ReadOnly":
		return strconv.FormatBool(e.ReadOnly) == q.value
	case "Username":
		return e.Username == q.value
	case "EventSource":
		return e.Source == q.value
	case "AccessKeyId":
		return e.AccessKeyID == q.value
	case "ResourceType":
		for _, r := range e.Resources {
			if r.Type == q.value {
				return true
			}
		}
	case "ResourceName":
		for _, r := range e.Resources {
			if r.Name == q.value {
				return true
			}
		}
	}
	return false
}

// Token layout: version, query fingerprint, cursor time (Unix seconds), the
// cursor's event ID, and a check value over all of it, base64-encoded. The
// check value makes tampered or made-up tokens fail cleanly instead of
// landing at an arbitrary position.
const lookupTokenVersion = 1

func (s *Sim) encodeLookupToken(q *lookupQuery, cur lookupCursor) string {
	fp := q.fingerprint()
	b := []byte{lookupTokenVersion}
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(cur.time.Unix()))
	b = append(b, cur.id...)
	mac := s.lookupTokenMAC(b)
	b = append(b, mac[:]...)
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Sim) decodeLookupToken(q *lookupQuery, token string) (*lookupCursor, bool) {
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(b) < 1+8+8+8 || b[0] != lookupTokenVersion {
		return nil, false
	}
	body, mac := b[:len(b)-8], b[len(b)-8:]
	want := s.lookupTokenMAC(body)
	if !bytes.Equal(mac, want[:]) {
		return nil, false
	}
	fp := q.fingerprint()
	if !bytes.Equal(body[1:9], fp[:]) {
		return nil, false // a token of another query
	}
	sec := int64(binary.BigEndian.Uint64(body[9:17]))
	return &lookupCursor{time: time.Unix(sec, 0).UTC(), id: string(body[17:])}, true
}

// lookupTokenMAC is a keyed check value; the account ID as key is enough to
// tell the simulator's tokens from anything else.
func (s *Sim) lookupTokenMAC(b []byte) [8]byte {
	h := sha256.New()
	h.Write([]byte("awssim LookupEvents NextToken\x00" + s.acct.ID + "\x00"))
	h.Write(b)
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// lookupRequestParameters is the requestParameters block of the
// LookupEvents record, in the camelCase shape CloudTrail logs.
func lookupRequestParameters(in *lookupEventsInput) map[string]any {
	p := map[string]any{}
	if len(in.LookupAttributes) > 0 {
		var attrs []map[string]any
		for _, a := range in.LookupAttributes {
			m := map[string]any{}
			if a.AttributeKey != nil {
				m["attributeKey"] = *a.AttributeKey
			}
			if a.AttributeValue != nil {
				m["attributeValue"] = *a.AttributeValue
			}
			attrs = append(attrs, m)
		}
		p["lookupAttributes"] = attrs
	}
	if t, _ := epochTime(in.StartTime, "StartTime"); t != nil {
		p["startTime"] = t.Format(time.RFC3339)
	}
	if t, _ := epochTime(in.EndTime, "EndTime"); t != nil {
		p["endTime"] = t.Format(time.RFC3339)
	}
	if in.EventCategory != nil {
		p["eventCategory"] = *in.EventCategory
	}
	if in.MaxResults != nil {
		p["maxResults"] = *in.MaxResults
	}
	if in.NextToken != nil {
		p["nextToken"] = *in.NextToken
	}
	return p
}
