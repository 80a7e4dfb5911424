package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func wantTouch(tp journey.Touchpoint) journey.Touchpoint {
	tp.At = utcMicro(tp.At)
	return tp
}

func (s *suite) addTouchpointRoundTripsAndIsIdempotentByID(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	tp := touch("session:s1", journey.TouchSession, "v1", "s1", 0)
	require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	got, err := st.TouchpointsOf(t.Context(), p, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []journey.Touchpoint{wantTouch(tp)}, got)
}

func (s *suite) addTouchpointSameIDReplaces(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	tp := touch("call:twilio/CA1", journey.TouchCall, "v1", "", 0)
	require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	tp.Attrs = map[string]string{"duration": "90s"}
	require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	got, err := st.TouchpointsOf(t.Context(), p, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []journey.Touchpoint{wantTouch(tp)}, got)
}

func (s *suite) addTouchpointSameIDOtherKindIsErrConflict(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("x1", journey.TouchChat, "v1", "", 0)))
	err := st.AddTouchpoint(t.Context(), touch("x1", journey.TouchForm, "v1", "", 0))
	require.ErrorIs(t, err, store.ErrConflict)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	got, err := st.TouchpointsOf(t.Context(), p, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []journey.Touchpoint{wantTouch(touch("x1", journey.TouchChat, "v1", "", 0))}, got, "a refused write changes nothing")
}

func (s *suite) touchpointsOfHalfOpenWindowOrderedByTimeThenID(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Link(t.Context(), visitor("v1"), visitor("v2"))
	require.NoError(t, err)
	for _, tp := range []journey.Touchpoint{
		touch("b", journey.TouchSession, "v1", "", time.Minute),
		touch("a", journey.TouchChat, "v2", "", time.Minute),
		touch("first", journey.TouchSession, "v2", "", 0),
		touch("atEnd", journey.TouchSession, "v1", "", time.Hour),
		touch("before", journey.TouchSession, "v1", "", -time.Nanosecond*1000),
		touch("stranger", journey.TouchSession, "v9", "", time.Minute),
	} {
		require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	}
	got, err := st.TouchpointsOf(t.Context(), p, at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"first", "a", "b"}, touchIDs(got))
}

func (s *suite) touchpointsOfFollowsSessionToVisitor(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	require.NoError(t, st.PutSession(t.Context(), session("s1", "v1", 0)))
	require.NoError(t, st.PutSession(t.Context(), session("s9", "v9", 0)))
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("bySession", journey.TouchForm, "", "s1", time.Minute)))
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("otherSession", journey.TouchForm, "", "s9", time.Minute)))
	got, err := st.TouchpointsOf(t.Context(), p, at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"bySession"}, touchIDs(got))
}

func (s *suite) touchpointsOfUnknownPersonIsEmpty(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.AddTouchpoint(t.Context(), touch("t1", journey.TouchSession, "v1", "", 0)))
	got, err := st.TouchpointsOf(t.Context(), "p_nobody", at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s *suite) addTouchpointInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Resolve(t.Context(), visitor("v1"))
	require.NoError(t, err)
	cases := []struct {
		name   string
		mutate func(*journey.Touchpoint)
		field  string
	}{
		{"EmptyID", func(tp *journey.Touchpoint) { tp.ID = "" }, "id"},
		{"UnknownKind", func(tp *journey.Touchpoint) { tp.Kind = "carrier-pigeon" }, "kind"},
		{"ZeroAt", func(tp *journey.Touchpoint) { tp.At = time.Time{} }, "at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := touch("t-"+c.name, journey.TouchSession, "v1", "", 0)
			c.mutate(&tp)
			requireInvalid(t, st.AddTouchpoint(t.Context(), tp), c.field)
			got, err := st.TouchpointsOf(t.Context(), p, time.Time{}, at(time.Hour))
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}
