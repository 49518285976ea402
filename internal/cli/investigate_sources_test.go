package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/keyleak/keyleak/assess"
	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/internal/mototest"
	"github.com/keyleak/keyleak/respond"
	"github.com/keyleak/keyleak/trail"
)

func TestSQLSourceFlagsValidate(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		s    sqlSourceFlags
		logs string
		ok   bool
	}{
		"none":                 {ok: true},
		"athena with output":   {s: sqlSourceFlags{Athena: "db.trail", AthenaOutput: "s3://results/"}, ok: true},
		"athena with group":    {s: sqlSourceFlags{Athena: "trail", AthenaWorkgroup: "responders"}, ok: true},
		"lake by arn":          {s: sqlSourceFlags{Lake: "arn:aws:cloudtrail:eu-west-1:482916503317:eventdatastore/EXAMPLE-f852"}, ok: true},
		"both":                 {s: sqlSourceFlags{Athena: "trail", AthenaWorkgroup: "wg", Lake: "EXAMPLE-f852"}},
		"athena and logs":      {s: sqlSourceFlags{Athena: "trail", AthenaWorkgroup: "wg"}, logs: "./logs"},
		"lake and logs":        {s: sqlSourceFlags{Lake: "EXAMPLE-f852"}, logs: "s3://trail/"},
		"athena nowhere to go": {s: sqlSourceFlags{Athena: "trail"}},
		"output not s3":        {s: sqlSourceFlags{Athena: "trail", AthenaOutput: "/tmp/results"}},
		"group without table":  {s: sqlSourceFlags{AthenaWorkgroup: "wg"}},
		"bad table":            {s: sqlSourceFlags{Athena: "trail; DROP TABLE x", AthenaWorkgroup: "wg"}},
		"bad store":            {s: sqlSourceFlags{Lake: "arn:aws:s3:::trail"}},
		"security lake":        {s: sqlSourceFlags{SecurityLake: true, AthenaWorkgroup: "responders"}, ok: true},
		"security lake link":   {s: sqlSourceFlags{SecurityLake: true, SecurityLakeTable: "sl.cloudtrail_link", AthenaOutput: "s3://r/"}, ok: true},
		"security lake alone":  {s: sqlSourceFlags{SecurityLake: true}},
		"security lake, lake":  {s: sqlSourceFlags{SecurityLake: true, AthenaWorkgroup: "wg", Lake: "EXAMPLE-f852"}},
		"link without lake":    {s: sqlSourceFlags{SecurityLakeTable: "sl.t", AthenaWorkgroup: "wg"}},
		"bad link":             {s: sqlSourceFlags{SecurityLake: true, SecurityLakeTable: "a.b.c", AthenaWorkgroup: "wg"}},
	} {
		err := respond.Source{Logs: c.logs, Athena: c.s.Athena, AthenaWorkgroup: c.s.AthenaWorkgroup,
			AthenaOutput: c.s.AthenaOutput, Lake: c.s.Lake, SecurityLake: c.s.SecurityLake, SecurityLakeTable: c.s.SecurityLakeTable}.Validate()
		if c.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !c.ok && exitCode(err) != ExitUsage {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
}

// TestLakeSourceFindsTheChain runs the --lake source against the
// simulator's event data store, with clients configured for another region
// than the store's: the ARN's region must win.
func TestLakeSourceFindsTheChain(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	sim := srv.Sim
	truth := sim.Truth()
	want := truthOfChain(truth)
	clients := awsapi.NewClients(srv.Config(sim.Responder(), "eu-west-1"))
	now := time.Now().UTC()
	var progress []trail.SourceStatus
	opts := []trail.Option{
		trail.WithWindow(now.Add(-30*24*time.Hour), now.Add(time.Minute)),
		trail.WithBackoff(time.Millisecond, 4*time.Millisecond),
		trail.WithProgress(func(s trail.SourceStatus) { progress = append(progress, s) }),
	}
	inv, err := respond.Source{Lake: sim.EventDataStoreARN()}.Sweep(context.Background(), clients, truth.LeakedKey, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range inv.Events {
		if !want[e.EventID] || got[e.EventID] {
			t.Errorf("event %s (%s by %s): not the chain's, or twice", e.EventID, e.EventName, e.UserIdentity.AccessKeyID)
		}
		got[e.EventID] = true
	}
	if len(got) != len(want) {
		t.Errorf("found %d events, the chain has %d", len(got), len(want))
	}
	if len(inv.Keys) != 1+len(truth.DerivedKeys) || inv.Coverage.Failed() || len(progress) == 0 {
		t.Errorf("keys %+v; coverage %+v; %d progress reports", inv.Keys, inv.Coverage, len(progress))
	}
	// An ID alone goes to the configured region, where the store is not.
	inv, err = respond.Source{Lake: sim.EventDataStoreID()}.Sweep(context.Background(), clients, truth.LeakedKey, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if !inv.Coverage.Failed() || !strings.Contains(inv.Coverage.Summary(), "EventDataStoreNotFoundException") {
		t.Errorf("store queried outside its region: %+v", inv.Coverage)
	}
}

// TestAthenaSourceMoto runs the --athena source against moto: the client is
// made from the configuration, the workgroup and regions reach the query.
func TestAthenaSourceMoto(t *testing.T) {
	t.Parallel()
	srv := mototest.Start(t)
	cfg := srv.Config("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1")
	ctx := context.Background()
	client := athena.NewFromConfig(cfg)
	if _, err := client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("responders")}); err != nil {
		t.Fatal(err)
	}
	s := respond.Source{Athena: "security.trail", AthenaWorkgroup: "responders", AthenaOutput: "s3://results/keyleak/"}
	now := time.Now().UTC()
	inv, err := s.Sweep(ctx, awsapi.NewClients(cfg), "AKIAQLEAKEDEXAMPLE01", []string{"us-east-1", "eu-west-1"},
		trail.WithWindow(now.Add(-72*time.Hour), now), trail.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if cov := inv.Coverage.Sources; len(cov) != 1 || cov[0].Name != "athena:security.trail" || cov[0].State != trail.StateOK || len(inv.Events) != 0 {
		t.Fatalf("coverage %+v, %d events (moto answers no rows)", cov, len(inv.Events))
	}
	list, err := client.ListQueryExecutions(ctx, &athena.ListQueryExecutionsInput{WorkGroup: aws.String("responders")})
	if err != nil || len(list.QueryExecutionIds) != 1 {
		t.Fatalf("executions %+v, %v", list, err)
	}
	out, err := client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(list.QueryExecutionIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	q := aws.ToString(out.QueryExecution.Query)
	if !strings.Contains(q, "region IN ('eu-west-1', 'us-east-1')") || !strings.Contains(q, "'AKIAQLEAKEDEXAMPLE01'") ||
		aws.ToString(out.QueryExecution.ResultConfiguration.OutputLocation) == "" {
		t.Errorf("moto ran %s", q)
	}
}

// TestSecurityLakeSourceMoto runs the --security-lake source against moto:
// the table is Security Lake's own in the configured region, the
// workgroup and regions reach the query, and Sources lists the kind.
func TestSecurityLakeSourceMoto(t *testing.T) {
	t.Parallel()
	srv := mototest.Start(t)
	cfg := srv.Config("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-1")
	ctx := context.Background()
	client := athena.NewFromConfig(cfg)
	if _, err := client.CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String("responders")}); err != nil {
		t.Fatal(err)
	}
	s := respond.Source{SecurityLake: true, AthenaWorkgroup: "responders"}
	if !slices.ContainsFunc(respond.Sources(), func(k respond.SourceKind) bool { return k.ID == s.Kind() }) {
		t.Fatalf("Sources() does not list %q", s.Kind())
	}
	now := time.Now().UTC()
	inv, err := s.Sweep(ctx, awsapi.NewClients(cfg), "AKIAQLEAKEDEXAMPLE01", []string{"eu-west-1"},
		trail.WithWindow(now.Add(-72*time.Hour), now), trail.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if cov := inv.Coverage.Sources; len(cov) != 1 || cov[0].State != trail.StateOK || len(inv.Events) != 0 {
		t.Fatalf("coverage %+v, %d events (moto answers no rows)", cov, len(inv.Events))
	}
	list, err := client.ListQueryExecutions(ctx, &athena.ListQueryExecutionsInput{WorkGroup: aws.String("responders")})
	if err != nil || len(list.QueryExecutionIds) != 1 {
		t.Fatalf("executions %+v, %v", list, err)
	}
	out, err := client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(list.QueryExecutionIds[0])})
	if err != nil {
		t.Fatal(err)
	}
	q := aws.ToString(out.QueryExecution.Query)
	if !strings.Contains(q, `"amazon_security_lake_glue_db_eu_west_1"."amazon_security_lake_table_eu_west_1_cloud_trail_mgmt_2_0"`) ||
		!strings.Contains(q, "region IN ('eu-west-1')") || !strings.Contains(q, "credential_uid IN ('AKIAQLEAKEDEXAMPLE01')") {
		t.Errorf("moto ran %s", q)
	}
}

// keyleak investigate --lake, end to end against the simulator's Lake:
// exactly the chain's events, with verdicts, kept in the case.
func TestInvestigateLakeCommand(t *testing.T) {
	t.Parallel()
	srv := serveScenario(t, "github-push")
	sim := srv.Sim
	r := sim.Responder()
	simAWS(t, srv.URL, r.AccessKeyID, r.Secret)
	truth := sim.Truth()
	code, out, errOut := run(t, "investigate", "--key", truth.LeakedKey, "--lake", sim.EventDataStoreARN(), "--since", "30d",
		"--dir", t.TempDir(), "-o", "json")
	if code != ExitOK {
		t.Fatalf("investigate --lake: exit %d: %s", code, errOut)
	}
	var res assess.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	want := truthOfChain(truth)
	got := map[string]bool{}
	for _, e := range res.Events {
		if !want[e.EventID] || got[e.EventID] {
			t.Errorf("event %s: not the chain's, or twice", e.EventID)
		}
		got[e.EventID] = true
	}
	if len(got) != len(want) {
		t.Errorf("found %d events, the chain has %d", len(got), len(want))
	}
	checkVerdicts(t, truth, res)
}
