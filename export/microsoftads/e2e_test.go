package microsoftads_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/microsoftads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
)

// newService is a dni.Service exporting to the Microsoft Ads sink, which
// takes its credit from the service's linear model.
func newService(t *testing.T, clk *dnitest.Clock, apiURL string) *dnitest.Harness {
	t.Helper()
	var h *dnitest.Harness
	cfg := config(apiURL, &tokens{list: []string{"tok-1"}})
	cfg.Now = clk.Now
	// The sink is built before the exporter and the service it reads.
	cfg.Credit = func(ctx context.Context, ev export.Event) (string, float64, error) {
		return h.Service.CreditFor(attribution.Linear{}, dni.ClickPlatform, "Microsoft Ads")(ctx, ev)
	}
	cfg.ConversionTime = microsoftads.SentConversionTime(func() microsoftads.Outbox { return h.Exporter }, "microsoftads")
	sink := newSink(t, cfg)
	h = dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools:       []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		Qualify:     []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}, Clock: clk, Sinks: []export.Sink{sink}})
	return h
}

// Email, then a Microsoft Ads click (msclkid) with ads consent, then a
// qualified call: Microsoft gets one offline conversion with the linear
// model's credit, 2/3; the job won later is one restatement; a visit
// without consent sends nothing.
func TestAQualifiedCallReachesMicrosoftOnceThroughTheService(t *testing.T) {
	for _, consent := range []bool{true, false} {
		t.Run(map[bool]string{true: "consent", false: "no consent"}[consent], func(t *testing.T) {
			start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			clk := dnitest.NewClock(start)
			api := newStandIn(t, start.Add(30*24*time.Hour))
			s := newService(t, clk, api.srv.URL)
			ctx := context.Background()

			a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email",
				AdIDs: journey.AdIDs{Consent: consent}})
			clk.Advance(2 * time.Hour)
			b := s.Visit(t, dni.VisitRequest{VisitorID: a.VisitorID, URL: "https://example-plumbing.com/?msclkid=msclk-1",
				AdIDs: journey.AdIDs{Consent: consent}})
			require.NotEmpty(t, b.Swaps)
			clk.Advance(time.Minute)
			s.Call(t, fake.Call{ID: "CA1", From: "+12125550123", To: b.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
			s.Close(t)
			s.DeliverAll(t)

			convs, _ := api.accepted()
			if !consent {
				assert.Empty(t, convs)
				assert.Zero(t, api.requests, "nothing sent without consent")
				return
			}
			require.Len(t, convs, 1)
			c := convs[0]
			assert.Equal(t, "msclk-1", c.MicrosoftClickId)
			assert.Equal(t, 250.0, *c.ConversionValue)
			assert.Equal(t, "USD", c.ConversionCurrencyCode)
			assert.Equal(t, "linear", c.ExternalAttributionModel)
			assert.InDelta(t, 2.0/3, *c.ExternalAttributionCredit, 1e-9, "linear over email, the Microsoft Ads visit and the call it led to, as the reports credit it")

			clk.Advance(24 * time.Hour)
			require.NoError(t, s.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
				dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
			s.DeliverAll(t)
			convs, adjs := api.accepted()
			assert.Len(t, convs, 1, "no second conversion")
			require.Len(t, adjs, 1)
			adj := adjs[0]
			assert.Equal(t, "Restate", adj.AdjustmentType)
			assert.Equal(t, 900.0, *adj.AdjustmentValue)
			assert.Equal(t, c.ConversionTime, adj.ConversionTime, "names the conversion as sent")
			assert.Equal(t, microsoftads.Time(clk.Now()), adj.AdjustmentTime)

			rep, err := s.Exporter.Report(ctx)
			require.NoError(t, err)
			require.Len(t, rep, 1)
			assert.Equal(t, 2, rep[0].Accepted)
			assert.Zero(t, rep[0].Rejected+rep[0].Pending)
		})
	}
}
