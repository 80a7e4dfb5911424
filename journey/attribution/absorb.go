package attribution

import (
	"fmt"
	"math"
)

// chain is an absorbing Markov chain over transient states 0..n-1 (state 0
// is the start), with two absorbing states, conversion and null, kept
// implicit: row s holds the transitions to other transient states, and
// toConv[s] the probability of converting from s.
type chain struct {
	rowStart []int32
	cols     []int32
	probs    []float64
	toConv   []float64
	comps    [][]int32 // strongly connected components, successors first
	compOf   []int32
}

func (c *chain) size() int { return len(c.toConv) }

// Thresholds of the solver: components up to denseMax states are solved
// by Gaussian elimination; larger ones by Gauss–Seidel until no value
// moves by more than solveTol of the largest, within maxSweeps.
const (
	denseMax  = 256
	solveTol  = 1e-15
	maxSweeps = 100_000
)

// absorb returns, for every state, the expected reward collected before
// absorption when rhs[s] is collected on leaving s: with rhs = toConv it
// is the probability of ending in conversion. States marked removed lead
// straight to null (reward 0), which is how a channel is taken out.
// Components are solved successors first, so every value a component
// reads from outside it is already final.
func (c *chain) absorb(rhs []float64, removed []bool, x []float64) error {
	for _, comp := range c.comps {
		var err error
		switch {
		case len(comp) == 1:
			c.solveSingle(comp[0], rhs, removed, x)
		case len(comp) <= denseMax:
			c.solveDense(comp, rhs, removed, x)
		default:
			err = c.solveIterative(comp, rhs, removed, x)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *chain) solveSingle(s int32, rhs []float64, removed []bool, x []float64) {
	if removed != nil && removed[s] {
		x[s] = 0
		return
	}
	sum, self := rhs[s], 0.0
	for k := c.rowStart[s]; k < c.rowStart[s+1]; k++ {
		t := c.cols[k]
		if t == s {
			self += c.probs[k]
			continue
		}
		sum += c.probs[k] * x[t]
	}
	x[s] = sum / (1 - self)
}

// external is rhs[s] plus what s collects through states outside its
// component, whose values are final.
func (c *chain) external(s int32, rhs []float64, x []float64) float64 {
	sum := rhs[s]
	for k := c.rowStart[s]; k < c.rowStart[s+1]; k++ {
		if t := c.cols[k]; c.compOf[t] != c.compOf[s] {
			sum += c.probs[k] * x[t]
		}
	}
	return sum
}

func (c *chain) solveDense(comp []int32, rhs []float64, removed []bool, x []float64) {
	n := len(comp)
	local := make(map[int32]int, n)
	for i, s := range comp {
		local[s] = i
	}
	a := make([]float64, n*(n+1)) // row-major with the right-hand side last
	w := n + 1
	for i, s := range comp {
		a[i*w+i] = 1
		if removed != nil && removed[s] {
			continue
		}
		for k := c.rowStart[s]; k < c.rowStart[s+1]; k++ {
			if j, ok := local[c.cols[k]]; ok {
				a[i*w+j] -= c.probs[k]
			}
		}
		a[i*w+n] = c.external(s, rhs, x)
	}
	// Gaussian elimination with partial pivoting; I − Q is non-singular
	// because every state can reach an absorbing one.
	for col := 0; col < n; col++ {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r*w+col]) > math.Abs(a[p*w+col]) {
				p = r
			}
		}
		if p != col {
			for k := col; k <= n; k++ {
				a[col*w+k], a[p*w+k] = a[p*w+k], a[col*w+k]
			}
		}
		piv := a[col*w+col]
		for r := col + 1; r < n; r++ {
			f := a[r*w+col] / piv
			if f == 0 {
				continue
			}
			for k := col; k <= n; k++ {
				a[r*w+k] -= f * a[col*w+k]
			}
		}
	}
	for i := n - 1; i >= 0; i-- {
		sum := a[i*w+n]
		for k := i + 1; k < n; k++ {
			sum -= a[i*w+k] * x[comp[k]]
		}
		x[comp[i]] = sum / a[i*w+i]
	}
}

func (c *chain) solveIterative(comp []int32, rhs []float64, removed []bool, x []float64) error {
	ext := make([]float64, len(comp))
	self := make([]float64, len(comp))
	for i, s := range comp {
		x[s] = 0
		if removed != nil && removed[s] {
			continue
		}
		ext[i] = c.external(s, rhs, x)
		for k := c.rowStart[s]; k < c.rowStart[s+1]; k++ {
			if c.cols[k] == s {
				self[i] += c.probs[k]
			}
		}
	}
	for sweep := 0; sweep < maxSweeps; sweep++ {
		delta, largest := 0.0, 0.0
		for i, s := range comp {
			if removed != nil && removed[s] {
				continue
			}
			sum := ext[i]
			for k := c.rowStart[s]; k < c.rowStart[s+1]; k++ {
				t := c.cols[k]
				if t != s && c.compOf[t] == c.compOf[s] {
					sum += c.probs[k] * x[t]
				}
			}
			v := sum / (1 - self[i])
			delta = math.Max(delta, math.Abs(v-x[s]))
			largest = math.Max(largest, math.Abs(v))
			x[s] = v
		}
		if delta <= solveTol*largest {
			return nil
		}
	}
	return fmt.Errorf("%w after %d sweeps over %d states", ErrNotConverged, maxSweeps, len(comp))
}

// findComponents runs Tarjan's algorithm without recursion. Tarjan emits
// each component after every component it can reach, which is the order
// absorb needs.
func (c *chain) findComponents() {
	n := c.size()
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	c.compOf = make([]int32, n)
	c.comps = c.comps[:0]
	var stack []int32
	type frame struct {
		s    int32
		next int32 // next edge to look at
	}
	var calls []frame
	counter := int32(0)
	for root := int32(0); root < int32(n); root++ {
		if index[root] >= 0 {
			continue
		}
		calls = append(calls, frame{root, c.rowStart[root]})
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, root)
		onStack[root] = true
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			s := f.s
			if f.next < c.rowStart[s+1] {
				t := c.cols[f.next]
				f.next++
				if index[t] < 0 {
					index[t], low[t] = counter, counter
					counter++
					stack = append(stack, t)
					onStack[t] = true
					calls = append(calls, frame{t, c.rowStart[t]})
				} else if onStack[t] {
					low[s] = min(low[s], index[t])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				parent := calls[len(calls)-1].s
				low[parent] = min(low[parent], low[s])
			}
			if low[s] == index[s] {
				var comp []int32
				for {
					t := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[t] = false
					c.compOf[t] = int32(len(c.comps))
					comp = append(comp, t)
					if t == s {
						break
					}
				}
				c.comps = append(c.comps, comp)
			}
		}
	}
}
