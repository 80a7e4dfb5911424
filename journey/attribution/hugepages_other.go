//go:build !linux

package attribution

// makeHuge makes a slice of length n and capacity c; only Linux is asked
// for huge pages.
func makeHuge[T any](n, c int) []T { return make([]T, n, max(c, n)) }
