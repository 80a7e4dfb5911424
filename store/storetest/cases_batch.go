package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

// batchCases are the cases of the optional store.Batches role; they run
// only for stores that implement it.
func (s *suite) batchCases() []testCase {
	return []testCase{
		{"WriteBatchStoresEverySessionTouchpointAndHold", s.writeBatchStoresEverySessionTouchpointAndHold},
		{"WriteBatchRepeatedIDsLastWinsHoldsMerge", s.writeBatchRepeatedIDsLastWinsHoldsMerge},
		{"WriteBatchInvalidRecordWritesNothing", s.writeBatchInvalidRecordWritesNothing},
		{"WriteBatchConflictIsErrConflictAndWritesNothing", s.writeBatchConflictIsErrConflictAndWritesNothing},
		{"WriteBatchEmptyIsNoOp", s.writeBatchEmptyIsNoOp},
	}
}

func (s *suite) batches(t *testing.T) (store.Store, store.Batches) {
	st := s.newStore(t)
	b, ok := st.(store.Batches)
	if !ok {
		t.Skipf("%T does not implement store.Batches", st)
	}
	return st, b
}

func (s *suite) writeBatchStoresEverySessionTouchpointAndHold(t *testing.T) {
	st, b := s.batches(t)
	var batch store.Batch
	for _, id := range []string{"s1", "s2", "s3"} {
		batch.Sessions = append(batch.Sessions, session(id, "v1", 0))
		batch.Touchpoints = append(batch.Touchpoints, touch("session:"+id, journey.TouchSession, "v1", id, 0))
		batch.Holds = append(batch.Holds, hold("+14155550101", id, 0, open))
	}
	require.NoError(t, b.WriteBatch(t.Context(), batch))
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"s1", "s2", "s3"}, sessionIDs(got))
	require.Equal(t, wantSession(batch.Sessions[0]), got[0])
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	tps, err := st.TouchpointsOf(t.Context(), p, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"session:s1", "session:s2", "session:s3"}, touchIDs(tps))
	require.Equal(t, wantTouch(batch.Touchpoints[0]), tps[0])
	holders, err := st.HoldersAt(t.Context(), "+14155550101", at(time.Minute), 0)
	require.NoError(t, err)
	require.Equal(t, []string{"s1", "s2", "s3"}, holderIDs(holders))
}

func (s *suite) writeBatchRepeatedIDsLastWinsHoldsMerge(t *testing.T) {
	st, b := s.batches(t)
	first, last := session("s1", "v1", 0), session("s1", "v1", 0)
	last.LastSeenAt, last.Number = at(20*time.Minute), "+14155550199"
	tp1, tp2 := touch("session:s1", journey.TouchSession, "v1", "s1", 0), touch("session:s1", journey.TouchSession, "v1", "s1", 0)
	tp2.Attrs = map[string]string{"n": "second"}
	start, end := hold("+14155550101", "s1", 0, open), hold("+14155550101", "s1", 0, 30*time.Minute)
	require.NoError(t, b.WriteBatch(t.Context(), store.Batch{
		Sessions:    []journey.Session{first, last},
		Touchpoints: []journey.Touchpoint{tp1, tp2},
		Holds:       []pool.HoldRecord{end, start}, // in either order, as RecordHold
	}))
	got, err := st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.Equal(t, wantSession(last), got)
	tp, err := st.Touchpoint(t.Context(), "session:s1")
	require.NoError(t, err)
	require.Equal(t, wantTouch(tp2), tp)
	holds, err := st.HoldsBetween(t.Context(), at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Len(t, holds, 1)
	require.Equal(t, utcMicro(end.Until), holds[0].Until, "the end record wins over a start that arrives after it")
}

func (s *suite) writeBatchInvalidRecordWritesNothing(t *testing.T) {
	bad := map[string]func(*store.Batch){
		"Session":    func(b *store.Batch) { b.Sessions[1].VisitorID = "" },
		"Touchpoint": func(b *store.Batch) { b.Touchpoints[0].ID = "" },
		"Hold":       func(b *store.Batch) { b.Holds[0].Number = "" },
	}
	for name, mutate := range bad {
		t.Run(name, func(t *testing.T) {
			st, b := s.batches(t)
			batch := store.Batch{
				Sessions:    []journey.Session{session("s1", "v1", 0), session("s2", "v1", 0)},
				Touchpoints: []journey.Touchpoint{touch("session:s1", journey.TouchSession, "v1", "s1", 0)},
				Holds:       []pool.HoldRecord{hold("+14155550101", "s1", 0, open)},
			}
			mutate(&batch)
			require.ErrorIs(t, b.WriteBatch(t.Context(), batch), store.ErrInvalid)
			requireBatchNotStored(t, st)
		})
	}
}

func (s *suite) writeBatchConflictIsErrConflictAndWritesNothing(t *testing.T) {
	conflicts := map[string]func(*testing.T, store.Store) store.Batch{
		"TouchpointOfAnotherKind": func(t *testing.T, st store.Store) store.Batch {
			require.NoError(t, st.AddTouchpoint(t.Context(), touch("x1", journey.TouchChat, "v9", "", 0)))
			return store.Batch{Touchpoints: []journey.Touchpoint{touch("x1", journey.TouchForm, "v9", "", 0)}}
		},
		"TouchpointRepeatedInTheBatchAsAnotherKind": func(t *testing.T, st store.Store) store.Batch {
			// As two AddTouchpoint calls would: the second conflicts with the first.
			return store.Batch{Touchpoints: []journey.Touchpoint{touch("x1", journey.TouchChat, "v9", "", 0), touch("x1", journey.TouchForm, "v9", "", 0)}}
		},
		"HoldInAnotherPool": func(t *testing.T, st store.Store) store.Batch {
			require.NoError(t, st.RecordHold(t.Context(), hold("+14155550109", "s9", 0, open)))
			h := hold("+14155550109", "s9", 0, open)
			h.Pool = "organic"
			return store.Batch{Holds: []pool.HoldRecord{h}}
		},
		"HoldRepeatedInTheBatchInAnotherPool": func(t *testing.T, st store.Store) store.Batch {
			// As two RecordHold calls would: the second conflicts with the first.
			h := hold("+14155550109", "s9", 0, open)
			h.Pool = "organic"
			return store.Batch{Holds: []pool.HoldRecord{hold("+14155550109", "s9", 0, open), h}}
		},
	}
	for name, setup := range conflicts {
		t.Run(name, func(t *testing.T) {
			st, b := s.batches(t)
			batch := setup(t, st)
			batch.Sessions = append(batch.Sessions, session("s1", "v1", 0))
			batch.Touchpoints = append([]journey.Touchpoint{touch("session:s1", journey.TouchSession, "v1", "s1", 0)}, batch.Touchpoints...)
			batch.Holds = append([]pool.HoldRecord{hold("+14155550101", "s1", 0, open)}, batch.Holds...)
			err := b.WriteBatch(t.Context(), batch)
			require.ErrorIs(t, err, store.ErrConflict)
			require.NotErrorIs(t, err, store.ErrInvalid, "a conflict is not an invalid record")
			requireBatchNotStored(t, st)
		})
	}
}

func (s *suite) writeBatchEmptyIsNoOp(t *testing.T) {
	st, b := s.batches(t)
	require.NoError(t, b.WriteBatch(t.Context(), store.Batch{}))
	requireBatchNotStored(t, st)
}

// requireBatchNotStored checks that nothing of the batches above is stored.
func requireBatchNotStored(t *testing.T, st store.Store) {
	t.Helper()
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Empty(t, got, "sessions")
	_, err = st.Touchpoint(t.Context(), "session:s1")
	require.ErrorIs(t, err, store.ErrNotFound, "touchpoints")
	holders, err := st.HoldersAt(t.Context(), "+14155550101", at(time.Minute), 0)
	require.NoError(t, err)
	require.Empty(t, holders, "holds")
}
