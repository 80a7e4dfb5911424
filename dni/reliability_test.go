package dni

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// refusingStore refuses chosen calls for good, as a database refuses a
// record it cannot hold.
type refusingStore struct {
	store.Store
	mu      sync.Mutex
	refused map[string]bool
}

func (s *refusingStore) refuse(callID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[callID] = on
}

func (s *refusingStore) RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	s.mu.Lock()
	refused := s.refused[ev.CallID]
	s.mu.Unlock()
	if refused {
		return provider.CallEvent{}, fmt.Errorf("%w: the database refuses call %s", store.ErrInvalid, ev.CallID)
	}
	return s.Store.RecordCall(ctx, ev)
}

// waitFor polls cond; the deadline only ends a broken test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) call(t *testing.T, id, to string) fake.Answer {
	t.Helper()
	ans, err := h.caller.PlaceCall(context.Background(), h.srv.URL+DefaultPrefix+"webhooks/fake",
		fake.Call{ID: id, From: caller, To: to, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	return ans
}

func TestAPoisonCallIsDeadLetteredAndLaterCallsAreRecorded(t *testing.T) {
	st := &refusingStore{Store: memstore.New(), refused: map[string]bool{"poison": true}}
	h := newHarness(t, testConfig(), WithStore(st))
	ctx := context.Background()
	tracking := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"}).Swaps[0].Number

	assert.Equal(t, mainLine, h.call(t, "poison", tracking).To, "the poison caller is forwarded too")
	for i := range 10 {
		h.call(t, fmt.Sprint("later", i), tracking)
	}
	waitFor(t, "every later call recorded", func() bool {
		calls, err := st.CallsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
		return err == nil && len(calls) == 10
	})
	dl := h.svc.DeadLetters()
	require.NotEmpty(t, dl)
	for _, l := range dl {
		assert.Equal(t, "poison", l.Event.CallID)
		assert.Contains(t, l.Error, "refuses")
		assert.NotEmpty(t, l.Event.Raw, "the raw webhook is kept")
	}

	// Once the cause is fixed, a replay records the call and stitches it.
	st.refuse("poison", false)
	n, err := h.svc.ReplayDeadLetters(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(dl), n)
	assert.Empty(t, h.svc.DeadLetters())
	attr, err := st.Attribution(ctx, "fake", "poison")
	require.NoError(t, err)
	assert.Equal(t, classify.ChannelPaidSearch, attr.Source.Channel)
}

func TestAnUnusableSpoolDirectoryStillForwardsEveryCaller(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "spool")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600)) // a file where the directory should be
	st := memstore.New()
	h := newHarness(t, testConfig(), WithStore(st), WithSpoolDir(blocker))
	ctx := context.Background()
	tracking := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"}).Swaps[0].Number

	for i := range 5 {
		assert.Equal(t, mainLine, h.call(t, fmt.Sprint("CA", i), tracking).To)
	}
	health := h.svc.Health(ctx)
	require.True(t, health.Live)
	require.Len(t, health.Reasons, 1)
	assert.Contains(t, health.Reasons[0], "spool unusable")

	probe := httptest.NewServer(h.svc.HealthHandler())
	defer probe.Close()
	for path, want := range map[string]int{"/healthz/live": http.StatusOK, "/healthz/ready": http.StatusServiceUnavailable} {
		res, err := http.Get(probe.URL + path)
		require.NoError(t, err)
		var body struct {
			Live, Ready bool
			Reasons     []string
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		res.Body.Close()
		assert.Equal(t, want, res.StatusCode, path)
		assert.True(t, body.Live)
		assert.False(t, body.Ready)
		assert.Len(t, body.Reasons, 1)
	}
	waitFor(t, "calls recorded from memory", func() bool {
		calls, err := st.CallsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
		return err == nil && len(calls) == 5
	})
}

func TestMetricsReportTheIngestAndThePools(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	st := &refusingStore{Store: memstore.New(), refused: map[string]bool{"poison": true}}
	h := newHarness(t, testConfig(), WithStore(st), WithMeterProvider(mp))
	tracking := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"}).Swaps[0].Number
	h.call(t, "poison", tracking)
	h.call(t, "CA1", tracking)
	waitFor(t, "dead letters", func() bool { return len(h.svc.DeadLetters()) > 0 })

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	got := map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if v, ok := p.Attributes.Value("pool"); ok {
						got[m.Name+"/"+v.AsString()] = float64(p.Value)
					} else {
						got[m.Name] = float64(p.Value)
					}
				}
			case metricdata.Sum[int64]:
				got[m.Name] = float64(d.DataPoints[0].Value)
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					if v, ok := p.Attributes.Value("pool"); ok {
						got[m.Name+"/"+v.AsString()] = p.Value
					}
				}
			}
		}
	}
	assert.Equal(t, float64(10), got["calltrack.ingest.spooled"], "two calls of five webhooks each (the forward reports its outcome)")
	assert.GreaterOrEqual(t, got["calltrack.ingest.dead_letters"], float64(1))
	assert.GreaterOrEqual(t, got["calltrack.store.errors"], float64(1))
	assert.Equal(t, float64(1), got["calltrack.pool.leased/paid-search"])
	assert.Equal(t, 0.5, got["calltrack.pool.utilization/paid-search"])
	assert.Equal(t, float64(0), got["calltrack.degraded"], "dead letters alone do not degrade the service")
	for name := range got {
		assert.True(t, strings.HasPrefix(name, "calltrack."), name)
	}
}

func TestWebhookBodyLimitIsConfigurable(t *testing.T) {
	post := func(h *harness, size int) int {
		body := []byte(`{"type":"call.inbound","call_id":"CA1","from":"` + strings.Repeat("9", size) + `"}`)
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"webhooks/fake", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set(fake.SignatureHeader, fake.Sign(secret, body, h.clock.now()))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	cfg := testConfig()
	cfg.WebhookMaxBodyBytes = 4096
	assert.Equal(t, http.StatusRequestEntityTooLarge, post(newHarness(t, cfg), 5000))
	assert.NotEqual(t, http.StatusRequestEntityTooLarge, post(newHarness(t, testConfig()), 5000), "the default is 64 KB")
}

// hangingCalls never finishes recording a call until the test ends.
type hangingCalls struct {
	store.Store
	release chan struct{}
}

func (h hangingCalls) RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	return provider.CallEvent{}, ctx.Err()
}

// The caller is forwarded while the store hangs: no clock, no threshold;
// a handler that waited on the store would never answer and the test
// would not end.
func TestAWebhookIsAnsweredWhileTheStoreHangs(t *testing.T) {
	hang := hangingCalls{Store: memstore.New(), release: make(chan struct{})}
	h := newHarness(t, testConfig(), WithStore(hang), WithLogger(quietLogger()))
	t.Cleanup(func() { close(hang.release) }) // before the harness's Close
	tracking := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"}).Swaps[0].Number
	assert.Equal(t, mainLine, h.call(t, "CA1", tracking).To)
	assert.Equal(t, mainLine, h.call(t, "CA2", tracking).To)
}
