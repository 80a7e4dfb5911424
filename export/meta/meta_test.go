package meta_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/meta"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSink(t *testing.T, c *capi, mod func(*meta.Config)) *meta.Sink {
	t.Helper()
	cfg := meta.Config{PixelID: c.pixel, AccessToken: c.token, APIVersion: c.version, BaseURL: c.srv.URL, Now: c.now}
	if mod != nil {
		mod(&cfg)
	}
	s, err := meta.New(cfg)
	require.NoError(t, err)
	return s
}

var ids = journey.AdIDs{Consent: true, FBC: "fb.1.1772445600000.IwAR0abc", FBP: "fb.1.1772445500000.987654321"}

func callMessage(at time.Time) export.Message {
	ev := export.Event{
		Conversion: &journey.Conversion{ID: "call:twilio/CA1", Type: journey.ConversionCall, At: at, VisitorID: "v-1", SessionID: "s-1",
			Value: 25000, Currency: "USD", CallProvider: "twilio", CallID: "CA1"},
		Call:   &provider.CallEvent{Provider: "twilio", CallID: "CA1", From: "+14155550123", To: "+14155550101"},
		Source: classify.Source{ClickID: classify.ClickID{Param: "fbclid", Value: "IwAR0abc"}},
		AdIDs:  ids,
	}
	return export.Message{ID: export.MessageID("meta", ev), Sink: "meta", Attempt: 1, CreatedAt: at, Event: ev}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := meta.New(meta.Config{PixelID: "px-1", APIVersion: "23", EventName: "Lead!", RestateEventName: "<b>",
		BaseURL: "ftp://x", Timeout: -1})
	require.Error(t, err)
	for _, field := range []string{"Config.PixelID", "Config.AccessToken", "Config.APIVersion", "Config.EventName",
		"Config.RestateEventName", "Config.BaseURL", "Config.Timeout"} {
		assert.Contains(t, err.Error(), field)
	}
	s, err := meta.New(meta.Config{PixelID: "123", AccessToken: "t"})
	require.NoError(t, err, "the zero value of the rest means the defaults")
	assert.Equal(t, "meta", s.Name())
}

func TestAcceptsConsentedCallsWithAMetaID(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	plain := newSink(t, c, nil)
	restating := newSink(t, c, func(cfg *meta.Config) { cfg.RestateEventName = "Purchase" })
	call := callMessage(t0).Event
	with := func(f func(*export.Event)) export.Event {
		ev := call
		conv := *ev.Conversion
		ev.Conversion = &conv
		f(&ev)
		return ev
	}
	restate := export.Event{Adjustment: &export.Adjustment{ConversionID: "call:twilio/CA1", Type: export.AdjustRestate, Value: 90000, Currency: "USD", At: t0, Version: 1}, AdIDs: ids}
	retract := export.Event{Adjustment: &export.Adjustment{ConversionID: "call:twilio/CA1", Type: export.AdjustRetract, At: t0, Version: 2}, AdIDs: ids}
	for _, tc := range []struct {
		name            string
		ev              export.Event
		plain, restater bool
	}{
		{"a qualified call with consent and fbc", call, true, true},
		{"fbp alone is enough", with(func(ev *export.Event) { ev.AdIDs.FBC = "" }), true, true},
		{"no consent", with(func(ev *export.Event) { ev.AdIDs.Consent = false }), false, false},
		{"neither fbc nor fbp", with(func(ev *export.Event) { ev.AdIDs.FBC, ev.AdIDs.FBP = "", "" }), false, false},
		{"a call that did not convert", export.Event{Call: call.Call, AdIDs: ids}, false, false},
		{"a chat conversion", with(func(ev *export.Event) { ev.Call, ev.Conversion.Type = nil, journey.ConversionChat }), true, true},
		{"a form: the pixel reports it", with(func(ev *export.Event) { ev.Call, ev.Conversion.Type = nil, journey.ConversionForm }), false, false},
		{"a restatement: only when configured", restate, false, true},
		{"a retraction: never", retract, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.plain, plain.Accepts(tc.ev), "default config")
			assert.Equal(t, tc.restater, restating.Accepts(tc.ev), "with RestateEventName")
		})
	}
}

func TestDeliverSendsTheDocumentedEvent(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0.Add(time.Hour) })
	s := newSink(t, c, func(cfg *meta.Config) { cfg.TestEventCode = "TEST123"; cfg.SendExternalID = true })
	require.NoError(t, s.Deliver(context.Background(), callMessage(t0)))
	got := c.keptEvents()
	require.Len(t, got, 1)
	want := `{"action_source":"phone_call","custom_data":{"currency":"usd","value":250.00},"event_id":"meta/call:twilio/CA1",` +
		`"event_name":"Lead","event_time":1772445600,"user_data":{"external_id":["` + sha("v-1") + `"],` +
		`"fbc":"fb.1.1772445600000.IwAR0abc","fbp":"fb.1.1772445500000.987654321","ph":["` + sha("14155550123") + `"]}}`
	assert.Equal(t, want, eventJSON(t, got[0]))
	assert.Equal(t, "TEST123", c.forms[0]["test_event_code"][0])
	assert.Equal(t, meta.Stats{Requests: 1, EventsReceived: 1}, s.Stats())
}

func TestLimitedDataUse(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, func(cfg *meta.Config) { cfg.LimitedDataUse = true })
	require.NoError(t, s.Deliver(context.Background(), callMessage(t0)))
	ev := c.keptEvents()[0]
	assert.Equal(t, []any{"LDU"}, ev["data_processing_options"])
	assert.Equal(t, json.Number("0"), ev["data_processing_options_country"])
	assert.Equal(t, json.Number("0"), ev["data_processing_options_state"])
}

// A caller's number the Service keeps keyed (Config.IdentityKey), or a
// withheld one, sends no ph; fbc and fbp still match.
func TestNoPhoneWithoutANumberInTheClear(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, nil)
	for i, from := range []string{"k1:3f2a9c", "anonymous", ""} {
		m := callMessage(t0)
		call := *m.Call
		call.From = from
		m.Call = &call
		m.ID += string(rune('a' + i))
		require.NoError(t, s.Deliver(context.Background(), m))
	}
	for _, ev := range c.keptEvents() {
		assert.NotContains(t, ev["user_data"], "ph")
	}
}

func TestAnEventOlderThanSevenDaysIsDeadLetteredWithoutARequest(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, nil)
	err := s.Deliver(context.Background(), callMessage(t0.Add(-7*24*time.Hour-time.Minute)))
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "older than 7 days")
	assert.Zero(t, c.requestCount())
	require.NoError(t, s.Deliver(context.Background(), callMessage(t0.Add(-7*24*time.Hour+time.Minute))), "just inside the limit")
}

// Meta receives a repeated delivery (same event_id) and keeps one event.
func TestARepeatedDeliveryIsOneEventAtMeta(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, nil)
	m := callMessage(t0)
	require.NoError(t, s.Deliver(context.Background(), m))
	m.Attempt = 2
	require.NoError(t, s.Deliver(context.Background(), m))
	assert.Equal(t, 2, c.received())
	assert.Len(t, c.keptEvents(), 1)
}

func TestGraphErrorsAreClassed(t *testing.T) {
	graph := func(code, sub int, typ, msg string, transient bool) string {
		e := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": "AxYz123"}
		if sub != 0 {
			e["error_subcode"] = sub
		}
		if transient {
			e["is_transient"] = true
		}
		b, _ := json.Marshal(map[string]any{"error": e})
		return string(b)
	}
	for _, tc := range []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		permanent bool
		wait      time.Duration
		says      string
	}{
		{"expired token", 400, nil, graph(190, 463, "OAuthException", "Error validating access token: Session has expired", false), true, 0, "access token is invalid or expired"},
		{"user rate limit", 400, nil, graph(17, 2446079, "OAuthException", "User request limit reached", false), false, 5 * time.Minute, "rate limited"},
		{"app rate limit", 403, nil, graph(4, 0, "OAuthException", "Application request limit reached", false), false, 5 * time.Minute, "code 4"},
		{"ad account rate limit", 400, nil, graph(80004, 2446079, "OAuthException", "There have been too many calls to this ad-account", false), false, 5 * time.Minute, "code 80004"},
		{"calls within one hour", 400, nil, graph(613, 0, "OAuthException", "Calls to this api have exceeded the rate limit", false), false, 5 * time.Minute, "code 613"},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "120"}, graph(32, 0, "OAuthException", "Page request limit reached", false), false, 2 * time.Minute, "code 32"},
		{"429 without the error object", 429, map[string]string{"Retry-After": "30"}, "slow down", false, 30 * time.Second, "HTTP 429"},
		{"service unavailable", 500, nil, graph(2, 0, "OAuthException", "Service temporarily unavailable", true), false, 0, "code 2"},
		{"is_transient", 400, nil, graph(1, 99, "OAuthException", "An unknown error occurred", true), false, 0, "code 1/99"},
		{"502 without a body", 502, nil, "", false, 0, "HTTP 502"},
		{"invalid parameter", 400, nil, graph(100, 2804019, "OAuthException", "Invalid parameter", false), true, 0, "fbtrace_id AxYz123"},
		{"permission", 403, nil, graph(200, 0, "OAuthException", "Permissions error", false), true, 0, "code 200"},
		{"nothing received", 200, nil, `{"events_received":0,"messages":["event dropped"],"fbtrace_id":"AxYz123"}`, true, 0, "events_received 0 of 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCAPI(t, func() time.Time { return t0 })
			c.answer(tc.status, tc.header, tc.body)
			err := newSink(t, c, nil).Deliver(context.Background(), callMessage(t0))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, export.IsPermanent(err), "permanent: %v", err)
			var ra interface{ RetryAfter() time.Duration }
			if tc.wait > 0 {
				require.True(t, errors.As(err, &ra), "%v", err)
				assert.Equal(t, tc.wait, ra.RetryAfter())
			} else if errors.As(err, &ra) {
				assert.Zero(t, ra.RetryAfter())
			}
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

// The stand-in refuses a wrong token with the Graph API's OAuthException
// 190: dead-lettered with the reason, and counted in the status report.
func TestExpiredTokenIsRejectedWithAClearReason(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, func(cfg *meta.Config) { cfg.AccessToken = "EAAB-expired" })
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: c.now}, s)
	require.NoError(t, err)
	require.NoError(t, x.Record(context.Background(), callMessage(t0).Event))
	n, err := x.DeliverDue(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	dead, err := x.ByState(context.Background(), store.OutboxDead, 0)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Contains(t, dead[0].LastError, "access token is invalid or expired")
	assert.Contains(t, dead[0].LastError, "code 190/463")
	rep, err := x.Report(context.Background())
	require.NoError(t, err)
	require.Len(t, rep, 1)
	assert.Equal(t, 1, rep[0].Rejected)
}

// Through the exporter: a 429 with Retry-After is retried no sooner than
// asked, then accepted once.
func TestRateLimitedDeliveryIsRetriedAfterRetryAfter(t *testing.T) {
	clk := &clock{t: t0}
	c := newCAPI(t, clk.now)
	s := newSink(t, c, func(cfg *meta.Config) { cfg.Now = clk.now })
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: clk.now, Rand: func() float64 { return 0 }}, s)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, x.Record(ctx, callMessage(t0).Event))
	c.answer(http.StatusTooManyRequests, map[string]string{"Retry-After": "60"},
		`{"error":{"message":"User request limit reached","type":"OAuthException","code":17,"fbtrace_id":"A1"}}`)
	n, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	clk.add(59 * time.Second)
	n, err = x.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "not due before Retry-After")
	clk.add(time.Second)
	n, err = x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Len(t, c.keptEvents(), 1)
	assert.Equal(t, export.Stats{Claimed: 2, Delivered: 1, Retried: 1}, x.Stats())
}

func TestRestatementIsANewEventOfTheConfiguredName(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0.Add(48 * time.Hour) })
	s := newSink(t, c, func(cfg *meta.Config) { cfg.RestateEventName = "Purchase" })
	adj := export.Event{Adjustment: &export.Adjustment{ConversionID: "call:twilio/CA1", Type: export.AdjustRestate, Value: 90000,
		Currency: "USD", Status: "won", At: t0.Add(24 * time.Hour), Version: 1}, AdIDs: ids}
	m := export.Message{ID: export.MessageID("meta", adj), Sink: "meta", Attempt: 1, CreatedAt: t0.Add(24 * time.Hour), Event: adj}
	require.NoError(t, s.Deliver(context.Background(), m))
	got := c.keptEvents()
	require.Len(t, got, 1)
	want := `{"action_source":"phone_call","custom_data":{"currency":"usd","value":900.00},"event_id":"meta/adjust:call:twilio/CA1/v1",` +
		`"event_name":"Purchase","event_time":1772532000,"user_data":{"fbc":"fb.1.1772445600000.IwAR0abc","fbp":"fb.1.1772445500000.987654321"}}`
	assert.Equal(t, want, eventJSON(t, got[0]))

	// A retraction that reached the sink anyway is dead-lettered, never sent.
	m.Adjustment = &export.Adjustment{ConversionID: "call:twilio/CA1", Type: export.AdjustRetract, At: t0, Version: 2}
	err := s.Deliver(context.Background(), m)
	assert.True(t, export.IsPermanent(err), "%v", err)
	assert.Equal(t, 1, c.requestCount())
}

func TestNothingIsSentWithoutConsent(t *testing.T) {
	c := newCAPI(t, func() time.Time { return t0 })
	s := newSink(t, c, nil)
	m := callMessage(t0)
	m.AdIDs = journey.AdIDs{FBC: ids.FBC}
	err := s.Deliver(context.Background(), m)
	assert.True(t, export.IsPermanent(err))
	assert.Zero(t, c.requestCount())
}
