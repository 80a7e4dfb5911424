package redispool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

// TestConcurrentCallsShareRoundTripsAndKeepTheirOwnReplies drives many
// goroutines at once, so calls are combined into pipelines, while the
// server's script cache is flushed twice: every caller must get its own
// session's number back, and every number must have exactly one holder.
func TestConcurrentCallsShareRoundTripsAndKeepTheirOwnReplies(t *testing.T) {
	rdb := newClient(t)
	const callers, perCaller = 32, 40
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "p", Numbers: pooltest.Numbers(callers * perCaller),
		BusinessNumber: "+12125550100"}}}
	a := newAllocator(t, rdb, cfg, uniquePrefix(t, rdb))
	ctx := t.Context()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	var mu sync.Mutex
	owner := map[string]string{} // number -> session
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range perCaller {
				if c == 0 && i%20 == 10 {
					require.NoError(t, rdb.ScriptFlush(ctx).Err())
				}
				session := fmt.Sprintf("s-%d-%d", c, i)
				l, err := a.Lease(ctx, "p", session, now)
				require.NoError(t, err)
				require.Equal(t, pool.Assigned, l.Outcome)
				again, err := a.Lease(ctx, "p", session, now)
				require.NoError(t, err)
				require.Equal(t, l.Number, again.Number, "a session keeps its number")
				require.Equal(t, l.Token, again.Token)
				mu.Lock()
				prev, taken := owner[l.Number]
				owner[l.Number] = session
				mu.Unlock()
				require.False(t, taken, "%s handed to %s and %s", l.Number, prev, session)
			}
		})
	}
	wg.Wait()
	require.Len(t, owner, callers*perCaller)
}

// TestCallerGivingUpDoesNotStallOthers cancels callers before and while
// their calls queue behind others: everyone else still gets an answer, even
// when a caller that gave up was the one chosen to send their batch.
func TestCallerGivingUpDoesNotStallOthers(t *testing.T) {
	rdb := newClient(t)
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "p", Numbers: pooltest.Numbers(2000),
		BusinessNumber: "+12125550100"}}}
	a := newAllocator(t, rdb, cfg, uniquePrefix(t, rdb))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	var wg sync.WaitGroup
	for c := range 24 {
		wg.Go(func() {
			for i := range 30 {
				ctx := t.Context()
				switch (c + i) % 3 {
				case 0: // gone before it starts
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					cancel()
				case 1: // gone while queued, in flight, or chosen to send a batch
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Duration(50+i*10)*time.Microsecond)
					defer cancel()
				}
				_, err := a.Lease(ctx, "p", fmt.Sprintf("s-%d-%d", c, i), now)
				if ctx.Err() != nil {
					continue // may have run or not; either way it returned
				}
				require.NoError(t, err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("callers stalled behind a cancelled one")
	}
}
