package attribution

import "github.com/attriqs/calltrack/journey/touch"

// Milestones say which touchpoints created the lead and the opportunity,
// for WShaped and FullPath. Nil predicates mean IsLeadTouch and
// IsOpportunityTouch.
type Milestones struct {
	Lead        func(touch.Touchpoint) bool
	Opportunity func(touch.Touchpoint) bool
}

// IsLeadTouch is the default lead-creation test: the person made
// themselves known by a call, a chat or a form.
func IsLeadTouch(t touch.Touchpoint) bool {
	return t.Kind == touch.TouchCall || t.Kind == touch.TouchChat || t.Kind == touch.TouchForm
}

// IsOpportunityTouch is the default opportunity-creation test: a touch
// marked Attrs["opportunity"] = "true" by the host, or a call marked
// Attrs["qualified"] = "true" by the qualification rules.
func IsOpportunityTouch(t touch.Touchpoint) bool {
	if t.Attrs["opportunity"] == "true" {
		return true
	}
	return t.Kind == touch.TouchCall && t.Attrs["qualified"] == "true"
}

// roles finds the milestone touches of one journey: the first touch, the
// first lead touch, and the first opportunity touch at or after the lead
// (from the start when there is no lead); -1 when there is none.
func (m Milestones) roles(ts []counted) (first, lead, opp int) {
	isLead, isOpp := m.Lead, m.Opportunity
	if isLead == nil {
		isLead = IsLeadTouch
	}
	if isOpp == nil {
		isOpp = IsOpportunityTouch
	}
	lead, opp = -1, -1
	for i, t := range ts {
		if isLead(*t.tp) {
			lead = i
			break
		}
	}
	for i := max(lead, 0); i < len(ts); i++ {
		if isOpp(*ts[i].tp) {
			opp = i
			break
		}
	}
	return 0, lead, opp
}

// milestoneWeights shares `share` of the conversion equally among the
// milestone roles that were found (a missing role's part goes to the
// roles present), adds up roles that fall on the same touch, and shares
// the rest equally among the other touches; with no other touches the
// milestones take everything in proportion.
func milestoneWeights(roles []int, share float64, w []float64) {
	found := 0
	for _, r := range roles {
		if r >= 0 {
			found++
		}
	}
	isMilestone := make([]bool, len(w))
	for _, r := range roles {
		if r >= 0 {
			w[r] += share / float64(found)
			isMilestone[r] = true
		}
	}
	others := 0
	for _, m := range isMilestone {
		if !m {
			others++
		}
	}
	if others == 0 {
		return // splitExact normalises the milestone weights to the whole value
	}
	for i, m := range isMilestone {
		if !m {
			w[i] = (1 - share) / float64(others)
		}
	}
}

// WShaped gives 30 % each to the first touch, the lead-creation touch and
// the opportunity-creation touch, and shares 10 % among the others (the
// Marketo Measure convention).
type WShaped struct{ Milestones Milestones }

func (WShaped) Name() string { return "w_shaped" }

func (m WShaped) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(ts []counted, _ *touch.Conversion, w []float64) {
		first, lead, opp := m.Milestones.roles(ts)
		milestoneWeights([]int{first, lead, opp}, 0.9, w)
	})
}

// FullPath gives 22.5 % each to the first touch, the lead-creation touch,
// the opportunity-creation touch and the closing (last) touch, and shares
// 10 % among the others (the Marketo Measure convention).
type FullPath struct{ Milestones Milestones }

func (FullPath) Name() string { return "full_path" }

func (m FullPath) Attribute(journeys []Journey, opts Options) (*Result, error) {
	return attributeRule(m.Name(), journeys, opts, func(ts []counted, _ *touch.Conversion, w []float64) {
		first, lead, opp := m.Milestones.roles(ts)
		milestoneWeights([]int{first, lead, opp, len(ts) - 1}, 0.9, w)
	})
}
