package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyleak/keyleak/trail"
)

// athenaCmd runs `athena` with args through its constructor.
func athenaCmd(t *testing.T, output outputFormat, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Now: time.Now}
	cmd := newCmdAthena(f, &globalFlags{output: output})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestAthenaDDLCommand(t *testing.T) {
	t.Parallel()
	out, err := athenaCmd(t, outputText, "ddl", "--bucket", "s3://acme-trail/prod", "--account", "482916503317",
		"--regions", "us-east-1,eu-west-1", "--start", "2024-01-01", "--table", "security.trail")
	if err != nil {
		t.Fatal(err)
	}
	want, err := trail.AthenaDDL(trail.DDLOptions{Table: "security.trail", Bucket: "s3://acme-trail/prod", Accounts: []string{"482916503317"},
		Regions: []string{"us-east-1", "eu-west-1"}, Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if out != want {
		t.Fatalf("printed\n%s\nwant\n%s", out, want)
	}
	for _, s := range []string{
		"CREATE EXTERNAL TABLE IF NOT EXISTS `security`.`trail`",
		"LOCATION 's3://acme-trail/prod/AWSLogs/482916503317/CloudTrail/'",
		"'storage.location.template'='s3://acme-trail/prod/AWSLogs/482916503317/CloudTrail/${region}/${timestamp}'",
		"'projection.region.values'='us-east-1,eu-west-1'",
		"'projection.timestamp.range'='2024/01/01,NOW'",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("statement lacks %s", s)
		}
	}

	out, err = athenaCmd(t, outputJSON, "ddl", "--bucket", "s3://org-trail", "--org", "o-a1b2c3d4e5", "--account", "482916503317,111122223333")
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Table, Statement string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if res.Table != "cloudtrail_logs" || !strings.Contains(res.Statement, "'projection.account.values'='482916503317,111122223333'") ||
		!strings.Contains(res.Statement, "AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${timestamp}") {
		t.Errorf("json %+v", res)
	}
}

func TestAthenaDDLSecurityLake(t *testing.T) {
	t.Parallel()
	out, err := athenaCmd(t, outputText, "ddl", "--security-lake", "--bucket", "s3://aws-security-data-lake-us-east-1-exampleid",
		"--account", "482916503317,111122223333", "--regions", "us-east-1", "--table", "security.cloud_trail_mgmt")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"CREATE EXTERNAL TABLE `security`.`cloud_trail_mgmt`",
		"STORED AS PARQUET",
		"LOCATION 's3://aws-security-data-lake-us-east-1-exampleid/aws/CLOUD_TRAIL_MGMT/2.0/'",
		"'projection.accountid.values' = '482916503317,111122223333'",
		"region=${region}/accountId=${accountid}/eventDay=${eventday}/",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("statement lacks %s:\n%s", s, out)
		}
	}
	if _, err := athenaCmd(t, outputText, "ddl", "--security-lake", "--bucket", "s3://lake", "--org", "o-a1b2c3d4e5", "--account", "482916503317"); exitCode(err) != ExitUsage {
		t.Errorf("--org with --security-lake: %v", err)
	}
}

func TestAthenaDDLCommandRefusesBadInput(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"no account":        {"ddl", "--bucket", "s3://b"},
		"two accounts":      {"ddl", "--bucket", "s3://b", "--account", "482916503317,111122223333"},
		"org no accounts":   {"ddl", "--bucket", "s3://b", "--org", "o-a1b2c3d4e5"},
		"bad start":         {"ddl", "--bucket", "s3://b", "--account", "482916503317", "--start", "last year"},
		"not s3":            {"ddl", "--bucket", "https://b", "--account", "482916503317"},
		"bad region":        {"ddl", "--bucket", "s3://b", "--account", "482916503317", "--regions", "mars-1"},
		"bad table":         {"ddl", "--bucket", "s3://b", "--account", "482916503317", "--table", "a-b"},
		"short account ID":  {"ddl", "--bucket", "s3://b", "--account", "4829165033"},
		"malformed org ID":  {"ddl", "--bucket", "s3://b", "--org", "acme", "--account", "482916503317"},
		"bucket with quote": {"ddl", "--bucket", "s3://b'", "--account", "482916503317"},
	} {
		if _, err := athenaCmd(t, outputText, args...); exitCode(err) != ExitUsage {
			t.Errorf("%s: %v (exit %d), want a usage error", name, err, exitCode(err))
		}
	}
	if _, err := athenaCmd(t, outputText, "ddl", "--account", "482916503317"); err == nil {
		t.Error("no --bucket: no error")
	}
}

func TestAthenaDDLFlags(t *testing.T) {
	t.Parallel()
	var got *athenaDDLOptions
	cmd := newCmdAthenaDDL(&Factory{}, &globalFlags{output: outputJSON}, func(o *athenaDDLOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--bucket", "s3://b", "--org", "o-a1b2c3d4e5", "--account", "482916503317", "--account", "111122223333", "--regions", "us-east-1"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Bucket != "s3://b" || got.Org != "o-a1b2c3d4e5" || strings.Join(got.Accounts, ",") != "482916503317,111122223333" ||
		strings.Join(got.Regions, ",") != "us-east-1" || got.Table != "cloudtrail_logs" || got.Output != outputJSON {
		t.Errorf("options %+v", got)
	}
}
