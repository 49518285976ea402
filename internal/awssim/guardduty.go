package awssim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// guarddutyOps returns the handlers of the simulated guardduty API.
func guarddutyOps() map[string]handler {
	return map[string]handler{
		"ListDetectors": gdListDetectors,
		"ListFindings":  gdListFindings,
		"GetFindings":   gdGetFindings,
	}
}

// GuardDutyFinding is a finding a scenario plants in a region's detector. It
// is rendered into GuardDuty's JSON finding shape by AddGuardDutyFinding.
type GuardDutyFinding struct {
	// Type is the finding type, e.g.
	// "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
	// or "Recon:IAMUser/MaliciousIPCaller".
	Type string
	// Severity is GuardDuty's 1.0-8.9 scale (low below 4, high from 7);
	// 0 means 5 (medium).
	Severity float64
	// AccessKeyID and UserName identify the credential the finding is about.
	AccessKeyID string
	UserName    string
	Title       string // "" uses the type
	Description string
	// API is the call GuardDuty saw (service.action.awsApiCallAction.api),
	// ServiceName its service (e.g. "iam.amazonaws.com"), RemoteIP its
	// caller's address.
	API         string
	ServiceName string
	RemoteIP    string
	// Count is how often the activity was seen; 0 means 1.
	Count int
	// FirstSeen and LastSeen bound the activity; zero FirstSeen means the
	// simulator's now, zero LastSeen means FirstSeen.
	FirstSeen time.Time
	LastSeen  time.Time
}

// gdTime formats a time as GuardDuty does (ISO 8601 with milliseconds).
func gdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// EnableGuardDuty creates the region's detector if it has none (as set-up,
// without a CloudTrail record) and returns the detector ID, "" when the
// account has no such region.
func (s *Sim) EnableGuardDuty(region string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.acct.region(region)
	if rs == nil {
		return ""
	}
	if rs.GuardDuty == nil {
		rs.GuardDuty = &guardDutyState{DetectorID: s.newHex(32)}
	}
	return rs.GuardDuty.DetectorID
}

// AddGuardDutyFinding adds a finding to the region's detector and returns the
// finding's ID. The region must have a detector (EnableGuardDuty): without
// one GuardDuty finds nothing.
func (s *Sim) AddGuardDutyFinding(region string, f GuardDutyFinding) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.acct.region(region)
	if rs == nil {
		return "", fmt.Errorf("add guardduty finding: no region %s", region)
	}
	if rs.GuardDuty == nil {
		return "", fmt.Errorf("add guardduty finding: guardduty is not enabled in %s", region)
	}
	if f.Type == "" {
		return "", fmt.Errorf("add guardduty finding: finding type is empty")
	}
	if f.Severity == 0 {
		f.Severity = 5
	}
	if f.Severity < 1 || f.Severity > 10 {
		return "", fmt.Errorf("add guardduty finding: severity %v is outside 1-10", f.Severity)
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.FirstSeen.IsZero() {
		f.FirstSeen = s.now()
	}
	if f.LastSeen.IsZero() {
		f.LastSeen = f.FirstSeen
	}
	if f.Title == "" {
		f.Title = f.Type
	}
	id := s.newHex(32)
	rs.GuardDuty.Findings = append(rs.GuardDuty.Findings, s.renderFinding(region, rs.GuardDuty.DetectorID, id, f))
	return id, nil
}

// renderFinding builds the finding document in GuardDuty's JSON shape.
// Called with mu held.
func (s *Sim) renderFinding(region, detector, id string, f GuardDutyFinding) map[string]any {
	principal, userType := "", "IAMUser"
	if k, ok := s.acct.Keys[f.AccessKeyID]; ok {
		switch k.Kind {
		case KindRootKey:
			principal, userType = s.acct.ID, "Root"
		case KindRole:
			if r, ok := s.acct.Roles[k.RoleName]; ok {
				principal = r.ID + ":" + k.SessionName
			}
			userType = "AssumedRole"
		case KindFederation:
			principal, userType = s.acct.ID+":"+k.SessionName, "FederatedUser"
		}
	}
	if u, ok := s.acct.Users[f.UserName]; ok && principal == "" {
		principal = u.ID
	}
	call := map[string]any{"callerType": "Remote IP"}
	if f.API != "" {
		call["api"] = f.API
	}
	if f.ServiceName != "" {
		call["serviceName"] = f.ServiceName
	}
	if f.RemoteIP != "" {
		call["remoteIpDetails"] = map[string]any{"ipAddressV4": f.RemoteIP}
	}
	return map[string]any{
		"accountId":     s.acct.ID,
		"arn":           "arn:aws:guardduty:" + region + ":" + s.acct.ID + ":detector/" + detector + "/finding/" + id,
		"createdAt":     gdTime(f.FirstSeen),
		"description":   f.Description,
		"id":            id,
		"partition":     "aws",
		"region":        region,
		"schemaVersion": "2.0",
		"severity":      f.Severity,
		"title":         f.Title,
		"type":          f.Type,
		"updatedAt":     gdTime(f.LastSeen),
		"resource": map[string]any{
			"resourceType": "AccessKey",
			"accessKeyDetails": map[string]any{
				"accessKeyId": f.AccessKeyID,
				"principalId": principal,
				"userName":    f.UserName,
				"userType":    userType,
			},
		},
		"service": map[string]any{
			"serviceName":    "guardduty",
			"detectorId":     detector,
			"archived":       false,
			"resourceRole":   "TARGET",
			"count":          f.Count,
			"eventFirstSeen": gdTime(f.FirstSeen),
			"eventLastSeen":  gdTime(f.LastSeen),
			"action": map[string]any{
				"actionType":       "AWS_API_CALL",
				"awsApiCallAction": call,
			},
		},
	}
}

// errNoDetector is GuardDuty's answer for a detector ID that is not the
// region's.
func errNoDetector() *APIError {
	return errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because the input detectorId is not owned by the current account.")
}

// gdDetector returns the region's GuardDuty state when the path's detector
// ID is its detector.
func (s *Sim) gdDetector(c *Call) (*guardDutyState, *APIError) {
	gd := s.acct.region(c.Region).GuardDuty
	if gd == nil || c.Param("DetectorId") != gd.DetectorID {
		return nil, errNoDetector()
	}
	return gd, nil
}

func gdListDetectors(s *Sim, c *Call) (*Result, error) {
	ids := []string{}
	if gd := s.acct.region(c.Region).GuardDuty; gd != nil {
		ids = append(ids, gd.DetectorID)
	}
	return &Result{JSON: map[string]any{"detectorIds": ids}}, nil
}

// gdCondition is one criterion of a FindingCriteria, in both the deprecated
// (eq, gt) and the current (equals, greaterThan) spellings.
type gdCondition struct {
	Eq                 []string `json:"eq,omitempty"`
	Neq                []string `json:"neq,omitempty"`
	Equals             []string `json:"equals,omitempty"`
	NotEquals          []string `json:"notEquals,omitempty"`
	Gt                 *float64 `json:"gt,omitempty"`
	Gte                *float64 `json:"gte,omitempty"`
	Lt                 *float64 `json:"lt,omitempty"`
	Lte                *float64 `json:"lte,omitempty"`
	GreaterThan        *float64 `json:"greaterThan,omitempty"`
	GreaterThanOrEqual *float64 `json:"greaterThanOrEqual,omitempty"`
	LessThan           *float64 `json:"lessThan,omitempty"`
	LessThanOrEqual    *float64 `json:"lessThanOrEqual,omitempty"`
}

type gdSort struct {
	AttributeName string `json:"attributeName"`
	OrderBy       string `json:"orderBy"`
}

type gdListInput struct {
	FindingCriteria *struct {
		Criterion map[string]gdCondition `json:"criterion"`
	} `json:"findingCriteria"`
	SortCriteria *gdSort `json:"sortCriteria"`
	MaxResults   int     `json:"maxResults"`
	NextToken    string  `json:"nextToken"`
}

// findingValue looks up a dotted attribute path in a finding document and
// returns it as a string ("" when absent).
func findingValue(f map[string]any, path string) string {
	var cur any = f
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(cur)
}

// findingNumber is an attribute as a number: timestamps compare as epoch
// milliseconds, as GuardDuty's criteria on updatedAt expect.
func findingNumber(f map[string]any, path string) (float64, bool) {
	v := findingValue(f, path)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return float64(t.UnixMilli()), true
	}
	n, err := strconv.ParseFloat(v, 64)
	return n, err == nil
}

// matches reports whether a finding meets every criterion.
func (crit gdCondition) matches(f map[string]any, path string) bool {
	v := findingValue(f, path)
	if eq := append(slices.Clone(crit.Eq), crit.Equals...); len(eq) > 0 && !slices.Contains(eq, v) {
		return false
	}
	if neq := append(slices.Clone(crit.Neq), crit.NotEquals...); slices.Contains(neq, v) {
		return false
	}
	bounds := []struct {
		limit *float64
		ok    func(n, l float64) bool
	}{
		{crit.Gt, func(n, l float64) bool { return n > l }},
		{crit.GreaterThan, func(n, l float64) bool { return n > l }},
		{crit.Gte, func(n, l float64) bool { return n >= l }},
		{crit.GreaterThanOrEqual, func(n, l float64) bool { return n >= l }},
		{crit.Lt, func(n, l float64) bool { return n < l }},
		{crit.LessThan, func(n, l float64) bool { return n < l }},
		{crit.Lte, func(n, l float64) bool { return n <= l }},
		{crit.LessThanOrEqual, func(n, l float64) bool { return n <= l }},
	}
	for _, b := range bounds {
		if b.limit == nil {
			continue
		}
		n, ok := findingNumber(f, path)
		if !ok || !b.ok(n, *b.limit) {
			return false
		}
	}
	return true
}

// sortFindings orders findings by an attribute (numbers numerically, the
// rest as strings); without sort criteria the order is the order found.
func sortFindings(fs []map[string]any, by *gdSort) {
	if by == nil || by.AttributeName == "" {
		return
	}
	desc := strings.EqualFold(by.OrderBy, "DESC")
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if desc {
			a, b = b, a
		}
		na, okA := findingNumber(a, by.AttributeName)
		nb, okB := findingNumber(b, by.AttributeName)
		if okA && okB {
			return na < nb
		}
		return findingValue(a, by.AttributeName) < findingValue(b, by.AttributeName)
	})
}

func gdListFindings(s *Sim, c *Call) (*Result, error) {
	gd, apiErr := s.gdDetector(c)
	if apiErr != nil {
		return nil, apiErr
	}
	var in gdListInput
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	if in.MaxResults == 0 {
		in.MaxResults = 50
	}
	if in.MaxResults < 1 || in.MaxResults > 50 {
		return nil, errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because the value of maxResults is out of range: it must be between 1 and 50.")
	}
	var found []map[string]any
	for _, f := range gd.Findings {
		ok := true
		if in.FindingCriteria != nil {
			for path, crit := range in.FindingCriteria.Criterion {
				if !crit.matches(f, path) {
					ok = false
					break
				}
			}
		}
		if ok {
			found = append(found, f)
		}
	}
	sortFindings(found, in.SortCriteria)
	start := 0
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		n, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil || n < 0 || n > len(found) {
			return nil, errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because the input nextToken is not valid.")
		}
		start = n
	}
	end := min(start+in.MaxResults, len(found))
	ids := []string{}
	for _, f := range found[start:end] {
		ids = append(ids, f["id"].(string))
	}
	out := map[string]any{"findingIds": ids}
	if end < len(found) {
		out["nextToken"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	req := map[string]any{"detectorId": gd.DetectorID, "maxResults": in.MaxResults}
	if in.FindingCriteria != nil {
		req["findingCriteria"] = in.FindingCriteria
	}
	if in.SortCriteria != nil {
		req["sortCriteria"] = in.SortCriteria
	}
	return &Result{JSON: out, Request: req}, nil
}

func gdGetFindings(s *Sim, c *Call) (*Result, error) {
	gd, apiErr := s.gdDetector(c)
	if apiErr != nil {
		return nil, apiErr
	}
	var in struct {
		FindingIds   []string `json:"findingIds"`
		SortCriteria *gdSort  `json:"sortCriteria"`
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	if len(in.FindingIds) == 0 || len(in.FindingIds) > 50 {
		return nil, errf(http.StatusBadRequest, "BadRequestException", "The request is rejected because findingIds must hold between 1 and 50 IDs.")
	}
	// Unknown IDs are left out of the answer, as GuardDuty does.
	found := []map[string]any{}
	for _, id := range in.FindingIds {
		for _, f := range gd.Findings {
			if f["id"] == id {
				found = append(found, f)
				break
			}
		}
	}
	sortFindings(found, in.SortCriteria)
	return &Result{
		JSON:    map[string]any{"findings": found},
		Request: map[string]any{"detectorId": gd.DetectorID, "findingIds": in.FindingIds},
	}, nil
}
