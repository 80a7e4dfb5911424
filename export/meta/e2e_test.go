package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/meta"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

var fakeSecret = []byte("fake-secret")

// service is a dni.Service exporting to the Meta sink, with its HTTP
// handler served and the fake provider's caller.
type service struct {
	svc    *dni.Service
	srv    *httptest.Server
	x      *export.Exporter
	caller *fake.Caller
}

func newService(t *testing.T, clk *clock, sink *meta.Sink) *service {
	t.Helper()
	prov, err := fake.New(fake.Config{Secret: fakeSecret, Clock: clk.now})
	require.NoError(t, err)
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: clk.now}, sink)
	require.NoError(t, err)
	cfg := dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		// A two-minute answered call qualifies at $250.
		Qualify:     []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}
	svc, err := dni.New(cfg, dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()), dni.WithExports(x), dni.WithClock(clk.now))
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
	hreq.Header.Set("User-Agent", browserUA)
	res, err := http.DefaultClient.Do(hreq)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var a dni.Assignment
	require.NoError(t, json.NewDecoder(res.Body).Decode(&a))
	return a
}

func (s *service) call(t *testing.T, id, to string) {
	t.Helper()
	_, err := s.caller.PlaceCall(context.Background(), s.srv.URL+dni.DefaultPrefix+"webhooks/fake",
		fake.Call{ID: id, From: "+12125550123", To: to, Answered: true, Duration: 2 * time.Minute})
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

// A paid social visit with an fbclid and ads consent calls and qualifies:
// one Lead reaches Meta with the fbc built from the fbclid, the fbp and
// the hashed caller; the job won later is one Purchase (with
// RestateEventName; nothing without it); a visit without consent sends
// nothing.
func TestAQualifiedCallReachesMetaOnceThroughTheService(t *testing.T) {
	for _, tc := range []struct {
		name     string
		consent  bool
		restate  string
		events   []string // event names Meta keeps, in order
		adjusted bool
	}{
		{"consent, restatements sent", true, "Purchase", []string{"Lead", "Purchase"}, true},
		{"consent, restatements not sent (the default)", true, "", []string{"Lead"}, false},
		{"no consent", false, "Purchase", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: t0}
			c := newCAPI(t, clk.now)
			sink := newSink(t, c, func(cfg *meta.Config) { cfg.Now, cfg.RestateEventName = clk.now, tc.restate })
			s := newService(t, clk, sink)
			ctx := context.Background()

			a := s.visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&fbclid=IwAR0abc",
				AdIDs: journey.AdIDs{Consent: tc.consent, FBP: "fb.1.1772445500000.987654321"}})
			require.NotEmpty(t, a.Swaps)
			clk.add(time.Minute)
			s.call(t, "CA1", a.Swaps[0].Number)
			require.NoError(t, s.svc.Close())
			s.deliverAll(t)

			clk.add(24 * time.Hour)
			require.NoError(t, s.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
				dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
			s.deliverAll(t)

			kept := c.keptEvents()
			var names []string
			for _, ev := range kept {
				names = append(names, ev["event_name"].(string))
			}
			assert.Equal(t, tc.events, names)
			assert.Equal(t, len(tc.events), c.received(), "nothing sent twice")
			if len(kept) == 0 {
				assert.Zero(t, c.requestCount(), "nothing sent without consent")
				return
			}
			lead := kept[0]
			assert.Equal(t, "meta/call:fake/CA1", lead["event_id"])
			assert.Equal(t, "phone_call", lead["action_source"])
			assert.Equal(t, map[string]any{"value": json.Number("250.00"), "currency": "usd"}, lead["custom_data"])
			ud := lead["user_data"].(map[string]any)
			assert.Regexp(t, `^fb\.1\.[0-9]+\.IwAR0abc$`, ud["fbc"], "fbc built from the fbclid")
			assert.Equal(t, "fb.1.1772445500000.987654321", ud["fbp"])
			assert.Equal(t, []any{sha("12125550123")}, ud["ph"])
			if tc.adjusted {
				purchase := kept[1]
				assert.Equal(t, map[string]any{"value": json.Number("900.00"), "currency": "usd"}, purchase["custom_data"])
				assert.Regexp(t, `^meta/adjust:.+/v1$`, purchase["event_id"])
				assert.Equal(t, json.Number("1772532060"), purchase["event_time"], "the time the job was won")
			}
			rep, err := s.x.Report(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(tc.events), rep[0].Accepted)
			assert.Zero(t, rep[0].Rejected+rep[0].Pending)
		})
	}
}
