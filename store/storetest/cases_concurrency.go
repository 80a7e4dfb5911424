package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

type poolHold = pool.HoldRecord

const writers = 8

func (s *suite) parallelCallbacksOfOneCallLoseNoUpdate(t *testing.T) {
	st := s.newStore(t)
	// Each writer brings a fact no other has (the longest duration, the
	// terminal status, the earliest start); the merge must hold them all.
	err := parallel(writers, func(i int) error {
		ev := call("CA1")
		ev.Duration = time.Duration(i+1) * time.Second
		ev.StartedAt = at(time.Duration(writers-i) * time.Second)
		ev.Status = provider.StatusRinging
		if i == 3 {
			ev.Status = provider.StatusCompleted
			ev.CallerName = "THE ONLY NAME"
		}
		for range 3 {
			if _, err := st.RecordCall(t.Context(), ev); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	got, err := st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, provider.StatusCompleted, got.Status)
	require.Equal(t, writers*time.Second, got.Duration)
	require.Equal(t, utcMicro(at(time.Second)), got.StartedAt)
	require.Equal(t, "THE ONLY NAME", got.CallerName)
}

func (s *suite) parallelLinksToOnePersonLoseNoIdentifier(t *testing.T) {
	st := s.newStore(t)
	// Half the writers link to a shared hub, half build their own pair
	// first and then merge it into the hub: every identifier must end up
	// on one person.
	err := parallel(writers, func(i int) error {
		a := visitor(fmt.Sprintf("v%d", i))
		b := user(fmt.Sprintf("u%d", i))
		if i%2 == 0 {
			if _, err := st.Link(t.Context(), a, visitor("hub")); err != nil {
				return err
			}
			_, err := st.Link(t.Context(), b, a)
			return err
		}
		if _, err := st.Link(t.Context(), a, b); err != nil {
			return err
		}
		_, err := st.Link(t.Context(), visitor("hub"), b)
		return err
	})
	require.NoError(t, err)
	p := personOf(t, st, visitor("hub"))
	all, err := st.Identifiers(t.Context(), p)
	require.NoError(t, err)
	require.Len(t, all, 2*writers+1)
	for i := range writers {
		require.Equal(t, p, personOf(t, st, user(fmt.Sprintf("u%d", i))))
	}
}

func (s *suite) parallelAttachesOfOneIDNeverMerge(t *testing.T) {
	st := s.newStore(t)
	// Each writer attaches one shared id to its own person, as two chat
	// webhooks of one conversation joining different sessions do: exactly
	// one attaches it, every writer is told that person, and no two
	// persons merge.
	persons := make([]string, writers)
	for i := range writers {
		p, err := st.Link(t.Context(), visitor(fmt.Sprintf("v%d", i)), user(fmt.Sprintf("u%d", i)))
		require.NoError(t, err)
		persons[i] = p
	}
	shared := journey.Identifier{Kind: journey.IDChatContact, Value: "intercom:conversation/c1"}
	got := make([]string, writers)
	attached := make([]bool, writers)
	err := parallel(writers, func(i int) error {
		var err error
		got[i], attached[i], err = st.Attach(t.Context(), shared, visitor(fmt.Sprintf("v%d", i)))
		return err
	})
	require.NoError(t, err)
	owner := personOf(t, st, shared)
	n := 0
	for i := range writers {
		require.Equal(t, owner, got[i], "writer %d", i)
		if attached[i] {
			n++
			require.Equal(t, persons[i], owner, "writer %d attached it to its person", i)
		}
	}
	require.Equal(t, 1, n, "exactly one attaches it")
	for i, p := range persons {
		require.Equal(t, p, personOf(t, st, visitor(fmt.Sprintf("v%d", i))), "person %d is still its own", i)
		ids, err := st.Identifiers(t.Context(), p)
		require.NoError(t, err)
		want := 2
		if p == owner {
			want = 3
		}
		require.Len(t, ids, want, "person %d", i)
	}
}

func (s *suite) parallelHoldStartAndEndConverge(t *testing.T) {
	st := s.newStore(t)
	err := parallel(writers, func(i int) error {
		h := hold(numA, fmt.Sprintf("s%d", i%2), 0, open)
		if i >= writers/2 {
			h.Until = at(time.Duration(i) * time.Minute)
		}
		return st.RecordHold(t.Context(), h)
	})
	require.NoError(t, err)
	hs := allHolds(t, st)
	require.Len(t, hs, 2)
	for _, h := range hs {
		require.False(t, h.Until.IsZero(), "an end record is never lost to a start")
	}
	require.Equal(t, utcMicro(at(time.Duration(writers-2)*time.Minute)), hs[0].Until)
	require.Equal(t, utcMicro(at(time.Duration(writers-1)*time.Minute)), hs[1].Until)
}

func (s *suite) parallelSessionBatchesAllLand(t *testing.T) {
	st := s.newStore(t)
	err := parallel(writers, func(i int) error {
		batch := make([]journey.Session, 10)
		for j := range batch {
			batch[j] = session(fmt.Sprintf("s%d-%d", i, j), "v1", time.Duration(i*10+j)*time.Second)
		}
		return st.PutSessions(t.Context(), batch)
	})
	require.NoError(t, err)
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Len(t, got, writers*10)
}

// An erasure racing the write of a call record derived before it: in
// either order nothing of the person is left. The record is written and
// then erased, or it is refused as the call is gone.
func (s *suite) erasePersonRacingPutCallRecordLeavesNothingOfThem(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const rounds = 24
	refused := 0
	for i := range rounds {
		rec := callRecordOf(fmt.Sprintf("CA-race-%d", i), fmt.Sprintf("+1415555%04d", 2000+i),
			fmt.Sprintf("v-race-%d", i), "", true)
		recordCallOf(t, st, rec)
		p, err := st.Link(ctx, rec.Caller.Phone, rec.Caller.Visitor)
		require.NoError(t, err)
		var putErr error
		// Which goroutine writes alternates, so neither always starts first.
		require.NoError(t, parallel(2, func(j int) error {
			if (i+j)%2 == 0 {
				putErr = st.PutCallRecord(ctx, rec, msg("crm/"+rec.Conversion.ID, "crm", rec.Conversion.ID, 0))
				return nil
			}
			return st.ErasePerson(ctx, p)
		}))
		if putErr != nil {
			require.ErrorIs(t, putErr, store.ErrNotFound, "round %d", i)
			refused++
		}
		_, err = st.Call(ctx, "twilio", rec.Attribution.CallID)
		require.ErrorIs(t, err, store.ErrNotFound, "round %d: the call", i)
		requireNothingOfCallRecord(t, s, st, rec)
	}
	t.Logf("%d of %d records came after the erasure and were refused", refused, rounds)
}
