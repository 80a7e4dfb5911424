package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/store/memstore"
)

// The quickstart shows the service's health and its metrics in
// Prometheus' text format, and keeps the spool where it was told.
func TestHealthAndMetricsAreServed(t *testing.T) {
	m, err := newMetrics()
	require.NoError(t, err)
	var d *demo
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.ServeHTTP(w, r) }))
	defer srv.Close()
	d, err = newDemo(srv.URL, memstore.New(), t.TempDir(), time.Now, true, dni.WithMeterProvider(m.provider))
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- d.svc.Run(context.Background()) }()
	defer func() { _ = d.Close(); <-ran }()
	d.mux.Handle("GET /metrics", localOnly(m.handler))
	visitAndCall(t, srv.URL, arrivals[0].Query, "(212) 555-0123", 90)

	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(body)
	}
	// Ready once Run is doing the background work.
	code, body := get("/healthz/ready")
	// Bounded by the test's own deadline (less a margin, so the assertion
	// below reports the body), not by a guess.
	deadline, bounded := t.Deadline()
	for code != http.StatusOK && (!bounded || time.Until(deadline) > 10*time.Second) {
		time.Sleep(5 * time.Millisecond)
		code, body = get("/healthz/ready")
	}
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"ready":true`)
	code, body = get("/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, name := range []string{"calltrack_ingest_spooled_total", "calltrack_ingest_backlog", "calltrack_ingest_dead_letters",
		"calltrack_store_errors_total", `calltrack_pool_utilization_ratio{`, "calltrack_degraded_ratio"} {
		assert.Contains(t, body, name)
	}
}
