package trail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// framer reads a stream of JSON documents without decoding them: it cuts
// out the values the caller asks for (an object's field names, the elements
// of an array) by following only strings (to ignore brackets inside them)
// and bracket depth. json.Decoder.Decode into a json.RawMessage runs every
// byte through the full JSON state machine twice (read, then skip) and was
// five times slower than gzip; records that are not candidates need no more
// than their boundaries. Candidates are validated when ParseRecord compacts
// them, and a stream that ends inside a value is reported.
//
// Every value is bounded: one longer than max bytes ends the read with
// errRecordTooLong, so a file that is not what it claims (one huge string,
// a gzip bomb) cannot make the reader buffer it whole. json.Decoder buffers
// whole tokens, and the document's other fields were decoded without a cap.
type framer struct {
	ctx    context.Context
	r      io.Reader
	buf    []byte
	lo, hi int // buffered, unconsumed bytes: buf[lo:hi]
	max    int
	err    error // sticky read error, returned once the buffer is drained
	first  bool  // the next array element is the first
	// depth is the deepest nesting of the last value read.
	depth int
}

func newFramer(ctx context.Context, r io.Reader, size, maxSize int) *framer {
	return &framer{ctx: ctx, r: r, buf: make([]byte, size), max: maxSize}
}

// errRecordTooLong reports a value longer than the framer's limit.
var errRecordTooLong = errors.New("record too long")

// fill reads more bytes, first moving the unconsumed ones to the front of
// the buffer (positions kept relative to lo stay valid) and growing it when
// it is full. It checks for cancellation: a gzip bomb of whitespace takes
// seconds to inflate, and Ctrl-C must stop it.
func (f *framer) fill() error {
	if f.err != nil {
		return f.err
	}
	if err := f.ctx.Err(); err != nil {
		return err
	}
	if f.lo > 0 {
		f.hi = copy(f.buf, f.buf[f.lo:f.hi])
		f.lo = 0
	}
	if f.hi == len(f.buf) {
		if len(f.buf) >= f.max {
			return errRecordTooLong
		}
		f.buf = growBuf(f.buf[:f.hi], f.hi+1, f.max)
		f.buf = f.buf[:cap(f.buf)]
	}
	n, err := f.r.Read(f.buf[f.hi:])
	f.hi += n
	if err != nil {
		f.err = err
		if n == 0 {
			return err
		}
	}
	return nil
}

// growSteps is the size up to which growBuf doubles a buffer; past it the
// buffer goes straight to its limit. A record longer than a few mebibytes
// is a file that is not what it claims, not a CloudTrail record, and
// doubling on to the limit left the sum of every smaller buffer (as much
// again as the limit) as garbage beside it in each worker.
const growSteps = 4 << 20

// growBuf returns b with room for need bytes and b's contents: capacity
// doubled up to growSteps, then limit (or need, if that is more).
func growBuf(b []byte, need, limit int) []byte {
	if need <= cap(b) {
		return b
	}
	n := max(2*cap(b), need, 4096)
	if n > growSteps {
		n = limit
	}
	n = max(min(n, limit), need)
	nb := make([]byte, len(b), n)
	copy(nb, b)
	return nb
}

// unexpected turns the end of the stream into an error, for reads inside a
// value or an array that is not closed yet.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// peek skips white space and returns the next byte without consuming it,
// or io.EOF at the end of the stream.
func (f *framer) peek() (byte, error) {
	for {
		for f.lo < f.hi && isSpace(f.buf[f.lo]) {
			f.lo++
		}
		if f.lo < f.hi {
			return f.buf[f.lo], nil
		}
		if err := f.fill(); err != nil {
			return 0, err
		}
	}
}

// expect consumes c, the next byte after white space.
func (f *framer) expect(c byte) error {
	got, err := f.peek()
	if err != nil {
		return unexpected(err)
	}
	if got != c {
		return fmt.Errorf("invalid character %q, want %q", got, c)
	}
	f.lo++
	return nil
}

// name reads an object's field name and the colon after it.
func (f *framer) name() (string, error) {
	c, err := f.peek()
	if err != nil {
		return "", unexpected(err)
	}
	if c != '"' {
		return "", fmt.Errorf("invalid character %q, want a field name", c)
	}
	raw, err := f.value()
	if err != nil {
		return "", err
	}
	var s string
	if bytes.IndexByte(raw, '\\') < 0 {
		s = string(raw[1 : len(raw)-1])
	} else if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("read field name: %w", err)
	}
	return s, f.expect(':')
}

// next returns the next element of an array whose '[' was consumed, valid
// until the next call, or nil after the closing bracket.
func (f *framer) next() ([]byte, error) {
	c, err := f.peek()
	if err != nil {
		return nil, unexpected(err)
	}
	if c == ']' {
		f.lo++
		return nil, nil
	}
	if !f.first {
		if c != ',' {
			return nil, fmt.Errorf("invalid character %q after array element", c)
		}
		f.lo++
	}
	f.first = false
	return f.value()
}

// array consumes the '[' of an array whose elements next will return.
func (f *framer) array() error {
	if err := f.expect('['); err != nil {
		return err
	}
	f.first = true
	return nil
}

// value returns the next JSON value (after white space), valid until the
// next call. Scalars other than strings end at the first ',', ']' or '}'
// after them, which is left unread; trailing white space is trimmed.
func (f *framer) value() ([]byte, error) {
	if _, err := f.peek(); err != nil {
		return nil, unexpected(err)
	}
	// i is relative to lo, which fill may move. The inner loops skip runs
	// of uninteresting bytes through a table: most of a record is string
	// content.
	i, depth, inStr := 0, 0, false
	f.depth = 0
	for {
		b := f.buf[f.lo:f.hi]
		for i < len(b) {
			if inStr {
				// Find the closing quote with the vectorised IndexByte;
				// escapes are rare, so look for one only in the span.
				j := bytes.IndexByte(b[i:], '"')
				span := b[i:]
				if j >= 0 {
					span = b[i : i+j]
				}
				if k := bytes.IndexByte(span, '\\'); k >= 0 {
					i += k + 2 // the escaped byte, possibly not read yet
					continue
				}
				if j < 0 {
					i = len(b)
					break
				}
				i += j
				inStr = false
				i++
				if depth == 0 {
					return f.take(i), nil
				}
				continue
			}
			for i < len(b) && !structural[b[i]] {
				i++
			}
			if i >= len(b) {
				break
			}
			switch b[i] {
			case '"':
				inStr = true
				i++
			case '{', '[':
				depth++
				f.depth = max(f.depth, depth)
				i++
			case '}', ']':
				if depth == 0 { // a scalar ends where its container does
					return f.take(i), nil
				}
				depth--
				i++
				if depth == 0 {
					return f.take(i), nil
				}
			case ',':
				if depth == 0 {
					return f.take(i), nil
				}
				i++
			}
		}
		if err := f.fill(); err != nil {
			return nil, unexpected(err)
		}
	}
}

// structural marks the bytes that matter outside strings.
var structural = func() (s [256]bool) {
	for _, c := range []byte(`"{}[],`) {
		s[c] = true
	}
	return s
}()

// take consumes and returns the n bytes at lo.
func (f *framer) take(n int) []byte {
	v := f.buf[f.lo : f.lo+n]
	f.lo += n
	return bytes.TrimRight(v, " \t\r\n")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
