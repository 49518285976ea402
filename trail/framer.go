package trail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// framer cuts the elements of a JSON array out of a stream without decoding
// them: it follows only strings (to ignore brackets inside them) and
// bracket depth. json.Decoder.Decode into a json.RawMessage runs every byte
// through the full JSON state machine twice (read, then skip) and was five
// times slower than gzip; records that are not candidates need no more than
// their boundaries. Candidates are validated when ParseRecord compacts
// them, and a stream that ends inside a record is reported.
type framer struct {
	r      io.Reader
	buf    []byte
	lo, hi int // buffered, unconsumed bytes: buf[lo:hi]
	max    int
	err    error // sticky read error, returned once the buffer is drained
	first  bool
}

func newFramer(r io.Reader, size, maxSize int) *framer {
	return &framer{r: r, buf: make([]byte, size), max: maxSize, first: true}
}

// errRecordTooLong reports a record longer than the framer's limit.
var errRecordTooLong = errors.New("record too long")

// fill reads more bytes, first moving the unconsumed ones to the front of
// the buffer (positions kept relative to lo stay valid) and growing it when
// it is full.
func (f *framer) fill() error {
	if f.err != nil {
		return unexpected(f.err)
	}
	if f.lo > 0 {
		f.hi = copy(f.buf, f.buf[f.lo:f.hi])
		f.lo = 0
	}
	if f.hi == len(f.buf) {
		if len(f.buf) >= f.max {
			return errRecordTooLong
		}
		nb := make([]byte, min(2*len(f.buf), f.max))
		copy(nb, f.buf[:f.hi])
		f.buf = nb
	}
	n, err := f.r.Read(f.buf[f.hi:])
	f.hi += n
	if err != nil {
		f.err = err
		if n == 0 {
			return unexpected(err)
		}
	}
	return nil
}

// unexpected turns the end of the stream into an error: fill is called only
// inside the array, which is not closed yet.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// next returns the next element of the array, valid until the next call,
// or nil after the closing bracket.
func (f *framer) next() ([]byte, error) {
	for {
		for f.lo < f.hi && isSpace(f.buf[f.lo]) {
			f.lo++
		}
		if f.lo == f.hi {
			if err := f.fill(); err != nil {
				return nil, err
			}
			continue
		}
		c := f.buf[f.lo]
		if c == ']' {
			f.lo++
			return nil, nil
		}
		if !f.first {
			if c != ',' {
				return nil, fmt.Errorf("invalid character %q after array element", c)
			}
			f.lo++
			f.first = true
			continue
		}
		break
	}
	f.first = false
	// i is relative to lo, which fill may move. The inner loops skip runs
	// of uninteresting bytes through a table: most of a record is string
	// content.
	i, depth, inStr := 0, 0, false
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
				i++
			case '}', ']':
				if depth == 0 { // a scalar element ends at the array's end
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
			return nil, err
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

// rest returns the stream after what the framer consumed.
func (f *framer) rest() io.Reader {
	tail := bytes.NewReader(bytes.Clone(f.buf[f.lo:f.hi]))
	if f.err != nil {
		return io.MultiReader(tail, errReader{f.err})
	}
	return io.MultiReader(tail, f.r)
}

// errReader replays the read error the framer already received.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
