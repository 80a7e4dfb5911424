package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

// marks names the sizing rules that chose size.
func (s Sizing) marks(size int) string {
	var m []string
	if size == s.Recommended {
		m = append(m, fmt.Sprintf("pool.Recommend (%.1f%%)", 100*AccuracyTarget))
	}
	if size == s.CTM {
		m = append(m, "CallTrackingMetrics rule")
	}
	if size == s.Nimbata {
		m = append(m, "Nimbata rule")
	}
	if len(m) == 0 {
		return ""
	}
	return "← " + strings.Join(m, ", ")
}

// WriteReport prints the traffic, the sizes each rule chooses and the table.
func WriteReport(w io.Writer, r Result) error {
	tr := r.Traffic
	fmt.Fprintf(w, "Simulated %s visits over %.0f days (%s wall time)\n", thousands(tr.Visits), r.SimulDays, r.Elapsed.Round(100*time.Millisecond))
	fmt.Fprintf(w, "Paid Search traffic: %.0f sessions/h at the peak, %.0f/h on average (%.0f/day); sessions %v on average, heartbeat %v;\n",
		tr.PeakPerHour, tr.MeanPerHour(), tr.MeanPerHour()*24, tr.MeanSession, tr.Heartbeat)
	fmt.Fprintf(w, "%.0f%% of them call, %v after leaving on average. Session window %v, cooldown %v, call grace %v.\n",
		100*tr.CallerShare, tr.MeanCallDelay, pool.DefaultSessionWindow, pool.DefaultCooldown, journey.DefaultCallGrace)
	fmt.Fprintf(w, "Visits by classified channel: %s\n\n", channelList(r.Channels))
	fmt.Fprintf(w, "Sizes: pool.Recommend %d · CallTrackingMetrics (1 per 20 daily visitors) %d · Nimbata (peak/h ÷ (60 ÷ session min)) %d\n\n",
		r.Sizing.Recommended, r.Sizing.CTM, r.Sizing.Nimbata)

	calls := 0
	if len(r.Rows) > 0 {
		calls = r.Rows[len(r.Rows)-1].Calls
	}
	fmt.Fprintf(w, "%s calls to tracking numbers; pool.Audit reads the last %d days of each pool's hold history.\n\n", thousands(calls), int(AuditWindow.Hours()/24))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size\taccuracy\treuse\tno number\tcooling starts\texact\treused\tpool-only\texact right\tat risk\taudit size\t")
	for _, row := range r.Rows {
		a := row.Audit
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t %s\n", row.Size,
			pct(row.Accuracy(), 2), pct(row.ReuseRate(), 2), pct(row.UntrackedRate(), 2), pct(a.CoolingRate, 1),
			pct(row.Share(journey.ConfidenceExact), 1), pct(row.Share(journey.ConfidenceReused), 1), pct(row.Share(journey.ConfidencePoolOnly), 1),
			pct(ratio(row.RightBy[journey.ConfidenceExact], row.ByConfidence[journey.ConfidenceExact]), 2),
			pct(a.CallsAtRisk, 1), a.Recommended.Numbers, r.Sizing.marks(row.Size))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, `
accuracy        calls placed within window + grace of the caller's last activity, stitched to the caller's session
reuse           pool sessions that shared a number with a live session (pool exhausted)
no number       pool sessions shown the business line: every number already shared 16 ways
cooling starts  (audit) holds that started on a number still inside its cooldown
exact, reused,  the stitcher's confidence label on every call
  pool-only
exact right     how often an "exact" label named the caller
at risk         (audit) holds whose number had another holder within the cooldown: calls with two candidates
audit size      (audit) pool.Recommend applied to the busiest observed hour and the observed average hold
`)
	return err
}

func pct(v float64, decimals int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f%%", decimals, 100*v)
}

func channelList(m map[classify.Channel]int) string {
	type kv struct {
		ch classify.Channel
		n  int
	}
	var list []kv
	for ch, n := range m {
		list = append(list, kv{ch, n})
	}
	// Largest first, then by name, so the line is stable.
	slices.SortFunc(list, func(a, b kv) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(string(a.ch), string(b.ch))
	})
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = fmt.Sprintf("%s %s", e.ch, thousands(e.n))
	}
	return strings.Join(parts, ", ")
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
