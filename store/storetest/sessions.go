package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

var sessionCases = []testCase{
	{"PutSessionRoundTripsEveryFieldInUTCMicroseconds", func(t *testing.T, st store.Store) {
		s := session("s1", "v1", 0)
		require.NoError(t, st.PutSession(t.Context(), s))
		got, err := st.Session(t.Context(), "s1")
		require.NoError(t, err)
		require.Equal(t, wantSession(s), got)
		require.Equal(t, time.UTC, got.StartedAt.Location())
	}},
	{"PutSessionZeroLastSeenStaysZero", func(t *testing.T, st store.Store) {
		s := session("s1", "v1", 0)
		s.LastSeenAt = time.Time{}
		s.Source = journey.Session{}.Source
		s.Number, s.Pool, s.LandingURL, s.Referrer = "", "", "", ""
		require.NoError(t, st.PutSession(t.Context(), s))
		got, err := st.Session(t.Context(), "s1")
		require.NoError(t, err)
		require.Equal(t, wantSession(s), got)
		require.True(t, got.LastSeenAt.IsZero())
	}},
	{"PutSessionUpsertReplacesBySameID", func(t *testing.T, st store.Store) {
		s := session("s1", "v1", 0)
		require.NoError(t, st.PutSession(t.Context(), s))
		require.NoError(t, st.PutSession(t.Context(), s), "repeating a write is a no-op")
		s.LastSeenAt = at(time.Hour)
		s.Number = "+14155550199"
		require.NoError(t, st.PutSession(t.Context(), s))
		got, err := st.Session(t.Context(), "s1")
		require.NoError(t, err)
		require.Equal(t, wantSession(s), got)
		all, err := st.SessionsOfVisitor(t.Context(), "v1")
		require.NoError(t, err)
		require.Len(t, all, 1)
	}},
	{"SessionMissingIsErrNotFound", func(t *testing.T, st store.Store) {
		_, err := st.Session(t.Context(), "nope")
		require.ErrorIs(t, err, store.ErrNotFound)
	}},
	{"SessionsOfVisitorOrderedByStartThenID", func(t *testing.T, st store.Store) {
		for _, s := range []journey.Session{
			session("c", "v1", 2*time.Hour), session("b", "v1", time.Hour), session("a", "v1", 2*time.Hour),
			session("x", "v2", 0),
		} {
			require.NoError(t, st.PutSession(t.Context(), s))
		}
		got, err := st.SessionsOfVisitor(t.Context(), "v1")
		require.NoError(t, err)
		require.Equal(t, []string{"b", "a", "c"}, sessionIDs(got))
		none, err := st.SessionsOfVisitor(t.Context(), "unknown")
		require.NoError(t, err)
		require.Empty(t, none)
	}},
	{"PutSessionsBatchStoresAllLastDuplicateWins", func(t *testing.T, st store.Store) {
		batch := []journey.Session{session("a", "v1", 0), session("b", "v1", time.Minute), session("a", "v1", 0)}
		batch[2].Number = "+14155550177"
		require.NoError(t, st.PutSessions(t.Context(), batch))
		got, err := st.SessionsOfVisitor(t.Context(), "v1")
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, sessionIDs(got))
		require.Equal(t, "+14155550177", got[0].Number)
		require.NoError(t, st.PutSessions(t.Context(), nil), "an empty batch is a no-op")
	}},
	{"PutSessionsInvalidMemberWritesNothing", func(t *testing.T, st store.Store) {
		bad := session("", "v1", 0)
		err := st.PutSessions(t.Context(), []journey.Session{session("a", "v1", 0), bad})
		requireInvalid(t, err, "id")
		got, err := st.SessionsOfVisitor(t.Context(), "v1")
		require.NoError(t, err)
		require.Empty(t, got)
	}},
	{"PutSessionInvalidNamesFieldAndWritesNothing", func(t *testing.T, st store.Store) {
		cases := []struct {
			name   string
			mutate func(*journey.Session)
			field  string
		}{
			{"EmptyVisitor", func(s *journey.Session) { s.VisitorID = "" }, "visitor_id"},
			{"ZeroStart", func(s *journey.Session) { s.StartedAt = time.Time{} }, "started_at"},
			{"LastSeenBeforeStart", func(s *journey.Session) { s.LastSeenAt = s.StartedAt.Add(-time.Second) }, "last_seen_at"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := session("s-"+c.name, "v1", 0)
				c.mutate(&s)
				requireInvalid(t, st.PutSession(t.Context(), s), c.field)
				_, err := st.Session(t.Context(), s.ID)
				require.ErrorIs(t, err, store.ErrNotFound)
			})
		}
	}},
}
