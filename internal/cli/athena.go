package cli

import (
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyleak/keyleak/trail"
)

// athenaDDLOptions are the flags of `keyleak athena ddl`.
type athenaDDLOptions struct {
	Bucket   string
	Org      string
	Accounts []string
	Regions  []string
	Table    string
	Start    string
	Output   outputFormat
	// SecurityLake prints the table of Security Lake's CloudTrail
	// objects (OCSF in Parquet) instead of a trail's.
	SecurityLake bool
}

func newCmdAthena(f *Factory, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "athena",
		Short: "Prepare an Athena table of a trail's log files for 'investigate --athena'",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCmdAthenaDDL(f, g, nil))
	return cmd
}

func newCmdAthenaDDL(f *Factory, g *globalFlags, runF func(*athenaDDLOptions) error) *cobra.Command {
	o := &athenaDDLOptions{}
	cmd := &cobra.Command{
		Use:   "ddl --bucket s3://BUCKET[/PREFIX] --account ID",
		Short: "Print the CREATE TABLE of a trail's logs with partition projection",
		Long: `Print the Athena CREATE EXTERNAL TABLE statement for a trail's log files, with
partition projection by region and day (and by account for an organization
trail), so that no partition ever needs adding and 'keyleak investigate
--athena TABLE' reads only the days and regions it searches. It makes no AWS
call: run the statement in the Athena console or with
'aws athena start-query-execution --query-string file://table.sql'.

An account's own trail:  --bucket s3://BUCKET --account ID
An organization trail:   --bucket s3://BUCKET --org o-… --account ID,ID,…
Security Lake's CloudTrail objects (OCSF 1.1, Parquet), for an account that
reads the lake's bucket without Lake Formation access to Security Lake's own
table ('investigate --security-lake --security-lake-table TABLE' then reads it):
                         --security-lake --bucket s3://aws-security-data-lake-REGION-ID --account ID,ID,…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Output = g.output
			if runF != nil {
				return runF(o)
			}
			return athenaDDLRun(f.IO.Out, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Bucket, "bucket", "", "the trail's bucket: s3://bucket or s3://bucket/prefix (the part before AWSLogs/)")
	fl.StringVar(&o.Org, "org", "", "organization ID (o-…) of an organization trail")
	fl.StringSliceVar(&o.Accounts, "account", nil, "the account ID of the trail; for an organization trail, the member accounts to read")
	fl.StringSliceVar(&o.Regions, "regions", nil, "regions to project (default: every commercial region)")
	fl.StringVar(&o.Table, "table", "cloudtrail_logs", "table to create: table or database.table")
	fl.StringVar(&o.Start, "start", "", "first day of logs to project, yyyy-mm-dd (default: 2013-11-01, CloudTrail's launch)")
	fl.BoolVar(&o.SecurityLake, "security-lake", false, "the table of Amazon Security Lake's CloudTrail management events (OCSF) in --bucket")
	_ = cmd.MarkFlagRequired("bucket")
	return cmd
}

func athenaDDLRun(w io.Writer, o *athenaDDLOptions) error {
	d := trail.DDLOptions{Table: o.Table, Bucket: o.Bucket, Org: o.Org, Accounts: o.Accounts, Regions: o.Regions}
	if o.Start != "" {
		t, err := time.Parse("2006-01-02", o.Start)
		if err != nil {
			return usageErrorf("--start: %q is not a date like 2024-01-31", o.Start)
		}
		d.Start = t
	}
	var ddl string
	var err error
	if o.SecurityLake {
		if o.Org != "" {
			return usageErrorf("--org does not apply to --security-lake: name the accounts the lake holds")
		}
		location := strings.TrimSuffix(o.Bucket, "/")
		if !strings.Contains(location, "/CLOUD_TRAIL_MGMT/") {
			location += "/aws/CLOUD_TRAIL_MGMT/2.0"
		}
		ddl, err = trail.SecurityLakeDDL(o.Table, location, o.Accounts, o.Regions, d.Start)
	} else {
		ddl, err = trail.AthenaDDL(d)
	}
	if err != nil {
		return &UsageError{Err: err}
	}
	return printResult(w, o.Output, map[string]string{"table": o.Table, "statement": ddl}, func() string { return ddl })
}
