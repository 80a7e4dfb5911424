package attribution

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readPathsSimply is the reader as it was before it read in blocks: a
// line at a time, fields split with strings.Split or, when quoted, by
// encoding/csv, each path added through AddWeighted. The fast reader must
// give the same set, and fail where it fails.
func readPathsSimply(in string, scale int64) (*PathSet, error) {
	lines := strings.Split(in, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	if in == "" || len(lines) == 0 {
		return nil, ErrInvalidPathInput
	}
	head := strings.TrimPrefix(lines[0], "\ufeff")
	sep := ','
	if strings.Count(head, ";") > strings.Count(head, ",") {
		sep = ';'
	}
	record := func(line string) ([]string, error) {
		if !strings.Contains(line, `"`) {
			return strings.Split(line, string(sep)), nil
		}
		r := csv.NewReader(strings.NewReader(line))
		r.Comma = sep
		return r.Read()
	}
	hr := csv.NewReader(strings.NewReader(head))
	hr.Comma = sep
	names, err := hr.Read()
	if err != nil {
		return nil, ErrInvalidPathInput
	}
	col := map[string]int{}
	for i, h := range names {
		col[strings.TrimSpace(h)] = i
	}
	var idx [4]int
	for i, name := range pathsHeader() {
		c, ok := col[name]
		if !ok {
			return nil, ErrInvalidPathInput
		}
		idx[i] = c
	}
	s := NewPathSet()
	for _, line := range lines[1:] {
		if len(bytes.TrimSpace([]byte(line))) == 0 {
			continue
		}
		rec, err := record(line)
		if err != nil || len(rec) != len(names) {
			return nil, ErrInvalidPathInput
		}
		conv, ok1 := parseWeight(bytes.TrimSpace([]byte(rec[idx[1]])))
		nulls, ok2 := parseWeight(bytes.TrimSpace([]byte(rec[idx[3]])))
		value, ok3 := parseMinorUnits(bytes.TrimSpace([]byte(rec[idx[2]])), scale)
		if !ok1 || !ok2 || !ok3 {
			return nil, ErrInvalidPathInput
		}
		var channels []string
		for name := range strings.SplitSeq(rec[idx[0]], ">") {
			channels = append(channels, string(bytes.TrimSpace([]byte(name))))
		}
		if slices.Contains(channels, "") {
			return nil, ErrInvalidPathInput
		}
		if err := s.AddWeighted(channels, conv, value, nulls); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// samePaths requires two sets to hold the same channels and rows, in the
// same order.
func samePaths(t *testing.T, want, got *PathSet) {
	t.Helper()
	require.Equal(t, want.channels, got.channels)
	require.Equal(t, want.Len(), got.Len())
	for i := range want.rows {
		w, g := &want.rows[i], &got.rows[i]
		require.Equal(t, want.stepsOf(i), got.stepsOf(i), "row %d", i)
		require.Equal(t, []any{w.conversions, w.value, w.nulls}, []any{g.conversions, g.value, g.nulls}, "row %d", i)
	}
}

// Sorted, unsorted and repeated paths, across blocks of every small
// size and through readers that return a byte at a time: the same set as
// the simple reader, and the same set again when more is added.
func TestReadPathsCSVBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sorted strings.Builder
	sorted.WriteString("path;total_conversions;total_conversion_value;total_null\n")
	// A sorted file as ChannelAttribution's: a path before its
	// extensions, channels in name order, ids not (b is seen first).
	var walk func(prefix string, depth int)
	walk = func(prefix string, depth int) {
		for _, ch := range []string{"a", "b", "c d", "ch10", "ch2"} {
			p := ch
			if prefix != "" {
				p = prefix + " > " + ch
			}
			if prefix == "" && ch == "a" {
				p = "b > a"
			}
			conv, value := rng.IntN(3), rng.IntN(5000)
			if conv == 0 {
				value = 0
			}
			fmt.Fprintf(&sorted, "%s;%d;%d.%02d;%d\n", p, conv, value/100, value%100, 1+rng.IntN(5))
			if depth < 2 {
				walk(p, depth+1)
			}
		}
	}
	walk("", 0)
	lines := strings.Split(strings.TrimSuffix(sorted.String(), "\n"), "\n")
	shuffled := slices.Clone(lines[1:])
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	inputs := map[string]string{
		"sorted":   sorted.String(),
		"shuffled": lines[0] + "\n" + strings.Join(shuffled, "\n"),
		// Sorted, then the first paths again: the reader must leave the
		// sorted way and find them.
		"repeated": sorted.String() + strings.Join(lines[1:40], "\r\n") + "\n\n  \n",
		"spaced":   strings.ReplaceAll(sorted.String(), " > ", ">  "),
	}
	for name, in := range inputs {
		want, err := readPathsSimply(in, 100)
		require.NoError(t, err, name)
		for _, block := range []int{1, 2, 7, 64, 1000, readBlock} {
			got, err := PathsCSV{ValueScale: 100}.read(strings.NewReader(in), block)
			require.NoError(t, err, "%s, block %d", name, block)
			samePaths(t, want, got)
		}
		got, err := PathsCSV{ValueScale: 100}.Read(iotest.OneByteReader(strings.NewReader(in)))
		require.NoError(t, err, name)
		samePaths(t, want, got)
		// Adding after reading finds the rows read without a lookup.
		require.NoError(t, want.AddWeighted([]string{"b", "a"}, 1, 5, 1))
		require.NoError(t, got.AddWeighted([]string{"b", "a"}, 1, 5, 1))
		samePaths(t, want, got)
	}
}

// Every error names the line and the column where the bad field starts.
func TestReadPathsCSVErrorPlaces(t *testing.T) {
	head := "path;total_conversions;total_conversion_value;total_null\n"
	for _, tt := range []struct{ in, want string }{
		{head + "A;1;1;0\nA > ;1;1;0\n", "line 3, column 4: empty channel"},
		{head + "A;1;1;0\n\nB >> C;1;1;0\n", "line 4, column 4: empty channel"},
		{head + "A;x;1;0\n", "line 2, column 3: total_conversions \"x\""},
		{head + "A;1;1;-2\n", "line 2, column 7: total_null \"-2\""},
		{head + "A;1;1e999;0\n", "line 2, column 5: total_conversion_value \"1e999\""},
		{head + "A;0;5;1\n", "line 2, column 5: value without conversions"},
		{head + "A;1;1;0;9\n", "line 2, column 8: more than 4 fields"},
		{head + "A;1;1\n", "line 2, column 6: 3 fields, want 4"},
		{head + "\"A;1;1;0\n", "line 2, column 9: extraneous or missing \" in quoted-field"},
		{head + "\"A\";1;\"x\";0\n", "line 2, column 7: total_conversion_value \"x\""},
		{"path;total_null\n", "line 1 (header) lacks \"total_conversions\""},
	} {
		_, err := ReadPathsCSV(strings.NewReader(tt.in))
		require.ErrorIs(t, err, ErrInvalidPathInput, tt.in)
		assert.Contains(t, err.Error(), tt.want, tt.in)
	}
	// A line past the longest allowed, with no line end in it.
	_, err := ReadPathsCSV(iotest.OneByteReader(strings.NewReader(head + strings.Repeat("A", maxLine+1))))
	require.ErrorIs(t, err, ErrInvalidPathInput)
	assert.Contains(t, err.Error(), "line 2 is longer than")
	// A failing reader: its error, with the line it was reading.
	_, err = ReadPathsCSV(iotest.DataErrReader(iotest.TimeoutReader(strings.NewReader(head + "A;1;1;0\n"))))
	require.ErrorIs(t, err, ErrInvalidPathInput)
}

// FuzzReadPathsCSVBlocks: any input reads, in blocks of any size, to what
// the simple reader reads, or fails where it fails.
//
//	go test -run '^$' -fuzz FuzzReadPathsCSVBlocks ./journey/attribution/
func FuzzReadPathsCSVBlocks(f *testing.F) {
	f.Add(channelAttributionFile, 3)
	f.Add("path,total_conversions,total_conversion_value,total_null\nA > B,1.5,10,0.5\nA>B>C,1,2,0\nA > B,0,0,1\n\"x, y\" > B,1,2,0\n", 1)
	f.Add("\ufeffpath;total_null;total_conversions;total_conversion_value\r\nA;1;0;0\r\nA ;1;0;0\r\n A > A;1;0;0", 5)
	f.Fuzz(func(t *testing.T, in string, block int) {
		block = 1 + max(block, -block)%64
		want, wantErr := readPathsSimply(in, 100)
		got, err := PathsCSV{ValueScale: 100}.read(strings.NewReader(in), block)
		if wantErr != nil || err != nil {
			require.ErrorIs(t, err, ErrInvalidPathInput, "the simple reader: %v", wantErr)
			require.Error(t, wantErr, "the reader: %v", err)
			return
		}
		samePaths(t, want, got)
	})
}
