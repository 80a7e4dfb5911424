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

func wantCall(ev provider.CallEvent) provider.CallEvent {
	ev.OccurredAt, ev.StartedAt = utcMicro(ev.OccurredAt), utcMicro(ev.StartedAt)
	ev.AnsweredAt, ev.EndedAt = utcMicro(ev.AnsweredAt), utcMicro(ev.EndedAt)
	return ev
}

// lifecycle is the callbacks of one answered call, as a provider may send
// them: any order, with a duplicate.
func lifecycle(id string) []provider.CallEvent {
	inbound := call(id)
	inbound.Kind = provider.KindInbound
	inbound.Status = provider.StatusRinging
	inbound.OccurredAt = at(0)
	inbound.StartedAt = at(0)
	inbound.CallerName = "ADA LOVELACE"
	inbound.Raw = []byte("CallSid=" + id)

	ringing := call(id)
	ringing.Status = provider.StatusRinging
	ringing.OccurredAt = at(time.Second)

	answered := call(id)
	answered.Status = provider.StatusInProgress
	answered.OccurredAt = at(5 * time.Second)
	answered.AnsweredAt = at(5 * time.Second)
	answered.CallerCity = "LONDON"

	completed := call(id)
	completed.Status = provider.StatusCompleted
	completed.OccurredAt = at(95 * time.Second)
	completed.StartedAt = at(0)
	completed.EndedAt = at(95 * time.Second)
	completed.Duration = 90 * time.Second

	return []provider.CallEvent{inbound, ringing, answered, completed, ringing}
}

func mergeAll(evs []provider.CallEvent) provider.CallEvent {
	var out provider.CallEvent
	for _, ev := range evs {
		out = provider.Merge(out, ev)
	}
	return out
}

func (s *suite) recordCallRoundTripsEveryField(t *testing.T) {
	st := s.newStore(t)
	ev := call("CA1")
	ev.Kind = provider.KindInbound
	ev.Status = provider.StatusCompleted
	ev.OccurredAt, ev.StartedAt, ev.AnsweredAt, ev.EndedAt = at(time.Minute), at(0), at(time.Second), at(time.Minute)
	ev.Duration = 59*time.Second + 123*time.Nanosecond
	ev.CallerName, ev.CallerCity, ev.CallerRegion, ev.CallerCountry = "A", "B", "C", "US"
	ev.ForwardedFrom = "+14155550111"
	ev.Raw = []byte{0, 1, 2, 'x', 0xff}
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	got, err := st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, wantCall(ev), got)
	require.Equal(t, time.UTC, got.StartedAt.Location())
}

func (s *suite) recordCallTwiceIsOneCall(t *testing.T) {
	st := s.newStore(t)
	ev := lifecycle("CA1")[3]
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	got, err := st.CallsBetween(t.Context(), at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []provider.CallEvent{wantCall(ev)}, got)
}

func (s *suite) recordCallConvergesInEveryOrderLateRingingNeverOverwritesCompleted(t *testing.T) {
	st := s.newStore(t)
	want := wantCall(mergeAll(lifecycle("x")))
	require.Equal(t, provider.StatusCompleted, want.Status)
	requireSameCallInEveryOrder(t, st, lifecycle("x"), want)
}

// requireSameCallInEveryOrder records evs in every order, each order as a
// call of its own id, and requires each call to read back as want.
func requireSameCallInEveryOrder(t *testing.T, st store.Store, evs []provider.CallEvent, want provider.CallEvent) {
	t.Helper()
	for i, order := range permutations(evs) {
		id := fmt.Sprintf("CA%03d", i)
		for _, ev := range order {
			ev.CallID = id
			require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
		}
		got, err := st.Call(t.Context(), "twilio", id)
		require.NoError(t, err)
		w := want
		w.CallID = id
		require.Equal(t, w, got, "order %d", i)
	}
}

func (s *suite) recordCallTheDatabaseRefusesIsErrInvalidNeverTransient(t *testing.T) {
	st := s.newStore(t)
	// PostgreSQL refuses NUL and invalid UTF-8 in text; a refusal must
	// be ErrInvalid (dead-lettered), never an error that is retried
	// forever in front of every later call.
	ev := call("CA1")
	ev.CallerName, ev.CallerCity = "bad\x00name", "\xff\xfe"
	if _, err := st.RecordCall(t.Context(), ev); err != nil {
		require.ErrorIs(t, err, store.ErrInvalid)
	}
	require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA2"))), "a refused call blocks nothing")
}

func (s *suite) callMissingIsErrNotFound(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA1"))))
	_, err := st.Call(t.Context(), "twilio", "CA2")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Call(t.Context(), "telnyx", "CA1")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) callsBetweenHalfOpenOrderedByTimeProviderID(t *testing.T) {
	st := s.newStore(t)
	mk := func(prov, id string, d time.Duration) provider.CallEvent {
		ev := call(id)
		ev.Provider = prov
		ev.StartedAt = at(d)
		return ev
	}
	for _, ev := range []provider.CallEvent{
		mk("twilio", "c", time.Minute), mk("telnyx", "b", time.Minute), mk("twilio", "a", time.Minute),
		mk("twilio", "first", 0), mk("twilio", "atEnd", time.Hour), mk("twilio", "before", -time.Second),
	} {
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	}
	got, err := st.CallsBetween(t.Context(), at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"first", "b", "a", "c"}, callIDs(got))
}

func (s *suite) callsBetweenFilesCallUnderEarliestEventTime(t *testing.T) {
	st := s.newStore(t)
	late := call("CA1")
	late.OccurredAt = at(2 * time.Hour)
	early := call("CA1")
	early.OccurredAt = at(time.Minute)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), late)))
	require.NoError(t, recordErr(st.RecordCall(t.Context(), early)))
	got, err := st.CallsBetween(t.Context(), at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"CA1"}, callIDs(got))

	// The same events in the other order file the call at the same time.
	early.CallID, late.CallID = "CA2", "CA2"
	require.NoError(t, recordErr(st.RecordCall(t.Context(), early)))
	require.NoError(t, recordErr(st.RecordCall(t.Context(), late)))
	got, err = st.CallsBetween(t.Context(), at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"CA1", "CA2"}, callIDs(got))
	got, err = st.CallsBetween(t.Context(), at(time.Hour), at(3*time.Hour))
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s *suite) callsBetweenFilesTimelessCallWhenFirstRecorded(t *testing.T) {
	// The store's clock is not the suite's, so the filing time is read back
	// (CallsBefore reports it) and checked against the wall clock around
	// the first record, with the same slack as the outbox's creation time.
	st := s.newStore(t)
	before := time.Now().Add(-time.Second)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA1"))))
	after := time.Now()
	n, filed, err := st.CallsBefore(t.Context(), call("CA1").From, time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.True(t, filed.After(before), "filed at %v, recorded after %v", filed, before)
	require.WithinDuration(t, after, filed, time.Minute)
	require.Equal(t, time.UTC, filed.Location())

	got, err := st.CallsBetween(t.Context(), filed, filed.Add(time.Microsecond))
	require.NoError(t, err)
	require.Equal(t, []string{"CA1"}, callIDs(got))

	again := call("CA1")
	again.Status = provider.StatusRinging
	require.NoError(t, recordErr(st.RecordCall(t.Context(), again)))
	_, refiled, err := st.CallsBefore(t.Context(), call("CA1").From, time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, filed, refiled, "a later timeless event does not move the call")
}

func (s *suite) recordCallInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	cases := []struct {
		name   string
		mutate func(*provider.CallEvent)
		field  string
	}{
		{"EmptyProvider", func(e *provider.CallEvent) { e.Provider = "" }, "provider"},
		{"EmptyCallID", func(e *provider.CallEvent) { e.CallID = "" }, "call_id"},
		{"BadFrom", func(e *provider.CallEvent) { e.From = "555-0100" }, "from"},
		{"BadTo", func(e *provider.CallEvent) { e.To = "+0123" }, "to"},
		{"BadForwardedFrom", func(e *provider.CallEvent) { e.ForwardedFrom = "x" }, "forwarded_from"},
		{"KeyedTo", func(e *provider.CallEvent) { e.To = keyedCaller }, "to"},
		{"KeyedFromInUpperCase", func(e *provider.CallEvent) { e.From = strings.ToUpper(keyedCaller) }, "from"},
		{"NegativeDuration", func(e *provider.CallEvent) { e.Duration = -time.Second }, "duration"},
		{"UnknownStatus", func(e *provider.CallEvent) { e.Status = "exploded" }, "status"},
		{"UnknownDirection", func(e *provider.CallEvent) { e.Direction = "sideways" }, "direction"},
		{"UnknownKind", func(e *provider.CallEvent) { e.Kind = 9 }, "kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := call("CA-bad")
			c.mutate(&ev)
			requireInvalid(t, recordErr(st.RecordCall(t.Context(), ev)), c.field)
			got, err := st.CallsBetween(t.Context(), time.Time{}.Add(time.Hour), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC))
			require.NoError(t, err)
			require.Empty(t, got)
			_, err = st.Call(t.Context(), "twilio", "CA-bad")
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	}
}

func (s *suite) recordCallInvalidLeavesExistingCallUnchanged(t *testing.T) {
	st := s.newStore(t)
	ev := lifecycle("CA1")[0]
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	bad := lifecycle("CA1")[3]
	bad.Duration = -time.Second
	requireInvalid(t, recordErr(st.RecordCall(t.Context(), bad)), "duration")
	got, err := st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, wantCall(ev), got)
}

func (s *suite) recordCallReturnsTheMergedCall(t *testing.T) {
	st := s.newStore(t)
	evs := lifecycle("CA1")
	var got provider.CallEvent
	for _, ev := range evs {
		var err error
		got, err = st.RecordCall(t.Context(), ev)
		require.NoError(t, err)
	}
	stored, err := st.Call(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, stored, got)
	require.Equal(t, wantCall(mergeAll(evs)), got)
}

func (s *suite) callsBeforeCountsTheCallersEarlierCallsOnly(t *testing.T) {
	st := s.newStore(t)
	for i, id := range []string{"CA1", "CA2", "CA3"} {
		ev := call(id)
		ev.StartedAt = at(time.Duration(i) * time.Hour)
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	}
	other := call("CA4")
	other.From, other.StartedAt = "+14155550199", at(0)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), other)))
	n, latest, err := st.CallsBefore(t.Context(), call("x").From, at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n, "the call at the moment asked about is not before it")
	require.Equal(t, utcMicro(at(time.Hour)), latest)
	n, latest, err = st.CallsBefore(t.Context(), call("x").From, at(0))
	require.NoError(t, err)
	require.Zero(t, n)
	require.True(t, latest.IsZero())
	n, _, err = st.CallsBefore(t.Context(), "", at(24*time.Hour))
	require.NoError(t, err)
	require.Zero(t, n, "a withheld number has no history")
}

// keyedCaller is a caller number as journey.RedactCall leaves it when the
// host keys caller identities.
const keyedCaller = "h:5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"

func (s *suite) recordCallKeepsAKeyedCallerNumberAndItsHistory(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for i, id := range []string{"CA1", "CA2"} {
		ev := call(id)
		ev.From, ev.ForwardedFrom, ev.StartedAt = keyedCaller, keyedCaller, at(time.Duration(i)*time.Hour)
		got, err := st.RecordCall(ctx, ev)
		require.NoError(t, err)
		require.Equal(t, keyedCaller, got.From)
	}
	got, err := st.Call(ctx, "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, keyedCaller, got.From)
	require.Equal(t, keyedCaller, got.ForwardedFrom)
	n, latest, err := st.CallsBefore(ctx, keyedCaller, at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, n, "the caller history counts keyed numbers as they are stored")
	require.Equal(t, utcMicro(at(time.Hour)), latest)
}

// recordErr keeps the error of RecordCall, for the many cases that need
// only that.
func recordErr(_ provider.CallEvent, err error) error { return err }

func (s *suite) storedCallTimeIsItsFilingTimeInEveryOrder(t *testing.T) {
	// A status callback stamped before the call's start (Twilio stamps
	// callbacks to the second; the start is the webhook's arrival), and
	// callbacks alone with no start at all: in either order the stored
	// call has one time, journey.CallTime, and is not its own earlier call.
	ringing := call("CA1")
	ringing.Status, ringing.OccurredAt = provider.StatusRinging, at(0)
	inbound := call("CA1")
	inbound.Kind, inbound.Status, inbound.StartedAt, inbound.OccurredAt = provider.KindInbound, provider.StatusRinging, at(700*time.Millisecond), at(700*time.Millisecond)
	completed := call("CA1")
	completed.Status, completed.OccurredAt, completed.EndedAt, completed.Duration = provider.StatusCompleted, at(3*time.Minute), at(3*time.Minute), 2*time.Minute
	for name, events := range map[string][]provider.CallEvent{
		"callback, start, end": {ringing, inbound, completed},
		"start, end, callback": {inbound, completed, ringing},
		"callbacks only":       {completed, ringing},
	} {
		t.Run(name, func(t *testing.T) {
			st := s.newStore(t)
			var merged provider.CallEvent
			for _, ev := range events {
				var err error
				merged, err = st.RecordCall(t.Context(), ev)
				require.NoError(t, err)
			}
			ct, err := journey.CallTime(merged)
			require.NoError(t, err)
			require.Equal(t, utcMicro(at(0)), ct)
			n, _, err := st.CallsBefore(t.Context(), merged.From, ct)
			require.NoError(t, err)
			require.Zero(t, n, "the call is not its own earlier call")
			got, err := st.CallsBetween(t.Context(), ct, ct.Add(time.Microsecond))
			require.NoError(t, err)
			require.Equal(t, []string{"CA1"}, callIDs(got), "filed under that same time")
			stored, err := st.Call(t.Context(), "twilio", "CA1")
			require.NoError(t, err)
			require.Equal(t, merged, stored)
		})
	}
}
