package pool

import (
	"testing"
	"unsafe"
)

func TestAlignedSliceStartsOnACacheLine(t *testing.T) {
	for n := 1; n < 40; n++ {
		nums := alignedSlice[numberSlot](n)
		holds := alignedSlice[holdSlot](n * 8)
		if len(nums) != n || len(holds) != n*8 {
			t.Fatalf("lengths %d, %d for n=%d", len(nums), len(holds), n)
		}
		for _, p := range []uintptr{uintptr(unsafe.Pointer(&nums[0])), uintptr(unsafe.Pointer(&holds[0]))} {
			if p%cacheLine != 0 {
				t.Fatalf("n=%d: %#x is not on a %d-byte boundary", n, p, cacheLine)
			}
		}
	}
}
