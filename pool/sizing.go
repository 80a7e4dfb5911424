package pool

import (
	"errors"
	"fmt"
	"math"
	"slices"
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
	// package defaults (30 and 60 minutes). A call counts when it comes
	// within SessionWindow + Cooldown of the caller's last activity: the
	// cooldown is the call grace a stitcher gives a hold after it ends.
	SessionWindow time.Duration
	Cooldown      time.Duration
	// Target is the acceptable probability that a visitor finds no number
	// out of cooldown, for [Recommendation.CooldownNumbers] and
	// [Recommendation.NumbersWithoutCooldown]; zero means 1 %.
	Target float64
	// Accuracy is the share of counted calls that must be stitched to the
	// session that placed them; zero means 99.5 %. It decides
	// [Recommendation.Numbers].
	Accuracy float64
	// CallDelay is the call-delay distribution: the share of callers who
	// call within d of their last activity on the site. Nil means
	// exponential with mean MeanCallDelay or, when that is zero too, calls
	// spread evenly over SessionWindow + Cooldown (the worst case a pool can
	// plan for without knowing its callers; it sizes close to the cooldown
	// rule).
	CallDelay     func(d time.Duration) float64
	MeanCallDelay time.Duration
	// DailyProfile is the arrival rate (sessions per hour) through a
	// typical day, in equal slots (24 for hourly); calls are then averaged
	// over the day, weighted by arrivals, as an accuracy report over days
	// would be. Nil means every hour is the busiest: a size that holds at
	// the peak, larger when traffic has a daily curve.
	DailyProfile []float64
}

// Recommendation is the pool size [Recommend] derives, with its workings.
type Recommendation struct {
	// Numbers is the smallest pool whose modelled accuracy (the share of
	// counted calls stitched to their true session) meets Traffic.Accuracy.
	Numbers int
	// Accuracy is the modelled accuracy at Numbers.
	Accuracy float64
	// CooldownNumbers keeps the chance that a visitor finds no number out
	// of cooldown at or below Target: the older, stricter rule, which
	// assumes every call back could come at the very end of the cooldown.
	CooldownNumbers int
	// NumbersWithoutCooldown keeps the chance that a visitor finds every
	// number held (forcing a reuse) at or below Target: the floor below
	// which live sessions share numbers.
	NumbersWithoutCooldown int
	// Hold is how long a session holds its number: the visit plus the
	// inactivity window before the lease expires.
	Hold time.Duration
	// Busy is the mean number of numbers held or cooling at the peak,
	// λ·(Hold+Cooldown).
	Busy float64
	// ShortfallProbability is the chance, at Numbers, that no number is out
	// of cooldown at the peak. It may exceed Target: a number handed out
	// while cooling costs accuracy only if its earlier holder calls late,
	// which Accuracy already counts.
	ShortfallProbability float64
}

// DefaultAccuracy is the share of calls [Recommend] sizes for when
// Traffic.Accuracy is zero.
const DefaultAccuracy = 0.995

// Recommend sizes a pool for accuracy. Sessions arrive at rate λ
// (Poisson), each holds its number for Hold = AverageSession +
// SessionWindow; the pool hands out the number free longest. A caller who
// calls x after their hold ended is stitched to another session exactly
// when their number was handed out again within x. Counting the numbers
// held at the release (Poisson with mean λ·Hold, M/G/∞) plus the sessions
// that arrive in the next x (Poisson with mean λ·x), that happens when
// that count reaches N, so
//
//	P(wrong) = ∫ P(Poisson(λ·(Hold+x)) ≥ N) dF(SessionWindow+x) / F(SessionWindow+Cooldown)
//
// over x in [0, Cooldown], plus P(Poisson(λ·Hold) ≥ N)·F(SessionWindow)
// for calls during the hold (a pool with every number held shares one),
// where F is the call-delay distribution. Numbers is the smallest N with
// 1 − P(wrong) ≥ Accuracy, P averaged over DailyProfile when given. The
// model is the old M/G/∞ rule (x = Cooldown for every call) weighted by
// when calls really come. The error wraps [ErrInvalidConfig].
func Recommend(t Traffic) (Recommendation, error) {
	if err := t.validate(); err != nil {
		return Recommendation{}, err
	}
	window, cooldown, target, accuracy := t.SessionWindow, t.Cooldown, t.Target, t.Accuracy
	if window == 0 {
		window = DefaultSessionWindow
	}
	if cooldown == 0 {
		cooldown = DefaultCooldown
	}
	if target == 0 {
		target = 0.01
	}
	if accuracy == 0 {
		accuracy = DefaultAccuracy
	}
	m := sizingModel{
		rates: t.DailyProfile, hold: t.AverageSession + window, window: window, cooldown: cooldown,
		delay: t.CallDelay, accuracy: accuracy,
	}
	peak := t.PeakHourlyVisitors
	if len(m.rates) == 0 {
		m.rates = []float64{peak}
	} else if peak == 0 {
		peak = slices.Max(m.rates)
	}
	if m.delay == nil && t.MeanCallDelay > 0 {
		mean := t.MeanCallDelay.Seconds()
		m.delay = func(d time.Duration) float64 { return -math.Expm1(-d.Seconds() / mean) }
	}
	return m.recommend(peak, target), nil
}

// recommend applies the model to an arrival rate and a mean hold, with the
// default window, accuracy and call delays: what [Audit] knows.
func recommend(perHour float64, hold, cooldown time.Duration, target float64) Recommendation {
	m := sizingModel{rates: []float64{perHour}, hold: hold, window: DefaultSessionWindow, cooldown: cooldown, accuracy: DefaultAccuracy}
	return m.recommend(perHour, target)
}

// sizingModel is Recommend's accuracy model, with defaults applied.
type sizingModel struct {
	rates                  []float64 // arrivals per hour, per slot of the day
	hold, window, cooldown time.Duration
	delay                  func(time.Duration) float64 // nil: even over window+cooldown
	accuracy               float64
}

// delaySteps is how finely the cooldown is cut to integrate over call
// delays; finer changes the sizes by less than one number.
const delaySteps = 96

func (m sizingModel) recommend(peak float64, target float64) Recommendation {
	busy := peak * (m.hold + m.cooldown).Hours()
	nCool, _ := poissonQuantile(busy, target)
	nHeld, _ := poissonQuantile(peak*m.hold.Hours(), target)
	r := Recommendation{CooldownNumbers: nCool, NumbersWithoutCooldown: nHeld, Hold: m.hold, Busy: busy}
	n, acc := m.smallest(nCool)
	r.Numbers, r.Accuracy = n, acc
	if busy > 0 {
		r.ShortfallProbability = poissonTail(busy, n)
	}
	return r
}

// smallest finds the smallest N meeting the accuracy by bisection: the
// share of wrong calls falls as N grows. hint is a size known to be large.
func (m sizingModel) smallest(hint int) (int, float64) {
	cdf := m.delay
	if cdf == nil {
		span := (m.window + m.cooldown).Seconds()
		cdf = func(d time.Duration) float64 { return min(d.Seconds()/span, 1) }
	}
	counted := cdf(m.window + m.cooldown)
	if counted <= 0 || slices.Max(m.rates) <= 0 {
		return 0, 1
	}
	// Weights of the delay slices: calls during the hold, then cooldown
	// slices at their midpoints.
	weights := make([]float64, delaySteps+1)
	offsets := make([]float64, delaySteps+1) // hours after the hold ended
	weights[0] = cdf(m.window) / counted
	step := m.cooldown / delaySteps
	for i := range delaySteps {
		a, b := m.window+time.Duration(i)*step, m.window+time.Duration(i+1)*step
		weights[i+1] = (cdf(b) - cdf(a)) / counted
		offsets[i+1] = (time.Duration(i)*step + step/2).Hours()
	}
	total := 0.0
	for _, r := range m.rates {
		total += r
	}
	accuracy := func(n int) float64 {
		wrong := 0.0
		for _, r := range m.rates {
			if r <= 0 {
				continue
			}
			w := 0.0
			for i, wt := range weights {
				if wt > 0 {
					w += wt * poissonTail(r*(m.hold.Hours()+offsets[i]), n)
				}
			}
			wrong += r / total * w
		}
		return 1 - wrong
	}
	hi := max(hint, 1)
	for accuracy(hi) < m.accuracy {
		hi *= 2
		if hi > 1<<24 {
			return hi, accuracy(hi)
		}
	}
	lo := 0 // accuracy(lo) < target, or lo == 0
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if accuracy(mid) >= m.accuracy {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, accuracy(hi)
}

// poissonTail is P(X ≥ n) for X ~ Poisson(mean), summing the smaller side
// by the terms' recurrence so it costs O(√mean) and stays accurate in the
// far tail.
func poissonTail(mean float64, n int) float64 {
	if n <= 0 {
		return 1
	}
	if mean <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(float64(n) + 1)
	term := math.Exp(float64(n)*math.Log(mean) - mean - lg) // P(X = n)
	if float64(n) >= mean {
		sum := 0.0
		for k := n; term > sum*1e-17 && k < n+1_000_000; k++ {
			sum += term
			term *= mean / float64(k+1)
		}
		return min(sum, 1)
	}
	lower := 0.0
	term *= float64(n) / mean // P(X = n-1)
	for k := n - 1; k >= 0 && term > lower*1e-17; k-- {
		lower += term
		term *= float64(k) / mean
	}
	return max(1-lower, 0)
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
	if !(t.Accuracy >= 0 && t.Accuracy < 1) {
		bad("accuracy", t.Accuracy, "must be in [0, 1)")
	}
	if t.MeanCallDelay < 0 {
		bad("mean_call_delay", t.MeanCallDelay, "must not be negative")
	}
	for i, r := range t.DailyProfile {
		if !(r >= 0) || math.IsInf(r, 0) {
			bad(fmt.Sprintf("daily_profile[%d]", i), r, "must be a finite number ≥ 0")
		}
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
