package classify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUserRules(t *testing.T) {
	rules := []Rule{
		{Name: "gbp", When: []Condition{{Field: FieldSource, Op: OpExact, Value: "gbp"}}, Channel: "Google Business Profile", Pool: "local"},
		{Name: "paid search pool", When: []Condition{{Field: FieldChannel, Op: OpExact, Value: string(ChannelPaidSearch)}}, Pool: "paid-search"},
		{Name: "brand campaigns", When: []Condition{{Field: FieldCampaign, Op: OpPrefix, Value: "brand-", IgnoreCase: true}}, Pool: "brand"},
		{Name: "landing", When: []Condition{{Field: FieldLandingPath, Op: OpPrefix, Value: "/emergency"}}, Pool: "emergency"},
		{Name: "partner param", When: []Condition{{Field: FieldQuery, Param: "Partner", Op: OpExact, Value: "acme"}}, Channel: ChannelAffiliates, Pool: "partners"},
		{Name: "regex term", When: []Condition{{Field: FieldTerm, Op: OpRegex, Value: `^(leak|burst)`, IgnoreCase: true}}, Pool: "urgent"},
		{Name: "two conditions", When: []Condition{
			{Field: FieldReferrerHost, Op: OpSuffix, Value: "yelp.com"},
			{Field: FieldLandingPath, Op: OpContains, Value: "reviews"},
		}, Channel: "Reviews"},
		{Name: "click platform", When: []Condition{{Field: FieldClickPlatform, Op: OpExact, Value: "Microsoft Ads"}}, Pool: "bing"},
	}
	c, err := New(Config{Rules: rules})
	require.NoError(t, err)

	cases := []struct {
		name, url, referrer string
		channel             Channel
		pool, rule          string
	}{
		{"exact source overrides channel", "?utm_source=gbp&utm_medium=organic", "", "Google Business Profile", "local", "user:0:gbp"},
		{"channel condition keeps GA4 channel", "?gclid=x", "", ChannelPaidSearch, "paid-search", "user:1:paid search pool"},
		{"earlier rule wins over later", "?gclid=x&utm_campaign=Brand-Plumbing", "", ChannelPaidSearch, "paid-search", "user:1:paid search pool"},
		{"prefix ignoring case", "?utm_source=newsletter&utm_medium=email&utm_campaign=BRAND-spring", "", ChannelEmail, "brand", "user:2:brand campaigns"},
		{"landing path prefix", "/emergency/burst-pipe", "", ChannelDirect, "emergency", "user:3:landing"},
		{"query parameter, name case-insensitive", "?PARTNER=acme", "", ChannelAffiliates, "partners", "user:4:partner param"},
		{"regex", "?utm_source=google&utm_medium=organic&utm_term=Leaking+tap", "", ChannelOrganicSearch, "urgent", "user:5:regex term"},
		{"all conditions must hold", "/reviews", "https://www.yelp.com/biz", "Reviews", "", "user:6:two conditions"},
		{"one condition is not enough", "/about", "https://www.yelp.com/biz", ChannelOrganicSocial, "", "ga4:organic-social"},
		{"click platform", "?msclkid=1", "", ChannelPaidSearch, "paid-search", "user:1:paid search pool"},
		{"no rule matches", "?utm_source=flyer&utm_medium=print", "", ChannelUnassigned, "", "ga4:unassigned"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := c.Classify(classifyCase{url: tc.url, referrer: tc.referrer}.visit())
			assert.Equal(t, tc.channel, s.Channel)
			assert.Equal(t, tc.pool, s.Pool)
			assert.Equal(t, tc.rule, s.Rule)
			assert.Equal(t, s.Channel.Paid(), s.Paid)
		})
	}
}

// A rule filed under the index must still lose to an earlier rule that
// is only found by scanning, and the other way round.
func TestUserRulesOrderAcrossIndexAndScan(t *testing.T) {
	c, err := New(Config{Rules: []Rule{
		{Name: "scanned", When: []Condition{{Field: FieldSource, Op: OpContains, Value: "goo"}}, Pool: "first"},
		{Name: "indexed", When: []Condition{{Field: FieldSource, Op: OpExact, Value: "google"}}, Pool: "second"},
	}})
	require.NoError(t, err)
	assert.Equal(t, "first", c.Classify(Visit{URL: site + "?gclid=1"}).Pool)

	c, err = New(Config{Rules: []Rule{
		{Name: "indexed", When: []Condition{{Field: FieldSource, Op: OpExact, Value: "google"}}, Pool: "first"},
		{Name: "scanned", When: []Condition{{Field: FieldSource, Op: OpContains, Value: "goo"}}, Pool: "second"},
	}})
	require.NoError(t, err)
	assert.Equal(t, "first", c.Classify(Visit{URL: site + "?gclid=1"}).Pool)
}

func TestLoadRules(t *testing.T) {
	rules, err := LoadRules(strings.NewReader(`{"rules": [
		{"name": "print", "when": [{"field": "query", "param": "ref", "op": "exact", "value": "flyer"}], "channel": "Print", "pool": "print"},
		{"name": "bing", "when": [{"field": "source", "op": "regex", "value": "^bing$"}], "pool": "bing"}
	]}`))
	require.NoError(t, err)
	require.Len(t, rules, 2)
	c, err := New(Config{Rules: rules})
	require.NoError(t, err)
	s := c.Classify(Visit{URL: site + "?ref=flyer"})
	assert.Equal(t, Channel("Print"), s.Channel)
	assert.Equal(t, "print", s.Pool)
}

func TestLoadRulesRejectsBadInput(t *testing.T) {
	cases := map[string]struct{ json, want string }{
		"unknown field":  {`{"rules": [{"name": "x", "when": [], "colour": "red"}]}`, `unknown field "colour"`},
		"not json":       {`{"rules": [`, "rules file"},
		"trailing data":  {`{"rules": []} {}`, "unexpected data"},
		"invalid rule":   {`{"rules": [{"name": "x", "when": [{"field": "sauce", "op": "exact", "value": "v"}], "pool": "p"}]}`, `rules[0] "x".when[0].field: unknown field "sauce"`},
		"wrong type":     {`{"rules": [{"name": 3}]}`, "rules file"},
		"top-level list": {`[]`, "rules file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := LoadRules(strings.NewReader(tc.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestValidateRulesNamesEveryError(t *testing.T) {
	err := ValidateRules([]Rule{
		{Name: "ok", When: []Condition{{Field: FieldSource, Op: OpExact, Value: "a"}}, Pool: "p"},
		{Name: "no conditions", Pool: "p"},
		{When: []Condition{{Field: FieldSource, Op: OpExact, Value: "a"}}},
		{Name: "bad", When: []Condition{
			{Field: "sauce", Op: OpExact, Value: "a"},
			{Field: FieldQuery, Op: OpExact, Value: "a"},
			{Field: FieldSource, Param: "x", Op: OpExact, Value: "a"},
			{Field: FieldSource, Op: "like", Value: "a"},
			{Field: FieldSource, Op: OpRegex, Value: "(unclosed"},
			{Field: FieldSource, Op: OpPrefix, Value: ""},
		}, Pool: "p"},
	})
	require.Error(t, err)
	for _, want := range []string{
		`rules[1] "no conditions".when: a rule needs at least one condition`,
		`rules[2]: set channel, pool or both`,
		`rules[3] "bad".when[0].field: unknown field "sauce"`,
		`rules[3] "bad".when[1].param: a query condition names its parameter`,
		`rules[3] "bad".when[2].param: only query conditions take a parameter`,
		`rules[3] "bad".when[3].op: unknown operator "like"`,
		`rules[3] "bad".when[4].value: invalid regex`,
		`rules[3] "bad".when[5].value: empty prefix matches everything`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), `rules[0]`)

	_, err = New(Config{Rules: []Rule{{Name: "x"}}})
	assert.ErrorContains(t, err, `rules[0] "x"`)
}

// nonMatchingRules returns n rules, each filed under an exact or prefix
// condition that no visit of the benchmarks meets.
func nonMatchingRules(n int) []Rule {
	rules := make([]Rule, n)
	for i := range rules {
		cond := Condition{Field: FieldSource, Op: OpExact, Value: fmt.Sprintf("partner-%d", i)}
		switch i % 3 {
		case 1:
			cond = Condition{Field: FieldCampaign, Op: OpExact, Value: fmt.Sprintf("Promo-%d", i), IgnoreCase: true}
		case 2:
			cond = Condition{Field: FieldLandingPath, Op: OpPrefix, Value: fmt.Sprintf("/offer-%d/", i)}
		}
		rules[i] = Rule{Name: fmt.Sprintf("r%d", i), When: []Condition{cond}, Pool: "p"}
	}
	return rules
}

func TestNonMatchingRulesDoNotMatch(t *testing.T) {
	c, err := New(Config{Rules: nonMatchingRules(1000)})
	require.NoError(t, err)
	s := c.Classify(paidSearchVisit)
	assert.Equal(t, "ga4:paid-search", s.Rule)
	assert.Empty(t, s.Pool)
	// …while each of them does match the visit it was written for.
	assert.Equal(t, "user:999:r999", c.Classify(Visit{URL: site + "?utm_source=partner-999&utm_medium=x"}).Rule)
	assert.Equal(t, "user:997:r997", c.Classify(Visit{URL: site + "?utm_source=a&utm_campaign=PROMO-997"}).Rule)
	assert.Equal(t, "user:998:r998", c.Classify(Visit{URL: site + "offer-998/x"}).Rule)
}
