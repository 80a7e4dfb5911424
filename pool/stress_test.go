package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

// TestStress drives one small pool from many goroutines on a shared
// simulated clock, with far more sessions than numbers, so every path runs
// at once: new leases, continuations, renewals, releases, lazy expiry,
// cooling handouts, reuse under exhaustion and stale tokens. Invariants are
// checked online against the test's own record of who holds what:
//
//   - a number handed out as Assigned has no other holder still live;
//   - a live session that leases again gets its own number back;
//   - a token that was released never renews or releases again;
//   - a live session is among the holders of its number (history is read
//     while it is written);
//   - at the end, Stats agree with the test's record and with each other.
//
// Run it without the race detector too, where scheduling is tighter:
//
//	GOMAXPROCS=2 go test -count=3 -run 'TestStress' ./pool/
func TestStress(t *testing.T) {
	const (
		goroutines  = 8
		sessionsPer = 8
		numbers     = 12
	)
	ops := 20000
	if testing.Short() {
		ops = 2000
	}
	m, err := pool.New(onePool(numbers, func(pc *pool.PoolConfig) {
		pc.SessionWindow = 10 * time.Minute
		pc.Cooldown = 5 * time.Minute
	}))
	require.NoError(t, err)
	h := &stressHarness{t: t, m: m, owners: map[string]map[string]ownership{}}
	h.clock.Store(t0.UnixMilli())

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() { h.worker(g, sessionsPer, ops) })
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	now := time.UnixMilli(h.clock.Load()).UTC()
	st, err := m.Stats(context.Background(), "paid", now)
	require.NoError(t, err)
	assert.Equal(t, numbers, st.Leased+st.Free+st.Cooling, "every number is leased, free or cooling")
	liveHolds, liveNumbers := h.liveAt(now)
	assert.Equal(t, liveHolds, st.Holds, "live holds")
	assert.Equal(t, liveNumbers, st.Leased, "numbers held")
	assert.Equal(t, h.reuses.Load(), st.Reuses, "reuses")
	assert.Positive(t, st.Reuses, "the pool was exhausted at times")
	assert.Positive(t, h.staleChecks.Load(), "stale tokens were tried")
	t.Logf("stats: %+v", st)
}

type stressHarness struct {
	t           *testing.T
	m           *pool.Memory
	clock       atomic.Int64 // simulated ms
	mu          sync.Mutex
	owners      map[string]map[string]ownership // number -> session
	reuses      atomic.Uint64
	staleChecks atomic.Uint64
}

type stressSession struct {
	id    string
	lease pool.Lease
	held  bool
}

// tick advances the shared clock by up to 20 simulated seconds.
func (h *stressHarness) tick(r *rand.Rand) time.Time {
	return time.UnixMilli(h.clock.Add(r.Int64N(20_000))).UTC()
}

func (h *stressHarness) worker(g, sessions, ops int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(g), 7))
	mine := make([]stressSession, sessions)
	for i := range mine {
		mine[i].id = fmt.Sprintf("g%d-s%d", g, i)
	}
	var stale []staleToken
	for range ops {
		s := &mine[r.IntN(sessions)]
		now := h.tick(r)
		switch roll := r.IntN(100); {
		case !s.held || roll < 15:
			if !h.lease(ctx, s, now) {
				return
			}
		case roll < 65:
			l, err := h.m.Renew(ctx, "paid", s.id, s.lease.Token, now)
			switch {
			case errors.Is(err, pool.ErrStaleLease): // expired while idle
				h.forget(s)
			case err != nil:
				h.t.Errorf("renew %s: %v", s.id, err)
				return
			default:
				h.hold(s, l)
			}
		case roll < 85:
			h.forget(s) // before the call: the number may move on at once
			err := h.m.Release(ctx, "paid", s.id, s.lease.Token, now)
			if err != nil && !errors.Is(err, pool.ErrStaleLease) {
				h.t.Errorf("release %s: %v", s.id, err)
				return
			}
			if err == nil {
				stale = append(stale[max(0, len(stale)-3):], staleToken{s.id, s.lease.Token})
			}
		case roll < 95 && len(stale) > 0:
			old := stale[r.IntN(len(stale))]
			if s.held && s.id == old.session && s.lease.Token == old.token {
				continue
			}
			h.staleChecks.Add(1)
			if _, err := h.m.Renew(ctx, "paid", old.session, old.token, now); !errors.Is(err, pool.ErrStaleLease) {
				h.t.Errorf("renew with released token of %s: got %v", old.session, err)
				return
			}
		case roll < 97 && s.held:
			if !h.holdersInclude(ctx, s, now) {
				return
			}
		default: // go idle: stop renewing and let the lease lapse
			s.held = false
		}
	}
}

// holdersInclude checks that a surely live session is among the holders of
// its number, reading history while other goroutines write it.
func (h *stressHarness) holdersInclude(ctx context.Context, s *stressSession, now time.Time) bool {
	hs, err := h.m.HoldersAt(ctx, s.lease.Number, now, 0)
	if err != nil {
		h.t.Errorf("holders of %s: %v", s.lease.Number, err)
		return false
	}
	latest := time.UnixMilli(h.clock.Load()).UTC() // after the call: no earlier clock expired it

	if !s.lease.ExpiresAt.After(latest) {
		return true // others may have expired it by their clocks
	}
	for _, x := range hs {
		if x.SessionID == s.id && x.Live {
			return true
		}
	}
	h.t.Errorf("%s holds %s until %s but HoldersAt at %s gives %+v", s.id, s.lease.Number, s.lease.ExpiresAt, now, hs)
	return false
}

type staleToken struct {
	session string
	token   pool.Token
}

func (h *stressHarness) lease(ctx context.Context, s *stressSession, now time.Time) bool {
	l, err := h.m.Lease(ctx, "paid", s.id, now)
	if err != nil {
		h.t.Errorf("lease %s: %v", s.id, err)
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	// Callers' clocks are skewed (a goroutine may be descheduled between
	// reading the clock and calling), and any caller may expire a lease by
	// its own clock. A hold is surely live only if it outlasts the latest
	// time any caller has used so far.
	latest := time.UnixMilli(h.clock.Load()).UTC()
	switch l.Outcome {
	case pool.Continued:
		if s.held && s.lease.ExpiresAt.After(latest) && s.lease.Number != l.Number {
			h.t.Errorf("%s moved from %s to %s while live", s.id, s.lease.Number, l.Number)
			return false
		}
	case pool.Assigned:
		if !l.ExpiresAt.After(latest) {
			break
		}
		for other, o := range h.owners[l.Number] {
			// A reuser may join after us: that sharing is recorded, so legal.
			if until := o.until; other != s.id && !o.reused && until.After(latest) {
				h.t.Errorf("%s assigned %s at %s while %s holds it until %s",
					s.id, l.Number, now.Format(time.TimeOnly), other, until.Format(time.TimeOnly))
				return false
			}
		}
	case pool.Reused:
		h.reuses.Add(1)
	case pool.Fallback, pool.Original:
		s.held = false
		return true
	}
	if !l.ExpiresAt.After(latest) {
		// Dead on arrival: the caller's clock was so far behind that others
		// may already have expired the lease.
		s.held = false
		return true
	}
	if s.held && s.lease.Number != l.Number {
		delete(h.owners[s.lease.Number], s.id)
	}
	h.setOwner(l.Number, s.id, ownership{l.ExpiresAt, l.Outcome == pool.Reused || h.owners[l.Number][s.id].reused})
	s.lease, s.held = l, true
	return true
}

func (h *stressHarness) hold(s *stressSession, l pool.Lease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.owners[l.Number][s.id]; ok {
		h.setOwner(l.Number, s.id, ownership{l.ExpiresAt, o.reused})
	}
	s.lease = l
}

type ownership struct {
	until  time.Time
	reused bool
}

func (h *stressHarness) setOwner(number, session string, o ownership) {
	if h.owners[number] == nil {
		h.owners[number] = map[string]ownership{}
	}
	h.owners[number][session] = o
}

func (h *stressHarness) forget(s *stressSession) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.owners[s.lease.Number], s.id)
	s.held = false
}

// liveAt counts the holds the test believes live at now and their numbers.
func (h *stressHarness) liveAt(now time.Time) (holds, numbers int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, sessions := range h.owners {
		n := 0
		for _, o := range sessions {
			if !o.until.Before(now) {
				n++
			}
		}
		holds += n
		if n > 0 {
			numbers++
		}
	}
	return holds, numbers
}
