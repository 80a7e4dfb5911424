package pool_test

import (
	"fmt"
	"time"

	"github.com/attriqs/calltrack/pool"
)

// Sizing three traffic shapes for accuracy, with the older cooldown rule and with the vendors'
// rules of thumb. The model counts what the rules leave out: the 30-minute
// inactivity window during which a quiet visitor still owns the number, the
// cooldown during which a late call must still find its session, and the
// randomness of arrivals (sizing to the mean fails about half the time).
func ExampleRecommend() {
	scenarios := []struct {
		name          string
		daily, peak   float64
		session       time.Duration
		window, grace time.Duration
	}{
		{"busy paid-search source", 2400, 240, 4 * time.Minute, 30 * time.Minute, 60 * time.Minute},
		{"small local business", 100, 15, 3 * time.Minute, 30 * time.Minute, 60 * time.Minute},
		{"flat traffic, short window", 4800, 200, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute},
	}
	fmt.Printf("%-27s %5s %7s %9s %9s %7s\n", "scenario", "CTM", "Nimbata", "no reuse", "cold 1%", "99.5%")
	for _, s := range scenarios {
		// 99.5 % of calls to their session, callers calling 10 minutes
		// after their last page view on average.
		r, err := pool.Recommend(pool.Traffic{
			PeakHourlyVisitors: s.peak, AverageSession: s.session,
			SessionWindow: s.window, Cooldown: s.grace, Target: 0.01,
			Accuracy: 0.995, MeanCallDelay: 10 * time.Minute,
		})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-27s %5d %7d %9d %9d %7d\n", s.name,
			pool.RuleOfThumbPerDailyVisitors(s.daily),
			pool.RuleOfThumbPerPeakHour(s.peak, s.session),
			r.NumbersWithoutCooldown, r.CooldownNumbers, r.Numbers)
	}
	// Output:
	// scenario                      CTM Nimbata  no reuse   cold 1%   99.5%
	// busy paid-search source       120      16       165       423     230
	// small local business            5       1        17        36      19
	// flat traffic, short window    240       7        36        76      66
}
