package autorespond

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/keyleak/keyleak/playbook"
)

// S3 is what the case store calls.
type S3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// maxCaseFile bounds what is read back from the bucket per file: a case's
// events file is the largest, and Lambda's /tmp holds 10 GB at most.
const maxCaseFile = 4 << 30

// caseStore keeps one case directory in sync with s3://bucket/prefix/: the
// bucket is where the case lives between invocations, the directory in
// /tmp where the engine works on it.
type caseStore struct {
	s3     S3
	bucket string
	prefix string // ends in "/"
	dir    string

	mu sync.Mutex
	// sent is what was last uploaded of each file: its complete lines'
	// length for the append-only files, else its size and time.
	sent map[string]string
}

// pull replaces the local directory with the case as the bucket holds it;
// an empty prefix leaves the directory absent, for a new case.
func (cs *caseStore) pull(ctx context.Context) (int, error) {
	if err := os.RemoveAll(cs.dir); err != nil {
		return 0, fmt.Errorf("clear %s: %w", cs.dir, err)
	}
	cs.sent = map[string]string{}
	n := 0
	p := s3.NewListObjectsV2Paginator(cs.s3, &s3.ListObjectsV2Input{Bucket: aws.String(cs.bucket), Prefix: aws.String(cs.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("list s3://%s/%s: %w", cs.bucket, cs.prefix, err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), cs.prefix)
			if name == "" || strings.Contains(name, "/") || name != path.Clean(name) || strings.HasPrefix(name, ".") {
				continue // only the case's own files, never a path out of it
			}
			if err := cs.get(ctx, name); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (cs *caseStore) get(ctx context.Context, name string) error {
	out, err := cs.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cs.bucket), Key: aws.String(cs.prefix + name)})
	if err != nil {
		return fmt.Errorf("get s3://%s/%s%s: %w", cs.bucket, cs.prefix, name, err)
	}
	defer out.Body.Close()
	if err := os.MkdirAll(cs.dir, 0o700); err != nil {
		return fmt.Errorf("make %s: %w", cs.dir, err)
	}
	f, err := os.OpenFile(filepath.Join(cs.dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	_, err = io.Copy(f, io.LimitReader(out.Body, maxCaseFile))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if sig, err := cs.signature(name); err == nil {
		cs.sent[name] = sig
	}
	return nil
}

// signature says whether a file changed since it was last uploaded.
func (cs *caseStore) signature(name string) (string, error) {
	full := filepath.Join(cs.dir, name)
	if appendOnly[name] {
		b, err := os.ReadFile(full)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(bytes.LastIndexByte(b, '\n') + 1), nil
	}
	st, err := os.Stat(full)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d/%d", st.Size(), st.ModTime().UnixNano()), nil
}

// appendOnly are the case files written a line at a time: only their
// complete lines are uploaded, so that a copy taken while a line is being
// written never reads as a journal cut short.
var appendOnly = map[string]bool{playbook.JournalFile: true, playbook.EventsFile: true}

// push uploads every file of the case that changed since it was last
// uploaded. It is safe to call while the engine writes: the journal and the
// events are sent up to their last complete line.
func (cs *caseStore) push(ctx context.Context) error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	ents, err := os.ReadDir(cs.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", cs.dir, err)
	}
	var errs []error
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		sig, err := cs.signature(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", name, err))
			continue
		}
		if cs.sent[name] == sig {
			continue
		}
		b, err := os.ReadFile(filepath.Join(cs.dir, name))
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", name, err))
			continue
		}
		if appendOnly[name] {
			b = b[:bytes.LastIndexByte(b, '\n')+1]
			sig = fmt.Sprint(len(b))
		}
		if _, err := cs.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cs.bucket), Key: aws.String(cs.prefix + name),
			Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))}); err != nil {
			errs = append(errs, fmt.Errorf("put s3://%s/%s%s: %w", cs.bucket, cs.prefix, name, err))
			continue
		}
		cs.sent[name] = sig
	}
	return errors.Join(errs...)
}

// syncer pushes the case in the background whenever kicked, one push at a
// time, coalescing kicks that come while a push runs: the journal reaches
// the bucket action by action without the engine waiting for S3.
type syncer struct {
	cs   *caseStore
	kick chan struct{}
	done chan struct{}
}

func startSyncer(ctx context.Context, cs *caseStore) *syncer {
	s := &syncer{cs: cs, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for range s.kick {
			// A failed push is retried by the next, and by Close's, which
			// reports it: nothing is marked sent that was not.
			_ = cs.push(ctx)
		}
	}()
	return s
}

// Kick asks for a push soon; it never blocks.
func (s *syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Close waits for the background pushes, then pushes once more, in full.
func (s *syncer) Close(ctx context.Context) error {
	close(s.kick)
	<-s.done
	return s.cs.push(ctx)
}
