package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
)

// The spam rule for repeated short calls reads how many of a caller's
// finished calls in a window lasted less than a bound: by the billed
// duration, else from start to end, as journey.CallLength measures.
func (s *suite) shortCallsBetweenCountsTheCallersFinishedShortCalls(t *testing.T) {
	st := s.newStore(t)
	record := func(id, from string, filed, length time.Duration, billed bool) {
		ev := call(id)
		ev.From, ev.Status, ev.StartedAt, ev.EndedAt = from, provider.StatusCompleted, at(filed), at(filed+length)
		if billed {
			ev.Duration = length
		}
		require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	}
	robo := call("x").From
	record("CA1", robo, 0, 3*time.Second, true)
	record("CA2", robo, time.Hour, 4*time.Second, false) // no billed duration: start to end
	record("CA3", robo, 2*time.Hour, 5*time.Minute, true)
	record("CA4", "+14155550199", time.Hour, 2*time.Second, true)
	ringing := call("CA5") // not finished: never counted
	ringing.Status, ringing.StartedAt = provider.StatusRinging, at(90*time.Minute)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ringing)))

	n, err := st.ShortCallsBetween(t.Context(), robo, at(0), at(3*time.Hour), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two short finished calls of the caller")
	n, err = st.ShortCallsBetween(t.Context(), robo, at(30*time.Minute), at(3*time.Hour), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the window starts at since")
	n, err = st.ShortCallsBetween(t.Context(), robo, at(0), at(time.Hour), 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the window ends before before")
	n, err = st.ShortCallsBetween(t.Context(), "", at(0), at(3*time.Hour), time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "a withheld number has no history")
}
