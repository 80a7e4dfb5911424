package attribution

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on the platforms Go
// runs Linux on (x86-64 and arm64 with 4 KiB pages).
const hugePage = 2 << 20

// makeHuge makes a slice of length n and capacity at least c whose array
// starts on a huge page and is advised (MADV_HUGEPAGE) to be backed by
// huge pages when first touched: Go leaves its heap to the system's
// default, which is mostly "only when asked". The array is over-allocated
// by two huge pages to align it. Fresh memory from the system is not
// cleared by Go, so the padding before the aligned start is never
// touched; it still counts towards the collector's heap goal. Arrays
// below two huge pages, and elements whose size does not divide a huge
// page, get an ordinary make.
func makeHuge[T any](n, c int) []T {
	var zero T
	size := unsafe.Sizeof(zero)
	c = max(c, n)
	if size == 0 || hugePage%size != 0 || uintptr(c)*size < 2*hugePage {
		return make([]T, n, c)
	}
	pad := int(2 * hugePage / size)
	all := make([]T, c+pad)
	base := uintptr(unsafe.Pointer(&all[0]))
	gap := -base & (hugePage - 1)
	if gap%size != 0 { // Go aligns large arrays to 8 KiB, not to a larger element
		return all[:n:c]
	}
	skip := int(gap / size)
	end := (base + uintptr(len(all))*size) &^ (hugePage - 1)
	start := base + gap
	// Advice only: a kernel without huge pages refuses it, and the memory
	// works as before.
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(&all[skip])), end-start), syscall.MADV_HUGEPAGE)
	return all[skip : skip+n : len(all)]
}
