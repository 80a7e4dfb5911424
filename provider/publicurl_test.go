package provider

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestPublicURLHint(t *testing.T) {
	pub, _ := url.Parse("https://calls.example.com")
	cases := []struct {
		name   string
		pub    *url.URL
		header http.Header
		host   string
		tls    bool
		want   string // substring of the hint; empty means no hint
	}{
		{name: "no proxy, no PublicURL", host: "calls.example.com"},
		{name: "no proxy, PublicURL matches", pub: pub, host: "calls.example.com"},
		{name: "X-Forwarded-Proto and Host, PublicURL empty", host: "10.0.0.5:8080",
			header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"calls.example.com"}},
			want:   "set PublicURL to https://calls.example.com"},
		{name: "X-Forwarded-Proto only: the Host is kept", host: "calls.example.com",
			header: http.Header{"X-Forwarded-Proto": {"https"}},
			want:   "set PublicURL to https://calls.example.com"},
		{name: "first entry of a chain of proxies", host: "10.0.0.5",
			header: http.Header{"X-Forwarded-Proto": {"https, http"}, "X-Forwarded-Host": {"calls.example.com, lb.internal"}},
			want:   "set PublicURL to https://calls.example.com: "},
		{name: "Forwarded (RFC 7239)", host: "backend",
			header: http.Header{"Forwarded": {`for=192.0.2.60;proto=https;host="calls.example.com", for=10.0.0.1`}},
			want:   "set PublicURL to https://calls.example.com"},
		{name: "X-Forwarded-For alone suggests https", host: "calls.example.com",
			header: http.Header{"X-Forwarded-For": {"192.0.2.60"}},
			want:   "set PublicURL to https://calls.example.com"},
		{name: "PublicURL already what the proxy says", pub: pub, host: "10.0.0.5",
			header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"calls.example.com"}}},
		{name: "PublicURL differs from what the proxy says", pub: pub, host: "10.0.0.5",
			header: http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"www.example.com"}},
			want:   "set PublicURL to https://www.example.com if that is the URL the vendor calls"},
		{name: "Host differs from PublicURL's", pub: pub, host: "www.example.com", tls: true,
			want: `set PublicURL to https://www.example.com if that is the URL the vendor calls: the request's Host "www.example.com" differs from PublicURL's host "calls.example.com"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/dni/webhooks/twilio", nil)
			r.Host = c.host
			if !c.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range c.header {
				r.Header[k] = v
			}
			attrs := publicURLHint(r, c.pub)
			if c.want == "" {
				if attrs != nil {
					t.Fatalf("hint %v, want none", attrs)
				}
				return
			}
			if len(attrs) != 2 || attrs[0] != "hint" {
				t.Fatalf("attrs %v, want a hint", attrs)
			}
			if hint := attrs[1].(string); !strings.Contains(hint, c.want) {
				t.Fatalf("hint %q\nwant it to contain %q", hint, c.want)
			}
		})
	}
}

func TestPublicURLHintIsBounded(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("X-Forwarded-Host", strings.Repeat("a", 10000))
	attrs := publicURLHint(r, nil)
	if len(attrs) != 2 || len(attrs[1].(string)) > 700 {
		t.Fatalf("hint of %d bytes, want it bounded", len(attrs[1].(string)))
	}
}
