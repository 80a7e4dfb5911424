package googleadsapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// paidCall is a paid-search visit with a gclid and ads consent that calls
// a minute later; it returns the conversion's order id.
func paidCall(t *testing.T, s *dnitest.Harness, clk *clock, gclid string) string {
	t.Helper()
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=" + gclid,
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{Consent: true, AdUserData: "granted"}})
	clk.add(time.Minute)
	call(t, s, "CA1", a)
	s.Close(t)
	return googleadsapi.OrderID(googleadsapi.DefaultName, journey.CallConversionID(fake.Name, "CA1"))
}

func setValue(t *testing.T, s *dnitest.Harness, value int64) {
	t.Helper()
	require.NoError(t, s.Service.SetOutcome(context.Background(), journey.CallTouchpointID(fake.Name, "CA1"),
		dni.Outcome{Status: dni.OutcomeWon, Value: value, Currency: "USD"}))
}

// assertRestatedOnce checks that Google has the conversion once, restated
// once to 900.00, and that nothing was dead-lettered.
func assertRestatedOnce(t *testing.T, s *dnitest.Harness, ads *fakeAds, orderID string) {
	t.Helper()
	accepted, _, adjs, _ := ads.snapshot()
	dead, err := s.Exporter.ByState(context.Background(), store.OutboxDead, 0)
	require.NoError(t, err)
	for _, d := range dead {
		t.Errorf("dead-lettered: %s: %s", d.ID, d.LastError)
	}
	require.Len(t, accepted, 1, "one conversion")
	require.Contains(t, accepted, orderID)
	require.Len(t, adjs, 1, "Google got the changed value, once")
	assert.Equal(t, orderID, adjs[0].OrderID)
	assert.Equal(t, "RESTATEMENT", adjs[0].AdjustmentType)
	assert.Equal(t, "900.00", string(adjs[0].RestatementValue.AdjustedValue))
	pending, err := s.Exporter.ByState(context.Background(), store.OutboxPending, 0)
	require.NoError(t, err)
	assert.Empty(t, pending, "nothing left owed")
}

// Google answers the click conversion TOO_RECENT_EVENT (retry in 6 hours);
// the value changes an hour later. The adjustment waits for the conversion
// instead of going first into CONVERSION_NOT_FOUND, and restates it once
// Google has it.
func TestAnAdjustmentWaitsWhileGoogleSaysTheClickIsTooRecent(t *testing.T) {
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	ads.set(func(f *fakeAds) { f.rowErrors["Cj0KCQjw-recent"] = "TOO_RECENT_EVENT" })
	s := newService(t, clk, ads)
	orderID := paidCall(t, s, clk, "Cj0KCQjw-recent")
	s.DeliverAll(t)
	ads.set(func(f *fakeAds) { delete(f.rowErrors, "Cj0KCQjw-recent") }) // six hours on, Google takes it
	clk.add(time.Hour)
	setValue(t, s, 90000)
	s.DeliverAll(t)
	_, clicks, adjs, _ := ads.snapshot()
	require.Len(t, clicks, 1, "the conversion is not retried before Google's wait")
	require.Empty(t, adjs, "the adjustment waits for its conversion")
	for range 40 {
		clk.add(time.Hour)
		s.DeliverAll(t)
	}
	assertRestatedOnce(t, s, ads, orderID)
	assert.Positive(t, s.Exporter.Stats().Waited)
}

// Google is unavailable (429 RESOURCE_EXHAUSTED) when the conversion is
// first sent, a day after the call, together with the changed value: the
// adjustment waits through the retries and goes after the conversion.
func TestAnAdjustmentWaitsThroughAnOutage(t *testing.T) {
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	s := newService(t, clk, ads)
	orderID := paidCall(t, s, clk, "Cj0KCQjw-outage")
	ads.set(func(f *fakeAds) { f.throttleNext = 3 })
	clk.add(25 * time.Hour)
	setValue(t, s, 90000)
	s.DeliverAll(t)
	for range 3 { // three answers of 429
		_, _, adjs, _ := ads.snapshot()
		require.Empty(t, adjs, "the adjustment waits while Google throttles the conversion")
		clk.add(time.Minute) // past the 30s Google asked for
		s.DeliverAll(t)
	}
	assertRestatedOnce(t, s, ads, orderID)
}
