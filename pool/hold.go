package pool

import (
	"sync/atomic"
	"unsafe"
)

// holdSlot is one hold of a number by a session, kept in a per-number ring
// of Config.HistoryPerNumber slots indexed by the hold's generation. All
// fields are atomic words so readers never see a torn value:
//
//   - state: until (42 bits) | reused | live | generation (14 bits). It is
//     the hold's single point of change: renew, release and expiry are one
//     compare-and-swap each, so they are linearisable against one another.
//   - meta: from (42 bits) | session id length (14 bits) | generation (8 bits).
//   - session: the first byte of the session id string.
//
// A writer stores meta, then session, then state; a reader loads state, then
// session, then meta, and trusts the id only when meta's generation matches:
// a slot being rewritten for a later generation is then detected, not read.
type holdSlot struct {
	state   atomic.Uint64
	meta    atomic.Uint64
	session atomic.Pointer[byte]
}

const (
	genBits   = 14
	genMask   = 1<<genBits - 1
	liveBit   = 1 << genBits
	reuseBit  = 1 << (genBits + 1)
	timeShift = 64 - timeBits

	metaGenMask  = 0xff
	metaLenShift = 8
	metaLenMask  = 1<<14 - 1
)

func packHoldState(until uint64, gen uint32, live, reused bool) uint64 {
	s := until<<timeShift | uint64(gen&genMask)
	if live {
		s |= liveBit
	}
	if reused {
		s |= reuseBit
	}
	return s
}

func holdUntil(s uint64) uint64 { return s >> timeShift }
func holdGen(s uint64) uint32   { return uint32(s & genMask) }
func holdLive(s uint64) bool    { return s&liveBit != 0 }
func holdReused(s uint64) bool  { return s&reuseBit != 0 }
func withUntil(s, until uint64) uint64 {
	return s&(1<<timeShift-1) | until<<timeShift
}

// write publishes a new live hold in the slot; the caller owns the slot.
func (h *holdSlot) write(session string, gen uint32, from, until uint64, reused bool) {
	h.meta.Store(from<<timeShift | uint64(len(session))<<metaLenShift | uint64(gen&metaGenMask))
	h.session.Store(unsafe.StringData(session))
	h.state.Store(packHoldState(until, gen, true, reused))
}

// sessionOf returns the session id of the hold of generation gen, and false
// when the slot has been rewritten for another generation meanwhile.
func (h *holdSlot) sessionOf(gen uint32) (string, uint64, bool) {
	p := h.session.Load()
	m := h.meta.Load()
	if uint32(m&metaGenMask) != gen&metaGenMask || p == nil {
		return "", 0, false
	}
	return unsafe.String(p, int(m>>metaLenShift&metaLenMask)), m >> timeShift, true
}

// heldBy reports whether the hold of generation gen belongs to session.
func (h *holdSlot) heldBy(gen uint32, session string) bool {
	s, _, ok := h.sessionOf(gen)
	return ok && s == session
}
