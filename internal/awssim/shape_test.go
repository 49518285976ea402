package awssim

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The shape of a CloudTrail record: every path of its fields with the JSON
// type found there ("requestParameters.instancesSet.items[].instanceId":
// "string"). Arrays contribute their elements' paths under "[]".
type shape map[string]string

func shapeOf(v any) shape {
	s := shape{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if path != "" {
				s[path] = "object"
			}
			for k, c := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, c)
			}
		case []any:
			s[path] = "array"
			for _, c := range x {
				walk(path+"[]", c)
			}
		case string:
			s[path] = "string"
		case float64:
			s[path] = "number"
		case bool:
			s[path] = "boolean"
		case nil:
			s[path] = "null"
		}
	}
	walk("", v)
	return s
}

// required keeps the paths every shape has with the same type: what a
// record of the call always holds, not what some requests add.
func required(shapes []shape) shape {
	out := shape{}
	for p, t := range shapes[0] {
		all := true
		for _, s := range shapes[1:] {
			if s[p] != t {
				all = false
				break
			}
		}
		if all {
			out[p] = t
		}
	}
	return out
}

// compared are the parts of a record whose shape depends on the call: the
// identity block depends on the caller, compared per identity type.
func compared(path string) bool {
	for _, p := range []string{"requestParameters", "responseElements", "resources"} {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[]") {
			return true
		}
	}
	return !strings.Contains(path, ".") && !strings.HasPrefix(path, "@") && !strings.HasPrefix(path, "userIdentity") &&
		!optionalTop[path]
}

// optionalTop are top-level fields CloudTrail writes only in some
// circumstances, whatever the call: console sessions, VPC endpoints,
// failed calls, service-side details.
var optionalTop = map[string]bool{
	"errorCode": true, "errorMessage": true, "additionalEventData": true, "sessionCredentialFromConsole": true,
	"vpcEndpointId": true, "vpcEndpointAccountId": true, "sharedEventID": true, "serviceEventDetails": true,
	"addendum": true, "edgeDeviceDetails": true, "insightDetails": true, "apiVersion": true, "tlsDetails": true,
	"eventVersion": true,
}

// knownGaps are differences from AWS's shapes the simulator keeps on
// purpose, each with the reason; the test fails on any other, and on a gap
// listed here that no longer occurs.
var knownGaps = map[string]string{
	// Stratus calls AuthorizeSecurityGroupIngress with the flat form of
	// one rule (cidrIp, fromPort, ...); the simulator's scenarios use
	// ipPermissions, which real records show just as well.
	"event AuthorizeSecurityGroupIngress: requestParameters.cidrIp missing (real: string)":     "request form",
	"event AuthorizeSecurityGroupIngress: requestParameters.fromPort missing (real: number)":   "request form",
	"event AuthorizeSecurityGroupIngress: requestParameters.ipProtocol missing (real: string)": "request form",
	"event AuthorizeSecurityGroupIngress: requestParameters.toPort missing (real: number)":     "request form",
	"event CreateUser: requestParameters.tags missing (real: array)":                           "Stratus tags its users; scenario users have no tags",
	"event CreateUser: requestParameters.tags[] missing (real: object)":                        "as above",
	"event CreateUser: requestParameters.tags[].key missing (real: string)":                    "as above",
	"event CreateUser: requestParameters.tags[].value missing (real: string)":                  "as above",
	"event CreateUser: responseElements.user.tags missing (real: array)":                       "as above",
	"event CreateUser: responseElements.user.tags[] missing (real: object)":                    "as above",
	"event CreateUser: responseElements.user.tags[].key missing (real: string)":                "as above",
	"event CreateUser: responseElements.user.tags[].value missing (real: string)":              "as above",
}

// realRecords reads the real records of the public data sets.
func realRecords(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, name := range []string{"stratus_red_team", "otrf_security_datasets"} {
		f, err := os.Open(filepath.Join("..", "..", "trail", "testdata", name+".jsonl.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(zr)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var line struct {
				Event map[string]any `json:"event"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			out = append(out, line.Event)
		}
		f.Close()
	}
	return out
}

// simRecords are the records of every shipped scenario.
func simRecords(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, name := range AllScenarioNames() {
		sc, err := LoadScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewFromScenario(sc, WithClock(func() time.Time { return scStart }))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range s.Records() {
			var rec map[string]any
			if err := json.Unmarshal(raw, &rec); err != nil {
				t.Fatal(err)
			}
			out = append(out, rec)
		}
		s.Close()
	}
	return out
}

// shapeDiffs compares the simulator's records with the real ones for every
// successful call both have: a field the real records always hold must be
// in each simulator record, with the same type.
func shapeDiffs(realRecs, simRecs []map[string]any) (diffs []string, names int) {
	group := func(recs []map[string]any) (map[string][]shape, map[string][]shape) {
		byName, byIdentity := map[string][]shape{}, map[string][]shape{}
		for _, r := range recs {
			if r["errorCode"] != nil {
				continue
			}
			name, _ := r["eventName"].(string)
			byName[name] = append(byName[name], shapeOf(r))
			if id, ok := r["userIdentity"].(map[string]any); ok {
				typ, _ := id["type"].(string)
				byIdentity[typ] = append(byIdentity[typ], shapeOf(id))
			}
		}
		return byName, byIdentity
	}
	realByName, realByID := group(realRecs)
	simByName, simByID := group(simRecs)
	check := func(kind, key string, real []shape, sims []shape, keep func(string) bool) {
		want := required(real)
		paths := make([]string, 0, len(want))
		for p := range want {
			if keep(p) {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			for _, s := range sims {
				got, ok := s[p]
				switch {
				case !ok:
					diffs = append(diffs, fmt.Sprintf("%s %s: %s missing (real: %s)", kind, key, p, want[p]))
				case got != want[p]:
					diffs = append(diffs, fmt.Sprintf("%s %s: %s is %s (real: %s)", kind, key, p, got, want[p]))
				default:
					continue
				}
				break
			}
		}
	}
	for name, sims := range simByName {
		if real, ok := realByName[name]; ok {
			names++
			check("event", name, real, sims, compared)
		}
	}
	for typ, sims := range simByID {
		if real, ok := realByID[typ]; ok {
			check("userIdentity", typ, real, sims, func(p string) bool { return !strings.HasPrefix(p, "sessionContext.webIdFederationData") })
		}
	}
	slices.Sort(diffs)
	return slices.Compact(diffs), names
}

// TestRecordShapesMatchAWS: the simulator's CloudTrail records have the
// fields, nesting and types of the real records of the public data sets,
// for every call both have, so that the simulator cannot drift from AWS.
func TestRecordShapesMatchAWS(t *testing.T) {
	diffs, names := shapeDiffs(realRecords(t), simRecords(t))
	if names < 10 {
		t.Fatalf("only %d calls in common with the real records", names)
	}
	seen := map[string]bool{}
	for _, d := range diffs {
		if _, ok := knownGaps[d]; ok {
			seen[d] = true
			continue
		}
		t.Errorf("%s", d)
	}
	for g := range knownGaps {
		if !seen[g] {
			t.Errorf("known gap no longer occurs, remove it: %s", g)
		}
	}
	t.Logf("%d calls compared", names)
}

// TestShapeDiffsCatchDrift: a simulator record that renames or drops a
// field the real record has, or changes its type, is caught.
func TestShapeDiffsCatchDrift(t *testing.T) {
	real := []map[string]any{{
		"eventName": "CreateAccessKey", "eventSource": "iam.amazonaws.com",
		"userIdentity":      map[string]any{"type": "IAMUser", "accessKeyId": "AKIAREAL"},
		"requestParameters": map[string]any{"userName": "u"},
		"responseElements":  map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIANEW", "status": "Active", "createDate": "Jul 30, 2024 9:53:13 PM"}},
	}}
	sim := func(edit func(resp map[string]any)) []map[string]any {
		resp := map[string]any{"accessKeyId": "AKIANEW", "status": "Active", "createDate": "Jul 30, 2024 9:53:13 PM"}
		edit(resp)
		return []map[string]any{{
			"eventName": "CreateAccessKey", "eventSource": "iam.amazonaws.com",
			"userIdentity":      map[string]any{"type": "IAMUser", "accessKeyId": "AKIASIM"},
			"requestParameters": map[string]any{"userName": "u"},
			"responseElements":  map[string]any{"accessKey": resp},
		}}
	}
	if d, _ := shapeDiffs(real, sim(func(map[string]any) {})); len(d) != 0 {
		t.Fatalf("same shape: %v", d)
	}
	cases := map[string]func(map[string]any){
		"renamed": func(r map[string]any) { r["accessKeyID"] = r["accessKeyId"]; delete(r, "accessKeyId") },
		"dropped": func(r map[string]any) { delete(r, "createDate") },
		"retyped": func(r map[string]any) { r["createDate"] = 1722376393000.0 },
	}
	for name, edit := range cases {
		if d, _ := shapeDiffs(real, sim(edit)); len(d) != 1 {
			t.Errorf("%s: diffs %v, want one", name, d)
		}
	}
}
