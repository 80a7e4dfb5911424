package attribution

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestMakeHugeStartsOnAHugePageAdvisedAndZero(t *testing.T) {
	rows := makeHuge[pathRow](3, 200_000) // 6.4 MB
	require.Len(t, rows, 3)
	require.GreaterOrEqual(t, cap(rows), 200_000)
	start := uintptr(unsafe.Pointer(&rows[0]))
	require.Zero(t, start%hugePage, "a large array starts on a huge page")
	full := rows[:cap(rows)]
	for i := range full {
		require.Zero(t, full[i], "element %d", i)
	}
	full[len(full)-1].value = 7 // the whole capacity is the caller's
	if flags, ok := vmFlags(t, start); ok {
		require.Contains(t, flags, "hg", "the range is advised for huge pages")
	}

	small := makeHuge[int32](2, 10)
	require.Len(t, small, 2)
	require.Equal(t, 10, cap(small), "a small array is an ordinary one")
	require.Equal(t, 5, cap(makeHuge[int32](5, 1)), "the capacity is at least the length")
}

func TestReserveKeepsWhatWasRead(t *testing.T) {
	for _, huge := range []bool{false, true} {
		steps := []int32{4, 5, 6}
		got := reserve(steps, 2_000_000, huge) // 8 MB: past makeHuge's threshold
		require.Equal(t, []int32{4, 5, 6}, got)
		require.GreaterOrEqual(t, cap(got), 2_000_000)
		if huge {
			require.Zero(t, uintptr(unsafe.Pointer(&got[0]))%hugePage)
		}
		require.Same(t, &got[0], &reserve(got, 10, huge)[0], "room already there is kept")
	}
}

// vmFlags returns the VmFlags of the mapping holding addr, from
// /proc/self/smaps; false where the kernel has no transparent huge pages
// to advise.
func vmFlags(t *testing.T, addr uintptr) ([]string, bool) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		return nil, false
	}
	f, err := os.Open("/proc/self/smaps")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-"); ok && !strings.HasSuffix(line, ":") {
			from, err1 := strconv.ParseUint(lo, 16, 64)
			to, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= from && uint64(addr) < to
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Fields(line)[1:], true
		}
	}
	require.NoError(t, sc.Err())
	t.Fatalf("no mapping of %#x in /proc/self/smaps", addr)
	return nil, false
}
