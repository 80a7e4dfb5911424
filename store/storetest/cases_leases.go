package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store"
)

const numA, numB = "+14155550100", "+14155550101"

func recordAll(t *testing.T, st store.Store, hs ...pool.HoldRecord) {
	t.Helper()
	for _, h := range hs {
		require.NoError(t, st.RecordHold(t.Context(), h))
	}
}

func allHolds(t *testing.T, st store.Store) []pool.HoldRecord {
	t.Helper()
	hs, err := st.HoldsBetween(t.Context(), at(-1000*time.Hour), at(1000*time.Hour))
	require.NoError(t, err)
	return hs
}

func wantHold(h pool.HoldRecord) pool.HoldRecord {
	h.From, h.Until = utcMicro(h.From), utcMicro(h.Until)
	return h
}

func (s *suite) recordHoldStartTwiceIsOneHold(t *testing.T) {
	st := s.newStore(t)
	h := hold(numA, "s1", 0, open)
	recordAll(t, st, h, h)
	require.Equal(t, []pool.HoldRecord{wantHold(h)}, allHolds(t, st))
}

func (s *suite) recordHoldKeyIsNumberSessionAndFrom(t *testing.T) {
	st := s.newStore(t)
	first := hold(numA, "s1", 0, 10*time.Minute)
	again := hold(numA, "s1", time.Hour, open)         // the same session holds the number again later
	otherNumber := hold(numB, "s1", 0, 10*time.Minute) // and held another at the same time
	otherSession := hold(numA, "s2", 0, open)          // another session, same number and start
	recordAll(t, st, first, again, otherNumber, otherSession)
	require.Equal(t, []pool.HoldRecord{wantHold(first), wantHold(otherSession), wantHold(otherNumber), wantHold(again)}, allHolds(t, st))
}

func (s *suite) recordHoldEndSetsUntilInEitherOrder(t *testing.T) {
	st := s.newStore(t)
	start, end := hold(numA, "s1", 0, open), hold(numA, "s1", 0, 10*time.Minute)
	start2, end2 := hold(numB, "s1", 0, open), hold(numB, "s1", 0, 10*time.Minute)
	recordAll(t, st, start, end, end2, start2, end2)
	require.Equal(t, []pool.HoldRecord{wantHold(end), wantHold(end2)}, allHolds(t, st))
}

func (s *suite) recordHoldUntilOnlyMovesLaterReusedOnlyTurnsOn(t *testing.T) {
	st := s.newStore(t)
	late := hold(numA, "s1", 0, 20*time.Minute)
	late.Reused = true
	early := hold(numA, "s1", 0, 10*time.Minute)
	recordAll(t, st, late, early)
	require.Equal(t, []pool.HoldRecord{wantHold(late)}, allHolds(t, st))
}

func (s *suite) recordHoldKeepsNonZeroToken(t *testing.T) {
	st := s.newStore(t)
	h := hold(numA, "s1", 0, open)
	h.Token = 0
	withToken := hold(numA, "s1", 0, 5*time.Minute)
	withToken.Token = 1<<63 + 5 // tokens use all 64 bits
	recordAll(t, st, h, withToken)
	hs := allHolds(t, st)
	require.Len(t, hs, 1)
	require.Equal(t, pool.Token(1<<63+5), hs[0].Token)

	// The other way round: a later record without a token keeps it.
	first := hold(numB, "s1", 0, open)
	first.Token = 42
	later := hold(numB, "s1", 0, 5*time.Minute)
	later.Token = 0
	recordAll(t, st, first, later)
	hs = allHolds(t, st)
	require.Len(t, hs, 2)
	require.Equal(t, numB, hs[1].Number)
	require.Equal(t, pool.Token(42), hs[1].Token)
}

func (s *suite) recordHoldOtherPoolIsErrConflict(t *testing.T) {
	st := s.newStore(t)
	h := hold(numA, "s1", 0, open)
	recordAll(t, st, h)
	h.Pool = "organic"
	require.ErrorIs(t, st.RecordHold(t.Context(), h), store.ErrConflict)
	require.Equal(t, "paid", allHolds(t, st)[0].Pool)
}

func (s *suite) holdersAtReturnsHoldsOverlappingGraceWindowOldestFirst(t *testing.T) {
	st := s.newStore(t)
	recordAll(t, st,
		hold(numA, "s1", 0, 10*time.Minute),
		hold(numA, "s2", 20*time.Minute, 30*time.Minute),
		hold(numA, "s3", 40*time.Minute, open),
		hold(numA, "s0", 20*time.Minute, 25*time.Minute), // same From as s2: ordered by session id
		hold(numB, "other", 0, open),
	)
	cases := []struct {
		name  string
		at    time.Duration
		grace time.Duration
		want  []string
	}{
		{"InsideFirst", 5 * time.Minute, 0, []string{"s1"}},
		{"AtExactEndCounts", 10 * time.Minute, 0, []string{"s1"}},
		{"GapWithoutGrace", 15 * time.Minute, 0, nil},
		{"GapWithGrace", 15 * time.Minute, 5 * time.Minute, []string{"s1"}},
		{"TwoAtOnceOrderedBySession", 22 * time.Minute, 0, []string{"s0", "s2"}},
		{"GraceReachesBack", 45 * time.Minute, 30 * time.Minute, []string{"s0", "s2", "s3"}},
		{"OpenHoldStillHeldLater", 500 * time.Hour, 0, []string{"s3"}},
		{"BeforeAnyHold", -time.Minute, time.Hour, nil},
		{"NegativeGraceIsZero", 15 * time.Minute, -time.Hour, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs, err := st.HoldersAt(t.Context(), numA, at(c.at), c.grace)
			require.NoError(t, err)
			require.Equal(t, c.want, nilIfEmpty(holderIDs(hs)))
		})
	}
}

func (s *suite) holdersAtOpenHoldIsLiveWithZeroUntil(t *testing.T) {
	st := s.newStore(t)
	closed := hold(numA, "s1", 0, 10*time.Minute)
	closed.Reused = true
	recordAll(t, st, closed, hold(numA, "s2", 5*time.Minute, open))
	hs, err := st.HoldersAt(t.Context(), numA, at(7*time.Minute), 0)
	require.NoError(t, err)
	require.Equal(t, []pool.Holder{
		{Pool: "paid", Number: numA, SessionID: "s1", From: utcMicro(at(0)), Until: utcMicro(at(10 * time.Minute)), Reused: true},
		{Pool: "paid", Number: numA, SessionID: "s2", From: utcMicro(at(5 * time.Minute)), Live: true},
	}, hs)
}

func (s *suite) holdersAtFindsLongHoldAmongManyShort(t *testing.T) {
	st := s.newStore(t)
	// A week-long hold must be found even though many short holds of the
	// same number started after it.
	recordAll(t, st, hold(numA, "long", 0, 7*24*time.Hour))
	for i := range 20 {
		recordAll(t, st, hold(numA, fmt.Sprintf("short%02d", i), time.Duration(i+1)*time.Hour, time.Duration(i+1)*time.Hour+time.Minute))
	}
	hs, err := st.HoldersAt(t.Context(), numA, at(3*24*time.Hour), 0)
	require.NoError(t, err)
	require.Equal(t, []string{"long"}, holderIDs(hs))
	hs, err = st.HoldersAt(t.Context(), numA, at(5*time.Hour+30*time.Second), 0)
	require.NoError(t, err)
	require.Equal(t, []string{"long", "short04"}, holderIDs(hs))
}

func (s *suite) holdersAtUnknownNumberIsEmpty(t *testing.T) {
	st := s.newStore(t)
	hs, err := st.HoldersAt(t.Context(), "+14155559999", at(0), time.Hour)
	require.NoError(t, err)
	require.Empty(t, hs)
}

func (s *suite) holdsBetweenOverlapOrderedByFromNumberSession(t *testing.T) {
	st := s.newStore(t)
	recordAll(t, st,
		hold(numB, "s2", 0, 10*time.Minute),
		hold(numA, "s3", 0, 10*time.Minute),
		hold(numA, "s1", 0, 10*time.Minute),
		hold(numA, "old", -2*time.Hour, -time.Hour),
		hold(numA, "later", time.Hour, open),
		hold(numA, "open", -3*time.Hour, open),
		hold(numB, "endsAtFrom", -time.Hour, 5*time.Minute), // Until >= from: overlaps
	)
	hs, err := st.HoldsBetween(t.Context(), at(5*time.Minute), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"open", "endsAtFrom", "s1", "s3", "s2"}, ids(hs, func(h pool.HoldRecord) string { return h.SessionID }))
}

func (s *suite) recordHoldInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	cases := []struct {
		name   string
		mutate func(*pool.HoldRecord)
		field  string
	}{
		{"BadNumber", func(h *pool.HoldRecord) { h.Number = "4155550100" }, "number"},
		{"LetterInNumber", func(h *pool.HoldRecord) { h.Number = "+1415555O100" }, "number"},
		{"EmptySession", func(h *pool.HoldRecord) { h.SessionID = "" }, "session_id"},
		{"EmptyPool", func(h *pool.HoldRecord) { h.Pool = "" }, "pool"},
		{"ZeroFrom", func(h *pool.HoldRecord) { h.From = time.Time{} }, "from"},
		{"UntilBeforeFrom", func(h *pool.HoldRecord) { h.Until = h.From.Add(-time.Second) }, "until"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := hold(numA, "s1", 0, 10*time.Minute)
			c.mutate(&h)
			requireInvalid(t, st.RecordHold(t.Context(), h), c.field)
			require.Empty(t, allHolds(t, st))
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
