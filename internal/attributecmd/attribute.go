// Package attributecmd is the attribute command, which credits the
// conversions of a ChannelAttribution paths file under every model. Both
// calltrack attribute and calltrack-attribute run it; the second links
// nothing else, so a run does not pay the start of the telephony and
// dashboard packages.
package attributecmd

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/journey/attribution"
)

// Usage and Summary describe the command in the commands' help.
const (
	Usage   = "-paths FILE [-models all|first,last,...] [-order 1..4] [-value-method last-state|conversion-share] [-out FILE]"
	Summary = "credit conversions in a ChannelAttribution paths file under every model"
)

// pathModel is one model the attribute command can run on a paths file,
// with the column prefix its credit is written under.
type pathModel struct {
	flagName string // as -models names it
	column   string // <column>_conversions and <column>_value
	model    attribution.PathModel
}

// attributeModelNames are the models -models accepts, in the order the
// output lists them; "all" is every one but shapley_rate, whose
// enumeration is bounded to 20 channels.
var attributeModelNames = []string{"first", "last", "linear", "last_non_direct", "markov", "shapley", "shapley_rate"}

// modelAliases lets ChannelAttribution's own names select models.
var modelAliases = map[string]string{"first_touch": "first", "last_touch": "last", "linear_touch": "linear"}

type attributeFlags struct {
	paths       string
	models      string
	order       int
	states      string
	valueMethod string
	valueScale  int64
	sep         string
	format      string
	out         string
}

// Run runs the command line args (without the command's name) on fs,
// which carries the usage to print; results go to stdout, usage and
// progress to stderr. A bad command line is a [cli.ErrUsage] error, and
// -h returns [flag.ErrHelp] after printing the usage.
func Run(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	// A short batch command over one file: collecting garbage less often
	// is cheaper than the memory it keeps (about 15 % of the run at the
	// default).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	var f attributeFlags
	fs.StringVar(&f.paths, "paths", "", "grouped paths file in ChannelAttribution's layout: header path;total_conversions;total_conversion_value;total_null, channels joined by '>' (required)")
	fs.StringVar(&f.models, "models", "all", "models to run, comma-separated: "+strings.Join(attributeModelNames, ", ")+" (first_touch, last_touch and linear_touch also work); all is every one but shapley_rate")
	fs.IntVar(&f.order, "order", 1, "Markov order, 1 to 4")
	fs.StringVar(&f.states, "states", "channelattribution", "Markov states from order 2: channelattribution (windows of k channels, repeats kept, as its markov_model) or prefixes (repeats collapsed, shorter states at the start)")
	fs.StringVar(&f.valueMethod, "value-method", "last-state", "how Markov credits value: last-state (removal effects on expected value, as ChannelAttribution) or conversion-share (the same share as of conversions)")
	fs.Int64Var(&f.valueScale, "value-scale", 100, "minor units in one unit of total_conversion_value, a power of ten: 100 for values with cents (ChannelAttribution's Data.csv), 1 for minor units (attribution.PathSet.WriteCSV); output values use the same unit")
	fs.StringVar(&f.sep, "sep", "", "field separator of the output, one character; default: the input's (';' or ',')")
	fs.StringVar(&f.format, "format", "combined", "combined: one CSV, a row per channel and two columns per model; channelattribution: -out is a directory that gets heuristic_models.csv and markov_model.csv with ChannelAttribution's columns")
	fs.StringVar(&f.out, "out", "", "output file (combined) or directory (channelattribution); default standard output (combined only)")
	writable := func() error {
		if f.format == "channelattribution" {
			return cli.WritableDir("out", &f.out)()
		}
		return cli.WritableFile("out", &f.out)()
	}
	if err := cli.ParseCommand(fs, args, stderr, writable); err != nil {
		return err
	}
	models, err := f.pathModels()
	if err != nil {
		return err
	}
	if f.paths == "" {
		return cli.FlagError("paths", "is required: the grouped paths file to attribute")
	}
	in, err := os.Open(f.paths)
	if err != nil {
		return cli.FlagError("paths", "%v", err)
	}
	defer in.Close()
	inSep, body, err := peekSeparator(in)
	if err != nil {
		return cli.FlagError("paths", "%v", err)
	}
	// Read from the file itself when it can be rewound: the reader then
	// knows its size and reserves its rows once (a pipe keeps the peeked
	// reader).
	if _, err := in.Seek(0, io.SeekStart); err == nil {
		body = in
	}
	sep := inSep
	if f.sep != "" {
		if sep, err = outputSeparator(f.sep); err != nil {
			return err
		}
	}
	paths, err := attribution.PathsCSV{ValueScale: f.valueScale, HugePages: true}.Read(body)
	if err != nil {
		return cli.FlagError("paths", "%s: %v", f.paths, err)
	}
	if paths.Len() == 0 {
		return cli.FlagError("paths", "%s has no paths", f.paths)
	}
	results := make([]*attribution.Result, len(models))
	for i, m := range models {
		if results[i], err = m.model.AttributePaths(paths); err != nil {
			return fmt.Errorf("%s: %w", m.column, err)
		}
	}
	channels := paths.Channels()
	slices.Sort(channels)
	table := creditTable{channels: channels, models: models, results: results, scale: f.valueScale}
	if f.format == "channelattribution" {
		return table.writeChannelAttribution(f.out, sep, stderr)
	}
	if f.out == "" {
		return table.write(stdout, sep, models)
	}
	return cli.WriteFile(f.out, func(w io.Writer) error { return table.write(w, sep, models) })
}

// pathModels checks every flag that needs no file and returns the models
// asked for.
func (f attributeFlags) pathModels() ([]pathModel, error) {
	if f.order < 1 || f.order > 4 {
		return nil, cli.FlagError("order", "%d is not 1 to 4", f.order)
	}
	markov := attribution.Markov{Order: f.order}
	switch f.states {
	case "channelattribution":
		markov.States = attribution.StatesChannelAttribution
	case "prefixes":
		markov.States = attribution.StatesWithPrefixes
	default:
		return nil, cli.FlagError("states", "%q is neither channelattribution nor prefixes", f.states)
	}
	switch f.valueMethod {
	case "last-state":
		markov.ValueMethod = attribution.ValueByLastState
	case "conversion-share":
		markov.ValueMethod = attribution.ValueByConversionShare
	default:
		return nil, cli.FlagError("value-method", "%q is neither last-state nor conversion-share", f.valueMethod)
	}
	if _, ok := decimalsOf(f.valueScale); !ok {
		return nil, cli.FlagError("value-scale", "%d is not a power of ten from 1 to 10^9", f.valueScale)
	}
	if f.format != "combined" && f.format != "channelattribution" {
		return nil, cli.FlagError("format", "%q is neither combined nor channelattribution", f.format)
	}
	if f.format == "channelattribution" && f.out == "" {
		return nil, cli.FlagError("out", "is required with -format channelattribution: the directory for heuristic_models.csv and markov_model.csv")
	}
	markovColumn := "markov"
	if f.order > 1 {
		markovColumn = fmt.Sprintf("markov_order%d", f.order)
	}
	all := map[string]pathModel{
		"first":           {"first", "first_touch", attribution.FirstTouch{}},
		"last":            {"last", "last_touch", attribution.LastTouch{}},
		"linear":          {"linear", "linear_touch", attribution.Linear{}},
		"last_non_direct": {"last_non_direct", "last_non_direct", attribution.LastNonDirect{}},
		"markov":          {"markov", markovColumn, markov},
		"shapley":         {"shapley", "shapley", attribution.Shapley{}},
		"shapley_rate":    {"shapley_rate", "shapley_rate", attribution.Shapley{Worth: attribution.WorthConversionRate}},
	}
	chosen := map[string]bool{}
	for name := range strings.SplitSeq(f.models, ",") {
		name = strings.TrimSpace(name)
		if a, ok := modelAliases[name]; ok {
			name = a
		}
		switch _, ok := all[name]; {
		case name == "all":
			for _, n := range attributeModelNames {
				chosen[n] = n != "shapley_rate"
			}
		case ok:
			chosen[name] = true
		default:
			return nil, cli.FlagError("models", "unknown model %q; known: all, %s", name, strings.Join(attributeModelNames, ", "))
		}
	}
	var models []pathModel
	for _, n := range attributeModelNames {
		if !chosen[n] {
			continue
		}
		if f.format == "channelattribution" && !slices.Contains([]string{"first", "last", "linear", "markov"}, n) {
			if f.models == "all" {
				continue
			}
			return nil, cli.FlagError("models", "%s has no ChannelAttribution table; -format channelattribution takes first, last, linear and markov", n)
		}
		models = append(models, all[n])
	}
	return models, nil
}

// peekSeparator reads the header line to tell the file's field separator
// as attribution.PathsCSV does (whichever of ';' and ',' the header holds
// more of), and returns a reader of the whole file.
func peekSeparator(r io.Reader) (byte, io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, nil, err
	}
	sep := byte(',')
	if strings.Count(head, ";") > strings.Count(head, ",") {
		sep = ';'
	}
	return sep, io.MultiReader(strings.NewReader(head), br), nil
}

// outputSeparator checks -sep: one character that cannot be mistaken for
// CSV quoting, line ends or a path's '>'.
func outputSeparator(s string) (byte, error) {
	if s == `\t` || s == "tab" {
		return '\t', nil
	}
	if len(s) != 1 || strings.ContainsAny(s, "\"\r\n>.0123456789") {
		return 0, cli.FlagError("sep", "%q is not one character other than a quote, line end, '>', '.' or a digit", s)
	}
	return s[0], nil
}

// decimalsOf is how many decimals a value scale gives: 2 for 100.
func decimalsOf(scale int64) (int, bool) {
	for d, p := 0, int64(1); d <= 9; d, p = d+1, p*10 {
		if scale == p {
			return d, true
		}
	}
	return 0, false
}

// creditTable is every model's credit per channel.
type creditTable struct {
	channels []string
	models   []pathModel
	results  []*attribution.Result
	scale    int64
}

// write writes channel_name and, for each of models, <column>_conversions
// and <column>_value: for first, last and linear touch these are
// ChannelAttribution's heuristic_models columns. Conversions are written
// as the shortest decimal that reads back to the same float64, values in
// the file's unit with exact decimals.
func (t creditTable) write(w io.Writer, sep byte, models []pathModel) error {
	cw := csv.NewWriter(w)
	cw.Comma = rune(sep)
	head := []string{"channel_name"}
	for _, m := range models {
		head = append(head, m.column+"_conversions", m.column+"_value")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, ch := range t.channels {
		row := []string{ch}
		for _, m := range models {
			g, _ := t.result(m).Group(ch)
			row = append(row, formatConversions(g.Conversions), t.formatValue(g.Value))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (t creditTable) result(m pathModel) *attribution.Result {
	for i, mm := range t.models {
		if mm.flagName == m.flagName {
			return t.results[i]
		}
	}
	return nil
}

// writeChannelAttribution writes the tables ChannelAttribution's
// heuristic_models and markov_model return, as files named after them.
func (t creditTable) writeChannelAttribution(dir string, sep byte, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cli.FlagError("out", "%v", err)
	}
	var heuristics []pathModel
	var markov *pathModel
	for _, m := range t.models {
		if m.flagName == "markov" {
			markov = &m
		} else {
			heuristics = append(heuristics, m)
		}
	}
	if len(heuristics) > 0 {
		name := filepath.Join(dir, "heuristic_models.csv")
		if err := cli.WriteFile(name, func(w io.Writer) error { return t.write(w, sep, heuristics) }); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", name)
	}
	if markov != nil {
		name := filepath.Join(dir, "markov_model.csv")
		err := cli.WriteFile(name, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Comma = rune(sep)
			if err := cw.Write([]string{"channel_name", "total_conversions", "total_conversion_value"}); err != nil {
				return err
			}
			r := t.result(*markov)
			for _, ch := range t.channels {
				g, _ := r.Group(ch)
				if err := cw.Write([]string{ch, formatConversions(g.Conversions), t.formatValue(g.Value)}); err != nil {
					return err
				}
			}
			cw.Flush()
			return cw.Error()
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", name)
	}
	return nil
}

func formatConversions(c float64) string { return strconv.FormatFloat(c, 'f', -1, 64) }

// formatValue writes minor units in the file's unit: 1234 at scale 100 is
// "12.34".
func (t creditTable) formatValue(v int64) string {
	d, _ := decimalsOf(t.scale)
	s := strconv.FormatInt(v, 10)
	if d == 0 {
		return s
	}
	if len(s) <= d {
		s = strings.Repeat("0", d-len(s)+1) + s
	}
	return s[:len(s)-d] + "." + s[len(s)-d:]
}
