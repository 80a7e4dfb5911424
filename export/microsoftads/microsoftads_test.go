package microsoftads_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/microsoftads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// tokens hands out the given access tokens in turn, the last one forever.
type tokens struct {
	mu    sync.Mutex
	list  []string
	calls int
}

func (s *tokens) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	tok := s.list[min(s.calls, len(s.list))-1]
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: t0.Add(time.Hour)}, nil
}

func config(url string, ts oauth2.TokenSource) microsoftads.Config {
	return microsoftads.Config{Endpoint: url, TokenSource: ts, DeveloperToken: "dev-token", CustomerID: "111", AccountID: "222",
		ConversionName: "Qualified call", Now: func() time.Time { return t0 }}
}

func newSink(t *testing.T, cfg microsoftads.Config) *microsoftads.Sink {
	t.Helper()
	s, err := microsoftads.New(cfg)
	require.NoError(t, err)
	return s
}

func msclk(id string) classify.Source {
	return classify.Source{Source: "bing", Medium: "cpc", ClickID: classify.ClickID{Param: "msclkid", Value: id, Platform: "Microsoft Ads"}}
}

func conversionMsg(click string, value int64) export.Message {
	conv := journey.Conversion{ID: "call:twilio/CA1", Type: journey.ConversionCall, At: t0.Add(-time.Hour + 123*time.Millisecond),
		Value: value, Currency: "EUR", CallProvider: "twilio", CallID: "CA1"}
	ev := export.Event{Conversion: &conv, Source: msclk(click), AdIDs: journey.AdIDs{Consent: true}}
	return export.Message{ID: export.MessageID("microsoftads", ev), Sink: "microsoftads", Attempt: 1, Event: ev}
}

func adjustmentMsg(typ string, value int64) export.Message {
	adj := export.Adjustment{ConversionID: "call:twilio/CA1", Type: typ, Value: value, At: t0.Add(-time.Minute), Version: 1}
	if typ == export.AdjustRestate {
		adj.Currency = "EUR"
	}
	ev := export.Event{Adjustment: &adj, Source: msclk("msclk-1"), AdIDs: journey.AdIDs{Consent: true}}
	return export.Message{ID: export.MessageID("microsoftads", ev), Sink: "microsoftads", Attempt: 1, Event: ev}
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := microsoftads.New(microsoftads.Config{Endpoint: "ftp://x", CustomerID: "abc", Timeout: -1})
	require.Error(t, err)
	for _, field := range []string{"Endpoint", "TokenSource", "DeveloperToken", "ConversionName", "CustomerID", "AccountID", "Timeout"} {
		assert.Contains(t, err.Error(), "Config."+field)
	}
}

func TestAcceptsConsentedMicrosoftClicksOnly(t *testing.T) {
	s := newSink(t, config("https://example.test", &tokens{list: []string{"tok-1"}}))
	withTimes := config("https://example.test", &tokens{list: []string{"tok-1"}})
	withTimes.ConversionTime = func(context.Context, string) (time.Time, error) { return t0, nil }
	sa := newSink(t, withTimes)
	conv := conversionMsg("msclk-1", 100).Event
	noConsent := conv
	noConsent.AdIDs = journey.AdIDs{}
	gclid := conv
	gclid.Source = classify.Source{ClickID: classify.ClickID{Param: "gclid", Value: "g-1", Platform: "Google Ads"}}
	callOnly := conv
	callOnly.Conversion = nil
	adj := adjustmentMsg(export.AdjustRetract, 0).Event
	assert.True(t, s.Accepts(conv))
	assert.False(t, s.Accepts(noConsent), "no consent")
	assert.False(t, s.Accepts(gclid), "not a Microsoft click")
	assert.False(t, s.Accepts(callOnly), "a call is not a conversion")
	assert.False(t, s.Accepts(adj), "adjustment without Config.ConversionTime")
	assert.True(t, sa.Accepts(adj))
}

func TestAppliesConversionWithExternalAttribution(t *testing.T) {
	api := newStandIn(t, t0)
	cfg := config(api.srv.URL, &tokens{list: []string{"tok-1"}})
	cfg.Credit = func(_ context.Context, ev export.Event) (string, float64, error) {
		require.Equal(t, "call:twilio/CA1", ev.Conversion.ID)
		return "linear", 0.5, nil
	}
	s := newSink(t, cfg)
	require.NoError(t, s.Deliver(t.Context(), conversionMsg("msclk-1", 12345)))
	convs, _ := api.accepted()
	require.Len(t, convs, 1)
	c := convs[0]
	assert.Equal(t, "msclk-1", c.MicrosoftClickId)
	assert.Equal(t, "Qualified call", c.ConversionName)
	assert.Equal(t, "2026-03-14T14:00:00Z", c.ConversionTime, "UTC, whole seconds")
	assert.Equal(t, 123.45, *c.ConversionValue, "major units")
	assert.Equal(t, "EUR", c.ConversionCurrencyCode)
	assert.Equal(t, "linear", c.ExternalAttributionModel)
	assert.Equal(t, 0.5, *c.ExternalAttributionCredit)
}

func TestZeroCreditIsDeadLetteredWithTheReason(t *testing.T) {
	api := newStandIn(t, t0)
	cfg := config(api.srv.URL, &tokens{list: []string{"tok-1"}})
	cfg.Credit = func(context.Context, export.Event) (string, float64, error) { return "first_touch", 0, nil }
	err := newSink(t, cfg).Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), `"first_touch" credits Microsoft Ads nothing`)
	assert.Zero(t, api.requests, "nothing sent")

	cfg.Credit = func(context.Context, export.Event) (string, float64, error) { return "", 0, errors.New("store down") }
	err = newSink(t, cfg).Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err), "a failing credit lookup is retried")

	cfg.Credit = func(context.Context, export.Event) (string, float64, error) { return "", 0, store.ErrNotFound }
	err = newSink(t, cfg).Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err), "a conversion gone from the store gets no credit")
}

func TestRowErrorsAreDeadLetteredWithCodeAndMessage(t *testing.T) {
	api := newStandIn(t, t0)
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: func() time.Time { return t0 }, Logger: slog.New(slog.DiscardHandler)},
		newSink(t, config(api.srv.URL, &tokens{list: []string{"tok-1"}})))
	require.NoError(t, err)
	t.Cleanup(func() { _ = x.Close() })
	m := conversionMsg("msclk-unknown", 100)
	require.NoError(t, x.Record(t.Context(), m.Event))
	_, err = x.DeliverDue(t.Context())
	require.NoError(t, err)
	got, err := x.Message(t.Context(), m.ID)
	require.NoError(t, err)
	assert.Equal(t, store.OutboxDead, got.State)
	assert.Contains(t, got.LastError, "5604 OfflineConversionMicrosoftClickIdInvalid: The Microsoft Click ID is invalid.")
}

func TestThrottlingIsRetriedAfterRetryAfter(t *testing.T) {
	api := newStandIn(t, t0)
	api.set(func(s *standIn) { s.throttle = 1 })
	s := newSink(t, config(api.srv.URL, &tokens{list: []string{"tok-1"}}))
	err := s.Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	var ra interface{ RetryAfter() time.Duration }
	require.ErrorAs(t, err, &ra)
	assert.Equal(t, 7*time.Second, ra.RetryAfter())
	assert.Contains(t, err.Error(), "117 CallRateExceeded")
	require.NoError(t, s.Deliver(t.Context(), conversionMsg("msclk-1", 100)), "the retry goes through")
	convs, _ := api.accepted()
	assert.Len(t, convs, 1)
}

func TestExpiredTokenIsRefreshedOnce(t *testing.T) {
	api := newStandIn(t, t0)
	ts := &tokens{list: []string{"tok-expired", "tok-1"}}
	s := newSink(t, config(api.srv.URL, ts))
	require.NoError(t, s.Deliver(t.Context(), conversionMsg("msclk-1", 100)))
	assert.Equal(t, 2, ts.calls, "one refresh")
	assert.Equal(t, 2, api.requests)

	// A source that keeps giving the expired token: one retry, then the
	// exporter tries again later.
	stuck := &tokens{list: []string{"tok-expired"}}
	api.set(func(s *standIn) { s.requests = 0 })
	err := newSink(t, config(api.srv.URL, stuck)).Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "109 AuthenticationTokenExpired")
	assert.Equal(t, 2, api.requests, "refreshed once, not in a loop")

	// Bad credentials are not retried.
	cfg := config(api.srv.URL, ts)
	cfg.DeveloperToken = "wrong"
	err = newSink(t, cfg).Deliver(t.Context(), conversionMsg("msclk-1", 100))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "105 InvalidCredentials")
}

func TestDuplicateUploadIsHarmless(t *testing.T) {
	api := newStandIn(t, t0)
	s := newSink(t, config(api.srv.URL, &tokens{list: []string{"tok-1"}}))
	m := conversionMsg("msclk-1", 100)
	require.NoError(t, s.Deliver(t.Context(), m))
	m.Attempt = 2
	require.NoError(t, s.Deliver(t.Context(), m), "a repeated delivery succeeds")
	convs, _ := api.accepted()
	assert.Len(t, convs, 1, "Microsoft keeps the first")
	assert.Equal(t, 1, api.ignored)
}

func TestAdjustmentsRestateAndRetract(t *testing.T) {
	api := newStandIn(t, t0)
	cfg := config(api.srv.URL, &tokens{list: []string{"tok-1"}})
	convAt := t0.Add(-time.Hour + 123*time.Millisecond)
	cfg.ConversionTime = func(_ context.Context, id string) (time.Time, error) {
		if id != "call:twilio/CA1" {
			return time.Time{}, store.ErrNotFound
		}
		return convAt, nil
	}
	s := newSink(t, cfg)
	require.NoError(t, s.Deliver(t.Context(), adjustmentMsg(export.AdjustRestate, 50000)))
	require.NoError(t, s.Deliver(t.Context(), adjustmentMsg(export.AdjustRetract, 0)))
	_, adjs := api.accepted()
	require.Len(t, adjs, 2)
	r := adjs[0]
	assert.Equal(t, "Restate", r.AdjustmentType)
	assert.Equal(t, 500.0, *r.AdjustmentValue)
	assert.Equal(t, "EUR", r.AdjustmentCurrencyCode)
	assert.Equal(t, "2026-03-14T14:00:00Z", r.ConversionTime, "the conversion as it was sent")
	assert.Equal(t, "2026-03-14T14:59:00Z", r.AdjustmentTime)
	assert.Equal(t, "msclk-1", r.MicrosoftClickId)
	assert.Equal(t, "Retract", adjs[1].AdjustmentType)
	assert.Nil(t, adjs[1].AdjustmentValue, "a retraction has no value")

	unknown := adjustmentMsg(export.AdjustRetract, 0)
	unknown.Adjustment.ConversionID = "call:twilio/CA9"
	err := s.Deliver(t.Context(), unknown)
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err), "a conversion never sent cannot be adjusted")
	assert.True(t, strings.Contains(err.Error(), "never sent"))
}

func TestServerErrorsAreRetriedAndWrappedFaultsDecode(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		permanent bool
		want      string
	}{
		{"internal error", 500, `{"Type":"ApiFaultDetail","OperationErrors":[{"Code":0,"ErrorCode":"InternalError","Message":"An internal error has occurred."}]}`, false, "0 InternalError"},
		{"wrapped fault", 400, `{"ApplicationFault":{"Type":"ApiFaultDetail","TrackingId":"t","OperationErrors":[{"Code":5601,"ErrorCode":"OfflineConversionsNullOrEmpty","Message":"empty"}]}}`, true, "5601 OfflineConversionsNullOrEmpty"},
		{"apply failed", 200, `{"PartialErrors":[{"Index":0,"Code":5612,"ErrorCode":"OfflineConversionsApplyFailed","Message":"Failed to send offline conversions to internal server."}]}`, false, "5612"},
		{"gateway", 502, `bad gateway`, false, "HTTP 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, tc.status, tc.body)
			err := newSink(t, config(srv, &tokens{list: []string{"tok-1"}})).Deliver(t.Context(), conversionMsg("msclk-1", 100))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, export.IsPermanent(err))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
