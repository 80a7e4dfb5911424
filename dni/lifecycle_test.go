package dni

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

// Everything the Service starts runs under Run: after Close, with every
// part wired (webhooks, exports, retention), no goroutine is left.
func TestCloseAfterRunLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	var received atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
	}))
	defer receiver.Close()
	st := memstore.New()
	sink, err := webhook.New(webhook.Config{URL: receiver.URL, Secret: []byte("s")})
	require.NoError(t, err)
	x, err := export.New(st, export.Config{Poll: 10 * time.Millisecond}, sink)
	require.NoError(t, err)
	prov, err := fake.New(fake.Config{Secret: secret})
	require.NoError(t, err)
	cfg := testConfig()
	cfg.Retention = 400 * 24 * time.Hour
	svc, err := New(cfg, WithStore(st), WithProvider(prov), WithSpoolDir(t.TempDir()), WithExports(x), WithLogger(quietLogger()))
	require.NoError(t, err)
	srv := httptest.NewServer(svc.Handler())
	client := &http.Client{}
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(context.Background()) }()

	caller := &fake.Caller{Secret: secret, HTTPClient: client}
	_, err = caller.PlaceCall(context.Background(), srv.URL+DefaultPrefix+"webhooks/fake",
		fake.Call{ID: "CA1", From: "+12125550123", To: printNumber, Answered: true, Duration: 3 * time.Minute})
	require.NoError(t, err)
	waitFor(t, "the qualified call exported", func() bool { return received.Load() == 1 })

	srv.Close()
	client.CloseIdleConnections()
	require.NoError(t, svc.Close())
	require.NoError(t, <-ran, "Run returns nil after Close")
	assert.ErrorIs(t, svc.Run(context.Background()), ErrClosed)
}

// Run stops when its context ends and says why; Close after it still
// writes what is pending.
func TestRunEndsWithItsContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	svc, err := New(testConfig())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- svc.Run(ctx) }()
	cancel()
	require.True(t, errors.Is(<-ran, context.Canceled))
	require.NoError(t, svc.Close())
}
