package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/attriqs/calltrack/pool"

	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/report"
)

func runSize(args []string, stdout, stderr io.Writer, _ func() time.Time) error {
	fs := newFlagSet("size", stderr)
	perHour := fs.Float64("arrivals-per-hour", 0, "sessions per hour at the busiest hour that need a number (required)")
	sessionMinutes := fs.Float64("session-minutes", 0, "average visit length in minutes (required)")
	window := fs.Duration("window", pool.DefaultSessionWindow, "the pool's session window: inactivity before a lease expires")
	cooldown := fs.Duration("cooldown", pool.DefaultCooldown, "the pool's cooldown: the call-grace period after a hold ends")
	accuracy := fs.Float64("accuracy", pool.DefaultAccuracy, "share of counted calls that must be stitched to their true session, in (0, 1)")
	meanDelay := fs.String("mean-call-delay", "", "mean time from leaving the page to calling (e.g. 4m); empty means unknown, sized as the worst case")
	target := fs.Float64("target", 0.01, "acceptable chance that a visitor finds no number out of cooldown (the cooldown rule's size and the floor), in (0, 1)")
	if err := cli.ParseCommand(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case !isSet(fs, "arrivals-per-hour"):
		return cli.FlagError("arrivals-per-hour", "is required: sessions per hour at the busiest hour")
	case *perHour < 0 || math.IsNaN(*perHour) || math.IsInf(*perHour, 0):
		return cli.FlagError("arrivals-per-hour", "%v is not a finite number ≥ 0", *perHour)
	case !isSet(fs, "session-minutes"):
		return cli.FlagError("session-minutes", "is required: the average visit length in minutes")
	case !(*sessionMinutes >= 0 && *sessionMinutes <= 7*24*60):
		return cli.FlagError("session-minutes", "%v is not from 0 to a week of minutes", *sessionMinutes)
	case *window <= 0:
		return cli.FlagError("window", "%v must be positive", *window)
	case *cooldown <= 0:
		return cli.FlagError("cooldown", "%v must be positive", *cooldown)
	case !(*target > 0 && *target < 1):
		return cli.FlagError("target", "%v is not in (0, 1)", *target)
	case !(*accuracy > 0 && *accuracy < 1):
		return cli.FlagError("accuracy", "%v is not in (0, 1): give a share, 0.995 for 99.5 %%", *accuracy)
	}
	var delay time.Duration
	if *meanDelay != "" {
		d, err := time.ParseDuration(*meanDelay)
		if err != nil || d <= 0 {
			return cli.FlagError("mean-call-delay", "%q is not a positive duration such as 4m (leave it out when unknown)", *meanDelay)
		}
		delay = d
	}
	session := time.Duration(*sessionMinutes * float64(time.Minute)).Round(time.Second)
	rec, err := pool.Recommend(pool.Traffic{
		PeakHourlyVisitors: *perHour, AverageSession: session,
		SessionWindow: *window, Cooldown: *cooldown, Target: *target,
		Accuracy: *accuracy, MeanCallDelay: delay,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Recommended pool size: %d numbers (%s of calls stitched to their true session; target %s)\n\n", rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(*accuracy))
	writeReasoning(stdout, *perHour, session, *window, *cooldown, *target, *accuracy, delay, rec)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nRules of thumb, for comparison (they ignore the window, the cooldown and chance):")
	fmt.Fprintf(tw, "  peak hourly visitors ÷ (60 ÷ visit minutes), Nimbata's rule\t%d\n", pool.RuleOfThumbPerPeakHour(*perHour, session))
	return tw.Flush()
}

// writeReasoning explains a recommendation step by step: the accuracy
// model of pool.Recommend with this pool's figures. meanDelay zero means
// the callers' delays are unknown.
func writeReasoning(w io.Writer, perHour float64, session, window, cooldown time.Duration, target, accuracy float64, meanDelay time.Duration, rec pool.Recommendation) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  arrivals at the busiest hour\t%s per hour\n", trimFloat(perHour))
	fmt.Fprintf(tw, "  each session holds its number\t%v (visit %v + session window %v)\n", rec.Hold, session, window)
	fmt.Fprintf(tw, "  then the number cools for\t%v (calls within it still reach the session)\n", cooldown)
	if meanDelay > 0 {
		fmt.Fprintf(tw, "  callers call after leaving the page\t%v on average (exponential)\n", meanDelay)
	} else {
		fmt.Fprintf(tw, "  callers call after leaving the page\tunknown: spread evenly over window + cooldown, the worst case\n")
	}
	fmt.Fprintf(tw, "  numbers held or cooling, on average\t%.1f = %s/h × (%v + %v)\n", rec.Busy, trimFloat(perHour), rec.Hold, cooldown)
	writeAccuracy(tw, rec, target, accuracy)
	fmt.Fprintf(tw, "  below %d numbers\tlive sessions share numbers more often than the target: calls become ambiguous\n", rec.NumbersWithoutCooldown)
	_ = tw.Flush()
}

// writeAccuracy prints the lines size and audit share: the modelled
// accuracy at the recommended size against its target, the cooldown rule's
// size for comparison, and the shortfall chance, which is information
// only: a number handed out while cooling costs accuracy only if its
// earlier holder calls late, and the accuracy already counts that.
func writeAccuracy(tw io.Writer, rec pool.Recommendation, target, accuracy float64) {
	fmt.Fprintf(tw, "  calls stitched to their true session at %d\t%s (target %s)\n", rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(accuracy))
	fmt.Fprintf(tw, "  the cooldown rule's size, for comparison\t%d numbers (every call back at the cooldown's end; no number free at most %s of the time)\n", rec.CooldownNumbers, report.FormatShare(target))
	fmt.Fprintf(tw, "  chance no number is free at %d\t%s (information: a cooling number handed out costs a call only if its holder calls late)\n", rec.Numbers, report.FormatShare(rec.ShortfallProbability))
}

func trimFloat(v float64) string { return fmt.Sprintf("%g", v) }
