package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func attribution(callID, sessionID string) journey.Attribution {
	return journey.Attribution{
		Provider: "twilio", CallID: callID, SessionID: sessionID, VisitorID: "v1",
		Source: src("attr"), Confidence: journey.ConfidenceReused,
		Reason: "two sessions held the number; the most recently active was chosen",
		Candidates: []journey.Candidate{
			{SessionID: sessionID, HeldFrom: at(0), HeldUntil: at(time.Minute), Reused: true},
			{SessionID: "other", HeldFrom: at(-time.Hour), HeldUntil: at(time.Minute)},
		},
		StitchedAt: at(2 * time.Minute),
	}
}

func wantAttribution(a journey.Attribution) journey.Attribution {
	a.StitchedAt = utcMicro(a.StitchedAt)
	cs := make([]journey.Candidate, len(a.Candidates))
	for i, c := range a.Candidates {
		c.HeldFrom, c.HeldUntil = utcMicro(c.HeldFrom), utcMicro(c.HeldUntil)
		cs[i] = c
	}
	if len(cs) == 0 {
		cs = nil
	}
	a.Candidates = cs
	return a
}

func (s *suite) putAttributionRoundTripsEveryField(t *testing.T) {
	st := s.newStore(t)
	a := attribution("CA1", "s1")
	require.NoError(t, st.PutAttribution(t.Context(), a))
	got, err := st.Attribution(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, wantAttribution(a), got)
}

func (s *suite) putAttributionReplacesPreviousForSameCall(t *testing.T) {
	st := s.newStore(t)
	require.NoError(t, st.PutAttribution(t.Context(), attribution("CA1", "s1")))
	b := attribution("CA1", "s2")
	b.Confidence = journey.ConfidenceExact
	b.Candidates = nil
	require.NoError(t, st.PutAttribution(t.Context(), b))
	require.NoError(t, st.PutAttribution(t.Context(), b))
	got, err := st.Attribution(t.Context(), "twilio", "CA1")
	require.NoError(t, err)
	require.Equal(t, wantAttribution(b), got)
}

func (s *suite) attributionMissingIsErrNotFound(t *testing.T) {
	st := s.newStore(t)
	_, err := st.Attribution(t.Context(), "twilio", "CA404")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) putAttributionInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	a := attribution("CA1", "s1")
	a.Confidence = "pretty-sure"
	requireInvalid(t, st.PutAttribution(t.Context(), a), "confidence")
	_, err := st.Attribution(t.Context(), "twilio", "CA1")
	require.ErrorIs(t, err, store.ErrNotFound)
	a = attribution("", "s1")
	requireInvalid(t, st.PutAttribution(t.Context(), a), "call_id")
}
