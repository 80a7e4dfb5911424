package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func chatID(v string) journey.Identifier {
	return journey.Identifier{Kind: journey.IDChatContact, Value: "crisp:" + v}
}

func claim(id journey.Identifier, sessionID, visitorID string, d time.Duration) journey.Claim {
	return journey.Claim{ID: id, SessionID: sessionID, VisitorID: visitorID, At: at(d)}
}

func claimSessions(xs []journey.Claim) []string {
	return ids(xs, func(c journey.Claim) string { return c.SessionID })
}

func (s *suite) putClaimRoundTripsInUTCMicroseconds(t *testing.T) {
	st := s.newStore(t)
	c := claim(chatID("conv-1"), "s1", "v1", time.Minute)
	require.NoError(t, st.PutClaim(t.Context(), c))
	got, err := st.ClaimsOf(t.Context(), c.ID)
	require.NoError(t, err)
	c.At = utcMicro(c.At)
	require.Equal(t, []journey.Claim{c}, got)
}

func (s *suite) putClaimRepeatedKeepsTheEarliestAt(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	id := chatID("conv-1")
	for _, d := range []time.Duration{time.Hour, time.Minute, 2 * time.Hour} {
		require.NoError(t, st.PutClaim(ctx, claim(id, "s1", "v1", d)))
	}
	got, err := st.ClaimsOf(ctx, id)
	require.NoError(t, err)
	require.Len(t, got, 1, "one claim per identifier and session")
	require.Equal(t, utcMicro(at(time.Minute)), got[0].At)
}

func (s *suite) putClaimKeyIsIdentifierAndSession(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	a, b := chatID("conv-1"), chatID("conv-2")
	require.NoError(t, st.PutClaim(ctx, claim(a, "s1", "v1", 0)))
	require.NoError(t, st.PutClaim(ctx, claim(a, "s2", "v2", 0)))
	require.NoError(t, st.PutClaim(ctx, claim(b, "s1", "v1", 0)))
	got, err := st.ClaimsOf(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []string{"s1", "s2"}, claimSessions(got))
	got, err = st.ClaimsOf(ctx, b)
	require.NoError(t, err)
	require.Equal(t, []string{"s1"}, claimSessions(got))
}

func (s *suite) putClaimInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	err := st.PutClaim(ctx, journey.Claim{ID: journey.Identifier{Kind: journey.IDChatContact}})
	requireInvalid(t, err, "value", "session_id", "visitor_id", "at")
	got, err := st.ClaimsOf(ctx, journey.Identifier{Kind: journey.IDChatContact})
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s *suite) claimsOfOrderedByTimeThenSession(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	id := chatID("conv-1")
	for _, c := range []journey.Claim{claim(id, "s3", "v3", time.Minute), claim(id, "s2", "v2", 0),
		claim(id, "s1", "v1", time.Minute), claim(chatID("other"), "s0", "v0", -time.Hour)} {
		require.NoError(t, st.PutClaim(ctx, c))
	}
	got, err := st.ClaimsOf(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"s2", "s1", "s3"}, claimSessions(got))
}

// A claim is not a link: two visitors claiming one identifier stay two
// persons, and the identifier stays unknown to the identity graph.
func (s *suite) claimNeverMergesPersons(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	id := chatID("conv-1")
	p1, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	p2, err := st.Resolve(ctx, visitor("v2"))
	require.NoError(t, err)
	require.NoError(t, st.PutClaim(ctx, claim(id, "s1", "v1", 0)))
	require.NoError(t, st.PutClaim(ctx, claim(id, "s2", "v2", 0)))
	require.Equal(t, p1, personOf(t, st, visitor("v1")))
	require.Equal(t, p2, personOf(t, st, visitor("v2")))
	require.NotEqual(t, p1, p2)
	_, err = st.PersonOf(ctx, id)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) deleteBeforeDeletesClaimsMadeBeforeOrWithTheirSessions(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	cut := at(24 * time.Hour)
	require.NoError(t, st.PutSession(ctx, session("old", "v1", -time.Hour)))
	require.NoError(t, st.PutSession(ctx, session("new", "v2", 48*time.Hour)))
	id := chatID("conv-1")
	// The old session's claim is recent (the claim came late); the other
	// claim is old, of a session the store does not have.
	for _, c := range []journey.Claim{claim(id, "old", "v1", 30*time.Hour), claim(id, "gone", "v3", time.Hour),
		claim(id, "new", "v2", 48*time.Hour)} {
		require.NoError(t, st.PutClaim(ctx, c))
	}
	n, err := st.DeleteBefore(ctx, cut)
	require.NoError(t, err)
	require.Equal(t, int64(3), n, "the old session and two claims")
	got, err := st.ClaimsOf(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, claimSessions(got))
}

func (s *suite) erasePersonDeletesTheClaimsOfTheirVisitorsAndSessions(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	p, err := st.Link(ctx, visitor("v1"), user("u1"))
	require.NoError(t, err)
	_, err = st.Resolve(ctx, visitor("v2"))
	require.NoError(t, err)
	require.NoError(t, st.PutSessions(ctx, []journey.Session{session("s1", "v1", 0), session("s2", "v2", 0)}))
	id := chatID("conv-1")
	for _, c := range []journey.Claim{claim(id, "s1", "v1", 0), claim(id, "s2", "v2", time.Minute),
		claim(chatID("contact-1"), "s1", "v1", 0)} {
		require.NoError(t, st.PutClaim(ctx, c))
	}
	// A claim naming only their session (its visitor field is another's)
	// is theirs too.
	require.NoError(t, st.PutClaim(ctx, claim(chatID("conv-2"), "s1", "v-other", 0)))

	require.NoError(t, st.ErasePerson(ctx, p))

	got, err := st.ClaimsOf(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"s2"}, claimSessions(got), "the other visitor's claim stays")
	for _, other := range []journey.Identifier{chatID("contact-1"), chatID("conv-2")} {
		got, err = st.ClaimsOf(ctx, other)
		require.NoError(t, err)
		require.Empty(t, got, other.String())
	}
}
