package attribution

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PathSet is journeys grouped by identical channel path, the form
// ChannelAttribution reads: for each distinct path, how many journeys
// along it converted, their total value, and how many did not convert.
// Data-driven models learn from it; building one is how Markov and
// Shapley start.
type PathSet struct {
	channels []string         // channel id → name, in order of first sight
	ids      map[string]int32 // name → channel id
	rows     []pathRow
	byPath   map[string]int // encoded steps → row
	buf      []byte
}

type pathRow struct {
	steps       []int32
	conversions int64
	value       int64 // minor units
	nulls       int64
}

// NewPathSet returns an empty set.
func NewPathSet() *PathSet {
	return &PathSet{ids: map[string]int32{}, byPath: map[string]int{}}
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
	row, ok := s.byPath[string(s.buf)]
	if !ok {
		steps := make([]int32, len(s.buf)/4)
		for i := range steps {
			steps[i] = int32(binary.LittleEndian.Uint32(s.buf[4*i:]))
		}
		row = len(s.rows)
		s.byPath[string(s.buf)] = row
		s.rows = append(s.rows, pathRow{steps: steps})
	}
	r := &s.rows[row]
	r.conversions += conversions
	r.value += value
	r.nulls += nulls
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

// CSV header of ChannelAttribution's grouped path data.
var pathsHeader = []string{"path", "total_conversions", "total_conversion_value", "total_null"}

// WriteCSV writes the set as ChannelAttribution reads it: a header, then
// one row per path with " > " between channels and the value in minor
// units.
func (s *PathSet) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := csv.NewWriter(bw)
	if err := cw.Write(pathsHeader); err != nil {
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
// minor units.
func ReadPathsCSV(r io.Reader) (*PathSet, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrInvalidPathInput, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	var idx [4]int
	for i, name := range pathsHeader {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("%w: header lacks %q", ErrInvalidPathInput, name)
		}
		idx[i] = c
	}
	s := NewPathSet()
	var channels []string
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidPathInput, line, err)
		}
		var n [3]int64
		for i := range n {
			n[i], err = strconv.ParseInt(strings.TrimSpace(rec[idx[i+1]]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %s: %v", ErrInvalidPathInput, line, pathsHeader[i+1], err)
			}
		}
		channels = channels[:0]
		for c := range strings.SplitSeq(rec[idx[0]], ">") {
			channels = append(channels, strings.TrimSpace(c))
		}
		if err := s.Add(channels, n[0], n[1], n[2]); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
}
