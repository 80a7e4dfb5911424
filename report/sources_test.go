package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey/attribution"
)

func rowsByKey(rows []SourceRow) map[string]SourceRow {
	out := map[string]SourceRow{}
	for _, r := range rows {
		out[r.Key] = r
	}
	return out
}

func TestBySourceByChannelCountsEachTouchpointOnceInThePeriod(t *testing.T) {
	js := fixture()
	cmp, err := attribution.Compare(js, attribution.Options{Key: DimChannel.Key()})
	require.NoError(t, err)
	rows := BySourceBetween(js, cmp, fixtureSpend(), DimChannel, day(0), day(4))
	got := rowsByKey(rows)
	ps := got["Paid Search"]
	require.Equal(t, 2, ps.Calls, "CA1 is in two journeys and counts once; CA0 is before the period")
	require.Equal(t, 2, ps.QualifiedCalls)
	require.Equal(t, int64(8000), ps.Revenue)
	require.Equal(t, "USD", ps.Currency)
	require.Equal(t, int64(4001), ps.Spend, "spend of the period in the report's currency")
	require.Equal(t, int64(2001), ps.CostPerCall, "4001 / 2, halves up")
	require.Equal(t, int64(2001), ps.CostPerQualifiedCall)

	social := got["Paid Social"]
	require.Equal(t, 2, social.Calls, "spam included, as CallsBySource counts")
	require.Equal(t, 1, social.SpamCalls)
	require.Equal(t, 1, social.MissedCalls, "a spam call is never counted missed")
	require.Equal(t, 1, social.Chats)
	require.Equal(t, 0, social.QualifiedCalls)
	require.Equal(t, int64(1500), social.Spend)
	require.Equal(t, int64(750), social.CostPerCall)
	require.Zero(t, social.CostPerQualifiedCall)

	require.Equal(t, 1, got["Organic Search"].Forms)
	require.Equal(t, int64(700), got["Display"].Spend, "spend no touchpoint explains still has its row")

	// Every model's credit is reported, and sums to its total.
	for i, res := range cmp.Results {
		var value int64
		for _, r := range rows {
			require.Equal(t, res.Model, r.Models[i].Model)
			value += r.Models[i].Value
			if r.Spend > 0 {
				require.InDelta(t, float64(r.Models[i].Value)/float64(r.Spend), r.Models[i].ROAS, 1e-12)
			} else {
				require.Zero(t, r.Models[i].ROAS)
			}
		}
		require.Equal(t, res.Value, value, res.Model)
		require.Equal(t, int64(9000), value, "every conversion's value, calls and form")
	}
	lt := ps.Models[1]
	require.Equal(t, "last_touch", lt.Model)
	require.Equal(t, int64(8000), lt.Value)
	require.InDelta(t, 8000.0/4001.0, lt.ROAS, 1e-12)
}

func TestBySourceMatchesSpendByCampaignAndSourceMedium(t *testing.T) {
	js := fixture()
	got := rowsByKey(BySourceBetween(js, nil, fixtureSpend(), DimCampaign, day(0), day(4)))
	require.Equal(t, int64(4001), got["spring_sale"].Spend)
	require.Equal(t, int64(1500), got["brand"].Spend)
	require.Equal(t, int64(700), got[attribution.UnknownKey].Spend, "an untagged campaign's spend")
	require.Equal(t, 1, got[attribution.UnknownKey].Forms, "the organic form has no campaign")
	require.Nil(t, got["brand"].Models, "no comparison, no model credits")

	got = rowsByKey(BySourceBetween(js, nil, fixtureSpend(), DimSourceMedium, day(0), day(4)))
	require.Equal(t, int64(4001), got["google / cpc"].Spend)
	require.Equal(t, 2, got["google / cpc"].QualifiedCalls)
}

func TestBySourceKeywordAndLandingPageCarryNoSpend(t *testing.T) {
	js := fixture()
	cmp, err := attribution.Compare(js, attribution.Options{Key: DimKeyword.Key()})
	require.NoError(t, err)
	rows := BySourceBetween(js, cmp, fixtureSpend(), DimKeyword, day(0), day(4))
	got := rowsByKey(rows)
	kw := got["emergency plumber"]
	require.Equal(t, 2, kw.Calls)
	require.Equal(t, int64(8000), kw.Revenue)
	for _, r := range rows {
		require.Zero(t, r.Spend, r.Key)
	}
	lp := rowsByKey(BySourceBetween(js, nil, fixtureSpend(), DimLandingPage, day(0), day(4)))
	require.Equal(t, 2, lp["/emergency"].QualifiedCalls)
	require.Equal(t, 2, lp["/pricing"].Calls)
	require.Equal(t, 1, lp["/pricing"].Chats)
	require.Equal(t, 1, lp["/"].Forms)
}

func TestBySourceWithoutPeriodCountsEveryTouchpoint(t *testing.T) {
	got := rowsByKey(BySource(fixture(), nil, nil, DimChannel))
	require.Equal(t, 3, got["Paid Search"].Calls, "CA0 counts without a period")
}

func TestWriteSourcesCSV(t *testing.T) {
	js := fixture()
	cmp, err := attribution.Compare(js, attribution.Options{Key: DimChannel.Key()}, attribution.LastTouch{})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteSourcesCSV(&b, DimChannel, BySourceBetween(js, cmp, fixtureSpend(), DimChannel, day(0), day(4))))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Equal(t, "channel,calls,qualified_calls,missed_calls,spam_calls,chats,forms,revenue,currency,spend,cost_per_call,cost_per_qualified_call,last_touch_conversions,last_touch_value,last_touch_roas", lines[0])
	require.Contains(t, lines, "Paid Search,2,2,0,0,0,0,80.00,USD,40.01,20.01,20.01,2,80.00,1.9995")
}

func TestParseDimension(t *testing.T) {
	for _, d := range Dimensions() {
		got, err := ParseDimension(string(d))
		require.NoError(t, err)
		require.Equal(t, d, got)
	}
	got, err := ParseDimension("")
	require.NoError(t, err)
	require.Equal(t, DimChannel, got)
	_, err = ParseDimension("country")
	require.ErrorContains(t, err, "dim")
}

func TestLandingPath(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/pricing?gclid=x#top": "/pricing",
		"https://example.com":                     "/",
		"::not a url":                             "/",
		"/plans/gold":                             "/plans/gold",
	} {
		require.Equal(t, want, LandingPath(in), in)
	}
}
