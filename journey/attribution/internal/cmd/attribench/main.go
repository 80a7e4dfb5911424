// Command attribench writes the attribution benchmark workload and times
// one model on it as a whole process, so that an outside implementation
// (ChannelAttribution) can be timed on the very same file.
//
//	attribench -gen DIR              # DIR/paths.csv (grouped) and DIR/journeys.csv
//	attribench -paths DIR/paths.csv -model markov
//	attribench -paths paths-1m.csv -value-scale 100 -model markov
//
// Models: heuristics (first, last and linear touch together), markov,
// markov3 (third order), markov3_ca (third order with ChannelAttribution's
// states), shapley, shapley_rate, ordered_shapley. -value-scale reads a
// file whose values are not minor units (ChannelAttribution's, in dollars
// with cents: 100).
// The report gives the time to read the file, the model's time, the
// whole process's wall and CPU time and its peak resident memory.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/journey/attribution/internal/workload"
)

func main() {
	start := time.Now()
	gen := flag.String("gen", "", "write paths.csv and journeys.csv into this directory")
	seed := flag.Uint64("seed", 1, "workload seed")
	n := flag.Int("n", 1_000_000, "journeys to generate")
	pathsFile := flag.String("paths", "", "grouped path file to attribute")
	model := flag.String("model", "heuristics", "model to time")
	valueScale := flag.Int64("value-scale", 1, "minor units in one unit of the file's values: 1 for what -gen writes, 100 for a file in dollars with cents")
	flag.Parse()
	var err error
	switch {
	case *gen != "":
		err = generate(*gen, workload.Spec{Seed: *seed, Journeys: *n})
	case *pathsFile != "":
		err = run(*pathsFile, *model, *valueScale, start)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "attribench:", err)
		os.Exit(1)
	}
}

func generate(dir string, spec workload.Spec) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	jf, err := os.Create(filepath.Join(dir, "journeys.csv"))
	if err != nil {
		return err
	}
	defer jf.Close()
	jw := bufio.NewWriterSize(jf, 1<<16)
	fmt.Fprintln(jw, "journey_id,path,conversion_value")
	paths := attribution.NewPathSet()
	names := make([]string, 0, 10)
	id := 0
	var genErr error
	workload.Each(spec, func(j workload.Journey) {
		names = names[:0]
		for _, c := range j.Path {
			names = append(names, workload.Channels[c])
		}
		id++
		fmt.Fprintf(jw, "%d,%s,%d\n", id, strings.Join(names, " > "), j.Value)
		conv, nulls := int64(0), int64(1)
		if j.Value > 0 {
			conv, nulls = 1, 0
		}
		if err := paths.Add(names, conv, j.Value, nulls); err != nil && genErr == nil {
			genErr = err
		}
	})
	if genErr != nil {
		return genErr
	}
	if err := jw.Flush(); err != nil {
		return err
	}
	pf, err := os.Create(filepath.Join(dir, "paths.csv"))
	if err != nil {
		return err
	}
	defer pf.Close()
	if err := paths.WriteCSV(pf); err != nil {
		return err
	}
	journeys, conversions, value := paths.Totals()
	fmt.Printf("%s journeys, %s converting, value %d, %d distinct paths\n", strconv.FormatFloat(journeys, 'f', -1, 64), strconv.FormatFloat(conversions, 'f', -1, 64), value, paths.Len())
	return pf.Close()
}

func run(file, model string, valueScale int64, start time.Time) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	paths, err := attribution.PathsCSV{ValueScale: valueScale}.Read(f)
	if err != nil {
		return err
	}
	read := time.Since(start)
	var models []attribution.PathModel
	switch model {
	case "heuristics":
		models = []attribution.PathModel{attribution.FirstTouch{}, attribution.LastTouch{}, attribution.Linear{}}
	case "markov":
		models = []attribution.PathModel{attribution.Markov{}}
	case "markov3":
		models = []attribution.PathModel{attribution.Markov{Order: 3}}
	case "markov3_ca":
		models = []attribution.PathModel{attribution.Markov{Order: 3, States: attribution.StatesChannelAttribution}}
	case "shapley":
		models = []attribution.PathModel{attribution.Shapley{}}
	case "shapley_rate":
		models = []attribution.PathModel{attribution.Shapley{Worth: attribution.WorthConversionRate}}
	case "ordered_shapley":
		models = []attribution.PathModel{attribution.OrderedShapley{}}
	default:
		return fmt.Errorf("unknown model %q", model)
	}
	modelStart := time.Now()
	var results []*attribution.Result
	for _, m := range models {
		r, err := m.AttributePaths(paths)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	modelTime := time.Since(modelStart)
	for _, r := range results {
		fmt.Printf("%s:", r.Model)
		for _, g := range r.Groups {
			fmt.Printf(" %s=%s", g.Key, strconv.FormatFloat(g.Conversions, 'f', 1, 64))
		}
		fmt.Println()
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// CPU time is reported beside wall time because on a busy machine
	// the wall clock also counts the time other processes ran.
	fmt.Printf("paths %d  read %v  model %v  total %v  cpu %v  peak RSS %.1f MB\n",
		paths.Len(), read.Round(time.Millisecond), modelTime.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond), cpu.Round(time.Millisecond), float64(ru.Maxrss)/1024)
	return nil
}
