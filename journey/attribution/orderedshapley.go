package attribution

import (
	"sort"
)

// OrderedShapley is the ordered Shapley value of Zhao et al. (2018): the
// Shapley value of WorthConversions broken down by touchpoint position.
// A journey whose distinct channels are S gives each channel 1/|S| of
// the conversion, shared equally by the channel's occurrences, and each
// occurrence's part is recorded at its position in the journey (1 =
// first counted touchpoint). Groups equal Shapley's; Positions hold, for
// every key and position, the conversions and value credited there, so a
// report can show which channels open journeys and which close them.
type OrderedShapley struct{}

func (OrderedShapley) Name() string { return "ordered_shapley" }

// AttributePaths credits the channels of a grouped path set.
func (m OrderedShapley) AttributePaths(paths *PathSet) (*Result, error) {
	res, err := Shapley{}.AttributePaths(paths)
	if err != nil {
		return nil, err
	}
	res.Model = m.Name()
	_, _, positions := shapleyWithin(paths, true)
	res.Positions = flattenPositions(positions)
	return res, nil
}

// Attribute credits touchpoints as Shapley does and adds Positions.
func (m OrderedShapley) Attribute(journeys []Journey, opts Options) (*Result, error) {
	res, set, err := Shapley{}.attribute(journeys, opts)
	if err != nil {
		return nil, err
	}
	res.Model = m.Name()
	// Every counted touch of a converting journey has a credit, in order,
	// so the credits can be walked journey by journey, position by
	// position.
	byKey := map[string]map[int]*PositionCredit{}
	next := 0
	for i := range set.journeys {
		p := &set.journeys[i]
		if !p.converted() {
			continue
		}
		for pos := 1; pos <= len(p.touches); pos++ {
			c := res.Touchpoints[next]
			next++
			if byKey[c.Key] == nil {
				byKey[c.Key] = map[int]*PositionCredit{}
			}
			pc := byKey[c.Key][pos]
			if pc == nil {
				pc = &PositionCredit{Key: c.Key, Position: pos}
				byKey[c.Key][pos] = pc
			}
			pc.Conversions += c.Conversions
			pc.Value += c.Value
		}
	}
	all := make([]map[int]*PositionCredit, 0, len(byKey))
	for _, m := range byKey {
		all = append(all, m)
	}
	res.Positions = flattenPositions(all)
	return res, nil
}

func flattenPositions(positions []map[int]*PositionCredit) []PositionCredit {
	var out []PositionCredit
	for _, m := range positions {
		for _, pc := range m {
			out = append(out, *pc)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Key != out[b].Key {
			return out[a].Key < out[b].Key
		}
		return out[a].Position < out[b].Position
	})
	return out
}
