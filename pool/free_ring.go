package pool

import "sync/atomic"

// freeRing is a bounded lock-free FIFO of free number indexes (Dmitry
// Vyukov's MPMC queue). Each cell packs its sequence number and its value in
// one word, so a peeking reader sees a consistent pair without locks.
//
// Numbers enter in the order their holds ended, so the head is always the
// number of this ring that has been free longest.
type freeRing struct {
	_     cacheLinePad
	enq   atomic.Uint64
	_     cacheLinePad
	deq   atomic.Uint64
	_     cacheLinePad
	cells []atomic.Uint64
	mask  uint64
	_     cacheLinePad
}

type cacheLinePad [64]byte

const (
	cellValueBits = 22 // a number index; see maxNumbersPerPool
	cellValueMask = 1<<cellValueBits - 1
	cellSeqBits   = 64 - cellValueBits
	cellSeqMask   = 1<<cellSeqBits - 1
)

func newFreeRing(capacity int) *freeRing {
	size := 2
	for size < capacity {
		size <<= 1
	}
	r := &freeRing{cells: make([]atomic.Uint64, size), mask: uint64(size - 1)}
	for i := range r.cells {
		r.cells[i].Store(uint64(i) << cellValueBits)
	}
	return r
}

// seqDistance compares a cell's truncated sequence with a position, modulo
// the sequence width, as a signed distance.
func seqDistance(cell, pos uint64) int64 {
	d := (cell>>cellValueBits - pos) & cellSeqMask
	return int64(d<<cellValueBits) >> cellValueBits
}

// push appends idx; it reports false only when the ring is full.
func (r *freeRing) push(idx uint32) bool {
	for {
		pos := r.enq.Load()
		cell := &r.cells[pos&r.mask]
		c := cell.Load()
		switch d := seqDistance(c, pos); {
		case d == 0:
			if r.enq.CompareAndSwap(pos, pos+1) {
				cell.Store((pos+1)&cellSeqMask<<cellValueBits | uint64(idx))
				return true
			}
		case d < 0:
			return false
		}
	}
}

// head returns the oldest free number without removing it.
func (r *freeRing) head() (idx uint32, pos uint64, ok bool) {
	for {
		pos = r.deq.Load()
		c := r.cells[pos&r.mask].Load()
		switch d := seqDistance(c, pos+1); {
		case d == 0:
			return uint32(c & cellValueMask), pos, true
		case d < 0:
			return 0, 0, false
		}
	}
}

// popHead removes the head if it is still the element observed at pos.
func (r *freeRing) popHead(pos uint64) bool {
	if !r.deq.CompareAndSwap(pos, pos+1) {
		return false
	}
	r.cells[pos&r.mask].Store((pos + r.mask + 1) & cellSeqMask << cellValueBits)
	return true
}
