package pool_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

// TestStressElasticResize leases and releases from many goroutines while
// others grow the pool, drain numbers, remove drained ones and ask who held
// them. Under ServeOriginal no sharing is legitimate, so the test checks
// online, against its own record:
//
//   - a number handed out as Assigned has no other live holder;
//   - no Lease that began after a number's Drain returned gets that number;
//   - a live session is among the holders of its number, drained or not,
//     until the number is removed.
//
// Leases happen at one simulated instant (nothing expires under them);
// removals happen three hours on, when every drained number has cooled.
// Run it without the race detector too:
//
//	GOMAXPROCS=2 go test -count=3 -run 'TestStress' ./pool/
func TestStressElasticResize(t *testing.T) {
	const (
		leasers = 8
		initial = 16
		grown   = 48
	)
	rounds := 400
	if testing.Short() {
		rounds = 60
	}
	ctx := context.Background()
	all := testNumbers(initial + grown)
	e, err := pool.NewElastic(onePool(initial, func(pc *pool.PoolConfig) { pc.Exhaustion = pool.ServeOriginal }))
	require.NoError(t, err)
	later := t0.Add(3 * time.Hour)

	var mu sync.Mutex
	owner := map[string]string{}
	drained := map[string]bool{}
	removed := map[string]bool{}
	isDrained := func(n string) bool { mu.Lock(); defer mu.Unlock(); return drained[n] }

	var wg sync.WaitGroup
	wg.Go(func() { // grows, a few numbers at a time
		for i := initial; i < len(all); i += 3 {
			if err := e.AddNumbers(ctx, "paid", all[i:min(i+3, len(all))]...); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() { // drains every third number, then removes the drained
		for i := len(all) - 1; i >= 0; i -= 3 {
			if _, err := e.Drain(ctx, "paid", all[i], t0); err != nil {
				if !errors.Is(err, pool.ErrUnknownNumber) { // not grown yet
					t.Error(err)
				}
				continue
			}
			mu.Lock()
			drained[all[i]] = true
			mu.Unlock()
		}
		for i := len(all) - 1; i >= 0; i -= 3 {
			if !isDrained(all[i]) {
				continue
			}
			mu.Lock()
			removed[all[i]] = true // before, so a holder check never races the removal
			mu.Unlock()
			if err := e.Remove(ctx, "paid", all[i], later); err != nil {
				t.Error(err)
			}
		}
	})
	for w := range leasers {
		wg.Go(func() {
			for i := range rounds {
				sess := fmt.Sprintf("w%d-%d", w, i)
				mu.Lock()
				before := make(map[string]bool, len(drained))
				for n := range drained {
					before[n] = true
				}
				mu.Unlock()
				l, err := e.Lease(ctx, "paid", sess, t0)
				if err != nil {
					t.Error(err)
					return
				}
				if l.Outcome != pool.Assigned {
					continue
				}
				mu.Lock()
				if before[l.Number] {
					t.Errorf("%s leased %s after its drain began", sess, l.Number)
				}
				if prev, held := owner[l.Number]; held {
					t.Errorf("%s and %s both hold %s", prev, sess, l.Number)
				}
				owner[l.Number] = sess
				gone := removed[l.Number]
				mu.Unlock()
				if !gone { // a removal racing this check may end the hold, not hide it
					hs, err := e.HoldersAt(ctx, l.Number, t0, time.Hour)
					if err != nil && !errors.Is(err, pool.ErrUnknownNumber) {
						t.Error(err)
					}
					if err == nil && !holdsFor(hs, sess) {
						t.Errorf("%s is not among the holders of %s: %v", sess, l.Number, hs)
					}
				}
				if i%3 == 0 {
					continue // some holds stay live across drains
				}
				mu.Lock()
				delete(owner, l.Number) // before the release, so the next holder never races this entry
				mu.Unlock()
				if err := e.Release(ctx, "paid", sess, l.Token, t0); err != nil && !errors.Is(err, pool.ErrStaleLease) {
					t.Error(err) // stale only when a removal ended the lapsed hold
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	draining, err := e.Draining(ctx, "paid")
	require.NoError(t, err)
	assert.Empty(t, draining, "every drained number was removed")
	numbers, err := e.Numbers("paid")
	require.NoError(t, err)
	for _, n := range numbers {
		assert.False(t, drained[n], "%s drained yet leasable", n)
	}
	assert.Len(t, numbers, len(all)-len(drained))
}

func holdsFor(hs []pool.Holder, session string) bool {
	for _, h := range hs {
		if h.SessionID == session {
			return true
		}
	}
	return false
}
