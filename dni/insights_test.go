package dni

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/report"
)

const reportToken = "Bearer report-token"

// tokenAuth is the host's authentication in these tests: one bearer token.
func tokenAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != reportToken {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *harness) report(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+DefaultPrefix+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", reportToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// insightsHarness: a paid-search visitor lands on /emergency, calls and
// qualifies; a paid-social visitor lands on /pricing and calls a line that
// is busy; spend for both is imported from CSV over HTTP.
func insightsHarness(t *testing.T) (h *harness, from, to time.Time) {
	h = newHarness(t, testConfig(), WithReportAuth(tokenAuth))
	ctx := context.Background()
	from = h.clock.now().Truncate(24 * time.Hour)
	webhook := h.srv.URL + DefaultPrefix + "webhooks/fake"
	paid := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/emergency?utm_source=google&utm_medium=cpc" +
		"&utm_campaign=spring_sale&utm_term=emergency+plumber&gclid=x"})
	require.Equal(t, "Paid Search", string(paid.Source.Channel))
	social := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/pricing?utm_source=facebook&utm_medium=paid&utm_campaign=brand"})
	require.Equal(t, "Paid Social", string(social.Source.Channel))
	h.clock.add(time.Minute)
	for _, c := range []fake.Call{
		{ID: "paid", From: caller, To: paid.Swaps[0].Number, Answered: true, Duration: 3 * time.Minute},
		{ID: "social", From: "+12125550177", To: social.Swaps[0].Number, Outcome: provider.OutcomeBusy},
	} {
		_, err := h.caller.PlaceCall(ctx, webhook, c)
		require.NoError(t, err)
	}
	waitFor(t, "both calls recorded with their touchpoints", func() bool {
		js, err := h.svc.Journeys(ctx, from, from.Add(24*time.Hour), 0)
		calls := 0
		for _, j := range js {
			for _, tp := range j.Touchpoints {
				if tp.Kind == "call" && tp.Attrs["status"] != "" && provider.Status(tp.Attrs["status"]).Terminal() {
					calls++
				}
			}
		}
		return err == nil && calls == 2
	})
	day := from.Format(time.DateOnly)
	code, body := h.report(t, http.MethodPost, "reports/spend", "day,channel,source,medium,campaign,currency,amount\n"+
		day+",Paid Search,google,cpc,spring_sale,USD,120.50\n"+
		day+",Paid Social,facebook,paid,brand,USD,40\n")
	require.Equal(t, http.StatusOK, code, body)
	require.JSONEq(t, `{"imported":2}`, body)
	return h, from, from.Add(24 * time.Hour)
}

func rowOf(t *testing.T, rows []report.SourceRow, key string) report.SourceRow {
	t.Helper()
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no row %q in %+v", key, rows)
	return report.SourceRow{}
}

func TestSourcesAgreeWithCallsBySourceAndTheModels(t *testing.T) {
	h, from, to := insightsHarness(t)
	ctx := context.Background()
	rows, err := h.svc.Sources(ctx, from, to, report.DimChannel)
	require.NoError(t, err)

	bySource, err := h.svc.CallsBySource(ctx, from, to)
	require.NoError(t, err)
	calls, missed, spam := map[string]int{}, map[string]int{}, map[string]int{}
	for _, s := range bySource {
		calls[s.Channel] += s.Calls
		missed[s.Channel] += s.Missed
		spam[s.Channel] += s.Spam
	}
	for _, r := range rows {
		assert.Equal(t, calls[r.Key], r.Calls, r.Key)
		assert.Equal(t, missed[r.Key], r.MissedCalls, r.Key)
		assert.Equal(t, spam[r.Key], r.SpamCalls, r.Key)
	}
	ps, social := rowOf(t, rows, "Paid Search"), rowOf(t, rows, "Paid Social")
	assert.Equal(t, 1, ps.QualifiedCalls)
	assert.Equal(t, int64(25000), ps.Revenue)
	assert.Equal(t, "USD", ps.Currency)
	assert.Equal(t, int64(12050), ps.Spend)
	assert.Equal(t, int64(12050), ps.CostPerQualifiedCall)
	assert.Equal(t, 1, social.MissedCalls)
	assert.Equal(t, int64(4000), social.CostPerCall)

	cmp, err := h.svc.Attribute(ctx, from, to, attribution.Options{})
	require.NoError(t, err)
	require.Len(t, ps.Models, len(cmp.Results), "every model the service reports")
	for i, res := range cmp.Results {
		for _, r := range rows {
			g, _ := res.Group(r.Key)
			assert.Equal(t, res.Model, r.Models[i].Model)
			assert.Equal(t, g.Value, r.Models[i].Value, "%s %s", res.Model, r.Key)
		}
		assert.InDelta(t, 25000.0/12050.0, ps.Models[i].ROAS, 1e-9, res.Model)
		assert.Zero(t, social.Models[i].ROAS, "%s: nothing credited to the missed call", res.Model)
	}

	campaigns, err := h.svc.Sources(ctx, from, to, report.DimCampaign)
	require.NoError(t, err)
	assert.Equal(t, 1, rowOf(t, campaigns, "spring_sale").QualifiedCalls)
	assert.Equal(t, int64(4000), rowOf(t, campaigns, "brand").Spend)
	keywords, err := h.svc.Sources(ctx, from, to, report.DimKeyword)
	require.NoError(t, err)
	kw := rowOf(t, keywords, "emergency plumber")
	assert.Equal(t, 1, kw.Calls)
	assert.Equal(t, int64(25000), kw.Revenue)
	assert.Zero(t, kw.Spend, "keywords carry no spend")
	pages, err := h.svc.Sources(ctx, from, to, report.DimLandingPage)
	require.NoError(t, err)
	assert.Equal(t, 1, rowOf(t, pages, "/emergency").QualifiedCalls, "the call reads its session's landing page")
	assert.Equal(t, 1, rowOf(t, pages, "/pricing").MissedCalls)
}

func TestSeriesTotalsEqualTheConversions(t *testing.T) {
	h, from, to := insightsHarness(t)
	ctx := context.Background()
	s, err := h.svc.Series(ctx, report.SeriesOptions{From: from.AddDate(0, 0, -2), To: to})
	require.NoError(t, err)
	require.Len(t, s.Dates, 3, "days with nothing are present")
	convs, err := h.svc.store.ConversionsBetween(ctx, from, to)
	require.NoError(t, err)
	var value int64
	for _, c := range convs {
		value += c.Value
	}
	calls, err := h.svc.Calls(ctx, from, to)
	require.NoError(t, err)
	tot := s.Totals()
	assert.Equal(t, len(convs), tot.Conversions)
	assert.Equal(t, value, tot.Revenue)
	assert.Equal(t, len(convs), tot.QualifiedCalls, "every conversion here is a call")
	assert.Equal(t, value, tot.CallRevenue)
	assert.Equal(t, len(calls), tot.Calls)
	assert.Equal(t, int64(16050), tot.Spend)
}

func TestInsightsOverHTTP(t *testing.T) {
	h, from, to := insightsHarness(t)
	q := "from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)

	req, err := http.NewRequest(http.MethodGet, h.srv.URL+DefaultPrefix+"reports/sources?"+q, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "behind the report authentication")

	code, body := h.report(t, http.MethodGet, "reports/sources?dim=campaign&"+q, "")
	require.Equal(t, http.StatusOK, code, body)
	var rows []report.SourceRow
	require.NoError(t, json.Unmarshal([]byte(body), &rows))
	assert.Equal(t, int64(12050), rowOf(t, rows, "spring_sale").Spend)

	code, body = h.report(t, http.MethodGet, "reports/sources?format=csv&"+q, "")
	require.Equal(t, http.StatusOK, code, body)
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, []string{"channel", "calls", "qualified_calls"}, recs[0][:3])

	code, body = h.report(t, http.MethodGet, "reports/series?granularity=day&layout=wide&"+q, "")
	require.Equal(t, http.StatusOK, code, body)
	recs, err = csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	col := map[string]string{}
	for i, name := range recs[0] {
		col[name] = recs[1][i]
	}
	assert.Equal(t, from.Format(time.DateOnly), col["date"])
	assert.Equal(t, "1", col["paid_search_qualified_calls"])
	assert.Equal(t, "250.00", col["paid_search_call_revenue"])
	assert.Equal(t, "120.50", col["paid_search_spend"])
	assert.Equal(t, "1", col["paid_social_calls"])

	code, body = h.report(t, http.MethodGet, "reports/series?granularity=week&campaign=1&layout=long&"+q, "")
	require.Equal(t, http.StatusOK, code, body)
	assert.True(t, strings.HasPrefix(body, "date,channel,campaign,metric,value\n"), body)
	monday := from.AddDate(0, 0, -((int(from.Weekday()) + 6) % 7)).Format(time.DateOnly)
	assert.Contains(t, body, monday+",Paid Search,spring_sale,spend,120.50\n")

	for path, want := range map[string]string{
		"reports/sources?dim=country":       "dim",
		"reports/sources?format=xml":        "format",
		"reports/series?granularity=month":  "granularity",
		"reports/series?layout=tall":        "layout",
		"reports/series?from=yesterday":     "from",
		"reports/series?currency=dollars":   "currency",
		"reports/series?campaign=sometimes": "campaign",
	} {
		code, body := h.report(t, http.MethodGet, path, "")
		assert.Equal(t, http.StatusBadRequest, code, path)
		assert.Contains(t, body, want, path)
	}
	code, body = h.report(t, http.MethodPost, "reports/spend", "day,channel,source,medium,campaign,currency,amount\n2026-03-02,Paid Search,,,,USD,-3\n")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "line 2, column 7 (amount)")
	assert.Contains(t, body, "negative")
}
