package pool

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// AuditOptions describe the pool whose history [Audit] reads.
type AuditOptions struct {
	// Size is the number of tracking numbers in the pool.
	Size int
	// Cooldown is the pool's call-grace period; zero means 60 minutes.
	Cooldown time.Duration
	// Target for the recommended size, as in [Traffic]; zero means 1 %.
	Target float64
}

// AuditReport summarises how a pool fared over a stretch of history.
type AuditReport struct {
	Holds int
	// Span runs from the first hold's start to the last hold's end.
	Span time.Duration
	// Utilisation is the time-weighted share of numbers held over Span.
	Utilisation float64
	// ReuseRate is the share of holds that started as reuses.
	ReuseRate float64
	// CoolingRate is the share of holds that started on a number whose
	// previous hold ended less than Cooldown before.
	CoolingRate float64
	// PeakConcurrency is the most holds live at one instant.
	PeakConcurrency int
	// PeakHourlyArrivals is the most holds started within any one hour.
	PeakHourlyArrivals int
	// AverageHold is the mean length of a hold.
	AverageHold time.Duration
	// CallsAtRisk estimates the share of calls that could be attributed to
	// the wrong session: the share of holds whose number had another holder
	// within Cooldown before, during or after the hold (so a call in that
	// hold's grace window has two candidate sessions), assuming calls are
	// spread evenly over holds.
	CallsAtRisk float64
	// Recommended is [Recommend] applied to the observed peak arrivals and
	// average hold.
	Recommended Recommendation
}

// Audit reads hold history (from [Memory.Holds], a store, or
// Config.OnRecord) and reports utilisation, reuse, peak concurrency, the
// estimated share of calls at risk of misattribution and a recommended
// size. Records with a zero Until are ignored (their end is unknown). The
// error wraps [ErrInvalidConfig].
func Audit(records []HoldRecord, opts AuditOptions) (AuditReport, error) {
	if opts.Size <= 0 {
		return AuditReport{}, &ConfigError{Field: "audit: size", Value: fmt.Sprint(opts.Size), Reason: "must be positive"}
	}
	if opts.Cooldown < 0 || !(opts.Target >= 0 && opts.Target < 1) {
		return AuditReport{}, errors.Join(&ConfigError{Field: "audit", Reason: "cooldown must be ≥ 0 and target in [0, 1)"})
	}
	cooldown, target := opts.Cooldown, opts.Target
	if cooldown == 0 {
		cooldown = DefaultCooldown
	}
	if target == 0 {
		target = 0.01
	}
	holds := make([]HoldRecord, 0, len(records))
	for _, r := range records {
		if !r.Until.IsZero() && !r.Until.Before(r.From) {
			holds = append(holds, r)
		}
	}
	var rep AuditReport
	rep.Holds = len(holds)
	if len(holds) == 0 {
		return rep, nil
	}
	slices.SortFunc(holds, func(a, b HoldRecord) int {
		return cmp.Or(cmp.Compare(a.Number, b.Number), a.From.Compare(b.From))
	})
	first, last := holds[0].From, holds[0].Until
	var total, heldTime time.Duration
	reused, cooling, atRisk := 0, 0, 0
	var prevEnd time.Time // latest end among earlier holds of the same number
	for i, h := range holds {
		first = minTime(first, h.From)
		last = maxTime(last, h.Until)
		total += h.Until.Sub(h.From)
		if i == 0 || holds[i-1].Number != h.Number {
			prevEnd = time.Time{}
		}
		if h.Reused {
			reused++
		}
		if !prevEnd.IsZero() && !h.Reused && h.From.Sub(prevEnd) < cooldown {
			cooling++
		}
		nextClose := i+1 < len(holds) && holds[i+1].Number == h.Number && holds[i+1].From.Before(h.Until.Add(cooldown))
		if nextClose || (!prevEnd.IsZero() && prevEnd.After(h.From.Add(-cooldown))) {
			atRisk++
		}
		prevEnd = maxTime(prevEnd, h.Until)
	}
	heldTime = unionByNumber(holds)
	rep.Span = last.Sub(first)
	if rep.Span > 0 {
		rep.Utilisation = float64(heldTime) / (float64(opts.Size) * float64(rep.Span))
	}
	n := float64(len(holds))
	rep.ReuseRate = float64(reused) / n
	rep.CoolingRate = float64(cooling) / n
	rep.CallsAtRisk = float64(atRisk) / n
	rep.AverageHold = total / time.Duration(len(holds))
	rep.PeakConcurrency = peakOverlap(holds)
	rep.PeakHourlyArrivals = peakArrivals(holds, time.Hour)
	rep.Recommended = recommend(float64(rep.PeakHourlyArrivals), rep.AverageHold, cooldown, target)
	return rep, nil
}

// unionByNumber sums, per number, the time covered by at least one hold.
func unionByNumber(holds []HoldRecord) time.Duration {
	var sum time.Duration
	var curEnd time.Time
	for i, h := range holds {
		if i == 0 || holds[i-1].Number != h.Number || h.From.After(curEnd) {
			sum += h.Until.Sub(h.From)
			curEnd = h.Until
			continue
		}
		if h.Until.After(curEnd) {
			sum += h.Until.Sub(curEnd)
			curEnd = h.Until
		}
	}
	return sum
}

// peakArrivals is the most hold starts within any window of length w.
func peakArrivals(holds []HoldRecord, w time.Duration) int {
	starts := make([]time.Time, len(holds))
	for i, h := range holds {
		starts[i] = h.From
	}
	slices.SortFunc(starts, time.Time.Compare)
	best, lo := 0, 0
	for hi := range starts {
		for starts[hi].Sub(starts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
