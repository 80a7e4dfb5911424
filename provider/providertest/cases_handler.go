package providertest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// routed is the number the harness's route forwards every call to.
const routed = "+12125550123"

func (s *suite) handlerAnswersWithTheForward(t *testing.T) {
	h := s.newHarness(t)
	code, body := h.send(t, http.MethodPost, s.signed(s.fx.Inbound(sample)))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	to, _, err := s.fx.ParseForward(provider.Answer{ContentType: "application/xml", Body: body})
	if err != nil || to != routed {
		t.Fatalf("answer dials %q (%v):\n%s", to, err, body)
	}
	h.settle(t, 1)
}

func (s *suite) callbacksConverge(t *testing.T) {
	h := s.newHarness(t)
	reqs := []*provider.Request{
		s.fx.Status(sample, provider.StatusCompleted, 93*time.Second),
		s.fx.Inbound(sample),
		s.fx.Status(sample, provider.StatusCompleted, 93*time.Second),
		s.fx.Status(sample, provider.StatusRinging, 0),
		s.fx.Inbound(sample),
	}
	n := 0
	for _, r := range reqs {
		if r == nil {
			continue // no ringing callback (Features.NoRingingCallback)
		}
		n++
		if code, body := h.send(t, http.MethodPost, s.signed(r)); code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
	}
	h.settle(t, n)
	calls := h.recorder.Calls()
	if len(calls) != 1 {
		t.Fatalf("recorded %d calls, want 1: %v", len(calls), calls)
	}
	got, _ := h.recorder.Call(s.fx.Provider.Name(), sample.ID)
	if got.Status != provider.StatusCompleted || got.Duration != 93*time.Second || got.From != sample.From {
		t.Fatalf("converged to status %q duration %s from %q, want completed 1m33s %s", got.Status, got.Duration, got.From, sample.From)
	}
}

func (s *suite) handlerRefusesUnsigned(t *testing.T) {
	want := http.StatusForbidden
	if _, ok := s.fx.Provider.(provider.Challenger); ok {
		want = http.StatusUnauthorized // challenged to send its credentials
	}
	s.refused(t, http.MethodPost, s.fx.Inbound(sample), want)
}

func (s *suite) handlerRefusesAnotherSecret(t *testing.T) {
	r := s.fx.Inbound(sample)
	s.fx.SignWrongSecret(r, s.fx.Now)
	s.refused(t, http.MethodPost, r, http.StatusForbidden)
}

func (s *suite) handlerRefusesTampered(t *testing.T) {
	if s.features.CredentialsOnly {
		t.Skip("the scheme signs nothing (Features.CredentialsOnly)")
	}
	s.refused(t, http.MethodPost, s.tampered(t), http.StatusForbidden)
}

func (s *suite) handlerRefusesGET(t *testing.T) {
	if g, ok := s.fx.Provider.(provider.GETAnswerer); ok && g.AnswersGET() {
		t.Skip("the vendor may send webhooks by GET (provider.GETAnswerer); the adapter tests its GET answer")
	}
	s.refused(t, http.MethodGet, s.signed(s.fx.Inbound(sample)), http.StatusMethodNotAllowed)
}

func (s *suite) handlerRefusesOversized(t *testing.T) {
	h := s.newHarness(t)
	big := s.signed(s.fx.Inbound(sample))
	big.Body = append(big.Body, bytes.Repeat([]byte(" "), 2*maxBody)...)
	// Served in process: over a real connection the server's lingering
	// close after a 413 costs half a second per run.
	u, _ := url.Parse(big.URL)
	r := httptest.NewRequest(http.MethodPost, u.RequestURI(), bytes.NewReader(big.Body))
	r.Host = u.Host
	for k, v := range big.Header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.handler.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", w.Code, w.Body)
	}
	h.nothingKept(t)
}

// refused sends r with method and expects status want, with nothing of the
// request spooled or recorded.
func (s *suite) refused(t *testing.T, method string, r *provider.Request, want int) {
	t.Helper()
	h := s.newHarness(t)
	if code, body := h.send(t, method, r); code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	h.nothingKept(t)
}

func (s *suite) answeredWhileStoreIsDown(t *testing.T) {
	h := s.newHarness(t)
	h.recorder.SetDown(true)
	if code, body := h.send(t, http.MethodPost, s.signed(s.fx.Inbound(sample))); code != http.StatusOK {
		t.Fatalf("status %d with store down: %s", code, body)
	}
	// The answer came after the event was fsynced in the spool.
	if h.ingest.Stats().Spooled != 1 {
		t.Fatalf("event was not spooled before the answer: %+v", h.ingest.Stats())
	}
	h.recorder.SetDown(false)
	h.settle(t, 1)
	if _, ok := h.recorder.Call(s.fx.Provider.Name(), sample.ID); !ok {
		t.Fatal("spooled call never reached the store")
	}
}

// maxBody is the harness handler's body limit.
const maxBody = 16 << 10

// harness serves the adapter through a real Handler over HTTP, recording
// into a MemoryRecorder.
type harness struct {
	handler  http.Handler
	srv      *httptest.Server
	recorder *MemoryRecorder
	ingest   *provider.Ingest
}

func (s *suite) newHarness(t *testing.T) *harness {
	t.Helper()
	base, _ := url.Parse(s.fx.Inbound(sample).URL) // absolute: checked by Run
	rec := NewMemoryRecorder()
	quiet := slog.New(slog.DiscardHandler)
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	RunIngest(t, in)
	route := func(ctx context.Context, ev provider.CallEvent) (provider.Forward, error) {
		return provider.Forward{To: routed}, nil
	}
	h, err := provider.NewHandler(s.fx.Provider, in, route, provider.HandlerConfig{
		PublicURL:    base.Scheme + "://" + base.Host,
		MaxBodyBytes: maxBody,
		Logger:       quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &harness{handler: h, srv: srv, recorder: rec, ingest: in}
}

// send posts a provider.Request to the harness at the request's path and
// query, keeping its headers.
func (h *harness) send(t *testing.T, method string, r *provider.Request) (int, []byte) {
	t.Helper()
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, h.srv.URL+u.RequestURI(), bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// settle waits until the recorder has taken writes events and the ingest
// has nothing left to deliver. It waits as long as the test may run (go
// test -timeout), not for a fixed time, so a slow machine cannot fail it.
func (h *harness) settle(t *testing.T, writes int) {
	t.Helper()
	done := func() bool { return h.recorder.Writes() >= writes && h.ingest.Stats().Pending == 0 }
	deadline, ok := t.Deadline()
	if ok {
		deadline = deadline.Add(-time.Until(deadline) / 20) // fail with the stats before the test binary panics
	}
	for !done() {
		if ok && time.Now().After(deadline) {
			t.Fatalf("recorder saw %d writes, want %d (stats %+v)", h.recorder.Writes(), writes, h.ingest.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// nothingKept fails t if the harness spooled or recorded anything.
func (h *harness) nothingKept(t *testing.T) {
	t.Helper()
	if h.recorder.Writes() != 0 || h.ingest.Stats().Spooled != 0 {
		t.Fatalf("a refused request was kept: %d writes, stats %+v", h.recorder.Writes(), h.ingest.Stats())
	}
}
