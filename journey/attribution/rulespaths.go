package attribution

import "github.com/attriqs/calltrack/classify"

// On grouped paths the rule-based models that need no time or touch kind
// (first, last, last non-direct and linear touch) credit channels
// directly, as ChannelAttribution's heuristic_models does.

func (m FirstTouch) AttributePaths(paths *PathSet) (*Result, error) {
	return attributePathRule(m.Name(), paths, func(steps []int32, conv float64, value int64, acc *channelAcc) {
		acc.add(steps[0], conv, value)
	})
}

func (m LastTouch) AttributePaths(paths *PathSet) (*Result, error) {
	return attributePathRule(m.Name(), paths, func(steps []int32, conv float64, value int64, acc *channelAcc) {
		acc.add(steps[len(steps)-1], conv, value)
	})
}

// AttributePaths credits each path's conversions to its last step whose
// key is not [classify.ChannelDirect] ("Direct"), or to its last step
// when all are. A path set keeps only keys, so this matches Attribute on
// paths grouped by channel, the default key (ChannelAttribution's files
// name channels too); grouped by another key, the paths no longer say
// which touches were direct, and only a step whose key is "Direct" counts
// as one.
func (m LastNonDirect) AttributePaths(paths *PathSet) (*Result, error) {
	direct := int32(-1)
	if paths != nil {
		if id, ok := paths.ids[string(classify.ChannelDirect)]; ok {
			direct = id
		}
	}
	return attributePathRule(m.Name(), paths, func(steps []int32, conv float64, value int64, acc *channelAcc) {
		for i := len(steps) - 1; i >= 0; i-- {
			if steps[i] != direct {
				acc.add(steps[i], conv, value)
				return
			}
		}
		acc.add(steps[len(steps)-1], conv, value)
	})
}

func (m Linear) AttributePaths(paths *PathSet) (*Result, error) {
	var parts []int64
	return attributePathRule(m.Name(), paths, func(steps []int32, conv float64, value int64, acc *channelAcc) {
		parts = resetInts(parts, len(steps))
		splitEqual(value, parts)
		share := conv / float64(len(steps))
		for i, c := range steps {
			acc.add(c, share, parts[i])
		}
	})
}

// channelAcc sums credit per channel id.
type channelAcc struct {
	conversions []float64
	value       []int64
}

func (a *channelAcc) add(channel int32, conversions float64, value int64) {
	a.conversions[channel] += conversions
	a.value[channel] += value
}

func attributePathRule(name string, paths *PathSet, credit func(steps []int32, conv float64, value int64, acc *channelAcc)) (*Result, error) {
	if paths == nil || paths.Len() == 0 {
		return nil, ErrNoJourneys
	}
	acc := &channelAcc{conversions: make([]float64, len(paths.channels)), value: make([]int64, len(paths.channels))}
	res := &Result{Model: name}
	for i := range paths.rows {
		r := &paths.rows[i]
		if r.conversions == 0 {
			continue
		}
		credit(paths.stepsOf(i), r.conversions, r.value, acc)
		res.Conversions += r.conversions
		res.Value += r.value
	}
	res.Groups = channelGroups(paths.channels, acc.conversions, acc.value, nil)
	return res, nil
}

// channelGroups turns per-channel sums into sorted groups, leaving out
// channels that earned nothing.
func channelGroups(names []string, conversions []float64, value []int64, score []float64) []GroupCredit {
	var groups []GroupCredit
	for i, name := range names {
		if conversions[i] == 0 && value[i] == 0 && (score == nil || score[i] == 0) {
			continue
		}
		g := GroupCredit{Key: name, Conversions: conversions[i], Value: value[i]}
		if score != nil {
			g.Score = score[i]
		}
		groups = append(groups, g)
	}
	sortGroups(groups)
	return groups
}
