package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

// smallTraffic is the default traffic, shorter, swept every 10 minutes
// instead of every minute: sweeps scan every number and dominate the run
// under the race detector, and expiry is lazy anyway.
func smallTraffic() Traffic {
	tr := DefaultTraffic()
	tr.Visits = 20_000
	tr.SweepEvery = 10 * time.Minute
	return tr
}

func defaultSizes(t testing.TB, tr Traffic) []int {
	t.Helper()
	s, err := SizeFor(tr)
	require.NoError(t, err)
	return DefaultSizes(s)
}

// TestTableInvariants runs a small simulation and checks what the table
// claims: the recommended size keeps accuracy at 99 % or more, accuracy
// degrades (and reuse grows) as the pool shrinks, the rules of thumb are
// marked, and the confidence labels account for every call.
func TestTableInvariants(t *testing.T) {
	tr := smallTraffic()
	res, err := Run(t.Context(), tr, defaultSizes(t, tr), nil)
	require.NoError(t, err)
	var report bytes.Buffer
	require.NoError(t, WriteReport(&report, res))
	t.Log("\n" + report.String())

	assert.Equal(t, Sizing{Recommended: 99, CTM: 87, Nimbata: 8}, res.Sizing,
		"CTM: 72/h × 24 h ÷ 20 = 86.4 → 87; Nimbata: 120 ÷ (60 ÷ 4) = 8")
	rec, ok := res.Row(res.Sizing.Recommended)
	require.True(t, ok, "the recommended size is simulated")
	require.Greater(t, rec.InGrace, 500, "enough calls to measure")
	// 99.5 % over a million visits; a short run's ~1,000 calls carry about ±0.2 %.
	assert.GreaterOrEqual(t, rec.Accuracy(), 0.99, "accuracy at the recommended size")
	assert.LessOrEqual(t, rec.ReuseRate(), 0.001, "the recommended size almost never has to share a number")
	for _, size := range []int{res.Sizing.CTM, res.Sizing.Nimbata} {
		_, ok := res.Row(size)
		assert.True(t, ok, "rule-of-thumb size %d is simulated", size)
	}

	for i := 1; i < len(res.Rows); i++ {
		small, big := res.Rows[i-1], res.Rows[i]
		require.Less(t, small.Size, big.Size)
		assert.LessOrEqual(t, small.Accuracy(), big.Accuracy()+0.003, "accuracy %d → %d numbers", big.Size, small.Size)
		assert.GreaterOrEqual(t, small.ReuseRate()+small.UntrackedRate(), big.ReuseRate()+big.UntrackedRate()-0.003,
			"sessions without a number of their own, %d → %d numbers", big.Size, small.Size)
	}
	smallest := res.Rows[0]
	assert.Less(t, smallest.Accuracy(), 0.5, "a pool of %d numbers cannot attribute this traffic", smallest.Size)
	assert.Greater(t, smallest.ReuseRate()+smallest.UntrackedRate(), 0.9)

	for _, row := range res.Rows {
		total := 0
		for c, n := range row.ByConfidence {
			assert.Contains(t, []journey.Confidence{journey.ConfidenceExact, journey.ConfidenceReused, journey.ConfidencePoolOnly}, c)
			total += n
			assert.LessOrEqual(t, row.RightBy[c], n)
		}
		assert.Equal(t, row.Calls, total, "size %d: every call has one label", row.Size)
		assert.LessOrEqual(t, row.Right, row.InGrace)
		assert.LessOrEqual(t, row.InGrace, row.Calls)
		assert.Equal(t, res.Rows[0].PoolSessions, row.PoolSessions, "every size sees the same visitors")
		if exact := row.ByConfidence[journey.ConfidenceExact]; exact > 50 {
			assert.GreaterOrEqual(t, float64(row.RightBy[journey.ConfidenceExact])/float64(exact), 0.99,
				"size %d: an exact label is an honest label", row.Size)
		}
	}

	out := report.String()
	assert.Contains(t, out, "← pool.Recommend (99.5%)")
	assert.Contains(t, out, "← CallTrackingMetrics rule")
	assert.Contains(t, out, "← Nimbata rule")
}

// TestClassifierSplitsTraffic checks that visits go through the real
// classifier: the landing shapes meant as paid are Paid Search, the others
// are not, in the proportions asked for.
func TestClassifierSplitsTraffic(t *testing.T) {
	tr := smallTraffic()
	tr.Visits = 5000
	res, err := Run(t.Context(), tr, []int{50}, nil)
	require.NoError(t, err)
	total := 0
	for _, n := range res.Channels {
		total += n
	}
	assert.Equal(t, tr.Visits, total)
	paid := float64(res.Channels[classify.ChannelPaidSearch]) / float64(total)
	assert.InDelta(t, 1-tr.OtherShare, paid, 0.03)
	assert.Equal(t, res.Channels[classify.ChannelPaidSearch], res.Rows[0].PoolSessions)
	for _, ch := range []classify.Channel{classify.ChannelOrganicSearch, classify.ChannelDirect, classify.ChannelEmail, classify.ChannelOrganicSocial} {
		assert.Positive(t, res.Channels[ch], ch)
	}
}

// TestSVGIsWellFormed parses the chart as XML and checks it draws both
// series and the three rule markers.
func TestSVGIsWellFormed(t *testing.T) {
	tr := smallTraffic()
	tr.Visits = 3000
	res, err := Run(t.Context(), tr, defaultSizes(t, tr), nil)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteSVG(&buf, res))

	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	counts := map[string]int{}
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
				assert.Equal(t, "http://www.w3.org/2000/svg", se.Name.Space)
			}
			counts[se.Name.Local]++
		}
	}
	assert.Equal(t, "svg", root)
	assert.Equal(t, 2, counts["polyline"], "accuracy and sessions without a number of their own")
	assert.Equal(t, 2*len(res.Rows), counts["circle"], "a point per size and series")
	for _, label := range []string{"pool.Recommend", "CallTrackingMetrics", "Nimbata"} {
		assert.Contains(t, buf.String(), label)
	}
}

// TestRunWritesTableAndChart runs the command's code path with a progress
// bar and a chart file.
func TestRunWritesTableAndChart(t *testing.T) {
	tr := smallTraffic()
	tr.Visits = 3000
	svg := filepath.Join(t.TempDir(), "chart.svg")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(t.Context(), &stdout, &stderr, tr, "5,40,200", svg, false))
	assert.Contains(t, stdout.String(), "size")
	assert.Contains(t, stdout.String(), "Chart written to")
	assert.Contains(t, stderr.String(), "\r[")
	assert.Contains(t, stderr.String(), "100%  3,000/3,000 visits")
	data, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "<?xml"))

	assert.ErrorContains(t, run(t.Context(), io.Discard, io.Discard, tr, "5,x", "", true), "-sizes")
	bad := tr
	bad.CallerShare = 0
	assert.ErrorContains(t, run(t.Context(), io.Discard, io.Discard, bad, "", "", true), "caller share")
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Run(ctx, DefaultTraffic(), []int{10}, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestSizingUsesThePoolModel checks that the simulation asks pool.Recommend
// with what it knows: the daily curve and the call delay. At the peak alone
// (120/h all day) the model asks for more; without the call delay (calls
// spread over the whole grace) more again.
func TestSizingUsesThePoolModel(t *testing.T) {
	s, err := SizeFor(DefaultTraffic())
	require.NoError(t, err)
	assert.Equal(t, Sizing{Recommended: 99, CTM: 87, Nimbata: 8}, s)
	peak, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: 120, AverageSession: 4 * time.Minute, MeanCallDelay: 10 * time.Minute})
	require.NoError(t, err)
	assert.Greater(t, peak.Numbers, s.Recommended)
	blind, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: 120, AverageSession: 4 * time.Minute})
	require.NoError(t, err)
	assert.Greater(t, blind.Numbers, peak.Numbers)
	bad := DefaultTraffic()
	bad.PeakPerHour = math.Inf(1)
	_, err = SizeFor(bad)
	assert.Error(t, err)
}

func TestDefaultSizesIncludeEveryRule(t *testing.T) {
	s := Sizing{Recommended: 99, CTM: 87, Nimbata: 8}
	sizes := DefaultSizes(s)
	for _, n := range []int{99, 87, 8} {
		assert.Contains(t, sizes, n)
	}
	assert.IsIncreasing(t, sizes)
	assert.Greater(t, sizes[len(sizes)-1], 99, "one size above the recommendation")
}

// BenchmarkMillionVisits is the performance goal: 1,000,000 visits through
// the default range of pool sizes in under a minute on two cores.
//
//	go test -run '^$' -bench MillionVisits -benchtime 1x ./examples/simulate
func BenchmarkMillionVisits(b *testing.B) {
	tr := DefaultTraffic()
	for b.Loop() {
		if _, err := Run(context.Background(), tr, defaultSizes(b, tr), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tr.Visits*b.N)/b.Elapsed().Seconds(), "visits/s")
}

var sizingCheck = flag.Bool("sizing", false, "run TestRecommendAgainstSimulation: three traffic levels, 1,000,000 visits each (about a minute per level on two cores)")

// TestRecommendAgainstSimulation is the sizing check of docs/benchmarks.md:
// at three traffic levels, the smallest pool that simulation finds
// stitching 99.5 % of calls to their true session, against pool.Recommend's
// pick (within 10 %) and the vendors' rules of thumb on the same visitors.
//
//	go test ./examples/simulate -run TestRecommendAgainstSimulation -sizing -v -timeout 30m
func TestRecommendAgainstSimulation(t *testing.T) {
	if !*sizingCheck {
		t.Skip("long simulation: run with -sizing")
	}
	levels := []struct {
		name string
		peak float64
	}{{"low", 30}, {"default", 120}, {"high", 600}}
	var table strings.Builder
	fmt.Fprintln(&table, "| traffic | smallest size at 99.5 % (simulated) | `Recommend` | off by | CallTrackingMetrics | Nimbata |")
	fmt.Fprintln(&table, "|---|---|---|---|---|---|")
	for _, l := range levels {
		tr := DefaultTraffic()
		tr.PeakPerHour = l.peak
		s, err := SearchSmallest(t.Context(), tr, AccuracyTarget)
		require.NoError(t, err)
		rec := s.Sizing.Recommended
		off := float64(rec-s.Smallest) / float64(s.Smallest)
		acc := func(n int) string {
			a, ok := s.Accuracy[n]
			if !ok {
				return fmt.Sprint(n)
			}
			return fmt.Sprintf("%d (%.2f %%)", n, 100*a)
		}
		fmt.Fprintf(&table, "| %s: %g/h at the peak | %s, ±%d | %s | %+.1f %% | %s | %s |\n", l.name, l.peak,
			acc(s.Smallest), s.Step, acc(rec), 100*off, acc(s.Sizing.CTM), acc(s.Sizing.Nimbata))
		assert.InDelta(t, 0, off, 0.10, "%s traffic: Recommend %d, simulation %d", l.name, rec, s.Smallest)
	}
	t.Log("\n" + table.String())
}

// A size counts as meeting the target only when every larger simulated
// size meets it too.
func TestSmallestMeetingNeedsEveryLargerSize(t *testing.T) {
	s := Search{Target: 0.995, Accuracy: map[int]float64{50: 0.9, 60: 0.996, 70: 0.994, 80: 0.996, 90: 0.999}}
	smallest, below := s.smallestMeeting()
	assert.Equal(t, 80, smallest)
	assert.Equal(t, 70, below)
	s.Accuracy[100] = 0.99
	smallest, _ = s.smallestMeeting()
	assert.Zero(t, smallest, "the largest size misses: none counts")
}
