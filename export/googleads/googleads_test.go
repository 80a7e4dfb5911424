package googleads_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export/googleads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store/memstore"
)

var (
	t0       = time.Date(2026, 3, 14, 14, 26, 53, 0, time.UTC) // 10:26:53 EDT
	newYork  = mustZone("America/New_York")
	asset    = "+14155550199"
	tracking = "+14155550100"
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func googleSource(param, value string) classify.Source {
	return classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc", Campaign: "spring", Paid: true,
		ClickID: classify.ClickID{Param: param, Value: value, Platform: "Google Ads"}}
}

// fixture stores one conversion of every kind the export tells apart.
func fixture(t *testing.T) *memstore.Store {
	t.Helper()
	ctx := t.Context()
	st := memstore.New()
	put := func(c journey.Conversion) { require.NoError(t, st.PutConversion(ctx, c)) }
	session := func(id string, src classify.Source) {
		require.NoError(t, st.PutSession(ctx, journey.Session{ID: id, VisitorID: "v-" + id, StartedAt: t0.Add(-time.Hour), Source: src}))
	}
	call := func(id, from, to string, start time.Time, src classify.Source) journey.Conversion {
		_, err := st.RecordCall(ctx, provider.CallEvent{Provider: "twilio", CallID: id, From: from, To: to,
			Direction: provider.DirectionInbound, Status: provider.StatusCompleted, StartedAt: start, Duration: 2 * time.Minute})
		require.NoError(t, err)
		require.NoError(t, st.PutAttribution(ctx, journey.Attribution{Provider: "twilio", CallID: id, Source: src,
			Confidence: journey.ConfidenceDedicated, Reason: "test"}))
		return journey.Conversion{ID: "call:twilio/" + id, Type: journey.ConversionCall, At: start.Add(7 * time.Minute),
			Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: id}
	}

	session("s-gclid", googleSource("gclid", "Cj0KCQ-abc"))
	put(journey.Conversion{ID: "p1", Type: journey.ConversionPurchase, At: t0, SessionID: "s-gclid", Value: 12345, Currency: "USD"})
	session("s-gbraid", googleSource("gbraid", "0AAAAA-gb"))
	put(journey.Conversion{ID: "f1", Type: journey.ConversionForm, At: t0.Add(time.Minute), SessionID: "s-gbraid", Value: 500, Currency: "JPY"})
	session("s-organic", classify.Source{Channel: classify.ChannelOrganicSearch, Source: "google", Medium: "organic"})
	put(journey.Conversion{ID: "p-organic", Type: journey.ConversionPurchase, At: t0, SessionID: "s-organic", Value: 1, Currency: "USD"})
	session("s-fb", classify.Source{Source: "facebook", Medium: "cpc", ClickID: classify.ClickID{Param: "fbclid", Value: "IwAR", Platform: "Meta Ads"}})
	put(journey.Conversion{ID: "p-fb", Type: journey.ConversionPurchase, At: t0, SessionID: "s-fb", Value: 1, Currency: "USD"})

	// A stitched call whose session carried a gclid: a click conversion.
	c := call("CAclick", "+14155550123", tracking, t0.Add(2*time.Minute), googleSource("gclid", "Cj0-call"))
	c.SessionID = "s-gclid"
	put(c)
	// A call with no session but a wbraid on its attribution.
	put(call("CAwbraid", "+14155550124", tracking, t0.Add(3*time.Minute), googleSource("wbraid", "0BBBB-wb")))
	// Calls from a Google call asset: no click id.
	assetSrc := classify.Source{Source: "google", Medium: "cpc", Campaign: "call-asset", Paid: true}
	put(call("CAasset", "+14155550125", asset, t0.Add(4*time.Minute), assetSrc))
	put(call("CAwithheld", "", asset, t0.Add(5*time.Minute), assetSrc))
	// A call to a tracking number that is not an asset, without click id.
	put(call("CAplain", "+14155550126", tracking, t0.Add(6*time.Minute), assetSrc))
	// Outside the period.
	put(journey.Conversion{ID: "p-late", Type: journey.ConversionPurchase, At: t0.Add(48 * time.Hour), SessionID: "s-gclid", Value: 1, Currency: "USD"})
	return st
}

func newExporter(t *testing.T, st googleads.Reader, cfg googleads.Config) *googleads.Exporter {
	t.Helper()
	if cfg.ConversionName == "" {
		cfg.ConversionName = "Offline sale"
	}
	if cfg.Location == nil {
		cfg.Location = newYork
	}
	cfg.CallAssetNumbers = append(cfg.CallAssetNumbers, asset)
	x, err := googleads.New(st, cfg)
	require.NoError(t, err)
	return x
}

func TestExportSplitsClickAndCallConversionsAndSkipsTheRest(t *testing.T) {
	x := newExporter(t, fixture(t), googleads.Config{Names: map[string]string{"call_conversion": "Qualified call"},
		CallConversionName: "Call from ad"})
	b, err := x.Export(t.Context(), t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)

	var clicks bytes.Buffer
	require.NoError(t, x.WriteClicks(&clicks, b))
	require.Equal(t, ""+
		"Parameters:TimeZone=America/New_York\n"+
		"Google Click ID,GBRAID,WBRAID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n"+
		"Cj0KCQ-abc,,,Offline sale,2026-03-14 10:26:53-04:00,123.45,USD\n"+
		",0AAAAA-gb,,Offline sale,2026-03-14 10:27:53-04:00,500,JPY\n"+
		"Cj0KCQ-abc,,,Qualified call,2026-03-14 10:35:53-04:00,50.00,USD\n"+
		",,0BBBB-wb,Qualified call,2026-03-14 10:36:53-04:00,50.00,USD\n",
		clicks.String(), "the session's click id wins over the attribution's; a session-less call uses its attribution's")

	var calls bytes.Buffer
	require.NoError(t, x.WriteCalls(&calls, b))
	require.Equal(t, ""+
		"Parameters:TimeZone=America/New_York\n"+
		"Caller's Phone Number,Call Start Time,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n"+
		"+14155550125,2026-03-14 10:30:53-04:00,Qualified call,2026-03-14 10:37:53-04:00,50.00,USD\n",
		calls.String())

	require.Equal(t, []googleads.Skipped{{ConversionID: "call:twilio/CAwithheld", Reason: "call-asset call without a caller number (withheld)"}}, b.Skipped)
}

func TestClickFileWithGclidsOnlyUsesTheClassicHeader(t *testing.T) {
	x := newExporter(t, fixture(t), googleads.Config{Types: []string{journey.ConversionPurchase}, Location: time.UTC})
	b, err := x.Export(t.Context(), t0.Add(-time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, x.WriteClicks(&out, b))
	require.Equal(t, ""+
		"Parameters:TimeZone=UTC\n"+
		"Google Click ID,Conversion Name,Conversion Time,Conversion Value,Conversion Currency\n"+
		"Cj0KCQ-abc,Offline sale,2026-03-14 14:26:53+00:00,123.45,USD\n", out.String())
}

func TestTimesKeepTheirOffsetAcrossTheDaylightSavingChange(t *testing.T) {
	st := memstore.New()
	ctx := t.Context()
	require.NoError(t, st.PutSession(ctx, journey.Session{ID: "s", VisitorID: "v", StartedAt: t0, Source: googleSource("gclid", "G")}))
	// 01:30 happens twice in New York on 1 November 2026.
	for i, at := range []time.Time{time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC)} {
		require.NoError(t, st.PutConversion(ctx, journey.Conversion{ID: string(rune('a' + i)), Type: "purchase", At: at,
			SessionID: "s", Value: 1, Currency: "USD"}))
	}
	x := newExporter(t, st, googleads.Config{})
	b, err := x.Export(ctx, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, x.WriteClicks(&out, b))
	require.Contains(t, out.String(), "G,Offline sale,2026-11-01 01:30:00-04:00,0.01,USD\n")
	require.Contains(t, out.String(), "G,Offline sale,2026-11-01 01:30:00-05:00,0.01,USD\n")
}

func TestFormatValueUsesTheCurrencyExponent(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{12345, "USD", "123.45"}, {5, "EUR", "0.05"}, {0, "USD", "0.00"}, {100, "GBP", "1.00"},
		{500, "JPY", "500"}, {1234, "KWD", "1.234"}, {7, "BHD", "0.007"}, {-250, "USD", "-2.50"},
	} {
		require.Equal(t, c.want, googleads.FormatValue(c.minor, c.currency), "%d %s", c.minor, c.currency)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := googleads.New(nil, googleads.Config{CallAssetNumbers: []string{"0415 555 0199"}})
	require.Error(t, err)
	for _, want := range []string{"reader is nil", "ConversionName is empty", `"0415 555 0199" is not an E.164 number`} {
		require.Contains(t, err.Error(), want)
	}
}

// failing is a Reader whose store is down.
type failing struct{ googleads.Reader }

func (failing) ConversionsBetween(context.Context, time.Time, time.Time) ([]journey.Conversion, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestDownloadHandler(t *testing.T) {
	x := newExporter(t, fixture(t), googleads.Config{})
	srv := httptest.NewServer(x)
	defer srv.Close()
	get := func(query string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + "/?" + query)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, body := get("from=2026-03-14&to=2026-03-15")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="google-ads-click-conversions_20260314T0000_20260315T0000.csv"`, resp.Header.Get("Content-Disposition"))
	require.Contains(t, body, "Cj0KCQ-abc,,,Offline sale,2026-03-14 10:26:53-04:00,123.45,USD\n")

	resp, body = get("from=2026-03-14T14:00:00Z&to=2026-03-14T15:00:00Z&kind=calls")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, resp.Header.Get("Content-Disposition"), "google-ads-call-conversions_20260314T1000_20260314T1100.csv")
	require.Contains(t, body, "+14155550125,2026-03-14 10:30:53-04:00,")

	resp, body = get("from=2026-03-14T14:27:00Z&to=2026-03-14T15:00:00Z")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotContains(t, body, "123.45", "a period starting after p1 leaves it out")
	require.Contains(t, body, "Cj0KCQ-abc,,,Offline sale,2026-03-14 10:35:53-04:00,50.00,USD")

	for _, bad := range []string{"", "from=2026-03-14", "from=yesterday&to=2026-03-15", "from=2026-03-15&to=2026-03-14",
		"from=2026-03-14&to=2026-03-15&kind=everything"} {
		resp, body := get(bad)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%q: %s", bad, body)
	}
	resp, err := http.Post(srv.URL+"/?from=2026-03-14&to=2026-03-15", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	down := httptest.NewServer(newExporter(t, failing{}, googleads.Config{}))
	defer down.Close()
	resp, err = http.Get(down.URL + "/?from=2026-03-14&to=2026-03-15")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
}
