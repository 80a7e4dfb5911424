package report

import (
	"fmt"
	"time"
)

// FormatShare writes a share (0.9952) as a percentage with two decimals,
// "99.52 %"; one under 0.01 % with two significant digits, so it does not
// read as zero.
func FormatShare(p float64) string {
	switch {
	case p == 0:
		return "0 %"
	case p < 0.0001:
		return fmt.Sprintf("%.2g %%", p*100)
	}
	return fmt.Sprintf("%.2f %%", p*100)
}

// PeriodEnd is where a report's default period ends: the start of
// tomorrow, UTC, so that today counts. The command line and the dashboard
// both count their last days back from it, and so report the same days.
func PeriodEnd(now time.Time) time.Time { return now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1) }
