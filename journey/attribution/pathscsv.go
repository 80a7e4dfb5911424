package attribution

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
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
	for _, r := range s.rows {
		sb.Reset()
		for i, id := range r.steps {
			if i > 0 {
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
// Lines without quotes are split by hand, which makes reading the anchor
// benchmark file several times faster than encoding/csv; quoted lines go
// through encoding/csv.
func (o PathsCSV) Read(r io.Reader) (*PathSet, error) {
	scale := o.ValueScale
	if scale == 0 {
		scale = 1
	}
	if scale < 0 {
		return nil, fmt.Errorf("%w: ValueScale %d is negative", ErrInvalidOptions, scale)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrInvalidPathInput, err)
		}
		return nil, fmt.Errorf("%w: no header", ErrInvalidPathInput)
	}
	headLine := strings.TrimPrefix(sc.Text(), "\ufeff") // a spreadsheet's byte-order mark
	sep := byte(',')
	if strings.Count(headLine, ";") > strings.Count(headLine, ",") {
		sep = ';'
	}
	hr := csv.NewReader(strings.NewReader(headLine))
	hr.Comma = rune(sep)
	head, err := hr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalidPathInput, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	var idx [4]int
	header := pathsHeader()
	for i, name := range header {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("%w: header lacks %q (separator %q)", ErrInvalidPathInput, name, sep)
		}
		idx[i] = c
	}
	s := NewPathSet()
	fields := make([][]byte, len(head))
	for line := 2; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if bytes.IndexByte(b, '"') >= 0 {
			cr := csv.NewReader(bytes.NewReader(b))
			cr.Comma = rune(sep)
			rec, err := cr.Read()
			if err != nil || len(rec) != len(head) {
				return nil, fmt.Errorf("%w: line %d: %d fields or %v", ErrInvalidPathInput, line, len(rec), err)
			}
			for i, f := range rec {
				fields[i] = []byte(f)
			}
		} else {
			n := 0
			for f := range bytes.SplitSeq(b, []byte{sep}) {
				if n == len(fields) {
					n++
					break
				}
				fields[n] = f
				n++
			}
			if n != len(fields) {
				return nil, fmt.Errorf("%w: line %d: want %d fields separated by %q", ErrInvalidPathInput, line, len(fields), sep)
			}
		}
		var counts [2]float64
		for i, c := range [2]int{1, 3} {
			f := bytes.TrimSpace(fields[idx[c]])
			v, ok := parseWeight(f)
			if !ok {
				return nil, fmt.Errorf("%w: line %d: %s %q is not a non-negative number", ErrInvalidPathInput, line, header[c], f)
			}
			counts[i] = v
		}
		f := bytes.TrimSpace(fields[idx[2]])
		value, ok := parseMinorUnits(f, scale)
		if !ok {
			return nil, fmt.Errorf("%w: line %d: %s %q is not a non-negative number, or is too large", ErrInvalidPathInput, line, header[2], f)
		}
		if err := s.addBytes(fields[idx[0]], counts[0], value, counts[1]); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPathInput, err)
	}
	return s, nil
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

// addBytes is Add for a path still in its file form, "A > B".
func (s *PathSet) addBytes(path []byte, conversions float64, value int64, nulls float64) error {
	if value > 0 && conversions == 0 {
		return fmt.Errorf("%w: value without conversions on path %q", ErrInvalidPathInput, path)
	}
	s.buf = s.buf[:0]
	for name := range bytes.SplitSeq(path, []byte{'>'}) {
		name = bytes.TrimSpace(name)
		if len(name) == 0 {
			return fmt.Errorf("%w: empty channel in path %q", ErrInvalidPathInput, path)
		}
		id, ok := s.ids[string(name)]
		if !ok {
			id = int32(len(s.channels))
			s.ids[string(name)] = id
			s.channels = append(s.channels, string(name))
		}
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(id))
	}
	s.addEncoded(conversions, value, nulls)
	return nil
}
