package ga4_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// newService is a dni.Service exporting to a GA4 sink aimed at mp.
func newService(t *testing.T, mp *mpStandIn) *dnitest.Harness {
	t.Helper()
	clk := dnitest.NewClock(dnitest.Start)
	sink, err := ga4.New(ga4.Config{MeasurementID: "G-TEST123", APISecret: secret, BaseURL: mp.srv.URL,
		AdjustmentEventName: "lead_value_changed", Now: clk.Now})
	require.NoError(t, err)
	return dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102"}, BusinessNumber: "+14155550000"},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}},
		},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}, Clock: clk, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{sink}})
}

// call places an answered two-minute call to the number a shows.
func call(t *testing.T, s *dnitest.Harness, id string, a dni.Assignment) {
	t.Helper()
	require.NotEmpty(t, a.Swaps)
	s.Call(t, fake.Call{ID: id, From: "+12125550123", To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
}

// A paid-search visit with a gclid and ads consent calls and qualifies:
// GA4 gets exactly one generate_lead for the visitor's client id; the
// value set later by hand is one restatement event; the call lost later
// sends nothing (GA4 cannot withdraw an event); a visit without consent
// sends nothing at all.
func TestQualifiedCallThroughTheService(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	s := newService(t, mp)
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw",
		Referrer: "https://www.google.com/",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", GASessionID: "1772445600",
			AdUserData: "granted", AdPersonalization: "granted"}})
	s.Advance(t, time.Minute)
	call(t, s, "CA1", a)
	s.Close(t)
	s.DeliverAll(t)

	got := mp.bodies()
	require.Len(t, got, 1, "exactly one event")
	b := got[0]
	assert.Equal(t, "1234567890.1700000000", b.ClientID)
	assert.Equal(t, map[string]string{"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"}, b.Consent)
	require.Len(t, b.Events, 1)
	assert.Equal(t, "generate_lead", b.Events[0].Name)
	assert.JSONEq(t, `250.00`, string(b.Events[0].Params["value"]))
	assert.JSONEq(t, `"USD"`, string(b.Events[0].Params["currency"]))
	assert.JSONEq(t, `"1772445600"`, string(b.Events[0].Params["session_id"]))
	assert.JSONEq(t, `"ga4/`+journey.CallConversionID(fake.Name, "CA1")+`"`, string(b.Events[0].Params["transaction_id"]))
	assert.Zero(t, mp.dropped, "nothing GA would drop")

	s.Advance(t, time.Hour)
	tp := journey.CallTouchpointID(fake.Name, "CA1")
	require.NoError(t, s.Service.SetOutcome(ctx, tp, dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.DeliverAll(t)
	got = mp.bodies()
	require.Len(t, got, 2, "exactly one adjustment")
	adj := got[1].Events[0]
	assert.Equal(t, "lead_value_changed", adj.Name)
	assert.JSONEq(t, `900.00`, string(adj.Params["value"]))
	assert.JSONEq(t, `"ga4/`+journey.CallConversionID(fake.Name, "CA1")+`"`, string(adj.Params["original_transaction_id"]))

	require.NoError(t, s.Service.SetOutcome(ctx, tp, dni.Outcome{Status: dni.OutcomeLost, Currency: "USD"}))
	s.DeliverAll(t)
	assert.Len(t, mp.bodies(), 2, "a retraction is not sent")
	_, err := s.Exporter.Message(ctx, "ga4/adjust:"+journey.CallConversionID(fake.Name, "CA1")+"/v2")
	assert.ErrorIs(t, err, store.ErrNotFound, "nor queued")

	// Without consent: the same path sends nothing.
	mp2 := newStandIn(t)
	s2 := newService(t, mp2)
	a2 := s2.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjx",
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{GAClientID: "1234567890.1700000000", AdUserData: "denied"}})
	call(t, s2, "CA2", a2)
	s2.Close(t)
	s2.DeliverAll(t)
	require.NoError(t, s2.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA2"), dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s2.DeliverAll(t)
	assert.Empty(t, mp2.queries, "nothing sent without consent")
	assert.Zero(t, s2.Exporter.Stats().Claimed, "nothing queued for GA4")
}
