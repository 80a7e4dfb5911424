// Command simulate sizes a tracking-number pool by simulation: simulated
// visitors arrive on a daily curve, are classified by the real classifier
// (package classify), lease numbers from the real in-process pool
// (pool.New, heartbeats included, swept every minute as dni.Service.Run
// does), and some of them call; the real stitcher (journey.NewStitcher with
// the allocator as its hold history) attributes each call, and the
// simulation checks the answer against the session that really called.
// Everything runs on a simulated clock.
//
//	go run ./examples/simulate                          # 1,000,000 visits, chart in pool-sizes.svg
//	go run ./examples/simulate -visits 100000 -peak 400 -session 6m
//	go run ./examples/simulate -sizes 50,100,200 -svg ''
//	go run ./examples/simulate -h                       # every traffic parameter
//
// For each pool size it prints the attribution accuracy (calls placed
// within the session window plus the call grace of the caller's last
// activity, stitched to the caller's own session), the reuse rate, the mix
// of the stitcher's confidence labels and what pool.Audit reports from the
// last week of the pool's hold history. It marks the size pool.Recommend
// chooses (99.5 % of calls to their true session) and the sizes the vendors' rules of thumb choose
// (CallTrackingMetrics: one number per 20 daily visitors of a source;
// Nimbata: peak hourly visitors ÷ (60 ÷ average session minutes)), and
// writes an SVG chart of accuracy and reuse against pool size.
//
// # Reading the default run
//
// 120 Paid Search sessions in the busiest hour (72/h over the day), 4-minute
// sessions, 8 % of visitors calling 10 minutes after leaving on average:
//
//   - pool.Recommend, told the call delay and the daily curve, picks 99
//     numbers for 99.5 % of calls stitched to their caller, and the
//     simulation finds 99 the smallest size that does (see
//     TestRecommendAgainstSimulation for three traffic levels).
//   - CallTrackingMetrics' 87 numbers stitch about 99.1 % right; numbers
//     come back inside their cooldown, so most calls have two candidate
//     sessions and carry the "reused" label.
//   - Nimbata's 8 numbers count only the visitors on the site at once and
//     forget that a lease outlives the visit by the session window and the
//     number then cools for the call grace: 28 % right.
//
// The same seed gives the same visitors; the pool's per-processor free
// lists make the last digits vary between runs.
//
// # Sweeping
//
// -sweep sets how often expired leases go back to the free lists. Leases
// also expire lazily when a number is needed, but a number that waited for
// a late sweep is filed behind numbers freed after it; with -sweep 1h some
// numbers are handed out inside their cooldown even at the recommended
// size. Run dni.Service.Run (or sweep the allocator yourself) every minute.
//
// # Performance
//
// A million visits take about 20 s on two otherwise idle cores (9 pool
// sizes in lockstep, two workers, about 21 s of CPU); see
// BenchmarkMillionVisits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attriqs/calltrack/internal/cli"
)

// settings is the command line, checked.
type settings struct {
	tr      Traffic
	sizes   string
	svgPath string
	quiet   bool
}

// parseFlags reads and checks the command line, including that the chart
// can be written, before the simulation starts.
func parseFlags(args []string) (*flag.FlagSet, settings, error) {
	s := settings{tr: DefaultTraffic()}
	tr := &s.tr
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.Float64Var(&tr.PeakPerHour, "peak", tr.PeakPerHour, "Paid Search sessions per hour at the busiest hour")
	fs.Float64Var(&tr.TroughShare, "trough", tr.TroughShare, "overnight arrival rate as a share of the peak")
	fs.Float64Var(&tr.OtherShare, "other", tr.OtherShare, "share of visits from channels the pool does not serve")
	fs.DurationVar(&tr.MeanSession, "session", tr.MeanSession, "mean time on the site (exponential)")
	fs.DurationVar(&tr.Heartbeat, "heartbeat", tr.Heartbeat, "tracker heartbeat while the page is open")
	fs.Float64Var(&tr.CallerShare, "callers", tr.CallerShare, "share of pool sessions that phone")
	fs.DurationVar(&tr.MeanCallDelay, "call-delay", tr.MeanCallDelay, "mean delay from leaving the site to calling (exponential)")
	fs.IntVar(&tr.Visits, "visits", tr.Visits, "visits to simulate, all channels")
	fs.DurationVar(&tr.SweepEvery, "sweep", tr.SweepEvery, "how often expired leases are swept (dni.Service.Run: every minute)")
	fs.Uint64Var(&tr.Seed, "seed", tr.Seed, "random seed; the same seed gives the same visitors")
	fs.StringVar(&s.sizes, "sizes", "", "comma-separated pool sizes (default: a range around the recommendation, plus the rules of thumb)")
	fs.StringVar(&s.svgPath, "svg", "pool-sizes.svg", "where to write the chart; empty for none")
	fs.BoolVar(&s.quiet, "q", false, "no progress bar (there is none when standard error is not a terminal)")
	err := cli.Parse(fs, args,
		func() error { return s.tr.Validate() }, // after parsing, not a method value bound before it
		func() error {
			if s.sizes == "" {
				return nil
			}
			_, err := parseSizes(s.sizes)
			return err
		},
		cli.WritableFile("svg", &s.svgPath),
	)
	return fs, s, err
}

func main() {
	fs, s, err := parseFlags(os.Args[1:])
	if err != nil {
		cli.Exit(fs, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The bar redraws one line with \r: only a terminal shows that well.
	quiet := s.quiet || !isTerminal(os.Stderr)
	if err := run(ctx, os.Stdout, os.Stderr, s.tr, s.sizes, s.svgPath, quiet); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal (a character device), not a
// file or a pipe.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func run(ctx context.Context, stdout, stderr io.Writer, tr Traffic, sizesFlag, svgPath string, quiet bool) error {
	if err := tr.Validate(); err != nil {
		return err
	}
	sizing, err := SizeFor(tr)
	if err != nil {
		return err
	}
	sizes := DefaultSizes(sizing)
	if sizesFlag != "" {
		if sizes, err = parseSizes(sizesFlag); err != nil {
			return err
		}
	}
	var (
		bar      *progressBar
		progress func(int)
	)
	if !quiet {
		bar = newProgressBar(stderr, tr.Visits)
		progress = bar.update
	}
	res, err := Run(ctx, tr, sizes, progress)
	if bar != nil {
		bar.finish()
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if err := WriteReport(stdout, res); err != nil {
		return err
	}
	if svgPath == "" {
		return nil
	}
	f, err := os.Create(svgPath)
	if err != nil {
		return err
	}
	if err := errors.Join(WriteSVG(f, res), f.Close()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nChart written to %s\n", svgPath)
	return nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// progressBar redraws one line on a terminal with \r, at most ten times a second.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	start time.Time
	last  time.Time
	done  int
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

func (p *progressBar) update(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = max(p.done, done)
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || p.done >= p.total {
		p.last = now
		p.draw()
	}
}

func (p *progressBar) draw() {
	const width = 30
	frac := min(float64(p.done)/float64(p.total), 1)
	filled := int(frac * width)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%%  %s/%s visits  %s ", strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
		100*frac, thousands(p.done), thousands(p.total), time.Since(p.start).Round(100*time.Millisecond))
}

func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
}
