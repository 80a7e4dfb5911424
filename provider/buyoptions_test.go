package provider_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
)

func TestBuyOptionsValidate(t *testing.T) {
	good := provider.BuyOptions{
		VoiceURL:          "https://calls.example.com/calltrack/voice",
		StatusCallbackURL: "http://calls.example.com/calltrack/status",
		FallbackTo:        "+12125550123",
		FallbackURL:       "https://static.example.com/fallback.xml",
	}
	with := func(change func(*provider.BuyOptions)) provider.BuyOptions {
		o := good
		change(&o)
		return o
	}
	cases := []struct {
		name            string
		opts            provider.BuyOptions
		needFallbackURL bool
		// fields are the fields the error must name, each with a phrase
		// that says what to do; none means Validate returns nil.
		fields map[string]string
	}{
		{name: "all set", opts: good, needFallbackURL: true},
		{name: "webhook URLs are optional", opts: provider.BuyOptions{FallbackTo: "+12125550123", FallbackURL: good.FallbackURL}, needFallbackURL: true},
		{name: "no FallbackURL where the vendor has a static forward", opts: with(func(o *provider.BuyOptions) { o.FallbackURL = "" })},
		{name: "no FallbackURL where the vendor fetches a document", opts: with(func(o *provider.BuyOptions) { o.FallbackURL = "" }), needFallbackURL: true,
			fields: map[string]string{"FallbackURL": "FallbackDocument(FallbackTo) on static hosting"}},
		{name: "FallbackTo is required", opts: with(func(o *provider.BuyOptions) { o.FallbackTo = "" }),
			fields: map[string]string{"FallbackTo": "required"}},
		{name: "FallbackTo national", opts: with(func(o *provider.BuyOptions) { o.FallbackTo = "2125550123" }),
			fields: map[string]string{"FallbackTo": "not an E.164 number"}},
		{name: "FallbackTo formatted", opts: with(func(o *provider.BuyOptions) { o.FallbackTo = "+1 212-555-0123" }),
			fields: map[string]string{"FallbackTo": "not an E.164 number"}},
		{name: "FallbackTo withheld", opts: with(func(o *provider.BuyOptions) { o.FallbackTo = "anonymous" }),
			fields: map[string]string{"FallbackTo": "not an E.164 number"}},
		{name: "FallbackURL relative", opts: with(func(o *provider.BuyOptions) { o.FallbackURL = "/fallback.xml" }),
			fields: map[string]string{"FallbackURL": "not an absolute http(s) URL"}},
		{name: "FallbackURL not http", opts: with(func(o *provider.BuyOptions) { o.FallbackURL = "ftp://static.example.com/f.xml" }), needFallbackURL: true,
			fields: map[string]string{"FallbackURL": "not an absolute http(s) URL"}},
		{name: "VoiceURL without host", opts: with(func(o *provider.BuyOptions) { o.VoiceURL = "https:///voice" }),
			fields: map[string]string{"VoiceURL": "inbound-call webhook"}},
		{name: "StatusCallbackURL unparsable", opts: with(func(o *provider.BuyOptions) { o.StatusCallbackURL = "http://[::1" }),
			fields: map[string]string{"StatusCallbackURL": "not an absolute http(s) URL"}},
		{name: "every field at once", opts: provider.BuyOptions{VoiceURL: "voice", StatusCallbackURL: "status", FallbackTo: "0"}, needFallbackURL: true,
			fields: map[string]string{"FallbackTo": "E.164", "FallbackURL": "required", "VoiceURL": "absolute", "StatusCallbackURL": "absolute"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.opts.Validate(c.needFallbackURL)
			if len(c.fields) == 0 {
				if err != nil {
					t.Fatalf("Validate(%v) = %v, want nil", c.needFallbackURL, err)
				}
				return
			}
			if !errors.Is(err, provider.ErrInvalidConfig) {
				t.Fatalf("Validate(%v) = %v, want ErrInvalidConfig", c.needFallbackURL, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.fields) {
				t.Errorf("error has %d lines, want one per bad field (%d):\n%v", len(lines), len(c.fields), err)
			}
			for field, phrase := range c.fields {
				found := false
				for _, l := range lines {
					if strings.Contains(l, "field "+field+":") {
						found = true
						if !strings.Contains(l, phrase) {
							t.Errorf("field %s: %q does not say %q", field, l, phrase)
						}
					}
				}
				if !found {
					t.Errorf("error does not name field %s:\n%v", field, err)
				}
			}
		})
	}
}
