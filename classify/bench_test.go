package classify

import (
	"fmt"
	"net/url"
	"testing"
)

// paidSearchVisit is the typical visit of a call-tracking site: a Google Ads
// click with UTM tags and auto-tagging, arriving from Google.
var paidSearchVisit = Visit{
	URL:       "https://www.example-plumbing.com/emergency-plumber?utm_source=google&utm_medium=cpc&utm_campaign=emergency_plumbing_nyc&utm_term=24+hour+plumber&utm_content=ad_variant_b&gclid=Cj0KCQjw4s-kBhDqARIsAN-ipH2mKHTX0OgqbnVbVk7NjAjpmX6TJ0-hfY0uw2e1Ud2g2ltRBYXgCOMaAmYJEALw_wcB",
	Referrer:  "https://www.google.com/",
	UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
}

var sink Source

// BenchmarkPaidSearch compares classifying the typical paid-search visit
// with net/url merely parsing the same two URLs and the landing query, in
// one run so that the ratio is fair on a noisy machine.
func BenchmarkPaidSearch(b *testing.B) {
	b.Run("net-url-parse-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			land, err := url.Parse(paidSearchVisit.URL)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := url.Parse(paidSearchVisit.Referrer); err != nil {
				b.Fatal(err)
			}
			if len(land.Query()) == 0 {
				b.Fatal("no query")
			}
		}
	})
	b.Run("classify", func(b *testing.B) {
		c, err := New(Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			sink = c.Classify(paidSearchVisit)
		}
		if sink.Channel != ChannelPaidSearch {
			b.Fatalf("classified as %s", sink.Channel)
		}
	})
}

// BenchmarkUserRules shows that rules which do not match cost nothing per
// rule: 10 and 1,000 of them take the same time.
func BenchmarkUserRules(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("%d-rules", n), func(b *testing.B) {
			c, err := New(Config{Rules: nonMatchingRules(n)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				sink = c.Classify(paidSearchVisit)
			}
			if sink.Pool != "" {
				b.Fatal("a rule matched")
			}
		})
	}
}

// BenchmarkReferrers covers the referrer lookups: search engine with a
// country domain, social link shim, webmail, and an unknown host.
func BenchmarkReferrers(b *testing.B) {
	c, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	for name, ref := range map[string]string{
		"google-co-uk":  "https://www.google.co.uk/",
		"facebook-shim": "https://l.facebook.com/l.php?u=x",
		"webmail":       "https://mail.google.com/mail/u/0/",
		"unknown-host":  "https://blog.some-partner.example.org/post/42",
	} {
		b.Run(name, func(b *testing.B) {
			v := Visit{URL: "https://www.example-plumbing.com/", Referrer: ref}
			b.ReportAllocs()
			for b.Loop() {
				sink = c.Classify(v)
			}
		})
	}
}
