package attribution

import (
	"sort"
)

// Model is one attribution model. Attribute credits the value of every
// converting journey to the journeys' touchpoints; it never changes its
// input and may be called concurrently.
type Model interface {
	// Name is a short stable identifier such as "last_non_direct".
	Name() string
	Attribute(journeys []Journey, opts Options) (*Result, error)
}

// PathModel is a model that can also work on journeys already grouped by
// identical channel path, as ChannelAttribution reads them. Its result
// has Groups only.
type PathModel interface {
	Model
	AttributePaths(paths *PathSet) (*Result, error)
}

// Result is what one model made of one set of journeys.
type Result struct {
	Model    string
	Currency string
	// Conversions and Value are the totals credited: every converting
	// journey with at least one counted touchpoint. Conversions is whole
	// but for a path set given fractional counts (see PathSet).
	Conversions float64
	Value       int64
	// Groups are the credits per grouping key, sorted by key. Their
	// Value fields sum to Value exactly.
	Groups []GroupCredit
	// Touchpoints are the credits per touchpoint, in input journey order
	// then time order; for each conversion they sum to its value exactly.
	// Touchpoints that earn nothing (all but one in first touch) are left
	// out. Nil from AttributePaths.
	Touchpoints []TouchCredit
	// Positions is the ordered Shapley breakdown by key and position;
	// nil for every other model.
	Positions []PositionCredit
	// Unattributed counts the conversions none of whose touchpoints
	// counted (all outside the lookback window or of other kinds).
	Unattributed Unattributed
}

// GroupCredit is the credit of one grouping key.
type GroupCredit struct {
	Key         string
	Conversions float64 // fractional conversions
	Value       int64   // minor units of Result.Currency
	// Score is the model's own measure behind the split: the removal
	// effect for Markov, the Shapley value in conversions for Shapley,
	// zero for the rule-based models.
	Score float64
}

// TouchCredit is the credit of one touchpoint towards one conversion.
type TouchCredit struct {
	JourneyID    string
	TouchpointID string
	Index        int // position in Journey.Touchpoints
	Key          string
	Conversions  float64
	Value        int64
}

// PositionCredit is ordered Shapley's credit of a key at one touchpoint
// position of the journeys (1 = the first counted touchpoint).
type PositionCredit struct {
	Key         string
	Position    int
	Conversions float64
	Value       int64
}

// Unattributed is converting value that no counted touchpoint earned.
type Unattributed struct {
	Conversions int64
	Value       int64
}

// Group returns the credit of key, and whether the key earned any.
func (r *Result) Group(key string) (GroupCredit, bool) {
	i := sort.Search(len(r.Groups), func(i int) bool { return r.Groups[i].Key >= key })
	if i < len(r.Groups) && r.Groups[i].Key == key {
		return r.Groups[i], true
	}
	return GroupCredit{}, false
}

// groupTouchCredits sums touchpoint credits by key into sorted groups.
func groupTouchCredits(credits []TouchCredit) []GroupCredit {
	idx := map[string]int{}
	var groups []GroupCredit
	for _, c := range credits {
		i, ok := idx[c.Key]
		if !ok {
			i = len(groups)
			idx[c.Key] = i
			groups = append(groups, GroupCredit{Key: c.Key})
		}
		groups[i].Conversions += c.Conversions
		groups[i].Value += c.Value
	}
	sortGroups(groups)
	return groups
}

func sortGroups(groups []GroupCredit) {
	sort.Slice(groups, func(a, b int) bool { return groups[a].Key < groups[b].Key })
}
