package journey

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey/touch"
)

// FormRule decides which form submissions (touchpoints of kind
// [TouchForm]) become conversions of type [ConversionForm], as a
// [QualifyRule] does for calls. Scope fields left empty match every form.
type FormRule struct {
	Name string `json:"name"`

	// Scope: which forms the rule is for.
	Form string `json:"form,omitempty"` // the form's name, exact or a path.Match glob ("quote-*")
	Page string `json:"page,omitempty"` // the page's path or a path above it ("/contact" holds "/contact/thanks", not "/contactless")

	// Conditions.
	// RequireOutcome is the outcome the page must report for the
	// submission (the tracker's formOutcome, e.g. "sent"); a submission
	// without it does not qualify until it arrives.
	RequireOutcome string `json:"require_outcome,omitempty"`
	// FirstTimeOnly counts only the visitor's first submission that the
	// rule would count.
	FirstTimeOnly bool `json:"first_time_only,omitempty"`
	// Verified counts only the submissions the host reported itself
	// (dni.Service.RecordForm), never the browser's claims.
	Verified bool `json:"verified,omitempty"`

	// What a qualified submission is worth.
	Value    int64  `json:"value"`    // minor units
	Currency string `json:"currency"` // ISO 4217
}

// Attributes of a form touchpoint that the rules read.
const (
	AttrFormName     = "name"
	AttrFormPage     = "page"
	AttrFormOutcome  = "outcome"
	AttrFormVerified = "verified" // "true" when the host reported the form
)

// formOutcome is what the tracker accepts as an outcome.
var formOutcome = regexp.MustCompile(`^[\w.:-]{1,32}$`)

// ValidateFormRules reports every problem of rules, each naming the rule's
// index and field: "form_rules[2].value: -5 is negative".
func ValidateFormRules(rules []FormRule) error {
	var errs []error
	for i, r := range rules {
		bad := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("journey: form_rules[%d].%s: %s", i, field, fmt.Sprintf(format, args...)))
		}
		if strings.TrimSpace(r.Name) == "" {
			bad("name", "empty; name the rule")
		}
		if _, err := path.Match(r.Form, ""); err != nil {
			bad("form", "%q is not a path.Match pattern", r.Form)
		}
		if r.Page != "" && r.Page[0] != '/' {
			bad("page", "%q is not a path starting with /", r.Page)
		}
		if r.RequireOutcome != "" && !formOutcome.MatchString(r.RequireOutcome) {
			bad("require_outcome", "%q: want [A-Za-z0-9_.:-], 1 to 32 characters, as the tracker sends", r.RequireOutcome)
		}
		if r.Value < 0 {
			bad("value", "%d is negative", r.Value)
		}
		if !touch.ValidCurrency(r.Currency) {
			bad("currency", "%q is not a three-letter ISO 4217 code", r.Currency)
		}
	}
	return errors.Join(errs...)
}

// FormConversionID is the natural id of a form's conversion: its
// touchpoint's id, as a call's is its call's. The rules and an outcome
// set by hand write the same conversion, so the hand's value replaces
// the rule's and repeats converge.
func FormConversionID(touchpointID string) string { return touchpointID }

// FormHistory tells what a visitor submitted before.
type FormHistory interface {
	// FormsBefore returns the visitor's form touchpoints with At before
	// before.
	FormsBefore(ctx context.Context, visitorID string, before time.Time) ([]Touchpoint, error)
}

// QualifyForm decides whether the form touchpoint tp is a conversion
// under rules: the first rule, in the order given, whose scope matches
// the form decides. A form the browser reported (not verified) counts at
// most once per session and rule: anyone can post the tracker's events,
// and a claim repeated fifty times a request must not become fifty
// conversions sent to the ad platforms. history may be nil only for a
// verified form under a rule that is not FirstTimeOnly.
func QualifyForm(ctx context.Context, rules []FormRule, tp Touchpoint, history FormHistory) (Decision, error) {
	if tp.Kind != TouchForm {
		return Decision{Reason: fmt.Sprintf("touchpoint is a %s, not a form", tp.Kind)}, nil
	}
	i := formRuleFor(rules, tp)
	if i < 0 {
		return Decision{Reason: "no form rule applies to this form"}, nil
	}
	r := rules[i]
	d := Decision{Rule: r.Name}
	if d.Reason = formConditions(r, tp); d.Reason != "" {
		return d, nil
	}
	claim := tp.Attrs[AttrFormVerified] != "true"
	if r.FirstTimeOnly || claim {
		if history == nil {
			return Decision{}, fmt.Errorf("journey: form rule %q: no history was given to check the visitor's earlier forms", r.Name)
		}
		before := tp.At
		if claim {
			// The browser sets its forms' times: any of its forms counted,
			// earlier or later, so claims sent latest first are not each
			// the first.
			before = endOfTime
		}
		earlier, err := history.FormsBefore(ctx, tp.VisitorID, before)
		if err != nil {
			return Decision{}, fmt.Errorf("journey: earlier forms of the visitor: %w", err)
		}
		for _, e := range earlier {
			if e.ID == tp.ID || formRuleFor(rules, e) != i || formConditions(r, e) != "" {
				continue
			}
			if r.FirstTimeOnly {
				d.Reason = fmt.Sprintf("the visitor's earlier form %s counted; the rule counts the first only", e.ID)
				return d, nil
			}
			if e.SessionID == tp.SessionID && e.Attrs[AttrFormVerified] != "true" {
				d.Reason = fmt.Sprintf("the session's earlier form %s counted; a form the browser reports counts once per session and rule", e.ID)
				return d, nil
			}
		}
	}
	d.Qualified, d.Reason = true, "form matches the rule"
	d.Conversion = Conversion{ID: FormConversionID(tp.ID), Type: ConversionForm, At: tp.At.UTC(),
		VisitorID: tp.VisitorID, SessionID: tp.SessionID, Value: r.Value, Currency: r.Currency}
	return d, nil
}

// endOfTime is after every form's time.
var endOfTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// formRuleFor is the index of the first rule whose scope matches tp, or -1.
func formRuleFor(rules []FormRule, tp Touchpoint) int {
	name, page := tp.Attrs[AttrFormName], tp.Attrs[AttrFormPage]
	for i, r := range rules {
		ok, _ := path.Match(r.Form, name) // validated
		if (r.Form == "" || ok) && underPath(page, r.Page) {
			return i
		}
	}
	return -1
}

// underPath reports whether page is prefix or below it, segment by
// segment: "/contact" holds "/contact/thanks" but not "/contactless".
func underPath(page, prefix string) bool {
	rest, ok := strings.CutPrefix(page, prefix)
	return prefix == "" || ok && (rest == "" || strings.HasSuffix(prefix, "/") || rest[0] == '/' || rest[0] == '?')
}

// formConditions says why r's conditions turn tp down, or "".
func formConditions(r FormRule, tp Touchpoint) string {
	switch {
	case r.Verified && tp.Attrs[AttrFormVerified] != "true":
		return "reported by the browser; the rule counts forms the host reported only"
	case r.RequireOutcome != "" && tp.Attrs[AttrFormOutcome] != r.RequireOutcome:
		return fmt.Sprintf("outcome %q is not the %q the rule requires", tp.Attrs[AttrFormOutcome], r.RequireOutcome)
	}
	return ""
}
