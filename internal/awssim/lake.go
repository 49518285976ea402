package awssim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The simulated CloudTrail Lake: one event data store per account, in
// us-east-1, collecting the management events of every region (a
// multi-region store, as the console creates by default). StartQuery
// accepts the SQL subset keyleak generates, strictly:
//
//	SELECT item [, item]* FROM <event data store ID>
//	WHERE eventTime >=|> 'T' AND eventTime <=|< 'T' AND userIdentity.accessKeyId IN ('K' [, 'K']*)
//	[ORDER BY eventTime [ASC|DESC]]
//
// where an item is a column path (eventName, userIdentity.accessKeyId, ...)
// or json_format(CAST(path AS JSON)), each optionally AS alias, and the
// three conditions come in any order. Anything else is answered with
// InvalidQueryStatementException naming what was not understood, so a
// change in keyleak's query cannot silently pass against the simulator.
//
// Columns render as the Lake's Trino engine renders them: timestamps as
// "2006-01-02 15:04:05.000", booleans as true/false, and the map columns
// (requestParameters, responseElements, additionalEventData) as
// map<string,string>: nested objects become JSON text in the values.
//
// A query advances one state per DescribeQuery or GetQueryResults call
// (QUEUED, RUNNING, FINISHED), so clients must poll as they must on AWS,
// without the simulator depending on a clock.

// lakeHomeRegion is where the account's event data store lives.
const lakeHomeRegion = "us-east-1"

// Lake limits, as AWS documents them.
const (
	lakeMaxResults     = 1000
	lakeDefaultResults = 1000
)

// EventDataStoreID returns the ID of the account's CloudTrail Lake event
// data store: the FROM of its queries. It is derived from the account ID,
// so it exists from New on and is the same for every run of a scenario.
func (s *Sim) EventDataStoreID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return eventDataStoreID(s.acct.ID)
}

// EventDataStoreARN returns the ARN of the account's event data store.
func (s *Sim) EventDataStoreARN() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return eventDataStoreARN(s.acct.ID)
}

func eventDataStoreID(account string) string {
	sum := sha256.Sum256([]byte("awssim event data store\x00" + account))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func eventDataStoreARN(account string) string {
	return "arn:aws:cloudtrail:" + lakeHomeRegion + ":" + account + ":eventdatastore/" + eventDataStoreID(account)
}

// lakeState is the Lake of one Sim: its queries by ID. It is guarded by
// Sim.mu like the rest of the account.
type lakeState struct {
	queries map[string]*lakeQuery
}

// lake returns the Sim's Lake, making it on first use. Called with mu held.
func (s *Sim) lake() *lakeState {
	if s.lakeState == nil {
		s.lakeState = &lakeState{queries: map[string]*lakeQuery{}}
	}
	return s.lakeState
}

// lakeQuery is one query: its statement, state and, computed when it was
// started, its result.
type lakeQuery struct {
	id        string
	statement string
	status    string // QUEUED, RUNNING, FINISHED
	created   time.Time
	rows      [][]map[string]string
	matched   int64
	scanned   int64
	bytes     int64
}

// advance moves a query one state on; it is called by every poll.
func (q *lakeQuery) advance() {
	switch q.status {
	case "QUEUED":
		q.status = "RUNNING"
	case "RUNNING":
		q.status = "FINISHED"
	}
}

// ctStartQuery answers CloudTrail StartQuery.
func ctStartQuery(s *Sim, c *Call) (*Result, error) {
	var in struct {
		QueryStatement               *string
		QueryAlias                   *string
		QueryParameters              []string
		DeliveryS3Uri                *string
		EventDataStoreOwnerAccountId *string
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	if in.QueryAlias != nil || len(in.QueryParameters) > 0 {
		return nil, errf(400, "InvalidParameterException", "Query aliases and parameters are for CloudTrail Lake dashboards; pass a QueryStatement.")
	}
	if in.QueryStatement == nil || strings.TrimSpace(*in.QueryStatement) == "" {
		return nil, errf(400, "InvalidParameterException", "QueryStatement is required.")
	}
	if in.EventDataStoreOwnerAccountId != nil && *in.EventDataStoreOwnerAccountId != s.acct.ID {
		return nil, errf(400, "EventDataStoreNotFoundException", "The specified event data store was not found.")
	}
	stmt := *in.QueryStatement
	q, apiErr := parseLakeQuery(stmt)
	if apiErr != nil {
		return nil, apiErr
	}
	if c.Region != lakeHomeRegion || q.from != eventDataStoreID(s.acct.ID) {
		return nil, errf(400, "EventDataStoreNotFoundException", "The specified event data store %s was not found in %s.", q.from, c.Region)
	}
	lq := &lakeQuery{id: s.newUUID(), statement: stmt, status: "QUEUED", created: c.Time}
	s.runLakeQuery(q, lq)
	s.lake().queries[lq.id] = lq
	return &Result{
		JSON:     map[string]any{"QueryId": lq.id, "EventDataStoreOwnerAccountId": s.acct.ID},
		Request:  map[string]any{"queryStatement": stmt},
		Response: map[string]any{"queryId": lq.id},
	}, nil
}

// lakeQueryOf finds the query of a DescribeQuery or GetQueryResults call.
func (s *Sim) lakeQueryOf(c *Call, id, eds *string) (*lakeQuery, *APIError) {
	if eds != nil && *eds != eventDataStoreID(s.acct.ID) && *eds != eventDataStoreARN(s.acct.ID) {
		return nil, errf(400, "EventDataStoreNotFoundException", "The specified event data store %s was not found.", *eds)
	}
	if id == nil || *id == "" {
		return nil, errf(400, "InvalidParameterException", "QueryId is required.")
	}
	q, ok := s.lake().queries[*id]
	if !ok || c.Region != lakeHomeRegion {
		return nil, errf(400, "QueryIdNotFoundException", "The query ID %s does not exist or does not map to a query.", *id)
	}
	return q, nil
}

// ctDescribeQuery answers CloudTrail DescribeQuery.
func ctDescribeQuery(s *Sim, c *Call) (*Result, error) {
	var in struct {
		QueryId                      *string
		EventDataStore               *string
		QueryAlias                   *string
		RefreshId                    *string
		EventDataStoreOwnerAccountId *string
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	q, apiErr := s.lakeQueryOf(c, in.QueryId, in.EventDataStore)
	if apiErr != nil {
		return nil, apiErr
	}
	q.advance()
	stats := map[string]any{"CreationTime": float64(q.created.UnixMilli()) / 1000}
	if q.status == "FINISHED" {
		stats["EventsMatched"] = q.matched
		stats["EventsScanned"] = q.scanned
		stats["BytesScanned"] = q.bytes
		stats["ExecutionTimeInMillis"] = 1
	}
	return &Result{
		JSON: map[string]any{
			"QueryId": q.id, "QueryString": q.statement, "QueryStatus": q.status,
			"QueryStatistics": stats, "EventDataStoreOwnerAccountId": s.acct.ID,
		},
		Request: map[string]any{"queryId": q.id},
	}, nil
}

// ctGetQueryResults answers CloudTrail GetQueryResults.
func ctGetQueryResults(s *Sim, c *Call) (*Result, error) {
	var in struct {
		QueryId                      *string
		EventDataStore               *string
		EventDataStoreOwnerAccountId *string
		MaxQueryResults              *int
		NextToken                    *string
	}
	if err := c.jsonBody(&in); err != nil {
		return nil, err
	}
	q, apiErr := s.lakeQueryOf(c, in.QueryId, in.EventDataStore)
	if apiErr != nil {
		return nil, apiErr
	}
	size := lakeDefaultResults
	if in.MaxQueryResults != nil {
		if *in.MaxQueryResults < 1 || *in.MaxQueryResults > lakeMaxResults {
			return nil, errf(400, "InvalidMaxResultsException", "MaxQueryResults must be between 1 and %d.", lakeMaxResults)
		}
		size = *in.MaxQueryResults
	}
	offset := 0
	if in.NextToken != nil {
		var ok bool
		if offset, ok = s.decodeLakeToken(q, *in.NextToken); !ok {
			return nil, errf(400, "InvalidNextTokenException", "The NextToken is not valid for this query.")
		}
	}
	req := map[string]any{"queryId": q.id}
	q.advance()
	if q.status != "FINISHED" {
		// No rows yet, as AWS answers for a query still running.
		return &Result{JSON: map[string]any{"QueryStatus": q.status, "QueryResultRows": [][]map[string]string{}}, Request: req}, nil
	}
	end := min(offset+size, len(q.rows))
	out := map[string]any{
		"QueryStatus":     q.status,
		"QueryResultRows": q.rows[offset:end],
		"QueryStatistics": map[string]any{"ResultsCount": end - offset, "TotalResultsCount": len(q.rows), "BytesScanned": q.bytes},
	}
	if end < len(q.rows) {
		out["NextToken"] = s.encodeLakeToken(q, end)
	}
	return &Result{JSON: out, Request: req}, nil
}

// Lake tokens: the query's ID, the offset of the next row and a check value.
func (s *Sim) encodeLakeToken(q *lakeQuery, offset int) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(offset))
	b = append(b, q.id...)
	mac := s.lookupTokenMAC(append([]byte("lake\x00"), b...))
	return base64.RawURLEncoding.EncodeToString(append(b, mac[:]...))
}

func (s *Sim) decodeLakeToken(q *lakeQuery, tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 4+8 {
		return 0, false
	}
	body, mac := b[:len(b)-8], b[len(b)-8:]
	want := s.lookupTokenMAC(append([]byte("lake\x00"), body...))
	if string(mac) != string(want[:]) || string(body[4:]) != q.id {
		return 0, false
	}
	off := int(binary.BigEndian.Uint32(body[:4]))
	return off, off <= len(q.rows)
}

// runLakeQuery evaluates a parsed query over every region's store. Called
// with mu held.
func (s *Sim) runLakeQuery(q *parsedLake, lq *lakeQuery) {
	var hits []*storedEvent
	for _, r := range s.acct.Regions {
		for _, e := range s.acct.regions[r.Name].Trail.events {
			if !q.inTime(e.Time) {
				continue
			}
			// Time is the store's partition: what lies in the range is scanned.
			lq.scanned++
			lq.bytes += int64(len(e.Raw))
			if q.keys[e.AccessKeyID] {
				hits = append(hits, e)
			}
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time) != q.desc
		}
		return a.ID < b.ID
	})
	lq.matched = int64(len(hits))
	lq.rows = make([][]map[string]string, 0, len(hits))
	for _, e := range hits {
		var rec map[string]any
		if err := json.Unmarshal(e.Raw, &rec); err != nil {
			continue // records are written by record() as JSON objects
		}
		row := make([]map[string]string, 0, len(q.items))
		for _, it := range q.items {
			if v, ok := it.render(rec); ok {
				row = append(row, map[string]string{it.alias: v})
			}
		}
		lq.rows = append(lq.rows, row)
	}
}

// parsedLake is a query of the accepted subset.
type parsedLake struct {
	items       []lakeItem
	from        string
	since, till time.Time // bounds of eventTime
	sinceOpen   bool      // > rather than >=
	tillOpen    bool      // < rather than <=
	keys        map[string]bool
	desc        bool
}

func (q *parsedLake) inTime(t time.Time) bool {
	if t.Before(q.since) || (q.sinceOpen && t.Equal(q.since)) {
		return false
	}
	return !t.After(q.till) && !(q.tillOpen && t.Equal(q.till))
}

// lakeItem is one column of the SELECT list.
type lakeItem struct {
	path  []string // lower case
	json  bool     // json_format(CAST(path AS JSON))
	alias string
}

// lakeColumns is the Lake's schema for CloudTrail events: the top-level
// columns and their kind.
var lakeColumns = map[string]string{
	"eventversion": "string", "useridentity": "struct", "eventtime": "timestamp",
	"eventsource": "string", "eventname": "string", "awsregion": "string",
	"sourceipaddress": "string", "useragent": "string", "errorcode": "string",
	"errormessage": "string", "requestparameters": "map", "responseelements": "map",
	"additionaleventdata": "map", "requestid": "string", "eventid": "string",
	"readonly": "boolean", "resources": "array", "eventtype": "string",
	"apiversion": "string", "managementevent": "boolean", "recipientaccountid": "string",
	"sharedeventid": "string", "annotation": "string", "vpcendpointid": "string",
	"serviceeventdetails": "map", "addendum": "struct", "edgedevicedetails": "map",
	"insightdetails": "struct", "eventcategory": "string", "tlsdetails": "struct",
	"sessioncredentialfromconsole": "string",
}

// lakeTimestamps are the paths the schema types as timestamp.
var lakeTimestamps = map[string]bool{
	"eventtime": true, "useridentity.sessioncontext.attributes.creationdate": true,
}

func errLakeSQL(format string, args ...any) *APIError {
	return errf(400, "InvalidQueryStatementException", "The simulator's CloudTrail Lake accepts only SELECT columns FROM <event data store ID> WHERE eventTime range AND userIdentity.accessKeyId IN (...): "+format, args...)
}

// parseLakeQuery parses and checks a statement of the accepted subset.
func parseLakeQuery(stmt string) (*parsedLake, *APIError) {
	toks, apiErr := lakeTokens(stmt)
	if apiErr != nil {
		return nil, apiErr
	}
	p := &lakeParser{toks: toks}
	q := &parsedLake{}
	if !p.keyword("SELECT") {
		return nil, errLakeSQL("the statement must start with SELECT")
	}
	aliases := map[string]bool{}
	for {
		it, apiErr := p.item()
		if apiErr != nil {
			return nil, apiErr
		}
		if aliases[it.alias] {
			return nil, errLakeSQL("column name %q appears twice", it.alias)
		}
		aliases[it.alias] = true
		q.items = append(q.items, it)
		if !p.punct(",") {
			break
		}
	}
	if !p.keyword("FROM") {
		return nil, errLakeSQL("expected FROM after the columns, found %s", p.peekText())
	}
	from, ok := p.word()
	if !ok {
		return nil, errLakeSQL("expected an event data store ID after FROM")
	}
	q.from = from
	if !p.keyword("WHERE") {
		return nil, errLakeSQL("expected WHERE after the event data store, found %s", p.peekText())
	}
	var haveSince, haveTill bool
	for {
		path, ok := p.path()
		if !ok {
			return nil, errLakeSQL("expected a condition, found %s", p.peekText())
		}
		switch strings.Join(path, ".") {
		case "eventtime":
			op, ok := p.op()
			if !ok {
				return nil, errLakeSQL("expected a comparison after eventTime, found %s", p.peekText())
			}
			lit, ok := p.str()
			if !ok {
				return nil, errLakeSQL("expected a time in quotes after eventTime %s", op)
			}
			t, err := parseLakeTime(lit)
			if err != nil {
				return nil, errLakeSQL("%q is not a timestamp (yyyy-MM-dd HH:mm:ss)", lit)
			}
			switch op {
			case ">=", ">":
				if haveSince {
					return nil, errLakeSQL("eventTime has two lower bounds")
				}
				haveSince, q.since, q.sinceOpen = true, t, op == ">"
			case "<=", "<":
				if haveTill {
					return nil, errLakeSQL("eventTime has two upper bounds")
				}
				haveTill, q.till, q.tillOpen = true, t, op == "<"
			default:
				return nil, errLakeSQL("eventTime must be compared with >=, >, <= or <, not %s", op)
			}
		case "useridentity.accesskeyid":
			if q.keys != nil {
				return nil, errLakeSQL("userIdentity.accessKeyId is constrained twice")
			}
			if !p.keyword("IN") || !p.punct("(") {
				return nil, errLakeSQL("userIdentity.accessKeyId must be followed by IN (...)")
			}
			q.keys = map[string]bool{}
			for {
				k, ok := p.str()
				if !ok {
					return nil, errLakeSQL("IN (...) takes quoted access key IDs")
				}
				q.keys[k] = true
				if p.punct(")") {
					break
				}
				if !p.punct(",") {
					return nil, errLakeSQL("expected , or ) in IN (...), found %s", p.peekText())
				}
			}
		default:
			return nil, errLakeSQL("conditions on %s are not supported", strings.Join(path, "."))
		}
		if !p.keyword("AND") {
			break
		}
	}
	if !haveSince || !haveTill || q.keys == nil {
		return nil, errLakeSQL("WHERE needs a lower and an upper bound on eventTime and userIdentity.accessKeyId IN (...)")
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			return nil, errLakeSQL("expected BY after ORDER")
		}
		if path, ok := p.path(); !ok || strings.Join(path, ".") != "eventtime" {
			return nil, errLakeSQL("only ORDER BY eventTime is supported")
		}
		if p.keyword("DESC") {
			q.desc = true
		} else {
			p.keyword("ASC")
		}
	}
	p.punct(";")
	if !p.done() {
		return nil, errLakeSQL("unexpected %s after the query", p.peekText())
	}
	return q, nil
}

// parseLakeTime reads a timestamp literal as Trino casts it.
func parseLakeTime(s string) (time.Time, error) {
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse timestamp %q", s)
}

// lakeToken is a token of the statement.
type lakeToken struct {
	kind string // word, str, quoted, punct, op
	text string
}

func lakeTokens(stmt string) ([]lakeToken, *APIError) {
	var out []lakeToken
	rs := []rune(stmt)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '\'' || r == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(rs); j++ {
				if rs[j] == r {
					if j+1 < len(rs) && rs[j+1] == r { // doubled quote escapes itself
						b.WriteRune(r)
						j++
						continue
					}
					break
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, errLakeSQL("unterminated quote")
			}
			kind := "str"
			if r == '"' {
				kind = "quoted"
			}
			out = append(out, lakeToken{kind, b.String()})
			i = j + 1
		case r == '(' || r == ')' || r == ',' || r == '.' || r == ';':
			out = append(out, lakeToken{"punct", string(r)})
			i++
		case r == '>' || r == '<' || r == '=' || r == '!':
			op := string(r)
			if i+1 < len(rs) && (rs[i+1] == '=' || (r == '<' && rs[i+1] == '>')) {
				op += string(rs[i+1])
			}
			out = append(out, lakeToken{"op", op})
			i += len(op)
		case r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(rs) && (rs[j] == '_' || rs[j] == '-' || unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			out = append(out, lakeToken{"word", string(rs[i:j])})
			i = j
		default:
			return nil, errLakeSQL("unexpected character %q", r)
		}
	}
	return out, nil
}

type lakeParser struct {
	toks []lakeToken
	i    int
}

func (p *lakeParser) done() bool { return p.i >= len(p.toks) }

func (p *lakeParser) peekText() string {
	if p.done() {
		return "the end"
	}
	return strconv.Quote(p.toks[p.i].text)
}

func (p *lakeParser) keyword(k string) bool {
	if !p.done() && p.toks[p.i].kind == "word" && strings.EqualFold(p.toks[p.i].text, k) {
		p.i++
		return true
	}
	return false
}

func (p *lakeParser) punct(s string) bool {
	if !p.done() && p.toks[p.i].kind == "punct" && p.toks[p.i].text == s {
		p.i++
		return true
	}
	return false
}

func (p *lakeParser) op() (string, bool) {
	if !p.done() && p.toks[p.i].kind == "op" {
		p.i++
		return p.toks[p.i-1].text, true
	}
	return "", false
}

func (p *lakeParser) str() (string, bool) {
	if !p.done() && p.toks[p.i].kind == "str" {
		p.i++
		return p.toks[p.i-1].text, true
	}
	return "", false
}

// word reads an identifier, bare or double-quoted.
func (p *lakeParser) word() (string, bool) {
	if !p.done() && (p.toks[p.i].kind == "word" || p.toks[p.i].kind == "quoted") {
		p.i++
		return p.toks[p.i-1].text, true
	}
	return "", false
}

// path reads a dotted column path, lower-cased (Trino's identifiers are
// case-insensitive).
func (p *lakeParser) path() ([]string, bool) {
	w, ok := p.word()
	if !ok {
		return nil, false
	}
	path := []string{strings.ToLower(w)}
	for p.punct(".") {
		w, ok := p.word()
		if !ok {
			return nil, false
		}
		path = append(path, strings.ToLower(w))
	}
	return path, true
}

// item reads one SELECT item and checks it against the schema.
func (p *lakeParser) item() (lakeItem, *APIError) {
	var it lakeItem
	if p.keyword("json_format") {
		if !p.punct("(") || !p.keyword("CAST") || !p.punct("(") {
			return it, errLakeSQL("json_format takes CAST(column AS JSON)")
		}
		path, ok := p.path()
		if !ok || !p.keyword("AS") || !p.keyword("JSON") || !p.punct(")") || !p.punct(")") {
			return it, errLakeSQL("json_format takes CAST(column AS JSON)")
		}
		it.path, it.json = path, true
	} else {
		path, ok := p.path()
		if !ok {
			return it, errLakeSQL("expected a column, found %s", p.peekText())
		}
		it.path = path
	}
	kind, ok := lakeColumns[it.path[0]]
	if !ok {
		return it, errf(400, "InvalidQueryStatementException", "Column '%s' cannot be resolved.", it.path[0])
	}
	switch {
	case len(it.path) > 1 && kind != "struct":
		return it, errLakeSQL("%s is a %s column; it has no fields", it.path[0], kind)
	case len(it.path) == 1 && !it.json && (kind == "struct" || kind == "map" || kind == "array"):
		return it, errLakeSQL("select %s through json_format(CAST(%s AS JSON))", it.path[0], it.path[0])
	}
	it.alias = it.path[len(it.path)-1]
	if p.keyword("AS") {
		a, ok := p.word()
		if !ok {
			return it, errLakeSQL("expected a name after AS")
		}
		// Trino folds every identifier to lower case, quoted or not, and
		// so names result columns.
		it.alias = strings.ToLower(a)
	}
	return it, nil
}

// render returns the item's value in a record as the Lake returns it, and
// false for null.
func (it lakeItem) render(rec map[string]any) (string, bool) {
	v, ok := lookupFold(rec, it.path)
	if !ok || v == nil {
		return "", false
	}
	top := lakeColumns[it.path[0]]
	if it.json {
		var out any
		switch top {
		case "map":
			out = lakeMap(v)
		case "struct", "array":
			out = lowerKeys(v)
		default:
			out = v
		}
		b, err := json.Marshal(out)
		if err != nil {
			return "", false
		}
		return string(b), true
	}
	switch x := v.(type) {
	case string:
		if lakeTimestamps[strings.Join(it.path, ".")] {
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.UTC().Format("2006-01-02 15:04:05.000"), true
			}
		}
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	// A struct field that holds an object (sessionContext, ...).
	b, err := json.Marshal(lowerKeys(v))
	if err != nil {
		return "", false
	}
	return string(b), true
}

// lookupFold walks a decoded record along a lower-case path, matching keys
// without regard to case.
func lookupFold(rec map[string]any, path []string) (any, bool) {
	var cur any = rec
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		found := false
		for k, v := range m {
			if strings.EqualFold(k, p) {
				cur, found = v, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}

// lakeMap turns an object into the Lake's map<string,string>: strings stay,
// everything else becomes its JSON text.
func lakeMap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		switch y := x.(type) {
		case nil:
			continue
		case string:
			out[k] = y
		default:
			b, err := json.Marshal(y)
			if err != nil {
				continue
			}
			out[k] = string(b)
		}
	}
	return out
}

// lowerKeys lower-cases the keys of objects, as Trino names the fields of a
// ROW cast to JSON after the schema's lower-case field names.
func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[strings.ToLower(k)] = lowerKeys(y)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = lowerKeys(y)
		}
		return out
	}
	return v
}
