package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// A call record derived before an outcome was set by hand (a webhook
// racing the hand) is written as the outcome says: "lost" keeps the
// conversion retracted, "won" keeps the hand's value, and neither
// enqueues the record's messages.
func (s *suite) putCallRecordFollowsTheOutcomeSetByHand(t *testing.T) {
	for _, status := range []journey.OutcomeStatus{journey.OutcomeLost, journey.OutcomeWon} {
		t.Run(string(status), func(t *testing.T) {
			st := s.newStore(t)
			rec := callRecord("CA1", true)
			recordCallOf(t, st, rec)
			o := journey.ManualOutcome{TouchpointID: rec.Touchpoint.ID, Status: status, Value: 90000, Currency: "USD",
				SetAt: at(time.Hour), Version: 1}
			retract := []string{rec.Conversion.ID}
			var put *journey.Conversion
			if status.Converts() {
				c := *rec.Conversion
				c.Value = 90000
				put, retract = &c, nil
			}
			require.NoError(t, st.SetOutcome(t.Context(), o, put, retract))
			msg := store.OutboxMessage{ID: "sink/" + rec.Conversion.ID, Sink: "sink", Kind: "conversion",
				ConversionID: rec.Conversion.ID, Payload: []byte(`{}`)}
			require.NoError(t, st.PutCallRecord(t.Context(), rec, msg))
			convs, err := st.ConversionsBetween(t.Context(), at(-24*time.Hour), at(24*time.Hour))
			require.NoError(t, err)
			if status.Converts() {
				require.Len(t, convs, 1)
				require.Equal(t, int64(90000), convs[0].Value, "the hand's value, not the rule's")
			} else {
				require.Empty(t, convs, "the retraction stands")
			}
			if ob, ok := st.(store.Outbox); ok {
				claimed, err := ob.ClaimOutbox(t.Context(), at(48*time.Hour), 10, time.Minute)
				require.NoError(t, err)
				require.Empty(t, claimed, "the record's messages are dropped")
			}
		})
	}
}
