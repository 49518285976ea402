package trail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The record parser reads every event of an investigation (a sweep's
// pages, log files of hundreds of megabytes, the case's events file), so it
// does not go through encoding/json's reflection: compactJSON validates and
// compacts a record in one pass, and the members of the compact record are
// then walked by position. The result is the same as json.Compact followed
// by json.Unmarshal into lenient structs (a fuzz test holds the two equal).

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

var errJSONEnd = errors.New("unexpected end of JSON input")

// compactJSON appends src to dst without insignificant whitespace, as
// json.Compact does, and fails when src is not exactly one valid JSON value
// (with surrounding whitespace), as json.Valid would.
func compactJSON(dst, src []byte) ([]byte, error) {
	s := jsonScanner{src: src, dst: dst}
	s.space()
	if err := s.value(0); err != nil {
		return nil, err
	}
	s.space()
	if s.i < len(src) {
		return nil, s.fail("after top-level value")
	}
	return s.dst, nil
}

type jsonScanner struct {
	src, dst []byte
	i        int
}

func (s *jsonScanner) space() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) fail(context string) error {
	if s.i >= len(s.src) {
		return errJSONEnd
	}
	return fmt.Errorf("invalid character %q at byte %d %s", s.src[s.i], s.i, context)
}

func (s *jsonScanner) value(depth int) error {
	if s.i >= len(s.src) {
		return errJSONEnd
	}
	switch c := s.src[s.i]; {
	case c == '{':
		return s.container(depth+1, '}')
	case c == '[':
		return s.container(depth+1, ']')
	case c == '"':
		return s.str()
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.fail("looking for beginning of value")
}

// container copies an object (close '}') or an array (close ']'), the
// scanner at its opening bracket.
func (s *jsonScanner) container(depth int, close byte) error {
	if depth > maxJSONDepth {
		return errors.New("exceeded max depth")
	}
	object := close == '}'
	s.dst = append(s.dst, s.src[s.i])
	s.i++
	s.space()
	if s.i < len(s.src) && s.src[s.i] == close {
		s.dst = append(s.dst, close)
		s.i++
		return nil
	}
	after := "after array element"
	if object {
		after = "after object key:value pair"
	}
	for {
		if object {
			if s.i >= len(s.src) || s.src[s.i] != '"' {
				return s.fail("looking for beginning of object key string")
			}
			if err := s.str(); err != nil {
				return err
			}
			s.space()
			if s.i >= len(s.src) || s.src[s.i] != ':' {
				return s.fail("after object key")
			}
			s.dst = append(s.dst, ':')
			s.i++
			s.space()
		}
		if err := s.value(depth); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.src) {
			return errJSONEnd
		}
		switch s.src[s.i] {
		case ',':
			s.dst = append(s.dst, ',')
			s.i++
			s.space()
		case close:
			s.dst = append(s.dst, close)
			s.i++
			return nil
		default:
			return s.fail(after)
		}
	}
}

// str copies a string literal: control characters are refused and escapes
// checked; other bytes, valid UTF-8 or not, pass as json.Valid lets them.
func (s *jsonScanner) str() error {
	start := s.i
	s.i++
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '"':
			s.i++
			s.dst = append(s.dst, s.src[start:s.i]...)
			return nil
		case c == '\\':
			s.i++
			if s.i >= len(s.src) {
				return errJSONEnd
			}
			switch s.src[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				s.i++
				for range 4 {
					if s.i >= len(s.src) {
						return errJSONEnd
					}
					if !isHex(s.src[s.i]) {
						return s.fail(`in \u hexadecimal character escape`)
					}
					s.i++
				}
			default:
				return s.fail("in string escape code")
			}
		case c < 0x20:
			return s.fail("in string literal")
		default:
			s.i++
		}
	}
	return errJSONEnd
}

func (s *jsonScanner) number() error {
	start := s.i
	if s.src[s.i] == '-' {
		s.i++
		if s.i >= len(s.src) {
			return errJSONEnd
		}
	}
	switch c := s.src[s.i]; {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		s.digits()
	default:
		return s.fail("in numeric literal")
	}
	if s.i < len(s.src) && s.src[s.i] == '.' {
		s.i++
		if s.i >= len(s.src) {
			return errJSONEnd
		}
		if !isDigit(s.src[s.i]) {
			return s.fail("after decimal point in numeric literal")
		}
		s.digits()
	}
	if s.i < len(s.src) && (s.src[s.i] == 'e' || s.src[s.i] == 'E') {
		s.i++
		if s.i < len(s.src) && (s.src[s.i] == '+' || s.src[s.i] == '-') {
			s.i++
		}
		if s.i >= len(s.src) {
			return errJSONEnd
		}
		if !isDigit(s.src[s.i]) {
			return s.fail("in exponent of numeric literal")
		}
		s.digits()
	}
	s.dst = append(s.dst, s.src[start:s.i]...)
	return nil
}

func (s *jsonScanner) digits() {
	for s.i < len(s.src) && isDigit(s.src[s.i]) {
		s.i++
	}
}

func (s *jsonScanner) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if s.i >= len(s.src) {
			return errJSONEnd
		}
		if s.src[s.i] != word[k] {
			return s.fail("in literal " + word)
		}
		s.i++
	}
	s.dst = append(s.dst, word...)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// The functions below read compact JSON that compactJSON has accepted: no
// whitespace, every literal well formed. They do not check it again.

// eachMember calls fn with the key (still quoted) and the value of each
// member of the object obj, in order. It does nothing when obj is not an
// object.
func eachMember(obj []byte, fn func(key, val []byte)) {
	if len(obj) < 2 || obj[0] != '{' {
		return
	}
	i := 1
	for i < len(obj) && obj[i] == '"' {
		k := skipString(obj, i)
		v := skipValue(obj, k+1) // past ':'
		fn(obj[i:k], obj[k+1:v])
		i = v
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}

// eachElement calls fn with each element of the array arr, in order. It
// does nothing when arr is not an array.
func eachElement(arr []byte, fn func(val []byte)) {
	if len(arr) < 2 || arr[0] != '[' {
		return
	}
	i := 1
	for i < len(arr) && arr[i] != ']' {
		v := skipValue(arr, i)
		fn(arr[i:v])
		i = v
		if i < len(arr) && arr[i] == ',' {
			i++
		}
	}
}

// skipString returns the index just past the string literal at b[i].
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b)
		}
		j += k
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	return j
}

// memberIndex returns the index in names of the field a quoted member key
// names, or -1: an exact match first, then one that differs only in case,
// as encoding/json matches struct fields.
func memberIndex(names []string, quoted []byte) int {
	key := quoted
	if len(key) >= 2 {
		key = key[1 : len(key)-1]
	}
	for i, n := range names {
		if string(key) == n {
			return i
		}
	}
	name := string(key)
	if strings.IndexByte(name, '\\') >= 0 {
		// An escaped key ("\u0065ventName") names the field it decodes to.
		if json.Unmarshal(quoted, &name) != nil {
			return -1
		}
		for i, n := range names {
			if name == n {
				return i
			}
		}
	}
	for i, n := range names {
		if strings.EqualFold(name, n) {
			return i
		}
	}
	return -1
}
