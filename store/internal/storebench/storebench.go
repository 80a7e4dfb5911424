package storebench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// BigEnv is the environment variable that enables the 1,000,000-hold
// benchmarks: loading that much takes tens of seconds.
const BigEnv = "CALLTRACK_BIG"

// RequireBig skips b unless CALLTRACK_BIG=1.
func RequireBig(b *testing.B) {
	b.Helper()
	if os.Getenv(BigEnv) != "1" {
		b.Skipf("set %s=1 to load 1,000,000 holds", BigEnv)
	}
}

// History describes a synthetic pool history: Numbers numbers, each held
// PerNumber times in a row by one session after another, every hold 1 to
// 30 minutes long, separated by gaps of 0 to 10 minutes. The last hold of
// each number is still open.
type History struct {
	Numbers   int
	PerNumber int
	Start     time.Time
}

// Million is the benchmark history: 1,000 numbers x 1,000 holds.
func Million() History {
	return History{Numbers: 1000, PerNumber: 1000, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Number returns the i-th number in E.164.
func (h History) Number(i int) string { return fmt.Sprintf("+1415%07d", i) }

// Each calls fn with every hold, number by number, in From order. The
// history is the same on every call.
func (h History) Each(fn func(pool.HoldRecord) error) error {
	for n := range h.Numbers {
		r := rand.New(rand.NewPCG(uint64(n), 42))
		t := h.Start
		for k := range h.PerNumber {
			from := t.Add(time.Duration(r.IntN(10*60)) * time.Second)
			until := from.Add(time.Minute + time.Duration(r.IntN(29*60))*time.Second)
			rec := pool.HoldRecord{Token: pool.Token(n*h.PerNumber + k + 1), Pool: "bench", Number: h.Number(n),
				SessionID: "s" + strconv.Itoa(n) + "-" + strconv.Itoa(k), From: from, Until: until}
			if k == h.PerNumber-1 {
				rec.Until = time.Time{}
			}
			if err := fn(rec); err != nil {
				return err
			}
			t = until
		}
	}
	return nil
}

// End is a time after the last closed hold of every number (roughly).
func (h History) End() time.Time {
	return h.Start.Add(time.Duration(h.PerNumber) * 20 * time.Minute)
}

// HoldersAt measures st.HoldersAt at random numbers and times inside the
// history with the default 60-minute call grace, and reports the p50 and
// p99 latency in microseconds.
func HoldersAt(b *testing.B, st store.Leases, h History) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	span := h.End().Sub(h.Start)
	lat := make([]time.Duration, 0, b.N)
	found := 0
	b.ResetTimer()
	for range b.N {
		number := h.Number(r.IntN(h.Numbers))
		at := h.Start.Add(time.Duration(r.Int64N(int64(span))))
		t0 := time.Now()
		hs, err := st.HoldersAt(ctx, number, at, time.Hour)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		found += len(hs)
	}
	b.StopTimer()
	ReportLatency(b, lat)
	b.ReportMetric(float64(found)/float64(b.N), "holders/op")
}

// ReportLatency reports the p50 and p99 of lat in microseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

// Sessions returns n distinct sessions, prefixed so that benchmark runs do
// not overwrite each other.
func Sessions(prefix string, n int) []journey.Session {
	out := make([]journey.Session, n)
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = journey.Session{
			ID: fmt.Sprintf("%s-%d", prefix, i), VisitorID: fmt.Sprintf("v%d", i%5000),
			StartedAt: start.Add(time.Duration(i) * time.Second), LastSeenAt: start.Add(time.Duration(i)*time.Second + time.Minute),
			LandingURL: "https://example.com/landing?utm_source=google&utm_medium=cpc", Referrer: "https://www.google.com/",
			Pool: "paid", Number: "+14155550100",
		}
		out[i].Source.Source, out[i].Source.Medium, out[i].Source.Paid = "google", "cpc", true
	}
	return out
}

// PutSession measures single-session upserts and reports sessions/s.
func PutSession(b *testing.B, st store.Sessions) {
	ctx := context.Background()
	ss := Sessions(fmt.Sprintf("single%d", time.Now().UnixNano()), b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := st.PutSession(ctx, ss[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

// PutSessions measures batched upserts of batch sessions at a time and
// reports sessions/s; b.N counts sessions.
func PutSessions(b *testing.B, st store.Sessions, batch int) {
	ctx := context.Background()
	ss := Sessions(fmt.Sprintf("batch%d", time.Now().UnixNano()), b.N)
	b.ResetTimer()
	for i := 0; i < len(ss); i += batch {
		if err := st.PutSessions(ctx, ss[i:min(i+batch, len(ss))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}

// Stitch measures journey.Stitcher.Stitch of a call to a random number of
// the history at a random time, with st as both the hold history and the
// session finder (the path a call takes once the allocator's memory no
// longer covers it), and reports p50 and p99 in microseconds.
func Stitch(b *testing.B, st store.Store, h History) {
	s, err := journey.NewStitcher(benchNumbers{}, st, st, journey.StitcherConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	span := h.End().Sub(h.Start)
	lat := make([]time.Duration, 0, b.N)
	exact := 0
	b.ResetTimer()
	for i := range b.N {
		call := provider.CallEvent{Provider: "bench", CallID: strconv.Itoa(i), To: h.Number(r.IntN(h.Numbers)),
			StartedAt: h.Start.Add(time.Duration(r.Int64N(int64(span))))}
		t0 := time.Now()
		a, err := s.Stitch(ctx, call)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if a.Confidence == journey.ConfidenceExact {
			exact++
		}
	}
	b.StopTimer()
	ReportLatency(b, lat)
	b.ReportMetric(float64(exact)/float64(b.N), "exact/op")
}

// JourneyOf1000 builds a person of 10 visitor ids with 100 session
// touchpoints each, linked pairwise (so every Link merges two people), then
// measures assembling the person's journey: TouchpointsOf over all 1,000.
// It reports the merges' mean cost and the assembly's p50 and p99.
func JourneyOf1000(b *testing.B, st store.Store, prefix string) {
	ctx := context.Background()
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	visitors := make([]journey.Identifier, 10)
	for v := range visitors {
		visitors[v] = journey.Identifier{Kind: journey.IDVisitor, Value: fmt.Sprintf("%s-v%d", prefix, v)}
		for k := range 100 {
			tp := journey.Touchpoint{ID: fmt.Sprintf("%s-tp-%d-%d", prefix, v, k), Kind: journey.TouchSession,
				At: start.Add(time.Duration(k*10+v) * time.Minute), VisitorID: visitors[v].Value}
			tp.Source.Channel, tp.Source.Source, tp.Source.Medium = "Paid Search", "google", "cpc"
			if err := st.AddTouchpoint(ctx, tp); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.Resolve(ctx, visitors[v]); err != nil {
			b.Fatal(err)
		}
	}
	var person string
	var merge time.Duration
	for v := 1; v < len(visitors); v++ {
		t0 := time.Now()
		p, err := st.Link(ctx, visitors[0], visitors[v])
		merge += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		person = p
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		tps, err := st.TouchpointsOf(ctx, person, start, start.Add(365*24*time.Hour))
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if len(tps) != 1000 {
			b.Fatalf("journey has %d touchpoints, want 1000", len(tps))
		}
	}
	b.StopTimer()
	ReportLatency(b, lat)
	b.ReportMetric(float64(merge.Microseconds())/float64(len(visitors)-1), "merge-µs")
}

// benchNumbers files every number under pool "bench": the history's
// numbers are synthetic, not ones a pool configuration would accept.
type benchNumbers struct{}

func (benchNumbers) Dedicated(string) (pool.DedicatedNumber, bool) {
	return pool.DedicatedNumber{}, false
}

func (benchNumbers) Number(n string) (pool.NumberInfo, bool) {
	return pool.NumberInfo{Number: n, Pool: "bench"}, true
}
