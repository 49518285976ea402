package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// lakeSQL is a query of the accepted shape over the fixture's store.
func lakeSQL(eds string, since, until time.Time, keys ...string) string {
	quoted := make([]string, len(keys))
	for i, k := range keys {
		quoted[i] = "'" + k + "'"
	}
	return fmt.Sprintf(`SELECT eventID, eventTime, eventName, awsRegion, readOnly,
  userIdentity.accessKeyId AS "userIdentity.accessKeyId", userIdentity.sessionContext.attributes.creationDate AS created,
  json_format(CAST(requestParameters AS JSON)) AS requestParameters,
  json_format(CAST(responseElements AS JSON)) AS responseElements,
  json_format(CAST(resources AS JSON)) AS resources
FROM %s
WHERE eventTime >= '%s' AND eventTime <= '%s' AND userIdentity.accessKeyId IN (%s)
ORDER BY eventTime ASC`, eds, since.Format("2006-01-02 15:04:05"), until.Format("2006-01-02 15:04:05"), strings.Join(quoted, ", "))
}

// lakeRows runs a query to its end as a client must: poll, then page.
func lakeRows(t *testing.T, c *cloudtrail.Client, stmt string, pageSize int32) ([]map[string]string, *types.QueryStatisticsForDescribeQuery, int) {
	t.Helper()
	ctx := context.Background()
	start, err := c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(stmt)})
	if err != nil {
		t.Fatalf("start query: %v", err)
	}
	var states []types.QueryStatus
	var stats *types.QueryStatisticsForDescribeQuery
	for len(states) < 10 {
		d, err := c.DescribeQuery(ctx, &cloudtrail.DescribeQueryInput{QueryId: start.QueryId})
		if err != nil {
			t.Fatalf("describe query: %v", err)
		}
		states = append(states, d.QueryStatus)
		if d.QueryStatus == types.QueryStatusFinished {
			stats = d.QueryStatistics
			break
		}
	}
	if !slices.Equal(states, []types.QueryStatus{types.QueryStatusRunning, types.QueryStatusFinished}) {
		t.Fatalf("states polled: %v", states)
	}
	var rows []map[string]string
	pages := 0
	in := &cloudtrail.GetQueryResultsInput{QueryId: start.QueryId, MaxQueryResults: aws.Int32(pageSize)}
	for {
		out, err := c.GetQueryResults(ctx, in)
		if err != nil {
			t.Fatalf("get query results: %v", err)
		}
		pages++
		for _, r := range out.QueryResultRows {
			m := map[string]string{}
			for _, col := range r {
				for k, v := range col {
					m[k] = v
				}
			}
			rows = append(rows, m)
		}
		if aws.ToString(out.NextToken) == "" {
			return rows, stats, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		in.NextToken = out.NextToken
	}
}

func TestLakeQueryReadsEveryRegionAndPages(t *testing.T) {
	f := newCTFixture(t)
	if err := f.sim.AddVolume(200, f.app.AccessKeyID, 5, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	now := f.clk.now()
	sess := f.recordEvent(t, f.app, Call{Service: "sts", Action: "GetSessionToken", Region: "eu-west-1", Time: now.Add(-time.Hour)},
		&Result{Response: map[string]any{"credentials": map[string]any{"accessKeyId": "ASIAEXAMPLEEXAMPLE01", "expiration": "Mar 15, 2025, 6:00:00 AM"}}})
	since, until := now.Add(-72*time.Hour), now
	want := map[string]string{} // event ID -> region
	regions := map[string]bool{}
	bytesInRange := 0
	for _, e := range f.sim.Truth().Events {
		if !e.EventTime.Before(since) && !e.EventTime.After(until) && e.AccessKeyID == f.app.AccessKeyID {
			want[e.EventID] = e.Region
			regions[e.Region] = true
		}
	}
	for _, r := range f.sim.acct.Regions {
		for _, e := range f.sim.acct.regions[r.Name].Trail.events {
			if !e.Time.Before(since) && !e.Time.After(until) {
				bytesInRange += len(e.Raw)
			}
		}
	}
	if len(regions) < 3 || len(want) < 50 {
		t.Fatalf("the volume spread %d events over %d regions; the test needs more", len(want), len(regions))
	}
	rows, stats, pages := lakeRows(t, f.client("us-east-1"), lakeSQL(f.sim.EventDataStoreID(), since, until, f.app.AccessKeyID, "ASIANOSUCHKEYEXAMPLE"), 7)
	if pages != (len(want)+6)/7 {
		t.Errorf("%d pages for %d rows of 7", pages, len(want))
	}
	if got := aws.ToInt64(stats.EventsMatched); got != int64(len(want)) {
		t.Errorf("EventsMatched %d, want %d", got, len(want))
	}
	if got := aws.ToInt64(stats.BytesScanned); got != int64(bytesInRange) {
		t.Errorf("BytesScanned %d, want %d (every record in the time range)", got, bytesInRange)
	}
	var last string
	for _, r := range rows {
		id := r["eventid"]
		region, ok := want[id]
		if !ok {
			t.Fatalf("row %v is not an event of the key in the window", r)
		}
		delete(want, id)
		if r["awsregion"] != region || r["useridentity.accesskeyid"] != f.app.AccessKeyID {
			t.Errorf("row %s: region %q key %q", id, r["awsregion"], r["useridentity.accesskeyid"])
		}
		if _, err := time.Parse("2006-01-02 15:04:05.000", r["eventtime"]); err != nil || r["eventtime"] < last {
			t.Errorf("row %s: eventTime %q not a Lake timestamp in ascending order", id, r["eventtime"])
		}
		last = r["eventtime"]
		if r["readonly"] != "true" && r["readonly"] != "false" {
			t.Errorf("row %s: readOnly %q", id, r["readonly"])
		}
		if id != sess.ID {
			continue
		}
		// responseElements is a map<string,string>: the credentials object
		// comes back as JSON text inside a string.
		var resp map[string]string
		if err := json.Unmarshal([]byte(r["responseelements"]), &resp); err != nil {
			t.Fatalf("responseElements %q: %v", r["responseelements"], err)
		}
		var creds map[string]string
		if err := json.Unmarshal([]byte(resp["credentials"]), &creds); err != nil || creds["accessKeyId"] != "ASIAEXAMPLEEXAMPLE01" {
			t.Errorf("credentials %q: %v", resp["credentials"], err)
		}
		if _, ok := r["requestparameters"]; ok {
			t.Errorf("null requestParameters rendered as %q", r["requestparameters"])
		}
	}
	if len(want) > 0 {
		t.Errorf("%d events of the key missing from the results", len(want))
	}
}

func TestLakeRejectsWhatItDoesNotUnderstand(t *testing.T) {
	f := newCTFixture(t)
	ctx := context.Background()
	eds := f.sim.EventDataStoreID()
	now := f.clk.now()
	good := lakeSQL(eds, now.Add(-time.Hour), now, f.app.AccessKeyID)
	c := f.client("us-east-1")
	for name, stmt := range map[string]string{
		"select star":      strings.Replace(good, "SELECT eventID,", "SELECT *,", 1),
		"unknown column":   strings.Replace(good, "eventName,", "eventNom,", 1),
		"struct unwrapped": strings.Replace(good, "eventName,", "userIdentity,", 1),
		"map field":        strings.Replace(good, "eventName,", "requestParameters.userName,", 1),
		"other condition":  strings.Replace(good, "AND userIdentity", "AND eventName = 'x' AND userIdentity", 1),
		"no key filter":    strings.Replace(good, "AND userIdentity.accessKeyId IN ('"+f.app.AccessKeyID+"')", "", 1),
		"no upper bound":   strings.Replace(good, "AND eventTime <=", "AND eventTime >=", 1),
		"bad time":         strings.Replace(good, now.Format("2006-01-02 15:04:05"), "yesterday", 1),
		"trailing junk":    good + " LIMIT 5",
		"group by":         strings.Replace(good, "ORDER BY eventTime ASC", "GROUP BY eventName", 1),
		"update":           "UPDATE " + eds + " SET eventName = 'x'",
		"unterminated":     strings.Replace(good, "'"+f.app.AccessKeyID+"'", "'"+f.app.AccessKeyID, 1),
	} {
		_, err := c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(stmt)})
		if apiCode(err) != "InvalidQueryStatementException" {
			t.Errorf("%s: got %v, want InvalidQueryStatementException", name, err)
		}
	}
	if _, err := c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(strings.Replace(good, eds, "00000000-0000-4000-8000-000000000000", 1))}); apiCode(err) != "EventDataStoreNotFoundException" {
		t.Errorf("unknown store: %v", err)
	}
	if _, err := f.client("eu-west-1").StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(good)}); apiCode(err) != "EventDataStoreNotFoundException" {
		t.Errorf("store outside its home region: %v", err)
	}
	if _, err := c.DescribeQuery(ctx, &cloudtrail.DescribeQueryInput{QueryId: aws.String("nope")}); apiCode(err) != "QueryIdNotFoundException" {
		t.Errorf("unknown query: %v", err)
	}
	start, err := c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(good)})
	if err != nil {
		t.Fatal(err)
	}
	// Results are not there before the query finished; polling
	// GetQueryResults alone gets there too, and the answer that says
	// FINISHED has the rows.
	if err := f.sim.AddVolume(20, f.app.AccessKeyID, 3, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	start, err = c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(good)})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []types.QueryStatus
	var rows []int
	for range 3 {
		out, err := c.GetQueryResults(ctx, &cloudtrail.GetQueryResultsInput{QueryId: start.QueryId, EventDataStore: aws.String(f.sim.EventDataStoreARN())})
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, out.QueryStatus)
		rows = append(rows, len(out.QueryResultRows))
	}
	if !slices.Equal(statuses, []types.QueryStatus{types.QueryStatusRunning, types.QueryStatusFinished, types.QueryStatusFinished}) ||
		rows[0] != 0 || rows[1] == 0 || rows[1] != rows[2] {
		t.Errorf("statuses %v with %v rows", statuses, rows)
	}
	if _, err := c.GetQueryResults(ctx, &cloudtrail.GetQueryResultsInput{QueryId: start.QueryId, NextToken: aws.String("AAAA")}); apiCode(err) != "InvalidNextTokenException" {
		t.Errorf("forged token: %v", err)
	}
	if _, err := c.GetQueryResults(ctx, &cloudtrail.GetQueryResultsInput{QueryId: start.QueryId, MaxQueryResults: aws.Int32(1001)}); apiCode(err) != "InvalidMaxResultsException" {
		t.Errorf("page too large: %v", err)
	}
}

func TestLakeEventDataStoreIsStablePerAccount(t *testing.T) {
	a, b := New(), New(WithAccountID("210987654321"))
	if a.EventDataStoreID() == b.EventDataStoreID() || a.EventDataStoreID() != New().EventDataStoreID() {
		t.Fatalf("store IDs %s, %s", a.EventDataStoreID(), b.EventDataStoreID())
	}
	if want := "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/" + a.EventDataStoreID(); a.EventDataStoreARN() != want {
		t.Fatalf("ARN %s, want %s", a.EventDataStoreARN(), want)
	}
}
