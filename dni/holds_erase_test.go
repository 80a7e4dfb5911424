package dni

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// holdConflicts refuses every batch that carries hold records as
// conflicting, and counts the hold records written alone.
type holdConflicts struct {
	*memstore.Store
	alone atomic.Int32
}

func (s *holdConflicts) InMemory() bool { return false }

func (s *holdConflicts) WriteBatch(ctx context.Context, b store.Batch) error {
	if len(b.Holds) > 0 {
		return store.ErrConflict
	}
	return s.Store.WriteBatch(ctx, b)
}

func (s *holdConflicts) RecordHold(ctx context.Context, h pool.HoldRecord) error {
	s.alone.Add(1)
	return s.Store.RecordHold(ctx, h)
}

// A visit waits on the store for at most its store deadline (StoreWait).
// When the batch its request leads is refused because of a hold record it
// carried, the request does not write the hold records one by one itself
// (each under a timeout of its own, past its deadline): it sets them
// aside, and the hold writer's flush writes them.
func TestVisitRequestLeavesRefusedHoldRecordsToTheHoldWriter(t *testing.T) {
	st := &holdConflicts{Store: memstore.New()}
	w, hw := wiredWriters(st)
	defer w.close()
	defer hw.close()
	for i := range 5 {
		hw.record(holdAt("h"+string(rune('a'+i)), "+14155550101", "paid-search"))
	}
	w.putSession(context.Background(), st, sessionAt("s", 0))
	_, err := st.Session(context.Background(), "s")
	require.NoError(t, err, "the session landed alone")
	assert.Zero(t, st.alone.Load(), "the request wrote no hold record itself")
	assert.Equal(t, 5, hw.pending(), "the hold records wait, set aside")

	hw.flush()
	assert.Equal(t, int32(5), st.alone.Load(), "the hold writer wrote them one by one")
	assert.Zero(t, hw.pending())
}

// ErasePerson flushes the visit queue, then the hold queue. A visit batch
// that starts between the two takes the queued hold records; the hold
// flush must wait for them to land, or the erasure would run first and a
// hold record of the erased session be written after it. This test plays
// that interleaving step by step.
func TestHoldFlushBeforeErasureWaitsForHoldRecordsInAVisitBatch(t *testing.T) {
	st := newHungBatches()
	w, hw := wiredWriters(st)
	hw.record(holdAt("erased", "+14155550101", "paid-search"))

	require.NoError(t, w.flush(context.Background())) // ErasePerson's first step: nothing queued

	var wg sync.WaitGroup
	wg.Add(1)
	s := sessionAt("other", 0)
	go func() { defer wg.Done(); w.putSessionAndTouchpoint(context.Background(), st, s, sessionTouch(s)) }()
	<-st.started // a visit's batch carries the hold record

	// ErasePerson's second step waits for the batch carrying the record.
	flushed := make(chan int, 1)
	go func() { hw.flushBeforeErasure(); flushed <- hw.pending() }()
	// Release the batch only once the flush waits behind it: a waiting
	// writer makes TryRLock fail. A flush that returned instead fails here.
	for hw.riding.TryRLock() {
		hw.riding.RUnlock()
		select {
		case n := <-flushed:
			t.Fatalf("flush returned with the batch in flight (%d pending)", n)
		default:
			runtime.Gosched()
		}
	}
	close(st.release)
	pendingAtErase := <-flushed
	holdsAtErase := len(holdsOf(allHolds(t, st.Store), "erased"))
	wg.Wait()
	hw.close()
	w.close()
	assert.Zero(t, pendingAtErase, "flush returned with the erased session's hold record in flight")
	assert.Equal(t, 1, holdsAtErase, "the record landed before the erasure would run")
}
