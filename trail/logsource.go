package trail

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// LogSource lists and opens CloudTrail log files: a directory tree
// (DirLogs) or an S3 bucket (S3Logs).
type LogSource interface {
	// List returns the log files, leaving out S3-layout paths whose date
	// lies outside w.
	List(ctx context.Context, w Window) ([]LogFile, error)
	// Open streams one file's bytes as stored (gzip or not).
	Open(ctx context.Context, f LogFile) (io.ReadCloser, error)
}

// LogFile is one file of a LogSource.
type LogFile struct {
	Path string // file system path, or S3 object key
	Size int64
	// Skip says why the file is listed but not read (not a regular file:
	// opening a FIFO blocks until someone writes to it); "" for files read.
	Skip string
}

// isLogFile tells whether a name is a file of records keyleak reads:
// .json and .jsonl (.ndjson), each optionally gzipped.
func isLogFile(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	return strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson")
}

// isJSONLines tells whether a log file holds one record a line rather than
// a {"Records":[…]} document.
func isJSONLines(name string) bool {
	n := strings.TrimSuffix(strings.ToLower(name), ".gz")
	return strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson")
}

// layout is what a path says about itself in CloudTrail's S3 layout
// AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.
type layout struct {
	ok      bool
	account string
	region  string
	date    []int // year, month, day as far as the path goes
}

// parseLayout reads a slash-separated path (a prefix or a file).
func parseLayout(p string) layout {
	segs := strings.Split(strings.Trim(filepath.ToSlash(p), "/"), "/")
	for i := 1; i+1 < len(segs); i++ {
		if segs[i] != "CloudTrail" || !isAccountID(segs[i-1]) {
			continue
		}
		l := layout{ok: true, account: segs[i-1], region: segs[i+1]}
		widths := []int{4, 2, 2}
		for j, w := range widths {
			k := i + 2 + j
			if k >= len(segs) || len(segs[k]) != w {
				break
			}
			n, err := strconv.Atoi(segs[k])
			if err != nil {
				break
			}
			l.date = append(l.date, n)
		}
		return l
	}
	return layout{}
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// span is the range of days a layout path covers: a year, a month or a day.
func (l layout) span() (first, last time.Time, ok bool) {
	switch len(l.date) {
	case 1:
		first = time.Date(l.date[0], 1, 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(1, 0, -1), true
	case 2:
		first = time.Date(l.date[0], time.Month(l.date[1]), 1, 0, 0, 0, 0, time.UTC)
		return first, first.AddDate(0, 1, -1), true
	case 3:
		first = time.Date(l.date[0], time.Month(l.date[1]), l.date[2], 0, 0, 0, 0, time.UTC)
		return first, first, true
	}
	return time.Time{}, time.Time{}, false
}

// day returns the delivery day of a file in the layout.
func (l layout) day() (time.Time, bool) {
	if len(l.date) != 3 {
		return time.Time{}, false
	}
	d, _, ok := l.span()
	return d, ok
}

// dayRange is a range of days, open where zero.
type dayRange struct{ from, to time.Time }

// windowDays is the range of delivery days that can hold events of w:
// CloudTrail delivers a file minutes after its events, so a file dated the
// day after until may still hold some.
func windowDays(w Window) dayRange {
	var r dayRange
	if !w.Since.IsZero() {
		r.from = w.Since.UTC().Truncate(24 * time.Hour)
	}
	if !w.Until.IsZero() {
		r.to = w.Until.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	return r
}

// overlaps tells whether the days [first, last] meet r.
func (r dayRange) overlaps(first, last time.Time) bool {
	return (r.from.IsZero() || !last.Before(r.from)) && (r.to.IsZero() || !first.After(r.to))
}

// prunable tells whether a layout path (directory, prefix or file) lies
// wholly outside the window.
func prunable(p string, days dayRange) bool {
	l := parseLayout(p)
	if !l.ok {
		return false
	}
	first, last, ok := l.span()
	return ok && !days.overlaps(first, last)
}

// DirLogs is a directory tree of log files on disk (or a single file).
type DirLogs string

// List walks the tree and returns the log files in path order, skipping
// date directories of the S3 layout outside w and digest files.
func (d DirLogs) List(ctx context.Context, w Window) ([]LogFile, error) {
	days := windowDays(w)
	var out []LogFile
	err := filepath.WalkDir(string(d), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() {
			if de.Name() == "CloudTrail-Digest" || (p != string(d) && prunable(p, days)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !isLogFile(de.Name()) || prunable(p, days) {
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			if info, err = os.Stat(p); err != nil {
				out = append(out, LogFile{Path: p, Skip: fmt.Sprintf("broken link: %v", err)})
				return nil
			}
		}
		if !info.Mode().IsRegular() {
			out = append(out, LogFile{Path: p, Skip: fmt.Sprintf("not a regular file (%s)", fileKind(info.Mode()))})
			return nil
		}
		out = append(out, LogFile{Path: p, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list log files in %s: %w", string(d), err)
	}
	return out, nil
}

// fileKind names what a file that is not a regular file is.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return m.Type().String()
}

// Open opens a file of the tree.
func (d DirLogs) Open(_ context.Context, f LogFile) (io.ReadCloser, error) {
	return os.Open(f.Path)
}

// S3API is what S3Logs needs of an S3 client.
type S3API interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3Logs is a trail's bucket: log files under s3://Bucket/Prefix.
type S3Logs struct {
	Client S3API
	Bucket string
	Prefix string
	// ListConcurrency bounds parallel ListObjectsV2 calls (default 8).
	ListConcurrency int
}

// NewS3Logs reads an s3://bucket/prefix location.
func NewS3Logs(client S3API, uri string) (*S3Logs, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return nil, fmt.Errorf("parse s3 location %q: want s3://bucket/prefix", uri)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("parse s3 location %q: no bucket", uri)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &S3Logs{Client: client, Bucket: bucket, Prefix: prefix}, nil
}

// maxDayPrefixes bounds listing a region by one prefix a day; a longer or
// open window lists the region's date folders instead.
const maxDayPrefixes = 400

// List walks the bucket level by level with "/" as delimiter. At the region
// level of the layout it lists only the day prefixes within w, so that a
// trail with years of logs costs a few calls per region and day.
func (s *S3Logs) List(ctx context.Context, w Window) ([]LogFile, error) {
	days := windowDays(w)
	limit := s.ListConcurrency
	if limit <= 0 {
		limit = 8
	}
	var (
		mu    sync.Mutex
		files []LogFile
	)
	level := expandRegion(s.Prefix, days)
	for len(level) > 0 {
		var next []string
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(limit)
		for _, p := range level {
			g.Go(func() error {
				subs, objs, err := s.listLevel(gctx, p)
				if err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				for _, o := range objs {
					if isLogFile(o.Path) && !prunable(o.Path, days) {
						files = append(files, o)
					}
				}
				for _, sp := range subs {
					if strings.HasSuffix(strings.TrimSuffix(sp, "/"), "/CloudTrail-Digest") || prunable(sp, days) {
						continue
					}
					next = append(next, expandRegion(sp, days)...)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, s.Prefix, err)
		}
		level = next
	}
	slices.SortFunc(files, func(a, b LogFile) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// expandRegion replaces the prefix of a region in the layout by its day
// prefixes within days; any other prefix is returned as it is.
func expandRegion(p string, days dayRange) []string {
	l := parseLayout(p)
	if !l.ok || len(l.date) > 0 || days.from.IsZero() || days.to.IsZero() {
		return []string{p}
	}
	n := int(days.to.Sub(days.from).Hours()/24) + 1
	if n > maxDayPrefixes || n <= 0 {
		return []string{p}
	}
	out := make([]string, 0, n)
	for d := days.from; !d.After(days.to); d = d.AddDate(0, 0, 1) {
		out = append(out, p+d.Format("2006/01/02")+"/")
	}
	return out
}

// listLevel lists the objects and sub-prefixes directly under prefix.
func (s *S3Logs) listLevel(ctx context.Context, prefix string) (subs []string, objs []LogFile, err error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	for {
		out, err := s.Client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, nil, err
		}
		for _, cp := range out.CommonPrefixes {
			subs = append(subs, aws.ToString(cp.Prefix))
		}
		for _, o := range out.Contents {
			objs = append(objs, LogFile{Path: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return subs, objs, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// Open streams an object.
func (s *S3Logs) Open(ctx context.Context, f LogFile) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(f.Path)})
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, f.Path, err)
	}
	return out.Body, nil
}
