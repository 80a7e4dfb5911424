package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// periodTotals counts, independently of BuildSeries, the distinct
// conversions of [from, to) with their value and the distinct call
// touchpoints and call conversions.
func periodTotals(js []attribution.Journey, from, to time.Time) (convs int, value int64, calls, qualified int, callValue int64) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	seen := map[string]bool{}
	for _, j := range js {
		if c := j.Conversion; c != nil && !seen[c.ID] && in(c.At) {
			seen[c.ID] = true
			convs++
			value += c.Value
			if c.Type == journey.ConversionCall {
				qualified++
				callValue += c.Value
			}
		}
		for _, tp := range j.Touchpoints {
			if tp.Kind == journey.TouchCall && !seen[tp.ID+"#tp"] && in(tp.At) {
				seen[tp.ID+"#tp"] = true
				calls++
			}
		}
	}
	return
}

func TestSeriesTotalsEqualThePeriodsConversionsAndCalls(t *testing.T) {
	js := fixture()
	for _, opts := range []SeriesOptions{
		{From: day(0), To: day(4), Currency: "USD"},
		{From: day(0), To: day(4), Granularity: Weekly, ByCampaign: true, Currency: "USD"},
		{From: day(1), To: day(2), Currency: "USD"},
		{From: at(0, 10), To: at(1, 10), Currency: "USD"},
	} {
		s, err := BuildSeries(js, fixtureSpend(), opts)
		require.NoError(t, err)
		convs, value, calls, qualified, callValue := periodTotals(js, opts.From, opts.To)
		tot := s.Totals()
		require.Equal(t, convs, tot.Conversions, "%+v", opts)
		require.Equal(t, value, tot.Revenue, "%+v", opts)
		require.Equal(t, calls, tot.Calls, "%+v", opts)
		require.Equal(t, qualified, tot.QualifiedCalls, "%+v", opts)
		require.Equal(t, callValue, tot.CallRevenue, "%+v", opts)
	}
}

func TestSeriesDailyHasEveryDateAndTheChannelsMetrics(t *testing.T) {
	s, err := BuildSeries(fixture(), fixtureSpend(), SeriesOptions{From: day(0), To: day(5), Currency: "USD"})
	require.NoError(t, err)
	require.Equal(t, []time.Time{day(0), day(1), day(2), day(3), day(4)}, s.Dates, "days with nothing are present")
	require.Equal(t, "USD", s.Currency)
	require.Equal(t, []SeriesKey{{Channel: "Display"}, {Channel: "Organic Search"}, {Channel: "Paid Search"}, {Channel: "Paid Social"}}, s.Keys)
	ps := 2
	require.Equal(t, SeriesPoint{Calls: 1, QualifiedCalls: 1, CallRevenue: 5000, Spend: 2000}, s.Points[0][ps])
	require.Equal(t, SeriesPoint{Calls: 1, QualifiedCalls: 1, CallRevenue: 3000, Spend: 2001}, s.Points[1][ps])
	require.Equal(t, SeriesPoint{Calls: 1, Chats: 1, Spend: 1500}, s.Points[1][3])
	require.Equal(t, SeriesPoint{Calls: 1}, s.Points[2][3], "the spam call")
	require.Equal(t, SeriesPoint{Forms: 1}, s.Points[2][1])
	require.Equal(t, []int{1, 1, 1, 0, 0}, s.Conversions)
	require.Equal(t, []int64{5000, 3000, 1000, 0, 0}, s.Revenue)

	var b bytes.Buffer
	require.NoError(t, s.WriteWide(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 6)
	require.Equal(t, "date,conversions,revenue,calls,qualified_calls,call_revenue,chats,forms,spend,"+
		"display_calls,display_qualified_calls,display_call_revenue,display_chats,display_forms,display_spend,"+
		"organic_search_calls,organic_search_qualified_calls,organic_search_call_revenue,organic_search_chats,organic_search_forms,organic_search_spend,"+
		"paid_search_calls,paid_search_qualified_calls,paid_search_call_revenue,paid_search_chats,paid_search_forms,paid_search_spend,"+
		"paid_social_calls,paid_social_qualified_calls,paid_social_call_revenue,paid_social_chats,paid_social_forms,paid_social_spend", lines[0])
	require.Equal(t, "2026-03-02,1,50.00,1,1,50.00,0,0,20.00,"+
		"0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,1,1,50.00,0,0,20.00,0,0,0.00,0,0,0.00", lines[1])
	require.Equal(t, "2026-03-06,0,0.00,0,0,0.00,0,0,0.00,"+
		"0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00,0,0,0.00", lines[5])
}

func TestSeriesWeeklyByCampaignLong(t *testing.T) {
	// 2026-03-02 is a Monday; from a Wednesday, the first week is still
	// dated by its Monday.
	s, err := BuildSeries(fixture(), fixtureSpend(), SeriesOptions{From: day(-5), To: day(10), Granularity: Weekly, ByCampaign: true, Currency: "USD"})
	require.NoError(t, err)
	require.Equal(t, []time.Time{day(-7), day(0), day(7)}, s.Dates)
	require.Contains(t, s.Keys, SeriesKey{Channel: "Paid Search", Campaign: "spring_sale"})
	require.Contains(t, s.Keys, SeriesKey{Channel: "Display", Campaign: attribution.UnknownKey})
	var b bytes.Buffer
	require.NoError(t, s.WriteLong(&b))
	out := b.String()
	require.True(t, strings.HasPrefix(out, "date,channel,campaign,metric,value\n2026-02-23,(all),,conversions,0\n"), out)
	require.Contains(t, out, "2026-03-02,Paid Search,spring_sale,call_revenue,80.00\n")
	require.Contains(t, out, "2026-03-09,Paid Search,spring_sale,spend,999.99\n", "day 9's spend")
	require.Contains(t, out, "2026-02-23,Paid Social,brand,calls,0\n", "zeros are written")
	require.Equal(t, "paid_search_spring_sale_spend", SeriesKey{Channel: "Paid Search", Campaign: "spring_sale"}.ColumnName("spend"))
	require.Equal(t, "unknown_calls", SeriesKey{Channel: attribution.UnknownKey}.ColumnName("calls"))
}

func TestBuildSeriesRefusesBadOptionsNamingThem(t *testing.T) {
	_, err := BuildSeries(nil, nil, SeriesOptions{Granularity: "month", Currency: "usd"})
	require.ErrorContains(t, err, "from and to")
	require.ErrorContains(t, err, "granularity")
	require.ErrorContains(t, err, "currency")
	_, err = BuildSeries(nil, nil, SeriesOptions{From: day(1), To: day(1)})
	require.ErrorContains(t, err, "from must be before to")
	_, err = BuildSeries(fixture(), fixtureSpend(), SeriesOptions{From: day(0), To: day(4)})
	require.ErrorContains(t, err, "currency: the period has conversions or spend in EUR and USD")
	s, err := BuildSeries(fixture(), fixtureSpend(), SeriesOptions{From: day(0), To: day(1)})
	require.NoError(t, err, "one currency in the period")
	require.Equal(t, "USD", s.Currency)
}
