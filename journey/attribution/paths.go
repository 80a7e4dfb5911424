package attribution

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
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
	names    hashIndex        // the same, for names still in a file's bytes
	rows     []pathRow
	// Paths are found by a seeded hash of their encoded steps, so that a
	// file cannot choose paths that collide.
	seed  maphash.Seed
	index hashIndex // path → row, for the first len(index.hashes) rows
	buf   []byte
	steps []int32 // every row's channel ids, back to back
}

// pathRow is one distinct path. Its steps are an offset into the set's
// steps, not a slice of their own, so that rows hold no pointers for the
// garbage collector to scan; they end where the next row's start, as
// rows are only appended.
type pathRow struct {
	start       int // of its steps in PathSet.steps
	conversions float64
	value       int64 // minor units
	nulls       float64
}

// NewPathSet returns an empty set.
func NewPathSet() *PathSet {
	return &PathSet{ids: map[string]int32{}, seed: maphash.MakeSeed()}
}

// channelID returns the id of a channel name, adding it when new.
func (s *PathSet) channelID(name string) int32 {
	if id, ok := s.ids[name]; ok {
		return id
	}
	return s.addChannel(name)
}

func (s *PathSet) addChannel(name string) int32 {
	id := int32(len(s.channels))
	s.ids[name] = id
	s.channels = append(s.channels, name)
	s.names.insert(maphash.String(s.seed, name))
	return id
}

// channelBytes is channelID for a name in a file's bytes, without
// converting it to a string unless it is new.
func (s *PathSet) channelBytes(name []byte) int32 {
	h := maphash.Bytes(s.seed, name)
	for slot := s.names.first(h); ; slot = s.names.next(slot) {
		id, found := s.names.at(slot, h)
		if id < 0 {
			return s.addChannel(string(name))
		}
		if found && s.channels[id] == string(name) {
			return id
		}
	}
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
		s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(s.channelID(c)))
	}
	s.addEncoded(conversions, value, nulls)
	return nil
}

func validCount(c float64) bool { return c >= 0 && !math.IsInf(c, 1) }

// addEncoded adds counts to the path encoded in s.buf.
func (s *PathSet) addEncoded(conversions float64, value int64, nulls float64) {
	s.indexRows()
	h := maphash.Bytes(s.seed, s.buf)
	row := int32(-1)
	for slot := s.index.first(h); ; slot = s.index.next(slot) {
		id, found := s.index.at(slot, h)
		if id < 0 {
			row = s.newRow()
			s.index.insert(h)
			break
		}
		if found && s.encodedEqual(id, s.buf) {
			row = id
			break
		}
	}
	r := &s.rows[row]
	r.conversions += conversions
	r.value += value
	r.nulls += nulls
}

// appendNew adds a path as a new row, known to differ from every row in
// the set: the reader of a sorted file knows it, and leaves the index to
// be built when a path is next added otherwise.
func (s *PathSet) appendNew(steps []int32, conversions float64, value int64, nulls float64) {
	start := len(s.steps)
	s.steps = append(double(s.steps, len(steps)), steps...)
	s.rows = append(double(s.rows, 1), pathRow{start: start, conversions: conversions, value: value, nulls: nulls})
}

// indexRows adds the rows that appendNew added to the index.
func (s *PathSet) indexRows() {
	if len(s.index.hashes) == len(s.rows) {
		return
	}
	var enc []byte
	for i := len(s.index.hashes); i < len(s.rows); i++ {
		enc = enc[:0]
		for _, c := range s.stepsOf(i) {
			enc = binary.LittleEndian.AppendUint32(enc, uint32(c))
		}
		s.index.insert(maphash.Bytes(s.seed, enc))
	}
}

func (s *PathSet) newRow() int32 {
	start, n := len(s.steps), len(s.buf)/4
	s.steps = double(s.steps, n)[:start+n]
	for i := range n {
		s.steps[start+i] = int32(binary.LittleEndian.Uint32(s.buf[4*i:]))
	}
	s.rows = append(double(s.rows, 1), pathRow{start: start})
	return int32(len(s.rows) - 1)
}

// double makes room for n more elements, doubling the capacity when it
// grows: append grows large slices by a quarter, which for a set read
// from a file copied and cleared four times its final size.
func double[T any](x []T, n int) []T {
	if len(x)+n <= cap(x) {
		return x
	}
	return slices.Grow(x, max(len(x)+n, 2*cap(x), 64)-len(x))
}

// stepsOf are the channel ids of row i.
func (s *PathSet) stepsOf(i int) []int32 {
	end := len(s.steps)
	if i+1 < len(s.rows) {
		end = s.rows[i+1].start
	}
	return s.steps[s.rows[i].start:end:end]
}

// encodedEqual reports whether row holds the path encoded in b.
func (s *PathSet) encodedEqual(row int32, b []byte) bool {
	steps := s.stepsOf(int(row))
	if len(b) != 4*len(steps) {
		return false
	}
	for i, c := range steps {
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
			s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(s.channelID(t.key)))
		}
		if p.converted() {
			s.addEncoded(1, p.j.Conversion.Value, 0)
		} else {
			s.addEncoded(0, 0, 1)
		}
	}
	return s
}
