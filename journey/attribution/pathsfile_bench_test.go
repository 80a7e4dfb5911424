package attribution_test

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/journey/attribution/internal/workload"
)

// pathsFile is the file the attribution comparison with ChannelAttribution
// reads: CALLTRACK_PATHS_FILE names it (the 1,000,000-journey file of
// docs/benchmarks.md); without it, the anchor workload is written in the
// same layout: ';' between fields, " > " between channels, a path before
// its extensions in the order of channel names, values with cents.
var pathsFile = sync.OnceValues(func() ([]byte, error) {
	if name := os.Getenv("CALLTRACK_PATHS_FILE"); name != "" {
		return os.ReadFile(name)
	}
	type row struct {
		path       []string
		conv, null int64
		value      int64
	}
	byPath := map[string]*row{}
	workload.Each(workload.Spec{Seed: 1}, func(j workload.Journey) {
		names := make([]string, len(j.Path))
		for i, c := range j.Path {
			names[i] = workload.Channels[c]
		}
		key := strings.Join(names, "\x00")
		r := byPath[key]
		if r == nil {
			r = &row{path: names}
			byPath[key] = r
		}
		if j.Value > 0 {
			r.conv++
			r.value += j.Value
		} else {
			r.null++
		}
	})
	rows := make([]*row, 0, len(byPath))
	for _, r := range byPath {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b *row) int { return slices.Compare(a.path, b.path) })
	var buf bytes.Buffer
	buf.WriteString("path;total_conversions;total_conversion_value;total_null\n")
	for _, r := range rows {
		fmt.Fprintf(&buf, "%s;%d;%d.%02d;%d\n", strings.Join(r.path, " > "), r.conv, r.value/100, r.value%100, r.null)
	}
	return buf.Bytes(), nil
})

func readPathsFile(b *testing.B) *attribution.PathSet {
	data, err := pathsFile()
	if err != nil {
		b.Fatal(err)
	}
	paths, err := attribution.PathsCSV{ValueScale: 100}.Read(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	return paths
}

// BenchmarkPathsFile reads the paths file and runs the models of
// ChannelAttribution's anchors on it, as the attribute command does
// (Markov with ChannelAttribution's states and value method), in one
// process; the read sub-benchmark is the reading alone.
//
//	CALLTRACK_PATHS_FILE=paths-1m.csv go test -run '^$' -bench PathsFile -benchmem ./journey/attribution/
func BenchmarkPathsFile(b *testing.B) {
	data, err := pathsFile()
	if err != nil {
		b.Fatal(err)
	}
	markov := func(order int) attribution.PathModel {
		return attribution.Markov{Order: order, States: attribution.StatesChannelAttribution, ValueMethod: attribution.ValueByLastState}
	}
	for _, bm := range []struct {
		name   string
		models []attribution.PathModel
	}{
		{"read", nil},
		{"first_last_linear", []attribution.PathModel{attribution.FirstTouch{}, attribution.LastTouch{}, attribution.Linear{}}},
		{"markov1", []attribution.PathModel{markov(1)}},
		{"markov2", []attribution.PathModel{markov(2)}},
		{"markov3", []attribution.PathModel{markov(3)}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var paths *attribution.PathSet
			for b.Loop() {
				paths = readPathsFile(b)
				for _, m := range bm.models {
					if _, err := m.AttributePaths(paths); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(paths.Len()), "paths")
		})
	}
}
