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

// StateDefinition says what the states of a Markov chain of order k are.
// At order 1 the definitions give the same answer.
type StateDefinition int

const (
	// StatesWithPrefixes collapses consecutive repeats of a channel first
	// (A > A > B is A > B), then makes each step's state the last k
	// channels, fewer at the start of a path: A > B > C at order 2 walks
	// start → A → A>B → B>C. A repeat is forgotten, so at order 2
	// A > B > B and A > B reach the same state.
	StatesWithPrefixes StateDefinition = iota
	// StatesChannelAttribution is ChannelAttribution's markov_model: a
	// state is a window of k consecutive channels of the path as given,
	// repeats included; the first state is the first k channels (a
	// shorter path is one state holding all of it), and consecutive
	// identical windows are one state. A > B > C at order 2 walks
	// start → A>B → B>C; A > B > B > B walks start → A>B → B>B, so a
	// repeat is remembered. The answer is the same as StatesWithPrefixes
	// with KeepRepeats; the chain is ChannelAttribution's own, state for
	// state, without the prefix states and self-transitions that do not
	// change the answer. ChannelAttribution estimates removal effects by
	// simulating walks on this chain, each cut at the length of the
	// longest path (its max_step); solved exactly, the answer here is
	// what its estimates approach, without the cut.
	StatesChannelAttribution
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
//
// Repeated channels (A > A > B) matter only from order 2 on: at order 1
// a repeat is a self-transition, which delays a walk but never changes
// where it ends, so collapsing repeats or keeping them gives the same
// answer. From order 2 on, ChannelAttribution keeps repeats inside its
// states while the default here collapses them: see [StateDefinition].
type Markov struct {
	// Order is how many past channels a state holds; zero means 1.
	Order int
	// States is the definition of a state; the zero value is
	// StatesWithPrefixes.
	States StateDefinition
	// KeepRepeats makes every step of a path a step of the chain: with
	// StatesWithPrefixes repeats are not collapsed (A > A > B at order 1
	// walks A → A → B), with StatesChannelAttribution identical
	// consecutive windows are not merged. Either way a state that repeats
	// transitions to itself.
	KeepRepeats bool
	ValueMethod ValueMethod
}

func (m Markov) order() int { return max(m.Order, 1) }

// Name is "markov", "markov_order2" and so on, with "_ca" for
// StatesChannelAttribution.
func (m Markov) Name() string {
	name := "markov"
	if m.order() > 1 {
		name = fmt.Sprintf("markov_order%d", m.order())
	}
	if m.States == StatesChannelAttribution {
		name += "_ca"
	}
	return name
}

// markovChain is the chain of one path set with what the credit needs.
type markovChain struct {
	chain
	holds     [][]int32 // channel → states that hold it
	convValue []float64 // per state: value of conversions that followed it ÷ departures
	// codes are the states' k-gram codes in base len(channels)+1, the
	// oldest channel first and 0 for none; state 0, code 0, is the start.
	codes []uint64
}

// maxStateCode bounds the k-gram codes so that they fit a uint64.
const maxStateCode = math.MaxUint64 / 2

func (m Markov) build(paths *PathSet) (*markovChain, error) {
	if m.Order < 0 {
		return nil, fmt.Errorf("%w: Markov order %d is negative", ErrInvalidOptions, m.Order)
	}
	if m.States != StatesWithPrefixes && m.States != StatesChannelAttribution {
		return nil, fmt.Errorf("%w: Markov states %d", ErrInvalidOptions, m.States)
	}
	windows := m.States == StatesChannelAttribution
	k := m.order()
	base := uint64(len(paths.channels) + 1)
	span := uint64(1) // base^k: codes keep the last k channels
	for range k {
		if span > maxStateCode/base {
			return nil, fmt.Errorf("%w: %d channels at order %d", ErrTooManyChannels, len(paths.channels), k)
		}
		span *= base
	}
	// A state's next state is fixed by the next channel, so transitions
	// are counted in a table of states × channels rather than a map. The
	// one exception is the start with windows, whose next state is the
	// whole first window: those transitions are counted by state.
	width := int(base)
	cc := &chainCounts{width: width, states: newStateIndex(span)}
	cc.add(0) // state 0, code 0, is the start
	counts, next := cc.counts, cc.next
	for i := range paths.rows {
		r := &paths.rows[i]
		w := r.conversions + r.nulls
		if w == 0 {
			continue
		}
		code, from := uint64(0), int32(0)
		last := int32(-1)     // the previous channel
		lastCode := uint64(0) // the previous window's code; no window's is 0
		steps := paths.stepsOf(i)
		for t, ch := range steps {
			if windows {
				code = (code*base + uint64(ch) + 1) % span
				if t < k-1 && t < len(steps)-1 {
					continue // the first window is not full yet
				}
				if code == lastCode && !m.KeepRepeats {
					continue
				}
				lastCode = code
				if from == 0 {
					from = cc.state(code)
					counts, next = cc.counts, cc.next
					cc.fromStart[from] += w
					continue
				}
			} else {
				if ch == last && !m.KeepRepeats {
					continue
				}
				last = ch
				code = (code*base + uint64(ch) + 1) % span
			}
			cell := int(from)*width + int(ch) + 1
			if counts[cell] == 0 {
				to := cc.state(code)
				counts, next = cc.counts, cc.next
				next[cell] = to
			}
			counts[cell] += w
			from = next[cell]
		}
		cc.conv[from] += r.conversions
		cc.null[from] += r.nulls
		cc.value[from] += float64(r.value)
	}
	codes, conv, null, value, fromStart := cc.codes, cc.conv, cc.null, cc.value, cc.fromStart
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
	for _, c := range fromStart {
		if c > 0 {
			out[0] += c
			edges++
		}
	}
	mc := &markovChain{}
	mc.cols = make([]int32, 0, edges)
	mc.probs = make([]float64, 0, edges)
	for s := range n {
		perRow[s] = int32(len(mc.cols))
		if s == 0 {
			for to, c := range fromStart {
				if c > 0 {
					mc.cols = append(mc.cols, int32(to))
					mc.probs = append(mc.probs, c/out[0])
				}
			}
		}
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
	mc.codes = codes
	mc.findComponents()
	return mc, nil
}

// chainCounts are the counts of a chain being built: per state, its
// k-gram code, its transitions by next channel, and what ended there.
type chainCounts struct {
	width  int // channels + 1: the cells of a state
	states *stateIndex
	codes  []uint64
	counts []float64 // state × width: transitions by next channel
	next   []int32   // state × width: the state each leads to
	// per state: conversions, nulls and value that ended there, and, with
	// windows, transitions into it from the start
	conv, null, value, fromStart []float64
}

// state returns the state of a code, adding it when new.
func (c *chainCounts) state(code uint64) int32 {
	if s, ok := c.states.get(code); ok {
		return s
	}
	return c.add(code)
}

func (c *chainCounts) add(code uint64) int32 {
	s := int32(len(c.codes))
	c.states.put(code, s)
	c.codes = append(c.codes, code)
	c.conv, c.null, c.value = append(c.conv, 0), append(c.null, 0), append(c.value, 0)
	c.fromStart = append(c.fromStart, 0)
	c.counts = append(c.counts, make([]float64, c.width)...)
	c.next = append(c.next, make([]int32, c.width)...)
	return s
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
func shareGroups(names []string, scores, valueScores, reported []float64, conversions float64, value int64) []GroupCredit {
	sum := 0.0
	for _, s := range scores {
		sum += s
	}
	conv := make([]float64, len(names))
	if sum > 0 {
		for i, s := range scores {
			conv[i] = s / sum * conversions
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
