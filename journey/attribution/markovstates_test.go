package attribution

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stateName names a state by its channels, "A>B"; the start is (start).
func stateName(paths *PathSet, mc *markovChain, s int32) string {
	base := uint64(len(paths.channels) + 1)
	var names []string
	for c := mc.codes[s]; c > 0; c /= base {
		names = append([]string{paths.channels[c%base-1]}, names...)
	}
	if len(names) == 0 {
		return "(start)"
	}
	return strings.Join(names, ">")
}

// transitions lists the chain as "from → to": probability, with
// (conversion) and (null) for the absorbing states.
func transitions(paths *PathSet, mc *markovChain) map[string]float64 {
	out := map[string]float64{}
	for s := range int32(mc.size()) {
		from := stateName(paths, mc, s)
		left := 1.0
		for k := mc.rowStart[s]; k < mc.rowStart[s+1]; k++ {
			out[from+" → "+stateName(paths, mc, mc.cols[k])] = mc.probs[k]
			left -= mc.probs[k]
		}
		if mc.toConv[s] > 0 {
			out[from+" → (conversion)"] = mc.toConv[s]
			left -= mc.toConv[s]
		}
		if left > 1e-12 {
			out[from+" → (null)"] = left
		}
	}
	return out
}

// The worked examples below are computed by hand. Each lists the
// transition counts of ChannelAttribution's chain (markov_model in its
// functions.cpp: windows of k channels of the path as given, identical
// consecutive windows merged), the probabilities they give, P(conv) from
// the start, and each channel's removal effect 1 − P(conv without it) /
// P(conv). The credit is conversions and value in proportion to the
// removal effects. The other definitions are checked against the same
// answer, or against their own where it differs.
func TestMarkovStateDefinitions(t *testing.T) {
	type variant struct {
		m           Markov
		transitions map[string]float64 // nil: not checked
		effects     map[string]float64
		conv        map[string]float64
		value       map[string]int64
	}
	tests := []struct {
		name     string
		rows     []row
		p        float64 // P(conv)
		variants []variant
	}{
		{
			// Order 1 without repeats: Bryl's example (TestMarkovBrylExample).
			// Counts: start→C1 2, start→C2 1; C1→C2 1, C1→null 1; C2→C3 2;
			// C3→conv 1, C3→null 1. From C3 1/2, C2 1/2, C1 1/4; P(conv) =
			// 2/3 × 1/4 + 1/3 × 1/2 = 1/3. Without C1: 1/3 × 1/2 = 1/6,
			// effect 1/2; without C2 or C3: 0, effect 1. Shares 1 : 2 : 2.
			name: "order 1 without repeats",
			rows: []row{{"C1 > C2 > C3", 1, 1000, 0}, {"C1", 0, 0, 1}, {"C2 > C3", 0, 0, 1}},
			p:    1.0 / 3,
			variants: []variant{
				{m: Markov{States: StatesChannelAttribution}, transitions: map[string]float64{
					"(start) → C1": 2.0 / 3, "(start) → C2": 1.0 / 3,
					"C1 → C2": 0.5, "C1 → (null)": 0.5, "C2 → C3": 1,
					"C3 → (conversion)": 0.5, "C3 → (null)": 0.5,
				}},
				{m: Markov{}},
			},
		},
		{
			// Order 1 with repeats: A > A > B converts once for 300 and once
			// not; B > A converts for 400; A does not. Repeats merged,
			// counts: start→A 3, start→B 1; A→B 2, A→conv 1, A→null 1;
			// B→A 1, B→conv 1, B→null 1. So x_A = 1/4 + x_B/2 and x_B =
			// 1/3 + x_A/3: x_A = x_B = 1/2, P(conv) = 1/2. Without A: x_B =
			// 1/3, P = 1/4 × 1/3 = 1/12, effect 5/6; without B: x_A = 1/4,
			// P = 3/4 × 1/4 = 3/16, effect 5/8. Shares 20 : 15 = 4/7 : 3/7
			// of 2 conversions and 700. Kept, the repeat adds A→A 2 (A: A
			// 1/3, B 1/3, conv 1/6, null 1/6), which only delays the walk:
			// the same answer, at order 1, for every definition.
			name: "order 1 with repeats",
			rows: []row{{"A > A > B", 1, 300, 1}, {"B > A", 1, 400, 0}, {"A", 0, 0, 1}},
			p:    0.5,
			variants: []variant{
				{m: Markov{States: StatesChannelAttribution}, transitions: map[string]float64{
					"(start) → A": 0.75, "(start) → B": 0.25,
					"A → B": 0.5, "A → (conversion)": 0.25, "A → (null)": 0.25,
					"B → A": 1.0 / 3, "B → (conversion)": 1.0 / 3, "B → (null)": 1.0 / 3,
				}},
				{m: Markov{}},
				{m: Markov{KeepRepeats: true}, transitions: map[string]float64{
					"(start) → A": 0.75, "(start) → B": 0.25,
					"A → A": 1.0 / 3, "A → B": 1.0 / 3, "A → (conversion)": 1.0 / 6, "A → (null)": 1.0 / 6,
					"B → A": 1.0 / 3, "B → (conversion)": 1.0 / 3, "B → (null)": 1.0 / 3,
				}},
				{m: Markov{States: StatesChannelAttribution, KeepRepeats: true}},
			},
		},
		{
			// Order 2 without repeats. Windows: A>B, B>C (converts, 600);
			// D>B, B>C (null); A>B (null). Counts: start→A>B 2, start→D>B
			// 1; A>B→B>C 1, A>B→null 1; D>B→B>C 1; B>C→conv 1, B>C→null 1.
			// P(conv) = 2/3 × 1/2 × 1/2 + 1/3 × 1/2 = 1/3. Without A (A>B):
			// 1/6, effect 1/2; without D (D>B): 1/6, effect 1/2; without B
			// or C (B>C): 0, effect 1. Shares 1 : 2 : 2 : 1 of 1 and 600.
			// With prefixes the walks start start→A→A>B and start→D→D>B:
			// one more step on the way to the same windows, the same
			// answer.
			name: "order 2 without repeats",
			rows: []row{{"A > B > C", 1, 600, 0}, {"D > B > C", 0, 0, 1}, {"A > B", 0, 0, 1}},
			p:    1.0 / 3,
			variants: []variant{
				{m: Markov{Order: 2, States: StatesChannelAttribution}, transitions: map[string]float64{
					"(start) → A>B": 2.0 / 3, "(start) → D>B": 1.0 / 3,
					"A>B → B>C": 0.5, "A>B → (null)": 0.5, "D>B → B>C": 1,
					"B>C → (conversion)": 0.5, "B>C → (null)": 0.5,
				}},
				{m: Markov{Order: 2}, transitions: map[string]float64{
					"(start) → A": 2.0 / 3, "(start) → D": 1.0 / 3, "A → A>B": 1, "D → D>B": 1,
					"A>B → B>C": 0.5, "A>B → (null)": 0.5, "D>B → B>C": 1,
					"B>C → (conversion)": 0.5, "B>C → (null)": 0.5,
				}},
			},
		},
		{
			// Order 2 with repeats: A > B > B converts (600), C > B > B > B
			// does not. ChannelAttribution's windows: A>B, B>B and C>B,
			// B>B, B>B, the last two merged. Counts: start→A>B 1,
			// start→C>B 1; A>B→B>B 1; C>B→B>B 1; B>B→conv 1, B>B→null 1.
			// B>B forgets what came before it: P(conv) = 1/2; without A
			// (A>B) 1/4, effect 1/2; without C (C>B) 1/4, effect 1/2;
			// without B 0, effect 1. Shares 1 : 2 : 1: 0.25, 0.5, 0.25 and
			// 150, 300, 150. Keeping the merged window as B>B→B>B 1 (B>B:
			// itself 1/3, conv 1/3, null 1/3) changes nothing, and neither
			// do prefixes with repeats kept (start→A→A>B→B>B).
			//
			// With repeats collapsed first (the default) the paths are
			// A > B and C > B. Counts: start→A 1, start→C 1; A→A>B 1;
			// C→C>B 1; A>B→conv 1; C>B→null 1. P(conv) = 1/2; without A or
			// B 0, effect 1; without C still 1/2, effect 0. A and B share
			// everything: 0.5, 0.5 and 300, 300; C earns nothing.
			name: "order 2 with repeats",
			rows: []row{{"A > B > B", 1, 600, 0}, {"C > B > B > B", 0, 0, 1}},
			p:    0.5,
			variants: []variant{
				{m: Markov{Order: 2, States: StatesChannelAttribution}, transitions: map[string]float64{
					"(start) → A>B": 0.5, "(start) → C>B": 0.5, "A>B → B>B": 1, "C>B → B>B": 1,
					"B>B → (conversion)": 0.5, "B>B → (null)": 0.5,
				}},
				{m: Markov{Order: 2, States: StatesChannelAttribution, KeepRepeats: true}, transitions: map[string]float64{
					"(start) → A>B": 0.5, "(start) → C>B": 0.5, "A>B → B>B": 1, "C>B → B>B": 1,
					"B>B → B>B": 1.0 / 3, "B>B → (conversion)": 1.0 / 3, "B>B → (null)": 1.0 / 3,
				}},
				{m: Markov{Order: 2, KeepRepeats: true}},
				{
					m: Markov{Order: 2},
					transitions: map[string]float64{
						"(start) → A": 0.5, "(start) → C": 0.5, "A → A>B": 1, "C → C>B": 1,
						"A>B → (conversion)": 1, "C>B → (null)": 1,
					},
					effects: map[string]float64{"A": 1, "B": 1, "C": 0},
					conv:    map[string]float64{"A": 0.5, "B": 0.5},
					value:   map[string]int64{"A": 300, "B": 300},
				},
			},
		},
	}
	// The answers of the first variant of each case, by hand.
	want := map[string]struct {
		effects map[string]float64
		conv    map[string]float64
		value   map[string]int64
	}{
		"order 1 without repeats": {
			map[string]float64{"C1": 0.5, "C2": 1, "C3": 1},
			map[string]float64{"C1": 0.2, "C2": 0.4, "C3": 0.4},
			map[string]int64{"C1": 200, "C2": 400, "C3": 400},
		},
		"order 1 with repeats": {
			map[string]float64{"A": 5.0 / 6, "B": 5.0 / 8},
			map[string]float64{"A": 8.0 / 7, "B": 6.0 / 7},
			map[string]int64{"A": 400, "B": 300},
		},
		"order 2 without repeats": {
			map[string]float64{"A": 0.5, "B": 1, "C": 1, "D": 0.5},
			map[string]float64{"A": 1.0 / 6, "B": 1.0 / 3, "C": 1.0 / 3, "D": 1.0 / 6},
			map[string]int64{"A": 100, "B": 200, "C": 200, "D": 100},
		},
		"order 2 with repeats": {
			map[string]float64{"A": 0.5, "B": 1, "C": 0.5},
			map[string]float64{"A": 0.25, "B": 0.5, "C": 0.25},
			map[string]int64{"A": 150, "B": 300, "C": 150},
		},
	}
	for _, tc := range tests {
		paths := pathSet(t, tc.rows...)
		w := want[tc.name]
		for _, v := range tc.variants {
			effects, conv, value := w.effects, w.conv, w.value
			if v.effects != nil {
				effects, conv, value = v.effects, v.conv, v.value
			}
			t.Run(tc.name+"/"+v.m.Name()+map[bool]string{true: "/keep_repeats"}[v.m.KeepRepeats], func(t *testing.T) {
				mc, err := v.m.build(paths)
				require.NoError(t, err)
				if v.transitions != nil {
					assert.InDeltaMapValues(t, v.transitions, transitions(paths, mc), 1e-15)
					assert.Len(t, transitions(paths, mc), len(v.transitions))
				}
				p, _, err := mc.removalEffects(mc.toConv)
				require.NoError(t, err)
				assert.InDelta(t, tc.p, p, 1e-15)

				r, err := v.m.AttributePaths(paths)
				require.NoError(t, err)
				gotConv, gotValue, gotScore := groupsOf(r)
				for ch, e := range effects {
					assert.InDelta(t, e, gotScore[ch], 1e-14, "removal effect of %s", ch)
				}
				assert.InDeltaMapValues(t, conv, gotConv, 1e-12)
				assert.Equal(t, value, gotValue)
			})
		}
	}
}

// ChannelAttribution's definition gives the answer of the default with
// repeats kept, whatever the order and for value by last state too: the prefix states only split the
// start's transitions into steps, and a kept repeat of a window is a
// self-transition. Without repeats in the data the four variants agree,
// and at order 1 they agree whatever the data.
func TestMarkovStateDefinitionsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	withRepeats := randomPaths(t, rng, 3000, 6)
	without := NewPathSet()
	for row, r := range withRepeats.rows {
		var names []string
		steps := withRepeats.stepsOf(row)
		for i, c := range steps {
			if i == 0 || c != steps[i-1] {
				names = append(names, withRepeats.channels[c])
			}
		}
		require.NoError(t, without.AddWeighted(names, r.conversions, r.value, r.nulls))
	}
	// The removal effects on conversions, then on value by last state.
	effectsOf := func(m Markov, paths *PathSet) []float64 {
		t.Helper()
		mc, err := m.build(paths)
		require.NoError(t, err)
		_, effects, err := mc.removalEffects(mc.toConv)
		require.NoError(t, err)
		_, valueEffects, err := mc.removalEffects(mc.convValue)
		require.NoError(t, err)
		return append(effects, valueEffects...)
	}
	for order := 1; order <= 3; order++ {
		ca := Markov{Order: order, States: StatesChannelAttribution}
		kept := Markov{Order: order, KeepRepeats: true}
		collapsed := Markov{Order: order}
		assert.InDeltaSlice(t, effectsOf(ca, withRepeats), effectsOf(kept, withRepeats), 1e-9, "order %d", order)
		for _, m := range []Markov{kept, collapsed, {Order: order, States: StatesChannelAttribution, KeepRepeats: true}} {
			assert.InDeltaSlice(t, effectsOf(ca, without), effectsOf(m, without), 1e-9, "order %d without repeats", order)
		}
		if order == 1 {
			assert.InDeltaSlice(t, effectsOf(ca, withRepeats), effectsOf(collapsed, withRepeats), 1e-9)
		} else {
			// From order 2 on the definitions differ on repeats.
			assert.NotEqual(t, effectsOf(ca, withRepeats), effectsOf(collapsed, withRepeats), "order %d", order)
		}
	}
}

func TestMarkovStatesOption(t *testing.T) {
	assert.Equal(t, "markov", Markov{}.Name())
	assert.Equal(t, "markov_ca", Markov{States: StatesChannelAttribution}.Name())
	assert.Equal(t, "markov_order3_ca", Markov{Order: 3, States: StatesChannelAttribution}.Name())
	_, err := Markov{States: 9}.AttributePaths(pathSet(t, row{"A", 1, 1, 0}))
	assert.ErrorIs(t, err, ErrInvalidOptions)

	// A path shorter than the order is one state holding all of it,
	// distinct from the windows that start with it: A at order 2 is not
	// A>B.
	paths := pathSet(t, row{"A", 1, 10, 0}, row{"A > B", 0, 0, 1}, row{"C > B", 1, 30, 0})
	mc, err := Markov{Order: 2, States: StatesChannelAttribution}.build(paths)
	require.NoError(t, err)
	assert.InDeltaMapValues(t, map[string]float64{
		"(start) → A": 1.0 / 3, "(start) → A>B": 1.0 / 3, "(start) → C>B": 1.0 / 3,
		"A → (conversion)": 1, "A>B → (null)": 1, "C>B → (conversion)": 1,
	}, transitions(paths, mc), 1e-15)
}
