package dni

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// batchLog is a memory store that records each WriteBatch and can hold the
// first one until the test lets it go, or fail every one.
type batchLog struct {
	*memstore.Store
	mu      sync.Mutex
	batches []store.Batch
	hold    chan struct{} // when set, the first batch waits on it
	started chan struct{}
	fail    error
}

func (b *batchLog) WriteBatch(ctx context.Context, batch store.Batch) error {
	b.mu.Lock()
	b.batches = append(b.batches, batch)
	first, fail := len(b.batches) == 1, b.fail
	b.mu.Unlock()
	if first && b.hold != nil {
		close(b.started)
		<-b.hold
	}
	if fail != nil {
		return fail
	}
	return b.Store.WriteBatch(ctx, batch)
}

// InMemory is false: a batchLog stands for a store whose writes are
// worth batching, so the service queues for it.
func (b *batchLog) InMemory() bool { return false }

func (b *batchLog) log() []store.Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]store.Batch(nil), b.batches...)
}

func sessionAt(id string, minute int) journey.Session {
	t := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return journey.Session{ID: id, VisitorID: "v-" + id, StartedAt: t, LastSeenAt: t.Add(time.Duration(minute) * time.Minute)}
}

func sessionTouch(s journey.Session) journey.Touchpoint {
	return journey.Touchpoint{ID: "session:" + s.ID, Kind: journey.TouchSession, At: s.StartedAt, VisitorID: s.VisitorID, SessionID: s.ID}
}

// until waits for cond, checked under no clock: the test proceeds on
// state, not on time.
func until(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(100 * time.Microsecond)
	}
}

// Writes queued while a batch is written go in the next batch, together,
// with one version per session: the latest; and the request that waits
// returns once its batch landed.
func TestWriteBehindCoalescesWhileABatchIsWritten(t *testing.T) {
	st := &batchLog{Store: memstore.New(), hold: make(chan struct{}), started: make(chan struct{})}
	w := newWriteBehind(quietLogger())
	ctx := context.Background()
	s1 := sessionAt("s1", 0)
	first := make(chan struct{})
	go func() { w.putSessionAndTouchpoint(ctx, st, s1, sessionTouch(s1)); close(first) }()
	<-st.started // s1 and its touchpoint are being written

	var wg sync.WaitGroup
	for _, s := range []journey.Session{sessionAt("s1", 1), sessionAt("s1", 3), sessionAt("s2", 0)} {
		wg.Add(1)
		go func() { defer wg.Done(); w.putSession(ctx, st, s) }()
		until(t, func() bool { q, ok := w.session(s.ID); return ok && q.LastSeenAt.Equal(s.LastSeenAt) })
	}
	until(t, func() bool { q, _ := w.session("s1"); return q.LastSeenAt.Equal(sessionAt("s1", 3).LastSeenAt) })
	// An older version arriving late changes nothing.
	expired, cancel := context.WithCancel(ctx)
	cancel()
	w.putSession(expired, st, sessionAt("s1", 2))
	close(st.hold)
	<-first
	wg.Wait()

	batches := st.log()
	require.Len(t, batches, 2)
	assert.Equal(t, []journey.Session{s1}, batches[0].Sessions)
	assert.Len(t, batches[0].Touchpoints, 1)
	var got []time.Time
	for _, s := range batches[1].Sessions {
		got = append(got, s.LastSeenAt)
	}
	assert.ElementsMatch(t, []time.Time{sessionAt("s1", 3).LastSeenAt, sessionAt("s2", 0).LastSeenAt}, got, "one write per session, the latest")
	stored, err := st.Session(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, sessionAt("s1", 3).LastSeenAt, stored.LastSeenAt)
	assert.Zero(t, w.stats().Pending)
	w.close()
}

// A request whose deadline ends leaves its records queued; close writes
// them, in one batch.
func TestWriteBehindCloseDrainsInBatches(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	w := newWriteBehind(quietLogger())
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	for _, id := range []string{"a", "b", "c"} {
		s := sessionAt(id, 0)
		w.putSessionAndTouchpoint(expired, st, s, sessionTouch(s))
	}
	assert.Equal(t, 6, w.stats().Pending)
	w.close()
	w.close()
	require.Len(t, st.log(), 1)
	assert.Len(t, st.log()[0].Sessions, 3)
	assert.Len(t, st.log()[0].Touchpoints, 3)
	stats := w.stats()
	assert.Equal(t, WriteBehindStats{Queued: 6, Written: 6}, stats)
	for _, id := range []string{"a", "b", "c"} {
		_, err := st.Session(context.Background(), id)
		require.NoError(t, err)
	}
}

// Run writes what requests left behind, without close.
func TestWriteBehindRunWritesWhatRequestsLeft(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	w := newWriteBehind(quietLogger())
	runWriteBehind(t, w)
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	w.putSession(expired, st, sessionAt("a", 0))
	until(t, func() bool { return w.stats().Written == 1 })
	_, err := st.Session(context.Background(), "a")
	require.NoError(t, err)
	w.close()
}

// A store that is down fails the batch: its records are logged, counted
// and not retried, and the requests return.
func TestWriteBehindStoreDownFailsTheBatch(t *testing.T) {
	st := &batchLog{Store: memstore.New(), fail: errors.New("connection refused")}
	w := newWriteBehind(quietLogger())
	s := sessionAt("a", 0)
	w.putSessionAndTouchpoint(context.Background(), st, s, sessionTouch(s))
	assert.Equal(t, uint64(2), w.stats().Failed)
	assert.Zero(t, w.stats().Pending)
	w.close()
	_, err := st.Store.Session(context.Background(), "a")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// One invalid record does not sink its batch: the others are written
// one at a time.
func TestWriteBehindInvalidRecordDoesNotSinkTheBatch(t *testing.T) {
	st := &batchLog{Store: memstore.New(), hold: make(chan struct{}), started: make(chan struct{})}
	w := newWriteBehind(quietLogger())
	ctx := context.Background()
	done := make(chan struct{})
	go func() { w.putSession(ctx, st, sessionAt("first", 0)); close(done) }()
	<-st.started
	bad := sessionAt("bad", 0)
	bad.VisitorID = ""
	var wg sync.WaitGroup
	for _, s := range []journey.Session{sessionAt("good", 0), bad} {
		wg.Add(1)
		go func() { defer wg.Done(); w.putSession(ctx, st, s) }()
	}
	until(t, func() bool { return w.stats().Pending == 3 })
	close(st.hold)
	<-done
	wg.Wait()
	_, err := st.Session(ctx, "good")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), w.stats().Failed, "the invalid session")
	w.close()
}

// A batch cut short by its request's deadline goes back to the queue; a
// newer version written meanwhile is the one that lands.
func TestWriteBehindCutBatchRequeuesUnderNewerVersion(t *testing.T) {
	hung := newHungStore()
	w := newWriteBehind(quietLogger())
	ctx1, cut1 := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.putSession(ctx1, hung, sessionAt("s", 0)); close(done) }()
	until(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.writing })
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	w.putSession(expired, hung, sessionAt("s", 5))
	cut1()
	<-done
	hung.unhang()
	w.close()
	got, err := hung.Store.Session(context.Background(), "s")
	require.NoError(t, err)
	assert.Equal(t, sessionAt("s", 5).LastSeenAt, got.LastSeenAt)
	assert.Zero(t, w.stats().Failed)
}

// A record left by its request while a batch is written reaches Run even
// when the batch's only waiter is a request whose own record landed in
// it: that waiter hands the queue over as it returns.
func TestWriteBehindRunWritesWhatRequestsLeftWhileAWaiterReturns(t *testing.T) {
	st := &batchLog{Store: memstore.New(), hold: make(chan struct{}), started: make(chan struct{})}
	w := newWriteBehind(quietLogger())
	runWriteBehind(t, w)
	ctx := context.Background()
	first := make(chan struct{})
	go func() { w.putSession(ctx, st, sessionAt("s1", 5)); close(first) }()
	<-st.started
	// An older version waits for the newer one being written.
	older := make(chan struct{})
	go func() { w.putSession(ctx, st, sessionAt("s1", 1)); close(older) }()
	until(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.waiting == 1 })
	// A request that answers without its record leaves it queued.
	expired, cancel := context.WithCancel(ctx)
	cancel()
	w.putSession(expired, st, sessionAt("s2", 0))
	close(st.hold)
	<-first
	<-older
	// Bounded by go test -timeout: s2 must not stay queued with no writer
	// until the next request or Close.
	until(t, func() bool { return w.stats().Written == 1 })
	_, err := st.Session(ctx, "s2")
	require.NoError(t, err)
	w.close()
}
