package redispool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
	"github.com/attriqs/calltrack/pool/redispool"
)

// Two allocators on two clients, many goroutines each, one pool: no number
// is ever held by two live sessions without a recorded reuse, and every
// reuse the callers saw is counted once.
func TestTwoInstancesNeverDoubleAssign(t *testing.T) {
	ctx := context.Background()
	c1, c2 := newClient(t), newClient(t)
	prefix := uniquePrefix(t, c1)
	const numbers, goroutines, perGoroutine = 40, 16, 3 // 48 sessions: 8 must reuse
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "paid", Numbers: pooltest.Numbers(numbers), BusinessNumber: "+12125550100"}}}
	instances := []*redispool.Allocator{newAllocator(t, c1, cfg, prefix), newAllocator(t, c2, cfg, prefix)}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	var mu sync.Mutex
	holders := map[string][]pool.Lease{}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			a := instances[g%2]
			for i := range perGoroutine {
				l, err := a.Lease(ctx, "paid", fmt.Sprintf("g%d-%d", g, i), now)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				holders[l.Number] = append(holders[l.Number], l)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	reuses := 0
	for number, ls := range holders {
		assigned := 0
		for _, l := range ls {
			switch l.Outcome {
			case pool.Assigned:
				assigned++
			case pool.Reused:
				reuses++
			default:
				t.Errorf("unexpected outcome %v", l.Outcome)
			}
		}
		assert.Equal(t, 1, assigned, "number %s assigned once, then only reused", number)
	}
	assert.Equal(t, goroutines*perGoroutine-numbers, reuses)
	st, err := instances[0].Stats(ctx, "paid", now)
	require.NoError(t, err)
	assert.Equal(t, uint64(reuses), st.Reuses)
	assert.Equal(t, numbers, st.Leased)
	assert.Equal(t, goroutines*perGoroutine, st.Holds)
}

func TestLeaseManyIsOneRoundTripWithLeaseSemantics(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "paid", Numbers: pooltest.Numbers(8), BusinessNumber: "+12125550100"}}}
	a := newAllocator(t, rdb, cfg, uniquePrefix(t, rdb))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ids := []string{"a", "b", "c", "a", "", "d"}
	ls, err := a.LeaseMany(ctx, "paid", ids, now)
	require.ErrorIs(t, err, pool.ErrInvalidSession, "the empty id")
	require.Len(t, ls, len(ids))
	assert.Equal(t, pool.Assigned, ls[0].Outcome)
	assert.Equal(t, pool.Continued, ls[3].Outcome, "a repeated session gets its number back")
	assert.Equal(t, ls[0].Number, ls[3].Number)
	assert.Equal(t, pool.Original, ls[4].Outcome)
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 2, 5} {
		assert.False(t, seen[ls[i].Number], "distinct numbers")
		seen[ls[i].Number] = true
	}
	// The script cache survives a flush by reloading.
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	ls, err = a.LeaseMany(ctx, "paid", []string{"e"}, now)
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, ls[0].Outcome)
}

func TestOnRecordSeesHoldsStartAndEnd(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	var mu sync.Mutex
	var records []pool.HoldRecord
	cfg := pool.Config{
		Pools:    []pool.PoolConfig{{Name: "paid", Numbers: pooltest.Numbers(2), BusinessNumber: "+12125550100"}},
		OnRecord: func(r pool.HoldRecord) { mu.Lock(); records = append(records, r); mu.Unlock() },
	}
	a := newAllocator(t, rdb, cfg, uniquePrefix(t, rdb))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l, err := a.Lease(ctx, "paid", "s1", now)
	require.NoError(t, err)
	_, err = a.Lease(ctx, "paid", "s2", now)
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, "paid", "s1", l.Token, now.Add(time.Minute)))
	n, err := a.Sweep(ctx, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "s2 expired")
	require.Len(t, records, 4)
	assert.True(t, records[0].Until.IsZero(), "start of s1")
	assert.Equal(t, "s1", records[2].SessionID)
	assert.Equal(t, now.Add(time.Minute), records[2].Until)
	assert.Equal(t, "s2", records[3].SessionID)
	assert.Equal(t, now.Add(30*time.Minute), records[3].Until, "expired at the end of its window")
}
