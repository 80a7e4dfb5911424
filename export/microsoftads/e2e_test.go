package microsoftads_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/microsoftads"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

var fakeSecret = []byte("fake-secret")

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// service is a dni.Service exporting to the Microsoft Ads sink, which
// takes its credit from the service's linear model.
type service struct {
	svc    *dni.Service
	srv    *httptest.Server
	x      *export.Exporter
	caller *fake.Caller
}

func newService(t *testing.T, clk *clock, apiURL string) *service {
	t.Helper()
	var svc *dni.Service
	var x *export.Exporter
	cfg := config(apiURL, &tokens{list: []string{"tok-1"}})
	cfg.Now = clk.now
	// The sink is built before the exporter and the service it reads.
	cfg.Credit = func(ctx context.Context, ev export.Event) (string, float64, error) {
		return svc.CreditFor(attribution.Linear{}, dni.ClickPlatform, "Microsoft Ads")(ctx, ev)
	}
	cfg.ConversionTime = microsoftads.SentConversionTime(func() microsoftads.Outbox { return x }, "microsoftads")
	sink := newSink(t, cfg)
	prov, err := fake.New(fake.Config{Secret: fakeSecret, Clock: clk.now})
	require.NoError(t, err)
	st := memstore.New()
	x, err = export.New(st, export.Config{Now: clk.now}, sink)
	require.NoError(t, err)
	svc, err = dni.New(dni.Config{
		Pools:       []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		Qualify:     []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()), dni.WithExports(x), dni.WithClock(clk.now))
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = svc.Close()
	})
	return &service{svc: svc, srv: srv, x: x, caller: &fake.Caller{Secret: fakeSecret, Clock: clk.now}}
}

func (s *service) visit(t *testing.T, req dni.VisitRequest) dni.Assignment {
	t.Helper()
	b, err := json.Marshal(req)
	require.NoError(t, err)
	hreq, err := http.NewRequest(http.MethodPost, s.srv.URL+dni.DefaultPrefix+"v1/visit", bytes.NewReader(b))
	require.NoError(t, err)
	hreq.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	hreq.Header.Set("User-Agent", browserUA) // requests without one are taken for bots
	res, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var a dni.Assignment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	return a
}

func (s *service) deliverAll(t *testing.T) {
	t.Helper()
	for range 10 {
		n, err := s.x.DeliverDue(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
	t.Fatal("the outbox never emptied")
}

// Email, then a Microsoft Ads click (msclkid) with ads consent, then a
// qualified call: Microsoft gets one offline conversion with the linear
// model's credit, 2/3; the job won later is one restatement; a visit
// without consent sends nothing.
func TestAQualifiedCallReachesMicrosoftOnceThroughTheService(t *testing.T) {
	for _, consent := range []bool{true, false} {
		t.Run(map[bool]string{true: "consent", false: "no consent"}[consent], func(t *testing.T) {
			start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
			clk := &clock{t: start}
			api := newStandIn(t, start.Add(30*24*time.Hour))
			s := newService(t, clk, api.srv.URL)
			ctx := context.Background()

			a := s.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email",
				AdIDs: journey.AdIDs{Consent: consent}})
			clk.add(2 * time.Hour)
			b := s.visit(t, dni.VisitRequest{VisitorID: a.VisitorID, URL: "https://example-plumbing.com/?msclkid=msclk-1",
				AdIDs: journey.AdIDs{Consent: consent}})
			require.NotEmpty(t, b.Swaps)
			clk.add(time.Minute)
			_, err := s.caller.PlaceCall(ctx, s.srv.URL+dni.DefaultPrefix+"webhooks/fake",
				fake.Call{ID: "CA1", From: "+12125550123", To: b.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
			require.NoError(t, err)
			require.NoError(t, s.svc.Close())
			s.deliverAll(t)

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

			clk.add(24 * time.Hour)
			require.NoError(t, s.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
				dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
			s.deliverAll(t)
			convs, adjs := api.accepted()
			assert.Len(t, convs, 1, "no second conversion")
			require.Len(t, adjs, 1)
			adj := adjs[0]
			assert.Equal(t, "Restate", adj.AdjustmentType)
			assert.Equal(t, 900.0, *adj.AdjustmentValue)
			assert.Equal(t, c.ConversionTime, adj.ConversionTime, "names the conversion as sent")
			assert.Equal(t, microsoftads.Time(clk.now()), adj.AdjustmentTime)

			rep, err := s.x.Report(ctx)
			require.NoError(t, err)
			require.Len(t, rep, 1)
			assert.Equal(t, 2, rep[0].Accepted)
			assert.Zero(t, rep[0].Rejected+rep[0].Pending)
		})
	}
}
