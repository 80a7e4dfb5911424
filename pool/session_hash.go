package pool

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// hashSession is a seeded multiply-mix hash in the style of wyhash, about
// three times cheaper than hash/maphash on session-id-sized strings. It only
// places sessions in the table: identity is always confirmed by comparing
// the session id itself, so a collision costs a probe, never a wrong answer,
// and the per-allocator random seed keeps collisions from being chosen.
func hashSession(seed uint64, s string) uint64 {
	const (
		k0 = 0xa0761d6478bd642f
		k1 = 0xe7037ed1a0b428db
	)
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	h := seed ^ k0
	for len(b) > 16 {
		h = mix(binary.LittleEndian.Uint64(b)^k1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	var a, c uint64
	switch n := len(b); {
	case n >= 8:
		a, c = binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		a, c = uint64(binary.LittleEndian.Uint32(b)), uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		a = uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
	}
	return mix(k1^uint64(len(s)), mix(a^k1, c^h))
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
