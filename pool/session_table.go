package pool

import (
	"math/rand/v2"
	"sync/atomic"
)

// sessionTable maps live session ids to their lease tokens without locks. It
// is open addressing over buckets of one cache line: seven entry words and an
// overflow flag. An entry packs an 8-bit tag of the session's hash with the
// lease token; the hold it points to is the truth (live, generation, session
// id), so an entry whose hold has ended is simply free to overwrite and
// release never has to touch the table.
//
// Entries spill into the next bucket only when a bucket holds seven live
// leases; the flag tells lookups to keep probing.
type sessionTable struct {
	words      []atomic.Uint64
	bucketMask uint64
	seed       uint64
}

const (
	bucketWords      = 8
	entriesPerBucket = bucketWords - 1
	tagShift         = 56
	tokenMask        = 1<<tagShift - 1
)

func newSessionTable(liveCapacity int) *sessionTable {
	buckets := 64 // keeps unrelated sessions off each other's cache lines
	for buckets*entriesPerBucket < liveCapacity*2 {
		buckets <<= 1
	}
	return &sessionTable{
		words:      make([]atomic.Uint64, buckets*bucketWords),
		bucketMask: uint64(buckets - 1),
		seed:       rand.Uint64(),
	}
}

func (t *sessionTable) hash(session string) uint64 { return hashSession(t.seed, session) }

func entryTag(h uint64) uint64 { return h>>tagShift | 1 }

func makeEntry(h uint64, tok Token) uint64 { return entryTag(h)<<tagShift | uint64(tok) }

// bucket returns bucket b's words; indexing it with a constant bound lets
// the compiler drop the bounds check on every entry of a probe.
func (t *sessionTable) bucket(b uint64) *[bucketWords]atomic.Uint64 {
	return (*[bucketWords]atomic.Uint64)(t.words[b*bucketWords : b*bucketWords+bucketWords])
}

// overflowed reports whether inserts spilled past bucket b.
func (t *sessionTable) overflowed(b uint64) bool {
	return t.words[b*bucketWords+entriesPerBucket].Load() != 0
}

func (t *sessionTable) markOverflow(b uint64) {
	if !t.overflowed(b) {
		t.words[b*bucketWords+entriesPerBucket].Store(1)
	}
}
