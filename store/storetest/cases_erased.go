package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// erasedCallCases are the cases of what a store remembers of the calls
// ErasePerson erased: their later events are refused (store.Calls) until
// DeleteBefore passes the erasure (store.Retention).
func (s *suite) erasedCallCases() []testCase {
	return []testCase{
		{"RecordCallOfAnErasedCallIsErrErasedAndWritesNothing", s.recordCallOfAnErasedCallIsErrErasedAndWritesNothing},
		{"AmendCallOfAnErasedCallIsErrErased", s.amendCallOfAnErasedCallIsErrErased},
		{"DeleteBeforeForgetsTheCallsErasedBeforeTheCutoff", s.deleteBeforeForgetsTheCallsErasedBeforeTheCutoff},
		{"ErasePersonRacingRecordCallLeavesTheCallErased", s.erasePersonRacingRecordCallLeavesTheCallErased},
	}
}

// erasedCall stores a call from number, answered, with the record it
// produced for visitor's session, then erases its caller. It returns the
// record.
func erasedCall(t *testing.T, st store.Store, callID, number, visitorID, sessionID string) journey.CallRecord {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, st.PutSession(ctx, session(sessionID, visitorID, 0)))
	rec := callRecordOf(callID, number, visitorID, sessionID, true)
	ev := call(callID)
	ev.From, ev.Status, ev.StartedAt, ev.AnsweredAt = number, provider.StatusInProgress, at(time.Hour), at(time.Hour)
	_, err := st.RecordCall(ctx, ev)
	require.NoError(t, err)
	require.NoError(t, st.PutCallRecord(ctx, rec, msg("crm/"+rec.Conversion.ID, "crm", rec.Conversion.ID, 0)))
	p, err := st.PersonOf(ctx, rec.Caller.Phone)
	require.NoError(t, err)
	require.NoError(t, st.ErasePerson(ctx, p))
	return rec
}

// lateEvents are what a carrier reports of a call after it was answered:
// its end, its recording, the forward's outcome.
func lateEvents(callID, number string) []provider.CallEvent {
	done := call(callID)
	done.From, done.Status, done.EndedAt, done.Duration = number, provider.StatusCompleted, at(time.Hour+3*time.Minute), 3*time.Minute
	rec := call(callID)
	rec.Recording = provider.Recording{ID: "RE-" + callID, URL: "https://api.example.com/recordings/RE-" + callID,
		Duration: 3 * time.Minute}
	out := call(callID)
	out.Outcome, out.TalkTime = provider.OutcomeAnswered, 170*time.Second
	return []provider.CallEvent{done, rec, out}
}

func (s *suite) recordCallOfAnErasedCallIsErrErasedAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const number, vid, sid, callID = "+14155550188", "v-late-9c2e", "s-late-9c2e", "CA-late-9c2e"
	rec := erasedCall(t, st, callID, number, vid, sid)

	for i, ev := range lateEvents(callID, number) {
		_, err := st.RecordCall(ctx, ev)
		require.ErrorIs(t, err, store.ErrErased, "late event %d", i)
		require.ErrorContains(t, err, "twilio/"+callID, "the error names the call")
	}
	_, err := st.Call(ctx, "twilio", callID)
	require.ErrorIs(t, err, store.ErrNotFound)
	calls, err := st.CallsBetween(ctx, at(-1000*time.Hour), at(1000*time.Hour))
	require.NoError(t, err)
	require.Empty(t, calls)
	n, _, err := st.CallsBefore(ctx, number, at(1000*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "the caller's history")
	requireNothingOfCallRecord(t, s, st, rec)

	if s.features.Dump == nil {
		t.Log("storetest: Features.Dump is not set: the store's tables are not searched for the erased call")
	} else {
		var left []string
		for _, v := range s.features.Dump(t, st) {
			for _, n := range []string{number, number[2:], vid, sid, "late-9c2e"} {
				if strings.Contains(v, n) {
					left = append(left, fmt.Sprintf("%s (names them by %q)", v, n))
				}
			}
		}
		require.Empty(t, left, "what a store remembers of an erased call names neither it nor its caller")
	}

	// The store remembers the call by provider and id: another provider's
	// call of the same id, and another call, are recorded.
	for _, ev := range []provider.CallEvent{{Provider: "telnyx", CallID: callID, Kind: provider.KindStatus,
		From: "+14155550199", To: "+14155550100", Direction: provider.DirectionInbound}, call("CA-other-9c2e")} {
		_, err := st.RecordCall(ctx, ev)
		require.NoError(t, err, "%s/%s", ev.Provider, ev.CallID)
		_, err = st.Call(ctx, ev.Provider, ev.CallID)
		require.NoError(t, err, "%s/%s", ev.Provider, ev.CallID)
	}
}

func (s *suite) amendCallOfAnErasedCallIsErrErased(t *testing.T) {
	st := s.newStore(t)
	const number, callID = "+14155550189", "CA-amend-5d70"
	erasedCall(t, st, callID, number, "v-amend-5d70", "s-amend-5d70")
	ev := call(callID)
	ev.From, ev.Labels, ev.Transcript = "", []string{"booked"}, "Caller booked a repair."
	_, err := st.AmendCall(t.Context(), ev)
	require.ErrorIs(t, err, store.ErrErased)
	require.ErrorContains(t, err, "twilio/"+callID, "the error names the call")
	_, err = st.Call(t.Context(), "twilio", callID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// The store's clock is the wall clock (every adapter's default), so the
// erasure happened within the hour around time.Now. The call itself is
// filed long before: a store that timed its memory by the call would
// forget it at the first cutoff.
func (s *suite) deleteBeforeForgetsTheCallsErasedBeforeTheCutoff(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const number, callID = "+14155550190", "CA-forget-13ab"
	erasedCall(t, st, callID, number, "v-forget-13ab", "s-forget-13ab")
	late := lateEvents(callID, number)[0]

	n, err := st.DeleteBefore(ctx, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "nothing was erased before the cutoff")
	_, err = st.RecordCall(ctx, late)
	require.ErrorIs(t, err, store.ErrErased, "an erasure after the cutoff is remembered")

	n, err = st.DeleteBefore(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n, "the erased call is the one record left to delete")
	got, err := st.RecordCall(ctx, late)
	require.NoError(t, err, "an erasure before the cutoff is forgotten: the event is a new call")
	require.Equal(t, provider.StatusCompleted, got.Status)
}

// An erasure racing a late event of one of the calls it erases: in
// either order the call is gone afterwards. The event is merged before
// the erasure (and erased with the call) or refused after it.
func (s *suite) erasePersonRacingRecordCallLeavesTheCallErased(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const rounds = 24
	refused := 0
	for i := range rounds {
		callID, number := fmt.Sprintf("CA-race-late-%d", i), fmt.Sprintf("+1415555%04d", 3000+i)
		rec := callRecordOf(callID, number, fmt.Sprintf("v-race-late-%d", i), "", false)
		recordCallOf(t, st, rec)
		require.NoError(t, st.PutCallRecord(ctx, rec))
		p, err := st.PersonOf(ctx, rec.Caller.Phone)
		require.NoError(t, err)
		late := lateEvents(callID, number)[0]
		var recErr error
		// Which goroutine records alternates, so neither always starts first.
		require.NoError(t, parallel(2, func(j int) error {
			if (i+j)%2 == 0 {
				_, recErr = st.RecordCall(ctx, late)
				return nil
			}
			return st.ErasePerson(ctx, p)
		}))
		if recErr != nil {
			require.ErrorIs(t, recErr, store.ErrErased, "round %d", i)
			refused++
		}
		_, err = st.Call(ctx, "twilio", callID)
		require.ErrorIs(t, err, store.ErrNotFound, "round %d: the call", i)
		_, err = st.RecordCall(ctx, late)
		require.ErrorIs(t, err, store.ErrErased, "round %d: an event after both", i)
	}
	t.Logf("%d of %d late events came after the erasure and were refused", refused, rounds)
}
