package dni

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// hungStore is a store whose session, touchpoint and identity methods
// block until their context ends, until it is released; after that it is
// the memory store underneath.
type hungStore struct {
	store.Store
	release chan struct{}
	once    sync.Once
}

func newHungStore() *hungStore {
	return &hungStore{Store: memstore.New(), release: make(chan struct{})}
}

func (h *hungStore) unhang() { h.once.Do(func() { close(h.release) }) }

func (h *hungStore) wait(ctx context.Context) error {
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hungStore) Session(ctx context.Context, id string) (journey.Session, error) {
	if err := h.wait(ctx); err != nil {
		return journey.Session{}, err
	}
	return h.Store.Session(ctx, id)
}

func (h *hungStore) PutSession(ctx context.Context, s journey.Session) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Store.PutSession(ctx, s)
}

func (h *hungStore) AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Store.AddTouchpoint(ctx, tp)
}

func (h *hungStore) Link(ctx context.Context, a, b journey.Identifier) (string, error) {
	if err := h.wait(ctx); err != nil {
		return "", err
	}
	return h.Store.Link(ctx, a, b)
}

// hungHarness serves a service over a hung store. The store is released
// before the service closes, so Close can write what is queued.
func hungHarness(t *testing.T, cfg Config) (*harness, *hungStore) {
	t.Helper()
	hung := newHungStore()
	// Small, so the test does not wait long; nothing asserts on time.
	cfg.StoreWait = 20 * time.Millisecond
	cfg.APITimeout = 100 * time.Millisecond
	h := newHarness(t, cfg, WithStore(hung), WithLogger(quietLogger()))
	t.Cleanup(hung.unhang) // runs before the harness's Close
	return h, hung
}

func TestVisitAnswersFromMemoryOnAHungStoreAndWritesBehind(t *testing.T) {
	h, hung := hungHarness(t, testConfig())
	ctx := context.Background()

	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	require.NotEmpty(t, a.SessionID)
	require.Len(t, a.Swaps, 2, "the numbers are leased in memory")

	_, err := hung.Store.Session(ctx, a.SessionID)
	require.ErrorIs(t, err, store.ErrNotFound, "the store has not taken the session yet")
	// The session and its touchpoint wait; the two hold records too,
	// unless the hold writer (not hung) has written them already.
	assert.Contains(t, []int{2, 3, 4}, h.svc.WriteBehindStats().Pending)

	// The session is known while its write waits: the next page view and
	// a heartbeat continue it.
	h.clock.add(time.Minute)
	again := h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/contact"})
	assert.Equal(t, a.SessionID, again.SessionID)
	assert.Equal(t, a.Swaps, again.Swaps)
	h.clock.add(time.Minute)
	res, body := h.post(t, "v1/heartbeat", heartbeatRequest{VisitorID: a.VisitorID, SessionID: a.SessionID})
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))

	hung.unhang()
	require.NoError(t, h.svc.Close(), "Close waits for the writes behind")
	sess, err := hung.Store.Session(ctx, a.SessionID)
	require.NoError(t, err)
	assert.Equal(t, h.clock.now(), sess.LastSeenAt, "the newest version of the session is the one stored")
	assert.Equal(t, a.VisitorID, sess.VisitorID)
	tps, _, err := h.svc.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID}, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, tps, 1, "the session's touchpoint, once")
	st := h.svc.WriteBehindStats()
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.Failed)
	assert.Zero(t, st.Dropped)
	assert.GreaterOrEqual(t, st.Written, st.Queued, "every queued record written (a session again when a newer version came meanwhile)")
}

func TestTrackerAPIDeadlineOnAHungStore(t *testing.T) {
	h, _ := hungHarness(t, testConfig())
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})

	// Events read and write the store: they fail at the API deadline
	// instead of outlasting the tracker's own timeout.
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: "unknown-session",
		Events: []Event{{Type: EventForm, Name: "quote"}}})
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, string(body))
	// A heartbeat of a session the service has not seen cannot be checked.
	res, body = h.post(t, "v1/heartbeat", heartbeatRequest{VisitorID: a.VisitorID, SessionID: "unknown-session"})
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, string(body))
}

// stuckSessions never finishes a session write: each one waits for its
// context to end, after the test lets it go on.
type stuckSessions struct {
	calls   atomic.Int32
	started chan struct{}
	proceed chan struct{}
}

func (s *stuckSessions) PutSession(ctx context.Context, _ journey.Session) error {
	if s.calls.Add(1) == 1 {
		close(s.started)
	}
	<-s.proceed
	<-ctx.Done()
	return ctx.Err()
}

// Closing on a store that stopped answering gives up on the queue after
// one write times out, instead of waiting out every write's timeout.
func TestWriteBehindCloseGivesUpOnAStoreThatStaysHung(t *testing.T) {
	st := &stuckSessions{started: make(chan struct{}), proceed: make(chan struct{})}
	w := newWriteBehind(quietLogger())
	w.timeout = 10 * time.Millisecond
	runWriteBehind(t, w)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	for _, id := range []string{"s1", "s2", "s3"} {
		w.putSession(expired, st, journey.Session{ID: id})
	}
	<-st.started // the goroutine is writing s1
	closed := make(chan struct{})
	go func() { w.close(); close(closed) }()
	for {
		w.mu.Lock()
		c := w.closed
		w.mu.Unlock()
		if c {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(st.proceed) // s1 now times out, after close began
	<-closed
	w.close() // idempotent
	assert.Equal(t, int32(1), st.calls.Load(), "s2 and s3 were not tried once s1 timed out")
	stats := w.stats()
	assert.Equal(t, uint64(3), stats.Queued)
	assert.Equal(t, uint64(3), stats.Failed, "one timed out, the rest given up")
	assert.Zero(t, stats.Pending)
	w.putSession(expired, st, journey.Session{ID: "s4"})
	assert.Equal(t, uint64(1), w.stats().Dropped, "nothing is queued after close")
}

func TestConfigStoreWaitAndAPITimeout(t *testing.T) {
	c := testConfig().withDefaults()
	assert.Equal(t, 4*time.Second, c.APITimeout, "under the tracker's 5 s")
	assert.Equal(t, DefaultStoreWait, c.StoreWait)
	require.NoError(t, c.validate())

	c = testConfig()
	c.APITimeout = 6 * time.Second
	c.StoreWait = 7 * time.Second
	err := c.withDefaults().validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "APITimeout")
	assert.Contains(t, err.Error(), "StoreWait")
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// slowSessionWrites holds session writes until released; reads and other
// writes go through, as when one table is locked.
type slowSessionWrites struct {
	*hungStore
}

func (s slowSessionWrites) Session(ctx context.Context, id string) (journey.Session, error) {
	return s.hungStore.Store.Session(ctx, id)
}

func (s slowSessionWrites) AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error {
	return s.hungStore.Store.AddTouchpoint(ctx, tp)
}

func (s slowSessionWrites) Link(ctx context.Context, a, b journey.Identifier) (string, error) {
	return s.hungStore.Store.Link(ctx, a, b)
}

// Events for a session whose write still waits behind a slow store are
// taken: the session is known from the write-behind queue.
func TestEventsJoinASessionStillWritingBehind(t *testing.T) {
	slow := slowSessionWrites{newHungStore()}
	cfg := testConfig()
	cfg.StoreWait = 20 * time.Millisecond // the session's write is cut short; nothing else waits on it
	h := newHarness(t, cfg, WithStore(slow), WithLogger(quietLogger()))
	t.Cleanup(slow.unhang)

	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	_, err := slow.Store.Session(context.Background(), a.SessionID)
	require.ErrorIs(t, err, store.ErrNotFound, "the session's write waits")
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID,
		Events: []Event{{Type: EventForm, Name: "quote"}}})
	assert.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
}

// runWriteBehind drains w as Service.Run does, until the test ends.
func runWriteBehind(t *testing.T, w *writeBehind) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
