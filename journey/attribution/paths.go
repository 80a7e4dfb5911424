package attribution

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
)

// PathSet is journeys grouped by identical channel path, the form
// ChannelAttribution reads: for each distinct path, how many journeys
// along it converted, their total value, and how many did not convert.
// Data-driven models learn from it; building one is how Markov and
// Shapley start. Add must not run concurrently with anything else; models
// only read a set.
//
// Counts are weights: whole numbers for journeys, but a set read from a
// file may hold fractional ones (1.5 conversions), and every model uses
// them as they are, so a result's conversions may be fractional too.
// Values are whole minor units.
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
	conversions float64
	value       int64 // minor units
	nulls       float64
}

// NewPathSet returns an empty set.
func NewPathSet() *PathSet {
	return &PathSet{ids: map[string]int32{}, seed: maphash.MakeSeed(), byHash: map[uint64]int32{}}
}

// Add records journeys along one path of channel names; a path already in
// the set has the counts added to it.
func (s *PathSet) Add(channels []string, conversions, value, nulls int64) error {
	return s.AddWeighted(channels, float64(conversions), value, float64(nulls))
}

// AddWeighted is Add with fractional counts, for data whose journeys carry
// weights (ChannelAttribution's files allow 1.5 conversions). Counts must
// be finite and non-negative.
func (s *PathSet) AddWeighted(channels []string, conversions float64, value int64, nulls float64) error {
	switch {
	case len(channels) == 0:
		return fmt.Errorf("%w: empty path", ErrInvalidPathInput)
	case !validCount(conversions) || !validCount(nulls) || value < 0:
		return fmt.Errorf("%w: negative or non-finite count or value on path %q", ErrInvalidPathInput, strings.Join(channels, " > "))
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

func validCount(c float64) bool { return c >= 0 && !math.IsInf(c, 1) }

// addEncoded adds counts to the path encoded in s.buf.
func (s *PathSet) addEncoded(conversions float64, value int64, nulls float64) {
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

// Totals are the journeys, conversions and conversion value in the set;
// journeys and conversions are whole unless the set was given fractional
// counts.
func (s *PathSet) Totals() (journeys, conversions float64, value int64) {
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
