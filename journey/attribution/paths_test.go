package attribution

import (
	"bytes"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPathsCSVRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	paths := randomPaths(t, rng, 2000, 7)
	require.NoError(t, paths.Add([]string{`Paid, "quoted"`, "B"}, 2, 50, 1)) // needs CSV quoting
	var buf bytes.Buffer
	require.NoError(t, paths.WriteCSV(&buf))
	back, err := ReadPathsCSV(&buf)
	require.NoError(t, err)
	assert.Equal(t, paths.Len(), back.Len())
	assert.Equal(t, paths.channels, back.channels)
	assert.Equal(t, paths.rows, back.rows)
}

func TestReadPathsCSV(t *testing.T) {
	in := "total_null,path,total_conversions,total_conversion_value\n" +
		"1,A>B,1,100\n" +
		"2, A > B ,0,0\n" + // the same path, spaced differently: merged
		"\n" +
		"0,C,3,300\n"
	s, err := ReadPathsCSV(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, 2, s.Len())
	journeys, conv, value := s.Totals()
	assert.Equal(t, []any{7.0, 4.0, int64(400)}, []any{journeys, conv, value})
	assert.Equal(t, []string{"A", "B", "C"}, s.Channels())

	for name, bad := range map[string]string{
		"no header":        "",
		"missing column":   "path,total_conversions,total_null\nA,1,0\n",
		"negative":         "path,total_conversions,total_conversion_value,total_null\nA,-1,0,0\n",
		"empty channel":    "path,total_conversions,total_conversion_value,total_null\nA>>B,1,1,0\n",
		"too many fields":  "path,total_conversions,total_conversion_value,total_null\nA,1,1,0,9\n",
		"value, no conv":   "path,total_conversions,total_conversion_value,total_null\nA,0,10,1\n",
		"bad quoted field": "path,total_conversions,total_conversion_value,total_null\n\"A,1,1,0\n",
	} {
		_, err := ReadPathsCSV(strings.NewReader(bad))
		assert.ErrorIs(t, err, ErrInvalidPathInput, name)
	}
}

func TestPathSetAddRejects(t *testing.T) {
	s := NewPathSet()
	assert.ErrorIs(t, s.Add(nil, 1, 1, 0), ErrInvalidPathInput)
	assert.ErrorIs(t, s.Add([]string{"A"}, -1, 0, 0), ErrInvalidPathInput)
	assert.ErrorIs(t, s.Add([]string{"A>B"}, 1, 0, 0), ErrInvalidPathInput)
	assert.ErrorIs(t, s.Add([]string{""}, 1, 0, 0), ErrInvalidPathInput)
	assert.ErrorIs(t, s.Add([]string{"A"}, 0, 5, 1), ErrInvalidPathInput)
	_, err := Markov{}.AttributePaths(s)
	assert.ErrorIs(t, err, ErrNoJourneys)
	_, err = Shapley{}.AttributePaths(nil)
	assert.ErrorIs(t, err, ErrNoJourneys)
	_, err = FirstTouch{}.AttributePaths(s)
	assert.ErrorIs(t, err, ErrNoJourneys)
}

func TestPathRulesMatchJourneyRules(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	js := randomJourneys(rng, 300)
	paths, err := GroupPaths(js, Options{})
	require.NoError(t, err)
	for _, m := range []PathModel{FirstTouch{}, LastTouch{}, LastNonDirect{}} {
		byJourney, err := m.Attribute(js, Options{})
		require.NoError(t, err)
		byPath, err := m.AttributePaths(paths)
		require.NoError(t, err)
		// First, last and last non-direct touch give whole conversions, so
		// the grouped and per-journey answers agree to the cent.
		assert.Equal(t, byJourney.Groups, byPath.Groups, m.Name())
	}
	byJourney, err := Linear{}.Attribute(js, Options{})
	require.NoError(t, err)
	byPath, err := Linear{}.AttributePaths(paths)
	require.NoError(t, err)
	for i, g := range byJourney.Groups {
		assert.Equal(t, g.Key, byPath.Groups[i].Key)
		assert.InDelta(t, g.Conversions, byPath.Groups[i].Conversions, 1e-9)
		assert.InDelta(t, g.Value, byPath.Groups[i].Value, float64(paths.Len()), "rounding per path differs by at most a unit a path")
	}
}

func TestPathSetHashCollision(t *testing.T) {
	s := NewPathSet()
	require.NoError(t, s.Add([]string{"A", "B"}, 1, 10, 0))
	require.NoError(t, s.Add([]string{"B", "A"}, 0, 0, 1))
	// File A > B (row 0) under the hash of B, as if the two collided.
	s.index = hashIndex{}
	s.index.insert(maphash.Bytes(s.seed, []byte{1, 0, 0, 0})) // B
	s.index.insert(maphash.Bytes(s.seed, []byte{1, 0, 0, 0, 0, 0, 0, 0}))
	require.NoError(t, s.Add([]string{"B"}, 0, 0, 1))
	require.NoError(t, s.Add([]string{"B"}, 0, 0, 2))
	require.NoError(t, s.Add([]string{"B", "A"}, 0, 0, 1))
	assert.Equal(t, 3, s.Len())
	assert.Equal(t, 3.0, s.rows[2].nulls)
	assert.Equal(t, 2.0, s.rows[1].nulls)
	assert.Equal(t, 1.0, s.rows[0].conversions)
}

// Ids whose hashes are equal, or equal in their slot bits, all stay
// found as the table grows.
func TestHashIndexCollisions(t *testing.T) {
	var x hashIndex
	hashOf := func(id int) uint64 { return uint64(id%3)<<32 | uint64(id%5)<<40 | 7 }
	const n = 1000
	for id := range n {
		h := hashOf(id)
		slot := x.first(h)
		for {
			got, match := x.at(slot, h)
			if got < 0 {
				break
			}
			require.False(t, match && int(got) == id, "id %d found before it was inserted", id)
			slot = x.next(slot)
		}
		x.insert(h)
	}
	require.GreaterOrEqual(t, len(x.slots), 2*n)
	for id := range n {
		h := hashOf(id)
		found := false
		for slot := x.first(h); ; slot = x.next(slot) {
			got, match := x.at(slot, h)
			if got < 0 {
				break
			}
			if match && int(got) == id {
				found = true
				break
			}
		}
		assert.True(t, found, "id %d", id)
	}
}
