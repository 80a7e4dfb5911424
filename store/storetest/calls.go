package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

var callCases = []testCase{
	{"RecordCallRoundTripsEveryField", func(t *testing.T, st store.Store) {
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
	}},
	{"RecordCallTwiceIsOneCall", func(t *testing.T, st store.Store) {
		ev := lifecycle("CA1")[3]
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
		got, err := st.CallsBetween(t.Context(), at(-time.Hour), at(time.Hour))
		require.NoError(t, err)
		require.Equal(t, []provider.CallEvent{wantCall(ev)}, got)
	}},
	{"RecordCallConvergesInEveryOrderLateRingingNeverOverwritesCompleted", func(t *testing.T, st store.Store) {
		want := wantCall(mergeAll(lifecycle("x")))
		require.Equal(t, provider.StatusCompleted, want.Status)
		for i, order := range permutations(lifecycle("x")) {
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
	}},
	{"RecordCallTheDatabaseRefusesIsErrInvalidNeverTransient", func(t *testing.T, st store.Store) {
		// PostgreSQL refuses NUL and invalid UTF-8 in text; a refusal must
		// be ErrInvalid (dead-lettered), never an error that is retried
		// forever in front of every later call.
		ev := call("CA1")
		ev.CallerName, ev.CallerCity = "bad\x00name", "\xff\xfe"
		if _, err := st.RecordCall(t.Context(), ev); err != nil {
			require.ErrorIs(t, err, store.ErrInvalid)
		}
		require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA2"))), "a refused call blocks nothing")
	}},
	{"CallMissingIsErrNotFound", func(t *testing.T, st store.Store) {
		require.NoError(t, recordErr(st.RecordCall(t.Context(), call("CA1"))))
		_, err := st.Call(t.Context(), "twilio", "CA2")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = st.Call(t.Context(), "telnyx", "CA1")
		require.ErrorIs(t, err, store.ErrNotFound)
	}},
	{"CallsBetweenHalfOpenOrderedByTimeProviderID", func(t *testing.T, st store.Store) {
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
	}},
	{"CallsBetweenFilesCallUnderEarliestEventTime", func(t *testing.T, st store.Store) {
		late := call("CA1")
		late.OccurredAt = at(2 * time.Hour)
		early := call("CA1")
		early.OccurredAt = at(time.Minute)
		require.NoError(t, recordErr(st.RecordCall(t.Context(), late)))
		require.NoError(t, recordErr(st.RecordCall(t.Context(), early)))
		got, err := st.CallsBetween(t.Context(), at(0), at(time.Hour))
		require.NoError(t, err)
		require.Equal(t, []string{"CA1"}, callIDs(got))
	}},
	{"RecordCallInvalidNamesFieldAndWritesNothing", func(t *testing.T, st store.Store) {
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
	}},
	{"RecordCallInvalidLeavesExistingCallUnchanged", func(t *testing.T, st store.Store) {
		ev := lifecycle("CA1")[0]
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
		bad := lifecycle("CA1")[3]
		bad.Duration = -time.Second
		requireInvalid(t, recordErr(st.RecordCall(t.Context(), bad)), "duration")
		got, err := st.Call(t.Context(), "twilio", "CA1")
		require.NoError(t, err)
		require.Equal(t, wantCall(ev), got)
	}},
	{"RecordCallReturnsTheMergedCall", func(t *testing.T, st store.Store) {
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
	}},
	{"CallsBeforeCountsTheCallersEarlierCallsOnly", func(t *testing.T, st store.Store) {
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
	}},
}

// recordErr keeps the error of RecordCall, for the many cases that need
// only that.
func recordErr(_ provider.CallEvent, err error) error { return err }
