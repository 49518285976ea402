package trail_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/trail"
	"github.com/keyleak/keyleak/trail/trailtest"
)

func TestSecurityLakeGolden(t *testing.T) {
	w := trail.Window{Since: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2025, 3, 15, 21, 27, 0, 0, time.UTC)}
	table := trail.SecurityLakeTable{Home: "us-east-1", Workgroup: "responders",
		Regions: []string{"us-east-1", "eu-west-1"}, Accounts: []string{"482916503317", "111122223333"}}
	sql, err := table.Query([]string{leakedKey, sessionKey, newKey}, w)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "securitylake_query.golden", sql+"\n")
	ddl, err := trail.SecurityLakeDDL("security.cloud_trail_mgmt", "s3://aws-security-data-lake-us-east-1-exampleid/aws/CLOUD_TRAIL_MGMT/2.0",
		[]string{"482916503317"}, []string{"us-east-1", "eu-west-1"}, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "securitylake_ddl.golden", ddl)
	for _, bad := range []trail.SecurityLakeTable{
		{Home: "nowhere", Workgroup: "w"},
		{Home: "us-east-1"},
		{Home: "us-east-1", Workgroup: "w", Accounts: []string{"123"}},
		{Name: "a;b", Workgroup: "w"},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("%+v passed the check", bad)
		}
	}
}

// ocsfAlias reads the SELECT list of a Security Lake query: the aliases,
// which are the CloudTrail paths, lower case.
var ocsfAlias = regexp.MustCompile(`AS "([a-z.]+)"`)

// ocsfRows renders records as Security Lake stores them (OCSF 1.1, its
// CloudTrail 2.0 mapping, written independently of the code under test)
// and answers sql with the rows of the keys it names.
func ocsfRows(t *testing.T, recs []map[string]any, sql string) ([]athenatypes.ColumnInfo, []athenatypes.Row) {
	t.Helper()
	var cols []string
	for _, m := range ocsfAlias.FindAllStringSubmatch(sql, -1) {
		cols = append(cols, m[1])
	}
	keys := map[string]bool{}
	in := regexp.MustCompile(`credential_uid IN \(([^)]*)\)`).FindStringSubmatch(sql)
	for _, k := range strings.Split(in[1], ",") {
		keys[strings.Trim(strings.TrimSpace(k), "'")] = true
	}
	millis := func(s any) string {
		at, err := time.Parse(time.RFC3339, s.(string))
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(at.UnixMilli(), 10)
	}
	header := athenatypes.Row{}
	var info []athenatypes.ColumnInfo
	for _, c := range cols {
		info = append(info, athenatypes.ColumnInfo{Name: aws.String(c), Type: aws.String("varchar")})
		header.Data = append(header.Data, athenatypes.Datum{VarCharValue: aws.String(c)})
	}
	rows := []athenatypes.Row{header}
	for _, rec := range recs {
		id := rec["userIdentity"].(map[string]any)
		if !keys[id["accessKeyId"].(string)] {
			continue
		}
		v := map[string]string{}
		for k, x := range rec {
			if s, ok := x.(string); ok {
				v[strings.ToLower(k)] = s
			}
		}
		for k, x := range id {
			if s, ok := x.(string); ok {
				v["useridentity."+strings.ToLower(k)] = s
			}
		}
		if sc, ok := id["sessionContext"].(map[string]any); ok {
			attrs := sc["attributes"].(map[string]any)
			v["useridentity.sessioncontext.attributes.creationdate"] = millis(attrs["creationDate"])
			v["useridentity.sessioncontext.attributes.mfaauthenticated"] = attrs["mfaAuthenticated"].(string)
		}
		v["eventtime"] = millis(rec["eventTime"])
		v["readonly"] = strconv.FormatBool(rec["readOnly"].(bool))
		for _, f := range []string{"requestParameters", "responseElements"} {
			if rec[f] != nil {
				b, _ := json.Marshal(rec[f])
				v[strings.ToLower(f)] = string(b)
			}
		}
		if rs, ok := rec["resources"].([]any); ok {
			var out []map[string]any
			for _, r := range rs {
				r := r.(map[string]any)
				out = append(out, map[string]any{"uid": r["ARN"], "type": r["type"], "account_uid": r["accountId"]})
			}
			b, _ := json.Marshal(out)
			v["resources"] = string(b)
		}
		row := athenatypes.Row{}
		for _, c := range cols {
			d := athenatypes.Datum{}
			if s, ok := v[c]; ok {
				d.VarCharValue = aws.String(s)
			}
			row.Data = append(row.Data, d)
		}
		rows = append(rows, row)
	}
	return info, rows
}

// TestSecurityLakeMoto runs the Security Lake flow against moto_server's
// Athena as TestAthenaMoto runs the Athena one: the leaked key's OCSF rows,
// then its derived keys', rebuilt into the CloudTrail records they came
// from, with the fields the assessment reads.
func TestSecurityLakeMoto(t *testing.T) {
	srv := mototest.Start(t)
	ctx := context.Background()
	post := motoPost(t, srv.URL)
	post("/moto-api/state-manager/set-transition", map[string]any{
		"model_name": "athena::execution", "transition": map[string]any{"progression": "manual", "times": 1},
	})
	recs := roundTrip(t, chainRecords(true))
	wide := trail.Window{Since: chainStart.Add(-time.Hour), Until: chainStart.Add(48 * time.Hour)}
	table := trail.SecurityLakeTable{Home: "us-east-1", Workgroup: "responders", Regions: []string{"us-east-1", "eu-west-1"}}
	var results []any
	for _, keys := range [][]string{{leakedKey}, {newKey, sessionKey}} {
		sql, err := table.Query(keys, wide)
		if err != nil {
			t.Fatal(err)
		}
		info, rows := ocsfRows(t, recs, sql)
		results = append(results, map[string]any{"rows": rows, "column_info": info})
	}
	post("/moto-api/static/athena/query-results", map[string]any{"results": results, "region": "us-east-1", "account_id": "123456789012"})

	client := athena.NewFromConfig(srv.Config("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"))
	if _, err := client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("responders")}); err != nil {
		t.Fatal(err)
	}
	clk := trailtest.NewClock(chainStart.Add(48 * time.Hour))
	inv, err := trail.NewSecurityLake(client, table, trail.WithWindow(chainStart.Add(-24*time.Hour), chainStart.Add(24*time.Hour)), trail.WithClock(clk)).Run(ctx, leakedKey)
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
	if cov := inv.Coverage.Sources; len(cov) != 1 || cov[0].State != trail.StateOK || !strings.HasPrefix(cov[0].Name, "security-lake:") {
		t.Errorf("coverage %+v", cov)
	}
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
		return strings.Contains(q, "credential_uid IN ('"+newKey+"', '"+sessionKey+"')") &&
			strings.Contains(q, `FROM "amazon_security_lake_glue_db_us_east_1"."amazon_security_lake_table_us_east_1_cloud_trail_mgmt_2_0"`)
	}) {
		t.Errorf("moto received:\n%s", strings.Join(queries, "\n\n"))
	}
}
