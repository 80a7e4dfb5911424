package pool

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Traffic describes the visitors of one pool, for [Recommend].
type Traffic struct {
	// PeakHourlyVisitors is the arrival rate at the busiest hour: sessions
	// per hour that need a number.
	PeakHourlyVisitors float64
	// AverageSession is how long a visitor stays active on the site.
	AverageSession time.Duration
	// SessionWindow and Cooldown are the pool's settings; zero means the
	// package defaults (30 and 60 minutes).
	SessionWindow time.Duration
	Cooldown      time.Duration
	// Target is the acceptable probability that a visitor finds no number
	// out of cooldown; zero means 1 %.
	Target float64
}

// Recommendation is the pool size [Recommend] derives, with its workings.
type Recommendation struct {
	// Numbers keeps the chance that a visitor finds no number out of
	// cooldown at or below Target.
	Numbers int
	// NumbersWithoutCooldown keeps the chance that a visitor finds every
	// number held (forcing a reuse) at or below Target: the floor below
	// which live sessions share numbers.
	NumbersWithoutCooldown int
	// Hold is how long a session holds its number: the visit plus the
	// inactivity window before the lease expires.
	Hold time.Duration
	// Busy is the mean number of numbers held or cooling, λ·(Hold+Cooldown).
	Busy float64
	// ShortfallProbability is the chance, at Numbers, that no number is out
	// of cooldown (≤ Target).
	ShortfallProbability float64
}

// Recommend sizes a pool with an M/G/∞ model: sessions arrive at rate λ
// (Poisson), each holds a number for Hold = AverageSession + SessionWindow
// and then leaves it cooling for Cooldown, so the count of numbers that are
// held or cooling is Poisson with mean λ·(Hold + Cooldown) whatever the
// distribution of session lengths. The pool needs the smallest N with
// P(count ≥ N) ≤ Target. The error wraps [ErrInvalidConfig].
func Recommend(t Traffic) (Recommendation, error) {
	if err := t.validate(); err != nil {
		return Recommendation{}, err
	}
	window, cooldown, target := t.SessionWindow, t.Cooldown, t.Target
	if window == 0 {
		window = DefaultSessionWindow
	}
	if cooldown == 0 {
		cooldown = DefaultCooldown
	}
	if target == 0 {
		target = 0.01
	}
	return recommend(t.PeakHourlyVisitors, t.AverageSession+window, cooldown, target), nil
}

// recommend applies the model to an arrival rate and a mean hold.
func recommend(perHour float64, hold, cooldown time.Duration, target float64) Recommendation {
	busy := perHour * (hold + cooldown).Hours()
	n, p := poissonQuantile(busy, target)
	nHeld, _ := poissonQuantile(perHour*hold.Hours(), target)
	return Recommendation{
		Numbers: n, NumbersWithoutCooldown: nHeld, Hold: hold, Busy: busy, ShortfallProbability: p,
	}
}

func (t Traffic) validate() error {
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, &ConfigError{Field: "traffic: " + field, Value: fmt.Sprint(v), Reason: why})
	}
	if !(t.PeakHourlyVisitors >= 0) || math.IsInf(t.PeakHourlyVisitors, 0) {
		bad("peak_hourly_visitors", t.PeakHourlyVisitors, "must be a finite number ≥ 0")
	}
	if t.AverageSession < 0 {
		bad("average_session", t.AverageSession, "must not be negative")
	}
	if t.SessionWindow < 0 {
		bad("session_window", t.SessionWindow, "must not be negative")
	}
	if t.Cooldown < 0 {
		bad("cooldown", t.Cooldown, "must not be negative")
	}
	if !(t.Target >= 0 && t.Target < 1) {
		bad("target", t.Target, "must be in [0, 1)")
	}
	return errors.Join(errs...)
}

// poissonQuantile returns the smallest n with P(X ≥ n) ≤ target for
// X ~ Poisson(mean), and that probability. Terms are computed in log space
// and the tail summed from the top, so large means and small targets stay
// accurate.
func poissonQuantile(mean, target float64) (int, float64) {
	if mean <= 0 {
		return 0, 0
	}
	top := int(mean + 40*math.Sqrt(mean) + 50)
	logMean := math.Log(mean)
	tail := make([]float64, top+2) // tail[k] = P(X ≥ k)
	for k := top; k >= 0; k-- {
		lg, _ := math.Lgamma(float64(k) + 1)
		tail[k] = tail[k+1] + math.Exp(float64(k)*logMean-mean-lg)
	}
	for n := 0; n <= top; n++ {
		if tail[n] <= target {
			return n, tail[n]
		}
	}
	return top + 1, 0
}

// RuleOfThumbPerDailyVisitors sizes per the CallTrackingMetrics guidance: one number per 20
// daily visitors of a source.
func RuleOfThumbPerDailyVisitors(dailyVisitors float64) int {
	return int(math.Ceil(dailyVisitors / 20))
}

// RuleOfThumbPerPeakHour sizes per the Nimbata guidance: peak hourly
// visitors ÷ (60 ÷ average session minutes), i.e. the mean number of
// visitors on the site at once, ignoring the inactivity window, the cooldown
// and randomness.
func RuleOfThumbPerPeakHour(peakHourlyVisitors float64, averageSession time.Duration) int {
	if averageSession <= 0 {
		return 0
	}
	return int(math.Ceil(peakHourlyVisitors / (60 / averageSession.Minutes())))
}
