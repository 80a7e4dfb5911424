package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

func day(n int) time.Time { return time.Date(2026, 3, 2+n, 0, 0, 0, 0, time.UTC) }

func TestReadSpendCSVReadsTheDocumentedFormat(t *testing.T) {
	in := "\ufeffday,channel,source,medium,campaign,currency,amount\n" +
		"2026-03-02,Paid Search,google,cpc,spring_sale,USD,120.5\n" +
		"2026-03-02,Paid Social,facebook,paid,,USD,40\n" +
		"2026-03-03, Paid Search ,google,cpc,spring_sale,JPY,500\n" +
		"2026-03-03,,bing,cpc,,KWD,1.234\n"
	got, err := ReadSpendCSV(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, []journey.Spend{
		{Day: day(0), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "USD", Amount: 12050},
		{Day: day(0), Channel: "Paid Social", Source: "facebook", Medium: "paid", Currency: "USD", Amount: 4000},
		{Day: day(1), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "spring_sale", Currency: "JPY", Amount: 500},
		{Day: day(1), Source: "bing", Medium: "cpc", Currency: "KWD", Amount: 1234},
	}, got)
	for _, s := range got {
		require.NoError(t, s.Validate())
	}
}

func TestSpendCSVRoundTrips(t *testing.T) {
	rows := []journey.Spend{
		{Day: day(0), Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: `a "quoted", campaign`, Currency: "USD", Amount: 5},
		{Day: day(3), Channel: "Display", Currency: "JPY", Amount: 0},
		{Day: day(3), Channel: "Display", Currency: "BHD", Amount: 1001},
	}
	var b bytes.Buffer
	require.NoError(t, WriteSpendCSV(&b, rows))
	require.Contains(t, b.String(), "2026-03-02,Paid Search,google,cpc,\"a \"\"quoted\"\", campaign\",USD,0.05\n")
	got, err := ReadSpendCSV(&b)
	require.NoError(t, err)
	require.Equal(t, rows, got)
}

func TestReadSpendCSVErrorsNameLineAndColumn(t *testing.T) {
	const header = "day,channel,source,medium,campaign,currency,amount\n"
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"empty file", "", []string{"line 1", "header"}},
		{"wrong header", "date,channel,amount\n", []string{"line 1", "want day,channel"}},
		{"bad date", header + "2026-3-2,Paid Search,,,,USD,1\n", []string{"line 2, column 1 (day)", "YYYY-MM-DD"}},
		{"no source at all", header + "2026-03-02,,,,,USD,1\n", []string{"line 2, column 2 (channel)", "all empty"}},
		{"lower-case currency", header + "2026-03-02,Paid Search,,,,usd,1\n", []string{"line 2, column 6 (currency)", "ISO 4217"}},
		{"negative amount", header + "2026-03-02,Paid Search,,,,USD,-1\n", []string{"line 2, column 7 (amount)", "negative"}},
		{"too many decimals", header + "2026-03-02,Paid Search,,,,USD,1.005\n", []string{"line 2, column 7 (amount)", "2 decimal digits"}},
		{"decimals in yen", header + "2026-03-02,Paid Search,,,,JPY,1.5\n", []string{"line 2, column 7 (amount)", "0 decimal digits"}},
		{"not a number", header + "2026-03-02,Paid Search,,,,USD,1e3\n", []string{"line 2, column 7 (amount)", "not a decimal"}},
		{"too large", header + "2026-03-02,Paid Search,,,,USD,99999999999999999999\n", []string{"line 2, column 7 (amount)", "too large"}},
		{"duplicate key", header + "2026-03-02,Paid Search,,,,USD,1\n2026-03-02,Paid Search,,,,USD,2\n", []string{"line 3, column 1 (day)", "line 2 again"}},
		{"column count", header + "2026-03-02,Paid Search,USD,1\n", []string{"line 2", "4 columns, want 7"}},
		{"bad quoting", header + "2026-03-02,\"Paid Search,,,,USD,1\n", []string{"line 2", "column"}},
		{"every problem", header + "x,Paid Search,,,,USD,1\n2026-03-02,Paid Search,,,,EURO,1\n", []string{"line 2, column 1", "line 3, column 6"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadSpendCSV(strings.NewReader(c.body))
			require.Error(t, err)
			require.Nil(t, got, "a file with a problem imports nothing")
			for _, w := range c.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func FuzzReadSpendCSV(f *testing.F) {
	f.Add("day,channel,source,medium,campaign,currency,amount\n2026-03-02,Paid Search,google,cpc,x,USD,12.50\n")
	f.Add("day,channel,source,medium,campaign,currency,amount\n2026-03-02,,,,c,JPY,.5\n")
	f.Add("day,channel\n\"")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ReadSpendCSV(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range rows {
			if err := r.Validate(); err != nil {
				t.Fatalf("accepted an invalid row %+v: %v", r, err)
			}
		}
		var b bytes.Buffer
		if err := WriteSpendCSV(&b, rows); err != nil {
			t.Fatal(err)
		}
		again, err := ReadSpendCSV(&b)
		if err != nil {
			t.Fatalf("written file does not read back: %v\n%s", err, b.String())
		}
		require.Equal(t, rows, again)
	})
}
