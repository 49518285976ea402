package trail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// The chain of the tests: the leaked key takes a session token and makes a
// new access key; both are used later, in two regions.
const (
	leakedKey  = "AKIAQLEAKEDEXAMPLE01"
	sessionKey = "ASIAQSESSIONEXAMPLE1"
	newKey     = "AKIAQBACKDOOREXAMPL2"
	otherKey   = "AKIAQWORKLOADEXAMPL3"
)

var chainStart = time.Date(2025, 3, 14, 19, 17, 0, 0, time.UTC)

// chainRecords are CloudTrail records of the chain, in the shape real
// records have, plus one event of an unrelated key.
func chainRecords(withNewKey bool) []map[string]any {
	ident := func(key, typ string) map[string]any {
		id := map[string]any{"type": typ, "principalId": "AIDAQCIDEPLOYEXAMPLE", "arn": "arn:aws:iam::482916503317:user/ci-deploy",
			"accountId": "482916503317", "accessKeyId": key, "userName": "ci-deploy"}
		if strings.HasPrefix(key, "ASIA") {
			id["sessionContext"] = map[string]any{"sessionIssuer": map[string]any{}, "webIdFederationData": map[string]any{},
				"attributes": map[string]any{"creationDate": chainStart.Add(time.Minute).Format(time.RFC3339), "mfaAuthenticated": "false"}}
		}
		return id
	}
	rec := func(id string, at time.Duration, key, source, name, region string, req, resp map[string]any) map[string]any {
		r := map[string]any{
			"eventVersion": "1.09", "userIdentity": ident(key, "IAMUser"), "eventTime": chainStart.Add(at).Format(time.RFC3339),
			"eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": "203.0.113.7",
			"userAgent": "aws-cli/2.15.0", "requestParameters": nil, "responseElements": nil,
			"requestID": "req-" + id, "eventID": id, "readOnly": strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List"),
			"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "482916503317", "eventCategory": "Management",
		}
		if req != nil {
			r["requestParameters"] = req
		}
		if resp != nil {
			r["responseElements"] = resp
		}
		return r
	}
	out := []map[string]any{
		rec("e1", 0, leakedKey, "sts.amazonaws.com", "GetCallerIdentity", "us-east-1", nil, nil),
		rec("e2", time.Minute, leakedKey, "sts.amazonaws.com", "GetSessionToken", "us-east-1", map[string]any{"durationSeconds": 43200},
			map[string]any{"credentials": map[string]any{"accessKeyId": sessionKey, "sessionToken": "FwoG…", "expiration": "Mar 15, 2025, 7:18:00 AM"}}),
		rec("e4", 10*time.Minute, sessionKey, "ec2.amazonaws.com", "RunInstances", "eu-west-1",
			map[string]any{"instanceType": "p3.16xlarge", "instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-0abc", "minCount": 1}}}},
			map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-0123456789abcdef0"}}}}),
		rec("e6", 20*time.Minute, otherKey, "s3.amazonaws.com", "ListBuckets", "us-east-1", nil, nil),
	}
	out[2]["resources"] = []any{map[string]any{"type": "AWS::EC2::Instance", "ARN": "arn:aws:ec2:eu-west-1:482916503317:instance/i-0123456789abcdef0", "accountId": "482916503317"}}
	out[2]["userIdentity"] = ident(sessionKey, "IAMUser")
	if withNewKey {
		out = append(out,
			rec("e3", 2*time.Minute, leakedKey, "iam.amazonaws.com", "CreateAccessKey", "us-east-1", map[string]any{"userName": "backup-admin"},
				map[string]any{"accessKey": map[string]any{"accessKeyId": newKey, "status": "Active", "userName": "backup-admin", "createDate": "Mar 14, 2025, 7:19:00 PM"}}),
			rec("e5", time.Hour, newKey, "iam.amazonaws.com", "ListUsers", "us-east-1", nil, nil),
		)
	}
	return out
}

// selectItem is one item of the SELECT lists keyleak writes.
var selectItem = regexp.MustCompile(`^(?:json_format\(CAST\(([A-Za-z.]+) AS JSON\)\) AS ([a-z.]+)|([A-Za-z.]+)(?: AS "([a-z.]+)")?)$`)

// resultColumn is a column of a query's answer: where it comes from in the
// record and how an engine renders it.
type resultColumn struct {
	name string
	path []string
	json bool
}

// columnsOf reads the SELECT list of a query, independently of the code
// that wrote it.
func columnsOf(t testing.TB, sql string) []resultColumn {
	t.Helper()
	_, rest, ok := strings.Cut(sql, "SELECT ")
	list, _, ok2 := strings.Cut(rest, "\nFROM ")
	if !ok || !ok2 {
		t.Fatalf("no SELECT … FROM in %s", sql)
	}
	var out []resultColumn
	for _, item := range strings.Split(list, ",") {
		m := selectItem.FindStringSubmatch(strings.TrimSpace(item))
		if m == nil {
			t.Fatalf("select item %q not understood", item)
		}
		c := resultColumn{json: m[1] != ""}
		expr := m[1] + m[3]
		c.name = strings.ToLower(m[2] + m[4])
		if c.name == "" {
			c.name = strings.ToLower(expr)
		}
		c.path = strings.Split(strings.ToLower(expr), ".")
		out = append(out, c)
	}
	return out
}

// lookupFold finds a path in a record without regard to case.
func lookupFold(v any, path []string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for k, x := range m {
			if strings.EqualFold(k, p) {
				v, found = x, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return v, v != nil
}

func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, y := range x {
			out[strings.ToLower(k)] = lowerKeys(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = lowerKeys(y)
		}
		return out
	}
	return v
}

// athenaValue renders a record's field as Athena returns it from the
// standard table: strings as they are, JSON text for the fields the table
// keeps as STRING (requestparameters, …), nil for null.
func athenaValue(t testing.TB, rec map[string]any, c resultColumn) *string {
	v, ok := lookupFold(rec, c.path)
	if !ok {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	default:
		if c.json {
			v = lowerKeys(v) // a ROW cast to JSON names fields in lower case
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		s = string(b)
	}
	return &s
}

// roundTrip makes records pass through JSON, as they would through a log.
func roundTrip(t testing.TB, recs []map[string]any) []map[string]any {
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// fakeAthena answers queries keyleak writes over a set of records: it reads
// the keys and the time range from the WHERE, runs each query through
// QUEUED and RUNNING, and pages its rows two at a time after a header row.
type fakeAthena struct {
	t       testing.TB
	mu      sync.Mutex
	recs    []map[string]any
	queries []string
	polls   map[string]int
	fail    string // a non-empty reason fails every query
	results int    // GetQueryResults calls
}

var (
	inKeys    = regexp.MustCompile(`useridentity\.accesskeyid IN \(([^)]*)\)`)
	timeRange = regexp.MustCompile(`eventtime >= '([^']+)' AND eventtime <= '([^']+)'`)
)

func (f *fakeAthena) StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.ResultConfiguration == nil || aws.ToString(in.ResultConfiguration.OutputLocation) != "s3://results/keyleak/" {
		return nil, errors.New("no output location")
	}
	f.queries = append(f.queries, aws.ToString(in.QueryString))
	if f.polls == nil {
		f.polls = map[string]int{}
	}
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String(strconv.Itoa(len(f.queries) - 1))}, nil
}

func (f *fakeAthena) GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, _ ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.QueryExecutionId)
	f.polls[id]++
	st := &athenatypes.QueryExecutionStatus{}
	switch {
	case f.polls[id] == 1:
		st.State = athenatypes.QueryExecutionStateQueued
	case f.polls[id] == 2:
		st.State = athenatypes.QueryExecutionStateRunning
	case f.fail != "":
		st.State, st.StateChangeReason = athenatypes.QueryExecutionStateFailed, aws.String(f.fail)
	default:
		st.State = athenatypes.QueryExecutionStateSucceeded
	}
	return &athena.GetQueryExecutionOutput{QueryExecution: &athenatypes.QueryExecution{
		QueryExecutionId: in.QueryExecutionId, Status: st,
		Statistics: &athenatypes.QueryExecutionStatistics{DataScannedInBytes: aws.Int64(1000)},
	}}, nil
}

// rowsOf selects and renders the rows a query asks for.
func rowsOf(t testing.TB, recs []map[string]any, sql string) ([]athenatypes.ColumnInfo, []athenatypes.Row) {
	cols := columnsOf(t, sql)
	keys := map[string]bool{}
	for _, k := range strings.Split(inKeys.FindStringSubmatch(sql)[1], ",") {
		keys[strings.Trim(strings.TrimSpace(k), "'")] = true
	}
	tr := timeRange.FindStringSubmatch(sql)
	var info []athenatypes.ColumnInfo
	header := athenatypes.Row{}
	for _, c := range cols {
		info = append(info, athenatypes.ColumnInfo{Name: aws.String(c.name), Type: aws.String("varchar")})
		header.Data = append(header.Data, athenatypes.Datum{VarCharValue: aws.String(c.name)})
	}
	rows := []athenatypes.Row{header}
	for _, rec := range recs {
		key, _ := lookupFold(rec, []string{"userIdentity", "accessKeyId"})
		at := rec["eventTime"].(string)
		if !keys[key.(string)] || at < tr[1] || at > tr[2] {
			continue
		}
		row := athenatypes.Row{}
		for _, c := range cols {
			row.Data = append(row.Data, athenatypes.Datum{VarCharValue: athenaValue(t, rec, c)})
		}
		rows = append(rows, row)
	}
	return info, rows
}

func (f *fakeAthena) GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, _ ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results++
	id, _ := strconv.Atoi(aws.ToString(in.QueryExecutionId))
	info, rows := rowsOf(f.t, f.recs, f.queries[id])
	off := 0
	if in.NextToken != nil {
		off, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(off+2, len(rows))
	out := &athena.GetQueryResultsOutput{ResultSet: &athenatypes.ResultSet{
		Rows: rows[off:end], ResultSetMetadata: &athenatypes.ResultSetMetadata{ColumnInfo: info},
	}}
	if end < len(rows) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func TestAthenaQueryGolden(t *testing.T) {
	w := trail.Window{Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 3, 15, 21, 27, 0, 0, time.UTC)}
	table := trail.AthenaTable{Name: "security.CloudTrail_Logs", Workgroup: "responders", Regions: []string{"us-east-1", "eu-west-1", "ap-northeast-1"}}
	sql, err := table.Query([]string{leakedKey, sessionKey, newKey}, w)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "athena_query.golden", sql+"\n")
	all := trail.AthenaTable{Name: "cloudtrail_logs"}
	sql, err = all.Query([]string{leakedKey}, trail.Window{Since: w.Since, Until: time.Date(2025, 3, 31, 23, 59, 59, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "athena_query_all_regions.golden", sql+"\n")
	sql, err = trail.LakeQuery("arn:aws:cloudtrail:us-east-1:482916503317:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE", []string{leakedKey, sessionKey}, w)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "lake_query.golden", sql+"\n")
}

func TestAthenaDDLGolden(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ddl, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "s3://acme-trail/", Accounts: []string{"482916503317"}, Regions: []string{"us-east-1", "eu-west-1"}, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "athena_ddl_account.golden", ddl)
	ddl, err = trail.AthenaDDL(trail.DDLOptions{Table: "security.org_trail", Bucket: "s3://acme-org-trail/logs", Org: "o-a1b2c3d4e5",
		Accounts: []string{"482916503317", "111122223333"}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "athena_ddl_org.golden", ddl)
	// The query reads the partitions the DDL projects, by the same names.
	sql, err := trail.AthenaTable{Name: "cloudtrail_logs", Regions: []string{"eu-west-1"}}.Query([]string{leakedKey}, trail.Window{Since: start, Until: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{`"timestamp" BETWEEN '2024/01/01' AND '2024/01/02'`, "region IN ('eu-west-1')"} {
		if !strings.Contains(sql, part) {
			t.Errorf("query lacks %s:\n%s", part, sql)
		}
	}
}

func TestAthenaInputsAreChecked(t *testing.T) {
	w := trail.Window{Since: chainStart, Until: chainStart.Add(time.Hour)}
	for name, run := range map[string]func() error{
		"bad key":    func() error { _, err := trail.AthenaTable{Name: "t"}.Query([]string{"AKIA' OR 1=1 --"}, w); return err },
		"no key":     func() error { _, err := trail.AthenaTable{Name: "t"}.Query(nil, w); return err },
		"bad table":  func() error { _, err := trail.AthenaTable{Name: "t; DROP"}.Query([]string{leakedKey}, w); return err },
		"deep table": func() error { _, err := trail.AthenaTable{Name: "a.b.c"}.Query([]string{leakedKey}, w); return err },
		"bad region": func() error {
			_, err := trail.AthenaTable{Name: "t", Regions: []string{"us-east-1'"}}.Query([]string{leakedKey}, w)
			return err
		},
		"open window": func() error {
			_, err := trail.AthenaTable{Name: "t"}.Query([]string{leakedKey}, trail.Window{Until: w.Until})
			return err
		},
		"lake bad store": func() error { _, err := trail.LakeQuery("eds; --", []string{leakedKey}, w); return err },
		"lake bad arn":   func() error { _, err := trail.LakeQuery("arn:aws:s3:::bucket", []string{leakedKey}, w); return err },
		"ddl no account": func() error { _, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "s3://b"}); return err },
		"ddl org no accounts": func() error {
			_, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "s3://b", Org: "o-a1b2c3d4e5"})
			return err
		},
		"ddl bad org": func() error {
			_, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "s3://b", Org: "org1", Accounts: []string{"482916503317"}})
			return err
		},
		"ddl bad bucket": func() error {
			_, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "acme-trail", Accounts: []string{"482916503317"}})
			return err
		},
		"ddl quote in bucket": func() error {
			_, err := trail.AthenaDDL(trail.DDLOptions{Bucket: "s3://b'x", Accounts: []string{"482916503317"}})
			return err
		},
		"no output": func() error {
			_, err := trail.NewAthena(&fakeAthena{t: t}, trail.AthenaTable{Name: "t"}).Run(context.Background(), leakedKey)
			return err
		},
	} {
		if err := run(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	id, region, err := trail.EventDataStoreID("arn:aws:cloudtrail:eu-west-1:482916503317:eventdatastore/EXAMPLE-f852")
	if err != nil || id != "EXAMPLE-f852" || region != "eu-west-1" {
		t.Errorf("EventDataStoreID = %q, %q, %v", id, region, err)
	}
}

func TestAthenaPivotsThroughDerivedKeys(t *testing.T) {
	for _, withNewKey := range []bool{true, false} {
		t.Run(fmt.Sprintf("newKey=%t", withNewKey), func(t *testing.T) {
			fake := &fakeAthena{t: t, recs: roundTrip(t, chainRecords(withNewKey))}
			clk := trailtest.NewClock(chainStart.Add(48 * time.Hour))
			var progress []trail.SourceStatus
			since, until := chainStart.Add(-24*time.Hour), chainStart.Add(24*time.Hour)
			a := trail.NewAthena(fake, trail.AthenaTable{Name: "cloudtrail_logs", OutputLocation: "s3://results/keyleak/"},
				trail.WithWindow(since, until), trail.WithClock(clk), trail.WithProgress(func(s trail.SourceStatus) { progress = append(progress, s) }))
			inv, err := a.Run(context.Background(), leakedKey)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"e1", "e2", "e4"}
			if withNewKey {
				want = []string{"e1", "e2", "e3", "e4", "e5"}
			}
			var got []string
			for _, e := range inv.Events {
				got = append(got, e.EventID)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			if len(fake.queries) != 2 {
				t.Fatalf("%d queries, want 2 (the key, then the keys it made):\n%s", len(fake.queries), strings.Join(fake.queries, "\n\n"))
			}
			// The second round reads only the derived keys' lives: from the
			// first issue to the session's expiration, or on for a new key.
			tr := timeRange.FindStringSubmatch(fake.queries[1])
			wantUntil := "2025-03-15T07:18:00Z"
			if withNewKey {
				wantUntil = until.Format(time.RFC3339)
			}
			if tr[1] != chainStart.Add(time.Minute).Format(time.RFC3339) || tr[2] != wantUntil {
				t.Errorf("second round reads %s to %s, want the session's life up to %s", tr[1], tr[2], wantUntil)
			}
			if !strings.Contains(fake.queries[1], sessionKey) || strings.Contains(fake.queries[1], leakedKey) {
				t.Errorf("second round asks for the wrong keys:\n%s", fake.queries[1])
			}
			cov := inv.Coverage.Sources
			if len(cov) != 1 || cov[0].Name != "athena:cloudtrail_logs" || cov[0].State != trail.StateOK || cov[0].Bytes != 2000 ||
				cov[0].Events != len(want) || cov[0].Records != len(want) || cov[0].Pages != fake.results || cov[0].Lookups != len(inv.Keys) {
				t.Errorf("coverage %+v (%d result pages)", cov, fake.results)
			}
			if clk.Slept() == 0 {
				t.Error("queries were not polled with back-off")
			}
			if last := progress[len(progress)-1]; last.State != trail.StateOK || len(progress) < 3 {
				t.Errorf("progress %+v", progress)
			}
			checkRebuilt(t, inv, fake.recs)
		})
	}
}

// checkRebuilt compares the events rebuilt from rows with the records they
// came from: the fields keyleak reads, the request and response, resources.
func checkRebuilt(t *testing.T, inv *trail.Investigation, recs []map[string]any) {
	t.Helper()
	byID := map[string]map[string]any{}
	for _, r := range recs {
		byID[r["eventID"].(string)] = r
	}
	for _, e := range inv.Events {
		rec := byID[e.EventID]
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := trail.ParseRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		if e.EventTime != want.EventTime || e.EventName != want.EventName || e.Region != want.Region || e.ReadOnly != want.ReadOnly ||
			e.UserIdentity.AccessKeyID != want.UserIdentity.AccessKeyID || e.UserIdentity.UserName != want.UserIdentity.UserName ||
			e.UserIdentity.SessionCreated != want.UserIdentity.SessionCreated || e.SourceIPAddress != want.SourceIPAddress ||
			e.RecipientAccountID != want.RecipientAccountID || !slices.Equal(e.Resources, want.Resources) {
			t.Errorf("event %s rebuilt as %+v, want %+v", e.EventID, e, want)
		}
		for _, pair := range [][2]json.RawMessage{{e.RequestParameters, want.RequestParameters}, {e.ResponseElements, want.ResponseElements}} {
			if !jsonEqual(t, pair[0], pair[1]) {
				t.Errorf("event %s: %s, want %s", e.EventID, pair[0], pair[1])
			}
		}
	}
	if l, ok := inv.Keys[1], len(inv.Keys) > 1; !ok || l.AccessKeyID != sessionKey || l.Via != "GetSessionToken" || l.Expiration.IsZero() {
		t.Errorf("keys %+v", inv.Keys)
	}
}

func jsonEqual(t *testing.T, a, b json.RawMessage) bool {
	t.Helper()
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func TestAthenaQueryFailureIsInTheCoverage(t *testing.T) {
	fake := &fakeAthena{t: t, recs: roundTrip(t, chainRecords(true)), fail: "TABLE_NOT_FOUND: line 2:6: Table 'awsdatacatalog.default.cloudtrail_logs' does not exist"}
	inv, err := trail.NewAthena(fake, trail.AthenaTable{Name: "cloudtrail_logs", OutputLocation: "s3://results/keyleak/"},
		trail.WithWindow(chainStart.Add(-time.Hour), chainStart.Add(time.Hour)), trail.WithClock(trailtest.NewClock(chainStart))).Run(context.Background(), leakedKey)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Coverage.Failed() || !strings.Contains(inv.Coverage.Summary(), "TABLE_NOT_FOUND") || len(inv.Events) != 0 {
		t.Fatalf("coverage %+v", inv.Coverage)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fake.fail = ""
	inv, err = trail.NewAthena(fake, trail.AthenaTable{Name: "cloudtrail_logs", OutputLocation: "s3://results/keyleak/"},
		trail.WithWindow(chainStart.Add(-time.Hour), chainStart.Add(time.Hour)), trail.WithClock(trailtest.NewClock(chainStart))).Run(ctx, leakedKey)
	if !errors.Is(err, context.Canceled) || inv == nil || inv.Coverage.Sources[0].Err != "interrupted" {
		t.Fatalf("cancelled run: %v, %+v", err, inv)
	}
}

// motoPost returns a function that posts JSON to moto's API.
func motoPost(t *testing.T, base string) func(path string, body any) {
	return func(path string, body any) {
		t.Helper()
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s", path, resp.Status)
		}
	}
}

// TestAthenaMoto runs the whole Athena flow against moto_server: start,
// poll through QUEUED and RUNNING, page the results, pivot to the derived
// keys with a second query. moto does not run SQL; it answers each query
// with the next result set queued through its API, so the test queues what
// Athena would answer: the leaked key's events, then the derived keys'.
func TestAthenaMoto(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	post := motoPost(t, srv.URL)
	// Each query is QUEUED, then RUNNING, then SUCCEEDED, one state per
	// GetQueryExecution, so that keyleak has to poll.
	post("/moto-api/state-manager/set-transition", map[string]any{
		"model_name": "athena::execution", "transition": map[string]any{"progression": "manual", "times": 1},
	})
	recs := roundTrip(t, chainRecords(true))
	wide := trail.Window{Since: chainStart.Add(-time.Hour), Until: chainStart.Add(48 * time.Hour)}
	var results []any
	for _, keys := range [][]string{{leakedKey}, {newKey, sessionKey}} {
		sql, err := trail.AthenaTable{Name: "cloudtrail_logs"}.Query(keys, wide)
		if err != nil {
			t.Fatal(err)
		}
		info, rows := rowsOf(t, recs, sql)
		results = append(results, map[string]any{"rows": rows, "column_info": info})
	}
	post("/moto-api/static/athena/query-results", map[string]any{"results": results, "region": "us-east-1", "account_id": "123456789012"})

	client := athena.NewFromConfig(srv.Config("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"))
	if _, err := client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("responders")}); err != nil {
		t.Fatal(err)
	}
	clk := trailtest.NewClock(chainStart.Add(48 * time.Hour))
	table := trail.AthenaTable{Name: "security.cloudtrail_logs", Workgroup: "responders", OutputLocation: "s3://keyleak-results/athena/", Regions: []string{"us-east-1", "eu-west-1"}}
	inv, err := trail.NewAthena(client, table, trail.WithWindow(chainStart.Add(-24*time.Hour), chainStart.Add(24*time.Hour)), trail.WithClock(clk)).Run(ctx, leakedKey)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range inv.Events {
		got = append(got, e.EventID)
	}
	if want := []string{"e1", "e2", "e3", "e4", "e5"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v; coverage %+v", got, want, inv.Coverage)
	}
	checkRebuilt(t, inv, recs)
	if cov := inv.Coverage.Sources; len(cov) != 1 || cov[0].State != trail.StateOK || cov[0].Pages != 2 || cov[0].Records != 5 || cov[0].Lookups != 3 {
		t.Errorf("coverage %+v", cov)
	}
	if clk.Slept() == 0 {
		t.Error("queries were not polled")
	}
	// moto kept the statements: the second asks for the derived keys.
	list, err := client.ListQueryExecutions(ctx, &athena.ListQueryExecutionsInput{WorkGroup: aws.String("responders")})
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, id := range list.QueryExecutionIds {
		out, err := client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, aws.ToString(out.QueryExecution.Query))
	}
	if len(queries) != 2 || !slices.ContainsFunc(queries, func(q string) bool {
		return strings.Contains(q, "IN ('"+newKey+"', '"+sessionKey+"')") && strings.Contains(q, `FROM "security"."cloudtrail_logs"`)
	}) {
		t.Errorf("moto received:\n%s", strings.Join(queries, "\n\n"))
	}
}
