package dni

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// unrunService is a Service over st whose Run is never started: nothing
// drains its queues in the background, so what a test finds in the store
// was written by the call it made, and what is queued stays queued.
func unrunService(t *testing.T, st store.Store, log *slog.Logger) *Service {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	svc, err := New(testConfig(), WithStore(st), WithClock(clock.now), WithLogger(log))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, svc.Close()) })
	return svc
}

// ended is a context that has already ended, as a request's past its
// store deadline.
func ended() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// allHolds is every hold record st has.
func allHolds(t *testing.T, st store.Leases) []pool.HoldRecord {
	t.Helper()
	from := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	hs, err := st.HoldsBetween(context.Background(), from, from.AddDate(100, 0, 0))
	require.NoError(t, err)
	return hs
}

func holdsOf(hs []pool.HoldRecord, sessionID string) []pool.HoldRecord {
	var out []pool.HoldRecord
	for _, h := range hs {
		if h.SessionID == sessionID {
			out = append(out, h)
		}
	}
	return out
}

// A memory store is written on the visit's own goroutine: nothing is
// queued, even for a request whose deadline has passed (the write is not
// cut by ctx), and the session, its touchpoint and its holds are there
// when Visit returns.
func TestVisitToAMemoryStoreWritesEverythingBeforeItReturns(t *testing.T) {
	for name, ctx := range map[string]func() context.Context{
		"request live":  context.Background,
		"request ended": ended,
	} {
		t.Run(name, func(t *testing.T) {
			st := memstore.New()
			svc := unrunService(t, st, quietLogger())
			a, err := svc.Visit(ctx(), VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
			require.NoError(t, err)
			require.Len(t, a.Swaps, 2)

			assert.Equal(t, WriteBehindStats{}, svc.WriteBehindStats(), "nothing queued, failed or pending")
			bg := context.Background()
			sess, err := st.Session(bg, a.SessionID)
			require.NoError(t, err)
			assert.Equal(t, a.VisitorID, sess.VisitorID)
			tp, err := st.Touchpoint(bg, "session:"+a.SessionID)
			require.NoError(t, err)
			assert.Equal(t, journey.TouchSession, tp.Kind)
			var numbers []string
			for _, h := range holdsOf(allHolds(t, st), a.SessionID) {
				numbers = append(numbers, h.Number)
			}
			assert.ElementsMatch(t, []string{a.Swaps[0].Number, a.Swaps[1].Number}, numbers, "one hold per swapped number")
		})
	}
}

// refusingPair is a memory store (its InMemory stays true) that refuses
// one record kind of a new session's pair with err: in any batch that
// holds one, and alone.
type refusingPair struct {
	*memstore.Store
	refuse string // "session" or "touchpoint"
	err    error
}

func (r *refusingPair) WriteBatch(ctx context.Context, b store.Batch) error {
	if r.refuse == "session" && len(b.Sessions) > 0 || r.refuse == "touchpoint" && len(b.Touchpoints) > 0 {
		return fmt.Errorf("test refuses the %s: %w", r.refuse, r.err)
	}
	return r.Store.WriteBatch(ctx, b)
}

func (r *refusingPair) PutSession(ctx context.Context, s journey.Session) error {
	if r.refuse == "session" {
		return fmt.Errorf("test refuses the session: %w", r.err)
	}
	return r.Store.PutSession(ctx, s)
}

func (r *refusingPair) AddTouchpoint(ctx context.Context, tp journey.Touchpoint) error {
	if r.refuse == "touchpoint" {
		return fmt.Errorf("test refuses the touchpoint: %w", r.err)
	}
	return r.Store.AddTouchpoint(ctx, tp)
}

// A memory store that refuses one record of the pair still gets the
// other: the refused one alone is counted as failed and logged at Error.
func TestVisitToAMemoryStoreThatRefusesOneRecordStoresTheOther(t *testing.T) {
	for _, refuse := range []string{"session", "touchpoint"} {
		for _, refusal := range []error{store.ErrConflict, store.ErrInvalid} {
			t.Run(fmt.Sprintf("%s/%v", refuse, refusal), func(t *testing.T) {
				st := &refusingPair{Store: memstore.New(), refuse: refuse, err: refusal}
				require.True(t, store.IsInMemory(st), "the wrapper is still a memory store")
				var logs logbuf.Buffer
				svc := unrunService(t, st, slog.New(slog.NewTextHandler(&logs, nil)))
				a, err := svc.Visit(context.Background(), VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
				require.NoError(t, err, "a refused write fails no visit")

				bg := context.Background()
				_, serr := st.Session(bg, a.SessionID)
				_, terr := st.Touchpoint(bg, "session:"+a.SessionID)
				key := "session:" + a.SessionID
				if refuse == "session" {
					require.ErrorIs(t, serr, store.ErrNotFound)
					require.NoError(t, terr, "the touchpoint lands without its session")
				} else {
					require.NoError(t, serr, "the session lands without its touchpoint")
					require.ErrorIs(t, terr, store.ErrNotFound)
					key = "touchpoint:session:" + a.SessionID
				}
				stats := svc.WriteBehindStats()
				assert.Equal(t, uint64(1), stats.Failed, "the refused record only")
				assert.Zero(t, stats.Pending)
				errorLines := linesWith(logs.String(), "level=ERROR")
				require.Len(t, errorLines, 1, logs.String())
				assert.Contains(t, errorLines[0], `msg="dni: saving"`)
				assert.Contains(t, errorLines[0], "record="+key)
			})
		}
	}
}

func linesWith(text, s string) []string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// A memory store that fails the pair for another reason than a refusal
// loses both records, and both should be counted, as a batch's are
// (TestWriteBehindStoreDownFailsTheBatch): writeNow counts and logs one.
func TestVisitToAMemoryStoreThatFailsThePairCountsBothRecords(t *testing.T) {
	st := &refusingPair{Store: memstore.New(), refuse: "session", err: errors.New("out of memory")}
	svc := unrunService(t, st, quietLogger())
	_, err := svc.Visit(context.Background(), VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), svc.WriteBehindStats().Failed, "the session and its touchpoint")
}

// hungBatches is a store worth batching for (not InMemory) whose
// WriteBatch waits for its context to end, until released; every other
// method is the memory store underneath.
type hungBatches struct {
	*memstore.Store
	started chan struct{} // closed when the first batch starts waiting
	release chan struct{}
	first   bool
}

func newHungBatches() *hungBatches {
	return &hungBatches{Store: memstore.New(), started: make(chan struct{}), release: make(chan struct{})}
}

func (h *hungBatches) InMemory() bool { return false }

func (h *hungBatches) WriteBatch(ctx context.Context, b store.Batch) error {
	select {
	case <-h.release:
		return h.Store.WriteBatch(ctx, b)
	default:
	}
	if !h.first { // only the test's one request writes while hung
		h.first = true
		close(h.started)
	}
	select {
	case <-h.release:
		return h.Store.WriteBatch(ctx, b)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wiredWriters is what New wires: a visit write queue whose batches carry
// the hold writer's queued records.
func wiredWriters(st store.Leases) (*writeBehind, *holdWriter) {
	w := newWriteBehind(quietLogger())
	hw := newHoldWriter(st, quietLogger())
	w.holds, hw.batching = hw, w.batching
	return w, hw
}

func holdAt(session, number, poolName string) pool.HoldRecord {
	return pool.HoldRecord{Pool: poolName, Number: number, SessionID: session, From: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

// Hold records queued for a store worth batching for ride in the next
// visit batch: one commit for both, and nothing left queued.
func TestVisitBatchCarriesQueuedHoldRecords(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	w, hw := wiredWriters(st)
	for _, id := range []string{"a", "b", "c"} {
		hw.record(holdAt(id, "+14155550101", "paid-search"))
	}
	require.Equal(t, 3, w.stats().Pending, "the hold records wait in the queue")

	s := sessionAt("s", 0)
	w.putSessionAndTouchpoint(context.Background(), st, s, sessionTouch(s))

	batches := st.log()
	require.Len(t, batches, 1, "one commit")
	assert.Len(t, batches[0].Sessions, 1)
	assert.Len(t, batches[0].Touchpoints, 1)
	assert.Len(t, batches[0].Holds, 3)
	assert.Zero(t, w.stats().Pending)
	assert.Len(t, allHolds(t, st), 3)
	hw.close()
	w.close()
	assert.Len(t, st.log(), 1, "nothing was left for close to write")
}

// A visit batch cut by its request's deadline puts the hold records it
// carried back in the queue; Close then writes them: none is lost.
func TestVisitBatchCutByItsDeadlinePutsItsHoldRecordsBack(t *testing.T) {
	st := newHungBatches()
	w, hw := wiredWriters(st)
	for _, id := range []string{"a", "b", "c"} {
		hw.record(holdAt(id, "+14155550101", "paid-search"))
	}
	ctx, cut := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := sessionAt("s", 0)
	go func() { w.putSessionAndTouchpoint(ctx, st, s, sessionTouch(s)); close(done) }()
	<-st.started
	assert.Zero(t, len(hw.queue), "the batch took the hold records")
	assert.Equal(t, 3, hw.pending(), "taken, they still count as pending")
	cut()
	<-done

	assert.Equal(t, 3, len(hw.queue), "back in the queue")
	assert.Equal(t, 3, hw.pending(), "and counted once")
	assert.Equal(t, 5, w.stats().Pending, "the session, its touchpoint and the three holds")
	assert.Empty(t, allHolds(t, st.Store))

	close(st.release)
	hw.close() // Service.Close's order
	w.close()
	assert.Len(t, allHolds(t, st.Store), 3, "every hold record reached the store")
	_, err := st.Store.Session(context.Background(), "s")
	require.NoError(t, err)
	assert.Zero(t, w.stats().Pending)
	assert.Zero(t, w.stats().Failed)
}

// A visit batch refused as conflicting because of one hold record it
// carried lands everything else: its visit records alone, the other hold
// records through the hold writer, one at a time once their own batch is
// refused too; only the conflicting record is logged.
func TestVisitBatchRefusedForOneHoldRecordLandsTheOthers(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	ctx := context.Background()
	require.NoError(t, st.RecordHold(ctx, holdAt("x", "+14155550109", "paid-search")))
	w, hw := wiredWriters(st)
	var logs logbuf.Buffer
	hw.log = slog.New(slog.NewTextHandler(&logs, nil))
	hw.record(holdAt("a", "+14155550101", "paid-search"))
	hw.record(holdAt("x", "+14155550109", "main")) // the stored hold is in another pool
	hw.record(holdAt("b", "+14155550102", "paid-search"))

	s1, s2 := sessionAt("s1", 0), sessionAt("s2", 0)
	w.putSessionAndTouchpoint(ctx, st, s1, sessionTouch(s1))

	batches := st.log()
	require.Len(t, batches, 1, "the visit batch; its holds are set aside, not written on the request")
	assert.Len(t, batches[0].Holds, 3)
	_, err := st.Session(ctx, s1.ID)
	require.NoError(t, err, "the visit's records landed alone")
	_, err = st.Touchpoint(ctx, sessionTouch(s1).ID)
	require.NoError(t, err)
	assert.Equal(t, 3, w.stats().Pending, "the hold records set aside")

	// The next batch carries nothing: the set-aside records are not queued.
	w.putSession(ctx, st, s2)
	require.Len(t, st.log(), 2)
	assert.Empty(t, st.log()[1].Holds)

	hw.flush() // as run does: the set-aside records one at a time
	hs := allHolds(t, st)
	assert.Len(t, holdsOf(hs, "a"), 1)
	assert.Len(t, holdsOf(hs, "b"), 1)
	if x := holdsOf(hs, "x"); assert.Len(t, x, 1) {
		assert.Equal(t, "paid-search", x[0].Pool, "the conflicting record changed nothing")
	}
	stats := w.stats()
	assert.Zero(t, stats.Failed, "no visit record failed")
	assert.Zero(t, stats.Pending)
	errorLines := linesWith(logs.String(), "level=ERROR")
	require.Len(t, errorLines, 1, logs.String())
	assert.Contains(t, errorLines[0], "session=x")
	hw.close()
	w.close()
}

// A batch of one visit record refused because of a hold record it carried
// refuses the visit record too: len(together) == 1 in writeBehind.write
// takes the refusal for that record's own, though a hold caused it.
func TestVisitBatchOfOneRecordRefusedForAHoldRecordLandsTheRecord(t *testing.T) {
	st := &batchLog{Store: memstore.New()}
	ctx := context.Background()
	require.NoError(t, st.RecordHold(ctx, holdAt("x", "+14155550109", "paid-search")))
	w, hw := wiredWriters(st)
	hw.record(holdAt("x", "+14155550109", "main"))
	w.putSession(ctx, st, sessionAt("s", 0))
	_, err := st.Session(ctx, "s")
	require.NoError(t, err, "the session is not what the store refused")
	assert.Zero(t, w.stats().Failed)
	hw.close()
	w.close()
}

// ErasePerson writes what is queued before it erases, so no hold record
// of the person's session lands after the erasure: neither hold records
// queued with the visit's session nor one queued alone.
func TestErasePersonLeavesNoQueuedHoldRecordOfTheirSession(t *testing.T) {
	for _, queued := range []string{"with the visit's records", "alone"} {
		t.Run(queued, func(t *testing.T) {
			st := &batchLog{Store: memstore.New()}
			svc := unrunService(t, st, quietLogger())
			bg := context.Background()
			var a Assignment
			var err error
			if queued == "alone" {
				a, err = svc.Visit(bg, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
				require.NoError(t, err)
				hs := holdsOf(allHolds(t, st), a.SessionID)
				require.NotEmpty(t, hs, "the visit's batch carried its holds")
				end := hs[0]
				end.Until = end.From.Add(time.Minute) // the hold ends: the allocator records it again
				svc.holds.record(end)
				require.Equal(t, 1, svc.WriteBehindStats().Pending, "only the hold record is queued")
			} else {
				// Past its store deadline, the visit leaves everything queued.
				a, err = svc.Visit(ended(), VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
				require.NoError(t, err)
				require.Equal(t, 2+len(a.Swaps), svc.WriteBehindStats().Pending, "the session, its touchpoint and its holds")
			}
			person, err := st.Link(bg, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID},
				journey.Identifier{Kind: journey.IDPhone, Value: "+13105550100"})
			require.NoError(t, err)

			require.NoError(t, svc.ErasePerson(bg, person))
			require.NoError(t, svc.Close())
			assert.Empty(t, holdsOf(allHolds(t, st), a.SessionID))
			_, err = st.Session(bg, a.SessionID)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}
