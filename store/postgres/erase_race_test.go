package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/postgres"
)

// PutCallRecord and ErasePerson take the identity lock before any row, so
// racing each other they never deadlock. With one attempt, a deadlock
// PostgreSQL broke (normally retried, hiding it) fails the test.
func TestPutCallRecordRacingErasePersonNeverDeadlocks(t *testing.T) {
	pool, _ := testPool(t)
	st := postgres.New(pool, postgres.Config{Retry: postgres.Retry{Attempts: 1}})
	ctx := t.Context()
	require.NoError(t, st.Migrate(ctx))
	t.Cleanup(func() { _ = st.Close() })
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	for i := range 24 {
		callID, number, vid := fmt.Sprintf("CA-%d", i), fmt.Sprintf("+1415555%04d", 3000+i), fmt.Sprintf("v-%d", i)
		_, err := st.RecordCall(ctx, provider.CallEvent{Provider: "twilio", CallID: callID, Kind: provider.KindStatus,
			From: number, To: "+14155550100", Direction: provider.DirectionInbound, StartedAt: at})
		require.NoError(t, err)
		caller := journey.CallerLink{Phone: journey.Identifier{Kind: journey.IDPhone, Value: number},
			Visitor: journey.Identifier{Kind: journey.IDVisitor, Value: vid}}
		p, err := st.Link(ctx, caller.Phone, caller.Visitor)
		require.NoError(t, err)
		rec := journey.CallRecord{
			Attribution: journey.Attribution{Provider: "twilio", CallID: callID, VisitorID: vid,
				Confidence: journey.ConfidencePoolOnly, Reason: "no session held the number", StitchedAt: at},
			Caller:     &caller,
			Touchpoint: journey.Touchpoint{ID: journey.CallTouchpointID("twilio", callID), Kind: journey.TouchCall, At: at, VisitorID: vid},
		}
		var wg sync.WaitGroup
		var putErr, eraseErr error
		wg.Add(2)
		go func() { defer wg.Done(); putErr = st.PutCallRecord(ctx, rec) }()
		go func() { defer wg.Done(); eraseErr = st.ErasePerson(context.Background(), p) }()
		wg.Wait()
		require.NoError(t, eraseErr, "round %d", i)
		if putErr != nil {
			require.ErrorIs(t, putErr, store.ErrNotFound, "round %d", i)
		}
	}
}
