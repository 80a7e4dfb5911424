package journey

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// traffic describes the simulated visitors of one pool.
type traffic struct {
	perHour      float64       // Poisson arrival rate of new sessions
	meanSession  time.Duration // active time on the site, exponential
	heartbeat    time.Duration // the tracker's heartbeat while the page is open
	callerShare  float64       // share of sessions that phone
	meanCallWait time.Duration // delay from leaving the site to calling, exponential
	hours        int
}

// accuracy is what one simulated run measured.
type accuracy struct {
	poolSize            int
	calls, inGrace      int // calls placed, and those placed within the call grace
	rightInGrace        int // of inGrace, stitched to their true session
	byConfidence        map[Confidence][2]int
	reuses, outOfPool   int
	holdsEnded, visitor int
}

func (a accuracy) matchRate() float64 { return float64(a.rightInGrace) / float64(a.inGrace) }

func (a accuracy) rate(c Confidence) float64 {
	n := a.byConfidence[c]
	if n[1] == 0 {
		return math.NaN()
	}
	return float64(n[0]) / float64(n[1])
}

// simulate runs the real in-process allocator and the real stitcher over
// simulated time and compares each call's attributed session with the
// session that really placed it.
func simulate(t testing.TB, tr traffic, size int, seed uint64) accuracy {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	numbers := make([]string, size)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1415555%04d", 1000+i)
	}
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "paid", Numbers: numbers, BusinessNumber: "+14155550000"}}}
	alloc, err := pool.New(cfg)
	require.NoError(t, err)
	catalog := alloc.Catalog()
	sessions := fakeSessions{}
	stitcher, err := NewStitcher(catalog, alloc, sessions, StitcherConfig{})
	require.NoError(t, err)

	type event struct {
		at      time.Time
		session string
		kind    int // 0 lease (arrival or heartbeat), 1 call
	}
	var events []event
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	end := start.Add(time.Duration(tr.hours) * time.Hour)
	exp := func(mean time.Duration) time.Duration { return time.Duration(rng.ExpFloat64() * float64(mean)) }
	n := 0
	for at := start; ; {
		at = at.Add(time.Duration(rng.ExpFloat64() / tr.perHour * float64(time.Hour)))
		if at.After(end) {
			break
		}
		n++
		id := fmt.Sprintf("S%05d", n)
		sessions[id] = Session{ID: id, VisitorID: "V" + id, StartedAt: at, Source: classify.Source{Channel: classify.ChannelPaidSearch}}
		stay := exp(tr.meanSession)
		for hb := time.Duration(0); hb <= stay; hb += tr.heartbeat {
			events = append(events, event{at.Add(hb), id, 0})
		}
		if rng.Float64() < tr.callerShare {
			events = append(events, event{at.Add(stay + exp(tr.meanCallWait)), id, 1})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })

	ctx := context.Background()
	res := accuracy{poolSize: size, byConfidence: map[Confidence][2]int{}, visitor: n}
	shown := map[string]string{}       // session → the number it was last shown
	lastSeen := map[string]time.Time{} // session → its last activity
	window, grace := pool.DefaultSessionWindow, DefaultCallGrace
	for i, ev := range events {
		if i%500 == 0 {
			ended, err := alloc.Sweep(ctx, ev.at)
			require.NoError(t, err)
			res.holdsEnded += ended
		}
		switch ev.kind {
		case 0:
			l, err := alloc.Lease(ctx, "paid", ev.session, ev.at)
			require.NoError(t, err)
			switch l.Outcome {
			case pool.Reused:
				res.reuses++
			case pool.Fallback, pool.Original:
				res.outOfPool++
			}
			if l.Outcome.Tracked() {
				shown[ev.session] = l.Number
			}
			lastSeen[ev.session] = ev.at
		case 1:
			number, ok := shown[ev.session]
			if !ok {
				continue // never saw a tracking number: dials the business line directly
			}
			res.calls++
			a, err := stitcher.Stitch(ctx, provider.CallEvent{Provider: "sim", CallID: fmt.Sprint(i), To: number, StartedAt: ev.at})
			require.NoError(t, err)
			right := a.SessionID == ev.session
			tally := res.byConfidence[a.Confidence]
			tally[1]++
			if right {
				tally[0]++
			}
			res.byConfidence[a.Confidence] = tally
			// The lease outlives the last activity by the session window;
			// the call grace runs from there.
			if ev.at.Sub(lastSeen[ev.session]) <= window+grace {
				res.inGrace++
				if right {
					res.rightInGrace++
				}
			}
		}
	}
	return res
}

// TestStitchingAccuracy is the accuracy simulation: with a pool sized by
// pool.Recommend (the M/G/∞ rule), calls within the grace window are stitched to their true
// session at least 99.5 % of the time; smaller pools degrade gracefully and
// their confidence labels stay honest.
func TestStitchingAccuracy(t *testing.T) {
	tr := traffic{perHour: 60, meanSession: 4 * time.Minute, heartbeat: time.Minute, callerShare: 0.3, meanCallWait: 10 * time.Minute, hours: 48}
	if testing.Short() {
		tr.hours = 12
	}
	rec, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: tr.perHour, AverageSession: tr.meanSession})
	require.NoError(t, err)
	recommended := rec.Numbers

	var rows []accuracy
	for _, size := range []int{recommended, recommended / 2, recommended / 4} {
		rows = append(rows, simulate(t, tr, size, 42))
	}
	t.Logf("%-6s %-7s %-9s %-8s %-8s %-10s %-10s %-10s", "size", "calls", "in grace", "match", "reuses", "exact ok", "reused ok", "pool-only")
	for _, r := range rows {
		t.Logf("%-6d %-7d %-9d %-8.4f %-8d %-10.4f %-10.4f %-10d", r.poolSize, r.calls, r.inGrace, r.matchRate(), r.reuses,
			r.rate(ConfidenceExact), r.rate(ConfidenceReused), r.byConfidence[ConfidencePoolOnly][1])
	}
	full, half, quarter := rows[0], rows[1], rows[2]
	require.Greater(t, full.inGrace, 200, "enough calls to measure")
	assert.GreaterOrEqual(t, full.matchRate(), 0.995, "recommended size")
	assert.Zero(t, full.reuses, "a recommended pool should not need reuse in this traffic")
	assert.Less(t, half.matchRate(), full.matchRate()+1e-9)
	assert.Less(t, quarter.matchRate(), half.matchRate()+1e-9)
	assert.Positive(t, quarter.reuses, "a quarter-size pool must reuse numbers")
	// Honest labels: an "exact" answer is almost never wrong, a "reused"
	// one is wrong many times as often.
	exactErr, reusedErr := 1-quarter.rate(ConfidenceExact), 1-quarter.rate(ConfidenceReused)
	assert.LessOrEqual(t, exactErr, 0.01)
	assert.Greater(t, reusedErr, 0.02)
	assert.Greater(t, reusedErr, 5*exactErr)
}
