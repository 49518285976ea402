package leakscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// git runs git commands in one repository.
type git struct {
	bin string
	dir string
}

func (g *git) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, g.bin, append([]string{"-C", g.dir}, args...)...)
	// No pager, no prompts, no lazy fetch of missing objects from a
	// promisor remote: the scan reads what this copy holds and nothing else.
	cmd.Env = append(os.Environ(), "GIT_PAGER=cat", "GIT_TERMINAL_PROMPT=0", "GIT_NO_LAZY_FETCH=1", "LC_ALL=C")
	return cmd
}

// output runs a git command and returns its standard output.
func (g *git) output(ctx context.Context, args ...string) ([]byte, error) {
	cmd := g.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return out, &gitError{args: args, stderr: strings.TrimSpace(stderr.String()), err: err}
	}
	return out, nil
}

// gitError is a git command that failed; its message is git's own.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := e.stderr
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", e.args[0], msg)
}

func (e *gitError) Unwrap() error { return e.err }

// stream runs a git command, feeds it stdin (if not nil) from a goroutine,
// and calls read with its standard output.
func (g *git) stream(ctx context.Context, stdin func(io.Writer) error, read func(*bufio.Reader) error, args ...string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := g.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("run git %s: %w", args[0], err)
	}
	var in io.WriteCloser
	if stdin != nil {
		if in, err = cmd.StdinPipe(); err != nil {
			return fmt.Errorf("run git %s: %w", args[0], err)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run git %s: %w", args[0], err)
	}
	writeErr := make(chan error, 1)
	if stdin != nil {
		go func() {
			err := stdin(in)
			if cerr := in.Close(); err == nil {
				err = cerr
			}
			writeErr <- err
		}()
	} else {
		writeErr <- nil
	}
	readErr := read(bufio.NewReaderSize(out, 1<<20))
	if readErr != nil {
		cancel() // stop git before waiting for it
	}
	_, _ = io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	wErr := <-writeErr
	switch {
	case readErr != nil:
		return readErr
	case ctx.Err() != nil && waitErr != nil:
		return ctx.Err()
	case waitErr != nil:
		return &gitError{args: args, stderr: strings.TrimSpace(stderr.String()), err: waitErr}
	case wErr != nil && !errors.Is(wErr, os.ErrClosed):
		return fmt.Errorf("feed git %s: %w", args[0], wErr)
	}
	return nil
}

// commitInfo is what a finding shows of a commit.
type commitInfo struct {
	ID      string
	Author  string
	Date    time.Time
	Subject string
}

// introduction is a commit that brought a blob in at a path.
type introduction struct {
	Commit commitInfo
	Path   string
}

// logFormat starts each commit of a raw log with \x01 and its fields.
const logFormat = "--format=%x01%H%x00%an <%ae>%x00%aI%x00%s"

// rawLogArgs make git log print, for each commit, the blobs it adds or
// changes against its first parent (or all, for a root commit): tree
// differences only, no content diffs.
var rawLogArgs = []string{"--raw", "--no-abbrev", "--no-renames", "--root", "--diff-merges=first-parent", logFormat}

// historyLog is `git log --all --reflog --raw` running beside the object
// pass, writing to a temporary file: the commits of every ref and reflog
// entry, so that the introductions of the hits can be read once the hits
// are known without walking the history again, in bounded memory.
type historyLog struct {
	cmd  *exec.Cmd
	file *os.File
	err  error
	done chan struct{}
}

func (g *git) startHistoryLog(ctx context.Context) *historyLog {
	h := &historyLog{done: make(chan struct{})}
	f, err := os.CreateTemp("", "keyleak-scan-log-*")
	if err != nil {
		h.err = fmt.Errorf("create history log: %w", err)
		close(h.done)
		return h
	}
	h.file = f
	h.cmd = g.command(ctx, append([]string{"log", "--all", "--reflog"}, rawLogArgs...)...)
	h.cmd.Stdout = f
	var stderr bytes.Buffer
	h.cmd.Stderr = &stderr
	if err := h.cmd.Start(); err != nil {
		h.err = fmt.Errorf("run git log: %w", err)
		close(h.done)
		return h
	}
	go func() {
		defer close(h.done)
		if err := h.cmd.Wait(); err != nil {
			h.err = &gitError{args: []string{"log"}, stderr: strings.TrimSpace(stderr.String()), err: err}
		}
	}()
	return h
}

// close waits for git and removes the file.
func (h *historyLog) close() {
	<-h.done
	if h.file != nil {
		h.file.Close()
		os.Remove(h.file.Name())
	}
}

// read waits for the log and parses it for the wanted blobs. It returns the
// introductions and the commits the log covered.
func (h *historyLog) read(want map[string]bool) (map[string][]introduction, map[string]bool, error) {
	<-h.done
	if h.err != nil {
		return nil, nil, h.err
	}
	if _, err := h.file.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fmt.Errorf("read history log: %w", err)
	}
	out, seen := map[string][]introduction{}, map[string]bool{}
	err := parseRawLog(bufio.NewReaderSize(h.file, 1<<20), want, out, seen)
	return out, seen, err
}

// introductions finds, for every blob in want, the commits among commits
// that introduce it (the blob is new at a path against the commit's first
// parent, or the commit is a root). The scan uses it for commits no ref or
// reflog reaches, which only the object pass knows.
func (g *git) introductions(ctx context.Context, commits []string, want map[string]bool, out map[string][]introduction) error {
	feed := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		for _, c := range commits {
			if _, err := bw.WriteString(c + "\n"); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	read := func(r *bufio.Reader) error { return parseRawLog(r, want, out, map[string]bool{}) }
	return g.stream(ctx, feed, read, append([]string{"log", "--stdin", "--no-walk=unsorted"}, rawLogArgs...)...)
}

// parseRawLog reads a raw log: commit lines and ":old-mode new-mode old new
// status\tpath" lines, keeping those that bring in a wanted blob.
func parseRawLog(r *bufio.Reader, want map[string]bool, out map[string][]introduction, seen map[string]bool) error {
	var (
		cur  commitInfo
		date string // parsed only for commits that introduce a hit
	)
	for {
		line, err := r.ReadString('\n')
		if line == "" && err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read git log: %w", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "\x01"):
			f := strings.SplitN(line[1:], "\x00", 4)
			if len(f) < 4 {
				continue
			}
			cur, date = commitInfo{ID: f[0], Author: f[1], Subject: f[3]}, f[2]
			seen[cur.ID] = true
		case strings.HasPrefix(line, ":"):
			meta, path, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			f := strings.Fields(meta)
			if len(f) < 5 || !want[f[3]] || f[4] == "D" {
				continue
			}
			c := cur
			c.Subject = maskText(c.Subject)
			c.Date, _ = time.Parse(time.RFC3339, date)
			out[f[3]] = append(out[f[3]], introduction{Commit: c, Path: unquotePath(path)})
		}
	}
}

// unquotePath undoes git's C-style quoting of unusual path names.
func unquotePath(p string) string {
	if len(p) < 2 || p[0] != '"' || p[len(p)-1] != '"' {
		return p
	}
	var b strings.Builder
	s := p[1 : len(p)-1]
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch c := s[i]; {
		case c == 'n':
			b.WriteByte('\n')
		case c == 't':
			b.WriteByte('\t')
		case c >= '0' && c <= '7' && i+2 < len(s):
			b.WriteByte((c-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// refsContaining lists the refs whose history holds the commit.
func (g *git) refsContaining(ctx context.Context, commit string) ([]string, error) {
	out, err := g.output(ctx, "for-each-ref", "--contains", commit, "--format=%(refname)")
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(out)), nil
}

// set runs a git command that prints one object name a line and returns
// them as a set.
func (g *git) set(ctx context.Context, args ...string) (map[string]bool, error) {
	out := map[string]bool{}
	err := g.stream(ctx, nil, func(r *bufio.Reader) error {
		for {
			line, err := r.ReadString('\n')
			if f := strings.Fields(line); len(f) > 0 {
				out[f[0]] = true
			}
			if err != nil {
				return nil
			}
		}
	}, args...)
	return out, err
}
