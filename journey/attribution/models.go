package attribution

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// DefaultModels are every model with its default settings, in the order a
// side-by-side report lists them: the rule-based ones, then first-order
// Markov and Shapley.
func DefaultModels() []Model {
	return []Model{
		FirstTouch{}, LastTouch{}, LastNonDirect{}, Linear{}, TimeDecay{},
		PositionBased{}, WShaped{}, FullPath{}, Markov{}, Shapley{},
	}
}

// Comparison lays several models' results for the same journeys side by
// side.
type Comparison struct {
	Keys    []string  // every key credited by any model, sorted
	Results []*Result // one per model, in the order asked
}

// Compare runs every model (DefaultModels when none are given) on the
// same journeys and options.
func Compare(journeys []Journey, opts Options, models ...Model) (*Comparison, error) {
	if len(models) == 0 {
		models = DefaultModels()
	}
	c := &Comparison{}
	keys := map[string]bool{}
	for _, m := range models {
		r, err := m.Attribute(journeys, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Name(), err)
		}
		c.Results = append(c.Results, r)
		for _, g := range r.Groups {
			keys[g.Key] = true
		}
	}
	for k := range keys {
		c.Keys = append(c.Keys, k)
	}
	sort.Strings(c.Keys)
	return c, nil
}

// Value is the value the i-th model credited to key.
func (c *Comparison) Value(key string, i int) int64 {
	g, _ := c.Results[i].Group(key)
	return g.Value
}

// WriteTable writes one row per key and one column per model, values in
// minor units of the report's currency.
func (c *Comparison) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	currency := ""
	for _, r := range c.Results {
		if r.Currency != "" {
			currency = r.Currency
		}
	}
	head := []string{"key (" + currency + ")"}
	for _, r := range c.Results {
		head = append(head, r.Model)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, k := range c.Keys {
		row := []string{k}
		for i := range c.Results {
			row = append(row, strconv.FormatInt(c.Value(k, i), 10))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
