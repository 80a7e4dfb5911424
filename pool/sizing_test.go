package pool_test

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

func TestRecommendMatchesPoissonQuantiles(t *testing.T) {
	for _, tc := range []struct {
		name     string
		traffic  pool.Traffic
		numbers  int
		withoutC int
	}{
		// 6 arrivals/h × (0+30+70 min = 100 min) = mean 10: P(X≥19)=0.0072, P(X≥18)=0.0143.
		{"mean 10 at 1%", pool.Traffic{PeakHourlyVisitors: 6, SessionWindow: 30 * time.Minute, Cooldown: 70 * time.Minute}, 19, 9}, // without cooldown: mean 3, P(X≥9)=0.0038
		// Mean 10 at 5 %: P(X≥16)=0.0487, P(X≥15)=0.0835.
		{"mean 10 at 5%", pool.Traffic{PeakHourlyVisitors: 6, SessionWindow: 30 * time.Minute, Cooldown: 70 * time.Minute, Target: 0.05}, 16, 7},
		{"no traffic", pool.Traffic{}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := pool.Recommend(tc.traffic)
			require.NoError(t, err)
			assert.Equal(t, tc.numbers, r.CooldownNumbers)
			assert.Equal(t, tc.withoutC, r.NumbersWithoutCooldown)
		})
	}
}

func TestRecommendLargePoolsStayNearNormalApproximation(t *testing.T) {
	r, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: 10000, AverageSession: 5 * time.Minute})
	require.NoError(t, err)
	mean := 10000 * (35.0 + 60) / 60
	assert.InDelta(t, mean, r.Busy, 1e-6)
	normal := mean + 2.326*math.Sqrt(mean)
	assert.InDelta(t, normal, float64(r.CooldownNumbers), 0.01*normal)
}

func TestRecommendRejectsNonsense(t *testing.T) {
	_, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: math.NaN(), Cooldown: -time.Minute, Target: 1,
		Accuracy: 1, MeanCallDelay: -time.Second, DailyProfile: []float64{1, math.Inf(1)}})
	require.ErrorIs(t, err, pool.ErrInvalidConfig)
	for _, field := range []string{"peak_hourly_visitors", "cooldown", "target", "accuracy", "mean_call_delay", "daily_profile[1]"} {
		assert.Contains(t, err.Error(), field)
	}
}

func TestRulesOfThumb(t *testing.T) {
	assert.Equal(t, 120, pool.RuleOfThumbPerDailyVisitors(2400))
	assert.Equal(t, 1, pool.RuleOfThumbPerDailyVisitors(1))
	assert.Equal(t, 16, pool.RuleOfThumbPerPeakHour(240, 4*time.Minute))
	assert.Equal(t, 0, pool.RuleOfThumbPerPeakHour(240, 0))
}

func TestAuditFromHistory(t *testing.T) {
	h := func(number, session string, from, until float64, reused bool) pool.HoldRecord {
		m := func(x float64) time.Time { return t0.Add(time.Duration(x * float64(time.Minute))) }
		return pool.HoldRecord{Number: number, SessionID: session, From: m(from), Until: m(until), Reused: reused}
	}
	records := []pool.HoldRecord{
		h("A", "s1", 0, 30, false),
		h("A", "s2", 20, 50, true), // reuse while s1 is live
		h("B", "s3", 0, 30, false),
		h("B", "s4", 200, 230, false), // long after: cold
		h("C", "s5", 100, 130, false),
		h("C", "s6", 140, 170, false), // 10 min after s5: cooling handout
		{Number: "C", SessionID: "open", From: t0},
	}
	rep, err := pool.Audit(records, pool.AuditOptions{Size: 4, Cooldown: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 6, rep.Holds, "open holds are ignored")
	assert.Equal(t, 230*time.Minute, rep.Span)
	// Held: A 0-50, B 0-30 and 200-230, C 100-130 and 140-170 = 170 of 4×230.
	assert.InDelta(t, 170.0/920, rep.Utilisation, 1e-9)
	assert.InDelta(t, 1.0/6, rep.ReuseRate, 1e-9)
	assert.InDelta(t, 1.0/6, rep.CoolingRate, 1e-9)
	assert.InDelta(t, 4.0/6, rep.CallsAtRisk, 1e-9, "s1, s2, s5, s6")
	assert.Equal(t, 3, rep.PeakConcurrency)
	assert.Equal(t, 3, rep.PeakHourlyArrivals)
	assert.Equal(t, 30*time.Minute, rep.AverageHold)
	assert.Positive(t, rep.Recommended.Numbers)

	_, err = pool.Audit(records, pool.AuditOptions{})
	assert.ErrorIs(t, err, pool.ErrInvalidConfig)
}

// The audit of a real run: an undersized pool shows reuse and calls at risk
// and recommends more numbers than it has.
func TestAuditOfUndersizedPool(t *testing.T) {
	ctx := context.Background()
	m, err := pool.New(onePool(5, nil))
	require.NoError(t, err)
	for i := range 40 {
		now := t0.Add(time.Duration(i) * 3 * time.Minute)
		_, err := m.Lease(ctx, "paid", "visitor-"+string(rune('a'+i%26))+string(rune('a'+i/26)), now)
		require.NoError(t, err)
	}
	_, err = m.Sweep(ctx, t0.Add(6*time.Hour))
	require.NoError(t, err)
	holds, err := m.Holds("paid")
	require.NoError(t, err)
	rep, err := pool.Audit(holds, pool.AuditOptions{Size: 5})
	require.NoError(t, err)
	assert.Positive(t, rep.ReuseRate)
	assert.Greater(t, rep.CallsAtRisk, 0.5)
	assert.Greater(t, rep.Recommended.Numbers, 5)
}

// The accuracy model, case by case: each rule of Recommend's doc.
func TestRecommendSizesForAccuracy(t *testing.T) {
	base := pool.Traffic{PeakHourlyVisitors: 120, AverageSession: 4 * time.Minute, MeanCallDelay: 10 * time.Minute}
	rec := func(t *testing.T, tr pool.Traffic) pool.Recommendation {
		t.Helper()
		r, err := pool.Recommend(tr)
		require.NoError(t, err)
		return r
	}
	t.Run("smallest size meeting the default 99.5 %", func(t *testing.T) {
		r := rec(t, base)
		assert.GreaterOrEqual(t, r.Accuracy, pool.DefaultAccuracy)
		below := base
		below.Accuracy = r.Accuracy + 1e-12 // demands a little more than Numbers gives
		assert.Greater(t, rec(t, below).Numbers, r.Numbers, "one number fewer misses the target")
		assert.Less(t, r.Numbers, r.CooldownNumbers, "10-minute callers need far fewer numbers than the cooldown rule")
		assert.Greater(t, r.Numbers, r.NumbersWithoutCooldown, "but more than the live sessions")
	})
	t.Run("a stricter target needs more numbers", func(t *testing.T) {
		strict := base
		strict.Accuracy = 0.9999
		assert.Greater(t, rec(t, strict).Numbers, rec(t, base).Numbers)
	})
	t.Run("later callers need more numbers", func(t *testing.T) {
		late := base
		late.MeanCallDelay = 30 * time.Minute
		assert.Greater(t, rec(t, late).Numbers, rec(t, base).Numbers)
	})
	t.Run("CallDelay overrides MeanCallDelay", func(t *testing.T) {
		custom := base
		custom.MeanCallDelay = 30 * time.Minute
		custom.CallDelay = func(d time.Duration) float64 { return -math.Expm1(-d.Minutes() / 10) }
		assert.Equal(t, rec(t, base).Numbers, rec(t, custom).Numbers)
	})
	t.Run("unknown callers: spread over window and cooldown", func(t *testing.T) {
		unknown := base
		unknown.MeanCallDelay = 0
		r := rec(t, unknown)
		assert.Greater(t, r.Numbers, rec(t, base).Numbers)
		assert.LessOrEqual(t, r.Numbers, r.CooldownNumbers)
	})
	t.Run("a flat profile at the peak is the peak", func(t *testing.T) {
		flat := base
		flat.DailyProfile = slices.Repeat([]float64{120}, 24)
		assert.Equal(t, rec(t, base).Numbers, rec(t, flat).Numbers)
	})
	t.Run("a daily curve needs fewer numbers than its peak all day", func(t *testing.T) {
		curve := base
		curve.PeakHourlyVisitors = 0 // taken from the profile
		for h := range 24 {
			curve.DailyProfile = append(curve.DailyProfile, 24+96*math.Pow(math.Sin(math.Pi*(float64(h)+0.5-4)/24), 2))
		}
		r := rec(t, curve)
		assert.Less(t, r.Numbers, rec(t, base).Numbers)
		assert.InDelta(t, 120, r.Busy/(r.Hold+time.Hour).Hours(), 1, "the peak comes from the profile")
	})
	t.Run("no calls counted: no numbers", func(t *testing.T) {
		never := base
		never.CallDelay = func(time.Duration) float64 { return 0 }
		assert.Zero(t, rec(t, never).Numbers)
	})
}
