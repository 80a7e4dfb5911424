package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

func (s *suite) deleteBeforeRemovesEverythingOlderKeepsNewerAndOpenHolds(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	cut := at(24 * time.Hour)
	old, recent := -time.Hour, 48*time.Hour
	require.NoError(t, st.PutSession(ctx, session("old", "v1", old)))
	straddling := session("straddling", "v1", 0)
	straddling.LastSeenAt = at(25 * time.Hour) // started before, seen after: kept
	require.NoError(t, st.PutSession(ctx, straddling))
	require.NoError(t, st.PutSession(ctx, session("new", "v1", recent)))
	recordAll(t, st,
		hold(numA, "old", old, old+time.Minute),
		hold(numA, "openOld", old, open),
		hold(numA, "new", recent, recent+time.Minute),
	)
	for id, d := range map[string]time.Duration{"CAold": old, "CAnew": recent} {
		ev := call(id)
		ev.StartedAt = at(d)
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
		require.NoError(t, st.PutAttribution(ctx, attribution(id, "s1")))
	}
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	require.NoError(t, st.AddTouchpoint(ctx, touch("tOld", journey.TouchSession, "v1", "", old)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("tNew", journey.TouchSession, "v1", "", recent)))
	require.NoError(t, st.PutConversion(ctx, conversion("cOld", "v1", old, 1)))
	require.NoError(t, st.PutConversion(ctx, conversion("cNew", "v1", recent, 1)))

	n, err := st.DeleteBefore(ctx, cut)
	require.NoError(t, err)
	require.Equal(t, int64(6), n, "session, hold, call, attribution, touchpoint, conversion")

	ss, err := st.SessionsOfVisitor(ctx, "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"straddling", "new"}, sessionIDs(ss))
	hs := allHolds(t, st)
	require.Equal(t, []string{"openOld", "new"}, ids(hs, func(h poolHold) string { return h.SessionID }))
	_, err = st.Call(ctx, "twilio", "CAold")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Attribution(ctx, "twilio", "CAold")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Call(ctx, "twilio", "CAnew")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CAnew")
	require.NoError(t, err)
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"tNew"}, touchIDs(tps))
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"cNew"}, convIDs(cs))
	require.Equal(t, p, personOf(t, st, visitor("v1")), "identity links are kept")

	n, err = st.DeleteBefore(ctx, cut)
	require.NoError(t, err)
	require.Zero(t, n, "a second run deletes nothing")
}

func (s *suite) erasePersonRemovesEveryLinkedIDAndEverythingKeyedByThem(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const caller = "+14155550123"
	p, err := st.Link(ctx, visitor("v1"), phone(caller))
	require.NoError(t, err)
	_, err = st.Link(ctx, visitor("v1"), journey.Identifier{Kind: journey.IDEmailHash, Value: "e1"})
	require.NoError(t, err)
	other, err := st.Link(ctx, visitor("v2"), phone("+14155550999"))
	require.NoError(t, err)

	require.NoError(t, st.PutSession(ctx, session("s1", "v1", 0)))
	require.NoError(t, st.PutSession(ctx, session("s2", "v2", 0)))
	recordAll(t, st, hold(numA, "s1", 0, 10*time.Minute), hold(numA, "s2", 20*time.Minute, 30*time.Minute))
	byCaller := call("CAcaller")
	byCaller.From = caller
	byCaller.StartedAt = at(time.Minute)
	withheld := call("CAwithheld") // attributed to s1 though the caller is unknown
	withheld.From = ""
	withheld.StartedAt = at(2 * time.Minute)
	stranger := call("CAstranger")
	stranger.From = "+14155550999"
	stranger.StartedAt = at(25 * time.Minute)
	for _, ev := range []provider.CallEvent{byCaller, withheld, stranger} {
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	}
	require.NoError(t, st.PutAttribution(ctx, attribution("CAwithheld", "s1")))
	a2 := attribution("CAstranger", "s2")
	a2.VisitorID = "v2"
	require.NoError(t, st.PutAttribution(ctx, a2))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1", journey.TouchSession, "v1", "s1", 0)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1s", journey.TouchForm, "", "s1", time.Minute)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t2", journey.TouchSession, "v2", "s2", 0)))
	require.NoError(t, st.PutConversion(ctx, conversion("o1", "v1", time.Minute, 1)))
	require.NoError(t, st.PutConversion(ctx, callConversion("CAcaller", "", time.Minute)))
	require.NoError(t, st.PutConversion(ctx, conversion("o2", "v2", time.Minute, 1)))

	require.NoError(t, st.ErasePerson(ctx, p))

	for _, id := range []journey.Identifier{visitor("v1"), phone(caller), {Kind: journey.IDEmailHash, Value: "e1"}} {
		_, err := st.PersonOf(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound, id.String())
	}
	_, err = st.Identifiers(ctx, p)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Session(ctx, "s1")
	require.ErrorIs(t, err, store.ErrNotFound)
	for _, id := range []string{"CAcaller", "CAwithheld"} {
		_, err = st.Call(ctx, "twilio", id)
		require.ErrorIs(t, err, store.ErrNotFound, id)
	}
	_, err = st.Attribution(ctx, "twilio", "CAwithheld")
	require.ErrorIs(t, err, store.ErrNotFound)
	hs := allHolds(t, st)
	require.Equal(t, []string{"s2"}, ids(hs, func(h poolHold) string { return h.SessionID }))
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"o2"}, convIDs(cs))
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Empty(t, tps)

	// The other person is untouched.
	require.Equal(t, other, personOf(t, st, visitor("v2")))
	_, err = st.Session(ctx, "s2")
	require.NoError(t, err)
	_, err = st.Call(ctx, "twilio", "CAstranger")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CAstranger")
	require.NoError(t, err)
	tps, err = st.TouchpointsOf(ctx, other, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"t2"}, touchIDs(tps))

	// A retried erasure is a no-op.
	require.NoError(t, st.ErasePerson(ctx, p))

	// Nothing of theirs is left to find: their visitor id, seen again, is
	// a new person with no history, and all that retention still finds is
	// the other person's session, hold, call, attribution, touchpoint and
	// conversion.
	again, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	tps, err = st.TouchpointsOf(ctx, again, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Empty(t, tps)
	convs, err := st.ConversionsOf(ctx, again)
	require.NoError(t, err)
	require.Empty(t, convs)
	n, err := st.DeleteBefore(ctx, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(6), n, "only the other person's six records remain")
}

func (s *suite) deleteBeforeJudgesSessionWithoutLastSeenByStart(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for id, start := range map[string]time.Duration{"old": -time.Hour, "new": 48 * time.Hour} {
		sess := session(id, "v1", start)
		sess.LastSeenAt = time.Time{}
		require.NoError(t, st.PutSession(ctx, sess))
	}
	n, err := st.DeleteBefore(ctx, at(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	ss, err := st.SessionsOfVisitor(ctx, "v1")
	require.NoError(t, err)
	require.Equal(t, []string{"new"}, sessionIDs(ss))
}

func (s *suite) deleteBeforeKeepsWhatEndsAtTheCutoff(t *testing.T) {
	// Everything here ends exactly at the cut-off, which is not before it.
	st := s.newStore(t)
	ctx := t.Context()
	cut := 24 * time.Hour
	require.NoError(t, st.PutSession(ctx, session("s1", "v1", cut-5*time.Minute))) // last seen at the cut-off
	recordAll(t, st, hold(numA, "s1", cut-time.Hour, cut))
	ev := call("CA1")
	ev.StartedAt = at(cut)
	require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	require.NoError(t, st.PutAttribution(ctx, attribution("CA1", "s1")))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1", journey.TouchSession, "v1", "s1", cut)))
	require.NoError(t, st.PutConversion(ctx, conversion("c1", "v1", cut, 1)))

	n, err := st.DeleteBefore(ctx, at(cut))
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = st.Session(ctx, "s1")
	require.NoError(t, err)
	require.Len(t, allHolds(t, st), 1)
	_, err = st.Call(ctx, "twilio", "CA1")
	require.NoError(t, err)
	_, err = st.Attribution(ctx, "twilio", "CA1")
	require.NoError(t, err)
	cs, err := st.ConversionsBetween(ctx, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"c1"}, convIDs(cs))
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	tps, err := st.TouchpointsOf(ctx, p, time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"t1"}, touchIDs(tps))
}

func (s *suite) erasePersonUnknownIsNoOp(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.ErasePerson(t.Context(), "p_nobody"))
}
