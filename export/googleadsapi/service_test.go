package googleadsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// newService is a dni.Service exporting to a Google Ads API sink aimed at
// the stand-in.
func newService(t *testing.T, clk *clock, ads *fakeAds) *dnitest.Harness {
	t.Helper()
	sink := newSink(t, ads, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = true })
	return dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102"}, BusinessNumber: "+14155550000"},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}},
		},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}, Now: clk.now, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{sink}})
}

// call places an answered two-minute call to the number a shows.
func call(t *testing.T, s *dnitest.Harness, id string, a dni.Assignment) {
	t.Helper()
	require.NotEmpty(t, a.Swaps)
	s.Call(t, fake.Call{ID: id, From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
}

// A paid-search visit with a gclid and ads consent calls and qualifies:
// Google Ads accepts exactly one click conversion, with the caller's
// hashed number; the value set by hand a day later is exactly one
// restatement of it; a visit without consent sends nothing.
func TestQualifiedCallThroughTheService(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	s := newService(t, clk, ads)
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw-e2e",
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{Consent: true, AdUserData: "granted"}})
	clk.add(time.Minute)
	call(t, s, "CA1", a)
	s.Close(t)
	s.DeliverAll(t)

	accepted, clicks, _, _ := ads.snapshot()
	require.Len(t, clicks, 1, "exactly one upload")
	require.Len(t, accepted, 1)
	convID := journey.CallConversionID(fake.Name, "CA1")
	got, ok := accepted[googleadsapi.OrderID(googleadsapi.DefaultName, convID)]
	require.True(t, ok, "order id is the conversion's message id: %v", accepted)
	assert.Equal(t, "Cj0KCQjw-e2e", got.GCLID)
	assert.Equal(t, "250.00", string(got.RawValue))
	assert.Equal(t, "USD", got.CurrencyCode)
	assert.Equal(t, "GRANTED", got.Consent.AdUserData)
	sum := sha256.Sum256([]byte(caller))
	require.Len(t, got.UserIdentifiers, 1)
	assert.Equal(t, hex.EncodeToString(sum[:]), got.UserIdentifiers[0].HashedPhoneNumber)

	// Google adjusts conversions at least 24 hours old.
	clk.add(25 * time.Hour)
	require.NoError(t, s.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
		dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.DeliverAll(t)
	_, clicks, adjs, _ := ads.snapshot()
	assert.Len(t, clicks, 1, "a changed value is not a second conversion")
	require.Len(t, adjs, 1, "exactly one adjustment")
	assert.Equal(t, "RESTATEMENT", adjs[0].AdjustmentType)
	assert.Equal(t, got.OrderID, adjs[0].OrderID)
	assert.Equal(t, "900.00", string(adjs[0].RestatementValue.AdjustedValue))
	dead, err := s.Exporter.ByState(ctx, store.OutboxDead, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestAVisitWithoutConsentSendsNothing(t *testing.T) {
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	s := newService(t, clk, ads)
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw-none",
		Referrer: "https://www.google.com/"})
	clk.add(time.Minute)
	call(t, s, "CA2", a)
	s.Close(t)
	s.DeliverAll(t)
	clk.add(25 * time.Hour)
	require.NoError(t, s.Service.SetOutcome(context.Background(), journey.CallTouchpointID(fake.Name, "CA2"),
		dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.DeliverAll(t)
	_, clicks, adjs, headers := ads.snapshot()
	assert.Empty(t, clicks)
	assert.Empty(t, adjs)
	assert.Empty(t, headers, "no request at all")
}
