package pool_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

func newMemory(t *testing.T, cfg pool.Config) pool.Allocator {
	m, err := pool.New(cfg)
	require.NoError(t, err)
	return m
}

func TestMemoryConformance(t *testing.T) {
	pooltest.Run(t, newMemory, pooltest.Features{})
}

// With one processor there is one free list, and LRU order is exact.
func TestMemoryConformanceOneProcessor(t *testing.T) {
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		return newMemory(t, cfg)
	}, pooltest.Features{ExactLRU: true})
}

func TestMemoryDedicatedNumbersAreNeverLeased(t *testing.T) {
	ctx := context.Background()
	cfg := onePool(1, nil)
	cfg.Dedicated = []pool.DedicatedNumber{{Number: "+14153000000", BusinessNumber: "+12125550100", Campaign: "billboard-101", Medium: "billboard"}}
	m, err := pool.New(cfg)
	require.NoError(t, err)
	for i := range 3 {
		l, err := m.Lease(ctx, "paid", fmt.Sprint("s", i), t0)
		require.NoError(t, err)
		assert.NotEqual(t, "+14153000000", l.Number)
	}
	hs, err := m.HoldersAt(ctx, "+14153000000", t0, time.Hour)
	require.NoError(t, err)
	assert.Empty(t, hs)
	d, ok := m.Catalog().Dedicated("+1 415 300 0000")
	require.True(t, ok)
	assert.Equal(t, "billboard-101", d.Campaign)
}

func TestMemoryOnRecordSeesEveryHoldStartAndEnd(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var got []pool.HoldRecord
	cfg := onePool(1, nil)
	cfg.OnRecord = func(r pool.HoldRecord) { mu.Lock(); got = append(got, r); mu.Unlock() }
	m, err := pool.New(cfg)
	require.NoError(t, err)
	a, err := m.Lease(ctx, "paid", "first", t0)
	require.NoError(t, err)
	b, err := m.Lease(ctx, "paid", "second", t0.Add(time.Minute)) // exhausted: reuse
	require.NoError(t, err)
	require.NoError(t, m.Release(ctx, "paid", "first", a.Token, t0.Add(2*time.Minute)))
	_, err = m.Sweep(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, got, 4)
	assert.Equal(t, pool.HoldRecord{Token: a.Token, Pool: "paid", Number: a.Number, SessionID: "first", From: t0}, got[0])
	assert.Equal(t, pool.HoldRecord{Token: b.Token, Pool: "paid", Number: a.Number, SessionID: "second", From: t0.Add(time.Minute), Reused: true}, got[1])
	assert.Equal(t, t0.Add(2*time.Minute), got[2].Until)
	assert.Equal(t, "second", got[3].SessionID)
	assert.Equal(t, t0.Add(31*time.Minute), got[3].Until, "expired at the end of its window")
}

func TestMemoryHistoryIsBoundedPerNumber(t *testing.T) {
	ctx := context.Background()
	cfg := onePool(1, func(pc *pool.PoolConfig) { pc.Cooldown = time.Minute })
	cfg.HistoryPerNumber = 4
	m, err := pool.New(cfg)
	require.NoError(t, err)
	for i := range 10 {
		now := t0.Add(time.Duration(i) * 10 * time.Minute)
		l, err := m.Lease(ctx, "paid", fmt.Sprint("s", i), now)
		require.NoError(t, err)
		require.NoError(t, m.Release(ctx, "paid", fmt.Sprint("s", i), l.Token, now.Add(time.Minute)))
	}
	holds, err := m.Holds("paid")
	require.NoError(t, err)
	require.Len(t, holds, 4, "only the last HistoryPerNumber holds stay in memory")
	assert.Equal(t, "s6", holds[0].SessionID)
	assert.Equal(t, "s9", holds[3].SessionID)
	hs, err := m.HoldersAt(ctx, holds[0].Number, t0.Add(90*time.Minute+30*time.Second), 0)
	require.NoError(t, err)
	require.Len(t, hs, 1)
	assert.Equal(t, "s9", hs[0].SessionID)
}
