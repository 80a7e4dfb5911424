package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/store"
)

// listsAreEmptyNotAnErrorWhenNothingMatches asks every list method of an
// empty store, and of the Outbox when declared.
func (s *suite) listsAreEmptyNotAnErrorWhenNothingMatches(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	from, to := at(-1000*time.Hour), at(1000*time.Hour)
	empty := func(what string, n int, err error) {
		t.Helper()
		require.NoError(t, err, what)
		require.Zero(t, n, what)
	}
	ss, err := st.SessionsOfVisitor(ctx, "v1")
	empty("SessionsOfVisitor", len(ss), err)
	holders, err := st.HoldersAt(ctx, numA, at(0), time.Hour)
	empty("HoldersAt", len(holders), err)
	holds, err := st.HoldsBetween(ctx, from, to)
	empty("HoldsBetween", len(holds), err)
	calls, err := st.CallsBetween(ctx, from, to)
	empty("CallsBetween", len(calls), err)
	n, latest, err := st.CallsBefore(ctx, "+14155550123", to)
	empty("CallsBefore", n, err)
	require.True(t, latest.IsZero(), "CallsBefore: no latest call")
	tps, err := st.TouchpointsOf(ctx, "p_nobody", from, to)
	empty("TouchpointsOf", len(tps), err)
	convs, err := st.ConversionsBetween(ctx, from, to)
	empty("ConversionsBetween", len(convs), err)
	convs, err = st.ConversionsOf(ctx, "p_nobody")
	empty("ConversionsOf", len(convs), err)
	claims, err := st.ClaimsOf(ctx, visitor("v1"))
	empty("ClaimsOf", len(claims), err)
	js, err := st.JourneysBetween(ctx, from, to, -1)
	empty("JourneysBetween", len(js), err)
	if s.features.Outbox {
		ob := outboxOf(t, st)
		ms, err := ob.OutboxOfConversion(ctx, "c1")
		empty("OutboxOfConversion", len(ms), err)
		for _, state := range []store.OutboxState{store.OutboxPending, store.OutboxDelivered, store.OutboxDead} {
			ms, err := ob.OutboxByState(ctx, state, 0)
			empty("OutboxByState "+string(state), len(ms), err)
		}
		ms, err = ob.ClaimOutbox(ctx, to, 10, time.Minute)
		empty("ClaimOutbox", len(ms), err)
	}
}
