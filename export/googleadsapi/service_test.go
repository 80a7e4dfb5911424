package googleadsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var webhookSecret = []byte("fake-secret")

// service is a dni.Service exporting to a Google Ads API sink aimed at
// the stand-in.
type service struct {
	svc    *dni.Service
	srv    *httptest.Server
	x      *export.Exporter
	caller *fake.Caller
}

func newService(t *testing.T, clk *clock, ads *fakeAds) *service {
	t.Helper()
	prov, err := fake.New(fake.Config{Secret: webhookSecret, Clock: clk.now})
	require.NoError(t, err)
	sink := newSink(t, ads, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = true })
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: clk.now, Rand: func() float64 { return 0 }, Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	svc, err := dni.New(dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102"}, BusinessNumber: "+14155550000"},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}},
		},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()), dni.WithExports(x), dni.WithClock(clk.now),
		dni.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = svc.Close()
	})
	return &service{svc: svc, srv: srv, x: x, caller: &fake.Caller{Secret: webhookSecret, Clock: clk.now}}
}

func (s *service) visit(t *testing.T, req dni.VisitRequest) dni.Assignment {
	t.Helper()
	b, err := json.Marshal(req)
	require.NoError(t, err)
	hreq, err := http.NewRequest(http.MethodPost, s.srv.URL+dni.DefaultPrefix+"v1/visit", bytes.NewReader(b))
	require.NoError(t, err)
	hreq.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	hreq.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	res, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var a dni.Assignment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	require.NotEmpty(t, a.Swaps)
	return a
}

func (s *service) call(t *testing.T, id string, a dni.Assignment) {
	t.Helper()
	_, err := s.caller.PlaceCall(context.Background(), s.srv.URL+dni.DefaultPrefix+"webhooks/fake",
		fake.Call{ID: id, From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
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

// A paid-search visit with a gclid and ads consent calls and qualifies:
// Google Ads accepts exactly one click conversion, with the caller's
// hashed number; the value set by hand a day later is exactly one
// restatement of it; a visit without consent sends nothing.
func TestQualifiedCallThroughTheService(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	s := newService(t, clk, ads)
	a := s.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw-e2e",
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{Consent: true, AdUserData: "granted"}})
	clk.add(time.Minute)
	s.call(t, "CA1", a)
	require.NoError(t, s.svc.Close())
	s.deliverAll(t)

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
	require.NoError(t, s.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
		dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.deliverAll(t)
	_, clicks, adjs, _ := ads.snapshot()
	assert.Len(t, clicks, 1, "a changed value is not a second conversion")
	require.Len(t, adjs, 1, "exactly one adjustment")
	assert.Equal(t, "RESTATEMENT", adjs[0].AdjustmentType)
	assert.Equal(t, got.OrderID, adjs[0].OrderID)
	assert.Equal(t, "900.00", string(adjs[0].RestatementValue.AdjustedValue))
	dead, err := s.x.ByState(ctx, store.OutboxDead, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

func TestAVisitWithoutConsentSendsNothing(t *testing.T) {
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	s := newService(t, clk, ads)
	a := s.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw-none",
		Referrer: "https://www.google.com/"})
	clk.add(time.Minute)
	s.call(t, "CA2", a)
	require.NoError(t, s.svc.Close())
	s.deliverAll(t)
	clk.add(25 * time.Hour)
	require.NoError(t, s.svc.SetOutcome(context.Background(), journey.CallTouchpointID(fake.Name, "CA2"),
		dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.deliverAll(t)
	_, clicks, adjs, headers := ads.snapshot()
	assert.Empty(t, clicks)
	assert.Empty(t, adjs)
	assert.Empty(t, headers, "no request at all")
}
