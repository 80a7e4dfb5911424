package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	attrib "github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/store"
)

// callRecord is what a call from "+14155550123" to session "s1" of
// visitor "v1" produces.
func callRecord(callID string, converted bool) journey.CallRecord {
	return callRecordOf(callID, "+14155550123", "v1", "s1", converted)
}

// callRecordOf is what a call from number to session sessionID of
// visitorID produces.
func callRecordOf(callID, number, visitorID, sessionID string, converted bool) journey.CallRecord {
	rec := journey.CallRecord{
		Attribution: attribution(callID, sessionID),
		Caller:      &journey.CallerLink{Phone: phone(number), Visitor: visitor(visitorID)},
		Touchpoint:  touch(journey.CallTouchpointID("twilio", callID), journey.TouchCall, visitorID, sessionID, time.Hour),
	}
	if converted {
		c := conversion(journey.CallConversionID("twilio", callID), visitorID, time.Hour, 5000)
		c.Type, c.SessionID, c.CallProvider, c.CallID = journey.ConversionCall, sessionID, "twilio", callID
		rec.Conversion = &c
	}
	return rec
}

// recordCallOf records the call rec was derived from, as PutCallRecord
// requires.
func recordCallOf(t *testing.T, st store.Store, rec journey.CallRecord) {
	t.Helper()
	ev := call(rec.Attribution.CallID)
	if rec.Caller != nil {
		ev.From = rec.Caller.Phone.Value
	}
	_, err := st.RecordCall(t.Context(), ev)
	require.NoError(t, err)
}

func (s *suite) putCallRecordWritesEveryPart(t *testing.T) {
	st := s.newStore(t)
	rec := callRecord("CA1", true)
	recordCallOf(t, st, rec)
	msgs := []store.OutboxMessage{msg("m1", "crm", rec.Conversion.ID, 0)}
	require.NoError(t, st.PutCallRecord(t.Context(), rec, msgs...))
	require.NoError(t, st.PutCallRecord(t.Context(), rec, msgs...), "repeating a record changes nothing")

	a, err := st.Attribution(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, wantAttribution(rec.Attribution), a)
	phonePerson, err := st.PersonOf(t.Context(), rec.Caller.Phone)
	require.NoError(t, err)
	visitorPerson, err := st.PersonOf(t.Context(), rec.Caller.Visitor)
	require.NoError(t, err)
	require.Equal(t, phonePerson, visitorPerson, "the caller link joins phone and visitor")
	tps, err := st.TouchpointsOf(t.Context(), phonePerson, at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{rec.Touchpoint.ID}, touchIDs(tps))
	convs, err := st.ConversionsBetween(t.Context(), at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{rec.Conversion.ID}, convIDs(convs))
	if s.features.Outbox {
		got, err := outboxOf(t, st).OutboxOfConversion(t.Context(), rec.Conversion.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"m1"}, msgIDs(got))
	}
}

func (s *suite) putCallRecordWithoutCallerOrConversionWritesNeither(t *testing.T) {
	st := s.newStore(t)
	rec := callRecord("CA1", false)
	rec.Caller = nil
	recordCallOf(t, st, rec)
	require.NoError(t, st.PutCallRecord(t.Context(), rec))
	convs, err := st.ConversionsBetween(t.Context(), at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, convs)
	_, err = st.PersonOf(t.Context(), journey.Identifier{Kind: journey.IDPhone, Value: "+14155550123"})
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) putCallRecordIsAllOrNothing(t *testing.T) {
	st := s.newStore(t)
	// The conversion id is taken by another type: the whole record is
	// refused and nothing of it is stored.
	rec := callRecord("CA1", true)
	recordCallOf(t, st, rec)
	taken := *rec.Conversion
	taken.Type = journey.ConversionPurchase
	require.NoError(t, st.PutConversion(t.Context(), taken))
	err := st.PutCallRecord(t.Context(), rec)
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.Attribution(t.Context(), "twilio", "CA1")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.PersonOf(t.Context(), rec.Caller.Phone)
	require.ErrorIs(t, err, store.ErrNotFound)
	tps, err := st.TouchpointsOf(t.Context(), "any", at(0), at(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, tps)
}

func (s *suite) putCallRecordInvalidNamesThePart(t *testing.T) {
	st := s.newStore(t)
	rec := callRecord("CA1", true)
	recordCallOf(t, st, rec)
	rec.Touchpoint.ID = ""
	rec.Conversion.Currency = ""
	err := st.PutCallRecord(t.Context(), rec)
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorContains(t, err, "touchpoint")
	require.ErrorContains(t, err, "conversion")
	rec = callRecord("CA1", false)
	err = st.PutCallRecord(t.Context(), rec, msg("m1", "crm", "x", 0))
	require.ErrorIs(t, err, store.ErrInvalid, "outbox messages need a conversion")
	_, err = st.Attribution(t.Context(), "twilio", "CA1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func journeyShape(js []attrib.Journey) map[string][]string {
	out := map[string][]string{}
	for _, j := range js {
		out[j.ID] = touchIDs(j.Touchpoints)
	}
	return out
}

func (s *suite) journeysBetweenCoversConvertingAndOpenJourneysWithoutWriting(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	// v1 and v2 are one person (linked through an email); v3 never
	// linked to anything; "caller-1" converted with no session.
	require.NoError(t, st.PutSessions(ctx, []journey.Session{session("s1", "v1", 0), session("s2", "v2", 2*time.Hour), session("s3", "v3", 0)}))
	email := journey.Identifier{Kind: journey.IDEmailHash, Value: "h:e1"}
	for _, v := range []string{"v1", "v2"} {
		_, err := st.Link(ctx, email, journey.Identifier{Kind: journey.IDVisitor, Value: v})
		require.NoError(t, err)
	}
	for _, tp := range []journey.Touchpoint{
		touch("t-old", journey.TouchSession, "v1", "s1", -30*24*time.Hour), // outside the lookback
		touch("t1", journey.TouchSession, "v1", "s1", 0),
		touch("t2", journey.TouchSession, "", "s2", 2*time.Hour), // belongs by its session
		touch("t3", journey.TouchSession, "v3", "s3", time.Hour),
		touch("t4", journey.TouchSession, "v1", "s1", 5*time.Hour), // after the conversion
		touch("call", journey.TouchCall, "caller-1", "", 3*time.Hour),
	} {
		require.NoError(t, st.AddTouchpoint(ctx, tp))
	}
	convA := conversion("conv-a", "v2", 3*time.Hour, 0) // zero value counts
	convB := conversion("conv-b", "caller-1", 3*time.Hour, 9000)
	for _, c := range []journey.Conversion{convA, convB} {
		require.NoError(t, st.PutConversion(ctx, c))
	}
	got, err := st.JourneysBetween(ctx, at(0), at(24*time.Hour), 7*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"conv-a":                         {"t1", "t2"},
		"conv-b":                         {"call"},
		"open:" + personKey(t, st, "v1"): {"t4"},
		"open:" + personKey(t, st, "v3"): {"t3"},
	}, journeyShape(got))
	require.Len(t, got, 4)
	require.Equal(t, "conv-a", got[0].ID, "converting journeys first, by time then id")
	require.Equal(t, "conv-b", got[1].ID)
	require.NotNil(t, got[0].Conversion)
	require.Equal(t, wantConv(convA), *got[0].Conversion, "a converting journey carries its conversion")
	require.NotNil(t, got[1].Conversion)
	require.Equal(t, wantConv(convB), *got[1].Conversion)
	require.Nil(t, got[2].Conversion)
	require.Nil(t, got[3].Conversion)
	require.Less(t, got[2].ID, got[3].ID, "journeys without a conversion follow, ordered by id")
	_, err = st.PersonOf(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: "v3"})
	require.ErrorIs(t, err, store.ErrNotFound, "reading journeys writes no identity")

	all, err := st.JourneysBetween(ctx, at(0), at(24*time.Hour), -1)
	require.NoError(t, err)
	require.Equal(t, []string{"t-old", "t1", "t2"}, journeyShape(all)["conv-a"], "a negative lookback has no limit")
}

func (s *suite) journeysBetweenHalfOpenWithInclusiveLookback(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const lookback = time.Hour
	for _, tp := range []journey.Touchpoint{
		touch("tTooEarly", journey.TouchSession, "v1", "", -lookback-time.Microsecond),
		touch("tLookbackEdge", journey.TouchSession, "v1", "", -lookback), // At-lookback: counts
		touch("tAtConversion", journey.TouchSession, "v1", "", 0),         // At itself: counts
		touch("tLater", journey.TouchSession, "v1", "", 9*time.Hour),
		touch("tAtTo", journey.TouchSession, "v1", "", 10*time.Hour), // to: outside [from, to)
	} {
		require.NoError(t, st.AddTouchpoint(ctx, tp))
	}
	require.NoError(t, st.PutConversion(ctx, conversion("cAtFrom", "v1", 0, 1)))
	require.NoError(t, st.PutConversion(ctx, conversion("cAtTo", "v1", 10*time.Hour, 1)))
	got, err := st.JourneysBetween(ctx, at(0), at(10*time.Hour), lookback)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"cAtFrom":         {"tLookbackEdge", "tAtConversion"},
		"open:visitor:v1": {"tLater"},
	}, journeyShape(got), "the conversion at to is outside; so is the touchpoint at to")
	require.Equal(t, "cAtFrom", got[0].ID)
}

func (s *suite) journeysBetweenFindsTheConversionsPersonThroughItsSession(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	require.NoError(t, st.PutSession(ctx, session("s1", "v1", 0)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("t1", journey.TouchSession, "v1", "", 0)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("other", journey.TouchSession, "v2", "", 0)))
	bySession := conversion("bySession", "", time.Hour, 100) // no visitor id: its session says whose it is
	bySession.SessionID = "s1"
	require.NoError(t, st.PutConversion(ctx, bySession))
	got, err := st.JourneysBetween(ctx, at(0), at(24*time.Hour), -1)
	require.NoError(t, err)
	require.Equal(t, map[string][]string{
		"bySession":       {"t1"},
		"open:visitor:v2": {"other"},
	}, journeyShape(got))
}

// personKey is the key JourneysBetween names a visitor's person by: the
// person id when the visitor is linked, else the visitor itself.
func personKey(t *testing.T, st store.Store, visitor string) string {
	p, err := st.PersonOf(t.Context(), journey.Identifier{Kind: journey.IDVisitor, Value: visitor})
	if err == nil {
		return p
	}
	require.ErrorIs(t, err, store.ErrNotFound)
	return "visitor:" + visitor
}

func (s *suite) putCallRecordOfACallNotStoredIsErrNotFoundAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	rec := callRecord("CA1", true)
	err := st.PutCallRecord(t.Context(), rec, msg("m1", "crm", rec.Conversion.ID, 0))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorContains(t, err, "twilio/CA1", "the error names the call")
	requireNothingOfCallRecord(t, s, st, rec)
}

// requireNothingOfCallRecord fails unless no part of rec is stored: the
// caller's identifiers, the attribution, the touchpoint, the conversion
// and its messages.
func requireNothingOfCallRecord(t *testing.T, s *suite, st store.Store, rec journey.CallRecord) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []journey.Identifier{rec.Caller.Phone, rec.Caller.Visitor} {
		_, err := st.PersonOf(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound, id.String())
	}
	_, err := st.Attribution(ctx, rec.Attribution.Provider, rec.Attribution.CallID)
	require.ErrorIs(t, err, store.ErrNotFound, "attribution")
	_, err = st.Touchpoint(ctx, rec.Touchpoint.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "touchpoint")
	convs, err := st.ConversionsBetween(ctx, at(-1000*time.Hour), at(1000*time.Hour))
	require.NoError(t, err)
	require.NotContains(t, convIDs(convs), rec.Conversion.ID, "conversion")
	if s.features.Outbox {
		msgs, err := outboxOf(t, st).OutboxOfConversion(ctx, rec.Conversion.ID)
		require.NoError(t, err)
		require.Empty(t, msgs, "outbox messages")
	}
}
