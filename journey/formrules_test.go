package journey

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type formsBefore []Touchpoint

func (f formsBefore) FormsBefore(_ context.Context, visitor string, before time.Time) ([]Touchpoint, error) {
	var out []Touchpoint
	for _, tp := range f {
		if tp.VisitorID == visitor && tp.At.Before(before) {
			out = append(out, tp)
		}
	}
	return out, nil
}

type failingHistory struct{}

func (failingHistory) FormsBefore(context.Context, string, time.Time) ([]Touchpoint, error) {
	return nil, errors.New("store down")
}

func TestQualifyForm(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	form := func(id, name, page, outcome string, at time.Time, verified bool) Touchpoint {
		attrs := map[string]string{AttrFormName: name, AttrFormPage: page}
		if outcome != "" {
			attrs[AttrFormOutcome] = outcome
		}
		if verified {
			attrs[AttrFormVerified] = "true"
		}
		return Touchpoint{ID: id, Kind: TouchForm, At: at, VisitorID: "v1", SessionID: "s1", Attrs: attrs}
	}
	rules := []FormRule{
		{Name: "quote sent", Form: "quote-*", Page: "/quote", RequireOutcome: "sent", Value: 15000, Currency: "USD"},
		{Name: "first contact", Form: "contact", FirstTimeOnly: true, Value: 1000, Currency: "EUR"},
		{Name: "verified lead", Form: "lead", Verified: true, Value: 5000, Currency: "USD"},
	}
	earlierContact := form("form:s0/contact/1", "contact", "/", "", t0.Add(-time.Hour), false)
	claimInAnotherSession := form("f0", "quote-deck", "/quote/deck", "sent", t0.Add(-time.Hour), false)
	claimInAnotherSession.SessionID = "s0"
	for _, tc := range []struct {
		name    string
		tp      Touchpoint
		history FormHistory
		want    bool
		rule    string
	}{
		{"glob, page prefix and outcome match", form("f1", "quote-roof", "/quote/roof", "sent", t0, false), formsBefore{}, true, "quote sent"},
		{"outcome not reported yet", form("f1", "quote-roof", "/quote/roof", "", t0, false), formsBefore{}, false, "quote sent"},
		{"another outcome", form("f1", "quote-roof", "/quote/roof", "invalid", t0, false), formsBefore{}, false, "quote sent"},
		{"page outside the prefix", form("f1", "quote-roof", "/about", "sent", t0, false), nil, false, ""},
		{"page sharing the prefix's letters only", form("f1", "quote-roof", "/quoteless", "sent", t0, false), nil, false, ""},
		{"the prefix's page itself", form("f1", "quote-roof", "/quote", "sent", t0, false), formsBefore{}, true, "quote sent"},
		{"name outside the glob", form("f1", "newsletter", "/quote", "sent", t0, false), nil, false, ""},
		{"a browser's second claim in the session", form("f1", "quote-roof", "/quote/roof", "sent", t0, false),
			formsBefore{form("f0", "quote-deck", "/quote/deck", "sent", t0.Add(-time.Minute), false)}, false, "quote sent"},
		{"an earlier claim that did not count does not stop it", form("f1", "quote-roof", "/quote/roof", "sent", t0, false),
			formsBefore{form("f0", "quote-deck", "/quote/deck", "", t0.Add(-time.Minute), false)}, true, "quote sent"},
		{"a browser's claim in another session", form("f1", "quote-roof", "/quote/roof", "sent", t0, false),
			formsBefore{claimInAnotherSession}, true, "quote sent"},
		{"first contact form", form("f2", "contact", "/", "", t0, false), formsBefore{}, true, "first contact"},
		{"the same form is not its own earlier one", form("f2", "contact", "/", "", t0, false), formsBefore{form("f2", "contact", "/", "", t0.Add(-time.Second), false)}, true, "first contact"},
		{"a later contact form", form("f2", "contact", "/", "", t0, false), formsBefore{earlierContact}, false, "first contact"},
		{"an earlier form of another rule does not count", form("f2", "contact", "/", "", t0, false), formsBefore{form("f0", "lead", "/", "", t0.Add(-time.Hour), true)}, true, "first contact"},
		{"browser lead form under a verified rule", form("f3", "lead", "/", "", t0, false), nil, false, "verified lead"},
		{"host's lead form", form("f3", "lead", "/", "", t0, true), nil, true, "verified lead"},
		{"the host's forms are not capped per session", form("f3", "lead", "/", "", t0, true),
			formsBefore{form("f0", "lead", "/", "", t0.Add(-time.Minute), true)}, true, "verified lead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := QualifyForm(context.Background(), rules, tc.tp, tc.history)
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Qualified, d.Reason)
			assert.Equal(t, tc.rule, d.Rule)
			assert.NotEmpty(t, d.Reason)
			if tc.want {
				r := rules[formRuleFor(rules, tc.tp)]
				assert.Equal(t, Conversion{ID: tc.tp.ID, Type: ConversionForm, At: tc.tp.At, VisitorID: "v1", SessionID: "s1",
					Value: r.Value, Currency: r.Currency}, d.Conversion)
			}
		})
	}
	_, err := QualifyForm(context.Background(), rules, form("f2", "contact", "/", "", t0, false), failingHistory{})
	assert.ErrorContains(t, err, "store down")
	_, err = QualifyForm(context.Background(), rules, form("f2", "contact", "/", "", t0, false), nil)
	assert.ErrorContains(t, err, "no history")
	_, err = QualifyForm(context.Background(), rules, form("f1", "quote-roof", "/quote/roof", "sent", t0, false), nil)
	assert.ErrorContains(t, err, "no history", "a browser's form needs the history for its per-session cap")
	d, err := QualifyForm(context.Background(), rules, Touchpoint{ID: "call:x/1", Kind: TouchCall, At: t0}, nil)
	require.NoError(t, err)
	assert.False(t, d.Qualified)
}

func TestValidateFormRules(t *testing.T) {
	require.NoError(t, ValidateFormRules(nil))
	require.NoError(t, ValidateFormRules([]FormRule{{Name: "any form", Currency: "JPY"}}))
	err := ValidateFormRules([]FormRule{
		{Name: "ok", Form: "quote-*", Page: "/q", RequireOutcome: "sent", Currency: "USD"},
		{Name: " ", Form: "[", Page: "q", RequireOutcome: "sent!", Value: -1, Currency: "US"},
	})
	require.Error(t, err)
	for _, field := range []string{"name", "form", "page", "require_outcome", "value", "currency"} {
		assert.ErrorContains(t, err, "journey: form_rules[1]."+field+": ")
	}
	assert.NotContains(t, err.Error(), "form_rules[0]")
}

func TestUnderPath(t *testing.T) {
	for _, tc := range []struct {
		page, prefix string
		want         bool
	}{
		{"/contact", "", true},
		{"", "", true},
		{"/contact", "/contact", true},
		{"/contact/thanks", "/contact", true},
		{"/contactless", "/contact", false},
		{"/contact/", "/contact/", true},
		{"/contact/x", "/contact/", true},
		{"/about", "/contact", false},
		{"/", "/", true},
	} {
		assert.Equal(t, tc.want, underPath(tc.page, tc.prefix), "%q under %q", tc.page, tc.prefix)
	}
}
