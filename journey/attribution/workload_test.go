package attribution_test

import (
	"testing"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/journey/attribution/internal/workload"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 20,000-journey slice of the benchmark workload through every model
// that reads grouped paths: the totals are exact and the data-driven
// models agree with what the workload was built to show.
func TestSmallWorkload(t *testing.T) {
	paths := attribution.NewPathSet()
	names := make([]string, 0, 10)
	workload.Each(workload.Spec{Seed: 3, Journeys: 20_000}, func(j workload.Journey) {
		names = names[:0]
		for _, c := range j.Path {
			names = append(names, workload.Channels[c])
		}
		conv, nulls := int64(0), int64(1)
		if j.Value > 0 {
			conv, nulls = 1, 0
		}
		require.NoError(t, paths.Add(names, conv, j.Value, nulls))
	})
	_, conversions, value := paths.Totals()
	require.Greater(t, conversions, 500.0)
	models := []attribution.PathModel{
		attribution.FirstTouch{}, attribution.LastTouch{}, attribution.LastNonDirect{}, attribution.Linear{},
		attribution.Markov{}, attribution.Markov{Order: 2}, attribution.Markov{Order: 3}, attribution.Markov{Order: 3, States: attribution.StatesChannelAttribution},
		attribution.Markov{ValueMethod: attribution.ValueByLastState},
		attribution.Shapley{}, attribution.Shapley{Worth: attribution.WorthConversionRate}, attribution.OrderedShapley{},
	}
	results := map[string]*attribution.Result{}
	for _, m := range models {
		r, err := m.AttributePaths(paths)
		require.NoError(t, err, m.Name())
		var sum int64
		conv := 0.0
		for _, g := range r.Groups {
			sum += g.Value
			conv += g.Conversions
			assert.GreaterOrEqual(t, g.Value, int64(0), "%s %s", m.Name(), g.Key)
		}
		assert.Equal(t, value, sum, m.Name())
		assert.InDelta(t, conversions, conv, 1e-6, m.Name())
		results[m.Name()] = r
	}
	// The workload lifts Paid Search's conversion odds most and Audio's
	// least (and Paid Search is the most popular channel), so every
	// data-driven model must rank Paid Search above Audio.
	for _, name := range []string{"markov", "markov_order3", "markov_order3_ca", "shapley", "shapley_rate"} {
		ps, _ := results[name].Group("Paid Search")
		audio, _ := results[name].Group("Audio")
		assert.Greater(t, ps.Conversions, audio.Conversions, name)
	}
}
