package trail

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// LakeAPI is what a CloudTrail Lake scan needs of a CloudTrail client.
type LakeAPI interface {
	StartQuery(ctx context.Context, params *cloudtrail.StartQueryInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartQueryOutput, error)
	DescribeQuery(ctx context.Context, params *cloudtrail.DescribeQueryInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeQueryOutput, error)
	GetQueryResults(ctx context.Context, params *cloudtrail.GetQueryResultsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetQueryResultsOutput, error)
}

// lakePageSize is GetQueryResults' largest page.
const lakePageSize = 1000

var edsIDPat = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{2,127}$`)

// EventDataStoreID returns the ID of an event data store given by ID or by
// ARN (arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID), and the region
// of an ARN ("" for an ID): a Lake query names the store by ID and must be
// sent to the store's home region.
func EventDataStoreID(s string) (id, region string, err error) {
	id = s
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[2] != "cloudtrail" || !strings.HasPrefix(parts[5], "eventdatastore/") {
			return "", "", fmt.Errorf("event data store %q: want its ID or arn:aws:cloudtrail:REGION:ACCOUNT:eventdatastore/ID", s)
		}
		id, region = strings.TrimPrefix(parts[5], "eventdatastore/"), parts[3]
	}
	if !edsIDPat.MatchString(id) {
		return "", "", fmt.Errorf("event data store %q: an ID is letters, digits and -", s)
	}
	return id, region, nil
}

// LakeQuery returns the CloudTrail Lake SQL that reads the events of keys
// in w from an event data store (ID or ARN). The Lake's eventTime is a
// timestamp compared with 'yyyy-MM-dd HH:mm:ss' literals; it is also what
// the store partitions by, so the range bounds what the query scans.
// requestParameters and the other map columns are cast to JSON because the
// Lake's own rendering of a map ({k=v, …}) cannot be read back safely.
func LakeQuery(eventDataStore string, keys []string, w Window) (string, error) {
	id, _, err := EventDataStoreID(eventDataStore)
	if err != nil {
		return "", fmt.Errorf("build lake query: %w", err)
	}
	in, err := keyList(keys)
	if err != nil {
		return "", err
	}
	if w.Since.IsZero() || w.Until.IsZero() {
		return "", fmt.Errorf("build lake query: the window must be bounded, or the whole store is scanned")
	}
	const ts = "2006-01-02 15:04:05"
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(selectList(lakeKind, lakeExpr))
	fmt.Fprintf(&b, "\nFROM %s\nWHERE eventTime >= %s AND eventTime <= %s", id, sqlString(w.Since.UTC().Format(ts)), sqlString(w.Until.UTC().Format(ts)))
	fmt.Fprintf(&b, "\n  AND userIdentity.accessKeyId IN (%s)", in)
	b.WriteString("\nORDER BY eventTime")
	return b.String(), nil
}

func lakeKind(c recordColumn) colKind { return c.lake }

// lakeExpr is a column in the Lake's spelling: the record's own names,
// structured columns cast to JSON, nested fields aliased to their path.
func lakeExpr(c recordColumn, k colKind) string {
	expr := strings.Join(c.path, ".")
	switch {
	case k == colMap || k == colResources:
		return "json_format(CAST(" + expr + " AS JSON)) AS " + c.name()
	case len(c.path) > 1:
		return expr + ` AS "` + c.name() + `"`
	}
	return expr
}

// Lake reads the events of a key, and of the keys derived from it, from a
// CloudTrail Lake event data store. Lake keeps events for years and, for
// an organization's store, of every account, where LookupEvents reaches 90
// days of one account.
type Lake struct {
	api LakeAPI
	eds string
	cfg config
}

// NewLake prepares a scan of an event data store, given by ID or ARN; api
// must be a CloudTrail client of the store's home region. Options that
// apply: WithWindow, WithClock, WithProgress, WithBackoff (the polling of a
// running query), WithPivot, WithKnownKeys.
func NewLake(api LakeAPI, eventDataStore string, opts ...Option) *Lake {
	return &Lake{api: api, eds: eventDataStore, cfg: newConfig(opts)}
}

// Run queries the events of key and follows derived keys, one query per
// round of new keys. The coverage has one source, "lake:<store ID>", whose
// Bytes are the bytes the Lake scanned (what the queries cost).
func (l *Lake) Run(ctx context.Context, key string) (*Investigation, error) {
	id, _, err := EventDataStoreID(l.eds)
	if err != nil {
		return nil, fmt.Errorf("query cloudtrail lake: %w", err)
	}
	inv, err := pivotQueries(ctx, l.cfg, "lake:"+id, key, l.query)
	if err != nil {
		return inv, fmt.Errorf("query cloudtrail lake: %w", err)
	}
	return inv, nil
}

// query runs one query to its end and turns its rows into events.
func (l *Lake) query(ctx context.Context, r *queryRun, keys []string, w Window) ([]Event, error) {
	sql, err := LakeQuery(l.eds, keys, w)
	if err != nil {
		return nil, err
	}
	start, err := l.api.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String(sql)})
	if err != nil {
		return nil, fmt.Errorf("start query: %w", err)
	}
	id := start.QueryId
	if err := l.await(ctx, r, id); err != nil {
		return nil, err
	}
	var events []Event
	page := &cloudtrail.GetQueryResultsInput{QueryId: id, MaxQueryResults: aws.Int32(lakePageSize)}
	for {
		out, err := l.api.GetQueryResults(ctx, page)
		if err != nil {
			return events, fmt.Errorf("get query results: %w", err)
		}
		r.status.Pages++
		for _, row := range out.QueryResultRows {
			r.status.Records++
			// A row is a list of one-column maps; Trino names the columns in
			// lower case, which lower-casing again keeps true for any engine.
			m := make(map[string]string, len(row))
			for _, col := range row {
				for k, v := range col {
					m[strings.ToLower(k)] = v
				}
			}
			e, err := rebuildRecord(m, lakeKind)
			if err != nil {
				continue // rebuildRecord makes JSON objects; nothing to lose here
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

// await polls DescribeQuery until the query finished, with back-off, and
// adds the bytes it scanned to the status.
func (l *Lake) await(ctx context.Context, r *queryRun, id *string) error {
	started := r.cfg.clock.Now()
	for attempt := 1; ; attempt++ {
		out, err := l.api.DescribeQuery(ctx, &cloudtrail.DescribeQueryInput{QueryId: id})
		if err != nil {
			return fmt.Errorf("describe query: %w", err)
		}
		switch out.QueryStatus {
		case types.QueryStatusFinished:
			if s := out.QueryStatistics; s != nil {
				r.status.Bytes += aws.ToInt64(s.BytesScanned)
			}
			return nil
		case types.QueryStatusFailed, types.QueryStatusCancelled, types.QueryStatusTimedOut:
			return fmt.Errorf("lake query %s %s: %s", aws.ToString(id), strings.ToLower(string(out.QueryStatus)), aws.ToString(out.ErrorMessage))
		}
		if r.cfg.clock.Now().Sub(started) > maxQueryWait {
			return fmt.Errorf("lake query %s still %s after %s", aws.ToString(id), out.QueryStatus, maxQueryWait)
		}
		if err := r.wait(ctx, attempt); err != nil {
			return err
		}
	}
}
