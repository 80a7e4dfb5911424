package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/store"
)

// deferHandsBackWithoutUsingAnAttemptForTheHoldingClaimOnly checks
// DeferOutbox: the message stays pending, due at retryAt, its claim not
// counted, its reason kept; only the holding claim may defer it, a message
// no longer pending cannot be deferred, and an unknown id is not found.
func (s *suite) deferHandsBackWithoutUsingAnAttemptForTheHoldingClaimOnly(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("w", "s", "c1", 0), msg("done", "s", "c1", 0)))
	cl, err := ob.ClaimOutbox(ctx, at(0), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, cl, 2)
	claim := claimOf(t, cl, "w")
	require.NoError(t, ob.DeferOutbox(ctx, "w", claim, "waits for c1", at(time.Second), at(time.Hour)))
	w := getMsg(t, ob, "w")
	require.Equal(t, store.OutboxPending, w.State)
	require.Zero(t, w.Attempts, "waiting is not an attempt")
	require.Equal(t, "waits for c1", w.LastError)
	require.Equal(t, utcMicro(at(time.Hour)), w.NextAt)
	require.Equal(t, utcMicro(at(time.Second)), w.UpdatedAt)
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "done", at(time.Second)))

	early, err := ob.ClaimOutbox(ctx, at(time.Hour-time.Microsecond), 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, early, "due at retryAt, not before")
	again, err := ob.ClaimOutbox(ctx, at(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"w"}, msgIDs(again))
	require.Equal(t, 1, again[0].Attempts, "the first real attempt is attempt 1")

	require.ErrorIs(t, ob.DeferOutbox(ctx, "w", claim, "x", at(time.Hour), at(2*time.Hour)), store.ErrConflict,
		"a claim that no longer holds the message")
	require.Equal(t, again[0], getMsg(t, ob, "w"), "a refused defer changes nothing")
	require.ErrorIs(t, ob.DeferOutbox(ctx, "done", claimOf(t, cl, "done"), "x", at(time.Hour), at(2*time.Hour)), store.ErrConflict,
		"a delivered message")
	require.ErrorIs(t, ob.DeferOutbox(ctx, "nope", claim, "x", at(0), at(time.Hour)), store.ErrNotFound)
}
