package pooltest

import (
	"time"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

func (s *suite) exhaustionReusesLeastRecentlyActive(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	ls := leaseAll(t, a, 2, 0)
	_, err := a.Renew(ctx, poolName, session(0), ls[0].Token, at(10))
	require.NoError(t, err)
	l, err := a.Lease(ctx, poolName, session(9), at(11))
	require.NoError(t, err)
	assert.Equal(t, pool.Reused, l.Outcome)
	assert.Equal(t, ls[1].Number, l.Number, "session 1 was active least recently")
	assert.NotZero(t, l.Token)
	again, err := a.Lease(ctx, poolName, session(9), at(12))
	require.NoError(t, err)
	assert.Equal(t, l.Number, again.Number, "a reusing session keeps its number too")
	st, err := a.Stats(ctx, poolName, at(12))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Reuses)
	assert.Equal(t, 2, st.Leased)
	assert.Equal(t, 3, st.Holds)
}

func (s *suite) reuseKeepsBothHoldersInHistory(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	first, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	second, err := a.Lease(ctx, poolName, session(2), at(5))
	require.NoError(t, err)
	require.Equal(t, pool.Reused, second.Outcome)
	require.Equal(t, first.Number, second.Number)
	// The first holder leaves; the number stays with the second.
	require.NoError(t, a.Release(ctx, poolName, session(1), first.Token, at(6)))
	_, err = a.Renew(ctx, poolName, session(2), second.Token, at(7))
	require.NoError(t, err)

	hs, err := a.HoldersAt(ctx, first.Number, at(8), 60*time.Minute)
	require.NoError(t, err)
	require.Len(t, hs, 2)
	assert.Equal(t, session(1), hs[0].SessionID)
	assert.False(t, hs[0].Reused)
	assert.False(t, hs[0].Live)
	assert.Equal(t, at(6), hs[0].Until)
	assert.Equal(t, session(2), hs[1].SessionID)
	assert.True(t, hs[1].Reused)
	assert.True(t, hs[1].Live)
	assert.Equal(t, at(5), hs[1].From)
}

func (s *suite) exhaustionServesFallback(t *testing.T) {
	a := s.newAllocator(t, config(1, func(pc *pool.PoolConfig) {
		pc.Fallback = fallback
		pc.Exhaustion = pool.ServeFallback
	}))
	leaseAll(t, a, 1, 0)
	l, err := a.Lease(ctx, poolName, session(9), at(1))
	require.NoError(t, err)
	assert.Equal(t, pool.Fallback, l.Outcome)
	assert.Equal(t, fallback, l.Number)
	assert.Zero(t, l.Token)
	st, err := a.Stats(ctx, poolName, at(1))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Fallbacks)
	assert.Zero(t, st.Reuses)
}

func (s *suite) exhaustionServesOriginal(t *testing.T) {
	a := s.newAllocator(t, config(1, func(pc *pool.PoolConfig) { pc.Exhaustion = pool.ServeOriginal }))
	leaseAll(t, a, 1, 0)
	l, err := a.Lease(ctx, poolName, session(9), at(1))
	require.NoError(t, err)
	assert.Equal(t, pool.Original, l.Outcome)
	assert.Equal(t, business, l.Number)
	st, err := a.Stats(ctx, poolName, at(1))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Originals)
}
