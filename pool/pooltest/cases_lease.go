package pooltest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

var ctx = context.Background()

func (s *suite) sameLiveSessionGetsSameNumberBack(t *testing.T) {
	a := s.newAllocator(t, config(5, nil))
	first, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, first.Outcome)
	assert.NotZero(t, first.Token)
	assert.Contains(t, Numbers(5), first.Number)
	for _, m := range []float64{1, 10, 29} {
		again, err := a.Lease(ctx, poolName, session(1), at(m))
		require.NoError(t, err)
		assert.Equal(t, first.Number, again.Number, "minute %v", m)
		assert.Equal(t, first.Token, again.Token, "minute %v", m)
		assert.Equal(t, pool.Continued, again.Outcome, "minute %v", m)
	}
}

func (s *suite) liveSessionsGetDistinctNumbers(t *testing.T) {
	const n = 20
	a := s.newAllocator(t, config(n, nil))
	seen := map[string]string{}
	for i := range n {
		l, err := a.Lease(ctx, poolName, session(i), at(float64(i)/10))
		require.NoError(t, err)
		require.Equal(t, pool.Assigned, l.Outcome)
		if prev, dup := seen[l.Number]; dup {
			t.Fatalf("%s and %s both hold %s", prev, session(i), l.Number)
		}
		seen[l.Number] = session(i)
	}
}

func (s *suite) leaseExtendsExpiry(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	assert.Equal(t, at(30), l.ExpiresAt)
	l, err = a.Lease(ctx, poolName, session(1), at(20))
	require.NoError(t, err)
	assert.Equal(t, at(50), l.ExpiresAt)
	// Still the same lease at minute 45, past the first expiry.
	l2, err := a.Lease(ctx, poolName, session(1), at(45))
	require.NoError(t, err)
	assert.Equal(t, pool.Continued, l2.Outcome)
	assert.Equal(t, l.Token, l2.Token)
}

func (s *suite) renewExtendsExpiry(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	for _, m := range []float64{25, 50, 75} {
		r, err := a.Renew(ctx, poolName, session(1), l.Token, at(m))
		require.NoError(t, err, "minute %v", m)
		assert.Equal(t, at(m+30), r.ExpiresAt)
		assert.Equal(t, l.Number, r.Number)
		assert.Equal(t, l.Token, r.Token)
	}
}

func (s *suite) leaseExpiresAfterSessionWindow(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	_, err = a.Renew(ctx, poolName, session(1), l.Token, at(31))
	require.ErrorIs(t, err, pool.ErrStaleLease)
	again, err := a.Lease(ctx, poolName, session(1), at(32))
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, again.Outcome, "an expired lease is not continued")
	assert.NotEqual(t, l.Token, again.Token)
}

func (s *suite) staleTokenCannotRenewOrRelease(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	old, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, poolName, session(1), old.Token, at(1)))
	next, err := a.Lease(ctx, poolName, session(2), at(120))
	require.NoError(t, err)
	require.Equal(t, old.Number, next.Number, "a pool of one hands its number on")

	_, err = a.Renew(ctx, poolName, session(1), old.Token, at(121))
	assert.ErrorIs(t, err, pool.ErrStaleLease)
	assert.ErrorIs(t, a.Release(ctx, poolName, session(1), old.Token, at(121)), pool.ErrStaleLease)
	// The new holder is untouched.
	r, err := a.Renew(ctx, poolName, session(2), next.Token, at(122))
	require.NoError(t, err)
	assert.Equal(t, next.Number, r.Number)
}

func (s *suite) tokenOfAnotherSessionIsRejected(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	_, err = a.Renew(ctx, poolName, session(2), l.Token, at(1))
	assert.ErrorIs(t, err, pool.ErrStaleLease)
	assert.ErrorIs(t, a.Release(ctx, poolName, session(2), l.Token, at(1)), pool.ErrStaleLease)
	_, err = a.Renew(ctx, poolName, session(1), l.Token, at(2))
	assert.NoError(t, err, "the rightful holder keeps its lease")
	_, err = a.Renew(ctx, poolName, session(1), l.Token+1_000_003, at(2))
	assert.ErrorIs(t, err, pool.ErrStaleLease, "a forged token")
}

func (s *suite) releaseIsSafeToRetry(t *testing.T) {
	a := s.newAllocator(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, poolName, session(1), l.Token, at(1)))
	assert.ErrorIs(t, a.Release(ctx, poolName, session(1), l.Token, at(2)), pool.ErrStaleLease)
	st, err := a.Stats(ctx, poolName, at(3))
	require.NoError(t, err)
	assert.Equal(t, 0, st.Leased)
	assert.Equal(t, 1, st.Cooling)
	assert.Equal(t, 1, st.Free)
}

func (s *suite) unknownPoolIsAnError(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	_, err := a.Lease(ctx, "nope", session(1), at(0))
	assert.ErrorIs(t, err, pool.ErrUnknownPool)
	_, err = a.Renew(ctx, "nope", session(1), 1, at(0))
	assert.ErrorIs(t, err, pool.ErrUnknownPool)
	assert.ErrorIs(t, a.Release(ctx, "nope", session(1), 1, at(0)), pool.ErrUnknownPool)
	_, err = a.Stats(ctx, "nope", at(0))
	assert.ErrorIs(t, err, pool.ErrUnknownPool)
}

func (s *suite) invalidSessionIsAnError(t *testing.T) {
	a := s.newAllocator(t, config(1, nil))
	l, err := a.Lease(ctx, poolName, "", at(0))
	assert.ErrorIs(t, err, pool.ErrInvalidSession)
	assert.Equal(t, pool.Original, l.Outcome, "the visitor still gets a number")
	assert.Equal(t, business, l.Number)
}
