package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// AmendCall is how what is learned of a call after the fact (an analysis
// of its recording) is written: merged like RecordCall into a stored call,
// never creating one, so it cannot bring back a call erased meanwhile.
func (s *suite) amendCallMergesIntoAStoredCallAndNeverCreatesOne(t *testing.T) {
	st := s.newStore(t)
	analysis := call("CA1")
	analysis.From = ""
	analysis.Labels, analysis.Transcript = []string{"booked"}, "I'd like a quote."
	_, err := st.AmendCall(t.Context(), analysis)
	require.ErrorIs(t, err, store.ErrNotFound, "no call to amend")
	_, err = st.Call(t.Context(), analysis.Provider, analysis.CallID)
	require.ErrorIs(t, err, store.ErrNotFound, "an amendment of a missing call writes nothing")

	ev := call("CA1")
	ev.Status, ev.OccurredAt, ev.StartedAt = provider.StatusCompleted, at(time.Minute), at(0)
	require.NoError(t, recordErr(st.RecordCall(t.Context(), ev)))
	got, err := st.AmendCall(t.Context(), analysis)
	require.NoError(t, err)
	want := wantCall(ev)
	want.Labels, want.Transcript = analysis.Labels, analysis.Transcript
	require.Equal(t, want, got, "the amendment is merged into the stored call")
	stored, err := st.Call(t.Context(), ev.Provider, ev.CallID)
	require.NoError(t, err)
	require.Equal(t, want, stored)

	bad := analysis
	bad.Outcome = "maybe"
	_, err = st.AmendCall(t.Context(), bad)
	require.ErrorIs(t, err, store.ErrInvalid)
}
