package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/attriqs/calltrack/pool"

	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/report"
)

func runAudit(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlagSet("audit", stderr)
	read := addReadFlags(fs)
	poolName := fs.String("pool", "", "the pool to audit (required)")
	size := fs.Int("size", 0, "how many numbers the pool has: the store keeps holds, not configuration (required)")
	cooldown := fs.Duration("cooldown", pool.DefaultCooldown, "the pool's cooldown, as configured (pool.Config.Cooldown)")
	target := fs.Float64("target", 0.01, "acceptable chance that a visitor finds no number out of cooldown (the cooldown rule's size and the floor), in (0, 1)")
	if err := cli.ParseCommand(fs, args, stderr); err != nil {
		return err
	}
	switch {
	case *poolName == "":
		return cli.FlagError("pool", "is required: the name of the pool to audit")
	case *size <= 0:
		return cli.FlagError("size", "is required: the pool's count of numbers, above 0")
	case *cooldown <= 0:
		return cli.FlagError("cooldown", "%v must be positive", *cooldown)
	case !(*target > 0 && *target < 1):
		return cli.FlagError("target", "%v is not in (0, 1)", *target)
	}
	from, to, err := read.period(now())
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, closeStore, err := read.openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	holds, err := st.HoldsBetween(ctx, from, to)
	if err != nil {
		return fmt.Errorf("reading holds: %w", err)
	}
	var mine []pool.HoldRecord
	others := map[string]bool{}
	for _, h := range holds {
		if h.Pool == *poolName {
			mine = append(mine, h)
		} else {
			others[h.Pool] = true
		}
	}
	if len(mine) == 0 {
		names := make([]string, 0, len(others))
		for n := range others {
			names = append(names, n)
		}
		slices.Sort(names)
		return cli.FlagError("pool", "no holds of %q from %s to %s; pools with holds then: %v", *poolName, day(from), day(to), names)
	}
	rep, err := pool.Audit(mine, pool.AuditOptions{Size: *size, Cooldown: *cooldown, Target: *target})
	if err != nil {
		return err
	}
	writeAudit(stdout, *poolName, *size, *cooldown, *target, from, to, len(mine), rep)
	return nil
}

func writeAudit(w io.Writer, name string, size int, cooldown time.Duration, target float64, from, to time.Time, read int, rep pool.AuditReport) {
	fmt.Fprintf(w, "Pool %q, %d numbers, cooldown %v: holds from %s to %s\n\n", name, size, cooldown, day(from), day(to))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  holds\t%d", rep.Holds)
	if live := read - rep.Holds; live > 0 {
		fmt.Fprintf(tw, " (and %d still held, left out: their end is unknown)", live)
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "  span\t%v, first start to last end\n", rep.Span.Round(time.Second))
	fmt.Fprintf(tw, "  utilisation\t%s of number-time held\n", report.FormatShare(rep.Utilisation))
	fmt.Fprintf(tw, "  peak concurrency\t%d holds at once, on %d numbers\n", rep.PeakConcurrency, size)
	fmt.Fprintf(tw, "  reuse\t%s of holds started on a number already held (the pool was exhausted)\n", report.FormatShare(rep.ReuseRate))
	fmt.Fprintf(tw, "  cooling\t%s of holds started on a number inside its cooldown\n", report.FormatShare(rep.CoolingRate))
	fmt.Fprintf(tw, "  calls at risk\t%s: holds whose number had another holder within the cooldown\n", report.FormatShare(rep.CallsAtRisk))
	fmt.Fprintf(tw, "  peak arrivals\t%d holds started within one hour\n", rep.PeakHourlyArrivals)
	fmt.Fprintf(tw, "  average hold\t%v\n", rep.AverageHold.Round(time.Second))
	_ = tw.Flush()
	rec := rep.Recommended
	verdict := "keep the size"
	switch {
	case rec.Numbers > size:
		verdict = fmt.Sprintf("add %d", rec.Numbers-size)
	case rec.Numbers < size:
		verdict = fmt.Sprintf("%d could go", size-rec.Numbers)
	}
	fmt.Fprintf(w, "\nRecommended size: %d numbers (%s; %s of calls stitched to their true session, target %s)\n\n", rec.Numbers, verdict, report.FormatShare(rec.Accuracy), report.FormatShare(pool.DefaultAccuracy))
	fmt.Fprintf(w, "From the observed peak and average hold, which already include the session window, for the default accuracy:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  arrivals at the busiest hour\t%d per hour\n", rep.PeakHourlyArrivals)
	fmt.Fprintf(tw, "  each session holds its number\t%v on average\n", rec.Hold.Round(time.Second))
	fmt.Fprintf(tw, "  then the number cools for\t%v\n", cooldown)
	fmt.Fprintf(tw, "  numbers held or cooling, on average\t%.1f = %d/h × (%v + %v)\n", rec.Busy, rep.PeakHourlyArrivals, rec.Hold.Round(time.Second), cooldown)
	fmt.Fprintf(tw, "  callers call after leaving the page\tunknown: spread evenly over window + cooldown, the worst case\n")
	writeAccuracy(tw, rec, target, pool.DefaultAccuracy)
	fmt.Fprintf(tw, "  below %d numbers\tlive sessions share numbers more often than the target\n", rec.NumbersWithoutCooldown)
	_ = tw.Flush()
}

func day(t time.Time) string {
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}
