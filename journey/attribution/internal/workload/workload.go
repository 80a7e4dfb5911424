// Package workload generates the benchmark data of package attribution:
// seeded synthetic journeys over a fixed set of channels with skewed
// popularity, 1–10 touchpoints (mean about 4) and about 5 % converting
// with a value, the shape of the project's performance anchor.
package workload

import (
	"math"
	"math/rand/v2"
)

// Channels are the twelve channel names of the workload, most popular
// first.
var Channels = [12]string{
	"Paid Search", "Organic Search", "Direct", "Paid Social", "Email", "Referral",
	"Display", "Organic Social", "Affiliates", "Paid Video", "SMS", "Audio",
}

// Spec describes a workload; the zero value of a field means the anchor's.
type Spec struct {
	Seed     uint64
	Journeys int // 1,000,000 by default
}

// Journey is one generated journey: channel indexes into Channels, oldest
// first, and its conversion value in cents (0 when it did not convert).
type Journey struct {
	Path  []uint8
	Value int64
}

// Each calls f for every journey of the workload, in order; the path
// slice is reused between calls.
func Each(spec Spec, f func(Journey)) {
	n := spec.Journeys
	if n == 0 {
		n = 1_000_000
	}
	rng := rand.New(rand.NewPCG(spec.Seed, 0x5eed))
	// Popularity falls off as 1/(rank+1)^1.54: a few channels carry most
	// touches, as real traffic does.
	var pop [len(Channels)]float64
	sum := 0.0
	for i := range pop {
		pop[i] = 1 / math.Pow(float64(i+1), 1.54)
		sum += pop[i]
	}
	var cum [len(Channels)]float64
	acc := 0.0
	for i := range pop {
		acc += pop[i] / sum
		cum[i] = acc
	}
	pick := func() uint8 {
		u := rng.Float64()
		for i, c := range cum {
			if u < c {
				return uint8(i)
			}
		}
		return uint8(len(cum) - 1)
	}
	// Lengths 1..10 with P(L) ∝ 0.825^(L−1) give a mean of about 4 (see
	// the test that checks it).
	var lenCum [10]float64
	acc, sum = 0, 0
	for l := range lenCum {
		sum += math.Pow(0.825, float64(l))
	}
	for l := range lenCum {
		acc += math.Pow(0.825, float64(l)) / sum
		lenCum[l] = acc
	}
	// Each channel lifts the odds of converting a little differently, so
	// the models have something to tell apart; the base rate is tuned for
	// about 5 % converting overall.
	lift := [len(Channels)]float64{1.6, 1.3, 1.1, 0.9, 1.5, 1.0, 0.6, 0.8, 1.2, 0.7, 1.4, 0.5}
	path := make([]uint8, 0, 10)
	for range n {
		u := rng.Float64()
		length := 10
		for l, c := range lenCum {
			if u < c {
				length = l + 1
				break
			}
		}
		path = path[:0]
		odds := 0.0
		for k := range length {
			ch := pick()
			if k > 0 && rng.IntN(4) == 0 {
				ch = path[k-1] // people come back the same way
			}
			path = append(path, ch)
			odds += lift[ch]
		}
		p := 0.0213 * odds / float64(length) * (1 + 0.25*float64(length-1))
		var value int64
		if rng.Float64() < p {
			value = 500 + int64(rng.ExpFloat64()*15_000) // cents: $5 plus a long tail
		}
		f(Journey{Path: path, Value: value})
	}
}
