package trail

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// AthenaAPI is what an Athena scan needs of an Athena client.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, params *athena.StartQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, params *athena.GetQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, params *athena.GetQueryResultsInput, optFns ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

// AthenaTable is a table of CloudTrail logs in Athena, as `keyleak athena
// ddl` creates it (partitions projected by region and day), and where its
// queries run.
type AthenaTable struct {
	Name           string   // table, or database.table
	Workgroup      string   // "" is the caller's default (primary)
	OutputLocation string   // s3://bucket/prefix for the results; "" leaves it to the workgroup
	Regions        []string // values of the region partition to read; none reads all
}

// athenaPageSize is GetQueryResults' largest page.
const athenaPageSize = 1000

var (
	athenaIdent  = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	regionName   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountIDPat = regexp.MustCompile(`^[0-9]{12}$`)
	orgIDPat     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// quotedTable checks a [database.]table name and quotes it for Athena's
// SQL (DML quotes identifiers with "), lower case as Athena stores them.
func quotedTable(name, quote string) (string, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return "", fmt.Errorf("table %q: want table or database.table", name)
	}
	for i, p := range parts {
		if !athenaIdent.MatchString(p) {
			return "", fmt.Errorf("table %q: names are letters, digits and _", name)
		}
		parts[i] = quote + strings.ToLower(p) + quote
	}
	return strings.Join(parts, "."), nil
}

// Check tells whether the table can be queried as given: a valid name and
// region names, and somewhere for the results to go.
func (t AthenaTable) Check() error {
	if _, err := quotedTable(t.Name, `"`); err != nil {
		return err
	}
	for _, r := range t.Regions {
		if !regionName.MatchString(r) {
			return fmt.Errorf("%q is not a region name", r)
		}
	}
	switch {
	case t.Workgroup == "" && t.OutputLocation == "":
		return fmt.Errorf("name a workgroup or an s3:// output location for the results")
	case t.OutputLocation != "" && !strings.HasPrefix(t.OutputLocation, "s3://"):
		return fmt.Errorf("output location %q is not an s3:// location", t.OutputLocation)
	}
	return nil
}

// Query returns the SQL that reads the events of keys in w. The partition
// predicates bound what Athena reads: "timestamp" to the days of w (and the
// day after until, since a file is delivered minutes after its events),
// region to t.Regions; eventtime then cuts to w exactly. CloudTrail's
// eventtime is always "yyyy-MM-ddTHH:mm:ssZ", so comparing the strings
// compares the times.
func (t AthenaTable) Query(keys []string, w Window) (string, error) {
	table, err := quotedTable(t.Name, `"`)
	if err != nil {
		return "", fmt.Errorf("build athena query: %w", err)
	}
	in, err := keyList(keys)
	if err != nil {
		return "", err
	}
	if w.Since.IsZero() || w.Until.IsZero() {
		return "", fmt.Errorf("build athena query: the window must be bounded, or every partition is read")
	}
	days := windowDays(w)
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(selectList(athenaKind, athenaExpr))
	fmt.Fprintf(&b, "\nFROM %s\nWHERE \"timestamp\" BETWEEN %s AND %s", table,
		sqlString(days.from.Format("2006/01/02")), sqlString(days.to.Format("2006/01/02")))
	if len(t.Regions) > 0 {
		regions := slices.Clone(t.Regions)
		slices.Sort(regions)
		quoted := make([]string, len(regions))
		for i, r := range regions {
			if !regionName.MatchString(r) {
				return "", fmt.Errorf("build athena query: %q is not a region name", r)
			}
			quoted[i] = sqlString(r)
		}
		fmt.Fprintf(&b, "\n  AND region IN (%s)", strings.Join(quoted, ", "))
	}
	fmt.Fprintf(&b, "\n  AND eventtime >= %s AND eventtime <= %s", sqlString(w.Since.UTC().Format(time.RFC3339)), sqlString(w.Until.UTC().Format(time.RFC3339)))
	fmt.Fprintf(&b, "\n  AND useridentity.accesskeyid IN (%s)", in)
	return b.String(), nil
}

func athenaKind(c recordColumn) colKind { return c.athena }

// athenaExpr is a column in the Athena table's spelling: lower case, nested
// fields aliased to their dotted path so that they keep apart.
func athenaExpr(c recordColumn, k colKind) string {
	name := c.name()
	switch {
	case k == colResources:
		return "json_format(CAST(" + name + " AS JSON)) AS " + name
	case len(c.path) > 1:
		return name + ` AS "` + name + `"`
	}
	return name
}

// Athena reads the events of a key, and of the keys derived from it, from a
// table of CloudTrail logs in Athena. It is the source for trails whose
// logs go back further than LookupEvents' 90 days, or that log data
// events, when scanning the files themselves would take too long.
type Athena struct {
	api   AthenaAPI
	table AthenaTable
	cfg   config
}

// NewAthena prepares a scan of an Athena table. Options that apply:
// WithWindow, WithClock, WithProgress, WithBackoff (the polling of a
// running query), WithPivot, WithKnownKeys.
func NewAthena(api AthenaAPI, table AthenaTable, opts ...Option) *Athena {
	return &Athena{api: api, table: table, cfg: newConfig(opts)}
}

// Run queries the events of key and follows derived keys, one query per
// round of new keys. The coverage has one source, "athena:<table>", whose
// Bytes are the bytes Athena scanned (what the queries cost).
func (a *Athena) Run(ctx context.Context, key string) (*Investigation, error) {
	if err := a.table.Check(); err != nil {
		return nil, fmt.Errorf("query athena: %w", err)
	}
	inv, err := pivotQueries(ctx, a.cfg, "athena:"+strings.ToLower(a.table.Name), key, a.query)
	if err != nil {
		return inv, fmt.Errorf("query athena: %w", err)
	}
	return inv, nil
}

// query runs one query to its end and turns its rows into events.
func (a *Athena) query(ctx context.Context, r *queryRun, keys []string, w Window) ([]Event, error) {
	sql, err := a.table.Query(keys, w)
	if err != nil {
		return nil, err
	}
	return a.run(ctx, r, sql, func(m map[string]string) (Event, error) { return rebuildRecord(m, athenaKind) })
}

// isHeader tells whether a row holds the column names.
func isHeader(row athenatypes.Row, columns []string) bool {
	if len(columns) == 0 || len(row.Data) != len(columns) {
		return false
	}
	for i, d := range row.Data {
		if !strings.EqualFold(aws.ToString(d.VarCharValue), columns[i]) {
			return false
		}
	}
	return true
}

// await polls a query until it succeeded, with back-off, and adds the
// bytes it scanned to the status.
func (a *Athena) await(ctx context.Context, r *queryRun, id *string) error {
	started := r.cfg.clock.Now()
	for attempt := 1; ; attempt++ {
		out, err := a.api.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: id})
		if err != nil {
			return fmt.Errorf("get query execution: %w", err)
		}
		qe := out.QueryExecution
		if qe == nil || qe.Status == nil {
			return fmt.Errorf("get query execution: the answer has no status")
		}
		switch qe.Status.State {
		case athenatypes.QueryExecutionStateSucceeded:
			if qe.Statistics != nil {
				r.status.Bytes += aws.ToInt64(qe.Statistics.DataScannedInBytes)
			}
			return nil
		case athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
			reason := aws.ToString(qe.Status.StateChangeReason)
			if e := qe.Status.AthenaError; e != nil && aws.ToString(e.ErrorMessage) != "" {
				reason = aws.ToString(e.ErrorMessage)
			}
			return fmt.Errorf("athena query %s %s: %s", aws.ToString(id), strings.ToLower(string(qe.Status.State)), reason)
		}
		if r.cfg.clock.Now().Sub(started) > maxQueryWait {
			return fmt.Errorf("athena query %s still %s after %s", aws.ToString(id), qe.Status.State, maxQueryWait)
		}
		if err := r.wait(ctx, attempt); err != nil {
			return err
		}
	}
}

// DDLOptions describe the trail an Athena table is made for.
type DDLOptions struct {
	Table    string    // [database.]table to create (default cloudtrail_logs)
	Bucket   string    // s3://bucket[/prefix] the trail delivers to
	Org      string    // o-… for an organization trail, "" for an account's own
	Accounts []string  // the account of an account trail (one); the member accounts of an organization trail
	Regions  []string  // values of the region partition (default KnownRegions)
	Start    time.Time // first day projected (default 2013-11-01, CloudTrail's launch)
}

// KnownRegions are the commercial regions a trail may deliver logs for,
// opt-in regions included: a region listed but never enabled costs a
// listing of an empty prefix, a region missing would be silently unread.
var KnownRegions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
	"eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

// ddlColumns are the columns of AWS's current DDL for CloudTrail logs
// (JsonSerDe), which reads every record field keyleak needs.
const ddlColumns = `  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<
      userid: STRING,
      identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<
        mfaauthenticated: STRING,
        creationdate: STRING>,
      sessionissuer: STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: MAP<STRING,STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<
    arn: STRING,
    accountid: STRING,
    type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<
    reason: STRING,
    updatedfields: STRING,
    originalrequestid: STRING,
    originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<
    tlsversion: STRING,
    ciphersuite: STRING,
    clientprovidedhostheader: STRING>`

// AthenaDDL returns the CREATE EXTERNAL TABLE statement of a table over a
// trail's bucket with partition projection: region (enum) and timestamp
// (yyyy/MM/dd, by day) and, for an organization trail, account (enum), so
// that no partition ever needs adding and the WHERE of AthenaTable.Query
// limits what a query reads to the days and regions it asks for.
func AthenaDDL(o DDLOptions) (string, error) {
	name := o.Table
	if name == "" {
		name = "cloudtrail_logs"
	}
	table, err := quotedTable(name, "`")
	if err != nil {
		return "", fmt.Errorf("build table DDL: %w", err)
	}
	rest, ok := strings.CutPrefix(o.Bucket, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" || strings.ContainsAny(rest, "'\\ ") {
		return "", fmt.Errorf("build table DDL: bucket %q: want s3://bucket or s3://bucket/prefix", o.Bucket)
	}
	base := "s3://" + bucket + "/"
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		base += prefix + "/"
	}
	base += "AWSLogs/"
	for _, a := range o.Accounts {
		if !accountIDPat.MatchString(a) {
			return "", fmt.Errorf("build table DDL: %q is not a 12-digit account ID", a)
		}
	}
	regions := o.Regions
	if len(regions) == 0 {
		regions = KnownRegions
	}
	for _, r := range regions {
		if !regionName.MatchString(r) {
			return "", fmt.Errorf("build table DDL: %q is not a region name", r)
		}
	}
	start := o.Start
	if start.IsZero() {
		start = time.Date(2013, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	var location, template, partitions string
	props := []string{"'projection.enabled'='true'"}
	switch {
	case o.Org != "":
		if !orgIDPat.MatchString(o.Org) {
			return "", fmt.Errorf("build table DDL: %q is not an organization ID (o-…)", o.Org)
		}
		if len(o.Accounts) == 0 {
			return "", fmt.Errorf("build table DDL: an organization trail needs the member accounts to project (--account ID,ID,…)")
		}
		location = base + o.Org + "/"
		template = location + "${account}/CloudTrail/${region}/${timestamp}"
		partitions = "account STRING, region STRING, `timestamp` STRING"
		props = append(props, "'projection.account.type'='enum'", "'projection.account.values'='"+strings.Join(o.Accounts, ",")+"'")
	default:
		if len(o.Accounts) != 1 {
			return "", fmt.Errorf("build table DDL: an account trail needs its one account (--account ID)")
		}
		location = base + o.Accounts[0] + "/CloudTrail/"
		template = location + "${region}/${timestamp}"
		partitions = "region STRING, `timestamp` STRING"
	}
	props = append(props,
		"'projection.region.type'='enum'",
		"'projection.region.values'='"+strings.Join(regions, ",")+"'",
		"'projection.timestamp.type'='date'",
		"'projection.timestamp.format'='yyyy/MM/dd'",
		"'projection.timestamp.range'='"+start.UTC().Format("2006/01/02")+",NOW'",
		"'projection.timestamp.interval'='1'",
		"'projection.timestamp.interval.unit'='DAYS'",
		"'storage.location.template'='"+template+"'",
	)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n%s\n)\n", table, ddlColumns)
	fmt.Fprintf(&b, "PARTITIONED BY (%s)\n", partitions)
	b.WriteString("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n")
	b.WriteString("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n")
	b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	fmt.Fprintf(&b, "LOCATION '%s'\n", location)
	fmt.Fprintf(&b, "TBLPROPERTIES (\n  %s\n);\n", strings.Join(props, ",\n  "))
	return b.String(), nil
}

// The SQL sources (Athena here, CloudTrail Lake in lake.go) share what
// follows: the pivot in rounds, the record columns they select, and the
// rebuilding of a CloudTrail record from a result row.
// maxQueryWait bounds how long one query is polled; Athena and CloudTrail
// Lake stop their own queries well before (30 and 60 minutes by default).
const maxQueryWait = 70 * time.Minute

// queryRun is the state of one SQL source while it runs. It runs in one
// goroutine, so its status needs no lock.
type queryRun struct {
	cfg    config
	status SourceStatus
	start  time.Time
}

func (r *queryRun) emit() {
	if r.cfg.progress != nil {
		r.cfg.progress(r.status)
	}
}

// wait sleeps before poll attempt+1: the back-off of WithBackoff without
// jitter, since one query is polled by one caller.
func (r *queryRun) wait(ctx context.Context, attempt int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := r.cfg.backoffBase << min(attempt-1, 20)
	if d > r.cfg.backoffMax || d <= 0 {
		d = r.cfg.backoffMax
	}
	select {
	case <-r.cfg.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queryFunc runs one query for keys in w and returns the events it found.
// It counts pages, rows and bytes in r.status.
type queryFunc func(ctx context.Context, r *queryRun, keys []string, w Window) ([]Event, error)

// queryWindow applies a SQL source's defaults: until now, and 90 days back
// like a sweep, so that a scan is bounded even when nobody said how far.
func queryWindow(cfg config) (Window, error) {
	w := cfg.window
	if w.Until.IsZero() {
		w.Until = cfg.clock.Now().UTC()
	}
	if w.Since.IsZero() {
		w.Since = w.Until.Add(-LookbackLimit)
	}
	if w.Since.After(w.Until) {
		return w, fmt.Errorf("window starts (%s) after it ends (%s)", w.Since.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	return w, nil
}

// pivotQueries runs a SQL source: a query for the leaked key (and the known
// keys), then one query for the keys the answer derived, and so on until a
// round finds no new key. Each round reads only the part of the window in
// which its keys can have been used, from the first issue to the last
// expiration, which bounds the partitions a query scans.
//
// Like Sweep.Run it returns what it found even with an error; a failed
// query is in the coverage (StateError or StateDenied), not an error, and
// only a cancelled context is.
func pivotQueries(ctx context.Context, cfg config, name, key string, run queryFunc) (*Investigation, error) {
	w, err := queryWindow(cfg)
	if err != nil {
		return nil, err
	}
	coll := newCollector(cfg.pivot, append([]string{key}, cfg.known...))
	r := &queryRun{cfg: cfg, status: SourceStatus{Name: name, State: StateRunning}, start: cfg.clock.Now()}
	r.emit()
	pending := make([]KeyLink, 0, len(coll.order))
	for _, k := range coll.order {
		pending = append(pending, coll.links[k])
	}
	var runErr error
	for len(pending) > 0 {
		keys, rw := round(pending, w)
		pending = nil
		r.status.Lookups += len(keys)
		events, err := run(ctx, r, keys, rw)
		for _, e := range events {
			added, fresh := coll.add(e)
			if added {
				r.status.Events++
			}
			pending = append(pending, fresh...)
		}
		if err != nil {
			runErr = err
			break
		}
		r.emit()
	}
	r.status.Duration = cfg.clock.Now().Sub(r.start)
	switch {
	case runErr != nil && ctx.Err() != nil:
		r.status.State, r.status.Err = StateError, "interrupted"
	case runErr != nil && isDenied(runErr):
		r.status.State, r.status.Err = StateDenied, errorReason(runErr)
	case runErr != nil:
		r.status.State, r.status.Err = StateError, errorReason(runErr)
	default:
		r.status.State = StateOK
	}
	r.emit()
	inv := coll.investigation(key, w, Coverage{Sources: []SourceStatus{r.status}}, cfg.clock.Now())
	if ctx.Err() != nil {
		return inv, ctx.Err()
	}
	return inv, nil
}

// round returns the key IDs of a round and the part of w in which they can
// have been used.
func round(links []KeyLink, w Window) ([]string, Window) {
	ids := make([]string, 0, len(links))
	var out Window
	for i, l := range links {
		ids = append(ids, l.AccessKeyID)
		lw := l.life(w)
		if i == 0 || lw.Since.Before(out.Since) {
			out.Since = lw.Since
		}
		if i == 0 || lw.Until.After(out.Until) {
			out.Until = lw.Until
		}
	}
	slices.Sort(ids)
	return ids, out
}

// life is the part of w in which a key can have made calls: from its issue
// to its expiration for temporary credentials, from its issue on for a new
// access key, all of w for a root of the search.
func (l KeyLink) life(w Window) Window {
	if l.Parent == "" || l.EventTime.IsZero() {
		return w
	}
	out := w
	if issued := l.EventTime.UTC().Truncate(time.Second); issued.After(out.Since) {
		out.Since = issued
	}
	end := time.Time{}
	switch {
	case l.Via == "CreateAccessKey":
	case !l.Expiration.IsZero():
		end = l.Expiration.UTC()
	default:
		end = l.EventTime.UTC().Add(maxSessionLife)
	}
	if !end.IsZero() && end.Before(out.Until) {
		out.Until = end
	}
	if out.Until.Before(out.Since) {
		out.Until = out.Since
	}
	return out
}

// colKind says how a result column turns back into a record field.
type colKind int

const (
	colNone      colKind = iota // not selected from this source
	colText                     // a string
	colBool                     // "true" or "false"
	colTime                     // a Lake timestamp, "2006-01-02 15:04:05.000"
	colJSON                     // JSON text of an object (Athena's requestparameters)
	colMap                      // a Lake map<string,string> as JSON; nested objects are JSON text in its values
	colResources                // json_format(CAST(resources AS JSON))
)

// recordColumn is a field of the CloudTrail record a SQL source selects.
type recordColumn struct {
	path   []string // in the record, e.g. userIdentity, accessKeyId
	athena colKind  // in the standard Athena table of CloudTrail logs
	lake   colKind  // in a CloudTrail Lake event data store
}

// name is the column's name in a result: the lower-case dotted path, as
// both engines (Trino) fold identifiers to lower case.
func (c recordColumn) name() string { return strings.ToLower(strings.Join(c.path, ".")) }

// recordColumns are the fields keyleak reads back, in the order of the
// record. Only fields of every version of AWS's Athena DDL for CloudTrail
// are asked of Athena, so that the query runs on older tables too. The
// user identity is selected field by field rather than as one struct:
// engines render a struct cast to JSON differently, its fields never.
var recordColumns = []recordColumn{
	{[]string{"eventVersion"}, colText, colText},
	{[]string{"userIdentity", "type"}, colText, colText},
	{[]string{"userIdentity", "principalId"}, colText, colText},
	{[]string{"userIdentity", "arn"}, colText, colText},
	{[]string{"userIdentity", "accountId"}, colText, colText},
	{[]string{"userIdentity", "accessKeyId"}, colText, colText},
	{[]string{"userIdentity", "userName"}, colText, colText},
	{[]string{"userIdentity", "invokedBy"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "attributes", "creationDate"}, colText, colTime},
	{[]string{"userIdentity", "sessionContext", "attributes", "mfaAuthenticated"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "sessionIssuer", "type"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "sessionIssuer", "principalId"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "sessionIssuer", "arn"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "sessionIssuer", "accountId"}, colText, colText},
	{[]string{"userIdentity", "sessionContext", "sessionIssuer", "userName"}, colText, colText},
	{[]string{"eventTime"}, colText, colTime},
	{[]string{"eventSource"}, colText, colText},
	{[]string{"eventName"}, colText, colText},
	{[]string{"awsRegion"}, colText, colText},
	{[]string{"sourceIPAddress"}, colText, colText},
	{[]string{"userAgent"}, colText, colText},
	{[]string{"errorCode"}, colText, colText},
	{[]string{"errorMessage"}, colText, colText},
	{[]string{"requestParameters"}, colJSON, colMap},
	{[]string{"responseElements"}, colJSON, colMap},
	{[]string{"additionalEventData"}, colJSON, colMap},
	{[]string{"requestID"}, colText, colText},
	{[]string{"eventID"}, colText, colText},
	{[]string{"readOnly"}, colBool, colBool},
	{[]string{"resources"}, colResources, colResources},
	{[]string{"eventType"}, colText, colText},
	{[]string{"apiVersion"}, colText, colText},
	{[]string{"managementEvent"}, colNone, colBool},
	{[]string{"recipientAccountId"}, colText, colText},
	{[]string{"serviceEventDetails"}, colJSON, colMap},
	{[]string{"sharedEventID"}, colText, colText},
	{[]string{"vpcEndpointId"}, colText, colText},
	{[]string{"eventCategory"}, colNone, colText},
}

// selectList is the SELECT list of a source: expr renders a column's
// expression in the engine's spelling.
func selectList(kind func(recordColumn) colKind, expr func(c recordColumn, k colKind) string) string {
	var items []string
	for _, c := range recordColumns {
		if k := kind(c); k != colNone {
			items = append(items, expr(c, k))
		}
	}
	return strings.Join(items, ",\n       ")
}

// rebuildRecord turns a result row (column name, lower case, to value; a
// missing or empty value is null) into a CloudTrail record and parses it,
// so that events of the SQL sources are the same Events as every other
// source's, Raw, Request and Response included.
func rebuildRecord(row map[string]string, kind func(recordColumn) colKind) (Event, error) {
	rec := map[string]any{}
	for _, c := range recordColumns {
		k := kind(c)
		v, ok := row[c.name()]
		if k == colNone || !ok || v == "" {
			continue
		}
		if val, ok := columnValue(k, v); ok {
			setPath(rec, c.path, val)
		}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return Event{}, fmt.Errorf("rebuild record: %w", err)
	}
	return ParseRecord(raw)
}

// columnValue converts a column's text to the record's JSON value; false
// drops a null.
func columnValue(k colKind, v string) (any, bool) {
	switch k {
	case colBool:
		switch strings.ToLower(v) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		return v, true
	case colTime:
		if t, ok := ParseTime(v); ok {
			return t.Format(time.RFC3339), true
		}
		return v, true
	case colJSON:
		if json.Valid([]byte(v)) {
			raw := json.RawMessage(v)
			return raw, string(raw) != "null"
		}
		return v, true
	case colMap:
		var m map[string]*string
		if json.Unmarshal([]byte(v), &m) != nil {
			return v, true
		}
		out := map[string]any{}
		for key, s := range m {
			if s == nil {
				continue
			}
			// A nested object or list is stored as its JSON text.
			if t := strings.TrimSpace(*s); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
				out[key] = json.RawMessage(t)
			} else {
				out[key] = *s
			}
		}
		return out, true
	case colResources:
		var items []map[string]any
		if json.Unmarshal([]byte(v), &items) != nil {
			return nil, false
		}
		out := make([]map[string]any, 0, len(items))
		for _, it := range items {
			r := map[string]any{}
			for key, x := range it {
				switch strings.ToLower(key) {
				case "arn", "uid": // uid: OCSF's (Security Lake)
					r["ARN"] = x
				case "accountid", "account_uid":
					r["accountId"] = x
				case "type":
					r["type"] = x
				}
			}
			out = append(out, r)
		}
		return out, true
	}
	return v, true
}

// setPath stores v at path in nested objects, making them as needed.
func setPath(rec map[string]any, path []string, v any) {
	cur := rec
	for _, p := range path[:len(path)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
}

// sqlString quotes a string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// keyList renders access key IDs for IN (...), refusing anything that is
// not one: they come from records, and a query is no place for surprises.
func keyList(keys []string) (string, error) {
	if len(keys) == 0 {
		return "", fmt.Errorf("build query: no access key to look for")
	}
	quoted := make([]string, len(keys))
	for i, k := range keys {
		if !ValidAccessKeyID(k) {
			return "", fmt.Errorf("build query: %q is not an access key ID", k)
		}
		quoted[i] = sqlString(k)
	}
	return strings.Join(quoted, ", "), nil
}
