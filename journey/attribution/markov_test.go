package attribution

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pathSet builds a path set from "A > B" strings with conversions, value
// and nulls.
func pathSet(t testing.TB, rows ...struct {
	path               string
	conv, value, nulls int64
}) *PathSet {
	t.Helper()
	s := NewPathSet()
	for _, r := range rows {
		require.NoError(t, s.Add(strings.Split(r.path, " > "), r.conv, r.value, r.nulls))
	}
	return s
}

type row = struct {
	path               string
	conv, value, nulls int64
}

func groupsOf(r *Result) (conv map[string]float64, value map[string]int64, score map[string]float64) {
	conv, value, score = map[string]float64{}, map[string]int64{}, map[string]float64{}
	for _, g := range r.Groups {
		conv[g.Key], value[g.Key], score[g.Key] = g.Conversions, g.Value, g.Score
	}
	return conv, value, score
}

// The three-path example of Sergey Bryl, "Marketing Multi-Channel
// Attribution model with R (part 1: Markov chains concept)",
// analyzecore.com, 2016-08-03, whose figures the markovattribution npm
// package transcribes in its tests: P(conv) = 1/3; removal effects
// C1 0.5, C2 1, C3 1; conversions 0.2, 0.4, 0.4; value 200, 400, 400.
func TestMarkovBrylExample(t *testing.T) {
	paths := pathSet(t,
		row{"C1 > C2 > C3", 1, 1000, 0},
		row{"C1", 0, 0, 1},
		row{"C2 > C3", 0, 0, 1},
	)
	mc, err := Markov{}.build(paths)
	require.NoError(t, err)
	p, effects, err := mc.removalEffects(mc.toConv)
	require.NoError(t, err)
	assert.InDelta(t, 1.0/3, p, 1e-15)
	assert.InDeltaSlice(t, []float64{0.5, 1, 1}, effects, 1e-15)

	r, err := Markov{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, score := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"C1": 0.2, "C2": 0.4, "C3": 0.4}, conv, 1e-12)
	assert.Equal(t, map[string]int64{"C1": 200, "C2": 400, "C3": 400}, value)
	assert.InDeltaMapValues(t, map[string]float64{"C1": 0.5, "C2": 1, "C3": 1}, score, 1e-12)

	// The same example at order 2 (states C1, C2, C1>C2, C2>C3): the
	// chain is a relabelling of order 1, so the answer is the same.
	r, err = Markov{Order: 2}.AttributePaths(paths)
	require.NoError(t, err)
	_, value, _ = groupsOf(r)
	assert.Equal(t, map[string]int64{"C1": 200, "C2": 400, "C3": 400}, value)
}

// Serhii Puzyrov, "Markov Chain Attribution – Simple Explanation of
// Removal Effect" (serhiipuzyrov.com, 2019-07): google ads 2 conversions,
// mailing 1, google ads > mailing 1, google ads 1 null. Its transition
// table: start→ads 0.8, start→mailing 0.2; ads→conv 0.5, ads→mailing 0.25,
// ads→null 0.25; mailing→conv 1. By hand: P(conv) = 0.8 × (0.5 + 0.25) +
// 0.2 = 0.8; without ads 0.2 (removal effect 0.75), without mailing
// 0.8 × 0.5 = 0.4 (0.5); shares 0.6 and 0.4 of 4 conversions: 2.4, 1.6.
func TestMarkovPuzyrovExample(t *testing.T) {
	paths := pathSet(t,
		row{"google ads", 2, 200, 1},
		row{"mailing", 1, 100, 0},
		row{"google ads > mailing", 1, 100, 0},
	)
	r, err := Markov{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, score := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"google ads": 2.4, "mailing": 1.6}, conv, 1e-12)
	assert.InDeltaMapValues(t, map[string]float64{"google ads": 0.75, "mailing": 0.5}, score, 1e-12)
	assert.Equal(t, map[string]int64{"google ads": 240, "mailing": 160}, value)
}

// Order matters: A > B converts and C > B does not. At order 1, B has one
// conversion rate whatever came before, so C looks as useful as A
// (removal effects A 0.5, C 0.5, B 1). At order 2 the states A>B and C>B
// differ: removing C changes nothing (effect 0), removing A or B loses
// every conversion.
func TestMarkovHigherOrderSeesContext(t *testing.T) {
	paths := pathSet(t, row{"A > B", 1, 100, 0}, row{"C > B", 0, 0, 1})
	r, err := Markov{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, _, score := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 0.5, "B": 1, "C": 0.5}, score, 1e-12)
	assert.InDeltaMapValues(t, map[string]float64{"A": 0.25, "B": 0.5, "C": 0.25}, conv, 1e-12)

	r, err = Markov{Order: 2}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, _ := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 0.5, "B": 0.5}, conv, 1e-12)
	assert.Equal(t, map[string]int64{"A": 50, "B": 50}, value)
	assert.Equal(t, "markov_order2", Markov{Order: 2}.Name())
}

// A cycle: A > B > A converts, B does not. Transitions: start→A 1/2,
// start→B 1/2; A→B 1/2, A→conv 1/2; B→A 1/2, B→null 1/2. Solving
// x_A = 1/2 + x_B/2, x_B = x_A/2 gives x_A = 2/3, x_B = 1/3, P = 1/2.
// Without A: 0 (effect 1); without B: x_A = 1/2, P = 1/4 (effect 1/2).
func TestMarkovCycle(t *testing.T) {
	paths := pathSet(t, row{"A > B > A", 1, 90, 0}, row{"B", 0, 0, 1})
	mc, err := Markov{}.build(paths)
	require.NoError(t, err)
	p, effects, err := mc.removalEffects(mc.toConv)
	require.NoError(t, err)
	assert.InDelta(t, 0.5, p, 1e-15)
	assert.InDeltaSlice(t, []float64{1, 0.5}, effects, 1e-15)
	r, err := Markov{}.AttributePaths(paths)
	require.NoError(t, err)
	_, value, _ := groupsOf(r)
	assert.Equal(t, map[string]int64{"A": 60, "B": 30}, value)
}

// Repeats: A > A > B. Collapsed (the default), A > B; kept, A has a
// self-loop: A→A 1/2, A→B 1/2, and still reaches B with certainty, so
// the removal effects are the same but the chain differs.
func TestMarkovRepeats(t *testing.T) {
	paths := pathSet(t, row{"A > A > B", 1, 10, 0}, row{"A", 0, 0, 1})
	collapsed, err := Markov{}.build(paths)
	require.NoError(t, err)
	kept, err := Markov{KeepRepeats: true}.build(paths)
	require.NoError(t, err)
	// state 1 is A: collapsed it goes to B once and to null once; kept,
	// it also returns to itself once.
	assert.Len(t, collapsed.cols, 2) // start→A, A→B
	assert.Len(t, kept.cols, 3)      // start→A, A→A, A→B
	for _, mc := range []*markovChain{collapsed, kept} {
		p, effects, err := mc.removalEffects(mc.toConv)
		require.NoError(t, err)
		// collapsed: A→B 1/2, B→conv 1: P = 1/2. kept: A→A 1/3, A→B 1/3,
		// A→null 1/3: P = (1/3)/(1 − 1/3) = 1/2.
		assert.InDelta(t, 0.5, p, 1e-15)
		assert.InDeltaSlice(t, []float64{1, 1}, effects, 1e-15)
	}
}

// Last-state value: A converts once for 100, B once for 300, A > B twice
// without converting. start→A 3/4, start→B 1/4; A→conv 1/3, A→B 2/3;
// B→conv 1/3, B→null 2/3. Conversions: P = 1/2; without A 1/12 (effect
// 5/6), without B 1/4 (effect 1/2): 5:3, so 250 and 150 of 400 by share.
// By last state: the mean value after A is 100, after B 300, so the
// expected value is 3/4 × (100/3 + 2/3 × 100) + 1/4 × 100 = 100; without
// A 25, without B 25: effects 3/4 each, 200 and 200.
func TestMarkovLastStateValue(t *testing.T) {
	paths := pathSet(t, row{"A", 1, 100, 0}, row{"B", 1, 300, 0}, row{"A > B", 0, 0, 2})
	r, err := Markov{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, _ := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 1.25, "B": 0.75}, conv, 1e-12)
	assert.Equal(t, map[string]int64{"A": 250, "B": 150}, value)

	r, err = Markov{ValueMethod: ValueByLastState}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, _ = groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 1.25, "B": 0.75}, conv, 1e-12)
	assert.Equal(t, map[string]int64{"A": 200, "B": 200}, value)
}

func TestMarkovJourneysSplitByRemovalEffect(t *testing.T) {
	// Bryl's example as journeys: the converting journey's 1000 splits
	// by removal effects 0.5 : 1 : 1.
	js := []Journey{
		converted("conv", 1000,
			tp("c1", journey.TouchSession, paid, 3*day), tp("c2", journey.TouchCall, email, 2*day), tp("c3", journey.TouchChat, organic, day)),
		open("lost1", tp("x", journey.TouchSession, paid, day)),
		open("lost2", tp("y", journey.TouchSession, email, 2*day), tp("z", journey.TouchSession, organic, day)),
	}
	r, err := Markov{}.Attribute(js, Options{})
	require.NoError(t, err)
	assert.Equal(t, []string{"c1=200", "c2=400", "c3=400"}, touchValues(r))
	assert.Equal(t, map[string]int64{"Paid Search": 200, "Email": 400, "Organic Search": 400}, values(r))
	assert.Equal(t, "USD", r.Currency)

	_, err = Markov{}.Attribute([]Journey{open("lost", tp("x", journey.TouchSession, paid, day))}, Options{})
	assert.ErrorIs(t, err, ErrNoConversions)
	_, err = Markov{Order: -1}.AttributePaths(pathSet(t, row{"A", 1, 1, 0}))
	assert.ErrorIs(t, err, ErrInvalidOptions)
}

// randomPaths makes n random paths over c channels, about 5 % converting.
func randomPaths(t testing.TB, rng *rand.Rand, n, c int) *PathSet {
	s := NewPathSet()
	names := make([]string, c)
	for i := range names {
		names[i] = string(rune('A'+i%26)) + strings.Repeat("x", i/26)
	}
	for range n {
		steps := make([]string, 1+rng.IntN(6))
		for k := range steps {
			steps[k] = names[rng.IntN(c)]
		}
		if rng.IntN(20) == 0 {
			require.NoError(t, s.Add(steps, 1, 1+rng.Int64N(1000), 0))
		} else {
			require.NoError(t, s.Add(steps, 0, 0, 1))
		}
	}
	return s
}

// reachConversion is an independent reference: push probability mass
// from the start through the chain until almost none is left in flight.
func reachConversion(mc *markovChain, removed []bool) float64 {
	mass := make([]float64, mc.size())
	next := make([]float64, mc.size())
	mass[0] = 1
	conv := 0.0
	for range 100_000 {
		clear(next)
		left := 0.0
		for s, m := range mass {
			if m == 0 || (removed != nil && removed[s]) {
				continue
			}
			conv += m * mc.toConv[s]
			for k := mc.rowStart[s]; k < mc.rowStart[s+1]; k++ {
				next[mc.cols[k]] += m * mc.probs[k]
				left += m * mc.probs[k]
			}
		}
		mass, next = next, mass
		if left < 1e-17 {
			break
		}
	}
	return conv
}

func TestMarkovSolveMatchesMassPropagation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ paths, channels, order int }{
		{300, 4, 1}, {2000, 8, 2}, {6000, 9, 3}, // order 3 over 9 channels has components above denseMax
	} {
		paths := randomPaths(t, rng, tc.paths, tc.channels)
		mc, err := Markov{Order: tc.order}.build(paths)
		require.NoError(t, err)
		largest := 0
		for _, c := range mc.comps {
			largest = max(largest, len(c))
		}
		if tc.order == 3 {
			require.Greater(t, largest, denseMax, "the iterative solver must be exercised")
		}
		p, effects, err := mc.removalEffects(mc.toConv)
		require.NoError(t, err)
		assert.InDelta(t, reachConversion(mc, nil), p, 1e-12)
		removed := make([]bool, mc.size())
		for ch, states := range mc.holds {
			clear(removed)
			for _, s := range states {
				removed[s] = true
			}
			want := 1 - reachConversion(mc, removed)/p
			assert.InDelta(t, want, effects[ch], 1e-9, "order %d channel %d", tc.order, ch)
		}
	}
}

func TestMarkovDenseAndIterativeAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mc, err := Markov{Order: 2}.build(randomPaths(t, rng, 3000, 12))
	require.NoError(t, err)
	var comp []int32
	for _, c := range mc.comps {
		if len(c) > len(comp) {
			comp = c
		}
	}
	require.Greater(t, len(comp), 50)
	dense := make([]float64, mc.size())
	iter := make([]float64, mc.size())
	require.NoError(t, mc.absorb(mc.toConv, nil, dense)) // fills every value the component reads
	copy(iter, dense)
	mc.solveDense(comp, mc.toConv, nil, dense)
	require.NoError(t, mc.solveIterative(comp, mc.toConv, nil, iter))
	for _, s := range comp {
		assert.InDelta(t, dense[s], iter[s], 1e-13)
	}
	assert.False(t, math.IsNaN(dense[0]))
}
