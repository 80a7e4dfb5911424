package attribution

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on the platforms Go
// runs Linux on (x86-64 and arm64 with 4 KiB pages).
const hugePage = 2 << 20

// makeHuge makes a slice of length n and capacity at least c whose array
// starts on a huge page and is advised to be backed by huge pages when
// first touched. Go leaves its heap to the system's default, which is
// mostly "only when asked"; for the large arrays of a set read from a
// file, faulting fresh memory in 4 KiB at a time costs more than reading
// the file. The array is over-allocated by two huge pages to align it:
// the part before the aligned start is never touched, so it costs
// address space, not memory.
func makeHuge[T any](n, c int) []T {
	var zero T
	size := unsafe.Sizeof(zero)
	if size == 0 || hugePage%size != 0 || uintptr(c)*size < 2*hugePage {
		return make([]T, n, c)
	}
	pad := int(2 * hugePage / size)
	all := make([]T, c+pad)
	base := uintptr(unsafe.Pointer(&all[0]))
	skip := int((-base & (hugePage - 1)) / size)
	end := (base + uintptr(len(all))*size) &^ (hugePage - 1)
	start := base + uintptr(skip)*size
	// Advice only: a kernel without huge pages refuses it, and the memory
	// works as before.
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(&all[skip])), end-start), 14 /* MADV_HUGEPAGE */)
	return all[skip : skip+n : len(all)]
}
