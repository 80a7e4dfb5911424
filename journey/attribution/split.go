package attribution

import (
	"math"
	"sort"
)

// splitExact divides total into parts proportional to weights that sum to
// total exactly: each part gets the floor of its quota, and the units left
// over go to the largest fractional remainders, earlier index first on a
// tie (the largest-remainder, or Hamilton, method). Weights must be
// non-negative; when they are all zero the split is equal. Totals above
// 2^53 lose precision in the quotas but still sum exactly.
func splitExact(total int64, weights []float64, out []int64) {
	var s splitter
	s.split(total, weights, out)
}

// splitter keeps splitExact's scratch space between calls.
type splitter struct {
	fracs []float64
	order []int
}

func (s *splitter) split(total int64, weights []float64, out []int64) {
	n := len(weights)
	if n == 0 {
		return
	}
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	equal := sum <= 0
	if equal {
		sum = float64(n)
	}
	s.fracs = resetFloats(s.fracs, n)
	fracs := s.fracs
	var assigned int64
	for i, w := range weights {
		if equal {
			w = 1
		}
		q := float64(total) * (w / sum)
		f := math.Floor(q)
		// A quota a rounding error below a whole number is that number,
		// so that 0.4 × 100 gives 40, not 39 plus a remainder unit.
		if r := math.Round(q); r != f && r-q < 1e-9*math.Max(1, q) {
			f = r
		}
		out[i] = int64(f)
		fracs[i] = q - f
		assigned += out[i]
	}
	left := total - assigned
	if left == 0 {
		return
	}
	if cap(s.order) < n {
		s.order = make([]int, n)
	}
	order := s.order[:n]
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		fa, fb := fracs[order[a]], fracs[order[b]]
		if math.Abs(fa-fb) <= 1e-9 {
			return false // a tie keeps index order
		}
		return fa > fb
	})
	for k := 0; left > 0; k = (k + 1) % n {
		out[order[k]]++
		left--
	}
	for k := n - 1; left < 0; k = (k + n - 1) % n { // only after pathological rounding
		if out[order[k]] > 0 {
			out[order[k]]--
			left++
		}
	}
}

// splitEqual divides total into len(out) equal parts that sum exactly,
// the leftover units going to the earliest parts, as splitExact would.
func splitEqual(total int64, out []int64) {
	n := int64(len(out))
	base, left := total/n, total%n
	for i := range out {
		out[i] = base
		if int64(i) < left {
			out[i]++
		}
	}
}
