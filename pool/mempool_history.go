package pool

import (
	"slices"
	"time"
)

// holdView reads one hold slot consistently; ok is false for a slot never
// used or rewritten while being read.
func (p *memPool) holdView(idx uint32, j uint32) (r HoldRecord, live bool, until uint64, ok bool) {
	hs := &p.holds[idx*p.perNumber+j]
	for range 4 {
		s := hs.state.Load()
		if s == 0 {
			return r, false, 0, false
		}
		session, from, sok := hs.sessionOf(holdGen(s))
		if hs.state.Load() != s {
			continue // renewed or ended meanwhile: read again
		}
		if !sok {
			return r, false, 0, false
		}
		gen := holdGen(s)
		r = HoldRecord{
			Token: makeToken(idx, gen), Pool: p.info.Name, Number: p.info.Numbers[idx],
			SessionID: session, From: decodeTime(from), Until: decodeTime(holdUntil(s)), Reused: holdReused(s),
		}
		return r, holdLive(s), holdUntil(s), true
	}
	return r, false, 0, false
}

// holdersAt lists the holds of number idx overlapping [at-grace, at]. The
// scan is bounded by HistoryPerNumber, so it costs O(1) in the pool size and
// the length of the history.
func (p *memPool) holdersAt(idx uint32, at time.Time, grace time.Duration) []Holder {
	atc := encodeTime(at)
	lo := encodeTime(at.Add(-grace))
	var out []Holder
	for j := range p.perNumber {
		r, live, until, ok := p.holdView(idx, j)
		if !ok || encodeTime(r.From) > atc || until < lo {
			continue
		}
		out = append(out, Holder{
			Pool: r.Pool, Number: r.Number, SessionID: r.SessionID, From: r.From, Until: r.Until,
			Live: live && until >= atc, Reused: r.Reused,
		})
	}
	slices.SortFunc(out, func(a, b Holder) int { return a.From.Compare(b.From) })
	return out
}

// history returns every hold of the pool still in memory, oldest first; live
// holds carry their current expiry as Until.
func (p *memPool) history() []HoldRecord {
	var out []HoldRecord
	for i := range p.numbers {
		for j := range p.perNumber {
			if r, _, _, ok := p.holdView(uint32(i), j); ok {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b HoldRecord) int { return a.From.Compare(b.From) })
	return out
}
