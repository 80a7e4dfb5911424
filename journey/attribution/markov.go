package attribution

import (
	"fmt"
	"math"
)

// ValueMethod says how a data-driven model turns conversion credit into
// value credit.
type ValueMethod int

const (
	// ValueByConversionShare gives each channel the same share of the
	// total value as of the total conversions.
	ValueByConversionShare ValueMethod = iota
	// ValueByLastState weighs each conversion by its value, as
	// ChannelAttribution does: the chain's expected value uses, for each
	// state, the mean value of the conversions that followed it, and the
	// removal effects are computed on that expected value.
	ValueByLastState
)

// Markov is the Markov-chain removal-effect model (Anderl et al. 2016;
// ChannelAttribution's markov_model), solved exactly: transition
// probabilities are estimated from every path, converting or not, and
// the probability of conversion from the start is found by solving the
// absorbing chain rather than by simulating it.
//
// The removal effect of channel c is 1 − P(conv | c removed) / P(conv),
// where removing c sends every state holding c to null. Channels are
// credited the total conversions (and value) in proportion to their
// removal effects.
type Markov struct {
	// Order is how many past channels a state holds; zero means 1.
	Order int
	// KeepRepeats keeps consecutive repeats of a channel (A > A > B) as
	// self-transitions; by default they collapse to one (A > B), as in
	// ChannelAttribution.
	KeepRepeats bool
	ValueMethod ValueMethod
}

func (m Markov) order() int { return max(m.Order, 1) }

func (m Markov) Name() string {
	if m.order() == 1 {
		return "markov"
	}
	return fmt.Sprintf("markov_order%d", m.order())
}

// markovChain is the chain of one path set with what the credit needs.
type markovChain struct {
	chain
	holds     [][]int32 // channel → states that hold it
	convValue []float64 // per state: value of conversions that followed it ÷ departures
}

// maxStateCode bounds the k-gram codes so that they fit a uint64.
const maxStateCode = math.MaxUint64 / 2

func (m Markov) build(paths *PathSet) (*markovChain, error) {
	if m.Order < 0 {
		return nil, fmt.Errorf("%w: Markov order %d is negative", ErrInvalidOptions, m.Order)
	}
	k := m.order()
	base := uint64(len(paths.channels) + 1)
	span := uint64(1) // base^k: codes keep the last k channels
	for range k {
		if span > maxStateCode/base {
			return nil, fmt.Errorf("%w: %d channels at order %d", ErrTooManyChannels, len(paths.channels), k)
		}
		span *= base
	}
	states := newStateIndex(span)
	codes := []uint64{0} // state 0, code 0, is the start
	// A state's next state is fixed by the next channel, so transitions
	// are counted in a table of states × channels rather than a map.
	width := int(base)
	counts := make([]float64, width)
	next := make([]int32, width)
	var conv, null, value []float64
	grow := func() {
		conv, null, value = append(conv, 0), append(null, 0), append(value, 0)
	}
	grow()
	for i := range paths.rows {
		r := &paths.rows[i]
		w := float64(r.conversions + r.nulls)
		if w == 0 {
			continue
		}
		code, from := uint64(0), int32(0)
		last := int32(-1)
		for _, ch := range r.steps {
			if ch == last && !m.KeepRepeats {
				continue
			}
			last = ch
			code = (code*base + uint64(ch) + 1) % span
			cell := int(from)*width + int(ch) + 1
			if counts[cell] == 0 {
				to, ok := states.get(code)
				if !ok {
					to = int32(len(codes))
					states.put(code, to)
					codes = append(codes, code)
					grow()
					counts = append(counts, make([]float64, width)...)
					next = append(next, make([]int32, width)...)
				}
				next[cell] = to
			}
			counts[cell] += w
			from = next[cell]
		}
		conv[from] += float64(r.conversions)
		null[from] += float64(r.nulls)
		value[from] += float64(r.value)
	}
	n := len(codes)
	out := make([]float64, n)
	perRow := make([]int32, n+1)
	edges := 0
	for s := range n {
		out[s] = conv[s] + null[s]
		for _, c := range counts[s*width : (s+1)*width] {
			if c > 0 {
				out[s] += c
				edges++
			}
		}
	}
	mc := &markovChain{}
	mc.cols = make([]int32, 0, edges)
	mc.probs = make([]float64, 0, edges)
	for s := range n {
		perRow[s] = int32(len(mc.cols))
		for cell := s * width; cell < (s+1)*width; cell++ {
			if counts[cell] > 0 {
				mc.cols = append(mc.cols, next[cell])
				mc.probs = append(mc.probs, counts[cell]/out[s])
			}
		}
	}
	perRow[n] = int32(len(mc.cols))
	mc.rowStart = perRow
	mc.toConv = make([]float64, n)
	mc.convValue = make([]float64, n)
	for s := range n {
		if out[s] > 0 {
			mc.toConv[s] = conv[s] / out[s]
			mc.convValue[s] = value[s] / out[s]
		}
	}
	mc.holds = make([][]int32, len(paths.channels))
	for s, code := range codes {
		seen := uint64(0) // channels already listed for this state, when few
		for c := code; c > 0; c /= base {
			if d := c % base; d > 0 {
				ch := int32(d - 1)
				if ch < 64 {
					if seen&(1<<ch) != 0 {
						continue
					}
					seen |= 1 << ch
				} else if h := mc.holds[ch]; len(h) > 0 && h[len(h)-1] == int32(s) {
					continue
				}
				mc.holds[ch] = append(mc.holds[ch], int32(s))
			}
		}
	}
	mc.findComponents()
	return mc, nil
}

// removalEffects returns P(conv) (or the expected value) from the start
// and each channel's removal effect on it.
func (mc *markovChain) removalEffects(rhs []float64) (float64, []float64, error) {
	x := make([]float64, mc.size())
	if err := mc.absorb(rhs, nil, x); err != nil {
		return 0, nil, err
	}
	base := x[0]
	effects := make([]float64, len(mc.holds))
	if base <= 0 {
		return 0, effects, nil
	}
	removed := make([]bool, mc.size())
	for ch, states := range mc.holds {
		if len(states) == 0 {
			continue
		}
		for _, s := range states {
			removed[s] = true
		}
		if err := mc.absorb(rhs, removed, x); err != nil {
			return 0, nil, err
		}
		effects[ch] = max(0, 1-x[0]/base)
		for _, s := range states {
			removed[s] = false
		}
	}
	return base, effects, nil
}

// AttributePaths credits the channels of a grouped path set.
func (m Markov) AttributePaths(paths *PathSet) (*Result, error) {
	res, _, err := m.attributePaths(paths)
	return res, err
}

func (m Markov) attributePaths(paths *PathSet) (*Result, []float64, error) {
	if paths == nil || paths.Len() == 0 {
		return nil, nil, ErrNoJourneys
	}
	_, conversions, value := paths.Totals()
	if conversions == 0 {
		return nil, nil, ErrNoConversions
	}
	mc, err := m.build(paths)
	if err != nil {
		return nil, nil, err
	}
	_, effects, err := mc.removalEffects(mc.toConv)
	if err != nil {
		return nil, nil, err
	}
	valueEffects := effects
	if m.ValueMethod == ValueByLastState {
		if _, valueEffects, err = mc.removalEffects(mc.convValue); err != nil {
			return nil, nil, err
		}
	}
	res := &Result{Model: m.Name(), Conversions: conversions, Value: value}
	res.Groups = shareGroups(paths.channels, effects, valueEffects, effects, conversions, value)
	return res, effects, nil
}

// shareGroups credits channels total conversions and value in proportion
// to their scores (non-negative), the value split exactly; reported is
// each channel's Score.
func shareGroups(names []string, scores, valueScores, reported []float64, conversions, value int64) []GroupCredit {
	sum := 0.0
	for _, s := range scores {
		sum += s
	}
	conv := make([]float64, len(names))
	if sum > 0 {
		for i, s := range scores {
			conv[i] = s / sum * float64(conversions)
		}
	}
	parts := make([]int64, len(names))
	splitExact(value, valueScores, parts)
	return channelGroups(names, conv, parts, reported)
}

// Attribute credits channels (by Options.Key) with Markov's shares of all
// conversions and value; each conversion's own value is also split over
// its touchpoints in proportion to their channels' removal effects (a
// channel seen twice shares its weight between the two), so Touchpoints
// show where the model sends each conversion while Groups hold the
// model's totals; the two agree only on average.
func (m Markov) Attribute(journeys []Journey, opts Options) (*Result, error) {
	set, err := prepare(journeys, opts)
	if err != nil {
		return nil, err
	}
	paths := pathsOf(set)
	res, effects, err := m.attributePaths(paths)
	if err != nil {
		return nil, err
	}
	res.Currency, res.Unattributed = set.currency, set.unattributed
	res.Touchpoints = allocateTouches(set, func(key string) float64 { return effects[paths.ids[key]] })
	return res, nil
}

// allocateTouches splits each conversion over its touchpoints by their
// key's weight, shared among the key's occurrences in the journey.
func allocateTouches(set *preparedSet, weight func(key string) float64) []TouchCredit {
	var credits []TouchCredit
	var w []float64
	var parts []int64
	var sp splitter
	occurrences := map[string]int{}
	for i := range set.journeys {
		p := &set.journeys[i]
		if !p.converted() {
			continue
		}
		clear(occurrences)
		for _, t := range p.touches {
			occurrences[t.key]++
		}
		w = resetFloats(w, len(p.touches))
		parts = resetInts(parts, len(p.touches))
		sum := 0.0
		for k, t := range p.touches {
			w[k] = weight(t.key) / float64(occurrences[t.key])
			sum += w[k]
		}
		if sum == 0 { // no weight anywhere: fall back to equal shares
			for k := range w {
				w[k] = 1
			}
			sum = float64(len(w))
		}
		sp.split(p.j.Conversion.Value, w, parts)
		for k, t := range p.touches {
			if w[k] == 0 && parts[k] == 0 {
				continue
			}
			credits = append(credits, TouchCredit{
				JourneyID: p.j.ID, TouchpointID: t.tp.ID, Index: t.index, Key: t.key,
				Conversions: w[k] / sum, Value: parts[k],
			})
		}
	}
	return credits
}

// stateIndex maps k-gram codes to state numbers: a table when the codes
// are few enough, a map otherwise.
type stateIndex struct {
	table []int32 // state+1, 0 when absent
	m     map[uint64]int32
}

const maxStateTable = 1 << 22

func newStateIndex(span uint64) *stateIndex {
	if span <= maxStateTable {
		t := make([]int32, span)
		t[0] = 1 // the start
		return &stateIndex{table: t}
	}
	return &stateIndex{m: map[uint64]int32{0: 0}}
}

func (x *stateIndex) get(code uint64) (int32, bool) {
	if x.table != nil {
		s := x.table[code]
		return s - 1, s > 0
	}
	s, ok := x.m[code]
	return s, ok
}

func (x *stateIndex) put(code uint64, s int32) {
	if x.table != nil {
		x.table[code] = s + 1
		return
	}
	x.m[code] = s
}
