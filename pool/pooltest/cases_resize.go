package pooltest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

// RunResize runs the cases of the [pool.Resizer] contract against
// allocators built by newAllocator, which must implement pool.Resizer. An
// implementation runs it beside [Run]:
//
//	pooltest.RunResize(t, factory, pooltest.Features{})
func RunResize(t *testing.T, newAllocator Factory, f Features) {
	if f.Goroutines == 0 {
		f.Goroutines = 8
	}
	s := &suite{newAllocator: newAllocator, features: f}
	for _, c := range s.resizeCases() {
		t.Run(c.name, c.run)
	}
}

func (s *suite) resizeCases() []testCase {
	return []testCase{
		{"AddedNumbersAreLeasableAtOnce", s.addedNumbersAreLeasableAtOnce},
		{"AddIsIdempotentAndRefusesOthersNumbers", s.addIsIdempotentAndRefusesOthersNumbers},
		{"DrainingNumberIsNeverLeasedAnew", s.drainingNumberIsNeverLeasedAnew},
		{"DrainingNumberIsNeverReused", s.drainingNumberIsNeverReused},
		{"DrainWaitsForLastHoldAndCooldown", s.drainWaitsForLastHoldAndCooldown},
		{"DrainingNumberKeepsItsHoldsAndHolders", s.drainingNumberKeepsItsHoldsAndHolders},
		{"DrainCountsALapsedHoldAsEnded", s.drainCountsALapsedHoldAsEnded},
		{"AddingADrainingNumberReturnsItToService", s.addingADrainingNumberReturnsItToService},
		{"RemoveOfAMissingNumberIsANoOp", s.removeOfAMissingNumberIsANoOp},
		{"StatsCountLeasableNumbersOnly", s.statsCountLeasableNumbersOnly},
		{"ConcurrentResizeNeverSharesNorLeasesDrained", s.concurrentResizeNeverSharesNorLeasesDrained},
	}
}

// resizable builds an allocator for cfg and returns its Resizer too.
func (s *suite) resizable(t *testing.T, cfg pool.Config) (pool.Allocator, pool.Resizer) {
	t.Helper()
	a := s.newAllocator(t, cfg)
	r, ok := a.(pool.Resizer)
	require.True(t, ok, "%T does not implement pool.Resizer", a)
	return a, r
}

func (s *suite) addedNumbersAreLeasableAtOnce(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	leaseAll(t, a, 2, 0)
	extra := Numbers(3)[2]
	require.NoError(t, r.AddNumbers(ctx, poolName, extra))
	l, err := a.Lease(ctx, poolName, session(2), at(1))
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, l.Outcome)
	assert.Equal(t, extra, l.Number)
	st, err := a.Stats(ctx, poolName, at(1))
	require.NoError(t, err)
	assert.Equal(t, 3, st.Size)
	assert.Equal(t, 3, st.Leased)
}

func (s *suite) addIsIdempotentAndRefusesOthersNumbers(t *testing.T) {
	cfg := config(2, func(pc *pool.PoolConfig) { pc.Fallback = fallback })
	cfg.Pools = append(cfg.Pools, pool.PoolConfig{Name: "organic", Numbers: []string{"+14155550123"}, BusinessNumber: business})
	cfg.Dedicated = []pool.DedicatedNumber{{Number: "+14155550124", BusinessNumber: business, Campaign: "radio"}}
	a, r := s.resizable(t, cfg)
	require.NoError(t, r.AddNumbers(ctx, poolName, Numbers(2)...), "numbers the pool has")
	for _, bad := range []string{"+14155550123", "+14155550124", fallback, business} {
		err := r.AddNumbers(ctx, poolName, Numbers(3)[2], bad)
		require.ErrorIs(t, err, pool.ErrNumberElsewhere, bad)
		assert.Contains(t, err.Error(), bad)
	}
	err := r.AddNumbers(ctx, poolName, Numbers(3)[2], "+1555")
	require.ErrorIs(t, err, pool.ErrInvalidNumber)
	st, err := a.Stats(ctx, poolName, at(0))
	require.NoError(t, err)
	assert.Equal(t, 2, st.Size, "a refused call adds nothing")
}

func (s *suite) drainingNumberIsNeverLeasedAnew(t *testing.T) {
	a, r := s.resizable(t, config(3, func(pc *pool.PoolConfig) { pc.Exhaustion = pool.ServeOriginal }))
	drained := Numbers(3)[0]
	st, err := r.Drain(ctx, poolName, drained, at(0))
	require.NoError(t, err)
	assert.True(t, st.Done, "never held, so nothing to wait for")
	for i := range 3 {
		l, err := a.Lease(ctx, poolName, session(i), at(float64(i)))
		require.NoError(t, err)
		assert.NotEqual(t, drained, l.Number, "session %d", i)
		if i == 2 {
			assert.Equal(t, pool.Original, l.Outcome, "two leasable numbers, both held")
		}
	}
}

func (s *suite) drainingNumberIsNeverReused(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	ls := leaseAll(t, a, 2, 0)
	// The drained number's holder is the least recently active, yet the
	// reuse must go to the other number.
	_, err := a.Renew(ctx, poolName, session(1), ls[1].Token, at(10))
	require.NoError(t, err)
	_, err = r.Drain(ctx, poolName, ls[0].Number, at(11))
	require.NoError(t, err)
	l, err := a.Lease(ctx, poolName, session(2), at(12))
	require.NoError(t, err)
	assert.Equal(t, pool.Reused, l.Outcome)
	assert.Equal(t, ls[1].Number, l.Number)
}

func (s *suite) drainWaitsForLastHoldAndCooldown(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	st, err := r.Drain(ctx, poolName, l.Number, at(5))
	require.NoError(t, err)
	assert.Equal(t, pool.DrainState{Number: l.Number, Holds: 1}, st)
	require.ErrorIs(t, r.Remove(ctx, poolName, l.Number, at(5)), pool.ErrStillDraining)
	require.NoError(t, a.Release(ctx, poolName, session(1), l.Token, at(10)))
	st, err = r.Drain(ctx, poolName, l.Number, at(20))
	require.NoError(t, err)
	assert.Equal(t, pool.DrainState{Number: l.Number, CoolsAt: at(70)}, st)
	require.ErrorIs(t, r.Remove(ctx, poolName, l.Number, at(69)), pool.ErrStillDraining)
	st, err = r.Drain(ctx, poolName, l.Number, at(70))
	require.NoError(t, err)
	assert.True(t, st.Done)
	draining, err := r.Draining(ctx, poolName)
	require.NoError(t, err)
	assert.Equal(t, []string{l.Number}, draining, "drained, not yet removed")
	require.NoError(t, r.Remove(ctx, poolName, l.Number, at(70)))
	draining, err = r.Draining(ctx, poolName)
	require.NoError(t, err)
	assert.Empty(t, draining)
	_, err = a.HoldersAt(ctx, l.Number, at(71), cooldown)
	require.ErrorIs(t, err, pool.ErrUnknownNumber, "removed")
	require.NoError(t, r.Remove(ctx, poolName, l.Number, at(71)), "retried")
}

func (s *suite) drainingNumberKeepsItsHoldsAndHolders(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	_, err = r.Drain(ctx, poolName, l.Number, at(1))
	require.NoError(t, err)
	again, err := a.Lease(ctx, poolName, session(1), at(2))
	require.NoError(t, err)
	assert.Equal(t, pool.Continued, again.Outcome, "a live session keeps its number")
	assert.Equal(t, l.Token, again.Token)
	_, err = a.Renew(ctx, poolName, session(1), l.Token, at(20))
	require.NoError(t, err)
	require.NoError(t, a.Release(ctx, poolName, session(1), l.Token, at(25)))
	hs, err := a.HoldersAt(ctx, l.Number, at(60), cooldown)
	require.NoError(t, err)
	require.Len(t, hs, 1, "a call in the grace window finds its session")
	assert.Equal(t, session(1), hs[0].SessionID)
}

func (s *suite) drainCountsALapsedHoldAsEnded(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	l, err := a.Lease(ctx, poolName, session(1), at(0))
	require.NoError(t, err)
	st, err := r.Drain(ctx, poolName, l.Number, at(31))
	require.NoError(t, err)
	assert.Equal(t, pool.DrainState{Number: l.Number, CoolsAt: at(90)}, st, "ended where it expired, at minute 30")
}

func (s *suite) addingADrainingNumberReturnsItToService(t *testing.T) {
	a, r := s.resizable(t, config(2, nil))
	n := Numbers(2)[1]
	_, err := r.Drain(ctx, poolName, n, at(0))
	require.NoError(t, err)
	require.NoError(t, r.AddNumbers(ctx, poolName, n))
	draining, err := r.Draining(ctx, poolName)
	require.NoError(t, err)
	assert.Empty(t, draining)
	got := map[string]bool{}
	for _, l := range leaseAll(t, a, 2, 1) {
		got[l.Number] = true
	}
	assert.True(t, got[n])
}

func (s *suite) removeOfAMissingNumberIsANoOp(t *testing.T) {
	_, r := s.resizable(t, config(2, nil))
	require.NoError(t, r.Remove(ctx, poolName, "+14155550177", at(0)))
	require.ErrorIs(t, r.Remove(ctx, poolName, Numbers(1)[0], at(0)), pool.ErrStillDraining, "leasable, not draining")
	_, err := r.Drain(ctx, "no-such-pool", Numbers(1)[0], at(0))
	require.ErrorIs(t, err, pool.ErrUnknownPool)
	_, err = r.Drain(ctx, poolName, "+14155550177", at(0))
	require.ErrorIs(t, err, pool.ErrUnknownNumber)
}

func (s *suite) statsCountLeasableNumbersOnly(t *testing.T) {
	a, r := s.resizable(t, config(4, nil))
	ls := leaseAll(t, a, 2, 0)
	_, err := r.Drain(ctx, poolName, ls[0].Number, at(1))
	require.NoError(t, err)
	_, err = r.Drain(ctx, poolName, Numbers(4)[3], at(1))
	require.NoError(t, err)
	st, err := a.Stats(ctx, poolName, at(2))
	require.NoError(t, err)
	assert.Equal(t, 2, st.Size)
	assert.Equal(t, 1, st.Leased)
	assert.Equal(t, 2, st.Holds, "the draining number's hold is still live")
	assert.Equal(t, st.Size, st.Leased+st.Free+st.Cooling)
}

// concurrentResizeNeverSharesNorLeasesDrained leases and releases from
// several goroutines while one adds numbers and another drains them. Under
// ServeOriginal no reuse is legitimate, so every tracked lease must be a
// number no other live session holds and that was not draining when the
// Lease began.
func (s *suite) concurrentResizeNeverSharesNorLeasesDrained(t *testing.T) {
	const (
		initial = 8
		added   = 24
		rounds  = 60
	)
	all := Numbers(initial + added)
	a, r := s.resizable(t, config(initial, func(pc *pool.PoolConfig) { pc.Exhaustion = pool.ServeOriginal }))
	var mu sync.Mutex
	owner := map[string]string{}
	drained := map[string]bool{} // Drain returned for these numbers
	g := s.features.Goroutines
	parallel(g+2, func(w int) {
		switch w {
		case g: // grows
			for _, n := range all[initial:] {
				if err := r.AddNumbers(ctx, poolName, n); err != nil {
					t.Error(err)
				}
			}
			return
		case g + 1: // drains every other number, newest first
			for i := len(all) - 1; i >= 0; i -= 2 {
				if _, err := r.Drain(ctx, poolName, all[i], at(0)); err != nil {
					if !errors.Is(err, pool.ErrUnknownNumber) { // not added yet
						t.Error(err)
					}
					continue
				}
				mu.Lock()
				drained[all[i]] = true
				mu.Unlock()
			}
			return
		}
		for i := range rounds {
			sess := fmt.Sprintf("w%d-%d", w, i)
			mu.Lock()
			before := len(drained)
			snapshot := make(map[string]bool, before)
			for n := range drained {
				snapshot[n] = true
			}
			mu.Unlock()
			l, err := a.Lease(ctx, poolName, sess, at(0))
			if err != nil {
				t.Error(err)
				return
			}
			if l.Outcome != pool.Assigned {
				continue
			}
			mu.Lock()
			if snapshot[l.Number] {
				t.Errorf("%s leased %s after its drain began", sess, l.Number)
			}
			if prev, held := owner[l.Number]; held {
				t.Errorf("%s and %s both hold %s", prev, sess, l.Number)
			}
			owner[l.Number] = sess
			mu.Unlock()
			if i%2 == 0 {
				continue // keep some holds live across the drains
			}
			mu.Lock()
			delete(owner, l.Number) // before the release, so a new holder never races this entry
			mu.Unlock()
			if err := a.Release(ctx, poolName, sess, l.Token, at(0)); err != nil {
				t.Error(err)
			}
		}
	})
	draining, err := r.Draining(ctx, poolName)
	require.NoError(t, err)
	for _, n := range draining {
		assert.True(t, drained[n], "%s draining without a Drain", n)
	}
	for n := range drained {
		assert.True(t, slices.Contains(draining, n), "%s drained, not listed", n)
	}
}
