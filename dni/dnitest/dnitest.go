package dnitest

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

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

// Start is where a [Clock] made by [New] starts.
var Start = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// BrowserUA is the User-Agent [Harness.Visit] sends: requests without a
// browser's are taken for bots.
const BrowserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// WebhookSecret signs the fake provider's webhooks.
var WebhookSecret = []byte("fake-secret")

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Config is what a test chooses; the rest is fixed.
type Config struct {
	// DNI configures the service.
	DNI dni.Config
	// Clock drives the service, the exporter, the fake provider and its
	// caller; nil means a new [Clock] at [Start]. [Harness.Clock] returns it.
	Clock *Clock
	// Now, when set, is used instead of Clock: for a test whose fakes
	// already run on a clock of their own.
	Now func() time.Time
	// Export configures the exporter; its Now is set to Now, and a nil
	// Logger discards.
	Export export.Config
	// Sinks receive the service's conversions.
	Sinks []export.Sink
}

// Harness is a running [dni.Service] served over HTTP.
type Harness struct {
	Service  *dni.Service
	Exporter *export.Exporter
	URL      string // the test server's base URL

	now    func() time.Time
	clock  *Clock
	caller *fake.Caller
}

// New builds and serves the service; opts follow the harness's own
// (memstore, fake provider, spool directory, clock, exporter, a discarding
// logger) and so may override them. Cleanup closes the server and the
// service.
func New(t testing.TB, cfg Config, opts ...dni.Option) *Harness {
	t.Helper()
	h := &Harness{now: cfg.Now}
	if h.now == nil {
		h.clock = cfg.Clock
		if h.clock == nil {
			h.clock = NewClock(Start)
		}
		h.now = h.clock.Now
	}
	prov, err := fake.New(fake.Config{Secret: WebhookSecret, Clock: h.now})
	if err != nil {
		t.Fatalf("dnitest: fake provider: %v", err)
	}
	st := memstore.New()
	xcfg := cfg.Export
	xcfg.Now = h.now
	if xcfg.Logger == nil {
		xcfg.Logger = slog.New(slog.DiscardHandler)
	}
	h.Exporter, err = export.New(st, xcfg, cfg.Sinks...)
	if err != nil {
		t.Fatalf("dnitest: exporter: %v", err)
	}
	base := []dni.Option{dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(t.TempDir()),
		dni.WithExports(h.Exporter), dni.WithClock(h.now), dni.WithLogger(slog.New(slog.DiscardHandler))}
	h.Service, err = dni.New(cfg.DNI, append(base, opts...)...)
	if err != nil {
		t.Fatalf("dnitest: service: %v", err)
	}
	srv := httptest.NewServer(h.Service.Handler())
	h.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		_ = h.Service.Close()
	})
	h.caller = &fake.Caller{Secret: WebhookSecret, Clock: h.now}
	return h
}

// Clock returns the harness's clock, or nil when [Config.Now] was given.
func (h *Harness) Clock() *Clock { return h.clock }

// Advance moves the harness's clock on by d; it fails the test when
// [Config.Now] was given, since that clock is the test's to move.
func (h *Harness) Advance(t testing.TB, d time.Duration) {
	t.Helper()
	if h.clock == nil {
		t.Fatal("dnitest: Advance on a harness whose clock the test supplied")
	}
	h.clock.Advance(d)
}

// Visit posts req to v1/visit as the tracker does, with a browser's
// User-Agent, requires 200 and returns the assignment.
func (h *Harness) Visit(t testing.TB, req dni.VisitRequest) dni.Assignment {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatalf("dnitest: visit: %v", err)
	}
	hreq, err := http.NewRequest(http.MethodPost, h.URL+dni.DefaultPrefix+"v1/visit", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("dnitest: visit: %v", err)
	}
	hreq.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	hreq.Header.Set("User-Agent", BrowserUA)
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatalf("dnitest: visit: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("dnitest: visit: status %d, want 200", res.StatusCode)
	}
	var a dni.Assignment
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("dnitest: visit: %v", err)
	}
	return a
}

// Call places call through the fake provider's webhook and returns the
// routing answer.
func (h *Harness) Call(t testing.TB, call fake.Call) fake.Answer {
	t.Helper()
	ans, err := h.caller.PlaceCall(context.Background(), h.URL+dni.DefaultPrefix+"webhooks/fake", call)
	if err != nil {
		t.Fatalf("dnitest: call %s: %v", call.ID, err)
	}
	return ans
}

// Close closes the service, which drains what it has still to write.
func (h *Harness) Close(t testing.TB) {
	t.Helper()
	if err := h.Service.Close(); err != nil {
		t.Fatalf("dnitest: close: %v", err)
	}
}

// DeliverAll delivers the exporter's due messages until none is due,
// failing the test if that takes more than ten rounds.
func (h *Harness) DeliverAll(t testing.TB) {
	t.Helper()
	for range 10 {
		n, err := h.Exporter.DeliverDue(context.Background())
		if err != nil {
			t.Fatalf("dnitest: deliver: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("dnitest: the outbox never emptied")
}
