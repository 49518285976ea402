package leakscan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// objHit is a hit placed in an object or file: line number and binary flag.
type objHit struct {
	hit
	Line   int
	Binary bool
}

// chunkMargin is the context a hit needs on each side: a secret counts only
// near a key ID or keyword within contextWindow bytes. Chunks of a large
// object overlap by two margins, and each chunk reports only the hits at
// least a margin from its inner edges, so every hit is seen once, with its
// full context.
const chunkMargin = contextWindow + 64

// streamScanner scans objects and files of any size in bounded memory: an
// object up to maxInMemory bytes is scanned whole, a larger one in chunks of
// that size with an overlap. Its buffer is reused from object to object.
type streamScanner struct {
	maxInMemory int
	buf         []byte
}

func newStreamScanner(maxInMemory int) *streamScanner {
	// The first chunk holds the whole binary sniff, so that a NUL byte
	// marks a large object binary exactly as it does a small one.
	return &streamScanner{maxInMemory: max(maxInMemory, 4*chunkMargin, binarySniff)}
}

// binarySniff is how many leading bytes decide whether content is binary,
// as git decides it: a NUL byte among the first 8000.
const binarySniff = 8000

// scan reads exactly size bytes from r and returns the hits with their line
// numbers (1-based) and whether the content is binary.
func (s *streamScanner) scan(r io.Reader, size int64) ([]objHit, bool, error) {
	if size <= int64(s.maxInMemory) {
		if cap(s.buf) < int(size) {
			s.buf = make([]byte, size)
		}
		b := s.buf[:size]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, false, fmt.Errorf("read object: %w", err)
		}
		binary := bytes.IndexByte(b[:min(len(b), binarySniff)], 0) >= 0
		return placeHits(b, scanBuffer(b), 1, binary, 0, len(b)), binary, nil
	}
	carry := 2 * chunkMargin
	if cap(s.buf) < s.maxInMemory+carry {
		s.buf = make([]byte, s.maxInMemory+carry)
	}
	var (
		out    []objHit
		binary bool
		kept   int   // bytes carried over from the previous chunk
		line   = 1   // line number of s.buf[0]
		done   int64 // bytes of the object read so far
	)
	for {
		n := int(min(int64(s.maxInMemory), size-done))
		b := s.buf[:kept+n]
		if _, err := io.ReadFull(r, b[kept:]); err != nil {
			return nil, false, fmt.Errorf("read object: %w", err)
		}
		if done == 0 {
			binary = bytes.IndexByte(b[:min(len(b), binarySniff)], 0) >= 0
		}
		done += int64(n)
		lo, hi := 0, len(b)
		if kept > 0 {
			lo = chunkMargin
		}
		last := done >= size
		if !last {
			hi = len(b) - chunkMargin
		}
		out = append(out, placeHits(b, scanBuffer(b), line, binary, lo, hi)...)
		if last {
			return out, binary, nil
		}
		next := len(b) - carry
		line += bytes.Count(b[:next], []byte{'\n'})
		copy(s.buf, b[next:])
		kept = carry
	}
}

// placeHits gives hits their line numbers (line is that of b[0]) and keeps
// those that start in [lo, hi).
func placeHits(b []byte, hits []hit, line int, binary bool, lo, hi int) []objHit {
	out := make([]objHit, 0, len(hits))
	pos := 0
	for _, h := range hits {
		line += bytes.Count(b[pos:h.Offset], []byte{'\n'})
		pos = h.Offset
		if h.Offset < lo || h.Offset >= hi {
			continue
		}
		out = append(out, objHit{hit: h, Line: line, Binary: binary})
	}
	return out
}

// readBatch reads the output of git cat-file --batch ("<oid> <type>
// <size>\n<content>\n" per object; "<oid> missing" for an object listed
// but absent, as in a partial clone), scans each object's content with ss
// and hands the result to each. A header that is not git's (a size that is
// not a number, or negative) is an error, never a huge or negative read.
func readBatch(r *bufio.Reader, ss *streamScanner, each func(oid, typ string, size int64, hits []objHit, binary bool) error) error {
	for {
		header, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) && header == "" {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read object list: %w", err)
		}
		f := strings.Fields(header)
		if len(f) != 3 {
			continue // "<oid> missing": an object listed but absent (partial clone)
		}
		oid, typ := f[0], f[1]
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("read object list: bad size in %q", strings.TrimSpace(header))
		}
		hits, binary, err := ss.scan(r, size)
		if err != nil {
			return fmt.Errorf("read %s %s: %w", typ, oid, err)
		}
		if _, err := r.Discard(1); err != nil { // the newline after the content
			return fmt.Errorf("read %s %s: %w", typ, oid, err)
		}
		if err := each(oid, typ, size, hits, binary); err != nil {
			return err
		}
	}
}
