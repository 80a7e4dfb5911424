package attribution

import (
	"fmt"
	"math"
	"time"

	"github.com/attriqs/calltrack/journey/touch"
)

// weigher fills w with the relative weight of each counted touch of one
// converting journey; w arrives zeroed and as long as ts.
type weigher func(ts []counted, conv *touch.Conversion, w []float64)

// attributeRule runs a rule-based model: weights per touch, then an exact
// split of each conversion's value by those weights.
func attributeRule(name string, journeys []Journey, opts Options, weigh weigher) (*Result, error) {
	set, err := prepare(journeys, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Model: name, Currency: set.currency, Unattributed: set.unattributed}
	var w []float64
	var parts []int64
	for i := range set.journeys {
		p := &set.journeys[i]
		if !p.converted() {
			continue
		}
		n := len(p.touches)
		w = resetFloats(w, n)
		parts = resetInts(parts, n)
		weigh(p.touches, p.j.Conversion, w)
		sum := 0.0
		for _, x := range w {
			sum += x
		}
		if sum == 0 { // no model here leaves every weight zero; never divide by it
			for k := range w {
				w[k] = 1
			}
			sum = float64(n)
		}
		splitExact(p.j.Conversion.Value, w, parts)
		for k, t := range p.touches {
			if w[k] == 0 && parts[k] == 0 {
				continue
			}
			res.Touchpoints = append(res.Touchpoints, TouchCredit{
				JourneyID: p.j.ID, TouchpointID: t.tp.ID, Index: t.index, Key: t.key,
				Conversions: w[k] / sum, Value: parts[k],
			})
		}
		res.Conversions++
		res.Value += p.j.Conversion.Value
	}
	res.Groups = groupTouchCredits(res.Touchpoints)
	return res, nil
}

func resetFloats(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

func resetInts(s []int64, n int) []int64 {
	if cap(s) < n {
		return make([]int64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// FirstTouch gives each conversion wholly to its first counted touchpoint.
type FirstTouch struct{}

func (FirstTouch) Name() string { return "first_touch" }

func (m FirstTouch) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(_ []counted, _ *touch.Conversion, w []float64) { w[0] = 1 })
}

// LastTouch gives each conversion wholly to its last counted touchpoint.
type LastTouch struct{}

func (LastTouch) Name() string { return "last_touch" }

func (m LastTouch) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(_ []counted, _ *touch.Conversion, w []float64) { w[len(w)-1] = 1 })
}

// LastNonDirect gives each conversion wholly to its last counted
// touchpoint whose channel is not Direct, or to the last touchpoint when
// all are Direct: GA4's cross-channel last click.
type LastNonDirect struct{}

func (LastNonDirect) Name() string { return "last_non_direct" }

func (m LastNonDirect) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(ts []counted, _ *touch.Conversion, w []float64) {
		for i := len(ts) - 1; i >= 0; i-- {
			if !isDirect(ts[i].tp) {
				w[i] = 1
				return
			}
		}
		w[len(w)-1] = 1
	})
}

// Linear splits each conversion equally over its counted touchpoints;
// a channel seen three times earns three shares.
type Linear struct{}

func (Linear) Name() string { return "linear" }

func (m Linear) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(_ []counted, _ *touch.Conversion, w []float64) {
		for i := range w {
			w[i] = 1
		}
	})
}

// DefaultHalfLife is TimeDecay's half-life when none is set.
const DefaultHalfLife = 7 * 24 * time.Hour

// TimeDecay weighs each touchpoint by 2^(−age/HalfLife), age being the
// time from the touchpoint to the conversion: a touch one half-life
// before the conversion earns half the weight of one at the conversion.
// With Step, age is counted in whole half-lives (the weekly-step variant
// with the default half-life).
type TimeDecay struct {
	HalfLife time.Duration // zero means DefaultHalfLife
	Step     bool
}

func (TimeDecay) Name() string { return "time_decay" }

func (m TimeDecay) Attribute(journeys []Journey, opts Options) (*Result, error) {
	h := m.HalfLife
	if h < 0 {
		return nil, fmt.Errorf("%w: time decay half-life %v is negative", ErrInvalidOptions, h)
	}
	if h == 0 {
		h = DefaultHalfLife
	}
	return attributeRule(m.Name(), journeys, opts, func(ts []counted, conv *touch.Conversion, w []float64) {
		youngest := math.Inf(1)
		for i, t := range ts {
			age := float64(conv.At.Sub(t.tp.At)) / float64(h)
			if m.Step {
				age = math.Floor(age)
			}
			w[i] = age
			youngest = math.Min(youngest, age)
		}
		// Ages are counted from the youngest touch: the ratios are the
		// same, and old journeys with short half-lives cannot underflow
		// every weight to zero.
		for i, age := range w {
			w[i] = math.Exp2(youngest - age)
		}
	})
}

// PositionBased (U-shaped) gives First of each conversion to the first
// touchpoint, Last to the last and the rest equally to those between. A
// journey of one touch gives it everything; of two, half each.
type PositionBased struct {
	First, Last float64 // zero for both means 0.4 and 0.4
}

func (PositionBased) Name() string { return "position_based" }

func (m PositionBased) Attribute(journeys []Journey, opts Options) (*Result, error) {
	first, last := m.First, m.Last
	if first == 0 && last == 0 {
		first, last = 0.4, 0.4
	}
	if first < 0 || last < 0 || first+last > 1 {
		return nil, fmt.Errorf("%w: position-based shares %v and %v must be non-negative and sum to at most 1", ErrInvalidOptions, first, last)
	}
	return attributeRule(m.Name(), journeys, opts, func(_ []counted, _ *touch.Conversion, w []float64) {
		n := len(w)
		switch n {
		case 1:
			w[0] = 1
		case 2:
			w[0], w[1] = 0.5, 0.5
		default:
			w[0], w[n-1] = first, last
			for i := 1; i < n-1; i++ {
				w[i] = (1 - first - last) / float64(n-2)
			}
		}
	})
}
