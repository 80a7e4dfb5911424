package tracker

import (
	"errors"
	"strings"
	"testing"
)

// CookieDomain and LinkDomains take host names; anything else is refused
// with an error naming the field and saying what is wrong.
func TestConfigValidateIdentityDomains(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"cookie domain", Config{CookieDomain: "example.com"}, ""},
		{"cookie domain in upper case", Config{CookieDomain: "Example.CO.uk"}, ""},
		{"cookie domain with a scheme", Config{CookieDomain: "https://example.com"}, `CookieDomain "https://example.com" has a scheme`},
		{"cookie domain with a port", Config{CookieDomain: "example.com:443"}, `CookieDomain "example.com:443" has a port`},
		{"cookie domain with a path", Config{CookieDomain: "example.com/shop"}, `CookieDomain "example.com/shop" has a path`},
		{"cookie domain with a leading dot", Config{CookieDomain: ".example.com"}, `CookieDomain ".example.com" starts with a dot`},
		{"cookie domain an address", Config{CookieDomain: "192.0.2.1"}, `CookieDomain "192.0.2.1" is an IP address`},
		{"cookie domain of one label", Config{CookieDomain: "localhost"}, `CookieDomain "localhost" is not a host name`},
		{"cookie domain with a space", Config{CookieDomain: "exa mple.com"}, `CookieDomain "exa mple.com" is not a host name`},
		{"cookie domain a public suffix", Config{CookieDomain: "co.uk"}, `CookieDomain "co.uk" is a public suffix`},
		{"link domains", Config{LinkDomains: []string{"example.org", "shop.example.net"}}, ""},
		{"link domain with a scheme", Config{LinkDomains: []string{"example.org", "http://example.net"}}, `LinkDomains[1] "http://example.net" has a scheme`},
		{"link domain empty", Config{LinkDomains: []string{""}}, `LinkDomains[0] "" is not a host name`},
		{"link domain a public suffix", Config{LinkDomains: []string{"example.org", "co.uk"}}, `LinkDomains[1] "co.uk" is a public suffix`},
		{"link domain a hosting suffix", Config{LinkDomains: []string{"GitHub.io"}}, `LinkDomains[0] "GitHub.io" is a public suffix`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrConfig)):
				t.Errorf("Validate() = %v, want ErrConfig saying %q", err, tc.want)
			}
		})
	}
}

func TestBuildInlinesIdentityOptions(t *testing.T) {
	s, err := Build(Config{ServerCookie: true, CookieDomain: "Example.com", LinkDomains: []string{"Example.ORG"}})
	if err != nil {
		t.Fatal(err)
	}
	js := string(s.Bytes())
	for _, want := range []string{`"sc":true`, `"cd":"example.com"`, `"ld":["example.org"]`} {
		if !strings.Contains(js, want) {
			t.Errorf("script lacks %s: %.400s", want, js)
		}
	}
	d, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{`"sc":`, `"cd":`, `"ld":`} {
		if strings.Contains(string(d.Bytes()), absent) {
			t.Errorf("the default script carries %s", absent)
		}
	}
}
