package ga4_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

const secret = "mp-s3cr3t-value"

func consented() journey.AdIDs {
	return journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", GASessionID: "1773500000",
		AdUserData: "granted", AdPersonalization: "denied"}
}

func conversionEvent(callID string) export.Event {
	call := provider.CallEvent{Provider: "twilio", CallID: callID, From: "+14155550123", To: "+14155550100",
		Status: provider.StatusCompleted, StartedAt: t0.Add(-5 * time.Minute), Duration: 2 * time.Minute}
	conv := journey.Conversion{ID: journey.CallConversionID("twilio", callID), Type: journey.ConversionCall, At: t0.Add(-3 * time.Minute),
		Value: 25050, Currency: "USD", CallProvider: "twilio", CallID: callID}
	return export.Event{Conversion: &conv, Call: &call, AdIDs: consented(),
		Source: classify.Source{Source: "google", Medium: "cpc", ClickID: classify.ClickID{Param: "gclid", Value: "Cj0KCQjw", Platform: "google_ads"}}}
}

func message(ev export.Event) export.Message {
	return export.Message{ID: export.MessageID("ga4", ev), Sink: "ga4", Attempt: 1, CreatedAt: t0, Event: ev}
}

func newSink(t *testing.T, s *mpStandIn, mod func(*ga4.Config)) *ga4.Sink {
	t.Helper()
	cfg := ga4.Config{MeasurementID: "G-TEST123", APISecret: secret, BaseURL: s.srv.URL, Now: func() time.Time { return t0 }}
	if mod != nil {
		mod(&cfg)
	}
	sink, err := ga4.New(cfg)
	require.NoError(t, err)
	return sink
}

func newExporter(t *testing.T, sink export.Sink) *export.Exporter {
	t.Helper()
	x, err := export.New(memstore.New(), export.Config{Now: func() time.Time { return t0 }, Rand: func() float64 { return 0 },
		Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := ga4.New(ga4.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.MeasurementID is empty")
	assert.Contains(t, err.Error(), "Config.APISecret is empty")

	_, err = ga4.New(ga4.Config{MeasurementID: "4093827461", APISecret: "x", BaseURL: "ftp://example.com/x", EU: true,
		EventName: "session_start", AdjustmentEventName: "1st", Timeout: -time.Second})
	require.Error(t, err)
	for _, want := range []string{"Config.MeasurementID \"4093827461\" is a stream id", "Config.BaseURL", "Config.EU and Config.BaseURL",
		"Config.EventName", "reserved", "Config.AdjustmentEventName", "start with a letter", "Config.Timeout"} {
		assert.Contains(t, err.Error(), want)
	}

	_, err = ga4.New(ga4.Config{MeasurementID: "G-X", APISecret: "x", AdjustmentEventName: ga4.DefaultEventName})
	require.ErrorContains(t, err, "every restatement would count as one more lead")

	_, err = ga4.New(ga4.Config{MeasurementID: "G-X", APISecret: "x", EventName: strings.Repeat("a", 41)})
	require.ErrorContains(t, err, "more than 40")

	_, err = ga4.New(ga4.Config{MeasurementID: "G-X", APISecret: "x", EventName: "phone_lead", AdjustmentEventName: "lead_value_changed"})
	require.NoError(t, err)
}

// A qualified call becomes one generate_lead event carrying the visitor's
// client and session ids, the conversion's time and value, the consent
// signals and the message id; the validation server finds nothing wrong
// with it.
func TestDeliversALeadTheValidationServerAccepts(t *testing.T) {
	mp := newStandIn(t)
	m := message(conversionEvent("CA1"))
	require.NoError(t, newSink(t, mp, nil).Deliver(context.Background(), m))

	got := mp.bodies()
	require.Len(t, got, 1)
	b := got[0]
	assert.Equal(t, "1234567890.1700000000", b.ClientID)
	require.NotNil(t, b.TimestampMicros)
	assert.Equal(t, t0.Add(-3*time.Minute).UnixMicro(), *b.TimestampMicros)
	assert.Equal(t, map[string]string{"ad_user_data": "GRANTED", "ad_personalization": "DENIED"}, b.Consent)
	assert.True(t, b.NonPersonalizedAds)
	require.Len(t, b.Events, 1)
	ev := b.Events[0]
	assert.Equal(t, "generate_lead", ev.Name)
	assert.JSONEq(t, `250.50`, string(ev.Params["value"]), "major units, a number")
	assert.JSONEq(t, `"USD"`, string(ev.Params["currency"]))
	assert.JSONEq(t, `"ga4/call:twilio/CA1"`, string(ev.Params["transaction_id"]))
	assert.JSONEq(t, `"1773500000"`, string(ev.Params["session_id"]))
	assert.JSONEq(t, `1`, string(ev.Params["engagement_time_msec"]))
	q, err := url.ParseQuery(mp.queries[0])
	require.NoError(t, err)
	assert.Equal(t, "G-TEST123", q.Get("measurement_id"))
	assert.Equal(t, secret, q.Get("api_secret"))

	// The same message to the validation server: no messages, nothing kept.
	require.NoError(t, newSink(t, mp, func(c *ga4.Config) { c.Debug = true }).Deliver(context.Background(), m))
	assert.Len(t, mp.bodies(), 1)
	assert.Contains(t, mp.queries[1], "measurement_id=G-TEST123")
}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		cfg  ga4.Config
		want string
	}{
		{ga4.Config{}, "https://www.google-analytics.com/mp/collect?"},
		{ga4.Config{EU: true}, "https://region1.google-analytics.com/mp/collect?"},
		{ga4.Config{EU: true, Debug: true}, "https://region1.google-analytics.com/debug/mp/collect?"},
	} {
		var got string
		tc.cfg.MeasurementID, tc.cfg.APISecret, tc.cfg.Now = "G-TEST123", secret, func() time.Time { return t0 }
		tc.cfg.Client = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			got = r.URL.String()
			return nil, errors.New("offline")
		})}
		sink, err := ga4.New(tc.cfg)
		require.NoError(t, err)
		err = sink.Deliver(context.Background(), message(conversionEvent("CA1")))
		require.Error(t, err)
		assert.True(t, strings.HasPrefix(got, tc.want), got)
		assert.NotContains(t, err.Error(), secret, "the API secret stays out of errors")
		assert.False(t, export.IsPermanent(err), "a connection error is retried")
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAccepts(t *testing.T) {
	mp := newStandIn(t)
	plain := newSink(t, mp, nil)
	withAdj := newSink(t, mp, func(c *ga4.Config) { c.AdjustmentEventName = "lead_value_changed" })
	conv := conversionEvent("CA1")
	noConsent := conv
	noConsent.AdIDs = journey.AdIDs{GAClientID: "1234567890.1700000000"}
	noClient := conv
	noClient.AdIDs = journey.AdIDs{Consent: true, FBP: "fb.1.1700000000000.987"}
	callOnly := conv
	callOnly.Conversion = nil
	restate := export.Event{Adjustment: &export.Adjustment{ConversionID: conv.Conversion.ID, Type: export.AdjustRestate,
		Value: 90000, Currency: "USD", At: t0, Version: 1}, AdIDs: consented()}
	retract := export.Event{Adjustment: &export.Adjustment{ConversionID: conv.Conversion.ID, Type: export.AdjustRetract, At: t0, Version: 2},
		AdIDs: consented()}
	for _, tc := range []struct {
		name          string
		ev            export.Event
		plain, adjust bool
	}{
		{"a conversion with consent and a client id", conv, true, true},
		{"no ads consent", noConsent, false, false},
		{"no GA client id", noClient, false, false},
		{"a call that did not convert", callOnly, false, false},
		{"a restatement, sent only with AdjustmentEventName", restate, false, true},
		{"a retraction: GA4 cannot withdraw an event", retract, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.plain, plain.Accepts(tc.ev))
			assert.Equal(t, tc.adjust, withAdj.Accepts(tc.ev))
		})
	}
}

// Each documented rule, broken: the sink refuses the payload naming the
// field and the validation server's code, and the stand-in validation
// server answers the same field and code for it.
func TestPayloadRulesMatchTheValidationServer(t *testing.T) {
	mp := newStandIn(t)
	valid := func() ga4.Payload {
		return ga4.Payload{ClientID: "123.456", TimestampMicros: t0.UnixMicro(),
			Events: []ga4.Event{{Name: "generate_lead", Params: map[string]any{"value": json.Number("1.00"), "currency": "USD"}}}}
	}
	many := func(n int) map[string]any {
		p := map[string]any{}
		for i := range n {
			p["p"+strings.Repeat("x", i%30)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
		}
		return p
	}
	for _, tc := range []struct {
		name, path, code string
		mod              func(*ga4.Payload)
	}{
		{"no client id", "client_id", ga4.CodeValueRequired, func(p *ga4.Payload) { p.ClientID = "" }},
		{"a client id that is not two numbers", "client_id", ga4.CodeValueInvalid, func(p *ga4.Payload) { p.ClientID = "GA1.1.abc" }},
		{"a consent that is neither GRANTED nor DENIED", "consent.ad_user_data", ga4.CodeValueInvalid,
			func(p *ga4.Payload) { p.Consent = &ga4.Consent{AdUserData: "granted"} }},
		{"no events", "events", ga4.CodeValueRequired, func(p *ga4.Payload) { p.Events = nil }},
		{"26 events", "events", ga4.CodeExceededMaxEntities, func(p *ga4.Payload) {
			for range 25 {
				p.Events = append(p.Events, ga4.Event{Name: "generate_lead"})
			}
		}},
		{"a reserved event name", "events[0].name", ga4.CodeNameReserved, func(p *ga4.Payload) { p.Events[0].Name = "session_start" }},
		{"an app-only event name", "events[0].name", ga4.CodeNameReserved, func(p *ga4.Payload) { p.Events[0].Name = "screen_view" }},
		{"an event name with a reserved prefix", "events[0].name", ga4.CodeNameReserved, func(p *ga4.Payload) { p.Events[0].Name = "google_lead" }},
		{"an event name starting with a digit", "events[0].name", ga4.CodeNameInvalid, func(p *ga4.Payload) { p.Events[0].Name = "1lead" }},
		{"an event name with a space", "events[0].name", ga4.CodeNameInvalid, func(p *ga4.Payload) { p.Events[0].Name = "phone lead" }},
		{"a 41-character event name", "events[0].name", ga4.CodeValueOutOfBounds, func(p *ga4.Payload) { p.Events[0].Name = strings.Repeat("l", 41) }},
		{"26 parameters", "events[0].params", ga4.CodeExceededMaxEntities, func(p *ga4.Payload) { p.Events[0].Params = many(26) }},
		{"a reserved parameter prefix", "events[0].params.ga_source", ga4.CodeNameReserved, func(p *ga4.Payload) { p.Events[0].Params["ga_source"] = "x" }},
		{"a reserved parameter name", "events[0].params.firebase_conversion", ga4.CodeNameReserved,
			func(p *ga4.Payload) { p.Events[0].Params["firebase_conversion"] = "x" }},
		{"a 41-character parameter name", "events[0].params." + strings.Repeat("p", 41), ga4.CodeValueOutOfBounds,
			func(p *ga4.Payload) { p.Events[0].Params[strings.Repeat("p", 41)] = "x" }},
		{"a 101-character value", "events[0].params.note", ga4.CodeValueOutOfBounds,
			func(p *ga4.Payload) { p.Events[0].Params["note"] = strings.Repeat("é", 101) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.mod(&p)
			err := p.Validate()
			var verr *ga4.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.True(t, export.IsPermanent(err))
			assert.Contains(t, verr.Messages, ga4.ValidationMessage{FieldPath: tc.path, ValidationCode: tc.code,
				Description: messageFor(verr, tc.path, tc.code)}, "%v", err)

			body, err := json.Marshal(p)
			require.NoError(t, err)
			got := debugValidate(t, mp, body)
			assert.Contains(t, got, [2]string{tc.path, tc.code}, "the validation server: %v", got)
		})
	}
	t.Run("within every limit", func(t *testing.T) {
		p := valid()
		p.Events[0].Params = many(24)
		p.Events[0].Params["note"] = strings.Repeat("é", 100)
		p.Events[0].Name = "llamada_teléfono_" + strings.Repeat("x", 23) // 40 characters, Unicode letters
		require.NoError(t, p.Validate())
		body, err := json.Marshal(p)
		require.NoError(t, err)
		assert.Empty(t, debugValidate(t, mp, body))
	})
}

func messageFor(e *ga4.ValidationError, path, code string) string {
	for _, m := range e.Messages {
		if m.FieldPath == path && m.ValidationCode == code {
			return m.Description
		}
	}
	return ""
}

// debugValidate posts body to the stand-in validation server and returns
// its messages' field paths and codes.
func debugValidate(t *testing.T, mp *mpStandIn, body []byte) [][2]string {
	t.Helper()
	resp, err := http.Post(mp.srv.URL+ga4.DebugPath+"?measurement_id=G-TEST123&api_secret=x", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var ans struct {
		ValidationMessages []ga4.ValidationMessage `json:"validationMessages"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
	var out [][2]string
	for _, m := range ans.ValidationMessages {
		out = append(out, [2]string{m.FieldPath, m.ValidationCode})
	}
	return out
}

// The production endpoint answers 2xx even to a payload it drops, so a
// payload breaking the rules is never sent: the message is dead-lettered
// with the reason.
func TestInvalidPayloadIsDeadLetteredNotSent(t *testing.T) {
	mp := newStandIn(t)
	ev := conversionEvent("CA1")
	ev.AdIDs.GAClientID = "not-a-client-id"
	x := newExporter(t, newSink(t, mp, nil))
	require.NoError(t, x.Record(context.Background(), ev))
	_, err := x.DeliverDue(context.Background())
	require.NoError(t, err)
	m, err := x.Message(context.Background(), "ga4/call:twilio/CA1")
	require.NoError(t, err)
	assert.Equal(t, store.OutboxDead, m.State)
	assert.Contains(t, m.LastError, "client_id")
	assert.Contains(t, m.LastError, "VALUE_INVALID")
	assert.Empty(t, mp.queries, "nothing was sent")
}

func TestEventTimeWindow(t *testing.T) {
	mp := newStandIn(t)
	sink := newSink(t, mp, nil)
	old := conversionEvent("CA1")
	old.Conversion.At = t0.Add(-ga4.MaxAge - time.Minute)
	err := sink.Deliver(context.Background(), message(old))
	require.ErrorIs(t, err, ga4.ErrTooOld)
	assert.True(t, export.IsPermanent(err))
	assert.Contains(t, err.Error(), "72h1m0s before now")

	edge := conversionEvent("CA2")
	edge.Conversion.At = t0.Add(-ga4.MaxAge)
	require.NoError(t, sink.Deliver(context.Background(), message(edge)))

	ahead := conversionEvent("CA3")
	ahead.Conversion.At = t0.Add(time.Minute)
	require.NoError(t, sink.Deliver(context.Background(), message(ahead)))
	got := mp.bodies()
	require.Len(t, got, 2)
	assert.Equal(t, t0.Add(-ga4.MaxAge).UnixMicro(), *got[0].TimestampMicros)
	assert.Equal(t, t0.UnixMicro(), *got[1].TimestampMicros, "a time ahead of the clock is sent as now")
}

func TestConsentSignals(t *testing.T) {
	for _, tc := range []struct {
		userData, personalization string
		want                      map[string]string
		npa                       bool
	}{
		{"", "", nil, false},
		{"granted", "granted", map[string]string{"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}, false},
		{"denied", "", map[string]string{"ad_user_data": "DENIED"}, false},
		{"", "denied", map[string]string{"ad_personalization": "DENIED"}, true},
	} {
		mp := newStandIn(t)
		ev := conversionEvent("CA1")
		ev.AdIDs.AdUserData, ev.AdIDs.AdPersonalization = tc.userData, tc.personalization
		ev.AdIDs.GASessionID = "" // unknown: not sent
		require.NoError(t, newSink(t, mp, nil).Deliver(context.Background(), message(ev)))
		b := mp.bodies()[0]
		assert.Equal(t, tc.want, b.Consent)
		assert.Equal(t, tc.npa, b.NonPersonalizedAds)
		assert.NotContains(t, b.Events[0].Params, "session_id")
	}
}

func TestClientIDFromAWholeCookieAndSessionIDOnlyWhenNumeric(t *testing.T) {
	mp := newStandIn(t)
	ev := conversionEvent("CA1")
	ev.AdIDs.GAClientID, ev.AdIDs.GASessionID = "GA1.1.1234567890.1700000000", "s-1773500000"
	require.NoError(t, newSink(t, mp, nil).Deliver(context.Background(), message(ev)))
	b := mp.bodies()[0]
	assert.Equal(t, "1234567890.1700000000", b.ClientID)
	assert.NotContains(t, b.Events[0].Params, "session_id", "a session id GA would not take is left out")
}

func TestLongMessageIDIsHashedWithinTheValueLimit(t *testing.T) {
	mp := newStandIn(t)
	m := message(conversionEvent("CA1"))
	m.ID = "ga4/call:twilio/" + strings.Repeat("C", 120)
	require.NoError(t, newSink(t, mp, nil).Deliver(context.Background(), m))
	var id string
	require.NoError(t, json.Unmarshal(mp.bodies()[0].Events[0].Params["transaction_id"], &id))
	assert.True(t, strings.HasPrefix(id, "sha256:") && len(id) <= 100, id)
	require.NoError(t, newSink(t, mp, nil).Deliver(context.Background(), m))
	var again string
	require.NoError(t, json.Unmarshal(mp.bodies()[1].Events[0].Params["transaction_id"], &again))
	assert.Equal(t, id, again, "the same on every attempt")
}

func TestRestatementIsItsOwnEventWhenConfigured(t *testing.T) {
	mp := newStandIn(t)
	sink := newSink(t, mp, func(c *ga4.Config) { c.AdjustmentEventName = "lead_value_changed" })
	conv := conversionEvent("CA1")
	ev := export.Event{Adjustment: &export.Adjustment{ConversionID: conv.Conversion.ID, Type: export.AdjustRestate,
		Value: 90000, Currency: "USD", Status: "won", At: t0.Add(-time.Hour), Version: 1}, AdIDs: consented()}
	require.NoError(t, sink.Deliver(context.Background(), message(ev)))
	b := mp.bodies()[0]
	require.Len(t, b.Events, 1)
	e := b.Events[0]
	assert.Equal(t, "lead_value_changed", e.Name)
	assert.JSONEq(t, `900.00`, string(e.Params["value"]))
	assert.JSONEq(t, `"ga4/adjust:call:twilio/CA1/v1"`, string(e.Params["transaction_id"]))
	assert.JSONEq(t, `"ga4/call:twilio/CA1"`, string(e.Params["original_transaction_id"]), "names the lead's own event")
	assert.Equal(t, t0.Add(-time.Hour).UnixMicro(), *b.TimestampMicros, "the change's time")

	// Without the option a restatement that reached the sink is refused
	// rather than sent as a second lead.
	err := newSink(t, mp, nil).Deliver(context.Background(), message(ev))
	assert.True(t, export.IsPermanent(err))
	assert.Len(t, mp.bodies(), 1)
}

// 429 with Retry-After is retried after at least the wait; 5xx is
// retried; other 4xx dead-letter the message.
func TestAnswers(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	sink := newSink(t, mp, nil)

	mp.failNext(failure{status: http.StatusTooManyRequests, retryAfter: "120"})
	err := sink.Deliver(ctx, message(conversionEvent("CA1")))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))
	var ra interface{ RetryAfter() time.Duration }
	require.ErrorAs(t, err, &ra)
	assert.Equal(t, 2*time.Minute, ra.RetryAfter())

	mp.failNext(failure{status: http.StatusServiceUnavailable})
	err = sink.Deliver(ctx, message(conversionEvent("CA1")))
	require.Error(t, err)
	assert.False(t, export.IsPermanent(err))

	mp.failNext(failure{status: http.StatusBadRequest})
	err = sink.Deliver(ctx, message(conversionEvent("CA1")))
	assert.True(t, export.IsPermanent(err))
	assert.NotContains(t, err.Error(), secret)
	assert.Empty(t, mp.bodies())
}

// Through the exporter: the 429's Retry-After sets the next attempt, and
// the retry delivers the event once.
func TestRateLimitedMessageIsRetriedAfterTheWait(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	now := t0
	sink := newSink(t, mp, func(c *ga4.Config) { c.Now = func() time.Time { return now } })
	x, err := export.New(memstore.New(), export.Config{Now: func() time.Time { return now }, Rand: func() float64 { return 0 },
		Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	mp.failNext(failure{status: http.StatusTooManyRequests, retryAfter: "300"})
	require.NoError(t, x.Record(ctx, conversionEvent("CA1")))
	n, err := x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m, err := x.Message(ctx, "ga4/call:twilio/CA1")
	require.NoError(t, err)
	assert.Equal(t, store.OutboxPending, m.State)
	assert.False(t, m.NextAt.Before(t0.Add(5*time.Minute)), "next attempt %s", m.NextAt)

	now = m.NextAt
	n, err = x.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Len(t, mp.bodies(), 1)
}

// In debug mode the validation server's messages dead-letter the
// delivery with its reasons.
func TestDebugModeDeadLettersTheServersMessages(t *testing.T) {
	mp := newStandIn(t)
	mp.extra = []map[string]string{{"fieldPath": "events[0].params.currency", "validationCode": "VALUE_INVALID",
		"description": "Currency must be an ISO 4217 code."}}
	err := newSink(t, mp, func(c *ga4.Config) { c.Debug = true }).Deliver(context.Background(), message(conversionEvent("CA1")))
	var verr *ga4.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.True(t, export.IsPermanent(err))
	assert.Equal(t, "events[0].params.currency", verr.Messages[0].FieldPath)
	assert.Contains(t, err.Error(), "Currency must be an ISO 4217 code. (VALUE_INVALID)")
	assert.Empty(t, mp.bodies(), "the validation server keeps nothing")
}

// Duplicate uploads: recording the same conversion twice queues one
// message; a message delivered again (an answer lost) carries the same
// transaction_id and timestamp, so the two events can be told apart from
// two leads.
func TestDuplicates(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	sink := newSink(t, mp, nil)
	x := newExporter(t, sink)
	require.NoError(t, x.Record(ctx, conversionEvent("CA1")))
	require.NoError(t, x.Record(ctx, conversionEvent("CA1")))
	for {
		n, err := x.DeliverDue(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	require.Len(t, mp.bodies(), 1)

	require.NoError(t, sink.Deliver(ctx, message(conversionEvent("CA1"))))
	got := mp.bodies()
	require.Len(t, got, 2)
	assert.Equal(t, got[0].Events[0].Params["transaction_id"], got[1].Events[0].Params["transaction_id"])
	assert.Equal(t, *got[0].TimestampMicros, *got[1].TimestampMicros)
}
