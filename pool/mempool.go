package pool

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"
)

// memPool is one pool of the in-process allocator.
//
// Per number it keeps one state word and a ring of hold slots (see holdSlot).
// Free numbers wait in per-processor FIFO rings (released numbers) and one
// ring of numbers freed by expiry; live sessions are found through a
// lock-free sessionTable. Every step is a load or a compare-and-swap on one
// word, so no goroutine ever waits for another.
type memPool struct {
	info      *PoolInfo
	window    uint64 // session window, ms
	cooldown  uint64 // ms
	perNumber uint32 // hold slots per number, a power of two
	numbers   []numberSlot
	holds     []holdSlot
	shards    []*freeRing
	home      []uint8 // ring each number returns to when released
	expired   *freeRing
	table     *sessionTable
	onRecord  func(HoldRecord)

	_ cacheLinePad
	// nextExpiry is at most the earliest expiry of any live hold, so Lease
	// knows when a sweep may free a number; it is a hint, never too late.
	nextExpiry atomic.Uint64
	// Counters of the rare paths only: the common path shares no word.
	reuses, fallbacks, originals, coolingHandouts atomic.Uint64
	peak                                          atomic.Int64
	_                                             cacheLinePad
}

// numberSlot packs a number's state in one word: when its last hold ended
// (42 bits), how many live holds it has (8 bits) and the generation of its
// latest hold (14 bits). Slots are not padded: the eight numbers sharing a
// cache line share a home ring (see homeBlock), so they stay on one core.
type numberSlot struct {
	state atomic.Uint64
}

// homeBlock is how many consecutive numbers share a home ring: one cache
// line of number slots.
const homeBlock = 8

const (
	holdersShift = genBits
	holdersMask  = 0xff
)

func packNumber(freedAt uint64, holders, gen uint32) uint64 {
	return freedAt<<timeShift | uint64(holders&holdersMask)<<holdersShift | uint64(gen&genMask)
}
func numberFreedAt(st uint64) uint64 { return st >> timeShift }
func numberHolders(st uint64) uint32 { return uint32(st>>holdersShift) & holdersMask }
func numberGen(st uint64) uint32     { return uint32(st & genMask) }

func newMemPool(info *PoolInfo, perNumber, shards int, onRecord func(HoldRecord)) *memPool {
	n := len(info.Numbers)
	p := &memPool{
		info:      info,
		window:    durationCode(info.SessionWindow),
		cooldown:  durationCode(info.Cooldown),
		perNumber: uint32(perNumber),
		numbers:   alignedSlice[numberSlot](n),
		holds:     alignedSlice[holdSlot](n * perNumber),
		expired:   newFreeRing(2*n + 16),
		table:     newSessionTable(n),
		onRecord:  onRecord,
	}
	p.home = make([]uint8, n)
	perRing := make([]int, shards)
	for i := range n {
		p.home[i] = uint8(i / homeBlock % shards)
		perRing[p.home[i]]++
	}
	for s := range shards {
		p.shards = append(p.shards, newFreeRing(2*perRing[s]+16))
	}
	for i := range n {
		p.shards[p.home[i]].push(uint32(i))
	}
	p.nextExpiry.Store(math.MaxUint64)
	return p
}

// makeToken packs a number index and a hold generation; never zero.
func makeToken(idx, gen uint32) Token { return Token(uint64(idx+1)<<genBits | uint64(gen&genMask)) }

func (p *memPool) splitToken(t Token) (idx, gen uint32, ok bool) {
	n := uint64(t) >> genBits
	if n == 0 || n > uint64(len(p.numbers)) || uint64(t)>>tagShift != 0 {
		return 0, 0, false
	}
	return uint32(n - 1), uint32(t) & genMask, true
}

func (p *memPool) hold(idx, gen uint32) *holdSlot {
	return &p.holds[idx*p.perNumber+gen&(p.perNumber-1)]
}

func (p *memPool) homeShard() int {
	id := currentP()
	if id >= len(p.shards) {
		id %= len(p.shards)
	}
	return id
}

// grant is what a lease decided, in three words. The hot path passes grants
// and builds the Lease once, at the end: a Lease has five fields, so the
// compiler keeps it in memory and copies it at every return, and each copy
// read back 16 bytes written 8 at a time a moment before, which stalls on
// store forwarding (a sixth of a lease + release on one core, by perf).
type grant struct {
	tok   Token // zero for Fallback and Original
	until uint64
	o     Outcome
}

func (p *memPool) leaseOf(g grant) Lease {
	return Lease{Pool: p.info.Name, Number: p.numberOf(g), Token: g.tok, ExpiresAt: p.expiryOf(g), Outcome: g.o}
}

func (p *memPool) original() Lease {
	return Lease{Pool: p.info.Name, Number: p.info.BusinessNumber, Outcome: Original}
}

func (p *memPool) noteExpiry(until uint64) {
	for {
		cur := p.nextExpiry.Load()
		if until >= cur || p.nextExpiry.CompareAndSwap(cur, until) {
			return
		}
	}
}

// lease implements Allocator.Lease for a valid session id. It is small
// enough to be inlined into Memory.Lease, so the Lease is written once, in
// the caller's frame, and never copied (see grant).
func (p *memPool) lease(session string, now time.Time) (l Lease) {
	p.leaseInto(&l, session, now)
	return l
}

func (p *memPool) leaseInto(l *Lease, session string, now time.Time) {
	g := p.grantFor(session, encodeTime(now))
	// Field by field: a composite literal is built aside and copied.
	l.Pool = p.info.Name
	l.Number = p.numberOf(g)
	l.Token = g.tok
	l.ExpiresAt = p.expiryOf(g)
	l.Outcome = g.o
}

func (p *memPool) numberOf(g grant) string {
	switch g.o {
	case Assigned, Continued, Reused:
		return p.info.Numbers[uint32(uint64(g.tok)>>genBits)-1]
	case Fallback:
		return p.info.Fallback
	}
	return p.info.BusinessNumber
}

func (p *memPool) expiryOf(g grant) time.Time {
	if g.tok == 0 {
		return time.Time{}
	}
	return decodeTime(g.until)
}

func (p *memPool) grantFor(session string, nowc uint64) grant {
	h := p.table.hash(session)
	for {
		if tok, s, ok := p.findLive(h, session, nil); ok {
			idx, gen, _ := p.splitToken(tok)
			if holdUntil(s) < nowc { // expired: end it where it lapsed and start afresh
				p.endHold(idx, gen, s, nowc, byExpiry)
				continue
			}
			until := max(nowc+p.window, holdUntil(s))
			if until == holdUntil(s) || p.hold(idx, gen).state.CompareAndSwap(s, withUntil(s, until)) {
				return grant{tok, until, Continued}
			}
			continue
		}
		idx, ok := p.take(nowc)
		if !ok {
			if g, done := p.exhausted(h, session, nowc); done {
				return g
			}
			continue
		}
		tok, until := p.startHold(idx, session, nowc)
		if g, done := p.publish(h, session, tok, until, Assigned, nowc); done {
			return g
		}
	}
}

// startHold gives a number taken from a free list to session.
func (p *memPool) startHold(idx uint32, session string, now uint64) (Token, uint64) {
	slot := &p.numbers[idx]
	st := slot.state.Load() // free, so no one else writes it until we publish
	gen := (numberGen(st) + 1) & genMask
	until := now + p.window
	// Count the holder before the hold is visible, so that whoever ends the
	// hold (a sweep by a caller whose clock runs ahead) finds it counted.
	slot.state.Store(packNumber(numberFreedAt(st), 1, gen))
	p.hold(idx, gen).write(session, gen, now, until, false)
	p.noteExpiry(until)
	return makeToken(idx, gen), until
}

// How a hold ends: released by its session (at now), or expired (at its
// expiry, and only if it is still expired when the change lands: a renewal
// that slips in first wins).
const (
	byRelease = false
	byExpiry  = true
)

// endHold ends the hold (idx, gen), observed in state s, and frees its
// number when it was the last holder. It reports false when the hold had
// already ended or, for expiry, was renewed meanwhile.
func (p *memPool) endHold(idx, gen uint32, s, now uint64, expiry bool) bool {
	hs := p.hold(idx, gen)
	var endAt uint64
	for {
		if !holdLive(s) || holdGen(s) != gen {
			return false
		}
		endAt = now
		if expiry {
			if holdUntil(s) >= now {
				return false
			}
			endAt = holdUntil(s)
		}
		if hs.state.CompareAndSwap(s, withUntil(s, endAt)&^liveBit) {
			break
		}
		s = hs.state.Load()
	}
	slot := &p.numbers[idx]
	var left uint32
	for {
		st := slot.state.Load()
		left = numberHolders(st) - 1
		if slot.state.CompareAndSwap(st, packNumber(max(numberFreedAt(st), endAt), left, numberGen(st))) {
			break
		}
	}
	if left == 0 {
		p.free(idx, endAt < now)
	}
	if p.onRecord != nil {
		p.emit(idx, gen, endAt)
	}
	return true
}

// free returns a number to a free list: its home ring when released (a
// processor mostly leases from, and so releases to, its own ring, which
// keeps each ring's cache lines on one core), the expiry ring when its hold
// lapsed earlier, so that each ring stays ordered by when its numbers' holds
// ended.
//
// A ring can refuse a push while a consumer that claimed the cell a lap
// earlier has not yet marked it empty (it may have been preempted between
// its two steps). Rings have twice the room they need, so this is rare;
// the number then goes to another ring, which Lease scans as well.
func (p *memPool) free(idx uint32, byExpiry bool) {
	if byExpiry && p.expired.push(idx) {
		return
	}
	home := int(p.home[idx])
	for {
		for i := range len(p.shards) {
			r := home + i
			if r >= len(p.shards) {
				r -= len(p.shards)
			}
			if p.shards[r].push(idx) {
				return
			}
		}
		if p.expired.push(idx) {
			return
		}
		runtime.Gosched() // every ring is mid-pop: let the consumers finish
	}
}

// emit reports a hold to Config.OnRecord; until zero means it just started.
func (p *memPool) emit(idx, gen uint32, until uint64) {
	hs := p.hold(idx, gen)
	s := hs.state.Load()
	session, from, ok := hs.sessionOf(gen)
	if !ok {
		return
	}
	r := HoldRecord{
		Token: makeToken(idx, gen), Pool: p.info.Name, Number: p.info.Numbers[idx],
		SessionID: session, From: decodeTime(from), Reused: holdReused(s),
	}
	if until != 0 {
		r.Until = decodeTime(until)
	}
	p.onRecord(r)
}
