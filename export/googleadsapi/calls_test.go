package googleadsapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

const assetNumber = "+14155550150" // on a Google call asset

var callAssets = googleadsapi.CallAssets{Numbers: []string{assetNumber}, ConversionAction: fakeCallAction,
	AdUserData: "GRANTED", AdPersonalization: "DENIED"}

func withCallAssets(c *googleadsapi.Config) { c.CallAssets = callAssets }

var callStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// assetCall is a qualified call to the call-asset number, as the exporter
// hands it over: no session, so no consent and no click id.
func assetCall(id, from string) export.Message {
	ev := export.Event{
		Conversion: &journey.Conversion{ID: "call:fake/" + id, Type: journey.ConversionCall, At: callStart, Value: 25000, Currency: "USD",
			CallProvider: "fake", CallID: id},
		Call: &provider.CallEvent{Provider: "fake", CallID: id, From: from, To: assetNumber, StartedAt: callStart,
			EndedAt: callStart.Add(4 * time.Minute), Status: provider.StatusCompleted},
		Source: classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "call_asset", Campaign: "call asset"},
	}
	return export.Message{ID: export.MessageID(googleadsapi.DefaultName, ev), Sink: googleadsapi.DefaultName, Attempt: 1,
		CreatedAt: callStart, Event: ev}
}

func TestNewNamesEveryBadCallAssetField(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	cfg := config(f)
	cfg.CallAssets = googleadsapi.CallAssets{Numbers: []string{"0415 555 0199"}, ConversionAction: "777", AdPersonalization: "yes"}
	_, err := googleadsapi.New(cfg)
	require.Error(t, err)
	for _, want := range []string{"Config.CallAssets.Numbers", "Config.CallAssets.ConversionAction", "Config.CallAssets.AdUserData",
		"Config.CallAssets.AdPersonalization"} {
		assert.ErrorContains(t, err, want)
	}
	cfg.CallAssets = callAssets
	cfg.CallAssets.AdUserData = "DENIED"
	_, err = googleadsapi.New(cfg)
	assert.ErrorContains(t, err, "declare GRANTED", "without consent no caller's number is sent")
	cfg.CallAssets = googleadsapi.CallAssets{ConversionAction: fakeCallAction, AdUserData: "GRANTED"}
	_, err = googleadsapi.New(cfg)
	assert.ErrorContains(t, err, "has no Numbers")
}

func TestCallAssetCallsAreAcceptedOnTheHostsConsent(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, withCallAssets)
	plain := newSink(t, f)
	other := assetCall("CA2", caller).Event
	other.Call.To = "+14155550101"
	notConverted := assetCall("CA3", caller).Event
	notConverted.Conversion = nil
	fromClick := assetCall("CA4", caller).Event
	fromClick.Source.ClickID = classify.ClickID{Param: "gclid", Value: "g", Platform: "Google Ads"}
	fromClick.AdIDs = consented
	adj := adjustment("call:fake/CA1", export.AdjustRestate, 9000, time.Now(), 1).Event
	adj.AdIDs, adj.Source = journey.AdIDs{}, assetCall("CA1", caller).Source
	for name, tc := range map[string]struct {
		s    *googleadsapi.Sink
		ev   export.Event
		want bool
	}{
		"a qualified call to a call-asset number":   {s, assetCall("CA1", caller).Event, true},
		"the same without CallAssets configured":    {plain, assetCall("CA1", caller).Event, false},
		"a call to another number, without consent": {s, other, false},
		"a call that did not convert":               {s, notConverted, false},
		"from a consented Google click":             {s, fromClick, true},
		"an adjustment of a call conversion":        {s, adj, false},
	} {
		assert.Equal(t, tc.want, tc.s.Accepts(tc.ev), name)
	}
	// A call from a consented Google click goes as a click conversion.
	f.set(func(f *fakeAds) { f.forwarded[callKey(caller, callStart)] = true })
	require.NoError(t, s.Deliver(context.Background(), export.Message{ID: "google-ads/call:fake/CA4", Attempt: 1, Event: fromClick}))
	_, clicks, _, _ := f.snapshot()
	require.Len(t, clicks, 1)
	rows, _ := f.calls()
	assert.Empty(t, rows)
}

// A call-asset call becomes one CallConversion in the documented shape;
// sending it again is CALL_CONVERSION_ALREADY_EXISTS, which Google's
// having it.
func TestACallAssetCallIsUploadedAsACallConversion(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.forwarded[callKey(caller, callStart)] = true })
	s := newSink(t, f, withCallAssets, func(c *googleadsapi.Config) { c.Location = time.FixedZone("EST", -5*3600) })
	m := assetCall("CA1", caller)
	require.NoError(t, s.Deliver(context.Background(), m))
	_, accepted := f.calls()
	require.Len(t, accepted, 1)
	var got fakeCall
	for _, c := range accepted {
		got = c
	}
	assert.Equal(t, caller, got.CallerID)
	assert.Equal(t, "2026-03-02 05:00:00-05:00", got.CallStartDateTime)
	assert.Equal(t, "2026-03-02 05:04:00-05:00", got.ConversionDateTime, "the call's end: after its start, as Google requires")
	assert.Equal(t, fakeCallAction, got.ConversionAction)
	assert.Equal(t, "250.00", string(got.ConversionValue))
	assert.Equal(t, "USD", got.CurrencyCode)
	require.NotNil(t, got.Consent)
	assert.Equal(t, "GRANTED", got.Consent.AdUserData, "the consent the host declared")
	assert.Equal(t, "DENIED", got.Consent.AdPersonalization)
	_, _, _, headers := f.snapshot()
	assert.Equal(t, fakeDevToken, headers[0].Get("developer-token"))

	m.Attempt = 2 // the first answer was lost
	require.NoError(t, s.Deliver(context.Background(), m), "CALL_CONVERSION_ALREADY_EXISTS: Google has it")
	rows, accepted := f.calls()
	assert.Len(t, rows, 2)
	assert.Len(t, accepted, 1)
}

// Each row error Google answers in partialFailureError has its class:
// dead-lettered with Google's reason, or retried after its documented
// wait.
func TestCallConversionRowErrorsAreClassified(t *testing.T) {
	for name, tc := range map[string]struct {
		edit      func(f *fakeAds, c *googleadsapi.Config)
		permanent bool
		wait      time.Duration
		reason    string
	}{
		"the call did not pass through Google": {func(f *fakeAds, c *googleadsapi.Config) { delete(f.forwarded, callKey(caller, callStart)) },
			true, 0, "conversionUploadError: CALL_NOT_FOUND"},
		"too recent": {func(f *fakeAds, c *googleadsapi.Config) { f.callRowErrors[caller] = "TOO_RECENT_CALL" },
			false, 12 * time.Hour, "conversionUploadError: TOO_RECENT_CALL"},
		"a new conversion action": {func(f *fakeAds, c *googleadsapi.Config) { f.callRowErrors[caller] = "TOO_RECENT_CONVERSION_ACTION" },
			false, 6 * time.Hour, "conversionUploadError: TOO_RECENT_CONVERSION_ACTION"},
		"expired": {func(f *fakeAds, c *googleadsapi.Config) { f.callRowErrors[caller] = "EXPIRED_CALL" },
			true, 0, "conversionUploadError: EXPIRED_CALL"},
		"not an UPLOAD_CALLS action": {func(f *fakeAds, c *googleadsapi.Config) { c.CallAssets.ConversionAction = fakeAction },
			true, 0, "conversionUploadError: INVALID_CONVERSION_ACTION"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAds(t, newClock().now)
			f.set(func(f *fakeAds) { f.forwarded[callKey(caller, callStart)] = true })
			s := newSink(t, f, withCallAssets, func(c *googleadsapi.Config) { f.set(func(f *fakeAds) { tc.edit(f, c) }) })
			err := s.Deliver(context.Background(), assetCall("CA1", caller))
			require.Error(t, err)
			assert.Equal(t, tc.permanent, export.IsPermanent(err))
			assert.ErrorContains(t, err, tc.reason)
			assert.ErrorContains(t, err, "upload call conversion")
			var ae *googleadsapi.Error
			require.True(t, errors.As(err, &ae))
			assert.Equal(t, 200, ae.StatusCode, "a row's partial failure")
			assert.Equal(t, "req-3", ae.RequestID)
			assert.Equal(t, tc.wait, ae.RetryAfter())
		})
	}
}

// What Google cannot match is dead-lettered before any request, naming
// why; a call with no end time converts a second after its start.
func TestCallAssetCallsGoogleCannotMatch(t *testing.T) {
	for name, tc := range map[string]struct{ from, reason string }{
		"withheld": {"", "no caller number (withheld)"},
		"keyed":    {"h:" + sha("+14155550123"), "keyed"},
		"not e164": {"anonymous", "not E.164"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAds(t, newClock().now)
			s := newSink(t, f, withCallAssets)
			err := s.Deliver(context.Background(), assetCall("CA1", tc.from))
			require.Error(t, err)
			assert.True(t, export.IsPermanent(err))
			assert.ErrorContains(t, err, tc.reason)
			_, _, _, headers := f.snapshot()
			assert.Empty(t, headers, "no request")
		})
	}
	f := newFakeAds(t, newClock().now)
	f.set(func(f *fakeAds) { f.forwarded[callKey(caller, callStart)] = true })
	s := newSink(t, f, withCallAssets)
	m := assetCall("CA1", caller)
	m.Call.EndedAt = time.Time{}
	require.NoError(t, s.Deliver(context.Background(), m))
	rows, _ := f.calls()
	require.Len(t, rows, 1)
	assert.Equal(t, "2026-03-02 10:00:01+00:00", rows[0].ConversionDateTime)
}

// Through the Service: a call to the call-asset number, with no visit,
// qualifies and reaches Google as one call conversion matched on the
// caller and the start Google's forwarding number saw. A value changed
// later is not sent: Google adjusts conversions by order id or gclid, and
// a call conversion has neither.
func TestACallAssetCallThroughTheService(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	sink := newSink(t, ads, withCallAssets)
	s := dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"},
			BusinessNumber: "+14155550000"}}},
		Dedicated: []pool.DedicatedNumber{{Number: assetNumber, BusinessNumber: "+14155550000", Campaign: "call asset",
			Source: "google", Medium: "call_asset", Channel: string(classify.ChannelPaidSearch)}},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}, Now: clk.now, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{sink}})
	ads.set(func(f *fakeAds) { f.forwarded[callKey(caller, clk.now())] = true })
	s.Call(t, fake.Call{ID: "CA9", From: caller, To: assetNumber, Answered: true, Duration: 2 * time.Minute})
	s.Close(t)
	s.DeliverAll(t)

	_, accepted := ads.calls()
	require.Len(t, accepted, 1, "one call conversion")
	for _, c := range accepted {
		assert.Equal(t, caller, c.CallerID)
		assert.Equal(t, "2026-03-02 10:00:00+00:00", c.CallStartDateTime)
		assert.Equal(t, "250.00", string(c.ConversionValue))
	}
	_, clicks, _, _ := ads.snapshot()
	assert.Empty(t, clicks)

	clk.add(25 * time.Hour)
	require.NoError(t, s.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA9"),
		dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.DeliverAll(t)
	_, _, adjs, _ := ads.snapshot()
	assert.Empty(t, adjs)
	for _, state := range []store.OutboxState{store.OutboxPending, store.OutboxDead} {
		msgs, err := s.Exporter.ByState(ctx, state, 0)
		require.NoError(t, err)
		assert.Empty(t, msgs, state)
	}
}
