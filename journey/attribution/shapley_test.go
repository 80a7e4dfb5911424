package attribution

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The three-player textbook game (v({1}) = 100, v({2}) = 125,
// v({3}) = 50, v({1,2}) = 270, v({1,3}) = 375, v({2,3}) = 350,
// v({1,2,3}) = 500). Averaging the marginal contributions over the six
// orders of arrival by hand: player 1 (100+100+145+150+325+150)/6 =
// 161.67, player 2 (170+125+125+125+125+300)/6 = 161.67, player 3
// (230+275+230+225+50+50)/6 = 176.67.
func TestShapleyValuesTextbookGame(t *testing.T) {
	v := make([]float64, 8) // bit 0 is player 1
	v[0b001], v[0b010], v[0b100] = 100, 125, 50
	v[0b011], v[0b101], v[0b110], v[0b111] = 270, 375, 350, 500
	phi := shapleyValues(3, v)
	assert.InDeltaSlice(t, []float64{970.0 / 6, 970.0 / 6, 1060.0 / 6}, phi, 1e-9)
}

// Zhao et al. (2018), eq. for the simplified Shapley value: with
// v(S) = conversions of journeys whose channel set lies within S, the
// Shapley value is Σ over sets T holding c of conversions(T)/|T|. Check
// the closed form against full coalition enumeration on random data.
func TestShapleyClosedFormMatchesEnumeration(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	paths := randomPaths(t, rng, 5000, 9)
	n := len(paths.channels)
	v := make([]float64, 1<<n)
	for i, r := range paths.rows {
		mask := 0
		for _, c := range paths.stepsOf(i) {
			mask |= 1 << c
		}
		v[mask] += float64(r.conversions)
	}
	for b := range n {
		for mask := range v {
			if mask&(1<<b) != 0 {
				v[mask] += v[mask^(1<<b)]
			}
		}
	}
	want := shapleyValues(n, v)
	got, _, _ := shapleyWithin(paths, false)
	assert.InDeltaSlice(t, want, got, 1e-9)
}

// By hand: {A} converts 3 times (300), {A,B} twice (200), {B,C} once
// (101), {C} never. φ_A = 3 + 2/2 = 4, φ_B = 2/2 + 1/2 = 1.5,
// φ_C = 1/2; value A 300 + 100, B 100 + 51, C 50.
func TestShapleyWithinByHand(t *testing.T) {
	paths := pathSet(t, row{"A", 3, 300, 0}, row{"A > B > A", 2, 200, 0}, row{"B > C", 1, 101, 0}, row{"C", 0, 0, 4})
	r, err := Shapley{}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, score := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 4, "B": 1.5, "C": 0.5}, conv, 1e-12)
	assert.Equal(t, conv, score)
	assert.Equal(t, map[string]int64{"A": 400, "B": 151, "C": 50}, value)
	assert.Equal(t, int64(601), r.Value)
}

// Conversion-rate worth, by hand. A: 1 of 2 converts; B: 1 of 4; A > B:
// 1 of 1. v(A) = 1/2, v(B) = 1/4, v(AB) = 3/7. φ_A = (1/2 + 3/7 − 1/4)/2
// = 19/56, φ_B = (1/4 + 3/7 − 1/2)/2 = 5/56; shares 19/24 and 5/24 of 3
// conversions: 2.375 and 0.625; of 240 in value: 190 and 50.
func TestShapleyConversionRateByHand(t *testing.T) {
	paths := pathSet(t, row{"A", 1, 80, 1}, row{"B", 1, 80, 3}, row{"A > B", 1, 80, 0})
	r, err := Shapley{Worth: WorthConversionRate}.AttributePaths(paths)
	require.NoError(t, err)
	conv, _, score := groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 2.375, "B": 0.625}, conv, 1e-12)
	assert.InDeltaMapValues(t, map[string]float64{"A": 19.0 / 56, "B": 5.0 / 56}, score, 1e-12)
	// The value game has the same shape (80 per conversion), so the same shares.
	_, value, _ := groupsOf(r)
	assert.Equal(t, map[string]int64{"A": 190, "B": 50}, value)

	// B alone never converts (0 of 2): v(A) = 1/2, v(B) = 0, v(AB) = 2/5.
	// φ_B = (0 + 2/5 − 1/2)/2 = −0.05: B dilutes the rate, earns nothing,
	// and its score keeps the negative value.
	paths = pathSet(t, row{"A", 1, 10, 1}, row{"B", 0, 0, 2}, row{"A > B", 1, 10, 0})
	r, err = Shapley{Worth: WorthConversionRate}.AttributePaths(paths)
	require.NoError(t, err)
	conv, value, score = groupsOf(r)
	assert.InDeltaMapValues(t, map[string]float64{"A": 2, "B": 0}, conv, 1e-12)
	assert.Equal(t, map[string]int64{"A": 20, "B": 0}, value)
	assert.InDelta(t, -0.05, score["B"], 1e-12)
}

func TestShapleyChannelLimits(t *testing.T) {
	many := func(n int) *PathSet {
		s := NewPathSet()
		for i := range n {
			require.NoError(t, s.Add([]string{fmt.Sprintf("ch%02d", i), "hub"}, 1, 10, 1))
		}
		return s
	}
	_, err := Shapley{Worth: WorthConversionRate}.AttributePaths(many(20)) // 21 channels with the hub
	assert.ErrorIs(t, err, ErrTooManyChannels)
	_, err = Shapley{Worth: WorthConversionRate, MaxChannels: 30}.AttributePaths(many(3))
	assert.ErrorIs(t, err, ErrInvalidOptions)
	_, err = Shapley{Worth: WorthConversionRate, MaxChannels: 5}.AttributePaths(many(5))
	assert.ErrorIs(t, err, ErrTooManyChannels)
	r, err := Shapley{Worth: WorthConversionRate}.AttributePaths(many(12))
	require.NoError(t, err)
	assert.Len(t, r.Groups, 13)
	// The closed form has no limit: 60 channels in one pass.
	r, err = Shapley{}.AttributePaths(many(59))
	require.NoError(t, err)
	hub, _ := r.Group("hub")
	assert.InDelta(t, 29.5, hub.Conversions, 1e-9) // half of each of 59 conversions
}

// Ordered Shapley as Zhao et al. (2018) define it and the public
// implementation github.com/ianchute/shapley-attribution-model-zhao-naive
// computes it: channel c at touchpoint t of a journey with distinct
// channels S earns 1/(occurrences of c × |S|). By hand: A > B > A for
// 100 has S = {A, B}: A at 1 earns 1/4 (25), B at 2 1/2 (50), A at 3 1/4
// (25). B > C for 100: B at 1 and C at 2 earn 1/2 (50) each.
func TestOrderedShapley(t *testing.T) {
	js := []Journey{
		converted("j1", 100, tp("a1", journey.TouchSession, paid, 3*day), tp("b1", journey.TouchCall, email, 2*day), tp("a2", journey.TouchSession, paid, day)),
		converted("j2", 100, tp("b2", journey.TouchSession, email, 2*day), tp("c1", journey.TouchChat, organic, day)),
		open("j3", tp("c2", journey.TouchSession, organic, day)),
	}
	want := []PositionCredit{
		{Key: "Email", Position: 1, Conversions: 0.5, Value: 50},
		{Key: "Email", Position: 2, Conversions: 0.5, Value: 50},
		{Key: "Organic Search", Position: 2, Conversions: 0.5, Value: 50},
		{Key: "Paid Search", Position: 1, Conversions: 0.25, Value: 25},
		{Key: "Paid Search", Position: 3, Conversions: 0.25, Value: 25},
	}
	r, err := OrderedShapley{}.Attribute(js, Options{})
	require.NoError(t, err)
	assert.Equal(t, want, r.Positions)
	assert.Equal(t, []string{"a1=25", "b1=50", "a2=25", "b2=50", "c1=50"}, touchValues(r))
	assert.Equal(t, map[string]int64{"Paid Search": 50, "Email": 100, "Organic Search": 50}, values(r))

	paths, err := GroupPaths(js, Options{})
	require.NoError(t, err)
	r, err = OrderedShapley{}.AttributePaths(paths)
	require.NoError(t, err)
	assert.Equal(t, want, r.Positions)

	// Odd units: A > A > B for 101 gives A 51 (26 + 25) and B 50.
	r, err = OrderedShapley{}.AttributePaths(pathSet(t, row{"A > A > B", 1, 101, 0}))
	require.NoError(t, err)
	assert.Equal(t, []PositionCredit{
		{Key: "A", Position: 1, Conversions: 0.25, Value: 26},
		{Key: "A", Position: 2, Conversions: 0.25, Value: 25},
		{Key: "B", Position: 3, Conversions: 0.5, Value: 50},
	}, r.Positions)
}
