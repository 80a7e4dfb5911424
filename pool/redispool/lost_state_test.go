package redispool_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
	"github.com/attriqs/calltrack/pool/redispool"
)

// syncBuffer is a log sink the allocator may write from any goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLostStateIsRegisteredAgain deletes every key of a pool behind the
// allocator's back, as a failover to a replica that had not synced does
// (TestClusterFailover met it on a loaded machine: every lease after the
// promotion answered the business number). The next lease registers the
// numbers again, says so at Warn, and hands out a tracked number; the leases
// from before the loss answer ErrStaleLease. LeaseMany does the same. An exhausted pool that was not
// lost still answers Original, and registers nothing.
func TestLostStateIsRegisteredAgain(t *testing.T) {
	ctx := context.Background()
	rdb := newClient(t)
	prefix := uniquePrefix(t, rdb)
	var logs syncBuffer
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "paid", Numbers: pooltest.Numbers(2),
		BusinessNumber: "+12125550100", Exhaustion: pool.ServeOriginal}}}
	a, err := redispool.New(ctx, rdb, redispool.Config{Config: cfg, Prefix: prefix,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	first, err := a.Lease(ctx, "paid", "s1", now)
	require.NoError(t, err)
	_, err = a.Lease(ctx, "paid", "s2", now)
	require.NoError(t, err)
	exhausted, err := a.Lease(ctx, "paid", "s3", now)
	require.NoError(t, err)
	require.Equal(t, pool.Original, exhausted.Outcome, "both numbers are held")
	require.Empty(t, logs.String(), "an exhausted pool is not a lost one")

	lose := func() {
		keys, err := rdb.Keys(ctx, "{"+prefix+":*").Result()
		require.NoError(t, err)
		require.NotEmpty(t, keys)
		require.NoError(t, rdb.Del(ctx, keys...).Err())
	}
	lose()
	l, err := a.Lease(ctx, "paid", "s4", now.Add(time.Second))
	require.NoError(t, err)
	assert.True(t, l.Outcome.Tracked(), "outcome %v after the loss", l.Outcome)
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "pool=paid")

	_, err = a.Renew(ctx, "paid", "s1", first.Token, now.Add(2*time.Second))
	assert.ErrorIs(t, err, pool.ErrStaleLease, "a lease from before the loss is forgotten")

	many, err := a.LeaseMany(ctx, "paid", []string{"s5", "s6"}, now.Add(3*time.Second))
	require.NoError(t, err)
	assert.True(t, many[0].Outcome.Tracked(), "the second number is free")
	assert.Equal(t, pool.Original, many[1].Outcome, "both numbers are held again")
	assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), "registered once")

	lose()
	many, err = a.LeaseMany(ctx, "paid", []string{"s7", "s8"}, now.Add(4*time.Second))
	require.NoError(t, err)
	assert.True(t, many[0].Outcome.Tracked() && many[1].Outcome.Tracked(), "LeaseMany registers a lost pool: %v", many)
	assert.Equal(t, 2, strings.Count(logs.String(), "level=WARN"), "registered once per loss")
}
