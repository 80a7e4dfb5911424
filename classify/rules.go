package classify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Field is what a rule condition looks at.
type Field string

const (
	FieldSource        Field = "source"   // lower case, as classified
	FieldMedium        Field = "medium"   // lower case, as classified
	FieldCampaign      Field = "campaign" // as tagged
	FieldTerm          Field = "term"
	FieldContent       Field = "content"
	FieldChannel       Field = "channel"        // GA4's default channel, e.g. "Paid Search"
	FieldReferrerHost  Field = "referrer_host"  // lower case, no port
	FieldLandingPath   Field = "landing_path"   // path of the landing URL, without query
	FieldQuery         Field = "query"          // the landing URL's parameter named by Param
	FieldClickPlatform Field = "click_platform" // e.g. "Google Ads", "Microsoft Ads"
)

var knownFields = map[Field]bool{
	FieldSource: true, FieldMedium: true, FieldCampaign: true, FieldTerm: true, FieldContent: true,
	FieldChannel: true, FieldReferrerHost: true, FieldLandingPath: true, FieldQuery: true, FieldClickPlatform: true,
}

// Op is how a condition compares.
type Op string

const (
	OpExact    Op = "exact"
	OpPrefix   Op = "prefix"
	OpSuffix   Op = "suffix"
	OpContains Op = "contains"
	OpRegex    Op = "regex" // Go RE2 syntax, unanchored unless the pattern anchors itself
)

// Condition is one test of a rule.
type Condition struct {
	Field      Field  `json:"field"`
	Param      string `json:"param,omitempty"` // the query parameter, for FieldQuery only
	Op         Op     `json:"op"`
	Value      string `json:"value"`
	IgnoreCase bool   `json:"ignore_case,omitempty"`
}

// Rule sends the visits that meet all its conditions to a channel, a number
// pool, or both. Rules are tried in order; the first that matches wins.
type Rule struct {
	Name    string      `json:"name"`
	When    []Condition `json:"when"`
	Channel Channel     `json:"channel,omitempty"` // overrides GA4's channel when set
	Pool    string      `json:"pool,omitempty"`    // the number pool to serve the visit from
}

// LoadRules reads rules from JSON of the form {"rules": [ … ]}. Unknown
// fields are errors, and every invalid rule is reported at once.
func LoadRules(r io.Reader) ([]Rule, error) {
	var file struct {
		Rules []Rule `json:"rules"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("classify: rules file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("classify: rules file: unexpected data after the rules object")
	}
	if _, err := compileRules(file.Rules); err != nil {
		return nil, err
	}
	return file.Rules, nil
}

// ValidateRules reports every problem with rules, each naming the rule's
// index and the field, or nil when all are valid.
func ValidateRules(rules []Rule) error {
	_, err := compileRules(rules)
	return err
}

type compiledCondition struct {
	Condition
	param string // lower case: parameter names are case-insensitive
	value string // lower-cased when IgnoreCase
	re    *regexp.Regexp
}

type compiledRule struct {
	rule  Rule
	label string // Source.Rule for a visit the rule matches: "user:INDEX:NAME"
	conds []compiledCondition
}

func compileRules(rules []Rule) ([]compiledRule, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf("classify: "+format, args...)) }
	out := make([]compiledRule, 0, len(rules))
	for i, r := range rules {
		at := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			at = fmt.Sprintf("rules[%d] %q", i, r.Name)
		}
		if len(r.When) == 0 {
			fail("%s.when: a rule needs at least one condition", at)
		}
		if r.Channel == "" && r.Pool == "" {
			fail("%s: set channel, pool or both", at)
		}
		cr := compiledRule{rule: r, label: fmt.Sprintf("user:%d:%s", i, r.Name)}
		for j, c := range r.When {
			cat := fmt.Sprintf("%s.when[%d]", at, j)
			cc := compiledCondition{Condition: c, param: strings.ToLower(c.Param), value: c.Value}
			if c.IgnoreCase {
				cc.value = strings.ToLower(c.Value)
			}
			switch {
			case !knownFields[c.Field]:
				fail("%s.field: unknown field %q", cat, c.Field)
			case c.Field == FieldQuery && c.Param == "":
				fail("%s.param: a query condition names its parameter", cat)
			case c.Field != FieldQuery && c.Param != "":
				fail("%s.param: only query conditions take a parameter", cat)
			}
			switch c.Op {
			case OpExact, OpPrefix, OpSuffix, OpContains:
				if c.Value == "" && c.Op != OpExact {
					fail("%s.value: empty %s matches everything", cat, c.Op)
				}
			case OpRegex:
				pattern := c.Value
				if c.IgnoreCase {
					pattern = "(?i)" + pattern
				}
				re, err := regexp.Compile(pattern)
				if err != nil {
					fail("%s.value: invalid regex: %v", cat, err)
				}
				cc.re = re
			default:
				fail("%s.op: unknown operator %q (exact, prefix, suffix, contains, regex)", cat, c.Op)
			}
			cr.conds = append(cr.conds, cc)
		}
		out = append(out, cr)
	}
	return out, errors.Join(errs...)
}

func (c *compiledCondition) matches(v string) bool {
	if c.re != nil {
		return c.re.MatchString(v)
	}
	if c.IgnoreCase {
		v = strings.ToLower(v)
	}
	switch c.Op {
	case OpExact:
		return v == c.value
	case OpPrefix:
		return strings.HasPrefix(v, c.value)
	case OpSuffix:
		return strings.HasSuffix(v, c.value)
	default:
		return strings.Contains(v, c.value)
	}
}

// ruleSet finds the first matching rule without trying every rule: each
// rule is filed under one of its exact, prefix or suffix conditions, and a
// visit looks up only the entries its own values point to. Rules made only
// of "contains" and regex conditions are tried one by one.
type ruleSet struct {
	rules  []compiledRule
	exact  map[anchorKey][]int
	prefix map[anchorKey][]int
	suffix map[anchorKey][]int
	// lengths of the prefix and suffix anchors per (field, param, fold), so a
	// lookup tries each distinct length once, whatever the number of rules.
	prefixLens map[slotKey][]int
	suffixLens map[slotKey][]int
	slots      []slotKey // every (field, param, fold) something is filed under
	scan       []int
	params     map[string]bool // query parameters the rules read, lower case
}

type slotKey struct {
	field Field
	param string
	fold  bool
}

type anchorKey struct {
	slotKey
	value string
}

func newRuleSet(compiled []compiledRule) *ruleSet {
	s := &ruleSet{
		rules: compiled, exact: map[anchorKey][]int{}, prefix: map[anchorKey][]int{}, suffix: map[anchorKey][]int{},
		prefixLens: map[slotKey][]int{}, suffixLens: map[slotKey][]int{}, params: map[string]bool{},
	}
	slotSeen := map[slotKey]bool{}
	for i, r := range compiled {
		for _, c := range r.conds {
			if c.Field == FieldQuery {
				s.params[c.param] = true
			}
		}
		anchor := pickAnchor(r.conds)
		if anchor == nil {
			s.scan = append(s.scan, i)
			continue
		}
		slot := slotKey{anchor.Field, anchor.param, anchor.IgnoreCase}
		if !slotSeen[slot] {
			slotSeen[slot] = true
			s.slots = append(s.slots, slot)
		}
		key := anchorKey{slot, anchor.value}
		switch anchor.Op {
		case OpExact:
			s.exact[key] = append(s.exact[key], i)
		case OpPrefix:
			s.prefix[key] = append(s.prefix[key], i)
			s.prefixLens[slot] = addLen(s.prefixLens[slot], len(anchor.value))
		case OpSuffix:
			s.suffix[key] = append(s.suffix[key], i)
			s.suffixLens[slot] = addLen(s.suffixLens[slot], len(anchor.value))
		}
	}
	return s
}

// pickAnchor prefers an exact condition, then a prefix or suffix one.
func pickAnchor(conds []compiledCondition) *compiledCondition {
	var best *compiledCondition
	for i := range conds {
		c := &conds[i]
		switch {
		case c.Op == OpExact:
			return c
		case (c.Op == OpPrefix || c.Op == OpSuffix) && best == nil:
			best = c
		}
	}
	return best
}

func addLen(lens []int, n int) []int {
	for _, l := range lens {
		if l == n {
			return lens
		}
	}
	return append(lens, n)
}

// fieldValue returns what a condition on (field, param) sees for a visit.
type fieldValue func(f Field, param string) string

// first returns the first rule, in rule order, that matches.
func (s *ruleSet) first(value fieldValue) *compiledRule {
	best := len(s.rules)
	try := func(candidates []int) {
		for _, i := range candidates {
			if i >= best {
				return // candidates are in rule order
			}
			if s.rules[i].matchesAll(value) {
				best = i
				return
			}
		}
	}
	for _, slot := range s.slots {
		v := value(slot.field, slot.param)
		if slot.fold {
			v = strings.ToLower(v)
		}
		try(s.exact[anchorKey{slot, v}])
		for _, n := range s.prefixLens[slot] {
			if n <= len(v) {
				try(s.prefix[anchorKey{slot, v[:n]}])
			}
		}
		for _, n := range s.suffixLens[slot] {
			if n <= len(v) {
				try(s.suffix[anchorKey{slot, v[len(v)-n:]}])
			}
		}
	}
	try(s.scan)
	if best == len(s.rules) {
		return nil
	}
	return &s.rules[best]
}

func (r *compiledRule) matchesAll(value fieldValue) bool {
	for i := range r.conds {
		c := &r.conds[i]
		if !c.matches(value(c.Field, c.param)) {
			return false
		}
	}
	return true
}
