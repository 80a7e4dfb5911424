package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func personOf(t *testing.T, st store.Store, id journey.Identifier) string {
	t.Helper()
	p, err := st.PersonOf(t.Context(), id)
	require.NoError(t, err)
	return p
}

func (s *suite) linkTwoUnknownMakesOnePerson(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	require.NotEmpty(t, p)
	require.Equal(t, p, personOf(t, st, visitor("v1")))
	require.Equal(t, p, personOf(t, st, user("u1")))
	got, err := st.Identifiers(t.Context(), p)
	require.NoError(t, err)
	require.Equal(t, []journey.Identifier{user("u1"), visitor("v1")}, got, "ordered by kind, then value")
}

func (s *suite) linkTwiceIsNoOp(t *testing.T) {
	st := s.newStore(t)
	p1, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	p2, err := st.Link(t.Context(), user("u1"), visitor("v1"))
	require.NoError(t, err)
	require.Equal(t, p1, p2)
	got, err := st.Identifiers(t.Context(), p1)
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func (s *suite) linkUnknownJoinsKnownPerson(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	q, err := st.Link(t.Context(), phone("+14155550123"), visitor("v1"))
	require.NoError(t, err)
	require.Equal(t, p, q)
	require.Equal(t, p, personOf(t, st, phone("+14155550123")))
}

func (s *suite) linkMergeKeepsOlderPersonIDAndBothHistories(t *testing.T) {
	st := s.newStore(t)
	older, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	newer, err := st.Link(t.Context(), visitor("v2"), phone("+14155550123"))
	require.NoError(t, err)
	require.NotEqual(t, older, newer)
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("t1", journey.TouchSession, "v1", "", 0)))
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("t2", journey.TouchSession, "v2", "", time.Minute)))

	merged, err := st.Link(t.Context(), phone("+14155550123"), user("u1"))
	require.NoError(t, err)
	require.Equal(t, older, merged, "the person created first survives")
	for _, id := range []journey.Identifier{visitor("v1"), user("u1"), visitor("v2"), phone("+14155550123")} {
		require.Equal(t, older, personOf(t, st, id), id.String())
	}
	all, err := st.Identifiers(t.Context(), older)
	require.NoError(t, err)
	require.Len(t, all, 4)
	_, err = st.Identifiers(t.Context(), newer)
	require.ErrorIs(t, err, store.ErrNotFound, "the merged-away person id is gone")
	tps, err := st.TouchpointsOf(t.Context(), older, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"t1", "t2"}, touchIDs(tps), "both histories are kept")
}

func (s *suite) resolveCreatesOnceAndIsStable(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	q, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	require.Equal(t, p, q)
	r, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	require.Equal(t, p, r, "linking keeps the existing person id")
}

func (s *suite) personOfUnknownIsErrNotFound(t *testing.T) {
	st := s.newStore(t)
	_, err := st.PersonOf(t.Context(), visitor("nobody"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Identifiers(t.Context(), "p_nobody")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) linkInvalidIdentifierNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	_, err := st.Link(t.Context(), visitor("v1"), journey.Identifier{Kind: "shoe-size", Value: "9"})
	requireInvalid(t, err, "kind")
	_, err = st.PersonOf(t.Context(), visitor("v1"))
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Resolve(t.Context(), user(""))
	requireInvalid(t, err, "value")
}

func (s *suite) identifiersOrderedByKindThenValue(t *testing.T) {
	st := s.newStore(t)
	email := journey.Identifier{Kind: journey.IDEmailHash, Value: "h:e1"}
	var p string
	for _, id := range []journey.Identifier{visitor("v2"), user("u1"), visitor("v10"), phone("+14155550123"), visitor("v1")} {
		var err error
		p, err = st.Link(t.Context(), email, id)
		require.NoError(t, err)
	}
	got, err := st.Identifiers(t.Context(), p)
	require.NoError(t, err)
	require.Equal(t, []journey.Identifier{
		email, phone("+14155550123"), user("u1"), visitor("v1"), visitor("v10"), visitor("v2"),
	}, got)
}

func (s *suite) attachUnknownJoinsThePersonOfTo(t *testing.T) {
	st := s.newStore(t)
	contact := journey.Identifier{Kind: journey.IDChatContact, Value: "intercom:c1"}
	p, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	got, attached, err := st.Attach(t.Context(), contact, visitor("v1"))
	require.NoError(t, err)
	require.True(t, attached)
	require.Equal(t, p, got)
	require.Equal(t, p, personOf(t, st, contact))
	// Both unknown: a new person of both.
	q, attached, err := st.Attach(t.Context(), user("u2"), visitor("v2"))
	require.NoError(t, err)
	require.True(t, attached)
	require.NotEqual(t, p, q)
	ids, err := st.Identifiers(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, []journey.Identifier{user("u2"), visitor("v2")}, ids)
}

func (s *suite) attachKnownChangesNothingAndNeverMerges(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	q, err := st.Link(t.Context(), visitor("v2"), user("u2"))
	require.NoError(t, err)
	got, attached, err := st.Attach(t.Context(), user("u1"), visitor("v2"))
	require.NoError(t, err)
	require.False(t, attached)
	require.Equal(t, p, got, "the person it belongs to")
	got, attached, err = st.Attach(t.Context(), user("u1"), visitor("v1"))
	require.NoError(t, err)
	require.False(t, attached, "already theirs")
	require.Equal(t, p, got)
	// to unknown: it is not created either.
	got, attached, err = st.Attach(t.Context(), user("u2"), visitor("v3"))
	require.NoError(t, err)
	require.False(t, attached)
	require.Equal(t, q, got)
	_, err = st.PersonOf(t.Context(), visitor("v3"))
	require.ErrorIs(t, err, store.ErrNotFound)
	for person, want := range map[string][]journey.Identifier{
		p: {user("u1"), visitor("v1")}, q: {user("u2"), visitor("v2")}} {
		ids, err := st.Identifiers(t.Context(), person)
		require.NoError(t, err)
		require.Equal(t, want, ids)
	}
}

func (s *suite) attachInvalidIdentifierNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	_, _, err := st.Attach(t.Context(), journey.Identifier{Kind: "shoe-size", Value: "9"}, visitor("v1"))
	requireInvalid(t, err, "kind")
	_, _, err = st.Attach(t.Context(), visitor("v1"), user(""))
	requireInvalid(t, err, "value")
	_, err = st.PersonOf(t.Context(), visitor("v1"))
	require.ErrorIs(t, err, store.ErrNotFound)
}
