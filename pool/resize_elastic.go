package pool

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Elastic is an in-process [Allocator] whose pools grow and shrink at run
// time: it implements [Resizer], which pool/autoscale drives. It keeps the
// Allocator contract with exact least-recently-used order, behind one mutex.
//
// It exists beside [Memory] because Memory's lock-free design fixes
// membership when it is built: each number is an index into arrays sized
// once (number state words, hold slots, home rings; the token packs the
// index), the free rings are FIFO queues ordered by release time that
// cannot drop a number from their middle, and the number's state word
// spends all 64 bits (42 time, 8 holders, 14 generation) with none left to
// mark a drain that Lease would have to honour. Growing means a new set of
// arrays and moving live holds across while Lease, Renew and Release run
// with no lock; draining means a mark every ring pop checks. Both change
// Memory's hot path; Elastic gives the same contract at the cost of a
// lock: a new lease is O(log numbers) (free numbers wait in a heap ordered
// by when their last hold ended), a reuse under exhaustion O(numbers).
// BenchmarkElasticLeaseRelease measures it beside BenchmarkLeaseRelease.
//
// OnRecord is called after the lock is released, so it may call back into
// the allocator.
type Elastic struct {
	catalog  *Catalog // settings, dedicated and fallback numbers; not membership
	history  int
	onRecord func(HoldRecord)

	mu      sync.Mutex
	pools   map[string]*elasticPool
	numbers map[string]*elasticNumber // every member of every pool, draining ones too
	token   Token                     // the last token issued; tokens are never reused
	pending []HoldRecord              // OnRecord calls to make once unlocked
}

type elasticPool struct {
	info    *PoolInfo
	members []*elasticNumber // in the order they joined
	// free holds the leasable numbers with no live hold, the one freed
	// longest ago first, so a new lease costs O(log numbers).
	free     freeHeap
	joined   uint64                  // numbers that ever joined: breaks ties in free
	sessions map[string]*elasticHold // each session's live hold
	// nextExpiry is at most the earliest expiry of a live hold, so a new
	// lease sweeps only when something may have expired.
	nextExpiry                                    time.Time
	liveHolds                                     int
	peak                                          int
	reuses, fallbacks, originals, coolingHandouts uint64
}

type elasticNumber struct {
	number   string
	pool     *elasticPool
	draining bool
	seq      uint64         // join order
	heapAt   int            // index in pool.free; -1 when not there
	freedAt  time.Time      // when its last hold ended; zero if never held here
	holds    []*elasticHold // the last HistoryPerNumber holds, oldest first
	live     int
}

type elasticHold struct {
	token       Token
	session     string
	number      *elasticNumber
	from, until time.Time
	live        bool
	reused      bool
}

var (
	_ Allocator = (*Elastic)(nil)
	_ Resizer   = (*Elastic)(nil)
)

// NewElastic validates cfg as [New] does and builds a resizable allocator
// whose pools start with cfg's numbers, free and out of cooldown.
func NewElastic(cfg Config) (*Elastic, error) {
	cat, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	e := &Elastic{catalog: cat, history: cat.historyPerNumber, onRecord: cfg.OnRecord,
		pools: map[string]*elasticPool{}, numbers: map[string]*elasticNumber{}}
	for _, name := range cat.order {
		info := cat.pools[name]
		p := &elasticPool{info: info, sessions: map[string]*elasticHold{}}
		for _, n := range info.Numbers {
			e.numbers[n] = p.join(n)
		}
		e.pools[name] = p
	}
	return e, nil
}

// Catalog returns the configuration the allocator was built with; pool
// membership is what [Elastic.Numbers] and [Elastic.Number] report.
func (e *Elastic) Catalog() *Catalog { return e.catalog }

// unlock releases the lock, then reports the holds that started or ended.
func (e *Elastic) unlock() {
	recs := e.pending
	e.pending = nil
	e.mu.Unlock()
	for _, r := range recs {
		e.onRecord(r)
	}
}

func (e *Elastic) record(h *elasticHold, ended bool) {
	if e.onRecord == nil {
		return
	}
	r := HoldRecord{Token: h.token, Pool: h.number.pool.info.Name, Number: h.number.number,
		SessionID: h.session, From: h.from, Reused: h.reused}
	if ended {
		r.Until = h.until
	}
	e.pending = append(e.pending, r)
}

func (e *Elastic) pool(name string) (*elasticPool, error) {
	if p, ok := e.pools[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownPool, name)
}

// member finds a number of any pool, in any spelling ParseNumber accepts.
func (e *Elastic) member(number string) *elasticNumber {
	if n, ok := e.numbers[number]; ok {
		return n
	}
	if canonical, reason := checkNumber(number); reason == "" {
		return e.numbers[canonical]
	}
	return nil
}

// Number finds the pool a number belongs to now (draining numbers
// included); Index is its place in the pool's current membership. A pool's
// fallback number is reported as the catalog does.
func (e *Elastic) Number(number string) (NumberInfo, bool) {
	e.mu.Lock()
	defer e.unlock()
	if n := e.member(number); n != nil {
		return NumberInfo{Number: n.number, Pool: n.pool.info.Name, Index: slices.Index(n.pool.members, n)}, true
	}
	if info, ok := e.catalog.Number(number); ok && info.Fallback {
		return info, true
	}
	return NumberInfo{}, false
}

// Numbers lists the pool's leasable numbers (draining ones excluded) in the
// order they joined.
func (e *Elastic) Numbers(pool string) ([]string, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range p.members {
		if !n.draining {
			out = append(out, n.number)
		}
	}
	return out, nil
}

func leaseOf(h *elasticHold, o Outcome) Lease {
	return Lease{Pool: h.number.pool.info.Name, Number: h.number.number, Token: h.token, ExpiresAt: h.until, Outcome: o}
}

func (p *elasticPool) original() Lease {
	return Lease{Pool: p.info.Name, Number: p.info.BusinessNumber, Outcome: Original}
}

// Lease implements [Allocator.Lease].
func (e *Elastic) Lease(_ context.Context, pool, sessionID string, now time.Time) (Lease, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return Lease{}, err
	}
	if len(sessionID) == 0 || len(sessionID) > MaxSessionIDLen {
		return p.original(), fmt.Errorf("%w: length %d", ErrInvalidSession, len(sessionID))
	}
	if h := p.sessions[sessionID]; h != nil {
		if !h.until.Before(now) {
			h.until = maxTime(h.until, now.Add(p.info.SessionWindow))
			return leaseOf(h, Continued), nil
		}
		e.end(h, h.until) // lapsed: end it where it expired and start afresh
	}
	if !p.nextExpiry.IsZero() && p.nextExpiry.Before(now) {
		e.sweepPool(p, now)
	}
	if n, cooling := p.pick(now); n != nil {
		if cooling {
			p.coolingHandouts++
		}
		return leaseOf(e.start(n, sessionID, now, false), Assigned), nil
	}
	return e.exhausted(p, sessionID, now), nil
}

// pick returns the leasable free number whose last hold ended longest ago,
// and whether it is still inside its cooldown (then no number is out of
// it). Ties go to the number that joined first.
func (p *elasticPool) pick(now time.Time) (best *elasticNumber, cooling bool) {
	if len(p.free) == 0 {
		return nil, false
	}
	best = p.free[0]
	return best, now.Before(best.freedAt.Add(p.info.Cooldown)) && !best.freedAt.IsZero()
}

// join adds a new member, free and out of cooldown.
func (p *elasticPool) join(number string) *elasticNumber {
	n := &elasticNumber{number: number, pool: p, seq: p.joined, heapAt: -1}
	p.joined++
	p.members = append(p.members, n)
	heap.Push(&p.free, n)
	return n
}

// unfree takes n off the free heap if it is there.
func (p *elasticPool) unfree(n *elasticNumber) {
	if n.heapAt >= 0 {
		heap.Remove(&p.free, n.heapAt)
	}
}

// freeHeap orders free numbers by when their last hold ended, then by when
// they joined.
type freeHeap []*elasticNumber

func (h freeHeap) Len() int { return len(h) }
func (h freeHeap) Less(i, j int) bool {
	if !h[i].freedAt.Equal(h[j].freedAt) {
		return h[i].freedAt.Before(h[j].freedAt)
	}
	return h[i].seq < h[j].seq
}
func (h freeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapAt, h[j].heapAt = i, j
}
func (h *freeHeap) Push(x any) {
	n := x.(*elasticNumber)
	n.heapAt = len(*h)
	*h = append(*h, n)
}
func (h *freeHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	n.heapAt = -1
	return n
}

func (e *Elastic) start(n *elasticNumber, session string, now time.Time, reused bool) *elasticHold {
	p := n.pool
	e.token++
	h := &elasticHold{token: e.token, session: session, number: n, from: now,
		until: now.Add(p.info.SessionWindow), live: true, reused: reused}
	if len(n.holds) >= e.history {
		n.holds = slices.Delete(n.holds, 0, 1)
	}
	n.holds = append(n.holds, h)
	if n.live == 0 {
		p.unfree(n)
	}
	n.live++
	p.sessions[session] = h
	p.liveHolds++
	p.peak = max(p.peak, p.liveHolds)
	if p.nextExpiry.IsZero() || h.until.Before(p.nextExpiry) {
		p.nextExpiry = h.until
	}
	e.record(h, false)
	return h
}

// end ends a live hold at at (its release, or its expiry).
func (e *Elastic) end(h *elasticHold, at time.Time) {
	p := h.number.pool
	h.live = false
	h.until = at
	if p.sessions[h.session] == h {
		delete(p.sessions, h.session)
	}
	n := h.number
	n.live--
	n.freedAt = maxTime(n.freedAt, at)
	if n.live == 0 && !n.draining {
		heap.Push(&p.free, n)
	}
	p.liveHolds--
	e.record(h, true)
}

// sweepPool ends the pool's holds expired at now and returns how many.
func (e *Elastic) sweepPool(p *elasticPool, now time.Time) int {
	ended := 0
	var next time.Time
	for _, h := range p.sessions {
		if h.until.Before(now) {
			e.end(h, h.until)
			ended++
		} else if next.IsZero() || h.until.Before(next) {
			next = h.until
		}
	}
	p.nextExpiry = next
	return ended
}

// exhausted applies the pool's policy when no leasable number is free.
func (e *Elastic) exhausted(p *elasticPool, session string, now time.Time) Lease {
	if p.info.Exhaustion == ReuseLeastRecent {
		var best *elasticNumber
		var bestActivity time.Time
		for _, n := range p.members {
			// The new hold must not push a live one out of the history.
			if n.draining || n.live == 0 || n.live >= e.history-1 || (len(n.holds) >= e.history && n.holds[0].live) {
				continue
			}
			var activity time.Time
			for _, h := range n.holds {
				if h.live {
					activity = maxTime(activity, h.until)
				}
			}
			if best == nil || activity.Before(bestActivity) {
				best, bestActivity = n, activity
			}
		}
		if best != nil {
			p.reuses++
			return leaseOf(e.start(best, session, now, true), Reused)
		}
	}
	if p.info.Fallback != "" && p.info.Exhaustion != ServeOriginal {
		p.fallbacks++
		return Lease{Pool: p.info.Name, Number: p.info.Fallback, Outcome: Fallback}
	}
	p.originals++
	return p.original()
}

// liveHold returns the session's live hold named by token, ending it first
// if it has lapsed (then the lease is stale).
func (e *Elastic) liveHold(p *elasticPool, session string, token Token, now time.Time) (*elasticHold, error) {
	h := p.sessions[session]
	if h == nil || h.token != token {
		return nil, fmt.Errorf("%w: pool %q: session %q", ErrStaleLease, p.info.Name, session)
	}
	if h.until.Before(now) {
		e.end(h, h.until)
		return nil, fmt.Errorf("%w: pool %q: session %q: expired", ErrStaleLease, p.info.Name, session)
	}
	return h, nil
}

// Renew implements [Allocator.Renew].
func (e *Elastic) Renew(_ context.Context, pool, sessionID string, token Token, now time.Time) (Lease, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return Lease{}, err
	}
	h, err := e.liveHold(p, sessionID, token, now)
	if err != nil {
		return Lease{}, err
	}
	h.until = maxTime(h.until, now.Add(p.info.SessionWindow))
	return leaseOf(h, Continued), nil
}

// Release implements [Allocator.Release].
func (e *Elastic) Release(_ context.Context, pool, sessionID string, token Token, now time.Time) error {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return err
	}
	h, err := e.liveHold(p, sessionID, token, now)
	if err != nil {
		return err
	}
	e.end(h, now)
	return nil
}

// HoldersAt implements [Allocator.HoldersAt] from the holds kept in memory
// (the last Config.HistoryPerNumber of each number), draining numbers
// included. A dedicated or fallback number has no holders; a number no pool
// has (a removed one among them) gives [ErrUnknownNumber].
func (e *Elastic) HoldersAt(_ context.Context, number string, at time.Time, grace time.Duration) ([]Holder, error) {
	e.mu.Lock()
	defer e.unlock()
	n := e.member(number)
	if n == nil {
		if _, dedicated := e.catalog.Dedicated(number); dedicated {
			return nil, nil
		}
		if info, ok := e.catalog.Number(number); ok && info.Fallback {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownNumber, number)
	}
	lo := at.Add(-grace)
	var out []Holder
	for _, h := range n.holds {
		if h.from.After(at) || h.until.Before(lo) {
			continue
		}
		out = append(out, Holder{Pool: n.pool.info.Name, Number: n.number, SessionID: h.session,
			From: h.from, Until: h.until, Live: h.live && !h.until.Before(at), Reused: h.reused})
	}
	slices.SortStableFunc(out, func(a, b Holder) int { return a.From.Compare(b.From) })
	return out, nil
}

// Sweep implements [Allocator.Sweep].
func (e *Elastic) Sweep(_ context.Context, now time.Time) (int, error) {
	e.mu.Lock()
	defer e.unlock()
	ended := 0
	for _, name := range e.catalog.order {
		ended += e.sweepPool(e.pools[name], now)
	}
	return ended, nil
}

// Stats implements [Allocator.Stats]. Size, Leased, Free and Cooling count
// leasable numbers only; Holds counts draining numbers' live holds too.
func (e *Elastic) Stats(_ context.Context, pool string, now time.Time) (Stats, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	var history []HoldRecord
	for _, n := range p.members {
		holds, lastEnd := 0, n.freedAt
		for _, h := range n.holds {
			history = append(history, h.recordAt())
			switch {
			case !h.live:
			case !h.until.Before(now):
				holds++
			default: // expired, not yet swept
				lastEnd = maxTime(lastEnd, h.until)
			}
		}
		st.Holds += holds
		if n.draining {
			continue
		}
		st.Size++
		switch {
		case holds > 0:
			st.Leased++
		case !lastEnd.IsZero() && now.Before(lastEnd.Add(p.info.Cooldown)):
			st.Cooling++
		default:
			st.Free++
		}
	}
	p.peak = max(p.peak, st.Holds, peakOverlap(history))
	st.Reuses, st.Fallbacks, st.Originals, st.CoolingHandouts = p.reuses, p.fallbacks, p.originals, p.coolingHandouts
	st.PeakConcurrency = p.peak
	if st.Size > 0 {
		st.Utilisation = float64(st.Leased) / float64(st.Size)
	}
	return st, nil
}

func (h *elasticHold) recordAt() HoldRecord {
	return HoldRecord{Token: h.token, Pool: h.number.pool.info.Name, Number: h.number.number,
		SessionID: h.session, From: h.from, Until: h.until, Reused: h.reused}
}

// Holds returns every hold of the named pool still in memory (the last
// Config.HistoryPerNumber per number, draining numbers included), oldest
// first, for [Audit] or export. Live holds carry their current expiry as
// Until.
func (e *Elastic) Holds(pool string) ([]HoldRecord, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return nil, err
	}
	var out []HoldRecord
	for _, n := range p.members {
		for _, h := range n.holds {
			out = append(out, h.recordAt())
		}
	}
	slices.SortStableFunc(out, func(a, b HoldRecord) int { return a.From.Compare(b.From) })
	return out, nil
}

// AddNumbers implements [Resizer.AddNumbers]. Every number is checked
// before any is added; the error joins one problem per refused number,
// each naming it by its place in numbers.
func (e *Elastic) AddNumbers(_ context.Context, pool string, numbers ...string) error {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return err
	}
	canon := make([]string, 0, len(numbers))
	var errs []error
	for i, raw := range numbers {
		c, reason := checkNumber(raw)
		switch {
		case reason != "":
			errs = append(errs, fmt.Errorf("%w: numbers[%d] %q: %s", ErrInvalidNumber, i, raw, reason))
			continue
		case e.numbers[c] != nil && e.numbers[c].pool != p:
			errs = append(errs, fmt.Errorf("%w: numbers[%d] %q: in pool %q", ErrNumberElsewhere, i, raw, e.numbers[c].pool.info.Name))
			continue
		}
		if _, dedicated := e.catalog.Dedicated(c); dedicated {
			errs = append(errs, fmt.Errorf("%w: numbers[%d] %q: a dedicated number", ErrNumberElsewhere, i, raw))
			continue
		}
		if e.isFixed(c) {
			errs = append(errs, fmt.Errorf("%w: numbers[%d] %q: a fallback or business number", ErrNumberElsewhere, i, raw))
			continue
		}
		canon = append(canon, c)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, c := range canon {
		if n := e.numbers[c]; n != nil {
			if n.draining && n.live == 0 {
				heap.Push(&p.free, n)
			}
			n.draining = false // back in service, or already there
			continue
		}
		e.numbers[c] = p.join(c)
	}
	return nil
}

// isFixed reports whether number is some pool's fallback or business line.
func (e *Elastic) isFixed(number string) bool {
	for _, info := range e.catalog.pools {
		if info.Fallback == number || info.BusinessNumber == number {
			return true
		}
	}
	return false
}

// Drain implements [Resizer.Drain]. A number the pool does not have gives
// [ErrUnknownNumber].
func (e *Elastic) Drain(_ context.Context, pool, number string, now time.Time) (DrainState, error) {
	e.mu.Lock()
	defer e.unlock()
	n, err := e.memberOf(pool, number)
	if err != nil {
		return DrainState{}, err
	}
	if n == nil {
		return DrainState{}, fmt.Errorf("%w: %q in pool %q", ErrUnknownNumber, number, pool)
	}
	n.draining = true
	n.pool.unfree(n)
	return e.drainState(n, now), nil
}

func (e *Elastic) memberOf(pool, number string) (*elasticNumber, error) {
	p, err := e.pool(pool)
	if err != nil {
		return nil, err
	}
	if n := e.member(number); n != nil && n.pool == p {
		return n, nil
	}
	return nil, nil
}

// drainState ends the number's expired holds and reports where it stands.
func (e *Elastic) drainState(n *elasticNumber, now time.Time) DrainState {
	for _, h := range slices.Clone(n.holds) {
		if h.live && h.until.Before(now) {
			e.end(h, h.until)
		}
	}
	st := DrainState{Number: n.number, Holds: n.live}
	if n.live == 0 {
		if !n.freedAt.IsZero() {
			st.CoolsAt = n.freedAt.Add(n.pool.info.Cooldown)
		}
		st.Done = !now.Before(st.CoolsAt)
	}
	return st
}

// Draining implements [Resizer.Draining].
func (e *Elastic) Draining(_ context.Context, pool string) ([]string, error) {
	e.mu.Lock()
	defer e.unlock()
	p, err := e.pool(pool)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range p.members {
		if n.draining {
			out = append(out, n.number)
		}
	}
	return out, nil
}

// Remove implements [Resizer.Remove]. Removing a number the pool leases
// without draining it first gives [ErrStillDraining] too.
func (e *Elastic) Remove(_ context.Context, pool, number string, now time.Time) error {
	e.mu.Lock()
	defer e.unlock()
	n, err := e.memberOf(pool, number)
	if err != nil || n == nil {
		return err
	}
	if !n.draining {
		return fmt.Errorf("%w: %q in pool %q: not draining", ErrStillDraining, n.number, pool)
	}
	if st := e.drainState(n, now); !st.Done {
		if st.Holds > 0 {
			return fmt.Errorf("%w: %q in pool %q: %d live holds", ErrStillDraining, n.number, pool, st.Holds)
		}
		return fmt.Errorf("%w: %q in pool %q: cooling until %s", ErrStillDraining, n.number, pool, st.CoolsAt.Format(time.RFC3339))
	}
	p := n.pool
	p.members = slices.DeleteFunc(p.members, func(m *elasticNumber) bool { return m == n })
	delete(e.numbers, n.number)
	return nil
}
