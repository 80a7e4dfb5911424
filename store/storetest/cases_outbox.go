package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func msg(id, sink, convID string, due time.Duration) store.OutboxMessage {
	return store.OutboxMessage{ID: id, Sink: sink, Kind: "conversion", ConversionID: convID,
		Payload: []byte(`{"id":"` + id + `"}`), CreatedAt: at(-time.Hour), NextAt: at(due)}
}

func msgIDs(xs []store.OutboxMessage) []string {
	return ids(xs, func(m store.OutboxMessage) string { return m.ID })
}

// claimOf returns the claim token of message id among claimed.
func claimOf(t *testing.T, claimed []store.OutboxMessage, id string) string {
	t.Helper()
	for _, m := range claimed {
		if m.ID == id {
			return m.Claim
		}
	}
	t.Fatalf("%s was not claimed", id)
	return ""
}

func getMsg(t *testing.T, ob store.Outbox, id string) store.OutboxMessage {
	t.Helper()
	m, err := ob.OutboxMessage(t.Context(), id)
	require.NoError(t, err)
	return m
}

func (s *suite) enqueueRoundTripsPendingInUTCAndRepeatChangesNothing(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	m := msg("m1", "webhook", "c1", 0)
	require.NoError(t, ob.EnqueueOutbox(ctx, m))
	got := getMsg(t, ob, "m1")
	require.Equal(t, store.OutboxMessage{ID: "m1", Sink: "webhook", Kind: "conversion", ConversionID: "c1",
		Payload: m.Payload, State: store.OutboxPending, NextAt: utcMicro(at(0)),
		CreatedAt: utcMicro(at(-time.Hour)), UpdatedAt: utcMicro(at(-time.Hour))}, got)

	claimed, err := ob.ClaimOutbox(ctx, at(0), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	again := m
	again.Payload = []byte(`{"changed":true}`)
	require.NoError(t, ob.EnqueueOutbox(ctx, again))
	after := getMsg(t, ob, "m1")
	require.Equal(t, claimed[0], after, "enqueuing an existing id changes nothing, not even the claim")
}

func (s *suite) enqueueZeroTimesMeanNowAndDueAtOnce(t *testing.T) {
	_, ob := s.newOutbox(t)
	before := time.Now().Add(-time.Second)
	require.NoError(t, ob.EnqueueOutbox(t.Context(), store.OutboxMessage{ID: "m", Sink: "s", Kind: "call"}))
	got := getMsg(t, ob, "m")
	require.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)
	require.True(t, got.CreatedAt.After(before))
	require.Equal(t, got.CreatedAt, got.NextAt)
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	// With CreatedAt given, a zero NextAt is due at CreatedAt.
	created := store.OutboxMessage{ID: "c", Sink: "s", Kind: "call", CreatedAt: at(-time.Hour)}
	require.NoError(t, ob.EnqueueOutbox(t.Context(), created))
	got = getMsg(t, ob, "c")
	require.Equal(t, utcMicro(at(-time.Hour)), got.CreatedAt)
	require.Equal(t, utcMicro(at(-time.Hour)), got.NextAt)
}

func (s *suite) enqueueIgnoresDeliveryState(t *testing.T) {
	_, ob := s.newOutbox(t)
	m := msg("m", "s", "c1", 0)
	m.State, m.Attempts, m.LastError = store.OutboxDelivered, 5, "500 Internal Server Error"
	m.DeliveredAt, m.Claim = at(time.Minute), "someone-elses-claim"
	require.NoError(t, ob.EnqueueOutbox(t.Context(), m))
	got := getMsg(t, ob, "m")
	require.Equal(t, store.OutboxPending, got.State)
	require.Zero(t, got.Attempts)
	require.Empty(t, got.LastError)
	require.True(t, got.DeliveredAt.IsZero())
	require.Empty(t, got.Claim)
	claimed, err := ob.ClaimOutbox(t.Context(), at(0), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"m"}, msgIDs(claimed), "the message is owed, whatever state it came with")
	require.Equal(t, 1, claimed[0].Attempts)
}

func (s *suite) enqueueInvalidNamesFieldAndWritesNothing(t *testing.T) {
	_, ob := s.newOutbox(t)
	bad := msg("bad", "", "c1", 0)
	bad.Kind = ""
	requireInvalid(t, ob.EnqueueOutbox(t.Context(), msg("good", "s", "c1", 0), bad), "sink", "kind", "message 1")
	_, err := ob.OutboxMessage(t.Context(), "good")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused batch stores none of its messages")
}

func (s *suite) putConversionWithOutboxWritesBothAndRequalifyingSendsNothingNew(t *testing.T) {
	st, ob := s.newOutbox(t)
	ctx := t.Context()
	c := callConversion("CA1", "v1", 0)
	require.NoError(t, ob.PutConversionWithOutbox(ctx, c, msg("c-a", "a", c.ID, 0), msg("c-b", "b", c.ID, 0)))
	c.Value = 9000
	require.NoError(t, ob.PutConversionWithOutbox(ctx, c, msg("c-a", "a", c.ID, time.Hour)))
	got, err := st.ConversionsBetween(ctx, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []journey.Conversion{wantConv(c)}, got)
	ms, err := ob.OutboxOfConversion(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"c-a", "c-b"}, msgIDs(ms))
	require.Equal(t, utcMicro(at(0)), ms[0].NextAt, "the existing message kept its due time")
}

func (s *suite) putConversionWithOutboxIsAllOrNothing(t *testing.T) {
	st, ob := s.newOutbox(t)
	ctx := t.Context()
	existing := conversion("o1", "v1", 0, 100)
	require.NoError(t, st.PutConversion(ctx, existing))
	other := existing
	other.Type = journey.ConversionForm
	require.ErrorIs(t, ob.PutConversionWithOutbox(ctx, other, msg("m-conflict", "s", "o1", 0)), store.ErrConflict)
	_, err := ob.OutboxMessage(ctx, "m-conflict")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused conversion enqueues nothing")

	fresh := conversion("o2", "v1", 0, 100)
	requireInvalid(t, ob.PutConversionWithOutbox(ctx, fresh, store.OutboxMessage{ID: "m-bad", Kind: "conversion"}), "sink")
	got, err := st.ConversionsBetween(ctx, at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"o1"}, convIDs(got), "a refused message writes no conversion")

	badConv := fresh
	badConv.Currency = "usd"
	requireInvalid(t, ob.PutConversionWithOutbox(ctx, badConv, msg("m-ok", "s", "o2", 0)), "currency")
	_, err = ob.OutboxMessage(ctx, "m-ok")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func (s *suite) claimTakesDuePendingInDueOrderUpToLimitAndLeasesThem(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx,
		msg("b", "s", "", 0), msg("a", "s", "", 0), msg("early", "s", "", -time.Minute),
		msg("later", "s", "", time.Microsecond), msg("z", "s", "", -time.Second)))
	got, err := ob.ClaimOutbox(ctx, at(0), 3, 5*time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"early", "z", "a"}, msgIDs(got))
	for _, m := range got {
		require.Equal(t, 1, m.Attempts)
		require.NotEmpty(t, m.Claim)
		require.Equal(t, utcMicro(at(5*time.Minute)), m.NextAt, "claimed until the lease ends")
		require.Equal(t, store.OutboxPending, m.State)
		require.Equal(t, m, getMsg(t, ob, m.ID), "the claim is stored as returned")
	}
	rest, err := ob.ClaimOutbox(ctx, at(0), 10, 5*time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, msgIDs(rest), "leased messages are not claimed again; later is not due")
	none, err := ob.ClaimOutbox(ctx, at(0), 0, time.Minute)
	require.NoError(t, err)
	require.Empty(t, none)
}

func (s *suite) expiredLeaseIsClaimedAgainWithANewClaim(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("m", "s", "", 0)))
	first, err := ob.ClaimOutbox(ctx, at(0), 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, first, 1)
	during, err := ob.ClaimOutbox(ctx, at(time.Minute-time.Microsecond), 1, time.Minute)
	require.NoError(t, err)
	require.Empty(t, during, "not while the lease runs")
	second, err := ob.ClaimOutbox(ctx, at(time.Minute), 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, second, 1, "the claimer died: the message comes back")
	require.Equal(t, 2, second[0].Attempts)
	require.NotEqual(t, first[0].Claim, second[0].Claim)
	err = ob.MarkOutboxFailed(ctx, "m", first[0].Claim, "late", at(2*time.Minute), at(3*time.Minute), false)
	require.ErrorIs(t, err, store.ErrConflict, "the first claim lost the message")
	require.Equal(t, second[0], getMsg(t, ob, "m"), "a refused failure changes nothing")
}

func (s *suite) markFailedRetriesOrDeadLettersForTheHoldingClaimOnly(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("r", "s", "", 0), msg("d", "s", "", 0)))
	cl, err := ob.ClaimOutbox(ctx, at(0), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, cl, 2)
	claim := claimOf(t, cl, "r")
	require.NoError(t, ob.MarkOutboxFailed(ctx, "r", claim, "503 Service Unavailable", at(time.Second), at(10*time.Second), false))
	r := getMsg(t, ob, "r")
	require.Equal(t, store.OutboxPending, r.State)
	require.Equal(t, "503 Service Unavailable", r.LastError)
	require.Equal(t, utcMicro(at(10*time.Second)), r.NextAt)
	require.Equal(t, utcMicro(at(time.Second)), r.UpdatedAt)

	require.NoError(t, ob.MarkOutboxFailed(ctx, "d", claimOf(t, cl, "d"), "400 Bad Request", at(time.Second), time.Time{}, true))
	d := getMsg(t, ob, "d")
	require.Equal(t, store.OutboxDead, d.State)
	require.Equal(t, "400 Bad Request", d.LastError)
	require.ErrorIs(t, ob.MarkOutboxFailed(ctx, "d", claimOf(t, cl, "d"), "again", at(time.Second), at(time.Hour), false), store.ErrConflict,
		"a dead message takes no more failures")
	require.ErrorIs(t, ob.MarkOutboxFailed(ctx, "r", "not-the-claim", "x", at(time.Second), at(time.Hour), false), store.ErrConflict)
	require.ErrorIs(t, ob.MarkOutboxFailed(ctx, "nope", claim, "x", at(time.Second), at(time.Hour), false), store.ErrNotFound)

	got, err := ob.ClaimOutbox(ctx, at(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"r"}, msgIDs(got), "dead messages are never claimed")
}

func (s *suite) markDeliveredAlwaysWinsIsFinalAndIdempotent(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("m", "s", "", 0)))
	first, err := ob.ClaimOutbox(ctx, at(0), 1, time.Minute)
	require.NoError(t, err)
	_, err = ob.ClaimOutbox(ctx, at(time.Minute), 1, time.Minute) // lease ran out, reclaimed
	require.NoError(t, err)
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "m", at(90*time.Second)), "the first claim's delivery still counts")
	got := getMsg(t, ob, "m")
	require.Equal(t, store.OutboxDelivered, got.State)
	require.Equal(t, utcMicro(at(90*time.Second)), got.DeliveredAt)
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "m", at(time.Hour)))
	require.Equal(t, got, getMsg(t, ob, "m"), "delivering again changes nothing")
	require.ErrorIs(t, ob.MarkOutboxFailed(ctx, "m", first[0].Claim, "x", at(time.Hour), at(time.Hour), false), store.ErrConflict)
	require.ErrorIs(t, ob.MarkOutboxDelivered(ctx, "nope", at(0)), store.ErrNotFound)
	more, err := ob.ClaimOutbox(ctx, at(24*time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, more, "delivered messages are never claimed")
}

func (s *suite) requeueMakesDeadPendingAgainButNotDelivered(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("d", "s", "", 0), msg("ok", "s", "", 0)))
	cl, err := ob.ClaimOutbox(ctx, at(0), 10, time.Minute)
	require.NoError(t, err)
	require.NoError(t, ob.MarkOutboxFailed(ctx, "d", claimOf(t, cl, "d"), "gone", at(0), time.Time{}, true))
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "ok", at(0)))
	require.NoError(t, ob.RequeueOutbox(ctx, "d", at(time.Hour)))
	d := getMsg(t, ob, "d")
	require.Equal(t, store.OutboxPending, d.State)
	require.Zero(t, d.Attempts)
	require.Equal(t, utcMicro(at(time.Hour)), d.NextAt)
	require.Equal(t, "gone", d.LastError, "the last error stays for the record")
	require.ErrorIs(t, ob.RequeueOutbox(ctx, "ok", at(time.Hour)), store.ErrConflict)
	require.ErrorIs(t, ob.RequeueOutbox(ctx, "nope", at(time.Hour)), store.ErrNotFound)
	got, err := ob.ClaimOutbox(ctx, at(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"d"}, msgIDs(got))
}

func (s *suite) outboxOfConversionOrderedBySinkThenID(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx,
		msg("x2", "webhook", "c1", 0), msg("x1", "webhook", "c1", 0), msg("h", "hubspot", "c1", 0),
		msg("other", "webhook", "c2", 0)))
	ms, err := ob.OutboxOfConversion(ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, []string{"h", "x1", "x2"}, msgIDs(ms))
	none, err := ob.OutboxOfConversion(ctx, "c-none")
	require.NoError(t, err)
	require.Empty(t, none)
}

func (s *suite) outboxByStateMostRecentlyUpdatedFirstUpToLimit(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx,
		msg("x2", "webhook", "c1", 0), msg("x1", "webhook", "c1", 0), msg("h", "hubspot", "c1", 0),
		msg("other", "webhook", "c2", 0)))
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "x1", at(time.Minute)))
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "h", at(2*time.Minute)))
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "other", at(2*time.Minute)))
	del, err := ob.OutboxByState(ctx, store.OutboxDelivered, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"h", "other", "x1"}, msgIDs(del), "most recently updated first, then id")
	two, err := ob.OutboxByState(ctx, store.OutboxDelivered, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"h", "other"}, msgIDs(two))
	negative, err := ob.OutboxByState(ctx, store.OutboxDelivered, -1)
	require.NoError(t, err)
	require.Equal(t, msgIDs(del), msgIDs(negative), "a negative limit means all")
	pend, err := ob.OutboxByState(ctx, store.OutboxPending, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"x2"}, msgIDs(pend))
	dead, err := ob.OutboxByState(ctx, store.OutboxDead, 0)
	require.NoError(t, err)
	require.Empty(t, dead)
}

func (s *suite) parallelClaimsNeverShareAMessage(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	const n = 60
	var all []store.OutboxMessage
	for i := range n {
		all = append(all, msg(fmt.Sprintf("m%02d", i), "s", "", time.Duration(i)*time.Microsecond))
	}
	require.NoError(t, ob.EnqueueOutbox(ctx, all...))
	var mu sync.Mutex
	seen := map[string]int{}
	err := parallel(writers, func(int) error {
		for {
			got, err := ob.ClaimOutbox(ctx, at(time.Second), 4, time.Hour)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, m := range got {
				seen[m.ID]++
			}
			mu.Unlock()
		}
	})
	require.NoError(t, err)
	require.Len(t, seen, n, "every message claimed")
	for id, k := range seen {
		require.Equal(t, 1, k, "%s claimed %d times inside its lease", id, k)
	}
}

func (s *suite) deleteBeforeDeletesFinishedMessagesNotOwedOnes(t *testing.T) {
	st, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("done", "s", "", 0), msg("dead", "s", "", 0),
		msg("owed", "s", "", 0), msg("doneLate", "s", "", 0)))
	cl, err := ob.ClaimOutbox(ctx, at(0), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, cl, 4)
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "done", at(time.Minute)))
	require.NoError(t, ob.MarkOutboxFailed(ctx, "dead", claimOf(t, cl, "dead"), "x", at(time.Minute), time.Time{}, true))
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "doneLate", at(3*time.Hour)))
	n, err := st.DeleteBefore(ctx, at(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(2), n, "the delivered and the dead message updated before the cut-off")
	for id, want := range map[string]error{"done": store.ErrNotFound, "dead": store.ErrNotFound, "owed": nil, "doneLate": nil} {
		_, err := ob.OutboxMessage(ctx, id)
		if want == nil {
			require.NoError(t, err, id)
		} else {
			require.ErrorIs(t, err, want, id)
		}
	}
}

func (s *suite) erasePersonDeletesTheErasedConversionsMessages(t *testing.T) {
	st, ob := s.newOutbox(t)
	ctx := t.Context()
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	c := callConversion("CA9", "v1", 0)
	require.NoError(t, ob.PutConversionWithOutbox(ctx, c, msg("mine", "s", c.ID, 0)))
	require.NoError(t, ob.PutConversionWithOutbox(ctx, callConversion("CA8", "v2", 0), msg("theirs", "s", "call:twilio/CA8", 0)))
	require.NoError(t, st.ErasePerson(ctx, p))
	_, err = ob.OutboxMessage(ctx, "mine")
	require.ErrorIs(t, err, store.ErrNotFound, "an erased conversion's messages go with it")
	_, err = ob.OutboxMessage(ctx, "theirs")
	require.NoError(t, err)
}

func (s *suite) markDeliveredTurnsDeadIntoDelivered(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("m", "s", "", 0)))
	cl, err := ob.ClaimOutbox(ctx, at(0), 1, time.Minute)
	require.NoError(t, err)
	require.NoError(t, ob.MarkOutboxFailed(ctx, "m", claimOf(t, cl, "m"), "timeout", at(time.Second), time.Time{}, true))
	require.Equal(t, store.OutboxDead, getMsg(t, ob, "m").State)
	// The sink had it after all: a delivery is a fact.
	require.NoError(t, ob.MarkOutboxDelivered(ctx, "m", at(time.Minute)))
	got := getMsg(t, ob, "m")
	require.Equal(t, store.OutboxDelivered, got.State)
	require.Equal(t, utcMicro(at(time.Minute)), got.DeliveredAt)
	dead, err := ob.OutboxByState(ctx, store.OutboxDead, 0)
	require.NoError(t, err)
	require.Empty(t, dead)
}

func (s *suite) requeuePendingResetsAttemptsAndDueTime(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("p", "s", "", 0)))
	for _, now := range []time.Duration{0, time.Minute} { // two attempts; the second lease still runs
		_, err := ob.ClaimOutbox(ctx, at(now), 1, time.Minute)
		require.NoError(t, err)
	}
	require.Equal(t, 2, getMsg(t, ob, "p").Attempts)
	require.NoError(t, ob.RequeueOutbox(ctx, "p", at(time.Hour)))
	p := getMsg(t, ob, "p")
	require.Equal(t, store.OutboxPending, p.State)
	require.Zero(t, p.Attempts)
	require.Equal(t, utcMicro(at(time.Hour)), p.NextAt)
	early, err := ob.ClaimOutbox(ctx, at(time.Hour-time.Microsecond), 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, early, "due at the requeue time, not before")
	got, err := ob.ClaimOutbox(ctx, at(time.Hour), 10, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"p"}, msgIDs(got))
	require.Equal(t, 1, got[0].Attempts)
}

func (s *suite) unknownIDIsErrNotFound(t *testing.T) {
	_, ob := s.newOutbox(t)
	ctx := t.Context()
	require.NoError(t, ob.EnqueueOutbox(ctx, msg("known", "s", "", 0)))
	_, err := ob.OutboxMessage(ctx, "nope")
	require.ErrorIs(t, err, store.ErrNotFound, "OutboxMessage")
	require.ErrorIs(t, ob.MarkOutboxDelivered(ctx, "nope", at(0)), store.ErrNotFound, "MarkOutboxDelivered")
	require.ErrorIs(t, ob.MarkOutboxFailed(ctx, "nope", "claim", "x", at(0), at(time.Hour), false), store.ErrNotFound, "MarkOutboxFailed")
	require.ErrorIs(t, ob.RequeueOutbox(ctx, "nope", at(0)), store.ErrNotFound, "RequeueOutbox")
	_, err = ob.OutboxMessage(ctx, "known")
	require.NoError(t, err)
}
