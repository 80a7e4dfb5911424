package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/attriqs/calltrack/pool"
)

func runSize(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("size", stderr)
	perHour := fs.Float64("arrivals-per-hour", 0, "sessions per hour at the busiest hour that need a number (required)")
	sessionMinutes := fs.Float64("session-minutes", 0, "average visit length in minutes (required)")
	window := fs.Duration("window", pool.DefaultSessionWindow, "the pool's session window: inactivity before a lease expires")
	cooldown := fs.Duration("cooldown", pool.DefaultCooldown, "the pool's cooldown: the call-grace period after a hold ends")
	target := fs.Float64("target", 0.01, "acceptable chance that a visitor finds no number out of cooldown, in (0, 1)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case !isSet(fs, "arrivals-per-hour"):
		return flagError("arrivals-per-hour", "is required: sessions per hour at the busiest hour")
	case *perHour < 0 || math.IsNaN(*perHour) || math.IsInf(*perHour, 0):
		return flagError("arrivals-per-hour", "%v is not a finite number ≥ 0", *perHour)
	case !isSet(fs, "session-minutes"):
		return flagError("session-minutes", "is required: the average visit length in minutes")
	case !(*sessionMinutes >= 0 && *sessionMinutes <= 7*24*60):
		return flagError("session-minutes", "%v is not from 0 to a week of minutes", *sessionMinutes)
	case *window <= 0:
		return flagError("window", "%v must be positive", *window)
	case *cooldown <= 0:
		return flagError("cooldown", "%v must be positive", *cooldown)
	case !(*target > 0 && *target < 1):
		return flagError("target", "%v is not in (0, 1)", *target)
	}
	session := time.Duration(*sessionMinutes * float64(time.Minute)).Round(time.Second)
	rec, err := pool.Recommend(pool.Traffic{
		PeakHourlyVisitors: *perHour, AverageSession: session,
		SessionWindow: *window, Cooldown: *cooldown, Target: *target,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Recommended pool size: %d numbers\n\n", rec.Numbers)
	writeReasoning(stdout, *perHour, session, *window, *cooldown, *target, rec)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nRules of thumb, for comparison (they ignore the window, the cooldown and chance):")
	fmt.Fprintf(tw, "  peak hourly visitors ÷ (60 ÷ visit minutes), Nimbata's rule\t%d\n", pool.RuleOfThumbPerPeakHour(*perHour, session))
	return tw.Flush()
}

// writeReasoning explains a recommendation step by step: the M/G/∞ model
// of pool.Recommend with this pool's figures.
func writeReasoning(w io.Writer, perHour float64, session, window, cooldown time.Duration, target float64, rec pool.Recommendation) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  arrivals at the busiest hour\t%s per hour\n", trimFloat(perHour))
	fmt.Fprintf(tw, "  each session holds its number\t%v (visit %v + session window %v)\n", rec.Hold, session, window)
	fmt.Fprintf(tw, "  then the number cools for\t%v (calls within it still reach the session)\n", cooldown)
	fmt.Fprintf(tw, "  numbers held or cooling, on average\t%.1f = %s/h × (%v + %v)\n", rec.Busy, trimFloat(perHour), rec.Hold, cooldown)
	fmt.Fprintf(tw, "  chance no number is free at %d\t%s (target %s; the count is Poisson with that mean)\n", rec.Numbers, percent(rec.ShortfallProbability), percent(target))
	fmt.Fprintf(tw, "  below %d numbers\tlive sessions share numbers more often than the target: calls become ambiguous\n", rec.NumbersWithoutCooldown)
	_ = tw.Flush()
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }

func percent(p float64) string {
	switch {
	case p == 0:
		return "0 %"
	case p < 0.0001:
		return fmt.Sprintf("%.2g %%", p*100)
	default:
		return fmt.Sprintf("%.2f %%", p*100)
	}
}
