package dashboard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

// percent writes a share as the pools page does.

// busyDay records a day of visitor holds on the paid-search pool's two
// numbers: 60 visits from 09:00, one every 4 minutes, each holding its
// number 25 to 45 minutes, far more than two numbers serve.
func (f *fixture) busyDay(t *testing.T) []pool.HoldRecord {
	t.Helper()
	day := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	var holds []pool.HoldRecord
	for i := range 60 {
		from := day.Add(time.Duration(i*4) * time.Minute)
		h := pool.HoldRecord{Pool: "paid-search", Number: []string{"+14155550111", "+14155550112"}[i%2],
			SessionID: fmt.Sprintf("s%d", i), From: from, Until: from.Add(time.Duration(25+i%3*10) * time.Minute), Reused: i > 1}
		require.NoError(t, f.svc.Store().RecordHold(context.Background(), h))
		holds = append(holds, h)
	}
	return holds
}

// The recommended size's reasoning gives the recommendation's own figures:
// the size that stitches the target share of calls, its accuracy, the
// chance of no free number at that size, the cooldown rule's size.
func TestPoolsReasoningMatchesTheRecommendation(t *testing.T) {
	f := newFixture(t)
	holds := f.busyDay(t)
	require.NoError(t, f.svc.Close())
	to := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	audit, err := f.svc.Audit(context.Background(), "paid-search", to.AddDate(0, 0, -30), to)
	require.NoError(t, err)
	require.Equal(t, len(holds), audit.Holds)
	rec := audit.Recommended
	require.Greater(t, rec.Numbers, 2, "the fixture is busy enough that the pool should grow")
	require.Greater(t, rec.ShortfallProbability, 0.01, "the fixture shows the case the old text got wrong: the chance above 1 %%")

	page := text(f.get(t, "/dashboard/pools"))
	for _, want := range []string{
		fmt.Sprintf("paid-search : At the busiest hour %d visitors were given a number; each held it for %d min on average", audit.PeakHourlyArrivals, int(audit.AverageHold.Minutes())),
		"a number then cools for 60 min",
		fmt.Sprintf("about %.1f numbers are held or cooling at once", rec.Busy),
		fmt.Sprintf("%d numbers stitch %s of calls to the visit that placed them (target %s)", rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(pool.DefaultAccuracy)),
		fmt.Sprintf("add %d numbers.", rec.Numbers-2),
		fmt.Sprintf("At %d numbers a visitor finds no number out of cooldown %s of the time", rec.Numbers, report.FormatShare(rec.ShortfallProbability)),
		fmt.Sprintf("would need %d numbers", rec.CooldownNumbers),
		fmt.Sprintf("Below %d numbers", rec.NumbersWithoutCooldown),
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "at or below 1.0%", "no target the recommendation does not use")

	rows := f.csv(t, "/dashboard/pools?format=csv")
	require.Equal(t, "paid-search", rows[1][0])
	assert.Equal(t, fmt.Sprint(len(holds)), rows[1][column(t, rows, "Holds ended")])
	assert.Equal(t, fmt.Sprint(rec.Numbers), rows[1][column(t, rows, "Recommended size")])
	assert.Equal(t, "not enough history yet (0 holds)", rows[2][column(t, rows, "Recommended size")], "a pool without history, in every column")
	assert.Len(t, rows[2], len(rows[0]))
	assert.False(t, strings.Contains(page, "Recommended size —"))
}
