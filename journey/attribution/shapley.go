package attribution

import (
	"fmt"
	"math/bits"
)

// ShapleyWorth is the characteristic function of the Shapley game: what
// a coalition S of channels is worth.
type ShapleyWorth int

const (
	// WorthConversions: v(S) is the conversions (for value credit, the
	// value) of the journeys whose channel set lies within S. Zhao et al.
	// (2018) show the Shapley value of this game is exactly
	// φ_c = Σ over channel sets T holding c of conversions(T) / |T|, so it
	// is computed in one pass with no limit on the number of channels.
	// Non-converting journeys are worth nothing in this game.
	WorthConversions ShapleyWorth = iota
	// WorthConversionRate: v(S) is the conversion rate (for value credit,
	// the value per journey) of the journeys whose channel set lies within
	// S, so non-converting journeys lower the worth of the channels they
	// touched. Computed by enumerating all 2^n coalitions; at most
	// MaxChannels channels. A channel whose Shapley value is negative (it
	// dilutes the rate) gets no credit; Score keeps the raw value.
	WorthConversionRate
)

// DefaultMaxShapleyChannels bounds coalition enumeration: 2^20 coalitions
// take about 25 MB and well under a second.
const DefaultMaxShapleyChannels = 20

// maxShapleyChannels is the hard cap whatever MaxChannels says.
const maxShapleyChannels = 26

// Shapley credits channels with their Shapley value in the cooperative
// game whose players are channels and whose worth is set by Worth; a
// channel's position and repetition in a journey do not matter, only
// which channels the journey touched.
type Shapley struct {
	Worth ShapleyWorth
	// MaxChannels caps the channels of coalition enumeration
	// (WorthConversionRate); zero means DefaultMaxShapleyChannels, and no
	// value above 26 is accepted. More channels return ErrTooManyChannels:
	// group them (Options.Key) rather than wait.
	MaxChannels int
}

func (m Shapley) Name() string {
	if m.Worth == WorthConversionRate {
		return "shapley_rate"
	}
	return "shapley"
}

// AttributePaths credits the channels of a grouped path set.
func (m Shapley) AttributePaths(paths *PathSet) (*Result, error) {
	res, _, err := m.attributePaths(paths)
	return res, err
}

func (m Shapley) attributePaths(paths *PathSet) (*Result, []float64, error) {
	if paths == nil || paths.Len() == 0 {
		return nil, nil, ErrNoJourneys
	}
	_, conversions, value := paths.Totals()
	if conversions == 0 {
		return nil, nil, ErrNoConversions
	}
	res := &Result{Model: m.Name(), Conversions: conversions, Value: value}
	switch m.Worth {
	case WorthConversions:
		conv, val, _ := shapleyWithin(paths, false)
		res.Groups = channelGroups(paths.channels, conv, val, conv)
		return res, conv, nil
	case WorthConversionRate:
		phi, phiValue, err := m.shapleyRate(paths)
		if err != nil {
			return nil, nil, err
		}
		credit := func(phi []float64) []float64 {
			out := make([]float64, len(phi))
			for i, p := range phi {
				out[i] = max(p, 0)
			}
			return out
		}
		res.Groups = shareGroups(paths.channels, credit(phi), credit(phiValue), phi, conversions, value)
		return res, credit(phi), nil
	}
	return nil, nil, fmt.Errorf("%w: Shapley worth %d", ErrInvalidOptions, m.Worth)
}

// shapleyWithin is the closed form of WorthConversions: each converting
// path gives its conversions and value equally to its distinct channels.
// positions[c][t] is what channel c earned at touch t (1-based) of the
// paths, each occurrence of a channel taking an equal part of its share,
// for ordered Shapley.
func shapleyWithin(paths *PathSet, withPositions bool) (conv []float64, value []int64, positions []map[int]*PositionCredit) {
	n := len(paths.channels)
	conv, value = make([]float64, n), make([]int64, n)
	positions = make([]map[int]*PositionCredit, n)
	seen := make([]int, n)   // row+1 that last saw the channel
	slot := make([]int, n)   // the channel's index among the row's distinct channels
	occurs := make([]int, n) // the channel's occurrences in the row
	var distinct []int32
	var parts, occParts []int64
	var taken []int // occurrences of each distinct channel credited so far
	for i := range paths.rows {
		r := &paths.rows[i]
		if r.conversions == 0 {
			continue
		}
		distinct = distinct[:0]
		for _, c := range paths.stepsOf(i) {
			if seen[c] != i+1 {
				seen[c] = i + 1
				slot[c] = len(distinct)
				occurs[c] = 0
				distinct = append(distinct, c)
			}
			occurs[c]++
		}
		parts = resetInts(parts, len(distinct))
		splitEqual(r.value, parts)
		share := float64(r.conversions) / float64(len(distinct))
		for d, c := range distinct {
			conv[c] += share
			value[c] += parts[d]
		}
		if !withPositions {
			continue
		}
		taken = taken[:0]
		for range distinct {
			taken = append(taken, 0)
		}
		for t, c := range paths.stepsOf(i) {
			d := slot[c]
			occParts = resetInts(occParts, occurs[c])
			splitEqual(parts[d], occParts)
			if positions[c] == nil {
				positions[c] = map[int]*PositionCredit{}
			}
			pc := positions[c][t+1]
			if pc == nil {
				pc = &PositionCredit{Key: paths.channels[c], Position: t + 1}
				positions[c][t+1] = pc
			}
			pc.Conversions += share / float64(occurs[c])
			pc.Value += occParts[taken[d]]
			taken[d]++
		}
	}
	return conv, value, positions
}

// shapleyRate enumerates the coalitions of WorthConversionRate and
// returns each channel's Shapley value for the conversion rate and for
// the value per journey.
func (m Shapley) shapleyRate(paths *PathSet) (phi, phiValue []float64, err error) {
	limit := m.MaxChannels
	if limit == 0 {
		limit = DefaultMaxShapleyChannels
	}
	if limit < 0 || limit > maxShapleyChannels {
		return nil, nil, fmt.Errorf("%w: Shapley MaxChannels %d is outside 1..%d", ErrInvalidOptions, limit, maxShapleyChannels)
	}
	n := len(paths.channels)
	if n > limit {
		return nil, nil, fmt.Errorf("%w: exact Shapley over %d channels exceeds the limit of %d; group channels with Options.Key", ErrTooManyChannels, n, limit)
	}
	size := 1 << n
	conv := make([]float64, size)
	journeys := make([]float64, size)
	value := make([]float64, size)
	for i := range paths.rows {
		r := &paths.rows[i]
		mask := 0
		for _, c := range paths.stepsOf(i) {
			mask |= 1 << c
		}
		conv[mask] += float64(r.conversions)
		journeys[mask] += float64(r.conversions + r.nulls)
		value[mask] += float64(r.value)
	}
	// Sum over subsets, one channel at a time: afterwards each entry
	// holds the totals of every channel set within its mask.
	for b := range n {
		bit := 1 << b
		for mask := range size {
			if mask&bit != 0 {
				conv[mask] += conv[mask^bit]
				journeys[mask] += journeys[mask^bit]
				value[mask] += value[mask^bit]
			}
		}
	}
	for mask := range size {
		if journeys[mask] > 0 {
			conv[mask] /= journeys[mask]
			value[mask] /= journeys[mask]
		}
	}
	return shapleyValues(n, conv), shapleyValues(n, value), nil
}

// shapleyValues computes φ_c = Σ over S not holding c of
// |S|! (n−|S|−1)! / n! × (v(S ∪ {c}) − v(S)), v given for every mask.
func shapleyValues(n int, v []float64) []float64 {
	weight := make([]float64, n) // weight[s] = s! (n−s−1)! / n! = 1 / (n × C(n−1, s))
	binom := 1.0
	for s := range n {
		weight[s] = 1 / (float64(n) * binom)
		binom = binom * float64(n-1-s) / float64(s+1)
	}
	phi := make([]float64, n)
	for mask := range len(v) {
		w := weight[min(bits.OnesCount(uint(mask)), n-1)]
		for c := range n {
			bit := 1 << c
			if mask&bit == 0 {
				phi[c] += w * (v[mask|bit] - v[mask])
			}
		}
	}
	return phi
}

// Attribute credits channels (by Options.Key). With WorthConversions each
// conversion's value is split equally among the distinct channels of its
// journey (a channel seen twice shares its part between the two
// touchpoints), and Groups are the sums of those touchpoint credits. With
// WorthConversionRate Groups hold the game's totals and each conversion
// is split in proportion to its channels' credited Shapley values.
func (m Shapley) Attribute(journeys []Journey, opts Options) (*Result, error) {
	res, _, err := m.attribute(journeys, opts)
	return res, err
}

func (m Shapley) attribute(journeys []Journey, opts Options) (*Result, *preparedSet, error) {
	set, err := prepare(journeys, opts)
	if err != nil {
		return nil, nil, err
	}
	paths := pathsOf(set)
	res, weights, err := m.attributePaths(paths)
	if err != nil {
		return nil, nil, err
	}
	res.Currency, res.Unattributed = set.currency, set.unattributed
	if m.Worth == WorthConversions {
		res.Touchpoints = allocateTouches(set, func(string) float64 { return 1 })
		res.Groups = groupTouchCredits(res.Touchpoints)
		for i := range res.Groups {
			res.Groups[i].Score = res.Groups[i].Conversions
		}
		return res, set, nil
	}
	res.Touchpoints = allocateTouches(set, func(key string) float64 { return weights[paths.ids[key]] })
	return res, set, nil
}
