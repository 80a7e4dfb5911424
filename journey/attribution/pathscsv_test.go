package attribution

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// channelAttributionFile is in the format of ChannelAttribution's example
// data set: its Data.csv (python/src/cypack/data/Data.csv in the
// ChannelAttribution repository by Davide Altomare and David Loris; the
// R package ships the same 10,000 rows as the data set PathData) starts
//
//	path;total_conversions;total_conversion_value;total_null
//
// and has ';' between fields, " > " between lower-case channel names,
// whole counts, values with up to 13 decimals and the same path on
// several lines (its 10,000 rows hold 5,408 distinct paths). That file
// is GPL-3, this repository Apache-2.0, so the rows here are written for
// this test in the same format rather than copied from it.
const channelAttributionFile = `path;total_conversions;total_conversion_value;total_null
search > email > search > display;1;0.731;3
email > email > email;2;4.62;6
display > search;1;2.4;3
search;0;0;2
email > display > email > email;1;5.0449;3
display > search;1;3.5;3
search > search > email;10;30.7346153846154;38
`

func TestReadChannelAttributionFile(t *testing.T) {
	s, err := ReadPathsCSV(strings.NewReader(channelAttributionFile))
	require.NoError(t, err)
	assert.Equal(t, 6, s.Len(), "display > search twice: one path")
	assert.Equal(t, []string{"search", "email", "display"}, s.Channels())
	journeys, conv, value := s.Totals()
	assert.Equal(t, 74.0, journeys)
	assert.Equal(t, 16.0, conv)
	// Values in minor units, each line rounded: 0.731 → 1, 4.62 → 5,
	// 2.4 → 2, 5.0449 → 5, 3.5 → 4 (halves up), 30.73… → 31.
	assert.Equal(t, int64(48), value)

	// In thousandths: 731 + 4620 + 2400 + 5045 + 3500 + 30735.
	s, err = PathsCSV{ValueScale: 1000}.Read(strings.NewReader(channelAttributionFile))
	require.NoError(t, err)
	_, _, value = s.Totals()
	assert.Equal(t, int64(47031), value)

	// Every path model reads it.
	for _, m := range []PathModel{FirstTouch{}, LastTouch{}, LastNonDirect{}, Linear{}, Markov{}, Markov{Order: 2, States: StatesChannelAttribution}, Shapley{}, OrderedShapley{}} {
		r, err := m.AttributePaths(s)
		require.NoError(t, err, m.Name())
		assert.Equal(t, 16.0, r.Conversions, m.Name())
		var sum int64
		for _, g := range r.Groups {
			sum += g.Value
		}
		assert.Equal(t, int64(47031), sum, m.Name())
	}
}

// Fractional counts are weights: the same paths with every count halved
// give the same removal effects and half the conversions.
func TestFractionalCounts(t *testing.T) {
	halves := "path;total_conversions;total_conversion_value;total_null\n" +
		"A > B;1.5;12.3;0.5\n" +
		"B;0.5;4.1;1.5\n" +
		"A;0;0;2.25\n"
	whole := "path;total_conversions;total_conversion_value;total_null\n" +
		"A > B;3;12.3;1\n" +
		"B;1;4.1;3\n" +
		"A;0;0;4.5\n"
	h, err := PathsCSV{ValueScale: 100}.Read(strings.NewReader(halves))
	require.NoError(t, err)
	w, err := PathsCSV{ValueScale: 100}.Read(strings.NewReader(whole))
	require.NoError(t, err)
	journeys, conv, value := h.Totals()
	assert.Equal(t, []any{6.25, 2.0, int64(1640)}, []any{journeys, conv, value})

	for _, m := range []PathModel{Markov{}, Markov{ValueMethod: ValueByLastState}, Shapley{}, Shapley{Worth: WorthConversionRate}, Linear{}} {
		rh, err := m.AttributePaths(h)
		require.NoError(t, err)
		rw, err := m.AttributePaths(w)
		require.NoError(t, err)
		assert.Equal(t, 2.0, rh.Conversions, m.Name())
		assert.Equal(t, 4.0, rw.Conversions, m.Name())
		require.Len(t, rh.Groups, len(rw.Groups), m.Name())
		for i, g := range rh.Groups {
			assert.InDelta(t, rw.Groups[i].Conversions/2, g.Conversions, 1e-12, "%s %s", m.Name(), g.Key)
			assert.Equal(t, rw.Groups[i].Value, g.Value, "%s %s: the same value", m.Name(), g.Key)
		}
	}

	// WriteCSV keeps the fractions.
	var buf bytes.Buffer
	require.NoError(t, h.WriteCSV(&buf))
	assert.Equal(t, "path,total_conversions,total_conversion_value,total_null\n"+
		"A > B,1.5,1230,0.5\nB,0.5,410,1.5\nA,0,0,2.25\n", buf.String())
	back, err := ReadPathsCSV(&buf)
	require.NoError(t, err)
	assert.Equal(t, h.rows, back.rows)

	s := NewPathSet()
	assert.ErrorIs(t, s.AddWeighted([]string{"A"}, math.NaN(), 0, 1), ErrInvalidPathInput)
	assert.ErrorIs(t, s.AddWeighted([]string{"A"}, 1, 0, math.Inf(1)), ErrInvalidPathInput)
	assert.ErrorIs(t, s.AddWeighted([]string{"A"}, -0.5, 0, 1), ErrInvalidPathInput)
}

func TestReadPathsCSVSeparators(t *testing.T) {
	// ';' with a quoted path holding ';' and ',', a byte-order mark,
	// Windows line ends and an extra column (R's row names).
	in := "\ufeff\"\";\"path\";\"total_conversions\";\"total_conversion_value\";\"total_null\"\r\n" +
		"1;\"paid; search, brand > email\";2;10.5;1\r\n" +
		"2;email;0;0;3\r\n"
	s, err := PathsCSV{ValueScale: 10}.Read(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []string{"paid; search, brand", "email"}, s.Channels())
	journeys, conv, value := s.Totals()
	assert.Equal(t, []any{6.0, 2.0, int64(105)}, []any{journeys, conv, value})

	// ',' with ';' inside an unquoted channel name.
	s, err = ReadPathsCSV(strings.NewReader("path,total_conversions,total_conversion_value,total_null\na;b > c,1,5,0\n"))
	require.NoError(t, err)
	assert.Equal(t, []string{"a;b", "c"}, s.Channels())

	head := "path;total_conversions;total_conversion_value;total_null\n"
	for name, bad := range map[string]string{
		"decimal comma":        head + "A;1;12,5;0\n", // R's write.csv2 writes these; not read
		"comma in a ; file":    head + "A,1,5,0\n",
		"negative fraction":    head + "A;-0.5;0;1\n",
		"not a number":         head + "A;NaN;0;1\n",
		"infinite count":       head + "A;1e400;0;1\n",
		"infinite word":        head + "A;1;Inf;1\n",
		"hexadecimal":          head + "A;0x10;0;1\n",
		"too large a value":    head + "A;1;1e30;0\n",
		"19 digits, too large": head + "A;1;9223372036854775808;0\n",
	} {
		_, err := ReadPathsCSV(strings.NewReader(bad))
		assert.ErrorIs(t, err, ErrInvalidPathInput, name)
	}
	_, err = PathsCSV{ValueScale: -1}.Read(strings.NewReader(head))
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

func TestParseMinorUnits(t *testing.T) {
	tests := []struct {
		in    string
		scale int64
		want  int64
		ok    bool
	}{
		{"12.30", 100, 1230, true},
		{"12.3", 100, 1230, true},
		{"0.005", 100, 1, true},   // half a cent: up
		{"0.0049", 100, 0, true},  //
		{"1.005", 100, 101, true}, // exact: in float64 1.005 × 100 is 100.49999999999999
		{"30.7346153846154", 1000, 30735, true},
		{"7.", 1, 7, true},
		{".5", 1, 1, true},
		{"1e+05", 100, 10_000_000, true}, // R writes large numbers so
		{"2.5E-1", 10, 3, true},
		{"9223372036854775807", 1, math.MaxInt64, true},
		{"9223372036854775808", 1, 0, false},
		{"92233720368547758.08", 100, 0, false},
		{"1.5", math.MaxInt64, 0, false},
		{"12345678901234567890.5", 1, 0, false},
		{"", 1, 0, false},
		{".", 1, 0, false},
		{"1.2.3", 1, 0, false},
		{"-1", 1, 0, false},
		{"1e", 1, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseMinorUnits([]byte(tt.in), tt.scale)
		assert.Equal(t, tt.ok, ok, "%q × %d", tt.in, tt.scale)
		assert.Equal(t, tt.want, got, "%q × %d", tt.in, tt.scale)
	}
}

// FuzzReadPathsCSV: any input either fails with ErrInvalidPathInput or
// reads to a set that WriteCSV writes and ReadPathsCSV reads back the
// same.
//
//	go test -run '^$' -fuzz FuzzReadPathsCSV ./journey/attribution/
func FuzzReadPathsCSV(f *testing.F) {
	f.Add(channelAttributionFile)
	f.Add("path,total_conversions,total_conversion_value,total_null\nA > B,1.5,10,0.5\n\"x, y\" > B,1,2,0\n")
	f.Add("\ufeffpath;total_null;total_conversions;total_conversion_value\r\nA;1;0;0\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := PathsCSV{ValueScale: 100}.Read(strings.NewReader(in))
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidPathInput)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, s.WriteCSV(&buf))
		back, err := ReadPathsCSV(&buf)
		require.NoError(t, err, "reading back %q", buf.String())
		require.Equal(t, s.channels, back.channels)
		require.Equal(t, s.rows, back.rows)
	})
}
