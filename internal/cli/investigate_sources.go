package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/spf13/pflag"

	"github.com/keyleak/keyleak/internal/awsapi"
	"github.com/keyleak/keyleak/trail"
)

// sqlSourceFlags are the flags of `keyleak investigate` that read the
// events with SQL, from a table of the trail's logs in Athena or from a
// CloudTrail Lake event data store, instead of LookupEvents: for events
// older than LookupEvents' 90 days, data events, or an organization's
// accounts at once.
type sqlSourceFlags struct {
	Athena          string
	AthenaWorkgroup string
	AthenaOutput    string
	Lake            string
}

// addFlags declares the flags on investigate's flag set.
func (s *sqlSourceFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&s.Athena, "athena", "", "read the events from this Athena table of the trail's logs (table or database.table; see 'keyleak athena ddl')")
	fl.StringVar(&s.AthenaWorkgroup, "athena-workgroup", "", "Athena workgroup to run the queries in")
	fl.StringVar(&s.AthenaOutput, "athena-output", "", "s3://bucket/prefix for Athena's query results (if the workgroup sets none)")
	fl.StringVar(&s.Lake, "lake", "", "read the events from this CloudTrail Lake event data store (ID or ARN)")
}

// set tells whether a SQL source is chosen.
func (s *sqlSourceFlags) set() bool { return s.Athena != "" || s.Lake != "" }

// validate checks the flags against each other and --logs, before any AWS
// call.
func (s *sqlSourceFlags) validate(logs string) error {
	switch {
	case s.Athena != "" && s.Lake != "":
		return usageErrorf("--athena and --lake are two sources; choose one")
	case s.set() && logs != "":
		return usageErrorf("--logs and --%s are two sources; choose one", map[bool]string{true: "athena", false: "lake"}[s.Athena != ""])
	case s.Athena == "" && (s.AthenaWorkgroup != "" || s.AthenaOutput != ""):
		return usageErrorf("--athena-workgroup and --athena-output need --athena TABLE")
	case s.Athena != "" && s.AthenaWorkgroup == "" && s.AthenaOutput == "":
		return usageErrorf("--athena needs --athena-workgroup WG or --athena-output s3://bucket/prefix for the query results")
	case s.AthenaOutput != "" && !strings.HasPrefix(s.AthenaOutput, "s3://"):
		return usageErrorf("--athena-output must be an s3:// location, not %q", s.AthenaOutput)
	}
	if s.Athena != "" {
		if err := s.athenaTable("").Check(); err != nil {
			return &UsageError{Err: fmt.Errorf("--athena: %w", err)}
		}
	}
	if s.Lake != "" {
		if _, _, err := trail.EventDataStoreID(s.Lake); err != nil {
			return &UsageError{Err: fmt.Errorf("--lake: %w", err)}
		}
	}
	return nil
}

// athenaOrLakeSource runs the chosen SQL source for key with the options
// of the sweep (window, progress, clock). regions is investigate's
// --regions: "all", or the names that bound Athena's region partition.
// The Lake query reads every region of the store.
func athenaOrLakeSource(ctx context.Context, clients *awsapi.Clients, s *sqlSourceFlags, key, regions string, opts []trail.Option) (*trail.Investigation, error) {
	cfg := clients.Config()
	switch {
	case s.Athena != "":
		inv, err := trail.NewAthena(athena.NewFromConfig(cfg), s.athenaTable(regions), opts...).Run(ctx, key)
		return inv, sqlSourceError(inv, err)
	case s.Lake != "":
		_, region, err := trail.EventDataStoreID(s.Lake)
		if err != nil {
			return nil, &UsageError{Err: fmt.Errorf("--lake: %w", err)}
		}
		// A query runs in the store's home region: the ARN's, else the
		// configured one.
		api := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			if region != "" {
				o.Region = region
			}
		})
		inv, err := trail.NewLake(api, s.Lake, opts...).Run(ctx, key)
		return inv, sqlSourceError(inv, err)
	}
	return nil, errors.New("run sql source: neither --athena nor --lake is set")
}

// athenaTable is the table of --athena; regions is investigate's
// --regions, "all" or names that bound the region partition.
func (s *sqlSourceFlags) athenaTable(regions string) trail.AthenaTable {
	t := trail.AthenaTable{Name: s.Athena, Workgroup: s.AthenaWorkgroup, OutputLocation: s.AthenaOutput}
	if regions != "all" {
		for _, r := range strings.Split(regions, ",") {
			if r = strings.TrimSpace(r); r != "" {
				t.Regions = append(t.Regions, r)
			}
		}
	}
	return t
}

// sqlSourceError turns an error before any query (a bad name) into a
// usage error; errors with an investigation are cancellations, kept as
// they are.
func sqlSourceError(inv *trail.Investigation, err error) error {
	if err != nil && inv == nil {
		return &UsageError{Err: err}
	}
	return err
}
