package ga4_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

var webhookSecret = []byte("fake-secret")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// service is a dni.Service exporting to a GA4 sink aimed at mp.
type service struct {
	svc    *dni.Service
	srv    *httptest.Server
	x      *export.Exporter
	clock  *clock
	caller *fake.Caller
}

func newService(t *testing.T, mp *mpStandIn) *service {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	prov, err := fake.New(fake.Config{Secret: webhookSecret, Clock: c.now})
	require.NoError(t, err)
	sink, err := ga4.New(ga4.Config{MeasurementID: "G-TEST123", APISecret: secret, BaseURL: mp.srv.URL,
		AdjustmentEventName: "lead_value_changed", Now: c.now})
	require.NoError(t, err)
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: c.now, Rand: func() float64 { return 0 }, Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	svc, err := dni.New(dni.Config{
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: []string{"+14155550101", "+14155550102"}, BusinessNumber: "+14155550000"},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}},
		},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
	}, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()), dni.WithExports(x), dni.WithClock(c.now),
		dni.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = svc.Close()
	})
	return &service{svc: svc, srv: srv, x: x, clock: c, caller: &fake.Caller{Secret: webhookSecret, Clock: c.now}}
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
		fake.Call{ID: id, From: "+12125550123", To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
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
// GA4 gets exactly one generate_lead for the visitor's client id; the
// value set later by hand is one restatement event; the call lost later
// sends nothing (GA4 cannot withdraw an event); a visit without consent
// sends nothing at all.
func TestQualifiedCallThroughTheService(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	s := newService(t, mp)
	a := s.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw",
		Referrer: "https://www.google.com/",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", GASessionID: "1772445600",
			AdUserData: "granted", AdPersonalization: "granted"}})
	s.clock.add(time.Minute)
	s.call(t, "CA1", a)
	require.NoError(t, s.svc.Close())
	s.deliverAll(t)

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

	s.clock.add(time.Hour)
	tp := journey.CallTouchpointID(fake.Name, "CA1")
	require.NoError(t, s.svc.SetOutcome(ctx, tp, dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s.deliverAll(t)
	got = mp.bodies()
	require.Len(t, got, 2, "exactly one adjustment")
	adj := got[1].Events[0]
	assert.Equal(t, "lead_value_changed", adj.Name)
	assert.JSONEq(t, `900.00`, string(adj.Params["value"]))
	assert.JSONEq(t, `"ga4/`+journey.CallConversionID(fake.Name, "CA1")+`"`, string(adj.Params["original_transaction_id"]))

	require.NoError(t, s.svc.SetOutcome(ctx, tp, dni.Outcome{Status: dni.OutcomeLost, Currency: "USD"}))
	s.deliverAll(t)
	assert.Len(t, mp.bodies(), 2, "a retraction is not sent")
	_, err := s.x.Message(ctx, "ga4/adjust:"+journey.CallConversionID(fake.Name, "CA1")+"/v2")
	assert.ErrorIs(t, err, store.ErrNotFound, "nor queued")

	// Without consent: the same path sends nothing.
	mp2 := newStandIn(t)
	s2 := newService(t, mp2)
	a2 := s2.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjx",
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{GAClientID: "1234567890.1700000000", AdUserData: "denied"}})
	s2.call(t, "CA2", a2)
	require.NoError(t, s2.svc.Close())
	s2.deliverAll(t)
	require.NoError(t, s2.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA2"), dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
	s2.deliverAll(t)
	assert.Empty(t, mp2.queries, "nothing sent without consent")
	assert.Zero(t, s2.x.Stats().Claimed, "nothing queued for GA4")
}
