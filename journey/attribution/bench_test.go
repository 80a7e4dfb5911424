package attribution_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/journey/attribution/internal/workload"
)

// The anchor workload: 1,000,000 journeys over 12 channels, mean 4
// touchpoints, about 5 % converting, grouped by identical path as
// ChannelAttribution reads them. Run with
//
//	go test -run '^$' -bench Anchor -benchmem ./journey/attribution/
var anchor = sync.OnceValue(func() *attribution.PathSet {
	paths := attribution.NewPathSet()
	names := make([]string, 0, 10)
	workload.Each(workload.Spec{Seed: 1}, func(j workload.Journey) {
		names = names[:0]
		for _, c := range j.Path {
			names = append(names, workload.Channels[c])
		}
		conv, nulls := int64(0), int64(1)
		if j.Value > 0 {
			conv, nulls = 1, 0
		}
		if err := paths.Add(names, conv, j.Value, nulls); err != nil {
			panic(err)
		}
	})
	return paths
})

func BenchmarkAnchorGroupPaths(b *testing.B) {
	var paths *attribution.PathSet
	for b.Loop() {
		paths = attribution.NewPathSet()
		names := make([]string, 0, 10)
		workload.Each(workload.Spec{Seed: 1}, func(j workload.Journey) {
			names = names[:0]
			for _, c := range j.Path {
				names = append(names, workload.Channels[c])
			}
			_ = paths.Add(names, 0, 0, 1)
		})
	}
	b.ReportMetric(float64(paths.Len()), "paths")
}

func benchPaths(b *testing.B, models ...attribution.PathModel) {
	paths := anchor()
	b.ReportMetric(float64(paths.Len()), "paths")
	b.ResetTimer()
	for b.Loop() {
		for _, m := range models {
			if _, err := m.AttributePaths(paths); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// ChannelAttribution's heuristic_models computes these three together.
func BenchmarkAnchorFirstLastLinear(b *testing.B) {
	benchPaths(b, attribution.FirstTouch{}, attribution.LastTouch{}, attribution.Linear{})
}

func BenchmarkAnchorMarkovOrder1(b *testing.B) { benchPaths(b, attribution.Markov{}) }

func BenchmarkAnchorMarkovOrder3(b *testing.B) { benchPaths(b, attribution.Markov{Order: 3}) }

func BenchmarkAnchorMarkovOrder3ChannelAttributionStates(b *testing.B) {
	benchPaths(b, attribution.Markov{Order: 3, States: attribution.StatesChannelAttribution})
}

func BenchmarkAnchorMarkovOrder1LastStateValue(b *testing.B) {
	benchPaths(b, attribution.Markov{ValueMethod: attribution.ValueByLastState})
}

func BenchmarkAnchorShapley(b *testing.B) { benchPaths(b, attribution.Shapley{}) }

func BenchmarkAnchorShapleyConversionRate(b *testing.B) {
	benchPaths(b, attribution.Shapley{Worth: attribution.WorthConversionRate})
}

func BenchmarkAnchorOrderedShapley(b *testing.B) { benchPaths(b, attribution.OrderedShapley{}) }

// BenchmarkJourneys times the per-touchpoint API on 100,000 journeys of
// the same shape, with full touchpoint records.
func BenchmarkJourneys(b *testing.B) {
	var journeys []attribution.Journey
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	workload.Each(workload.Spec{Seed: 2, Journeys: 100_000}, func(w workload.Journey) {
		j := attribution.Journey{ID: fmt.Sprint(len(journeys))}
		for k, c := range w.Path {
			kind := journey.TouchSession
			if k == len(w.Path)-1 && k%3 == 0 {
				kind = journey.TouchCall
			}
			j.Touchpoints = append(j.Touchpoints, journey.Touchpoint{
				ID: fmt.Sprint(k), Kind: kind, At: t0.Add(time.Duration(k) * 24 * time.Hour),
				Source: classify.Source{Channel: classify.Channel(workload.Channels[c])},
			})
		}
		if w.Value > 0 {
			j.Conversion = &journey.Conversion{At: t0.Add(30 * 24 * time.Hour), Value: w.Value, Currency: "USD"}
		}
		journeys = append(journeys, j)
	})
	for _, m := range append(attribution.DefaultModels(), attribution.Markov{Order: 3}) {
		b.Run(m.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Attribute(journeys, attribution.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
