package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// outcome is a hand-set outcome of tp, set at d, as version v.
func outcome(tp string, status journey.OutcomeStatus, value int64, d time.Duration, v int64) journey.ManualOutcome {
	return journey.ManualOutcome{TouchpointID: tp, Status: status, Value: value, Currency: "USD",
		Note: "called back: booked a visit", SetAt: at(d), Version: v}
}

// wantOutcome is o as a store returns it.
func wantOutcome(o journey.ManualOutcome) journey.ManualOutcome {
	o.SetAt = utcMicro(o.SetAt)
	return o
}

// manualConversion is the conversion a hand-set outcome makes of a chat
// or form touchpoint.
func manualConversion(tp string, value int64) journey.Conversion {
	return journey.Conversion{ID: journey.ManualConversionID(tp), Type: journey.ConversionForm, At: at(0),
		VisitorID: "v1", Value: value, Currency: "USD"}
}

func allConversions(t *testing.T, st store.Store) []journey.Conversion {
	t.Helper()
	cs, err := st.ConversionsBetween(t.Context(), time.Time{}, at(1000*time.Hour))
	require.NoError(t, err)
	return cs
}

// requireNoOutcome checks the touchpoint has no stored outcome.
func requireNoOutcome(t *testing.T, st store.Store, tp string) {
	t.Helper()
	_, err := st.ManualOutcome(t.Context(), tp)
	require.ErrorIs(t, err, store.ErrNotFound, tp)
}

// requireNoMessage checks, on a store with the Outbox role, that no
// message id was enqueued.
func (s *suite) requireNoMessage(t *testing.T, st store.Store, id string) {
	t.Helper()
	if !s.features.Outbox {
		return
	}
	_, err := outboxOf(t, st).OutboxMessage(t.Context(), id)
	require.ErrorIs(t, err, store.ErrNotFound, id)
}

func (s *suite) setOutcomeRoundTripsEveryFieldInUTCMicroseconds(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	o := outcome("chat:intercom/c1/chat_started", journey.OutcomeQualified, 12345, 0, 1)
	o.Currency, o.Note = "EUR", "rappel: rendez-vous réservé ✓"
	require.NoError(t, st.SetOutcome(ctx, o, nil, nil))
	got, err := st.ManualOutcome(ctx, o.TouchpointID)
	require.NoError(t, err)
	require.Equal(t, wantOutcome(o), got)
	require.Equal(t, time.UTC, got.SetAt.Location())

	next := outcome(o.TouchpointID, journey.OutcomeLost, 0, time.Hour, 2)
	next.Note = ""
	require.NoError(t, st.SetOutcome(ctx, next, nil, nil))
	got, err = st.ManualOutcome(ctx, o.TouchpointID)
	require.NoError(t, err)
	require.Equal(t, wantOutcome(next), got, "every field is replaced, an empty note too")
}

func (s *suite) setOutcomeVersionMustFollowTheStoredOne(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const tp = "form:f1"
	kept := conversion("c-kept", "v1", 0, 1)
	require.NoError(t, st.PutConversion(ctx, kept))
	put := manualConversion(tp, 900)

	try := func(v int64, msgID string) error {
		return st.SetOutcome(ctx, outcome(tp, journey.OutcomeWon, 900, time.Duration(v)*time.Minute, v), &put,
			[]string{kept.ID}, msg(msgID, "crm", put.ID, 0))
	}
	require.ErrorIs(t, try(2, "m-gap-first"), store.ErrConflict, "the first version is 1")
	requireNoOutcome(t, st, tp)
	require.Equal(t, []string{kept.ID}, convIDs(allConversions(t, st)), "nothing is written")
	s.requireNoMessage(t, st, "m-gap-first")

	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeLead, 0, 0, 1), nil, nil))
	for _, v := range []int64{1, 3} {
		id := fmt.Sprintf("m-version-%d", v)
		require.ErrorIs(t, try(v, id), store.ErrConflict, "version %d after 1", v)
		s.requireNoMessage(t, st, id)
	}
	got, err := st.ManualOutcome(ctx, tp)
	require.NoError(t, err)
	require.Equal(t, wantOutcome(outcome(tp, journey.OutcomeLead, 0, 0, 1)), got)
	require.Equal(t, []string{kept.ID}, convIDs(allConversions(t, st)), "nothing is put or retracted")

	require.NoError(t, try(2, "m-version-2"))
	got, err = st.ManualOutcome(ctx, tp)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	require.Equal(t, journey.OutcomeWon, got.Status)
	require.Equal(t, []string{put.ID}, convIDs(allConversions(t, st)))
}

func (s *suite) setOutcomePutsTheConversionAndEnqueuesItsMessages(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	// A call qualified by the rules, then set won at another value by hand:
	// the same transaction, replaced.
	const callID = "CA1"
	tp := journey.CallTouchpointID("twilio", callID)
	byRules := callConversion(callID, "v1", 0)
	require.NoError(t, st.PutConversion(ctx, byRules))
	won := byRules
	won.Value = 25000
	m := msg("crm/"+won.ID+"/outcome-1", "crm", won.ID, 0)
	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeWon, won.Value, 0, 1), &won, nil, m))
	cs := allConversions(t, st)
	require.Len(t, cs, 1)
	require.Equal(t, int64(25000), cs[0].Value)
	require.Equal(t, journey.ConversionCall, cs[0].Type)

	// The next change enqueues its own message; one already there is
	// left as it is.
	won.Value = 30000
	again := m
	again.Payload = []byte(`{"changed":true}`)
	m2 := msg("crm/"+won.ID+"/outcome-2", "crm", won.ID, 0)
	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeWon, won.Value, time.Minute, 2), &won, nil, again, m2))
	cs = allConversions(t, st)
	require.Len(t, cs, 1)
	require.Equal(t, int64(30000), cs[0].Value)
	if s.features.Outbox {
		msgs, err := outboxOf(t, st).OutboxOfConversion(ctx, won.ID)
		require.NoError(t, err)
		require.Equal(t, []string{m.ID, m2.ID}, msgIDs(msgs))
		require.Equal(t, m.Payload, msgs[0].Payload, "an existing message id changes nothing")
		require.Equal(t, store.OutboxPending, msgs[1].State)
	}
}

func (s *suite) setOutcomeRetractsConversionsAndKeepsTheirMessages(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const tp = "chat:intercom/c1/chat_started"
	put := manualConversion(tp, 500)
	sent := msg("crm/"+put.ID+"/outcome-1", "crm", put.ID, 0)
	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeQualified, 500, 0, 1), &put, nil, sent))
	other := conversion("c-other", "v1", 0, 1)
	require.NoError(t, st.PutConversion(ctx, other))

	retraction := msg("crm/"+put.ID+"/outcome-2", "crm", put.ID, 0)
	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeLost, 0, time.Minute, 2), nil,
		[]string{put.ID, "never-stored"}, retraction), "an unknown id is no error")
	require.Equal(t, []string{other.ID}, convIDs(allConversions(t, st)))
	if s.features.Outbox {
		msgs, err := outboxOf(t, st).OutboxOfConversion(ctx, put.ID)
		require.NoError(t, err)
		require.Equal(t, []string{sent.ID, retraction.ID}, msgIDs(msgs), "the retracted conversion's messages stay")
		for _, m := range msgs {
			require.Equal(t, store.OutboxPending, m.State)
		}
	}
}

func (s *suite) setOutcomeIsAllOrNothing(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const callID = "CA1"
	tp := journey.CallTouchpointID("twilio", callID)
	existing := callConversion(callID, "v1", 0)
	require.NoError(t, st.PutConversion(ctx, existing))
	retracted := conversion("c-retract", "v1", 0, 1)
	require.NoError(t, st.PutConversion(ctx, retracted))

	wrong := existing
	wrong.Type = journey.ConversionPurchase
	m := msg("crm/outcome-1", "crm", existing.ID, 0)
	err := st.SetOutcome(ctx, outcome(tp, journey.OutcomeWon, 100, 0, 1), &wrong, []string{retracted.ID}, m)
	require.ErrorIs(t, err, store.ErrConflict, "an existing id of another type")
	requireNoOutcome(t, st, tp)
	require.Equal(t, sortedIDs([]string{existing.ID, retracted.ID}), sortedIDs(convIDs(allConversions(t, st))), "nothing is retracted")
	s.requireNoMessage(t, st, m.ID)

	// Nothing was used up: the same version with the right type lands.
	right := existing
	right.Value = 100
	require.NoError(t, st.SetOutcome(ctx, outcome(tp, journey.OutcomeWon, 100, 0, 1), &right, []string{retracted.ID}, m))
	require.Equal(t, []string{existing.ID}, convIDs(allConversions(t, st)))
}

func (s *suite) setOutcomeInvalidNamesFieldAndWritesNothing(t *testing.T) {
	const tp = "form:f1"
	good := outcome(tp, journey.OutcomeWon, 100, 0, 1)
	put := manualConversion(tp, 100)
	for _, c := range []struct {
		name    string
		o       journey.ManualOutcome
		put     *journey.Conversion
		retract []string
		msgs    []store.OutboxMessage
		fields  []string
	}{
		{name: "outcome", o: func() journey.ManualOutcome {
			o := good
			o.Status, o.Currency, o.Value, o.Version = "maybe", "usd", -1, 0
			return o
		}(), fields: []string{"status", "currency", "value", "version"}},
		{name: "no touchpoint", o: func() journey.ManualOutcome {
			o := good
			o.TouchpointID, o.SetAt = "", time.Time{}
			return o
		}(), fields: []string{"touchpoint_id", "set_at"}},
		{name: "note", o: func() journey.ManualOutcome {
			o := good
			o.Note = "bad \xff byte"
			return o
		}(), fields: []string{"note"}},
		{name: "conversion", o: good, put: func() *journey.Conversion {
			c := put
			c.Currency = "dollars"
			return &c
		}(), fields: []string{"conversion", "currency"}},
		{name: "message", o: good, put: &put, msgs: []store.OutboxMessage{{ID: "m1", Kind: "conversion"}},
			fields: []string{"outbox[0]", "sink"}},
		{name: "put and retracted", o: good, put: &put, retract: []string{"other", put.ID},
			fields: []string{"retract", put.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := s.newStore(t)
			err := st.SetOutcome(t.Context(), c.o, c.put, c.retract, c.msgs...)
			requireInvalid(t, err, c.fields...)
			requireNoOutcome(t, st, c.o.TouchpointID)
			require.Empty(t, allConversions(t, st))
			s.requireNoMessage(t, st, "m1")
		})
	}
}

func (s *suite) manualOutcomeMissingIsErrNotFound(t *testing.T) {
	st := s.newStore(t)
	requireNoOutcome(t, st, "form:never-set")
}

func (s *suite) parallelSetOutcomesOfOneVersionOneWins(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const tp, writers = "form:f1", 8
	for _, v := range []int64{1, 2} {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := outcome(tp, journey.OutcomeWon, int64(100*(i+1)), 0, v)
				o.Note = fmt.Sprintf("writer %d", i)
				put := manualConversion(tp, o.Value)
				errs[i] = st.SetOutcome(ctx, o, &put, nil, msg(fmt.Sprintf("m-%d-%d", v, i), "crm", put.ID, 0))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "version %d: writers %d and %d both won", v, winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict, "version %d, writer %d", v, i)
		}
		require.NotEqual(t, -1, winner, "version %d: nobody won", v)
		got, err := st.ManualOutcome(ctx, tp)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("writer %d", winner), got.Note)
		require.Equal(t, v, got.Version)
		cs := allConversions(t, st)
		require.Len(t, cs, 1)
		require.Equal(t, int64(100*(winner+1)), cs[0].Value, "the conversion is the winner's")
		if s.features.Outbox {
			msgs, err := outboxOf(t, st).OutboxOfConversion(ctx, cs[0].ID)
			require.NoError(t, err)
			require.Contains(t, msgIDs(msgs), fmt.Sprintf("m-%d-%d", v, winner))
			require.Len(t, msgs, int(v), "one message per change, the winners'")
		}
	}
}

func (s *suite) deleteBeforeDeletesTheOutcomesOfTheTouchpointsItDeletes(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	cut := 24 * time.Hour
	old, recent := -time.Hour, 48*time.Hour
	require.NoError(t, st.AddTouchpoint(ctx, touch("tOld", journey.TouchForm, "v1", "", old)))
	require.NoError(t, st.AddTouchpoint(ctx, touch("tNew", journey.TouchForm, "v1", "", recent)))
	for _, o := range []journey.ManualOutcome{
		outcome("tOld", journey.OutcomeWon, 1, recent, 1),      // set lately: goes with its touchpoint
		outcome("tNew", journey.OutcomeWon, 1, old, 1),         // set long ago: stays with its touchpoint
		outcome("orphanOld", journey.OutcomeWon, 1, old, 1),    // no touchpoint, set before
		outcome("orphanNew", journey.OutcomeWon, 1, recent, 1), // no touchpoint, set after
		outcome("orphanAt", journey.OutcomeWon, 1, cut, 1),     // set at the cut-off: kept
	} {
		require.NoError(t, st.SetOutcome(ctx, o, nil, nil))
	}
	n, err := st.DeleteBefore(ctx, at(cut))
	require.NoError(t, err)
	require.Equal(t, int64(3), n, "touchpoint tOld, its outcome and orphanOld's")
	for _, tp := range []string{"tOld", "orphanOld"} {
		requireNoOutcome(t, st, tp)
	}
	for _, tp := range []string{"tNew", "orphanNew", "orphanAt"} {
		_, err := st.ManualOutcome(ctx, tp)
		require.NoError(t, err, tp)
	}
	n, err = st.DeleteBefore(ctx, at(cut))
	require.NoError(t, err)
	require.Zero(t, n, "a second run deletes nothing")
}

// erOutcome marks every value of the person erased by
// erasePersonDeletesTheOutcomesOfTheirTouchpointsAndCalls.
const erOutcome = "erase-outcome-5c1d"

func (s *suite) erasePersonDeletesTheOutcomesOfTheirTouchpointsAndCalls(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const caller = "+14155550123"
	v := "v-" + erOutcome
	sess := "s-" + erOutcome
	p, err := st.Link(ctx, visitor(v), phone(caller))
	require.NoError(t, err)
	require.NoError(t, st.PutSession(ctx, session(sess, v, 0)))
	_, err = st.Resolve(ctx, visitor("v-keep"))
	require.NoError(t, err)

	chat := touch("chat:intercom/"+erOutcome+"/chat_started", journey.TouchChat, v, "", time.Minute)
	form := touch("form:"+erOutcome, journey.TouchForm, "", sess, 2*time.Minute) // theirs by its session
	keep := touch("form:keep", journey.TouchForm, "v-keep", "", time.Minute)
	for _, tp := range []journey.Touchpoint{chat, form, keep} {
		require.NoError(t, st.AddTouchpoint(ctx, tp))
	}
	// A call from their number with a touchpoint, and one whose touchpoint
	// is not stored: the outcome names the call either way.
	withTouch, bare := "CA-"+erOutcome+"-1", "CA-"+erOutcome+"-2"
	for _, id := range []string{withTouch, bare} {
		ev := call(id)
		ev.From, ev.StartedAt = caller, at(3*time.Minute)
		require.NoError(t, recordErr(st.RecordCall(ctx, ev)))
	}
	require.NoError(t, st.AddTouchpoint(ctx, touch(journey.CallTouchpointID("twilio", withTouch), journey.TouchCall, v, sess, 3*time.Minute)))

	theirs := []string{chat.ID, form.ID, journey.CallTouchpointID("twilio", withTouch), journey.CallTouchpointID("twilio", bare)}
	require.NoError(t, st.SetOutcome(ctx, outcome(keep.ID, journey.OutcomeWon, 100, 0, 1), nil, nil))
	for _, tp := range theirs {
		o := outcome(tp, journey.OutcomeWon, 100, 0, 1)
		o.Note = "spoke to " + erOutcome
		require.NoError(t, st.SetOutcome(ctx, o, nil, nil))
	}

	require.NoError(t, st.ErasePerson(ctx, p))

	for _, tp := range theirs {
		requireNoOutcome(t, st, tp)
	}
	got, err := st.ManualOutcome(ctx, keep.ID)
	require.NoError(t, err, "another person's outcome stays")
	require.Equal(t, keep.ID, got.TouchpointID)
	require.NoError(t, st.ErasePerson(ctx, p), "a retried erasure is a no-op")
	if s.features.Dump == nil {
		t.Log("storetest: Features.Dump is not set: the store's tables are not searched for the erased person's values")
		return
	}
	var left []string
	for _, val := range s.features.Dump(t, st) {
		if strings.Contains(val, erOutcome) {
			left = append(left, val)
		}
	}
	require.Empty(t, left, "erased, yet still stored")
}
