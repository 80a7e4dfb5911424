package workload

import (
	"strings"
	"testing"
)

func TestShapeMatchesTheAnchor(t *testing.T) {
	if testing.Short() {
		t.Skip("the anchor-sized workload takes a few seconds")
	}
	var journeys, touches, converting int
	distinct := map[string]struct{}{}
	var sb strings.Builder
	Each(Spec{Seed: 1}, func(j Journey) {
		journeys++
		touches += len(j.Path)
		if j.Value > 0 {
			converting++
		}
		sb.Reset()
		sb.Write(j.Path)
		distinct[sb.String()] = struct{}{}
	})
	mean := float64(touches) / float64(journeys)
	rate := float64(converting) / float64(journeys)
	t.Logf("journeys %d, mean touches %.2f, converting %.2f %%, distinct paths %d", journeys, mean, 100*rate, len(distinct))
	if mean < 3.7 || mean > 4.3 {
		t.Errorf("mean touches %.2f, want about 4", mean)
	}
	if rate < 0.045 || rate > 0.055 {
		t.Errorf("converting %.3f, want about 0.05", rate)
	}
	if len(distinct) < 150_000 || len(distinct) > 220_000 {
		t.Errorf("distinct paths %d, want about 186,000", len(distinct))
	}
}
