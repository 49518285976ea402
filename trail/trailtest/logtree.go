package trailtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// LogTreeSpec says what WriteLogTree writes: about MB megabytes (10^6
// bytes) of uncompressed CloudTrail records in the S3 layout, six regions
// over at most thirty days, a file a region an hour at most, in time slots
// as CloudTrail delivers them.
//
// Every record is one of the templates (real records, e.g. of the public
// data sets) with its key, time, region and IDs rewritten. LeakedShare of
// them are made by Leaked. Leaked assumes a role Roles times and creates
// Keys access keys, spread over the tree's time; each role session is used
// for its hour and each new key from its creation on: DerivedShare of the
// records are made by one of the derived keys working at their time.
type LogTreeSpec struct {
	MB           int
	Leaked       string
	LeakedShare  float64 // default 0.015
	Roles        int     // AssumeRole calls of Leaked (default 20)
	Keys         int     // CreateAccessKey calls of Leaked (default 2)
	DerivedShare float64 // records by a derived key working at their time (default 0.005)
	PerFile      int     // records a file (default 1000)
	Seed         uint64
}

// LogTree is what WriteLogTree wrote.
type LogTree struct {
	Dir     string
	Paths   []string // in path order
	Raw     int64    // uncompressed bytes
	Gz      int64    // bytes on disk
	Records int
	Hits    int      // records of Leaked and of the keys it derived
	Keys    []string // Leaked, then the derived keys in order of issue
}

var logTreeRegions = []string{"us-east-1", "ap-northeast-1", "eu-west-1", "us-west-2", "eu-central-1", "ap-southeast-2"}

const logTreeAccount = "111122223333"

// slot values of a template.
const (
	slotEventID = iota
	slotTime
	slotRegion
	slotRequestID
	slotKey
	slotNewKey
	slotExpires
	nSlots
)

var slotNames = [nSlots]string{"@@EVENTID@@", "@@TIME@@", "@@REGION@@", "@@REQUESTID@@", "@@KEY@@", "@@NEWKEY@@", "@@EXPIRES@@"}

// template is a record cut at its variable strings: lits[i] then the value
// of slots[i], and a last literal.
type template struct {
	lits  [][]byte
	slots []int
}

func (t template) render(b []byte, vals *[nSlots]string) []byte {
	for i, s := range t.slots {
		b = append(b, t.lits[i]...)
		b = append(b, '"')
		b = append(b, vals[s]...)
		b = append(b, '"')
	}
	return append(b, t.lits[len(t.lits)-1]...)
}

// makeTemplate turns a real record into a template, or reports false when
// it has no userIdentity object to put a key in. derive marks the new key
// of AssumeRole or CreateAccessKey as a slot.
func makeTemplate(raw json.RawMessage, derive bool) (template, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return template{}, false
	}
	id, ok := m["userIdentity"].(map[string]any)
	if !ok {
		return template{}, false
	}
	id["accessKeyId"] = slotNames[slotKey]
	id["accountId"] = logTreeAccount
	delete(m, "@timestamp")
	m["eventID"] = slotNames[slotEventID]
	m["eventTime"] = slotNames[slotTime]
	m["awsRegion"] = slotNames[slotRegion]
	m["requestID"] = slotNames[slotRequestID]
	m["recipientAccountId"] = logTreeAccount
	if derive {
		resp, _ := m["responseElements"].(map[string]any)
		switch m["eventName"] {
		case "AssumeRole":
			c, _ := resp["credentials"].(map[string]any)
			if c == nil {
				return template{}, false
			}
			c["accessKeyId"] = slotNames[slotNewKey]
			c["expiration"] = slotNames[slotExpires]
		case "CreateAccessKey":
			k, _ := resp["accessKey"].(map[string]any)
			if k == nil {
				return template{}, false
			}
			k["accessKeyId"] = slotNames[slotNewKey]
		default:
			return template{}, false
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return template{}, false
	}
	var t template
	for {
		at, slot := -1, -1
		for s, name := range slotNames {
			if i := bytes.Index(b, []byte(`"`+name+`"`)); i >= 0 && (at < 0 || i < at) {
				at, slot = i, s
			}
		}
		if at < 0 {
			t.lits = append(t.lits, b)
			return t, true
		}
		t.lits = append(t.lits, b[:at])
		t.slots = append(t.slots, slot)
		b = b[at+len(slotNames[slot])+2:]
	}
}

// issuesKey tells whether a record hands out a key, as trail.Event's
// Derivation reads it.
func issuesKey(raw json.RawMessage) bool {
	var r struct {
		EventName        string
		ResponseElements struct {
			Credentials struct{ AccessKeyID string }
			AccessKey   struct{ AccessKeyID string }
		}
	}
	_ = json.Unmarshal(raw, &r)
	return r.ResponseElements.Credentials.AccessKeyID != "" || r.ResponseElements.AccessKey.AccessKeyID != ""
}

// derivation is a call of Leaked that issued a key.
type derivation struct {
	file    int // the file that holds the call
	at      time.Time
	key     string
	until   time.Time // zero for an access key
	created bool      // CreateAccessKey
}

type logTreePlan struct {
	spec    LogTreeSpec
	files   int
	slotLen time.Duration
	start   time.Time
	noise   []template
	plain   []template // noise that issues no key
	assume  []template
	create  []template
	derived []derivation
	byFile  map[int][]int // file -> indexes in derived of the calls it holds
}

func (p *logTreePlan) slot(i int) (region string, from time.Time) {
	j := i / len(logTreeRegions)
	return logTreeRegions[i%len(logTreeRegions)], p.start.Add(time.Duration(j) * p.slotLen)
}

func (p *logTreePlan) path(dir string, i int) string {
	region, from := p.slot(i)
	return filepath.Join(dir, "AWSLogs", logTreeAccount, "CloudTrail", region, from.Format("2006/01/02"),
		fmt.Sprintf("%s_CloudTrail_%s_%s_%06d.json.gz", logTreeAccount, region, from.Format("20060102T1504Z"), i))
}

func uuid(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16)
}

func keyID(r *rand.Rand, prefix string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix + "0000000000000000")
	for i := 4; i < len(b); i++ {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

// file renders file i and returns the document and its hits.
func (p *logTreePlan) file(i int, buf []byte) ([]byte, int) {
	r := rand.New(rand.NewPCG(p.spec.Seed^uint64(i), 0x6b65796c65616b))
	region, from := p.slot(i)
	pool := make([]string, 80)
	for k := range pool {
		prefix := "AKIA"
		if k%3 != 0 {
			prefix = "ASIA" // role sessions: most keys of a busy account
		}
		pool[k] = keyID(rand.New(rand.NewPCG(uint64(k), uint64(i/len(logTreeRegions)/8))), prefix)
	}
	var vals [nSlots]string
	hits := 0
	b := append(buf[:0], `{"Records":[`...)
	for n := range p.spec.PerFile {
		if n > 0 {
			b = append(b, ',')
		}
		at := from.Add(time.Duration(r.Int64N(int64(p.slotLen)))).Truncate(time.Second)
		key, hit := pool[r.IntN(len(pool))], false
		switch x := r.Float64(); {
		case x < p.spec.LeakedShare:
			key, hit = p.spec.Leaked, true
		case x < p.spec.LeakedShare+p.spec.DerivedShare:
			// One of the derived keys that work at this time, if any.
			var live []string
			for _, d := range p.derived {
				if at.After(d.at) && (d.until.IsZero() || at.Before(d.until)) {
					live = append(live, d.key)
				}
			}
			if len(live) > 0 {
				key, hit = live[r.IntN(len(live))], true
			}
		}
		if hit {
			hits++
		}
		vals = [nSlots]string{uuid(r), at.UTC().Format(time.RFC3339), region, uuid(r), key}
		t := p.noise[r.IntN(len(p.noise))]
		if hit {
			// The keys of the chain make no other keys than the planned ones.
			t = p.plain[r.IntN(len(p.plain))]
		}
		b = t.render(b, &vals)
	}
	for _, k := range p.byFile[i] {
		d := p.derived[k]
		t := p.assume[k%len(p.assume)]
		if d.created {
			t = p.create[k%len(p.create)]
		}
		vals = [nSlots]string{uuid(r), d.at.UTC().Format(time.RFC3339), region, uuid(r), p.spec.Leaked, d.key,
			d.until.UTC().Format("Jan 2, 2006, 3:04:05 PM")}
		b = append(b, ',')
		b = t.render(b, &vals)
		hits++
	}
	return append(b, "]}"...), hits
}

// WriteLogTree writes the tree under dir, GOMAXPROCS files at a time,
// gzipped at gzip's default level as CloudTrail delivers them.
func WriteLogTree(ctx context.Context, dir string, templates []json.RawMessage, spec LogTreeSpec) (*LogTree, error) {
	if spec.LeakedShare == 0 {
		spec.LeakedShare = 0.015
	}
	if spec.Roles == 0 {
		spec.Roles = 20
	}
	if spec.Keys == 0 {
		spec.Keys = 2
	}
	if spec.DerivedShare == 0 {
		spec.DerivedShare = 0.005
	}
	if spec.PerFile == 0 {
		spec.PerFile = 1000
	}
	p := &logTreePlan{spec: spec, start: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), byFile: map[int][]int{}}
	for _, raw := range templates {
		if t, ok := makeTemplate(raw, false); ok {
			p.noise = append(p.noise, t)
			if !bytes.Contains(raw, []byte(`"accessKeyId"`)) || !issuesKey(raw) {
				p.plain = append(p.plain, t)
			}
		}
		if t, ok := makeTemplate(raw, true); ok {
			var name struct{ EventName string }
			_ = json.Unmarshal(raw, &name)
			if name.EventName == "CreateAccessKey" {
				p.create = append(p.create, t)
			} else {
				p.assume = append(p.assume, t)
			}
		}
	}
	if len(p.plain) == 0 || len(p.assume) == 0 || len(p.create) == 0 {
		return nil, errors.New("write log tree: the templates need records with a userIdentity, an AssumeRole and a CreateAccessKey")
	}
	// Size the tree from a sample file.
	p.files, p.slotLen = len(logTreeRegions), 24*time.Hour
	sample, _ := p.file(0, nil)
	p.files = max(len(logTreeRegions), int((int64(spec.MB)*1e6+int64(len(sample))-1)/int64(len(sample))))
	p.files = (p.files + len(logTreeRegions) - 1) / len(logTreeRegions) * len(logTreeRegions)
	// A file an hour a region at most, so that a file holds events of the
	// day it is dated, as CloudTrail's do (it delivers every few minutes):
	// the scanner rules files out by their date.
	p.slotLen = min(30*24*time.Hour/time.Duration(p.files/len(logTreeRegions)), time.Hour)

	// The calls that issue keys, spread over the month after its first
	// day: CreateAccessKey in us-east-1, where IAM logs, AssumeRole half
	// there (STS's global endpoint) and half in another region (a regional
	// endpoint logs in its region).
	r := rand.New(rand.NewPCG(spec.Seed, 1))
	slots := p.files / len(logTreeRegions)
	for k := range spec.Roles + spec.Keys {
		i := min(1+r.IntN(max(1, slots-1)), slots-1) * len(logTreeRegions)
		if k < spec.Roles && k%2 == 1 {
			i += 1 + r.IntN(len(logTreeRegions)-1)
		}
		_, from := p.slot(i)
		d := derivation{file: i, at: from.Add(time.Duration(r.Int64N(int64(p.slotLen)))).Truncate(time.Second)}
		if k < spec.Roles {
			d.key = keyID(r, "ASIA")
			d.until = d.at.Add(time.Hour)
		} else {
			d.key = keyID(r, "AKIA")
			d.created = true
		}
		p.byFile[i] = append(p.byFile[i], len(p.derived))
		p.derived = append(p.derived, d)
	}
	tree := &LogTree{Dir: dir, Paths: make([]string, p.files), Keys: []string{spec.Leaked}}
	sorted := append([]derivation(nil), p.derived...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].at.Before(sorted[j].at) })
	for _, d := range sorted {
		tree.Keys = append(tree.Keys, d.key)
	}

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range p.files {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			doc, hits := p.file(i, nil)
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			if _, err := zw.Write(doc); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			path := p.path(dir, i)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			tree.Paths[i] = path
			tree.Raw += int64(len(doc))
			tree.Gz += int64(z.Len())
			tree.Records += spec.PerFile + len(p.byFile[i])
			tree.Hits += hits
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("write log tree: %w", err)
	}
	sort.Strings(tree.Paths)
	return tree, nil
}

// Decompress runs `tool -dc FILE` (gzip, igzip, pigz) on each path, workers
// at a time, output to /dev/null: the floor a log scanner is compared with.
func Decompress(ctx context.Context, tool string, paths []string, workers int) (time.Duration, error) {
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, p := range paths {
		g.Go(func() error {
			// Stdout left nil goes to /dev/null.
			if err := exec.CommandContext(gctx, tool, "-dc", p).Run(); err != nil {
				return fmt.Errorf("%s -dc %s: %w", tool, p, err)
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}
