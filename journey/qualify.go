package journey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey/touch"
	"github.com/attriqs/calltrack/provider"
)

// DefaultMinTalk is the talk time a call needs to qualify when a rule
// leaves MinTalk zero.
const DefaultMinTalk = 60 * time.Second

// QualifyRule decides whether calls become call_conversion transactions.
// Scope fields left empty match every call; the zero value of the rest is
// the default rule: answered and at least DefaultMinTalk of talk.
type QualifyRule struct {
	Name string `json:"name"`

	// Scope: which calls the rule is for.
	Pool     string `json:"pool,omitempty"`     // the pool of the dialled number
	Number   string `json:"number,omitempty"`   // the dialled tracking number, E.164
	Campaign string `json:"campaign,omitempty"` // the attributed campaign, compared without regard to case

	// Conditions.
	MinTalk         time.Duration `json:"min_talk,omitempty"`         // zero: DefaultMinTalk
	AllowUnanswered bool          `json:"allow_unanswered,omitempty"` // count calls that were never answered
	FirstTimeOnly   bool          `json:"first_time_only,omitempty"`  // only a caller's first call ever
	// ExcludeRepeatWithin skips callers who called within this long
	// before; zero keeps repeat callers.
	ExcludeRepeatWithin time.Duration `json:"exclude_repeat_within,omitempty"`
	// Outcomes, when set, are the forward outcomes the rule counts (e.g.
	// answered and voicemail); a call whose outcome is not reported yet
	// does not qualify under such a rule.
	Outcomes []provider.Outcome `json:"outcomes,omitempty"`
	// RequireLabels are labels the host's call analyzer must have given
	// the call ("booked"); ExcludeLabels are labels that disqualify it.
	RequireLabels []string `json:"require_labels,omitempty"`
	ExcludeLabels []string `json:"exclude_labels,omitempty"`

	// What a qualified call is worth.
	Value    int64  `json:"value"`    // minor units
	Currency string `json:"currency"` // ISO 4217
}

// CallerHistory tells how a caller called before: the number of calls from
// the number before the given time and when the latest of them was.
type CallerHistory interface {
	CallsBefore(ctx context.Context, from string, before time.Time) (count int, latest time.Time, err error)
}

// Qualifier applies qualification rules, most specific first: a rule for
// the dialled number, then for the campaign, then for the pool, then the
// general rules, each group in the order given.
type Qualifier struct {
	rules   []QualifyRule
	history CallerHistory
}

// DefaultQualifyRule is used when no rules are given: answered calls of at
// least DefaultMinTalk qualify, with no value.
var DefaultQualifyRule = QualifyRule{Name: "default", Currency: "USD"}

// QualifierConfig configures a Qualifier.
type QualifierConfig struct {
	// Rules are the qualification rules; none means [DefaultQualifyRule].
	Rules []QualifyRule
	// History tells how a caller called before. It may be nil when no
	// rule looks at earlier calls (FirstTimeOnly, ExcludeRepeatWithin).
	History CallerHistory
}

// NewQualifier validates cfg, naming every problem by rule index and
// field.
func NewQualifier(cfg QualifierConfig) (*Qualifier, error) {
	rules, history := cfg.Rules, cfg.History
	if len(rules) == 0 {
		rules = []QualifyRule{DefaultQualifyRule}
	}
	var errs []error
	needsHistory := false
	for i, r := range rules {
		at := fmt.Sprintf("journey: qualify rules[%d]", i)
		if r.Name != "" {
			at = fmt.Sprintf("journey: qualify rules[%d] %q", i, r.Name)
		}
		if r.MinTalk < 0 {
			errs = append(errs, fmt.Errorf("%s.min_talk: %v is negative", at, r.MinTalk))
		}
		if r.ExcludeRepeatWithin < 0 {
			errs = append(errs, fmt.Errorf("%s.exclude_repeat_within: %v is negative", at, r.ExcludeRepeatWithin))
		}
		if r.Value < 0 {
			errs = append(errs, fmt.Errorf("%s.value: %d is negative", at, r.Value))
		}
		if !touch.ValidCurrency(r.Currency) {
			errs = append(errs, fmt.Errorf("%s.currency: %q is not a three-letter ISO 4217 code", at, r.Currency))
		}
		for j, o := range r.Outcomes {
			if o == provider.OutcomeUnknown || !o.Valid() {
				errs = append(errs, fmt.Errorf("%s.outcomes[%d]: %q is not an outcome (one of %v)", at, j, o, provider.Outcomes))
			}
		}
		needsHistory = needsHistory || r.FirstTimeOnly || r.ExcludeRepeatWithin > 0
	}
	if needsHistory && history == nil {
		errs = append(errs, errors.New("journey: a qualify rule looks at earlier calls but no History was given"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	ordered := make([]QualifyRule, 0, len(rules))
	for _, specificity := range []func(QualifyRule) bool{
		func(r QualifyRule) bool { return r.Number != "" },
		func(r QualifyRule) bool { return r.Number == "" && r.Campaign != "" },
		func(r QualifyRule) bool { return r.Number == "" && r.Campaign == "" && r.Pool != "" },
		func(r QualifyRule) bool { return r.Number == "" && r.Campaign == "" && r.Pool == "" },
	} {
		for _, r := range rules {
			if specificity(r) {
				ordered = append(ordered, r)
			}
		}
	}
	return &Qualifier{rules: ordered, history: history}, nil
}

// Decision is the outcome of qualifying one call.
type Decision struct {
	Qualified bool
	Rule      string // the rule that decided; empty when no rule applies to the call
	Reason    string
	// Conversion is the call_conversion to record when Qualified. Its ID is
	// derived from the call, so recording it again after a rule change
	// replaces it instead of adding a second one.
	Conversion Conversion
}

// CallConversionID is the natural id of the call_conversion of a call.
func CallConversionID(providerName, callID string) string {
	return "call:" + providerName + "/" + callID
}

// TalkTime is how long the caller and the business talked: the answering
// leg's talk time when the vendor reported the forward's outcome; else the
// duration the provider reports when the call ends (which includes the
// ring); else the time from answer to end. A forward that was not
// answered has none, however long the caller waited.
func TalkTime(call provider.CallEvent) time.Duration {
	answeredToEnd := !call.AnsweredAt.IsZero() && call.EndedAt.After(call.AnsweredAt)
	switch {
	case call.TalkTime > 0:
		return call.TalkTime
	case call.Outcome.Missed():
		return 0
	case call.Outcome == provider.OutcomeAnswered && answeredToEnd:
		// The vendor said who answered and when, not for how long
		// (Telnyx Call Control): the answer to the call's end.
		return call.EndedAt.Sub(call.AnsweredAt)
	case call.Duration > 0:
		return call.Duration
	case answeredToEnd:
		return call.EndedAt.Sub(call.AnsweredAt)
	}
	return 0
}

// Answered reports whether the business picked up: the forward's outcome
// when the vendor reported it (the caller's call is "completed" either
// way), else the caller's call state.
func Answered(call provider.CallEvent) bool {
	if call.Outcome != provider.OutcomeUnknown {
		return call.Outcome == provider.OutcomeAnswered
	}
	return !call.AnsweredAt.IsZero() || call.Status == provider.StatusInProgress ||
		(call.Status == provider.StatusCompleted && call.Duration > 0)
}

// Qualify decides whether a finished call, attributed by a, is a
// conversion. Calls still in progress are not qualified yet.
func (q *Qualifier) Qualify(ctx context.Context, call provider.CallEvent, a Attribution, poolName string) (Decision, error) {
	if !call.Status.Terminal() {
		return Decision{Reason: fmt.Sprintf("call is %s, not over yet", orUnknown(string(call.Status)))}, nil
	}
	rule, ok := q.ruleFor(call, a, poolName)
	if !ok {
		return Decision{Reason: "no qualification rule applies to this call"}, nil
	}
	d := Decision{Rule: rule.Name}
	minTalk := rule.MinTalk
	if minTalk == 0 {
		minTalk = DefaultMinTalk
	}
	talk := TalkTime(call)
	if reason := labelsAndOutcome(rule, call); reason != "" {
		d.Reason = reason
		return d, nil
	}
	switch {
	case len(rule.Outcomes) > 0:
		// The rule names the outcomes it counts: answered or not is
		// settled; the talk minimum applies to answered calls.
		if call.Outcome == provider.OutcomeAnswered && talk < minTalk {
			d.Reason = fmt.Sprintf("talk time %v is under the %v minimum", talk, minTalk)
			return d, nil
		}
	case !rule.AllowUnanswered && !Answered(call):
		d.Reason = "call was not answered"
		return d, nil
	case talk < minTalk:
		d.Reason = fmt.Sprintf("talk time %v is under the %v minimum", talk, minTalk)
		return d, nil
	}
	if rule.FirstTimeOnly || rule.ExcludeRepeatWithin > 0 {
		at, err := CallTime(call)
		if err != nil {
			return Decision{}, err
		}
		count, latest, err := q.history.CallsBefore(ctx, call.From, at)
		if err != nil {
			return Decision{}, fmt.Errorf("journey: earlier calls of the caller: %w", err)
		}
		switch {
		case rule.FirstTimeOnly && count > 0:
			d.Reason = fmt.Sprintf("caller has called %d times before; the rule counts first-time callers only", count)
			return d, nil
		case rule.ExcludeRepeatWithin > 0 && count > 0 && at.Sub(latest) < rule.ExcludeRepeatWithin:
			d.Reason = fmt.Sprintf("caller called %v earlier, within the %v repeat window", at.Sub(latest).Round(time.Second), rule.ExcludeRepeatWithin)
			return d, nil
		}
	}
	at, err := CallTime(call)
	if err != nil {
		return Decision{}, err
	}
	d.Qualified = true
	d.Reason = fmt.Sprintf("answered, talk time %v ≥ %v", talk, minTalk)
	if !Answered(call) {
		d.Reason = fmt.Sprintf("%s, counted by the rule", orUnknown(string(call.Outcome)))
	}
	d.Conversion = Conversion{
		ID: CallConversionID(call.Provider, call.CallID), Type: ConversionCall, At: at.UTC(),
		VisitorID: a.VisitorID, SessionID: a.SessionID, Value: rule.Value, Currency: rule.Currency,
		CallProvider: call.Provider, CallID: call.CallID,
	}
	return d, nil
}

// labelsAndOutcome says why the rule's outcome and label conditions turn
// the call down, or "".
func labelsAndOutcome(rule QualifyRule, call provider.CallEvent) string {
	if len(rule.Outcomes) > 0 && !slices.Contains(rule.Outcomes, call.Outcome) {
		return fmt.Sprintf("forward outcome %s is not one the rule counts (%v)", orUnknown(string(call.Outcome)), rule.Outcomes)
	}
	for _, l := range rule.RequireLabels {
		if !slices.Contains(call.Labels, l) {
			return fmt.Sprintf("the call analyzer did not label it %q", l)
		}
	}
	for _, l := range rule.ExcludeLabels {
		if slices.Contains(call.Labels, l) {
			return fmt.Sprintf("the call analyzer labelled it %q", l)
		}
	}
	return ""
}

func (q *Qualifier) ruleFor(call provider.CallEvent, a Attribution, poolName string) (QualifyRule, bool) {
	for _, r := range q.rules {
		if (r.Number == "" || r.Number == call.To) &&
			(r.Campaign == "" || strings.EqualFold(r.Campaign, a.Source.Campaign)) &&
			(r.Pool == "" || r.Pool == poolName) {
			return r, true
		}
	}
	return QualifyRule{}, false
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}
