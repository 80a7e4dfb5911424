package dni

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// slowHolds refuses every batch that carries hold records as conflicting
// and takes slow to record a hold alone: a store that is slow while one
// bad hold record sinks the batches.
type slowHolds struct {
	*memstore.Store
	slow time.Duration
}

func (s *slowHolds) InMemory() bool { return false }

func (s *slowHolds) WriteBatch(ctx context.Context, b store.Batch) error {
	if len(b.Holds) > 0 {
		return store.ErrConflict
	}
	return s.Store.WriteBatch(ctx, b)
}

func (s *slowHolds) RecordHold(ctx context.Context, h pool.HoldRecord) error {
	time.Sleep(s.slow)
	return s.Store.RecordHold(ctx, h)
}

// A visit waits on the store for at most its store deadline (StoreWait).
// When the batch its request leads is refused because of a hold record it
// carried, settleHolds writes the hold records one by one on the
// request's goroutine, each under a 5s timeout of its own, ignoring the
// request's deadline (and w.writing stays set, so no other request can
// lead a batch meanwhile).
func TestReviewVisitBatchRefusedForHoldsKeepsTheRequestPastItsDeadline(t *testing.T) {
	st := &slowHolds{Store: memstore.New(), slow: 100 * time.Millisecond}
	w, hw := wiredWriters(st)
	defer w.close()
	defer hw.close()
	for i := range 5 {
		hw.record(holdAt("h"+string(rune('a'+i)), "+14155550101", "paid-search"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	w.putSession(ctx, st, sessionAt("s", 0))
	assert.Less(t, time.Since(start), 250*time.Millisecond, "the request answers near its 50ms deadline")
}

// ErasePerson flushes the visit queue, then the hold queue. A visit batch
// that starts between the two takes the queued hold records; holds.flush
// then finds the queue empty and returns at once, without waiting for the
// records in flight, and the erasure runs before they land: a hold record
// of the erased session is written after ErasePerson. This test plays
// that interleaving step by step.
func TestReviewHoldFlushDoesNotWaitForHoldRecordsInAVisitBatch(t *testing.T) {
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
	close(st.release)
	pendingAtErase := <-flushed
	holdsAtErase := len(holdsOf(allHolds(t, st.Store), "erased"))
	wg.Wait()
	hw.close()
	w.close()
	assert.Zero(t, pendingAtErase, "flush returned with the erased session's hold record in flight")
	assert.Equal(t, 1, holdsAtErase, "the record landed before the erasure would run")
}
