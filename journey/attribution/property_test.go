package attribution

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testChannels = []classify.Channel{paid, organic, direct, email, social, referral, classify.ChannelDisplay}

var testKinds = []journey.TouchKind{journey.TouchSession, journey.TouchSession, journey.TouchCall, journey.TouchChat, journey.TouchForm, journey.TouchCustom}

// randomJourneys makes n journeys of 1–8 touches over 120 days, a third
// converting, with repeated channels, duplicate times and qualified calls.
func randomJourneys(rng *rand.Rand, n int) []Journey {
	js := make([]Journey, n)
	for i := range js {
		k := 1 + rng.IntN(8)
		tps := make([]journey.Touchpoint, k)
		for j := range tps {
			before := time.Duration(rng.IntN(120*24)) * time.Hour
			if j > 0 && rng.IntN(5) == 0 {
				before = t0.Sub(tps[j-1].At) // same time as the previous touch
			}
			var attrs []string
			if rng.IntN(6) == 0 {
				attrs = []string{"qualified", "true"}
			}
			tps[j] = tp(fmt.Sprintf("t%d-%d", i, j), testKinds[rng.IntN(len(testKinds))], testChannels[rng.IntN(len(testChannels))], before, attrs...)
		}
		if rng.IntN(3) == 0 {
			js[i] = converted(fmt.Sprintf("j%d", i), 1+rng.Int64N(100_000), tps...)
		} else {
			js[i] = open(fmt.Sprintf("j%d", i), tps...)
		}
	}
	return js
}

func everyModel() []Model {
	return []Model{
		FirstTouch{}, LastTouch{}, LastNonDirect{}, Linear{}, TimeDecay{}, TimeDecay{Step: true},
		PositionBased{}, WShaped{}, FullPath{}, Markov{}, Markov{Order: 2}, Markov{Order: 3},
		Markov{KeepRepeats: true}, Markov{ValueMethod: ValueByLastState},
		Shapley{}, Shapley{Worth: WorthConversionRate}, OrderedShapley{},
	}
}

// checkSums asserts that every conversion's touchpoint credits sum to its
// value and its one conversion, and that the groups sum to the totals.
func checkSums(t *testing.T, js []Journey, r *Result) {
	t.Helper()
	perJourney := map[string]int64{}
	convs := map[string]float64{}
	for _, c := range r.Touchpoints {
		perJourney[c.JourneyID] += c.Value
		convs[c.JourneyID] += c.Conversions
		require.GreaterOrEqual(t, c.Value, int64(0))
	}
	var total, count int64
	for _, j := range js {
		if j.Conversion == nil {
			assert.Zero(t, perJourney[j.ID], "journey %s did not convert", j.ID)
			continue
		}
		if v, ok := perJourney[j.ID]; ok {
			assert.Equal(t, j.Conversion.Value, v, "journey %s", j.ID)
			assert.InDelta(t, 1, convs[j.ID], 1e-9, "journey %s", j.ID)
			total += v
			count++
		}
	}
	assert.Equal(t, total, r.Value)
	assert.Equal(t, float64(count), r.Conversions)
	var groups int64
	groupConvs := 0.0
	for _, g := range r.Groups {
		groups += g.Value
		groupConvs += g.Conversions
		require.GreaterOrEqual(t, g.Value, int64(0))
	}
	assert.Equal(t, r.Value, groups, "group values sum to the total")
	assert.InDelta(t, r.Conversions, groupConvs, 1e-6)
	assert.False(t, math.IsNaN(groupConvs))
}

func TestPropertyCreditsSumExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 20 {
		js := randomJourneys(rng, 1+rng.IntN(60))
		// Every journey converting at least once keeps the data-driven
		// models from ErrNoConversions.
		js = append(js, converted(fmt.Sprintf("sure%d", round), 999, tp("s", journey.TouchSession, paid, day)))
		for _, m := range everyModel() {
			r, err := m.Attribute(js, Options{})
			require.NoError(t, err, m.Name())
			checkSums(t, js, r)
			again, err := m.Attribute(js, Options{})
			require.NoError(t, err)
			assert.Equal(t, r, again, "%s is deterministic", m.Name())
		}
	}
}

func TestPropertyDegenerateJourneys(t *testing.T) {
	cases := map[string][]Journey{
		"all direct": {
			converted("d", 1000, tp("a", journey.TouchSession, direct, 3*day), tp("b", journey.TouchCall, direct, day)),
			open("o", tp("c", journey.TouchSession, direct, day)),
		},
		"single touch": {
			converted("s", 777, tp("a", journey.TouchCall, paid, day)),
			open("o", tp("b", journey.TouchSession, email, day)),
		},
		"duplicate times": {
			converted("t", 1001, tp("a", journey.TouchSession, paid, day), tp("b", journey.TouchCall, email, day), tp("c", journey.TouchChat, paid, day)),
		},
	}
	for name, js := range cases {
		for _, m := range everyModel() {
			t.Run(name+"/"+m.Name(), func(t *testing.T) {
				r, err := m.Attribute(js, Options{})
				require.NoError(t, err)
				checkSums(t, js, r)
				if name == "single touch" {
					assert.Equal(t, []string{"a=777"}, touchValues(r))
				}
				if name == "all direct" {
					assert.Equal(t, map[string]int64{"Direct": 1000}, values(r))
				}
			})
		}
	}
}

func TestCompare(t *testing.T) {
	c, err := Compare(mixed(), Options{})
	require.NoError(t, err)
	require.Len(t, c.Results, len(DefaultModels()))
	assert.Equal(t, []string{"Direct", "Organic Search", "Paid Search"}, c.Keys)
	assert.Equal(t, int64(1001), c.Value("Paid Search", 0)) // first touch
	assert.Equal(t, int64(1001), c.Value("Direct", 1))      // last touch
	_, err = Compare(nil, Options{})
	assert.ErrorIs(t, err, ErrNoJourneys)
}
