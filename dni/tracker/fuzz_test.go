package tracker

import (
	"strings"
	"testing"
)

// The request headers the handler parses are outside input.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br", "br;q=0, gzip;q=0.5", "*;q=0.1", `W/"abc", "def"`, "gzip;q=x;;,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if acceptsGzip(h) && !strings.Contains(strings.ToLower(h), "gzip") && !strings.Contains(h, "*") {
			t.Fatalf("acceptsGzip(%q) without gzip or *", h)
		}
		if etagMatch(h, `"x"`) && !etagMatchNaive(h, `"x"`) {
			t.Fatalf("etagMatch(%q) matched without the tag or *", h)
		}
	})
}

// etagMatchNaive is the property etagMatch must not exceed: the header
// mentions the tag or a star.
func etagMatchNaive(h, tag string) bool {
	for i := 0; i+len(tag) <= len(h); i++ {
		if h[i:i+len(tag)] == tag {
			return true
		}
	}
	for i := range len(h) {
		if h[i] == '*' {
			return true
		}
	}
	return false
}
