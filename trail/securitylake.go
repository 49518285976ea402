package trail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// SecurityLakeTable is Amazon Security Lake's table of CloudTrail
// management events (source version 2.0: OCSF 1.1 API Activity, class
// 6003, in Parquet), queried through Athena. Security Lake partitions it by
// region, account and day; every query names all three, so that Athena
// reads only what can hold the keys' events.
type SecurityLakeTable struct {
	// Name is database.table; "" is Security Lake's own name in Home,
	// amazon_security_lake_glue_db_<home>.amazon_security_lake_table_<home>_cloud_trail_mgmt_2_0.
	// A subscriber queries through a resource link of its own name.
	Name           string
	Home           string // the rollup region the table lives in
	Workgroup      string
	OutputLocation string
	Regions        []string // values of the region partition; none reads all
	Accounts       []string // values of the accountid partition; none reads all
}

// SecurityLakeDefaultTable is Security Lake's name of the CloudTrail
// management events table in a rollup region.
func SecurityLakeDefaultTable(home string) string {
	r := strings.ReplaceAll(home, "-", "_")
	return "amazon_security_lake_glue_db_" + r + ".amazon_security_lake_table_" + r + "_cloud_trail_mgmt_2_0"
}

func (t SecurityLakeTable) table() string {
	if t.Name != "" {
		return t.Name
	}
	return SecurityLakeDefaultTable(t.Home)
}

// Check tells whether the table can be queried as given.
func (t SecurityLakeTable) Check() error {
	if t.Name == "" && !regionName.MatchString(t.Home) {
		return fmt.Errorf("name the Security Lake table or its rollup region (%q is not a region name)", t.Home)
	}
	at := AthenaTable{Name: t.table(), Workgroup: t.Workgroup, OutputLocation: t.OutputLocation, Regions: t.Regions}
	if err := at.Check(); err != nil {
		return err
	}
	for _, a := range t.Accounts {
		if !accountIDPat.MatchString(a) {
			return fmt.Errorf("%q is not an account ID", a)
		}
	}
	return nil
}

// ocsfColumn is a field of the CloudTrail record and where Security Lake
// keeps it in OCSF 1.1.
type ocsfColumn struct {
	expr string // in the OCSF table
	path []string
	kind colKind
}

// ocsfColumns map OCSF back to CloudTrail's record, as Security Lake's
// CloudTrail 2.0 mapping put it there: the fields the investigation and
// the assessment read. Fields Security Lake keeps only in unmapped are read
// from it; readOnly, when absent there too, is CloudTrail's rule on the
// operation's verb (readOnlyOperation).
var ocsfColumns = []ocsfColumn{
	{"metadata.uid", []string{"eventID"}, colText},
	{"metadata.product.version", []string{"eventVersion"}, colText},
	{"time", []string{"eventTime"}, colTime},
	{"api.operation", []string{"eventName"}, colText},
	{"api.service.name", []string{"eventSource"}, colText},
	{"api.version", []string{"apiVersion"}, colText},
	{"cloud.region", []string{"awsRegion"}, colText},
	{"src_endpoint.ip", []string{"sourceIPAddress"}, colText},
	{"http_request.user_agent", []string{"userAgent"}, colText},
	{"api.response.error", []string{"errorCode"}, colText},
	{"api.response.message", []string{"errorMessage"}, colText},
	{"api.request.uid", []string{"requestID"}, colText},
	{"coalesce(api.request.data, element_at(unmapped, 'requestParameters'))", []string{"requestParameters"}, colJSON},
	{"coalesce(api.response.data, element_at(unmapped, 'responseElements'))", []string{"responseElements"}, colJSON},
	{"element_at(unmapped, 'additionalEventData')", []string{"additionalEventData"}, colJSON},
	{"actor.user.type", []string{"userIdentity", "type"}, colText},
	{"actor.user.uid_alt", []string{"userIdentity", "principalId"}, colText},
	{"actor.user.uid", []string{"userIdentity", "arn"}, colText},
	{"actor.user.account.uid", []string{"userIdentity", "accountId"}, colText},
	{"actor.user.credential_uid", []string{"userIdentity", "accessKeyId"}, colText},
	{"actor.user.name", []string{"userIdentity", "userName"}, colText},
	{"actor.invoked_by", []string{"userIdentity", "invokedBy"}, colText},
	{"actor.session.issuer", []string{"userIdentity", "sessionContext", "sessionIssuer", "arn"}, colText},
	{"actor.session.created_time", []string{"userIdentity", "sessionContext", "attributes", "creationDate"}, colTime},
	{"CAST(actor.session.is_mfa AS varchar)", []string{"userIdentity", "sessionContext", "attributes", "mfaAuthenticated"}, colText},
	{"json_format(CAST(resources AS JSON))", []string{"resources"}, colResources},
	{"element_at(unmapped, 'readOnly')", []string{"readOnly"}, colBool},
	{"element_at(unmapped, 'eventType')", []string{"eventType"}, colText},
	{"accountid", []string{"recipientAccountId"}, colText},
}

func (c ocsfColumn) alias() string { return strings.ToLower(strings.Join(c.path, ".")) }

// Query returns the SQL that reads the events of keys in w: the partition
// predicates bound the days (eventday, and the day after until, as Security
// Lake files events by delivery), regions and accounts; time_dt then cuts
// to w exactly.
func (t SecurityLakeTable) Query(keys []string, w Window) (string, error) {
	table, err := quotedTable(t.table(), `"`)
	if err != nil {
		return "", fmt.Errorf("build security lake query: %w", err)
	}
	in, err := keyList(keys)
	if err != nil {
		return "", err
	}
	if w.Since.IsZero() || w.Until.IsZero() {
		return "", fmt.Errorf("build security lake query: the window must be bounded, or every partition is read")
	}
	days := windowDays(w)
	var b strings.Builder
	b.WriteString("SELECT ")
	items := make([]string, len(ocsfColumns))
	for i, c := range ocsfColumns {
		items[i] = c.expr + ` AS "` + c.alias() + `"`
	}
	b.WriteString(strings.Join(items, ",\n       "))
	fmt.Fprintf(&b, "\nFROM %s\nWHERE eventday BETWEEN %s AND %s", table,
		sqlString(days.from.Format("20060102")), sqlString(days.to.Format("20060102")))
	list := func(col string, vals []string, ok func(string) bool, what string) error {
		if len(vals) == 0 {
			return nil
		}
		vals = slices.Clone(vals)
		slices.Sort(vals)
		quoted := make([]string, len(vals))
		for i, v := range vals {
			if !ok(v) {
				return fmt.Errorf("build security lake query: %q is not %s", v, what)
			}
			quoted[i] = sqlString(v)
		}
		fmt.Fprintf(&b, "\n  AND %s IN (%s)", col, strings.Join(quoted, ", "))
		return nil
	}
	if err := list("region", t.Regions, regionName.MatchString, "a region name"); err != nil {
		return "", err
	}
	if err := list("accountid", t.Accounts, accountIDPat.MatchString, "an account ID"); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\n  AND class_uid = 6003")
	fmt.Fprintf(&b, "\n  AND time_dt BETWEEN TIMESTAMP %s AND TIMESTAMP %s",
		sqlString(w.Since.UTC().Format("2006-01-02 15:04:05")), sqlString(w.Until.UTC().Format("2006-01-02 15:04:05")))
	fmt.Fprintf(&b, "\n  AND actor.user.credential_uid IN (%s)", in)
	return b.String(), nil
}

// rebuildOCSF turns a row of the Security Lake query into a CloudTrail
// record and parses it.
func rebuildOCSF(row map[string]string) (Event, error) {
	m := make(map[string]string, len(ocsfColumns))
	for _, c := range ocsfColumns {
		if v, ok := row[c.alias()]; ok {
			m[c.alias()] = v
		}
	}
	if m["readonly"] == "" {
		m["readonly"] = fmt.Sprint(readOnlyOperation(m["eventname"]))
	}
	if issuer := m["useridentity.sessioncontext.sessionissuer.arn"]; issuer != "" {
		// The issuer's name is the last part of its ARN (role/path/name).
		m["useridentity.sessioncontext.sessionissuer.username"] = issuer[strings.LastIndex(issuer, "/")+1:]
	}
	return rebuildRecord(m, func(c recordColumn) colKind {
		for _, o := range ocsfColumns {
			if slices.Equal(o.path, c.path) {
				return o.kind
			}
		}
		if c.name() == "useridentity.sessioncontext.sessionissuer.username" {
			return colText
		}
		return colNone
	})
}

// readOnlyOperation is CloudTrail's readOnly for an operation, from its
// verb, for rows that do not carry it.
func readOnlyOperation(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Head", "BatchGet", "Search"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// SecurityLake reads the events of a key, and of the keys derived from it,
// from Amazon Security Lake's CloudTrail table through Athena: the same
// pivot as the Athena source, over OCSF.
type SecurityLake struct {
	api   AthenaAPI
	table SecurityLakeTable
	cfg   config
}

// NewSecurityLake prepares a scan of Security Lake's CloudTrail table.
// Options that apply are NewAthena's.
func NewSecurityLake(api AthenaAPI, table SecurityLakeTable, opts ...Option) *SecurityLake {
	return &SecurityLake{api: api, table: table, cfg: newConfig(opts)}
}

// Run queries the events of key and follows derived keys, one query per
// round of new keys. The coverage has one source, "security-lake:<table>",
// whose Bytes are the bytes Athena scanned.
func (s *SecurityLake) Run(ctx context.Context, key string) (*Investigation, error) {
	if err := s.table.Check(); err != nil {
		return nil, fmt.Errorf("query security lake: %w", err)
	}
	a := &Athena{api: s.api, table: AthenaTable{Workgroup: s.table.Workgroup, OutputLocation: s.table.OutputLocation}, cfg: s.cfg}
	run := func(ctx context.Context, r *queryRun, keys []string, w Window) ([]Event, error) {
		sql, err := s.table.Query(keys, w)
		if err != nil {
			return nil, err
		}
		return a.run(ctx, r, sql, rebuildOCSF)
	}
	inv, err := pivotQueries(ctx, s.cfg, "security-lake:"+strings.ToLower(s.table.table()), key, run)
	if err != nil {
		return inv, fmt.Errorf("query security lake: %w", err)
	}
	return inv, nil
}

// SecurityLakeDDL returns the CREATE EXTERNAL TABLE statement of the part of
// Security Lake's CloudTrail 2.0 table that keyleak reads, over the lake's
// bucket (s3://aws-security-data-lake-<region>-<id>/aws/CLOUD_TRAIL_MGMT/2.0/),
// with partition projection by region, account and day: for an account
// that reads a copy of the lake's objects without Lake Formation access to
// Security Lake's own table, and for tests.
func SecurityLakeDDL(table, location string, accounts, regions []string, start time.Time) (string, error) {
	name, err := quotedTable(table, "`")
	if err != nil {
		return "", fmt.Errorf("security lake ddl: %w", err)
	}
	if !strings.HasPrefix(location, "s3://") {
		return "", fmt.Errorf("security lake ddl: location %q is not an s3:// location", location)
	}
	location = strings.TrimSuffix(location, "/") + "/"
	if len(accounts) == 0 {
		return "", fmt.Errorf("security lake ddl: name the accounts whose events the lake holds")
	}
	for _, a := range accounts {
		if !accountIDPat.MatchString(a) {
			return "", fmt.Errorf("security lake ddl: %q is not an account ID", a)
		}
	}
	if len(regions) == 0 {
		regions = KnownRegions
	}
	for _, r := range regions {
		if !regionName.MatchString(r) {
			return "", fmt.Errorf("security lake ddl: %q is not a region name", r)
		}
	}
	if start.IsZero() {
		start = time.Date(2023, 5, 30, 0, 0, 0, 0, time.UTC) // Security Lake's general availability
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE %s (\n", name)
	b.WriteString(`  metadata struct<uid:string, version:string, product:struct<name:string, vendor_name:string, version:string>>,
  time bigint,
  time_dt timestamp,
  class_uid int,
  cloud struct<region:string, provider:string>,
  api struct<operation:string, version:string, service:struct<name:string>,
             request:struct<uid:string, data:string>,
             response:struct<error:string, message:string, data:string>>,
  actor struct<user:struct<type:string, uid:string, uid_alt:string, name:string, credential_uid:string,
                           account:struct<uid:string>>,
               session:struct<issuer:string, created_time:bigint, is_mfa:boolean>,
               invoked_by:string>,
  src_endpoint struct<ip:string, domain:string>,
  http_request struct<user_agent:string>,
  resources array<struct<uid:string, type:string, account_uid:string>>,
  unmapped map<string,string>
)
PARTITIONED BY (region string, accountid string, eventday string)
STORED AS PARQUET
`)
	fmt.Fprintf(&b, "LOCATION '%s'\nTBLPROPERTIES (\n", location)
	fmt.Fprintf(&b, "  'projection.enabled' = 'true',\n")
	fmt.Fprintf(&b, "  'projection.region.type' = 'enum',\n  'projection.region.values' = '%s',\n", strings.Join(regions, ","))
	fmt.Fprintf(&b, "  'projection.accountid.type' = 'enum',\n  'projection.accountid.values' = '%s',\n", strings.Join(accounts, ","))
	fmt.Fprintf(&b, "  'projection.eventday.type' = 'date',\n  'projection.eventday.format' = 'yyyyMMdd',\n")
	fmt.Fprintf(&b, "  'projection.eventday.range' = '%s,NOW',\n  'projection.eventday.interval' = '1',\n  'projection.eventday.interval.unit' = 'DAYS',\n", start.Format("20060102"))
	fmt.Fprintf(&b, "  'storage.location.template' = '%sregion=${region}/accountId=${accountid}/eventDay=${eventday}/'\n);\n", location)
	return b.String(), nil
}

// run starts sql, waits for it and turns its rows into events with
// rebuild. The Athena and Security Lake sources share it.
func (a *Athena) run(ctx context.Context, r *queryRun, sql string, rebuild func(map[string]string) (Event, error)) ([]Event, error) {
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(sql)}
	if a.table.Workgroup != "" {
		in.WorkGroup = aws.String(a.table.Workgroup)
	}
	if a.table.OutputLocation != "" {
		in.ResultConfiguration = &athenatypes.ResultConfiguration{OutputLocation: aws.String(a.table.OutputLocation)}
	}
	start, err := a.api.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("start query: %w", err)
	}
	id := start.QueryExecutionId
	if err := a.await(ctx, r, id); err != nil {
		return nil, err
	}
	var events []Event
	var columns []string
	page := &athena.GetQueryResultsInput{QueryExecutionId: id, MaxResults: aws.Int32(athenaPageSize)}
	for first := true; ; first = false {
		out, err := a.api.GetQueryResults(ctx, page)
		if err != nil {
			return events, fmt.Errorf("get query results: %w", err)
		}
		r.status.Pages++
		if out.ResultSet == nil {
			return events, fmt.Errorf("get query results: the answer has no result set")
		}
		rows := out.ResultSet.Rows
		if first {
			if md := out.ResultSet.ResultSetMetadata; md != nil {
				for _, c := range md.ColumnInfo {
					columns = append(columns, strings.ToLower(aws.ToString(c.Name)))
				}
			}
			// Athena answers a SELECT with the column names as its first row.
			if len(rows) > 0 && isHeader(rows[0], columns) {
				rows = rows[1:]
			}
		}
		for _, row := range rows {
			r.status.Records++
			m := make(map[string]string, len(row.Data))
			for i, d := range row.Data {
				if i < len(columns) && d.VarCharValue != nil {
					m[columns[i]] = *d.VarCharValue
				}
			}
			e, err := rebuild(m)
			if err != nil {
				continue // rebuilding makes JSON objects; nothing to lose here
			}
			events = append(events, e)
		}
		r.emit()
		if aws.ToString(out.NextToken) == "" {
			return events, nil
		}
		page.NextToken = out.NextToken
	}
}
