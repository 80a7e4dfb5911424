package attribution

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestMakeHugeStartsOnAHugePageAndIsZero(t *testing.T) {
	rows := makeHuge[pathRow](3, 200_000) // 6.4 MB
	require.Len(t, rows, 3)
	require.GreaterOrEqual(t, cap(rows), 200_000)
	require.Zero(t, uintptr(unsafe.Pointer(&rows[0]))%hugePage, "a large array starts on a huge page")
	full := rows[:cap(rows)]
	for i := range full {
		require.Zero(t, full[i], "element %d", i)
	}
	full[len(full)-1].value = 7 // the whole capacity is the caller's

	small := makeHuge[int32](2, 10)
	require.Len(t, small, 2)
	require.Equal(t, 10, cap(small), "a small array is an ordinary one")
}

func TestReserveKeepsWhatWasRead(t *testing.T) {
	steps := []int32{4, 5, 6}
	got := reserve(steps, 1_000_000)
	require.Equal(t, []int32{4, 5, 6}, got)
	require.GreaterOrEqual(t, cap(got), 1_000_000)
	require.Same(t, &got[0], &reserve(got, 10)[0], "room already there is kept")
}
