package main

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Search is the smallest pool size that simulation finds meeting an
// accuracy target, with what the rules of thumb reach on the same visitors.
type Search struct {
	Traffic  Traffic
	Target   float64
	Sizing   Sizing
	Smallest int // smallest size simulated whose accuracy and every larger one's meet Target
	Step     int // the sizes simulated last were this far apart: Smallest is exact to Step
	// Accuracy is every simulated size's accuracy, by size.
	Accuracy map[int]float64
}

// SearchSmallest finds by simulation the smallest pool size whose accuracy
// meets target: a coarse pass of sizes from a quarter to twice
// pool.Recommend's pick (with the rules of thumb, so they are measured on
// the same visitors), then a fine pass between the last size that missed
// and the first that met it. A size counts only if every larger size
// simulated meets the target too, so one lucky size cannot decide.
func SearchSmallest(ctx context.Context, tr Traffic, target float64) (Search, error) {
	sizing, err := SizeFor(tr)
	if err != nil {
		return Search{}, err
	}
	s := Search{Traffic: tr, Target: target, Sizing: sizing, Accuracy: map[int]float64{}}
	guess := max(sizing.Recommended, 4)
	var coarse []int
	for _, f := range []float64{0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.35, 1.5, 1.75, 2} {
		coarse = append(coarse, max(1, int(math.Round(f*float64(guess)))))
	}
	coarse = append(coarse, sizing.CTM, sizing.Nimbata)
	if err := s.simulate(ctx, coarse); err != nil {
		return Search{}, err
	}
	hi, lo := s.smallestMeeting()
	if hi == 0 {
		return Search{}, fmt.Errorf("no size up to %d numbers reaches %.2f %% accuracy", slices.Max(coarse), 100*target)
	}
	s.Smallest, s.Step = hi, hi-lo
	if hi-lo <= 1 {
		s.Step = 1
		return s, nil
	}
	step := max(1, int(math.Ceil(float64(hi-lo)/10)))
	var fine []int
	for n := lo + step; n < hi; n += step {
		fine = append(fine, n)
	}
	if err := s.simulate(ctx, fine); err != nil {
		return Search{}, err
	}
	s.Smallest, _ = s.smallestMeeting()
	s.Step = step
	return s, nil
}

func (s *Search) simulate(ctx context.Context, sizes []int) error {
	res, err := Run(ctx, s.Traffic, sizes, nil)
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		s.Accuracy[row.Size] = row.Accuracy()
	}
	return nil
}

// smallestMeeting returns the smallest simulated size that, with every
// larger simulated size, meets the target, and the largest simulated size
// below it (0 when none).
func (s *Search) smallestMeeting() (smallest, below int) {
	sizes := make([]int, 0, len(s.Accuracy))
	for n := range s.Accuracy {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	for i := len(sizes) - 1; i >= 0 && s.Accuracy[sizes[i]] >= s.Target; i-- {
		smallest = sizes[i]
		below = 0
		if i > 0 {
			below = sizes[i-1]
		}
	}
	return smallest, below
}
