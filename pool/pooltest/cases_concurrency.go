package pooltest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

// parallel runs fn(g) on g = 0..n-1 concurrently and waits.
func parallel(n int, fn func(g int)) {
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() { fn(g) })
	}
	wg.Wait()
}

func (s *suite) concurrentSessionsNeverShareANumber(t *testing.T) {
	const perGoroutine = 8
	g := s.features.Goroutines
	a := s.newAllocator(t, config(g*perGoroutine, nil))
	leases := make([][]pool.Lease, g)
	parallel(g, func(w int) {
		for i := range perGoroutine {
			l, err := a.Lease(ctx, poolName, session(w*perGoroutine+i), at(0))
			if err != nil {
				t.Error(err)
				return
			}
			leases[w] = append(leases[w], l)
		}
	})
	holder := map[string]int{}
	for w, ls := range leases {
		require.Len(t, ls, perGoroutine)
		for i, l := range ls {
			require.Equal(t, pool.Assigned, l.Outcome)
			if prev, dup := holder[l.Number]; dup {
				t.Fatalf("sessions %d and %d both hold %s", prev, w*perGoroutine+i, l.Number)
			}
			holder[l.Number] = w*perGoroutine + i
		}
	}
	parallel(g, func(w int) {
		for i, l := range leases[w] {
			if err := a.Release(ctx, poolName, session(w*perGoroutine+i), l.Token, at(1)); err != nil {
				t.Error(err)
			}
		}
	})
	st, err := a.Stats(ctx, poolName, at(1))
	require.NoError(t, err)
	assert.Zero(t, st.Leased)
	assert.Equal(t, g*perGoroutine, st.Cooling)
}

func (s *suite) concurrentLeasesOfOneSessionAgree(t *testing.T) {
	a := s.newAllocator(t, config(4*s.features.Goroutines, nil))
	for round := range 5 {
		id := fmt.Sprintf("racing-%d", round)
		got := make([]pool.Lease, s.features.Goroutines)
		parallel(s.features.Goroutines, func(w int) {
			l, err := a.Lease(ctx, poolName, id, at(float64(round)))
			if err != nil {
				t.Error(err)
			}
			got[w] = l
		})
		for w, l := range got {
			assert.Equal(t, got[0].Number, l.Number, "round %d goroutine %d", round, w)
			assert.Equal(t, got[0].Token, l.Token, "round %d goroutine %d", round, w)
		}
		st, err := a.Stats(ctx, poolName, at(float64(round)))
		require.NoError(t, err)
		assert.Equal(t, round+1, st.Holds, "one hold per racing session")
	}
}

func (s *suite) concurrentChurnKeepsCountsConsistent(t *testing.T) {
	const sessionsPerGoroutine, rounds = 4, 25
	g := s.features.Goroutines
	size := g * sessionsPerGoroutine // enough for everyone: no reuse expected
	a := s.newAllocator(t, config(size, nil))
	live := make([]map[string]pool.Lease, g)
	parallel(g, func(w int) {
		mine := map[string]pool.Lease{}
		for r := range rounds {
			now := at(float64(r))
			for i := range sessionsPerGoroutine {
				id := session(w*sessionsPerGoroutine + i)
				switch l, held := mine[id]; {
				case !held:
					nl, err := a.Lease(ctx, poolName, id, now)
					if err != nil || !nl.Outcome.Tracked() {
						t.Errorf("lease %s: %v %v", id, nl.Outcome, err)
						return
					}
					mine[id] = nl
				case (r+i)%3 == 0:
					if err := a.Release(ctx, poolName, id, l.Token, now); err != nil {
						t.Errorf("release %s: %v", id, err)
						return
					}
					delete(mine, id)
				default:
					if _, err := a.Renew(ctx, poolName, id, l.Token, now); err != nil {
						t.Errorf("renew %s: %v", id, err)
						return
					}
				}
			}
		}
		live[w] = mine
	})
	numbers := map[string]string{}
	holds := 0
	for _, mine := range live {
		for id, l := range mine {
			if prev, dup := numbers[l.Number]; dup {
				t.Fatalf("%s and %s both hold %s", prev, id, l.Number)
			}
			numbers[l.Number] = id
			holds++
		}
	}
	st, err := a.Stats(ctx, poolName, at(rounds))
	require.NoError(t, err)
	assert.Equal(t, holds, st.Holds)
	assert.Equal(t, holds, st.Leased)
	assert.Equal(t, size, st.Leased+st.Free+st.Cooling)
	assert.Zero(t, st.Reuses)
}
