package dni

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

// The Service's attribution equals the attribution package's on the same
// data: the facade adds reading, not judgement. The data holds converting
// and non-converting visitors (Markov and Shapley learn from both) and
// conversions without value.
func TestServiceAttributionEqualsThePackages(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	svc, err := New(testConfig(), WithStore(st))
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })

	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	channels := []classify.Channel{classify.ChannelPaidSearch, classify.ChannelOrganicSearch, classify.ChannelEmail,
		classify.ChannelDirect, classify.ChannelOrganicSocial, classify.ChannelReferral}
	rng := rand.New(rand.NewPCG(7, 11))
	var want []attribution.Journey
	for v := range 300 {
		visitor := fmt.Sprintf("v%03d", v)
		var tps []journey.Touchpoint
		at := start.Add(time.Duration(v) * time.Hour)
		for i := range 1 + rng.IntN(4) {
			at = at.Add(time.Duration(1+rng.IntN(48)) * time.Hour)
			tp := journey.Touchpoint{ID: fmt.Sprintf("session:%s-%d", visitor, i), Kind: journey.TouchSession, At: at,
				VisitorID: visitor, Source: classify.Source{Channel: channels[rng.IntN(len(channels))]}}
			require.NoError(t, st.AddTouchpoint(ctx, tp))
			tps = append(tps, tp)
		}
		j := attribution.Journey{ID: visitor, Touchpoints: tps}
		if rng.IntN(10) < 4 {
			c := journey.Conversion{ID: "conv-" + visitor, Type: journey.ConversionPurchase, At: at.Add(time.Minute),
				VisitorID: visitor, Value: int64(rng.IntN(3)) * 10000, Currency: "USD"} // a third without value
			require.NoError(t, st.PutConversion(ctx, c))
			j.Conversion = &c
		}
		want = append(want, j)
	}
	from, to := start, start.Add(60*24*time.Hour)
	got, err := svc.Attribute(ctx, from, to, attribution.Options{})
	require.NoError(t, err)
	direct, err := attribution.Compare(want, attribution.Options{})
	require.NoError(t, err)
	require.Len(t, got.Results, len(direct.Results))
	for i, r := range got.Results {
		w := direct.Results[i]
		assert.Equal(t, w.Model, r.Model)
		assert.Equal(t, w.Unattributed, r.Unattributed, "model %s", r.Model)
		require.Len(t, r.Groups, len(w.Groups), "model %s", r.Model)
		for k, g := range r.Groups {
			// Values are exact integers; fractional conversions are summed
			// in journey order, which the store does not keep.
			assert.Equal(t, w.Groups[k].Key, g.Key, "model %s", r.Model)
			assert.Equal(t, w.Groups[k].Value, g.Value, "model %s, %s", r.Model, g.Key)
			assert.InDelta(t, w.Groups[k].Conversions, g.Conversions, 1e-9, "model %s, %s", r.Model, g.Key)
		}
	}
}

// Through webhooks, as a user pays for it: a paid-search visitor's call, a
// flyer's call to a dedicated number (no session) and a short call. Every
// model's credit sums to the revenue of the qualified calls.
func TestEveryModelSumsToTheCallRevenue(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	webhook := h.srv.URL + DefaultPrefix + "webhooks/fake"
	tracking := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"}).Swaps[0].Number
	h.clock.add(time.Minute)
	for _, c := range []fake.Call{
		{ID: "paid", From: caller, To: tracking, Answered: true, Duration: 3 * time.Minute},
		{ID: "flyer", From: "+12125550188", To: printNumber, Answered: true, Duration: 4 * time.Minute},
		{ID: "short", From: "+12125550199", To: printNumber, Answered: true, Duration: 10 * time.Second},
	} {
		_, err := h.caller.PlaceCall(ctx, webhook, c)
		require.NoError(t, err)
	}
	waitFor(t, "both qualified calls recorded", func() bool {
		convs, err := h.svc.store.ConversionsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
		return err == nil && len(convs) == 2
	})
	cmp, err := h.svc.Attribute(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour), attribution.Options{})
	require.NoError(t, err)
	for _, r := range cmp.Results {
		var credited int64
		for _, g := range r.Groups {
			credited += g.Value
		}
		assert.Equal(t, int64(50000), credited+r.Unattributed.Value, "model %s", r.Model)
		assert.Zero(t, r.Unattributed.Value, "model %s: the flyer's call is credited to the flyer", r.Model)
		offline, ok := r.Group("Offline")
		assert.True(t, ok, "model %s", r.Model)
		assert.Equal(t, int64(25000), offline.Value, "model %s", r.Model)
	}
}
