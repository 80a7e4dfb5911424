package attribution

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"strings"
)

// PathSet is journeys grouped by identical channel path, the form
// ChannelAttribution reads: for each distinct path, how many journeys
// along it converted, their total value, and how many did not convert.
// Data-driven models learn from it; building one is how Markov and
// Shapley start. Add must not run concurrently with anything else; models
// only read a set.
type PathSet struct {
	channels []string         // channel id → name, in order of first sight
	ids      map[string]int32 // name → channel id
	rows     []pathRow
	// Paths are found by a hash of their encoded steps; the rare path
	// whose hash another path already holds goes to collided.
	seed     maphash.Seed
	byHash   map[uint64]int32
	collided map[string]int32
	buf      []byte
	arena    []int32 // steps of new rows are carved from here
}

type pathRow struct {
	steps       []int32
	conversions int64
	value       int64 // minor units
	nulls       int64
}

// NewPathSet returns an empty set.
func NewPathSet() *PathSet {
	return &PathSet{ids: map[string]int32{}, seed: maphash.MakeSeed(), byHash: map[uint64]int32{}}
}

// Add records journeys along one path of channel names; a path already in
// the set has the counts added to it.
func (s *PathSet) Add(channels []string, conversions, value, nulls int64) error {
	switch {
	case len(channels) == 0:
		return fmt.Errorf("%w: empty path", ErrInvalidPathInput)
	case conversions < 0 || nulls < 0 || value < 0:
		return fmt.Errorf("%w: negative count or value on path %q", ErrInvalidPathInput, strings.Join(channels, " > "))
	case value > 0 && conversions == 0:
		return fmt.Errorf("%w: value without conversions on path %q", ErrInvalidPathInput, strings.Join(channels, " > "))
	}
	s.buf = s.buf[:0]
	for _, c := range channels {
		if c == "" || strings.Contains(c, ">") {
			return fmt.Errorf("%w: channel name %q is empty or holds '>'", ErrInvalidPathInput, c)
		}
		id, ok := s.ids[c]
		if !ok {
			id = int32(len(s.channels))
			s.ids[c] = id
			s.channels = append(s.channels, c)
		}
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(id))
	}
	s.addEncoded(conversions, value, nulls)
	return nil
}

// addEncoded adds counts to the path encoded in s.buf.
func (s *PathSet) addEncoded(conversions, value, nulls int64) {
	h := maphash.Bytes(s.seed, s.buf)
	row, ok := s.byHash[h]
	if ok && !s.rows[row].encodedEqual(s.buf) {
		row, ok = s.collided[string(s.buf)]
		if !ok {
			if s.collided == nil {
				s.collided = map[string]int32{}
			}
			row = s.newRow()
			s.collided[string(s.buf)] = row
		}
	} else if !ok {
		row = s.newRow()
		s.byHash[h] = row
	}
	r := &s.rows[row]
	r.conversions += conversions
	r.value += value
	r.nulls += nulls
}

func (s *PathSet) newRow() int32 {
	n := len(s.buf) / 4
	// One allocation per few thousand paths rather than one per path.
	if cap(s.arena)-len(s.arena) < n {
		s.arena = make([]int32, 0, max(1<<14, n))
	}
	steps := s.arena[len(s.arena) : len(s.arena)+n : len(s.arena)+n]
	s.arena = s.arena[:len(s.arena)+n]
	for i := range steps {
		steps[i] = int32(binary.LittleEndian.Uint32(s.buf[4*i:]))
	}
	s.rows = append(s.rows, pathRow{steps: steps})
	return int32(len(s.rows) - 1)
}

func (r *pathRow) encodedEqual(b []byte) bool {
	if len(b) != 4*len(r.steps) {
		return false
	}
	for i, c := range r.steps {
		if int32(binary.LittleEndian.Uint32(b[4*i:])) != c {
			return false
		}
	}
	return true
}

// Len is the number of distinct paths.
func (s *PathSet) Len() int { return len(s.rows) }

// Channels are the channel names, in order of first sight.
func (s *PathSet) Channels() []string { return append([]string(nil), s.channels...) }

// Totals are the journeys, conversions and conversion value in the set.
func (s *PathSet) Totals() (journeys, conversions, value int64) {
	for _, r := range s.rows {
		journeys += r.conversions + r.nulls
		conversions += r.conversions
		value += r.value
	}
	return journeys, conversions, value
}

// GroupPaths prepares journeys as every model does (lookback, kinds,
// key, currency) and groups them by identical key path.
func GroupPaths(journeys []Journey, opts Options) (*PathSet, error) {
	set, err := prepare(journeys, opts)
	if err != nil {
		return nil, err
	}
	return pathsOf(set), nil
}

func pathsOf(set *preparedSet) *PathSet {
	s := NewPathSet()
	for i := range set.journeys {
		p := &set.journeys[i]
		s.buf = s.buf[:0]
		for _, t := range p.touches {
			id, ok := s.ids[t.key]
			if !ok {
				id = int32(len(s.channels))
				s.ids[t.key] = id
				s.channels = append(s.channels, t.key)
			}
			s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(id))
		}
		if p.converted() {
			s.addEncoded(1, p.j.Conversion.Value, 0)
		} else {
			s.addEncoded(0, 0, 1)
		}
	}
	return s
}

// pathsHeader is the CSV header of ChannelAttribution's grouped path data.
func pathsHeader() []string {
	return []string{"path", "total_conversions", "total_conversion_value", "total_null"}
}

// WriteCSV writes the set as ChannelAttribution reads it: a header, then
// one row per path with " > " between channels and the value in minor
// units.
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
		rec := []string{sb.String(), strconv.FormatInt(r.conversions, 10), strconv.FormatInt(r.value, 10), strconv.FormatInt(r.nulls, 10)}
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

// ReadPathsCSV reads what WriteCSV writes: the header names the columns
// (in any order), paths separate channels with '>', and values are whole
// minor units. Lines without quotes are split by hand, the common case
// that makes reading the anchor file several times faster than
// encoding/csv; quoted lines go through encoding/csv.
func ReadPathsCSV(r io.Reader) (*PathSet, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<24)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrInvalidPathInput, err)
		}
		return nil, fmt.Errorf("%w: no header", ErrInvalidPathInput)
	}
	head, err := csv.NewReader(strings.NewReader(sc.Text())).Read()
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
			return nil, fmt.Errorf("%w: header lacks %q", ErrInvalidPathInput, name)
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
			rec, err := csv.NewReader(bytes.NewReader(b)).Read()
			if err != nil || len(rec) != len(head) {
				return nil, fmt.Errorf("%w: line %d: %d fields or %v", ErrInvalidPathInput, line, len(rec), err)
			}
			for i, f := range rec {
				fields[i] = []byte(f)
			}
		} else {
			n := 0
			for f := range bytes.SplitSeq(b, []byte{','}) {
				if n == len(fields) {
					n++
					break
				}
				fields[n] = f
				n++
			}
			if n != len(fields) {
				return nil, fmt.Errorf("%w: line %d: want %d fields", ErrInvalidPathInput, line, len(fields))
			}
		}
		var nums [3]int64
		for i := range nums {
			v, ok := parseCount(bytes.TrimSpace(fields[idx[i+1]]))
			if !ok {
				return nil, fmt.Errorf("%w: line %d: %s %q is not a whole non-negative number", ErrInvalidPathInput, line, header[i+1], fields[idx[i+1]])
			}
			nums[i] = v
		}
		if err := s.addBytes(fields[idx[0]], nums[0], nums[1], nums[2]); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPathInput, err)
	}
	return s, nil
}

// addBytes is Add for a path still in its file form, "A > B".
func (s *PathSet) addBytes(path []byte, conversions, value, nulls int64) error {
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

// parseCount parses a non-negative decimal integer.
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
