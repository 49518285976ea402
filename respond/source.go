package respond

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/trail"
)

// Source is where an investigation reads CloudTrail events: one of the
// kinds in Sources. Exactly one of its location fields is set.
type Source struct {
	// Logs is a directory of log files or s3://bucket/prefix.
	Logs string
	// Athena is a table of the trail's logs (table or database.table),
	// queried in AthenaWorkgroup or with results to AthenaOutput.
	Athena          string
	AthenaWorkgroup string
	AthenaOutput    string
	// Lake is a CloudTrail Lake event data store (ID or ARN).
	Lake string
	// SecurityLake reads Amazon Security Lake's CloudTrail table through
	// Athena (AthenaWorkgroup or AthenaOutput), named SecurityLakeTable or
	// by Security Lake's own name in the configured region.
	SecurityLake      bool
	SecurityLakeTable string
	// Org follows the key across its organization through each account's
	// LookupEvents, assuming RoleName in accounts other than the
	// responder's.
	Org      bool
	RoleName string
	// With none of the above set, the source is LookupEvents in every
	// enabled region of the responder's account.
}

// SourceKind names an investigation source for the front ends' menus.
type SourceKind struct {
	ID    string // "api", "logs", "s3", "athena", "security-lake", "lake", "org"
	Title string
	// Needs says what the responder must give ("" for nothing).
	Needs string
}

// Sources is the one list of investigation sources; the runbook offers
// each, the commands take a flag for each.
func Sources() []SourceKind {
	return []SourceKind{
		{ID: "api", Title: "CloudTrail LookupEvents, every region (last 90 days, management events)"},
		{ID: "logs", Title: "CloudTrail log files in a directory", Needs: "directory"},
		{ID: "s3", Title: "CloudTrail log files in S3", Needs: "s3://bucket/prefix"},
		{ID: "athena", Title: "an Athena table of the trail's logs", Needs: "table and workgroup or output location"},
		{ID: "security-lake", Title: "Amazon Security Lake's CloudTrail table, through Athena", Needs: "workgroup or output location"},
		{ID: "lake", Title: "a CloudTrail Lake event data store", Needs: "event data store ID or ARN"},
		{ID: "org", Title: "LookupEvents across the key's organization", Needs: "role name in member accounts"},
	}
}

// Kind returns the source's ID in Sources.
func (s Source) Kind() string {
	switch {
	case strings.HasPrefix(s.Logs, "s3://"):
		return "s3"
	case s.Logs != "":
		return "logs"
	case s.Athena != "":
		return "athena"
	case s.SecurityLake:
		return "security-lake"
	case s.Lake != "":
		return "lake"
	case s.Org:
		return "org"
	}
	return "api"
}

// Local reports whether the source reads nothing from AWS (log files in a
// directory).
func (s Source) Local() bool { return s.Kind() == "logs" }

// Validate checks the source's fields against each other, before any AWS
// call.
func (s Source) Validate() error {
	set := 0
	for _, on := range []bool{s.Logs != "", s.Athena != "", s.SecurityLake, s.Lake != "", s.Org} {
		if on {
			set++
		}
	}
	switch {
	case set > 1:
		return Usagef("choose one source of events: log files, an Athena table, Security Lake, a Lake store, or the organization")
	case s.SecurityLakeTable != "" && !s.SecurityLake:
		return Usagef("--security-lake-table needs --security-lake")
	case s.Athena == "" && !s.SecurityLake && (s.AthenaWorkgroup != "" || s.AthenaOutput != ""):
		return Usagef("--athena-workgroup and --athena-output need --athena TABLE or --security-lake")
	case s.Athena != "" && s.AthenaWorkgroup == "" && s.AthenaOutput == "":
		return Usagef("--athena needs --athena-workgroup WG or --athena-output s3://bucket/prefix for the query results")
	case s.SecurityLake && s.AthenaWorkgroup == "" && s.AthenaOutput == "":
		return Usagef("--security-lake needs --athena-workgroup WG or --athena-output s3://bucket/prefix for the query results")
	case s.AthenaOutput != "" && !strings.HasPrefix(s.AthenaOutput, "s3://"):
		return Usagef("--athena-output must be an s3:// location, not %q", s.AthenaOutput)
	}
	if s.Local() {
		// A path that is not there is the user's to fix, like a file that
		// holds no logs: the same exit code, and no case made for it.
		if _, err := os.Stat(s.Logs); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return Usagef("--logs %s does not exist: give a directory or file of CloudTrail logs, or s3://bucket/prefix", s.Logs)
			}
			return &UsageError{Err: fmt.Errorf("--logs: %w", err)}
		}
		files, err := trail.DirLogs(s.Logs).List(context.Background(), trail.Window{})
		if err != nil {
			return &UsageError{Err: fmt.Errorf("--logs: %w", err)}
		}
		if len(files) == 0 {
			return Usagef("no CloudTrail log files (.json, .json.gz, .jsonl) in %s", s.Logs)
		}
	}
	if s.Athena != "" {
		if err := s.athenaTable(nil).Check(); err != nil {
			return &UsageError{Err: fmt.Errorf("--athena: %w", err)}
		}
	}
	if s.SecurityLake && s.SecurityLakeTable != "" {
		if err := s.securityLakeTable("", nil).Check(); err != nil {
			return &UsageError{Err: fmt.Errorf("--security-lake-table: %w", err)}
		}
	}
	if s.Lake != "" {
		if _, _, err := trail.EventDataStoreID(s.Lake); err != nil {
			return &UsageError{Err: fmt.Errorf("--lake: %w", err)}
		}
	}
	return nil
}

func (s Source) athenaTable(regions []string) trail.AthenaTable {
	return trail.AthenaTable{Name: s.Athena, Workgroup: s.AthenaWorkgroup, OutputLocation: s.AthenaOutput, Regions: regions}
}

func (s Source) securityLakeTable(home string, regions []string) trail.SecurityLakeTable {
	return trail.SecurityLakeTable{Name: s.SecurityLakeTable, Home: home, Workgroup: s.AthenaWorkgroup, OutputLocation: s.AthenaOutput, Regions: regions}
}

// sweeper is what every source is: it finds the key's events and those of
// the credentials derived from it.
type sweeper interface {
	Run(ctx context.Context, key string) (*trail.Investigation, error)
}

// logScan adapts trail.ScanLogs to sweeper.
type logScan struct {
	src  trail.LogSource
	opts []trail.Option
}

func (l logScan) Run(ctx context.Context, key string) (*trail.Investigation, error) {
	inv, err := trail.ScanLogs(ctx, l.src, key, l.opts...)
	if errors.Is(err, trail.ErrNoLogFiles) {
		return nil, &UsageError{Err: errors.New("no CloudTrail log files (.json, .json.gz, .jsonl) there")}
	}
	return inv, err
}

// openedSource is a source ready to run, with what the assessment needs to
// know about where it looked.
type openedSource struct {
	sweeper
	// enabled are the regions searched through the API (GuardDuty is
	// searched in them); nil for other sources.
	enabled []string
	// org is set for an organization sweep: the accounts reached and the
	// key's own account.
	org        *orgAccess
	keyAccount string
}

// open makes the source for key. clients may be nil only for a local
// source. wrap, when set, wraps each region's LookupEvents client (the
// runbook watches derived keys appear).
func (s Source) open(ctx context.Context, clients *awsapi.Clients, key string, regions []string, opts []trail.Option,
	wrap func(region string, c cloudtrail.LookupEventsAPIClient) cloudtrail.LookupEventsAPIClient, h Hooks) (*openedSource, *awsapi.Clients, error) {
	switch s.Kind() {
	case "logs":
		return &openedSource{sweeper: logScan{src: trail.DirLogs(s.Logs), opts: opts}}, clients, nil
	case "s3":
		src, err := trail.NewS3Logs(clients.S3(""), s.Logs)
		if err != nil {
			return nil, clients, &UsageError{Err: err}
		}
		return &openedSource{sweeper: logScan{src: src, opts: opts}}, clients, nil
	case "athena":
		return &openedSource{sweeper: trail.NewAthena(athena.NewFromConfig(clients.Config()), s.athenaTable(regions), opts...)}, clients, nil
	case "security-lake":
		// Security Lake's table is named after its rollup region: the
		// configured one, where the queries run.
		cfg := clients.Config()
		table := s.securityLakeTable(cfg.Region, regions)
		if err := table.Check(); err != nil {
			return nil, clients, &UsageError{Err: fmt.Errorf("--security-lake: %w", err)}
		}
		return &openedSource{sweeper: trail.NewSecurityLake(athena.NewFromConfig(cfg), table, opts...)}, clients, nil
	case "lake":
		_, region, err := trail.EventDataStoreID(s.Lake)
		if err != nil {
			return nil, clients, &UsageError{Err: fmt.Errorf("--lake: %w", err)}
		}
		// A query runs in the store's home region: the ARN's, else the
		// configured one.
		api := cloudtrail.NewFromConfig(clients.Config(), func(o *cloudtrail.Options) {
			if region != "" {
				o.Region = region
			}
		})
		return &openedSource{sweeper: trail.NewLake(api, s.Lake, opts...)}, clients, nil
	case "org":
		role := s.RoleName
		if role == "" {
			role = DefaultOrgRole
		}
		access, keyAccount, keyClients, err := openKeyAccount(ctx, clients, key, role)
		if err != nil {
			return nil, clients, err
		}
		if h.Note != nil {
			var b strings.Builder
			describeOrg(ctx, &b, keyClients)
			h.note("%s", strings.TrimSpace(b.String()))
		}
		return &openedSource{sweeper: trail.NewOrgSweep(keyAccount, access.opener(regions), opts), org: access, keyAccount: keyAccount}, keyClients, nil
	}
	known, err := trail.ListRegions(ctx, clients.EC2(""))
	if err != nil {
		return nil, clients, fmt.Errorf("list regions: %w", err)
	}
	selected, err := trail.SelectRegions(known, regions)
	if err != nil {
		return nil, clients, &UsageError{Err: err}
	}
	var enabled []string
	for _, r := range selected {
		if r.Enabled {
			enabled = append(enabled, r.Name)
		}
	}
	sweep := trail.NewSweep(selected, func(region string) cloudtrail.LookupEventsAPIClient {
		var c cloudtrail.LookupEventsAPIClient = clients.CloudTrail(region)
		if wrap != nil {
			c = wrap(region, c)
		}
		return c
	}, opts...)
	return &openedSource{sweeper: sweep, enabled: enabled}, clients, nil
}

// Sweep runs the source for key and returns what it found, keeping nothing:
// the collector alone, without a case or an assessment. regions narrows the
// API sweep and Athena's partitions (nil: all).
func (s Source) Sweep(ctx context.Context, clients *awsapi.Clients, key string, regions []string, opts ...trail.Option) (*trail.Investigation, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	src, _, err := s.open(ctx, clients, key, regions, opts, nil, Hooks{})
	if err != nil {
		return nil, err
	}
	inv, err := src.Run(ctx, key)
	if inv == nil && err != nil && (s.Athena != "" || s.SecurityLake || s.Lake != "") {
		var usage *UsageError
		if !errors.As(err, &usage) && !errors.Is(err, context.Canceled) {
			err = &UsageError{Err: err}
		}
	}
	return inv, err
}
