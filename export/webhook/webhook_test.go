package webhook_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/webhooksig"
)

var (
	t0     = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	secret = []byte("whsec_test")
)

func event(id string) export.Event {
	call := provider.CallEvent{Provider: "twilio", CallID: id, From: "+14155550123", To: "+14155550100",
		Status: provider.StatusCompleted, StartedAt: t0.Add(-5 * time.Minute), Duration: 2 * time.Minute}
	conv := journey.Conversion{ID: "call:twilio/" + id, Type: journey.ConversionCall, At: t0.Add(-3 * time.Minute),
		Value: 12345, Currency: "EUR", CallProvider: "twilio", CallID: id}
	return export.Event{Conversion: &conv, Call: &call, Source: classify.Source{Source: "google", Medium: "cpc", Campaign: "spring"}}
}

func newSink(t *testing.T, url string, timeout time.Duration) *webhook.Sink {
	t.Helper()
	s, err := webhook.New(webhook.Config{URL: url, Secret: secret, Timeout: timeout, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	return s
}

func newExporter(t *testing.T, sink export.Sink) (*export.Exporter, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	x, err := export.New(st, export.Config{Now: func() time.Time { return t0 }, Rand: func() float64 { return 0 },
		Logger: slog.New(slog.DiscardHandler)}, sink)
	require.NoError(t, err)
	t.Cleanup(func() { _ = x.Close() })
	return x, st
}

func TestDeliversSignedJSONWithIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var got []webhook.Body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.VerifySignature(secret, r.Header.Get(webhook.SignatureHeader), body, t0.Add(time.Minute), 0); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusBadRequest)
			return
		}
		var b webhook.Body
		if err := json.Unmarshal(body, &b); err != nil || b.ID != r.Header.Get(webhook.IdempotencyHeader) {
			http.Error(w, "id mismatch", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	x, _ := newExporter(t, newSink(t, srv.URL, 0))
	require.NoError(t, x.Record(t.Context(), event("CA1")))
	n, err := x.DeliverDue(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m, err := x.Message(t.Context(), "webhook/call:twilio/CA1")
	require.NoError(t, err)
	require.Equal(t, store.OutboxDelivered, m.State, m.LastError)
	require.Len(t, got, 1)
	b := got[0]
	require.Equal(t, "webhook/call:twilio/CA1", b.ID)
	require.Equal(t, "conversion", b.Type)
	require.Equal(t, 1, b.Attempt)
	require.Equal(t, int64(12345), b.Conversion.Value)
	require.Equal(t, "EUR", b.Conversion.Currency)
	require.Equal(t, "+14155550123", b.Call.From)
	require.Equal(t, "spring", b.Source.Campaign)
}

func TestReceiverFailuresAreRetriedOrDeadLettered(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		state   store.OutboxState
		nextAt  time.Duration // when pending; 0 with Rand 0 means "retry at once"
		errHas  string
	}{
		{"ServerError", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) }, 0, store.OutboxPending, 0, "HTTP 500: oops"},
		{"BadGateway", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(502) }, 0, store.OutboxPending, 0, "HTTP 502"},
		{"TooManyRequestsWithRetryAfter", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		}, 0, store.OutboxPending, 2 * time.Minute, "HTTP 429"},
		{"RequestTimeout", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(408) }, 0, store.OutboxPending, 0, "HTTP 408"},
		{"BadRequest", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such field", 400) }, 0, store.OutboxDead, 0, "HTTP 400: no such field"},
		{"Gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }, 0, store.OutboxDead, 0, "HTTP 410"},
		{"Slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(time.Second):
			}
		}, 100 * time.Millisecond, store.OutboxPending, 0, "deadline exceeded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			x, _ := newExporter(t, newSink(t, srv.URL, c.timeout))
			require.NoError(t, x.Record(t.Context(), event("CA1")))
			_, err := x.DeliverDue(t.Context())
			require.NoError(t, err)
			m, err := x.Message(t.Context(), "webhook/call:twilio/CA1")
			require.NoError(t, err)
			require.Equal(t, c.state, m.State)
			require.Contains(t, m.LastError, c.errHas)
			if c.state == store.OutboxPending {
				require.Equal(t, t0.Add(c.nextAt), m.NextAt)
			}
		})
	}
	t.Run("Down", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close() // nothing listens there any more
		x, _ := newExporter(t, newSink(t, url, time.Second))
		require.NoError(t, x.Record(t.Context(), event("CA1")))
		_, err := x.DeliverDue(t.Context())
		require.NoError(t, err)
		m, err := x.Message(t.Context(), "webhook/call:twilio/CA1")
		require.NoError(t, err)
		require.Equal(t, store.OutboxPending, m.State)
		require.Contains(t, m.LastError, "connect")
	})
}

// VerifySignature is webhooksig.Verify, whose own table covers every
// failure; this checks that receivers of this package's requests get
// webhooksig's sentinels, under their new names and their earlier ones.
func TestVerifySignatureIsWebhooksig(t *testing.T) {
	body := []byte(`{"id":"webhook/c1"}`)
	good := webhook.Sign(secret, body, t0)
	require.Equal(t, webhooksig.Sign(secret, body, t0), good)
	_, v1, _ := strings.Cut(good, ",")
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"Valid", good, body, t0.Add(webhook.DefaultTolerance), nil},
		{"Empty", "", body, t0, webhooksig.ErrMissingSignature},
		{"NoEquals", "garbage", body, t0, webhooksig.ErrMalformedSignature},
		{"NoTimestamp", v1, body, t0, webhooksig.ErrMissingTimestamp},
		{"TooOld", good, body, t0.Add(webhook.DefaultTolerance + time.Second), webhooksig.ErrStaleTimestamp},
		{"TamperedBody", good, []byte(`{"id":"webhook/c2"}`), t0, webhooksig.ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.VerifySignature(secret, c.header, c.body, c.now, 0)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, c.want)
		})
	}
	require.ErrorIs(t, webhook.VerifySignature(nil, good, body, t0, 0), webhooksig.ErrNoSecret,
		"an empty secret accepts nothing: anyone can compute an HMAC under it")

	earlier := []error{webhook.ErrNoSignature, webhook.ErrMalformedHeader, webhook.ErrTimestampExpired, webhook.ErrBadSignature}
	now := []error{webhooksig.ErrMissingSignature, webhooksig.ErrMalformedSignature, webhooksig.ErrStaleTimestamp, webhooksig.ErrBadSignature}
	for i := range earlier {
		require.Same(t, now[i], earlier[i])
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := webhook.New(webhook.Config{URL: "ftp://x", Timeout: -1})
	require.Error(t, err)
	for _, want := range []string{"Config.URL", "Config.Secret", "Config.Timeout"} {
		require.Contains(t, err.Error(), want)
	}
	s, err := webhook.New(webhook.Config{URL: "https://example.com/hook", Secret: secret})
	require.NoError(t, err)
	require.Equal(t, "webhook", s.Name())
}
