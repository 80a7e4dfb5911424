package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// Traffic describes the simulated visitors of one site. The pool under test
// serves its Paid Search visitors; the others (organic, social, email,
// direct) are classified too and see the business number, as they would
// with a pool per paid source only.
type Traffic struct {
	// PeakPerHour is the arrival rate of Paid Search sessions at the busiest
	// hour of the day; the rate follows a daily curve down to
	// TroughShare × PeakPerHour in the small hours.
	PeakPerHour float64
	TroughShare float64
	// OtherShare is the share of all visits that come from other channels.
	OtherShare float64
	// MeanSession is the mean time a visitor stays on the site
	// (exponential); the tracker renews the lease every Heartbeat meanwhile.
	MeanSession time.Duration
	Heartbeat   time.Duration
	// CallerShare is the share of pool sessions that phone; MeanCallDelay is
	// the mean delay from leaving the site to calling (exponential).
	CallerShare   float64
	MeanCallDelay time.Duration
	// Visits is how many visits (all channels) to simulate.
	Visits int
	Seed   uint64
	// SweepEvery is how often the service sweeps expired leases back to
	// the free lists: dni.Service.Run does it every minute. Leases also
	// expire lazily when a number is needed; see the package doc for what a
	// slower sweep costs.
	SweepEvery time.Duration
}

// DefaultTraffic is a mid-sized advertiser: 120 paid visits in the busiest
// hour, a 4-minute average session, 8 % of visitors calling.
func DefaultTraffic() Traffic {
	return Traffic{
		PeakPerHour: 120, TroughShare: 0.2, OtherShare: 0.4,
		MeanSession: 4 * time.Minute, Heartbeat: time.Minute,
		CallerShare: 0.08, MeanCallDelay: 10 * time.Minute,
		Visits: 1_000_000, Seed: 1, SweepEvery: time.Minute,
	}
}

// Validate names every traffic parameter out of range.
func (tr Traffic) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(tr.PeakPerHour > 0) {
		bad("peak visitors per hour %v must be positive", tr.PeakPerHour)
	}
	if !(tr.TroughShare > 0 && tr.TroughShare <= 1) {
		bad("trough share %v must be in (0, 1]", tr.TroughShare)
	}
	if !(tr.OtherShare >= 0 && tr.OtherShare < 1) {
		bad("other-channel share %v must be in [0, 1)", tr.OtherShare)
	}
	if tr.MeanSession <= 0 || tr.Heartbeat <= 0 || tr.MeanCallDelay <= 0 || tr.SweepEvery <= 0 {
		bad("session length, heartbeat, call delay and sweep interval must be positive")
	}
	if !(tr.CallerShare > 0 && tr.CallerShare <= 1) {
		bad("caller share %v must be in (0, 1]", tr.CallerShare)
	}
	if tr.Visits <= 0 {
		bad("visits %d must be positive", tr.Visits)
	}
	return errors.Join(errs...)
}

// MeanPerHour is the daily average of the Paid Search arrival rate.
func (tr Traffic) MeanPerHour() float64 {
	// rate(t) = peak × (trough + (1-trough) × sin²(πt/24h)); sin² averages ½.
	return tr.PeakPerHour * (tr.TroughShare + (1-tr.TroughShare)/2)
}

// rate is the Paid Search arrival rate per hour at hour h of the day; the
// trough is at 04:00 and the peak at 16:00.
func (tr Traffic) rate(h float64) float64 {
	s := math.Sin(math.Pi * (h - 4) / 24)
	return tr.PeakPerHour * (tr.TroughShare + (1-tr.TroughShare)*s*s)
}

// Sizing is how big the pool should be by each rule.
type Sizing struct {
	Recommended int // pool.Recommend: the accuracy model, for AccuracyTarget
	CTM         int // CallTrackingMetrics: 1 number per 20 daily visitors per source
	Nimbata     int // Nimbata: peak hourly visitors ÷ (60 ÷ average session minutes)
}

// Target is the chance a new visitor finds no cold number that the pool
// audit keeps to.
const Target = 0.01

// AccuracyTarget is the share of calls within the grace stitched to their
// true session that the recommended size is for.
const AccuracyTarget = 0.995

// SizeFor applies every rule to tr with the pool's default session window
// and cooldown. pool.Recommend is told what the simulation knows: the
// exponential call delay and the daily curve, hour by hour.
func SizeFor(tr Traffic) (Sizing, error) {
	profile := make([]float64, 24)
	for h := range profile {
		profile[h] = tr.rate(float64(h) + 0.5)
	}
	rec, err := pool.Recommend(pool.Traffic{
		PeakHourlyVisitors: tr.PeakPerHour, AverageSession: tr.MeanSession, Target: Target,
		Accuracy: AccuracyTarget, MeanCallDelay: tr.MeanCallDelay, DailyProfile: profile,
	})
	if err != nil {
		return Sizing{}, err
	}
	return Sizing{
		Recommended: rec.Numbers,
		CTM:         pool.RuleOfThumbPerDailyVisitors(tr.MeanPerHour() * 24),
		Nimbata:     pool.RuleOfThumbPerPeakHour(tr.PeakPerHour, tr.MeanSession),
	}, nil
}

// Row is what one pool size measured.
type Row struct {
	Size         int
	PoolSessions int // sessions that wanted a pool number
	Reused       int // of those, sessions that got a number shared with a live holder
	Untracked    int // of those, sessions shown the business number (pool exhausted)
	Calls        int // calls to a tracking number
	InGrace      int // of Calls, placed within session window + call grace of the last activity
	Right        int // of InGrace, stitched to the session that placed them
	// ByConfidence counts every call by the stitcher's confidence label;
	// RightBy counts those stitched to the true session.
	ByConfidence map[journey.Confidence]int
	RightBy      map[journey.Confidence]int
	Stats        pool.Stats
	// Audit is pool.Audit over the holds of the last AuditWindow of the
	// run, as a host would run it over its stored hold history.
	Audit pool.AuditReport
}

// AuditWindow is how much of the end of the run's hold history is audited.
const AuditWindow = 7 * 24 * time.Hour

// Accuracy is the share of calls within the grace stitched to their true session.
func (r Row) Accuracy() float64 { return ratio(r.Right, r.InGrace) }

// ReuseRate is the share of pool sessions that had to share a number.
func (r Row) ReuseRate() float64 { return ratio(r.Reused, r.PoolSessions) }

// UntrackedRate is the share of pool sessions shown the business number
// because every number was already shared as often as the pool allows.
func (r Row) UntrackedRate() float64 { return ratio(r.Untracked, r.PoolSessions) }

// Share is the share of calls labelled c.
func (r Row) Share(c journey.Confidence) float64 { return ratio(r.ByConfidence[c], r.Calls) }

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Result is a whole run: one row per pool size, smallest first.
type Result struct {
	Traffic   Traffic
	Sizing    Sizing
	Rows      []Row
	Channels  map[classify.Channel]int // every visit by its classified channel
	SimulDays float64                  // simulated time
	Elapsed   time.Duration
}

// Row returns the row for size.
func (r Result) Row(size int) (Row, bool) {
	i := slices.IndexFunc(r.Rows, func(row Row) bool { return row.Size == size })
	if i < 0 {
		return Row{}, false
	}
	return r.Rows[i], true
}

// DefaultSizes spans the interesting range: from far below the
// recommendation up to a quarter above it, plus the rules of thumb.
func DefaultSizes(s Sizing) []int {
	sizes := []int{s.Recommended, s.CTM, s.Nimbata}
	near := func(n int) bool { // within 3 % of a size already listed
		return slices.ContainsFunc(sizes, func(m int) bool { return math.Abs(float64(n-m)) <= 0.03*float64(m) })
	}
	for _, f := range []float64{0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 1.25} {
		if n := max(1, int(math.Round(f*float64(s.Recommended)))); !near(n) {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	return sizes
}

// Run simulates tr against a pool of each size. Every size sees exactly the
// same visitors: the traffic is generated once per worker from tr.Seed and
// fed to the pools of that worker in lockstep. progress, when set, is
// called with the number of visits done so far (out of tr.Visits).
func Run(ctx context.Context, tr Traffic, sizes []int, progress func(done int)) (Result, error) {
	if err := tr.Validate(); err != nil {
		return Result{}, err
	}
	if len(sizes) == 0 {
		return Result{}, errors.New("no pool sizes to simulate")
	}
	for _, n := range sizes {
		if n < 1 || n > 90_000 {
			return Result{}, fmt.Errorf("pool size %d: must be between 1 and 90000", n)
		}
	}
	sizes = slices.Clone(sizes)
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	classifier, err := classify.New(classify.Config{OwnDomains: []string{siteHost}})
	if err != nil {
		return Result{}, err
	}
	sizing, err := SizeFor(tr)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	workers := min(runtime.GOMAXPROCS(0), len(sizes))
	groups := make([][]int, workers)
	for i, n := range sizes { // round robin, so every worker gets small and large pools
		groups[i%workers] = append(groups[i%workers], n)
	}
	var (
		wg       sync.WaitGroup
		done     atomic.Int64 // visits, summed over workers
		mu       sync.Mutex
		rows     []Row
		channels map[classify.Channel]int
		days     float64
		firstErr error
	)
	for w, group := range groups {
		wg.Go(func() {
			report := func(n int) {
				if progress != nil {
					progress(int(done.Add(int64(n)) / int64(workers)))
				}
			}
			out, ch, d, err := runGroup(ctx, classifier, tr, group, report)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			rows = append(rows, out...)
			if w == 0 {
				channels, days = ch, d
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	slices.SortFunc(rows, func(a, b Row) int { return a.Size - b.Size })
	return Result{Traffic: tr, Sizing: sizing, Rows: rows, Channels: channels, SimulDays: days, Elapsed: time.Since(start)}, nil
}

const (
	siteHost     = "www.example-plumbing.com"
	businessLine = "+14155550100"
	poolName     = "paid-search"
)

// landings are the shapes visits arrive in; the classifier decides which
// are Paid Search. Weights are relative within paid and within other.
var landings = []struct {
	paid     bool
	weight   float64
	url, ref string
}{
	{true, 5, "https://" + siteHost + "/emergency?gclid=Cj0KCQiA", "https://www.google.com/"},
	{true, 2, "https://" + siteHost + "/?msclkid=4a1b2c3d", "https://www.bing.com/"},
	{true, 2, "https://" + siteHost + "/drains?utm_source=google&utm_medium=cpc&utm_campaign=drains", ""},
	{true, 1, "https://" + siteHost + "/?utm_source=bing&utm_medium=ppc&utm_campaign=brand", "https://www.bing.com/"},
	{false, 5, "https://" + siteHost + "/", "https://www.google.com/"},
	{false, 2, "https://" + siteHost + "/", ""},
	{false, 1, "https://" + siteHost + "/reviews", "https://www.facebook.com/"},
	{false, 1, "https://" + siteHost + "/offer?utm_source=newsletter&utm_medium=email&utm_campaign=spring", ""},
}

// simEvent is a future moment of one session: a page view or heartbeat
// (which leases, as the dni service does), or the visitor's call.
type simEvent struct {
	at      int64 // simulated Unix nanoseconds
	session int32
	call    bool
}

// eventHeap is a binary min-heap on at, session; it holds only the events
// of sessions still in progress, so memory stays flat however long the run.
type eventHeap []simEvent

func (h eventHeap) less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].session < h[j].session
}

func (h *eventHeap) push(e simEvent) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() simEvent {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// sessionState is what the driver knows of one pool session.
type sessionState struct {
	id       string
	lastSeen int64    // last page view or heartbeat
	leaveAt  int64    // when the visitor leaves the site
	shown    []string // per pool size: the tracking number shown, "" when none
}

// simPool is one pool size under test.
type simPool struct {
	row      Row
	alloc    *pool.Memory
	stitcher *journey.Stitcher
	ended    []pool.HoldRecord // holds ended within the last AuditWindow or so
}

// sessionDirectory answers the stitcher's session lookups. Each pool
// session is kept as the index of its landing, whose classified source is
// stored once, so a million sessions cost a megabyte.
type sessionDirectory struct {
	landing []uint8                   // per session
	sources map[uint8]classify.Source // per landing
}

func (d *sessionDirectory) Session(_ context.Context, id string) (journey.Session, error) {
	n, err := strconv.Atoi(id[1:])
	if err != nil || n < 0 || n >= len(d.landing) {
		return journey.Session{}, fmt.Errorf("session %q: not found", id)
	}
	return journey.Session{ID: id, VisitorID: "v" + id[1:], Source: d.sources[d.landing[n]]}, nil
}

// poolNumbers is the catalog as the stitcher's number directory, answering
// "is this dedicated?" from a map for the pool's own numbers. The catalog
// parses every number it is asked about with phonenumbers unless it is one
// of its pool numbers or dedicated ones, which made that question 40 % of
// the simulation's time.
type poolNumbers struct{ *pool.Catalog }

func (c poolNumbers) Dedicated(number string) (pool.DedicatedNumber, bool) {
	if info, ok := c.Number(number); ok && info.Number == number {
		return pool.DedicatedNumber{}, false // a pool number, already canonical: never dedicated
	}
	return c.Catalog.Dedicated(number)
}

// trackingNumbers makes n distinct valid San Francisco numbers.
func trackingNumbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415%03d%04d", 200+i/10_000, i%10_000)
	}
	return out
}

// runGroup drives one traffic stream through a pool of each size in sizes.
func runGroup(ctx context.Context, classifier *classify.Classifier, tr Traffic, sizes []int, report func(int)) ([]Row, map[classify.Channel]int, float64, error) {
	rng := rand.New(rand.NewPCG(tr.Seed, 0x5eed))
	epoch := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	now := epoch
	clock := func() time.Time { return now }
	window, grace := pool.DefaultSessionWindow, journey.DefaultCallGrace

	dir := sessionDirectory{sources: map[uint8]classify.Source{}}
	pools := make([]*simPool, len(sizes))
	for i, n := range sizes {
		p := &simPool{row: Row{Size: n, ByConfidence: map[journey.Confidence]int{}, RightBy: map[journey.Confidence]int{}}}
		// The hold history a store would keep, for the audit. OnRecord runs
		// on this goroutine: the pool is only used from here.
		onRecord := func(h pool.HoldRecord) {
			if !h.Until.IsZero() {
				p.ended = append(p.ended, h)
			}
		}
		alloc, err := pool.New(pool.Config{OnRecord: onRecord,
			Pools: []pool.PoolConfig{{Name: poolName, Numbers: trackingNumbers(n), BusinessNumber: businessLine}}})
		if err != nil {
			return nil, nil, 0, err
		}
		st, err := journey.NewStitcher(poolNumbers{alloc.Catalog()}, alloc, &dir, journey.StitcherConfig{Clock: clock})
		if err != nil {
			return nil, nil, 0, err
		}
		p.alloc, p.stitcher = alloc, st
		pools[i] = p
	}

	var paidW, otherW float64
	for _, l := range landings {
		if l.paid {
			paidW += l.weight
		} else {
			otherW += l.weight
		}
	}
	pick := func(paid bool) int {
		total := otherW
		if paid {
			total = paidW
		}
		x := rng.Float64() * total
		for i, l := range landings {
			if l.paid != paid {
				continue
			}
			if x -= l.weight; x < 0 {
				return i
			}
		}
		return len(landings) - 1
	}
	exp := func(mean time.Duration) int64 { return int64(rng.ExpFloat64() * float64(mean)) }

	channels := map[classify.Channel]int{}
	sessions := map[int32]*sessionState{}
	var events eventHeap
	// Arrivals of all channels are a Poisson process thinned to the daily
	// curve: candidates at the peak total rate, each kept with probability
	// rate(t)/peak.
	peakAll := tr.PeakPerHour / (1 - tr.OtherShare)
	nextArrival := epoch.UnixNano()
	arrive := func() {
		for {
			nextArrival += int64(rng.ExpFloat64() / peakAll * float64(time.Hour))
			h := float64((nextArrival-epoch.UnixNano())%int64(24*time.Hour)) / float64(time.Hour)
			if rng.Float64()*tr.PeakPerHour <= tr.rate(h) {
				return
			}
		}
	}
	arrive()
	visits, reported := 0, 0
	nextSweep := epoch.UnixNano() + int64(tr.SweepEvery)
	nextTrim := epoch.UnixNano() + int64(AuditWindow)
	for visits < tr.Visits || len(events) > 0 {
		var ev simEvent
		newVisit := visits < tr.Visits && (len(events) == 0 || nextArrival <= events[0].at)
		if newVisit {
			ev = simEvent{at: nextArrival}
		} else {
			ev = events.pop()
		}
		now = time.Unix(0, ev.at).UTC()
		for ; nextSweep <= ev.at; nextSweep += int64(tr.SweepEvery) {
			for _, p := range pools {
				if _, err := p.alloc.Sweep(ctx, time.Unix(0, nextSweep)); err != nil {
					return nil, nil, 0, err
				}
			}
		}
		if ev.at >= nextTrim { // forget holds that ended before the audit window
			cut := now.Add(-AuditWindow)
			for _, p := range pools {
				// Holds arrive about in the order they end: drop the old
				// head; the few stragglers go in the final cut.
				i := 0
				for i < len(p.ended) && p.ended[i].Until.Before(cut) {
					i++
				}
				p.ended = append(p.ended[:0], p.ended[i:]...)
			}
			nextTrim = ev.at + int64(24*time.Hour)
		}
		if newVisit {
			visits++
			if visits-reported >= 2000 {
				report(visits - reported)
				reported = visits
				if err := ctx.Err(); err != nil {
					return nil, nil, 0, err
				}
			}
			li := pick(rng.Float64() >= tr.OtherShare)
			l := landings[li]
			src := classifier.Classify(classify.Visit{URL: l.url, Referrer: l.ref, Time: now})
			channels[src.Channel]++
			arrive()
			if src.Channel != classify.ChannelPaidSearch {
				continue // the pool serves Paid Search only; this visitor sees the business line
			}
			n := int32(len(dir.landing))
			dir.landing = append(dir.landing, uint8(li))
			dir.sources[uint8(li)] = src
			s := &sessionState{id: "s" + strconv.Itoa(int(n)), lastSeen: ev.at, leaveAt: ev.at + exp(tr.MeanSession), shown: make([]string, len(pools))}
			sessions[n] = s
			for i, p := range pools {
				l, err := p.alloc.Lease(ctx, poolName, s.id, now)
				if err != nil {
					return nil, nil, 0, err
				}
				p.row.PoolSessions++
				switch {
				case l.Outcome == pool.Reused:
					p.row.Reused++
				case !l.Outcome.Tracked():
					p.row.Untracked++
				}
				if l.Outcome.Tracked() {
					s.shown[i] = l.Number
				}
			}
			if !scheduleNext(&events, s, n, ev.at, tr, rng, exp) {
				delete(sessions, n)
			}
			continue
		}

		s := sessions[ev.session]
		if !ev.call {
			s.lastSeen = ev.at
			for i, p := range pools {
				l, err := p.alloc.Lease(ctx, poolName, s.id, now)
				if err != nil {
					return nil, nil, 0, err
				}
				if l.Outcome.Tracked() {
					s.shown[i] = l.Number
				}
			}
			if !scheduleNext(&events, s, ev.session, ev.at, tr, rng, exp) {
				delete(sessions, ev.session)
			}
			continue
		}
		inGrace := ev.at-s.lastSeen <= int64(window+grace)
		for i, p := range pools {
			number := s.shown[i]
			if number == "" {
				continue // saw the business line: not a tracked call
			}
			a, err := p.stitcher.Stitch(ctx, provider.CallEvent{Provider: "sim", CallID: s.id, To: number, StartedAt: now})
			if err != nil {
				return nil, nil, 0, err
			}
			right := a.SessionID == s.id
			p.row.Calls++
			p.row.ByConfidence[a.Confidence]++
			if right {
				p.row.RightBy[a.Confidence]++
			}
			if inGrace {
				p.row.InGrace++
				if right {
					p.row.Right++
				}
			}
		}
		delete(sessions, ev.session)
	}
	report(visits - reported)
	end := now
	rows := make([]Row, len(pools))
	for i, p := range pools {
		st, err := p.alloc.Stats(ctx, poolName, end)
		if err != nil {
			return nil, nil, 0, err
		}
		p.row.Stats = st
		cut := end.Add(-AuditWindow)
		p.ended = slices.DeleteFunc(p.ended, func(h pool.HoldRecord) bool { return h.From.Before(cut) })
		if p.row.Audit, err = pool.Audit(p.ended, pool.AuditOptions{Size: p.row.Size, Target: Target}); err != nil {
			return nil, nil, 0, err
		}
		rows[i] = p.row
	}
	return rows, channels, end.Sub(epoch).Hours() / 24, nil
}

// scheduleNext queues the session's next heartbeat while the visitor is
// on the site; once they leave, their call if they are a caller, else
// nothing. It reports whether anything was queued.
func scheduleNext(events *eventHeap, s *sessionState, n int32, at int64, tr Traffic, rng *rand.Rand, exp func(time.Duration) int64) bool {
	if next := at + int64(tr.Heartbeat); next <= s.leaveAt {
		events.push(simEvent{at: next, session: n})
		return true
	}
	if rng.Float64() < tr.CallerShare {
		events.push(simEvent{at: s.leaveAt + exp(tr.MeanCallDelay), session: n, call: true})
		return true
	}
	return false
}
