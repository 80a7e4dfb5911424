package attribution

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// The paths reader reads its input in large blocks and splits lines and
// fields in place: no allocation per line, numbers parsed from the bytes,
// and a channel name becomes a string once, when first seen.

const (
	readBlock = 1 << 18 // bytes read at a time
	maxLine   = 1 << 24 // the longest line read, as bufio.Scanner was allowed
)

// lineReader returns the lines of r one at a time from a buffer it reads
// in blocks; a line is valid until the next call.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int // buf[start:end] is read but not yet returned
	eof        bool
	line       int   // the number of the line last returned, from 1
	read       int64 // bytes returned, line ends included
}

func newLineReader(r io.Reader, block int) *lineReader {
	return &lineReader{r: r, buf: make([]byte, max(block, 1))}
}

// next returns the next line without its line end ("\n" or "\r\n"), and
// false after the last.
func (lr *lineReader) next() ([]byte, bool, error) {
	searched := 0 // bytes of buf[start:end] known to hold no '\n'
	for {
		if i := bytes.IndexByte(lr.buf[lr.start+searched:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.start+searched+i]
			lr.read += int64(searched + i + 1)
			lr.start += searched + i + 1
			lr.line++
			return dropCR(line), true, nil
		}
		searched = lr.end - lr.start
		if lr.eof {
			if lr.start == lr.end {
				return nil, false, nil
			}
			line := lr.buf[lr.start:lr.end]
			lr.read += int64(lr.end - lr.start)
			lr.start = lr.end
			lr.line++
			return dropCR(line), true, nil
		}
		if err := lr.fill(); err != nil {
			return nil, false, err
		}
	}
}

// fill reads more after what is left, moving it to the front of the
// buffer, or growing the buffer when the line fills it.
func (lr *lineReader) fill() error {
	if lr.start > 0 {
		lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start = 0
	}
	if lr.end == len(lr.buf) {
		if len(lr.buf) >= maxLine {
			return fmt.Errorf("%w: line %d is longer than %d bytes", ErrInvalidPathInput, lr.line+1, maxLine)
		}
		lr.buf = append(lr.buf, make([]byte, len(lr.buf))...)
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	lr.end += n
	switch {
	case errors.Is(err, io.EOF):
		lr.eof = true
	case err != nil:
		return fmt.Errorf("%w: line %d: %v", ErrInvalidPathInput, lr.line+1, err)
	}
	return nil
}

func dropCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// isSpace is bytes.TrimSpace's ASCII white space.
var isSpace = [256]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// trimSpace is bytes.TrimSpace, quicker on ASCII edges: it leaves the
// rest to bytes.TrimSpace only when an edge is not ASCII.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace[b[0]] {
		b = b[1:]
	}
	for len(b) > 0 && isSpace[b[len(b)-1]] {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && (b[0] >= utf8.RuneSelf || b[len(b)-1] >= utf8.RuneSelf) {
		return bytes.TrimSpace(b)
	}
	return b
}

// isBlank reports whether a line holds only white space.
func isBlank(b []byte) bool { return len(trimSpace(b)) == 0 }
