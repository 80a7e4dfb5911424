package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func (s *suite) putSessionRoundTripsEveryFieldInUTCMicroseconds(t *testing.T) {
	st := s.newStore(t)
	sess := session("s1", "v1", 0)
	require.NoError(t, st.PutSession(t.Context(), sess))
	got, err := st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.Equal(t, wantSession(sess), got)
	require.Equal(t, time.UTC, got.StartedAt.Location())
}

func (s *suite) putSessionZeroLastSeenStaysZero(t *testing.T) {
	st := s.newStore(t)
	sess := session("s1", "v1", 0)
	sess.LastSeenAt = time.Time{}
	sess.Source = journey.Session{}.Source
	sess.Number, sess.Pool, sess.LandingURL, sess.Referrer = "", "", "", ""
	sess.PageViews, sess.ExitURL = 0, ""
	require.NoError(t, st.PutSession(t.Context(), sess))
	got, err := st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.Equal(t, wantSession(sess), got)
	require.True(t, got.LastSeenAt.IsZero())
}

func (s *suite) putSessionUpsertReplacesBySameID(t *testing.T) {
	st := s.newStore(t)
	sess := session("s1", "v1", 0)
	require.NoError(t, st.PutSession(t.Context(), sess))
	require.NoError(t, st.PutSession(t.Context(), sess), "repeating a write is a no-op")
	sess.LastSeenAt = at(time.Hour)
	sess.Number = "+14155550199"
	// A page view of a live session: its count and exit page change.
	sess.PageViews, sess.ExitURL = sess.PageViews+1, "https://example.com/thanks"
	require.NoError(t, st.PutSession(t.Context(), sess))
	got, err := st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.Equal(t, wantSession(sess), got)
	all, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Len(t, all, 1)
}

// A session's ad ids (journey.AdIDs) round-trip through Session and
// SessionsOfVisitor; a write without them replaces them, as every field.
func (s *suite) putSessionKeepsAdIDsAndReplacesThem(t *testing.T) {
	st := s.newStore(t)
	sess := session("s1", "v1", 0)
	sess.AdIDs = journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", GASessionID: "1747132561",
		FBP: "fb.1.1596403881668.1116446470", FBC: "fb.1.1554763741205.AbCdEf_123-x", AdUserData: "granted", AdPersonalization: "denied"}
	plain := session("s2", "v1", time.Hour)
	require.NoError(t, st.PutSessions(t.Context(), []journey.Session{sess, plain}))
	got, err := st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.Equal(t, wantSession(sess), got)
	all, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Equal(t, []journey.Session{wantSession(sess), wantSession(plain)}, all)

	sess.AdIDs = journey.AdIDs{}
	require.NoError(t, st.PutSession(t.Context(), sess))
	got, err = st.Session(t.Context(), "s1")
	require.NoError(t, err)
	require.True(t, got.AdIDs.IsZero(), "ad ids %+v after a write without them", got.AdIDs)
}

func (s *suite) sessionMissingIsErrNotFound(t *testing.T) {
	st := s.newStore(t)
	_, err := st.Session(t.Context(), "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) sessionsOfVisitorOrderedByStartThenID(t *testing.T) {
	st := s.newStore(t)
	for _, sess := range []journey.Session{
		session("c", "v1", 2*time.Hour), session("b", "v1", time.Hour), session("a", "v1", 2*time.Hour),
		session("x", "v2", 0),
	} {
		require.NoError(t, st.PutSession(t.Context(), sess))
	}
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a", "c"}, sessionIDs(got))
	none, err := st.SessionsOfVisitor(t.Context(), "unknown")
	require.NoError(t, err)
	require.Empty(t, none)
}

func (s *suite) putSessionsBatchStoresAllLastDuplicateWins(t *testing.T) {
	st := s.newStore(t)
	batch := []journey.Session{session("a", "v1", 0), session("b", "v1", time.Minute), session("a", "v1", 0)}
	batch[2].Number = "+14155550177"
	require.NoError(t, st.PutSessions(t.Context(), batch))
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, sessionIDs(got))
	require.Equal(t, "+14155550177", got[0].Number)
	require.NoError(t, st.PutSessions(t.Context(), nil), "an empty batch is a no-op")
}

func (s *suite) putSessionsInvalidMemberWritesNothing(t *testing.T) {
	st := s.newStore(t)
	bad := session("", "v1", 0)
	err := st.PutSessions(t.Context(), []journey.Session{session("a", "v1", 0), bad})
	requireInvalid(t, err, "id")
	got, err := st.SessionsOfVisitor(t.Context(), "v1")
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s *suite) putSessionInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	cases := []struct {
		name   string
		mutate func(*journey.Session)
		field  string
	}{
		{"EmptyVisitor", func(sess *journey.Session) { sess.VisitorID = "" }, "visitor_id"},
		{"ZeroStart", func(sess *journey.Session) { sess.StartedAt = time.Time{} }, "started_at"},
		{"LastSeenBeforeStart", func(sess *journey.Session) { sess.LastSeenAt = sess.StartedAt.Add(-time.Second) }, "last_seen_at"},
		{"NegativePageViews", func(sess *journey.Session) { sess.PageViews = -1 }, "page_views"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sess := session("s-"+c.name, "v1", 0)
			c.mutate(&sess)
			requireInvalid(t, st.PutSession(t.Context(), sess), c.field)
			_, err := st.Session(t.Context(), sess.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}
