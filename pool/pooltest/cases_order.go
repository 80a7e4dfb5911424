package pooltest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

// leaseAll leases every number of an n-number pool to sessions 0..n-1 and
// returns their leases.
func leaseAll(t *testing.T, a pool.Allocator, n int, minute float64) []pool.Lease {
	t.Helper()
	leases := make([]pool.Lease, n)
	for i := range n {
		l, err := a.Lease(ctx, poolName, session(i), at(minute))
		require.NoError(t, err)
		require.Equal(t, pool.Assigned, l.Outcome)
		leases[i] = l
	}
	return leases
}

func (s *suite) numberInCooldownWaitsWhileColderIsFree(t *testing.T) {
	a := s.newAllocator(t, config(3, nil))
	ls := leaseAll(t, a, 3, 0)
	// Released at minutes 1, 31 and 61; at minute 62 only the first is cold.
	renew := func(i int, m float64) {
		_, err := a.Renew(ctx, poolName, session(i), ls[i].Token, at(m))
		require.NoError(t, err)
	}
	require.NoError(t, a.Release(ctx, poolName, session(0), ls[0].Token, at(1)))
	renew(1, 25)
	renew(2, 25)
	require.NoError(t, a.Release(ctx, poolName, session(1), ls[1].Token, at(31)))
	renew(2, 50)
	require.NoError(t, a.Release(ctx, poolName, session(2), ls[2].Token, at(61)))
	l, err := a.Lease(ctx, poolName, session(100), at(62))
	require.NoError(t, err)
	assert.Equal(t, ls[0].Number, l.Number, "the only number out of cooldown")
	l, err = a.Lease(ctx, poolName, session(101), at(92))
	require.NoError(t, err)
	assert.Equal(t, ls[1].Number, l.Number, "released at 31, cold at 92")
	st, err := a.Stats(ctx, poolName, at(92))
	require.NoError(t, err)
	assert.Zero(t, st.CoolingHandouts)
}

func (s *suite) leastRecentlyReleasedFirst(t *testing.T) {
	if !s.features.ExactLRU {
		t.Skip("implementation keeps LRU order per processor only (Features.ExactLRU)")
	}
	const n = 6
	a := s.newAllocator(t, config(n, nil))
	ls := leaseAll(t, a, n, 0)
	order := []int{3, 0, 5, 1, 4, 2}
	for k, i := range order {
		require.NoError(t, a.Release(ctx, poolName, session(i), ls[i].Token, at(1+float64(k))))
	}
	for k, i := range order {
		l, err := a.Lease(ctx, poolName, session(100+k), at(200))
		require.NoError(t, err)
		assert.Equal(t, ls[i].Number, l.Number, "lease %d", k)
	}
}

func (s *suite) coolingNumberServedWhenNothingColder(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	ls := leaseAll(t, a, 2, 0)
	require.NoError(t, a.Release(ctx, poolName, session(1), ls[1].Token, at(1)))
	require.NoError(t, a.Release(ctx, poolName, session(0), ls[0].Token, at(2)))
	l, err := a.Lease(ctx, poolName, session(100), at(3))
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, l.Outcome, "a cooling number beats exhaustion")
	assert.Equal(t, ls[1].Number, l.Number, "the number released first")
	st, err := a.Stats(ctx, poolName, at(3))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.CoolingHandouts)
}

func (s *suite) expiredLeaseFreesItsNumber(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	old, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	// Expired at 30, cold at 90: a new session gets it as its own.
	l, err := a.Lease(ctx, poolName, session(2), at(91))
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, l.Outcome)
	assert.Equal(t, old.Number, l.Number)
	hs, err := a.HoldersAt(ctx, old.Number, at(29), 0)
	require.NoError(t, err)
	require.Len(t, hs, 1)
	assert.Equal(t, session(1), hs[0].SessionID)
	assert.Equal(t, at(30), hs[0].Until, "the hold ended when it lapsed, not when noticed")
}
