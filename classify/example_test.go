package classify_test

import (
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/classify"
)

func Example() {
	c, err := classify.New(classify.Config{OwnDomains: []string{"example-plumbing.com"}})
	if err != nil {
		panic(err)
	}
	s := c.Classify(classify.Visit{
		URL:      "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=Emergency&gclid=Cj0KCQjw",
		Referrer: "https://www.google.com/",
	})
	fmt.Println(s.Channel, "|", s.Source, "/", s.Medium, "|", s.Campaign, "|", s.ClickID.Platform, "| paid:", s.Paid)
	// Output: Paid Search | google / cpc | Emergency | Google Ads | paid: true
}

func ExampleLoadRules() {
	rules, err := classify.LoadRules(strings.NewReader(`{"rules": [
		{"name": "Google Business Profile",
		 "when": [{"field": "source", "op": "exact", "value": "gbp"}],
		 "channel": "Local", "pool": "local-pool"}
	]}`))
	if err != nil {
		panic(err)
	}
	c, err := classify.New(classify.Config{Rules: rules})
	if err != nil {
		panic(err)
	}
	s := c.Classify(classify.Visit{URL: "https://example-plumbing.com/?utm_source=GBP&utm_medium=organic"})
	fmt.Println(s.Channel, s.Pool, s.Rule)
	// Output: Local local-pool user:0:Google Business Profile
}

func ExampleClassifier_Classify_strictGA4() {
	visit := classify.Visit{URL: "https://example-plumbing.com/", Referrer: "https://mail.google.com/"}
	for _, strict := range []bool{false, true} {
		c, err := classify.New(classify.Config{StrictGA4: strict})
		if err != nil {
			panic(err)
		}
		s := c.Classify(visit)
		fmt.Printf("strict=%v: %s (%s / %s)\n", strict, s.Channel, s.Source, s.Medium)
	}
	// Output:
	// strict=false: Email (mail.google.com / email)
	// strict=true: Referral (mail.google.com / referral)
}

func ExampleValidateRules() {
	err := classify.ValidateRules([]classify.Rule{{
		Name: "typo",
		When: []classify.Condition{{Field: "sauce", Op: "like", Value: "x"}},
		Pool: "p",
	}})
	fmt.Println(err)
	// Output:
	// classify: rules[0] "typo".when[0].field: unknown field "sauce"
	// classify: rules[0] "typo".when[0].op: unknown operator "like" (exact, prefix, suffix, contains, regex)
}
