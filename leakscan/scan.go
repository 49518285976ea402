// Package leakscan finds where an AWS key leaked in a git repository: every
// object the repository holds (all refs, tags, stashes, reflogs and
// unreachable objects, each blob read once, streamed) and the working tree;
// then, for hits only, the commits, paths, authors and dates that brought
// them in and whether those commits were pushed. Secrets are masked in
// every output.
package leakscan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Where a sighting is.
const (
	SourceCommit        = "commit"         // a file of a commit
	SourceCommitMessage = "commit-message" // a commit's message
	SourceTagMessage    = "tag-message"    // an annotated tag's message
	SourceIndex         = "index"          // staged, never committed
	SourceObject        = "object"         // a blob no commit or index entry refers to
	SourceWorkTree      = "working-tree"   // a file on disk
)

// Reach says who can have seen a commit, worst first.
const (
	ReachPushed      = "pushed"      // on a remote-tracking branch: the remote has it
	ReachLocal       = "local"       // on a local branch or tag, on no remote-tracking branch
	ReachStash       = "stash"       // only in the stash
	ReachReflog      = "reflog"      // only in reflogs (amended, reset, older stashes)
	ReachUnreachable = "unreachable" // dangling: only in this copy's object store
	ReachDisk        = "disk"        // a working-tree file, or an object outside any commit
)

var reachRank = map[string]int{ReachPushed: 6, ReachLocal: 5, ReachStash: 4, ReachReflog: 3, ReachUnreachable: 2, ReachDisk: 1}

// Result is what a scan found.
type Result struct {
	Repo     string    `json:"repo"`
	Key      string    `json:"key,omitempty"` // the key asked for, if any
	Bare     bool      `json:"bare,omitempty"`
	Shallow  bool      `json:"shallow,omitempty"`
	Objects  int64     `json:"objects"`      // objects in the object store
	Scanned  int64     `json:"objectsRead"`  // blobs, commits and tags read
	Bytes    int64     `json:"bytesScanned"` // of objects and working-tree files
	Binary   int64     `json:"binaryBlobs"`
	Files    int64     `json:"workingTreeFiles"`
	Findings []Finding `json:"findings"`
	// Notes are what the scan could not see or treated specially, one
	// sentence each (shallow clone, partial clone, binary blobs).
	Notes []string `json:"notes,omitempty"`
}

// Finding is one credential or identifier and every place it was seen.
type Finding struct {
	Kind string `json:"kind"`
	// Value is the ID, or for a secret its mask (never the secret).
	Value string `json:"value"`
	// Near is, for a secret, the access key ID seen next to it.
	Near      string     `json:"near,omitempty"`
	Reach     string     `json:"reach"` // the worst reach of its sightings
	PushedTo  []string   `json:"pushedTo,omitempty"`
	Locations []Location `json:"locations"`
}

// Location is one sighting.
type Location struct {
	Source  string    `json:"source"`
	Path    string    `json:"path,omitempty"`
	Line    int       `json:"line,omitempty"`
	Blob    string    `json:"blob,omitempty"`
	Commit  string    `json:"commit,omitempty"`
	Author  string    `json:"author,omitempty"`
	Date    time.Time `json:"date,omitzero"`
	Subject string    `json:"subject,omitempty"`
	Refs    []string  `json:"refs,omitempty"`
	Reach   string    `json:"reach"`
	// InHEAD is true when the blob is still in the checked-out commit; false
	// for a key committed and removed later (it is in history all the same).
	InHEAD bool `json:"inHead,omitempty"`
	Binary bool `json:"binary,omitempty"`
}

// InputError is a repository the scan cannot read, in one sentence.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return e.Reason }

// Option configures a scan.
type Option func(*scanner)

// WithKey limits the findings to one access key ID and the secrets seen
// next to it.
func WithKey(id string) Option { return func(s *scanner) { s.key = id } }

// WithGit sets the git binary (default "git" on PATH).
func WithGit(path string) Option { return func(s *scanner) { s.gitBin = path } }

// WithMaxInMemory sets the largest object read whole (default 16 MiB);
// larger ones are scanned in chunks of this size.
func WithMaxInMemory(n int) Option { return func(s *scanner) { s.maxInMemory = n } }

// WithoutWorkTree skips the working tree.
func WithoutWorkTree() Option { return func(s *scanner) { s.noWorkTree = true } }

type scanner struct {
	key         string
	gitBin      string
	maxInMemory int
	noWorkTree  bool

	g        *git
	res      *Result
	top      string // working tree root, "" for bare repositories
	gitDir   string
	commits  []string
	blobHits map[string][]objHit // blob -> hits
	msgHits  map[string][]objHit // commit or tag -> hits in its message
	msgType  map[string]string
	wtHits   map[string][]objHit // working-tree path -> hits
	history  *historyLog
}

// Scan scans the git repository at path. Errors: *InputError for a path
// that is not a readable repository, and git's own failures.
func Scan(ctx context.Context, path string, opts ...Option) (*Result, error) {
	s := &scanner{gitBin: "git", maxInMemory: 16 << 20,
		blobHits: map[string][]objHit{}, msgHits: map[string][]objHit{}, msgType: map[string]string{}, wtHits: map[string][]objHit{}}
	for _, o := range opts {
		o(s)
	}
	if err := s.open(ctx, path); err != nil {
		return nil, err
	}
	// The history's raw log is written beside the object pass: the two use
	// a core each, and the log is read only if something is found.
	s.history = s.g.startHistoryLog(ctx)
	defer s.history.close()
	if err := s.scanObjects(ctx); err != nil {
		return nil, err
	}
	if s.top != "" && !s.noWorkTree {
		if err := s.scanWorkTree(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.locate(ctx); err != nil {
		return nil, err
	}
	return s.res, nil
}

// open checks the repository and notes what the scan cannot see.
func (s *scanner) open(ctx context.Context, path string) error {
	if _, err := exec.LookPath(s.gitBin); err != nil {
		return &InputError{Reason: "git is not installed or not on PATH; install git to scan a repository"}
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &InputError{Reason: fmt.Sprintf("%s does not exist; pass the path of a git clone", path)}
	case err != nil:
		return &InputError{Reason: fmt.Sprintf("%s cannot be read: %v", path, err)}
	case !st.IsDir():
		return &InputError{Reason: fmt.Sprintf("%s is a file, not a directory; pass the path of a git clone", path)}
	}
	s.g = &git{bin: s.gitBin, dir: path}
	out, err := s.g.output(ctx, "rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ge *gitError
		if errors.As(err, &ge) && strings.Contains(strings.ToLower(ge.stderr), "not a git repository") {
			return &InputError{Reason: fmt.Sprintf("%s is not a git repository (no .git in it or above it); pass the path of a clone", path)}
		}
		return &InputError{Reason: fmt.Sprintf("%s cannot be read as a git repository: %v", path, err)}
	}
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return &InputError{Reason: fmt.Sprintf("%s cannot be read as a git repository: git rev-parse said %q", path, out)}
	}
	s.gitDir = f[0]
	s.res = &Result{Repo: path, Key: s.key, Bare: f[1] == "true", Shallow: f[2] == "true", Findings: []Finding{}}
	if !s.res.Bare {
		if top, err := s.g.output(ctx, "rev-parse", "--show-toplevel"); err == nil {
			s.top = strings.TrimSpace(string(top))
		}
	}
	if s.res.Shallow {
		n := 0
		if b, err := os.ReadFile(filepath.Join(s.gitDir, "shallow")); err == nil {
			n = len(strings.Fields(string(b)))
		}
		s.res.Notes = append(s.res.Notes, fmt.Sprintf("This is a shallow clone: history behind its %d boundary commit(s) is not in it, so a key committed and removed before them cannot be seen; scan a full clone (git fetch --unshallow) to see everything.", n))
	}
	if out, err := s.g.output(ctx, "config", "--get", "extensions.partialclone"); err == nil && len(strings.TrimSpace(string(out))) > 0 {
		s.res.Notes = append(s.res.Notes, "This is a partial clone: blobs never downloaded are not in it and were not scanned; scan a full clone to see every file version.")
	}
	return nil
}

// scanObjects reads every object of the object store once, streamed: packed
// and loose, reachable or not. Blobs, commits and tags are scanned.
func (s *scanner) scanObjects(ctx context.Context) error {
	ss := newStreamScanner(s.maxInMemory)
	read := func(r *bufio.Reader) error {
		return readBatch(r, ss, func(oid, typ string, size int64, hits []objHit, binary bool) error {
			s.res.Scanned++
			s.res.Bytes += size
			switch typ {
			case "blob":
				if binary {
					s.res.Binary++
				}
				if len(hits) > 0 {
					s.blobHits[oid] = hits
				}
			case "commit", "tag":
				if typ == "commit" {
					s.commits = append(s.commits, oid)
				}
				if len(hits) > 0 {
					s.msgHits[oid] = hits
					s.msgType[oid] = typ
				}
			}
			return ctx.Err()
		})
	}
	// The list of every object (cheap: no content is inflated) feeds the
	// reader of contents with everything but trees, in pack order, so git's
	// delta cache serves consecutive objects. Trees are most of the bytes of
	// a long history and hold names and object IDs only.
	list := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		err := s.g.stream(ctx, nil, func(r *bufio.Reader) error {
			for {
				line, err := r.ReadString('\n')
				if oid, typ, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
					s.res.Objects++
					if typ != "tree" {
						if _, werr := bw.WriteString(oid + "\n"); werr != nil {
							return werr
						}
					}
				}
				if err != nil {
					return nil
				}
			}
		}, "cat-file", "--batch-all-objects", "--unordered", "--batch-check=%(objectname) %(objecttype)")
		if err != nil {
			return err
		}
		return bw.Flush()
	}
	return s.g.stream(ctx, list, read, "cat-file", "--batch=%(objectname) %(objecttype) %(objectsize)")
}

// scanWorkTree reads every regular file under the working tree root except
// git's own directories: tracked, untracked and ignored files alike (a .env
// file that git ignores is still a copy of the key on disk).
func (s *scanner) scanWorkTree(ctx context.Context) error {
	ss := newStreamScanner(s.maxInMemory)
	return filepath.WalkDir(s.top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable entries are skipped; the object store has the history
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		hits, _, err := ss.scan(bufio.NewReaderSize(f, 256<<10), info.Size())
		if err != nil {
			return nil // a file that changed size while read; skip it
		}
		s.res.Files++
		s.res.Bytes += info.Size()
		if len(hits) > 0 {
			rel, _ := filepath.Rel(s.top, p)
			s.wtHits[filepath.ToSlash(rel)] = hits
		}
		return nil
	})
}

// wanted reports whether a hit belongs in the result.
func (s *scanner) wanted(h objHit) bool {
	return s.key == "" || h.Value == s.key || h.Near == s.key
}

// locate turns hits into findings: commits, paths and reach for blobs,
// paths for working-tree files.
func (s *scanner) locate(ctx context.Context) error {
	want := map[string]bool{}
	for oid, hits := range s.blobHits {
		for _, h := range hits {
			if s.wanted(h) {
				want[oid] = true
			}
		}
	}
	intro := map[string][]introduction{}
	if len(want) > 0 {
		var (
			seen map[string]bool
			err  error
		)
		if intro, seen, err = s.history.read(want); err != nil {
			// An empty repository has no history to log; anything else
			// falls back to asking about every commit.
			intro, seen = map[string][]introduction{}, map[string]bool{}
		}
		// Commits no ref or reflog reaches (dangling, dropped stashes) are
		// known only to the object pass.
		var rest []string
		for _, c := range s.commits {
			if !seen[c] {
				rest = append(rest, c)
			}
		}
		if len(rest) > 0 {
			if err := s.g.introductions(ctx, rest, want, intro); err != nil {
				return err
			}
		}
	}
	head := map[string]bool{}
	if len(want) > 0 && !s.res.Bare {
		head, _ = s.g.set(ctx, "ls-tree", "-r", "--format=%(objectname)", "HEAD") // no HEAD yet: empty
	}
	index := map[string][]string{}
	if len(want) > 0 && !s.res.Bare {
		index = s.indexPaths(ctx, want)
	}
	reach := newReacher(s.g)

	byValue := map[string]*Finding{}
	add := func(h objHit, loc Location) {
		if !s.wanted(h) {
			return
		}
		f := byValue[h.Kind+"|"+h.Value]
		if f == nil {
			f = &Finding{Kind: h.Kind, Value: h.Value, Near: h.Near}
			byValue[h.Kind+"|"+h.Value] = f
		}
		if f.Near == "" {
			f.Near = h.Near
		}
		loc.Line, loc.Binary = h.Line, h.Binary
		f.Locations = append(f.Locations, loc)
	}
	for oid, hits := range s.blobHits {
		if !want[oid] {
			continue
		}
		var locs []Location
		for _, in := range intro[oid] {
			refs, r, err := reach.of(ctx, in.Commit.ID)
			if err != nil {
				return err
			}
			locs = append(locs, Location{Source: SourceCommit, Path: in.Path, Blob: oid, Commit: in.Commit.ID,
				Author: in.Commit.Author, Date: in.Commit.Date, Subject: in.Commit.Subject, Refs: refs, Reach: r, InHEAD: head[oid]})
		}
		if len(locs) == 0 {
			for _, p := range index[oid] {
				locs = append(locs, Location{Source: SourceIndex, Path: p, Blob: oid, Reach: ReachDisk})
			}
		}
		if len(locs) == 0 {
			locs = append(locs, Location{Source: SourceObject, Blob: oid, Reach: ReachDisk})
		}
		for _, h := range hits {
			for _, l := range locs {
				add(h, l)
			}
		}
	}
	for oid, hits := range s.msgHits {
		loc := Location{Source: SourceTagMessage, Blob: oid, Reach: ReachLocal}
		if s.msgType[oid] == "commit" {
			refs, r, err := reach.of(ctx, oid)
			if err != nil {
				return err
			}
			loc = Location{Source: SourceCommitMessage, Commit: oid, Refs: refs, Reach: r}
		}
		for _, h := range hits {
			add(h, loc)
		}
	}
	for p, hits := range s.wtHits {
		for _, h := range hits {
			add(h, Location{Source: SourceWorkTree, Path: p, Reach: ReachDisk})
		}
	}
	for _, f := range byValue {
		f.Reach = ReachDisk
		pushed := map[string]bool{}
		for _, l := range f.Locations {
			if reachRank[l.Reach] > reachRank[f.Reach] {
				f.Reach = l.Reach
			}
			for _, r := range l.Refs {
				if strings.HasPrefix(r, "refs/remotes/") {
					pushed[strings.TrimPrefix(r, "refs/remotes/")] = true
				}
			}
		}
		for r := range pushed {
			f.PushedTo = append(f.PushedTo, r)
		}
		slices.Sort(f.PushedTo)
		slices.SortFunc(f.Locations, compareLocations)
		s.res.Findings = append(s.res.Findings, *f)
	}
	slices.SortFunc(s.res.Findings, func(a, b Finding) int {
		if c := reachRank[b.Reach] - reachRank[a.Reach]; c != 0 {
			return c
		}
		return strings.Compare(a.Kind+a.Value, b.Kind+b.Value)
	})
	if s.res.Binary > 0 {
		s.res.Notes = append(s.res.Notes, fmt.Sprintf("%d binary blob(s) were read as raw bytes: key IDs in them are found, and a secret only when it sits next to a key ID or the word \"secret\".", s.res.Binary))
	}
	return nil
}

func compareLocations(a, b Location) int {
	if c := reachRank[b.Reach] - reachRank[a.Reach]; c != 0 {
		return c
	}
	if c := a.Date.Compare(b.Date); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source+a.Path, b.Source+b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.Commit, b.Commit)
}

// indexPaths finds the wanted blobs that are staged in the index.
func (s *scanner) indexPaths(ctx context.Context, want map[string]bool) map[string][]string {
	out := map[string][]string{}
	b, err := s.g.output(ctx, "ls-files", "-s", "-z")
	if err != nil {
		return out
	}
	for _, ent := range strings.Split(string(b), "\x00") {
		meta, path, ok := strings.Cut(ent, "\t")
		f := strings.Fields(meta)
		if ok && len(f) >= 2 && want[f[1]] {
			out[f[1]] = append(out[f[1]], path)
		}
	}
	return out
}

// reacher tells how far a commit got, caching answers.
type reacher struct {
	g      *git
	cache  map[string]reachAnswer
	reflog map[string]bool
}

type reachAnswer struct {
	refs  []string
	reach string
}

func newReacher(g *git) *reacher { return &reacher{g: g, cache: map[string]reachAnswer{}} }

func (r *reacher) of(ctx context.Context, commit string) ([]string, string, error) {
	if a, ok := r.cache[commit]; ok {
		return a.refs, a.reach, nil
	}
	refs, err := r.g.refsContaining(ctx, commit)
	if err != nil {
		return nil, "", err
	}
	a := reachAnswer{refs: refs, reach: ReachUnreachable}
	for _, ref := range refs {
		var rr string
		switch {
		case strings.HasPrefix(ref, "refs/remotes/"):
			rr = ReachPushed
		case ref == "refs/stash":
			rr = ReachStash
		default:
			rr = ReachLocal
		}
		if reachRank[rr] > reachRank[a.reach] {
			a.reach = rr
		}
	}
	if len(refs) == 0 {
		if r.reflog == nil {
			// Every commit reflogs mention, and their ancestors: amended and
			// reset commits, older stash entries.
			if r.reflog, err = r.g.set(ctx, "rev-list", "--reflog"); err != nil {
				r.reflog = map[string]bool{}
			}
		}
		if r.reflog[commit] {
			a.reach = ReachReflog
		}
	}
	r.cache[commit] = a
	return a.refs, a.reach, nil
}
