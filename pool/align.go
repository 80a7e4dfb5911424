package pool

import "unsafe"

// cacheLine is the unit of sharing between cores on the machines we target.
const cacheLine = 64

// alignedSlice returns a slice of n elements whose first element starts on a
// cache-line boundary, so the block-to-ring assignment (see homeBlock) really
// keeps each line on one core. Go's allocator only aligns small objects to
// their size class, and it never moves heap objects, so aligning once holds.
func alignedSlice[T any](n int) []T {
	const extra = cacheLine // enough for any element size to reach a boundary
	s := make([]T, n+extra)
	for i := range extra {
		if uintptr(unsafe.Pointer(&s[i]))%cacheLine == 0 {
			return s[i : i+n : i+n]
		}
	}
	return s[:n:n] // no element lands on a boundary (odd sizes): best effort
}
