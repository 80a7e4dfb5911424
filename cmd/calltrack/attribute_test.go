package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/journey/attribution"
)

// writePathsFile writes a small paths file as ChannelAttribution's users
// have it: ';' between fields, channels joined by " > ", values in
// dollars with cents, some paths with repeats.
func writePathsFile(t *testing.T, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	channels := []string{"Paid Search", "Organic", "Email", "Display", "Direct"}
	var b strings.Builder
	b.WriteString("path;total_conversions;total_conversion_value;total_null\n")
	seen := map[string]bool{}
	for len(seen) < 60 {
		n := 1 + rng.IntN(5)
		steps := make([]string, n)
		for i := range steps {
			steps[i] = channels[rng.IntN(len(channels))]
			if i > 0 && rng.IntN(4) == 0 {
				steps[i] = steps[i-1]
			}
		}
		path := strings.Join(steps, " > ")
		if seen[path] {
			continue
		}
		seen[path] = true
		conv := rng.IntN(4)
		cents := 0
		if conv > 0 {
			cents = conv * (1000 + rng.IntN(20000))
		}
		fmt.Fprintf(&b, "%s;%d;%d.%02d;%d\n", path, conv, cents/100, cents%100, rng.IntN(30))
	}
	name := filepath.Join(t.TempDir(), "paths.csv")
	if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func readCSV(t *testing.T, data []byte, sep rune) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sep
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, data)
	}
	return rows
}

// parseCents reads a value the CLI wrote in dollars back to cents.
func parseCents(t *testing.T, s string) int64 {
	t.Helper()
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 {
		t.Fatalf("value %q does not have two decimals", s)
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAttributeEqualsLibrary runs the command and the library on the same
// file and wants the same credit, to the last cent and float bit, for
// every model, Markov order, state definition and value method.
func TestAttributeEqualsLibrary(t *testing.T) {
	file := writePathsFile(t, 7)
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := attribution.PathsCSV{ValueScale: 100}.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		markov attribution.Markov
	}{
		{nil, attribution.Markov{States: attribution.StatesChannelAttribution, ValueMethod: attribution.ValueByLastState}},
		{[]string{"-order", "2"}, attribution.Markov{Order: 2, States: attribution.StatesChannelAttribution, ValueMethod: attribution.ValueByLastState}},
		{[]string{"-order", "3", "-states", "prefixes", "-value-method", "conversion-share"}, attribution.Markov{Order: 3}},
		{[]string{"-order", "4", "-value-method", "conversion-share"}, attribution.Markov{Order: 4, States: attribution.StatesChannelAttribution}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"attribute", "-paths", file}, tc.args...)
			if err := run(args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			rows := readCSV(t, out.Bytes(), ';') // the input's separator
			markovColumn := "markov"
			if tc.markov.Order > 1 {
				markovColumn = fmt.Sprintf("markov_order%d", tc.markov.Order)
			}
			models := []struct {
				column string
				model  attribution.PathModel
			}{
				{"first_touch", attribution.FirstTouch{}},
				{"last_touch", attribution.LastTouch{}},
				{"linear_touch", attribution.Linear{}},
				{"last_non_direct", attribution.LastNonDirect{}},
				{markovColumn, tc.markov},
				{"shapley", attribution.Shapley{}},
			}
			wantHead := []string{"channel_name"}
			for _, m := range models {
				wantHead = append(wantHead, m.column+"_conversions", m.column+"_value")
			}
			if got := strings.Join(rows[0], ","); got != strings.Join(wantHead, ",") {
				t.Fatalf("header %s, want %s", got, strings.Join(wantHead, ","))
			}
			if len(rows)-1 != len(paths.Channels()) {
				t.Fatalf("%d channel rows, want %d", len(rows)-1, len(paths.Channels()))
			}
			for i, m := range models {
				res, err := m.model.AttributePaths(paths)
				if err != nil {
					t.Fatal(err)
				}
				var sum int64
				for _, row := range rows[1:] {
					g, _ := res.Group(row[0])
					conv, err := strconv.ParseFloat(row[1+2*i], 64)
					if err != nil {
						t.Fatal(err)
					}
					value := parseCents(t, row[2+2*i])
					if conv != g.Conversions || value != g.Value {
						t.Errorf("%s %s: CLI %v conversions, %d cents; library %v, %d", m.column, row[0], conv, value, g.Conversions, g.Value)
					}
					sum += value
				}
				if sum != res.Value {
					t.Errorf("%s: values sum to %d, the model credited %d", m.column, sum, res.Value)
				}
			}
		})
	}
}

// TestAttributeChannelAttributionFiles checks the two tables named after
// ChannelAttribution's functions carry its column names and the same
// numbers as the combined output.
func TestAttributeChannelAttributionFiles(t *testing.T) {
	file := writePathsFile(t, 11)
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"attribute", "-paths", file, "-format", "channelattribution", "-out", dir, "-sep", ","}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var combined bytes.Buffer
	if err := run([]string{"attribute", "-paths", file, "-models", "first,last,linear,markov", "-sep", ","}, &combined, &errOut); err != nil {
		t.Fatal(err)
	}
	all := readCSV(t, combined.Bytes(), ',')
	heur, err := os.ReadFile(filepath.Join(dir, "heuristic_models.csv"))
	if err != nil {
		t.Fatal(err)
	}
	h := readCSV(t, heur, ',')
	if got := strings.Join(h[0], ","); got != "channel_name,first_touch_conversions,first_touch_value,last_touch_conversions,last_touch_value,linear_touch_conversions,linear_touch_value" {
		t.Errorf("heuristic_models header %s", got)
	}
	mk, err := os.ReadFile(filepath.Join(dir, "markov_model.csv"))
	if err != nil {
		t.Fatal(err)
	}
	m := readCSV(t, mk, ',')
	if got := strings.Join(m[0], ","); got != "channel_name,total_conversions,total_conversion_value" {
		t.Errorf("markov_model header %s", got)
	}
	for i := 1; i < len(all); i++ {
		if strings.Join(h[i], ",") != strings.Join(all[i][:7], ",") {
			t.Errorf("heuristic row %v, combined %v", h[i], all[i][:7])
		}
		if strings.Join(m[i], ",") != strings.Join([]string{all[i][0], all[i][7], all[i][8]}, ",") {
			t.Errorf("markov row %v, combined %v", m[i], all[i])
		}
	}
}

func TestAttributeFlagErrorsNameTheFlag(t *testing.T) {
	file := writePathsFile(t, 3)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(bad, []byte("path;total_conversions;total_conversion_value;total_null\nA > > B;1;2;3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{}, "-paths"},
		{[]string{"-paths", filepath.Join(t.TempDir(), "missing.csv")}, "-paths"},
		{[]string{"-paths", bad}, "-paths"},
		{[]string{"-paths", file, "-order", "0"}, "-order"},
		{[]string{"-paths", file, "-order", "x"}, "-order"},
		{[]string{"-paths", file, "-models", "first,nope"}, "-models"},
		{[]string{"-paths", file, "-states", "other"}, "-states"},
		{[]string{"-paths", file, "-value-method", "mean"}, "-value-method"},
		{[]string{"-paths", file, "-value-scale", "50"}, "-value-scale"},
		{[]string{"-paths", file, "-sep", ";;"}, "-sep"},
		{[]string{"-paths", file, "-format", "json"}, "-format"},
		{[]string{"-paths", file, "-format", "channelattribution"}, "-out"},
		{[]string{"-paths", file, "-format", "channelattribution", "-out", t.TempDir(), "-models", "shapley"}, "-models"},
		{[]string{"-paths", file, "-nope"}, "-nope"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"attribute"}, tc.args...), &out, &errOut)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %q does not name %s", err, tc.flag)
			}
			if out.Len() > 0 {
				t.Errorf("wrote output on error: %s", out.String())
			}
		})
	}
}
