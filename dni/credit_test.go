package dni

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// creditJourney drives Email → Microsoft Ads (msclkid) → call and returns
// the call's conversion id.
func creditJourney(t *testing.T, h *harness) string {
	t.Helper()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email&utm_campaign=march"})
	h.clock.add(2 * time.Hour)
	b := h.visit(t, VisitRequest{VisitorID: a.VisitorID, URL: "https://example-plumbing.com/?msclkid=msclk-1",
		AdIDs: journey.AdIDs{Consent: true}})
	require.NotEqual(t, a.SessionID, b.SessionID, "a new source starts a new session")
	h.clock.add(time.Minute)
	_, err := h.caller.PlaceCall(context.Background(), h.srv.URL+DefaultPrefix+"webhooks/fake",
		fake.Call{ID: "CA1", From: caller, To: b.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	return journey.CallConversionID(fake.Name, "CA1")
}

func TestConversionCreditByModel(t *testing.T) {
	h := newHarness(t, testConfig())
	id := creditJourney(t, h)
	ctx := context.Background()
	for _, tc := range []struct {
		model attribution.Model
		want  float64
	}{
		{attribution.Linear{}, 2.0 / 3}, // the Microsoft Ads visit and the call it led to
		{attribution.LastTouch{}, 1},
		{attribution.FirstTouch{}, 0},
	} {
		t.Run(tc.model.Name(), func(t *testing.T) {
			got, err := h.svc.ConversionCredit(ctx, id, tc.model, ClickPlatform, "Microsoft Ads")
			require.NoError(t, err)
			assert.InDelta(t, tc.want, got, 1e-9)
		})
	}
	email, err := h.svc.ConversionCredit(ctx, id, attribution.Linear{}, attribution.ByChannel, "Email")
	require.NoError(t, err)
	assert.InDelta(t, 1.0/3, email, 1e-9, "the rest is email's")
	// The share is the one the reports show for the same journey.
	at, err := h.svc.store.Touchpoint(ctx, id)
	require.NoError(t, err)
	cmp, err := h.svc.Attribute(ctx, at.At.Add(-time.Minute), at.At.Add(time.Minute), attribution.Options{Key: ClickPlatform}, attribution.Linear{})
	require.NoError(t, err)
	found := false
	for _, g := range cmp.Results[0].Groups {
		if g.Key == "Microsoft Ads" {
			found = true
			assert.InDelta(t, 2.0/3, g.Conversions, 1e-9, "Service.Attribute agrees")
		}
	}
	assert.True(t, found, "the reports credit Microsoft Ads: %+v", cmp.Results[0].Groups)

	_, err = h.svc.ConversionCredit(ctx, "call:fake/none", attribution.Linear{}, ClickPlatform, "Microsoft Ads")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestCreditForGivesTheModelNameAndShare(t *testing.T) {
	h := newHarness(t, testConfig())
	id := creditJourney(t, h)
	tp, err := h.svc.store.Touchpoint(context.Background(), id)
	require.NoError(t, err)
	credit := h.svc.CreditFor(attribution.Linear{}, ClickPlatform, "Microsoft Ads")
	conv := journey.Conversion{ID: id, At: tp.At, Currency: "USD", Value: 25000}
	model, share, err := credit(context.Background(), export.Event{Conversion: &conv})
	require.NoError(t, err)
	assert.Equal(t, "linear", model)
	assert.InDelta(t, 2.0/3, share, 1e-9)

	_, _, err = credit(context.Background(), export.Event{})
	assert.Error(t, err, "no conversion")
}
