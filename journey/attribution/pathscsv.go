package attribution

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// pathsHeader is the CSV header of ChannelAttribution's grouped path data.
func pathsHeader() []string {
	return []string{"path", "total_conversions", "total_conversion_value", "total_null"}
}

// WriteCSV writes the set as ChannelAttribution reads it: a header, then
// one row per path with " > " between channels, separated by ','. Counts
// are written as whole numbers when they are whole and otherwise as the
// shortest decimal that reads back to the same weight; values are in
// minor units.
func (s *PathSet) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	if err := cw.Write(pathsHeader()); err != nil {
		return err
	}
	var sb strings.Builder
	for i := range s.rows {
		r := &s.rows[i]
		sb.Reset()
		for k, id := range s.stepsOf(i) {
			if k > 0 {
				sb.WriteString(" > ")
			}
			sb.WriteString(s.channels[id])
		}
		rec := []string{sb.String(), formatCount(r.conversions), strconv.FormatInt(r.value, 10), formatCount(r.nulls)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func formatCount(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// PathsCSV reads grouped path files: what [PathSet.WriteCSV] writes, and
// ChannelAttribution's own example data set, Data.csv (';' between
// fields, decimal values). Decimals are written with a point: the decimal
// comma of R's write.csv2 is not read. The zero value reads a file whose
// values are minor units.
type PathsCSV struct {
	// ValueScale is how many minor units one unit of the file's
	// total_conversion_value column is worth: zero or 1 for a file in
	// minor units (as WriteCSV writes), 100 for a file of dollars or euros
	// with cents ("12.30"). Values are rounded to the nearest minor unit,
	// halves up, so a file with more decimals than the scale keeps (as
	// ChannelAttribution's example, "30.7346153846154") loses what is
	// below a minor unit on each line.
	ValueScale int64
	// HugePages asks Linux to back the large arrays of a file's rows and
	// steps with transparent huge pages (madvise), for a short command
	// that reads one large file: where faulting in fresh memory is slow
	// (a virtual machine's), that is most of the run. The advice stays on
	// that part of the Go heap after the set is gone, so a long-running
	// program leaves it off. Ignored elsewhere.
	HugePages bool
}

// ReadPathsCSV reads a grouped path file with the zero [PathsCSV]: values
// in minor units, fractions of a unit rounded.
func ReadPathsCSV(r io.Reader) (*PathSet, error) { return PathsCSV{}.Read(r) }

// Read reads a grouped path file:
//
//   - The header names the columns path, total_conversions,
//     total_conversion_value and total_null, in any order; other
//     columns are ignored.
//   - Fields are separated by ';' (ChannelAttribution's example file) or
//     ',' (WriteCSV): whichever the header holds more of. Fields may be
//     quoted.
//   - A path separates channels with '>'; spaces around a name are
//     trimmed, and an empty name is an error.
//   - Counts are non-negative decimal numbers. Fractional ones (1.5
//     conversions) are kept as weights: see [PathSet].
//     (ChannelAttribution's own C++ core reads counts as unsigned
//     integers, so it would truncate 1.5 to 1.)
//   - Values are non-negative decimal numbers, multiplied by ValueScale
//     and rounded to whole minor units.
//   - Lines for the same path add up, as if they were one.
//
// Every error names the line and, for a field, its column (the byte of
// the line where it starts, from 1). The input is read in large blocks
// and lines without quotes are split in place, without an allocation
// per line; quoted lines go through encoding/csv.
func (o PathsCSV) Read(r io.Reader) (*PathSet, error) { return o.read(r, readBlock) }

// read is Read in blocks of the given size, small in tests to cross
// blocks often.
func (o PathsCSV) read(r io.Reader, block int) (*PathSet, error) {
	scale := o.ValueScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 {
		return nil, fmt.Errorf("%w: ValueScale %d is negative", ErrInvalidOptions, scale)
	}
	lr := newLineReader(r, block)
	first, ok, err := lr.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no header", ErrInvalidPathInput)
	}
	headLine := strings.TrimPrefix(string(first), "\ufeff") // a spreadsheet's byte-order mark
	sep := byte(',')
	if strings.Count(headLine, ";") > strings.Count(headLine, ",") {
		sep = ';'
	}
	hr := csv.NewReader(strings.NewReader(headLine))
	hr.Comma = rune(sep)
	head, err := hr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: line 1 (header): %v", ErrInvalidPathInput, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	pr := pathsLineReader{sep: sep, scale: scale, sorted: true, role: make([]int, len(head))}
	for i := range pr.role {
		pr.role[i] = -1
	}
	for i, name := range pathsHeader() {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("%w: line 1 (header) lacks %q (separator %q)", ErrInvalidPathInput, name, sep)
		}
		pr.idx[i], pr.role[c] = c, i
	}
	s := NewPathSet()
	size := sizeOf(r)
	for {
		b, ok, err := lr.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return s, nil
		}
		if err := pr.read(s, b); err != nil {
			return nil, fmt.Errorf("%w: line %d, %v", ErrInvalidPathInput, lr.line, err)
		}
		if size > 0 && lr.read >= presizeAfter {
			s.presize(lr.read, size, o.HugePages)
			size = 0
		}
	}
}

// presizeAfter is how much of an input of known size is read before its
// rows are reserved, from the rows and steps of what was read.
const presizeAfter = 1 << 18

// presize reserves room for the rows and steps of an input of size bytes
// when read bytes of it gave the rows and steps so far: growing by
// doubling copies and clears about twice the final size.
func (s *PathSet) presize(read, size int64, huge bool) {
	if size <= read {
		return
	}
	scale := float64(size) / float64(read) * 1.25 // paths early in a sorted file run longer
	s.rows = reserve(s.rows, int(float64(len(s.rows))*scale), huge)
	s.steps = reserve(s.steps, int(float64(len(s.steps))*scale), huge)
}

// reserve returns x with room for n elements, in a new array backed by
// huge pages if asked and the system has them.
func reserve[T any](x []T, n int, huge bool) []T {
	if n <= cap(x) {
		return x
	}
	var y []T
	if huge {
		y = makeHuge[T](len(x), n)
	} else {
		y = make([]T, len(x), n)
	}
	copy(y, x)
	return y
}

// sizeOf is the size of an input that tells it (a file, a bytes.Reader),
// or 0.
func sizeOf(r io.Reader) int64 {
	switch r := r.(type) {
	case interface{ Size() int64 }:
		return r.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}

// pathsLineReader reads the lines after the header.
type pathsLineReader struct {
	sep   byte
	scale int64
	idx   [4]int // column of path, total_conversions, total_conversion_value, total_null
	role  []int  // column → its index in idx, or -1
	// The previous path, prev[:prevLen], the end of each of its first
	// prevSteps channels' names (the index of the '>' after it, or the
	// path's length) and their ids, in ids[1-cur]: files list paths in
	// order, so a path mostly begins as the one before, and those
	// channels need no lookup. The current path's ids go to ids[cur].
	prev      []byte
	prevLen   int
	ends      []int
	ids       [2][]int32
	cur       int
	prevSteps int
	// recent remembers a channel id by its name's length and last byte,
	// which tell most channel names apart, before a lookup by hash.
	recent [256]int32
	// sorted holds while every path came after the one before in the
	// order of channel names (a path before its extensions, as
	// ChannelAttribution's files and sorted exports list them). Then no
	// path can repeat an earlier one, and rows are added without looking
	// them up; the first path out of order ends it.
	sorted bool
}

// lineError is the error of one line, its text starting with the column.
type lineError struct {
	column int
	msg    string
}

func (e *lineError) Error() string { return fmt.Sprintf("column %d: %s", e.column, e.msg) }

func colErr(column int, format string, args ...any) error {
	return &lineError{column: column, msg: fmt.Sprintf(format, args...)}
}

// read adds one line to s.
func (pr *pathsLineReader) read(s *PathSet, b []byte) error {
	if isBlank(b) {
		return nil
	}
	// The four fields in local arrays: storing slices in pr on every
	// line would cost a write barrier each while the collector runs.
	f, at, err := pr.split(b)
	if err != nil {
		return err
	}
	var counts [2]float64
	for i, c := range [2]int{1, 3} {
		v, ok := parseWeight(trimSpace(f[c]))
		if !ok {
			return colErr(at[c], "%s %q is not a non-negative number", pathsHeader()[c], trimSpace(f[c]))
		}
		counts[i] = v
	}
	value, ok := parseMinorUnits(trimSpace(f[2]), pr.scale)
	if !ok {
		return colErr(at[2], "%s %q is not a non-negative number, or is too large", pathsHeader()[2], trimSpace(f[2]))
	}
	if value > 0 && counts[0] == 0 {
		return colErr(at[2], "value without conversions on path %q", f[0])
	}
	ids, after, err := pr.channels(s, f[0], at[0])
	if err != nil {
		return err
	}
	if pr.sorted = pr.sorted && after; pr.sorted {
		s.appendNew(ids, counts[0], value, counts[1])
		return nil
	}
	s.buf = s.buf[:0]
	for _, id := range ids {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(id))
	}
	s.addEncoded(counts[0], value, counts[1])
	return nil
}

// split returns the path, total_conversions, total_conversion_value and
// total_null fields of a line and the columns where they start, in place
// when the line has no quotes.
func (pr *pathsLineReader) split(b []byte) (f [4][]byte, at [4]int, err error) {
	if bytes.IndexByte(b, '"') >= 0 {
		cr := csv.NewReader(bytes.NewReader(b))
		cr.Comma = rune(pr.sep)
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return f, at, colErr(pe.Column, "%v", pe.Err)
			}
			return f, at, colErr(1, "%v", err)
		}
		if len(rec) != len(pr.role) {
			return f, at, colErr(1, "%d fields, want %d separated by %q", len(rec), len(pr.role), pr.sep)
		}
		for i, c := range pr.idx {
			f[i] = []byte(rec[c])
			_, at[i] = cr.FieldPos(c)
		}
		return f, at, nil
	}
	last := len(pr.role) - 1
	start := 0
	for n := 0; ; n++ {
		end := len(b)
		if n < last {
			i := bytes.IndexByte(b[start:], pr.sep)
			if i < 0 {
				return f, at, colErr(len(b)+1, "%d fields, want %d separated by %q", n+1, len(pr.role), pr.sep)
			}
			end = start + i
		} else if i := bytes.IndexByte(b[start:], pr.sep); i >= 0 {
			return f, at, colErr(start+i+1, "more than %d fields separated by %q", len(pr.role), pr.sep)
		}
		if r := pr.role[n]; r >= 0 {
			f[r], at[r] = b[start:end], start+1
		}
		if n == last {
			return f, at, nil
		}
		start = end + 1
	}
}

// channels returns a path's channel ids, valid until the next call, and
// whether the path comes after the previous one in the order of channel
// names; at is the column where the path starts.
func (pr *pathsLineReader) channels(s *PathSet, path []byte, at int) (ids []int32, after bool, err error) {
	same, prev := 0, pr.prev[:pr.prevLen] // bytes the path shares with the previous one
	for same+8 <= len(path) && same+8 <= len(prev) && binary.LittleEndian.Uint64(path[same:]) == binary.LittleEndian.Uint64(prev[same:]) {
		same += 8
	}
	for same < len(path) && same < len(prev) && path[same] == prev[same] {
		same++
	}
	prevIDs, ends := pr.ids[1-pr.cur][:pr.prevSteps], pr.ends
	reused := 0
	for reused < len(prevIDs) && ends[reused] < same {
		reused++ // the previous path's '>' after this name is shared too
	}
	ids = append(pr.ids[pr.cur][:0], prevIDs[:reused]...)
	n, pos := reused, 0
	if reused > 0 {
		pos = ends[reused-1] + 1
	}
	for {
		end := len(path)
		if j := bytes.IndexByte(path[pos:], '>'); j >= 0 {
			end = pos + j
		}
		name := trimSpace(path[pos:end])
		if len(name) == 0 {
			pr.prevLen, pr.prevSteps = 0, 0
			return nil, false, colErr(at+pos, "empty channel in path %q", path)
		}
		ids = append(ids, pr.channelID(s, name))
		if n == len(ends) {
			ends = append(ends, 0)
			ends = ends[:cap(ends)]
			pr.ends = ends
		}
		ends[n] = end
		n++
		if end == len(path) {
			break
		}
		pos = end + 1
	}
	if cap(ids) != cap(pr.ids[pr.cur]) { // grown
		pr.ids[pr.cur] = ids
	}
	after = pr.follows(s, ids, prevIDs, reused)
	if len(path) > len(pr.prev) {
		pr.prev = make([]byte, 2*len(path))
	}
	pr.prevLen = copy(pr.prev, path)
	pr.prevSteps, pr.cur = n, 1-pr.cur
	return ids, after, nil
}

// channelID is s.channelBytes, first trying the channel last seen with
// a name of the same length and last byte.
func (pr *pathsLineReader) channelID(s *PathSet, name []byte) int32 {
	k := byte(len(name)*31) ^ name[len(name)-1]
	if id := pr.recent[k] - 1; id >= 0 && s.channels[id] == string(name) {
		return id
	}
	id := s.channelBytes(name)
	pr.recent[k] = id + 1
	return id
}

// follows reports whether the path ids comes after the path prev in the
// order of channel names, a path before its extensions; their first
// shared steps are known to be equal.
func (pr *pathsLineReader) follows(s *PathSet, ids, prev []int32, shared int) bool {
	for i := shared; i < len(ids) && i < len(prev); i++ {
		if ids[i] != prev[i] {
			return s.channels[ids[i]] > s.channels[prev[i]]
		}
	}
	return len(ids) > len(prev)
}

// parseCount parses a non-negative decimal integer of at most 18 digits.
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// isNumberSyntax reports whether b holds only what a decimal number in a
// data file may: digits, a point, an exponent and its sign. It keeps out
// what strconv.ParseFloat would also accept: "Inf", "NaN", hexadecimal.
func isNumberSyntax(b []byte) bool {
	digit := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digit = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digit
}

// parseWeight parses a count: a non-negative, finite decimal number.
func parseWeight(b []byte) (float64, bool) {
	if v, ok := parseCount(b); ok {
		return float64(v), true
	}
	if !isNumberSyntax(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || !validCount(v) {
		return 0, false
	}
	return v + 0, true // -0 becomes 0
}

// pow10 is 10^n for n ≤ 19, the powers of ten a uint64 holds.
func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// parseMinorUnits reads a non-negative decimal number of file units as
// minor units: multiplied by scale and rounded to the nearest unit,
// halves up. Plain decimals of up to 19 digits are converted exactly;
// longer ones and exponents ("1e+05", as R writes large numbers) go
// through float64, exact to within a unit in 2^52.
func parseMinorUnits(b []byte, scale int64) (int64, bool) {
	if v, ok := parseCount(b); ok { // a whole number: the common case
		if v > math.MaxInt64/scale {
			return 0, false
		}
		return v * scale, true
	}
	if mant, decimals, ok := parseDecimal(b); ok {
		hi, lo := bits.Mul64(mant, uint64(scale))
		div := pow10(decimals)
		if hi >= div {
			return 0, false // the quotient needs more than 64 bits
		}
		q, rem := bits.Div64(hi, lo, div)
		if rem >= div-rem { // rem ≥ div/2, without overflow
			q++
		}
		if q > math.MaxInt64 {
			return 0, false
		}
		return int64(q), true
	}
	if !isNumberSyntax(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || v < 0 {
		return 0, false
	}
	v = math.Floor(v*float64(scale) + 0.5)
	if v >= math.MaxInt64 { // float64(MaxInt64) is 2^63, itself too large
		return 0, false
	}
	return int64(v), true
}

// parseDecimal parses digits with at most one '.' ("12.30", ".5", "7.")
// and at most 19 digits in all, as mant / 10^decimals.
func parseDecimal(b []byte) (mant uint64, decimals int, ok bool) {
	digits, point := 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if digits > 19 {
				return 0, 0, false
			}
			mant = mant*10 + uint64(c-'0')
			if point {
				decimals++
			}
		case c == '.' && !point:
			point = true
		default:
			return 0, 0, false
		}
	}
	return mant, decimals, digits > 0
}
