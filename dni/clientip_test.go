package dni

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The proxies of the tests: a private network, a public range of a CDN,
// and one address.
var testProxies = []string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.10"}

type clientCase struct {
	name   string
	peer   string   // r.RemoteAddr
	header []string // instances of the proxy header, in order
	want   string
}

func runClientCases(t *testing.T, header string, cases []clientCase) {
	t.Helper()
	c := newClientAddresses(Config{TrustedProxies: testProxies, TrustedProxyHeader: header})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/dni/v1/visit", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.header {
				r.Header.Add(c.header, v)
			}
			assert.Equal(t, tc.want, c.of(r))
		})
	}
}

func TestClientAddressFromXForwardedFor(t *testing.T) {
	runClientCases(t, "", []clientCase{
		{"no proxy: the peer", "203.0.113.5:41000", nil, "203.0.113.5"},
		{"an untrusted peer's header is ignored", "203.0.113.5:41000", []string{"198.51.100.7"}, "203.0.113.5"},
		{"a trusted peer without the header is the client", "10.0.0.1:41000", nil, "10.0.0.1"},
		{"one proxy", "10.0.0.1:41000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a spoofed leftmost entry is skipped", "10.0.0.1:41000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"several spoofed entries", "10.0.0.1:41000", []string{"6.6.6.6,7.7.7.7 , 8.8.8.8,198.51.100.7"}, "198.51.100.7"},
		{"a chain of trusted proxies", "10.0.0.1:41000", []string{"6.6.6.6, 198.51.100.7, 10.1.2.3, 192.0.2.10"}, "198.51.100.7"},
		{"a spoofed trusted address left of the client changes nothing", "10.0.0.1:41000", []string{"10.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"headers joined in order", "10.0.0.1:41000", []string{"6.6.6.6, 198.51.100.7", "10.1.2.3"}, "198.51.100.7"},
		{"the last header is the nearest proxy's", "10.0.0.1:41000", []string{"198.51.100.7", "6.6.6.6"}, "6.6.6.6"},
		{"every entry trusted: the leftmost", "10.0.0.1:41000", []string{"10.9.9.9, 10.1.1.1"}, "10.9.9.9"},
		{"a single trusted address", "192.0.2.10:41000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"next to a single trusted address", "192.0.2.11:41000", []string{"198.51.100.7"}, "192.0.2.11"},
		{"IPv6 peer and client", "[2001:db8:ffff::1]:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"IPv6 written in capitals", "[2001:db8:ffff::1]:443", []string{"2001:DB8:1::5"}, "2001:db8:1::5"},
		{"IPv6 in brackets", "10.0.0.1:41000", []string{"[2001:db8:1::5]"}, "2001:db8:1::5"},
		{"IPv6 with a port", "10.0.0.1:41000", []string{"[2001:db8:1::5]:4711"}, "2001:db8:1::5"},
		{"IPv4 with a port", "10.0.0.1:41000", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 with a zone", "10.0.0.1:41000", []string{"fe80::1%eth0"}, "fe80::1"},
		{"IPv4 in IPv6 peer", "[::ffff:10.0.0.1]:41000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4 in IPv6 entry is trusted as IPv4", "10.0.0.1:41000", []string{"198.51.100.7, ::ffff:10.2.2.2"}, "198.51.100.7"},
		{"empty elements are skipped", "10.0.0.1:41000", []string{" , 198.51.100.7,, "}, "198.51.100.7"},
		{"an empty header", "10.0.0.1:41000", []string{""}, "10.0.0.1"},
		{"garbage left of the client is never reached", "10.0.0.1:41000", []string{"<script>, 198.51.100.7"}, "198.51.100.7"},
		{"garbage ends the walk: the hop that wrote it stands for the client", "10.0.0.1:41000", []string{"6.6.6.6, not-an-address"}, "10.0.0.1"},
		{"garbage after a trusted hop", "10.0.0.1:41000", []string{"6.6.6.6, unknown, 10.3.3.3"}, "10.3.3.3"},
		{"the unspecified address is garbage", "10.0.0.1:41000", []string{"6.6.6.6, 0.0.0.0"}, "10.0.0.1"},
		{"a quoted address is garbage", "10.0.0.1:41000", []string{`6.6.6.6, "198.51.100.7"`}, "10.0.0.1"},
		{"Forwarded is not read", "10.0.0.1:41000", nil, "10.0.0.1"},
		{"a peer that is not IP", "@", []string{"198.51.100.7"}, "@"},
	})

	c := newClientAddresses(Config{TrustedProxies: testProxies})
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "10.0.0.1:41000"
	r.Header.Set("Forwarded", "for=6.6.6.6")
	assert.Equal(t, "10.0.0.1", c.of(r), "X-Forwarded-For mode ignores Forwarded")
}

func TestClientAddressFromForwarded(t *testing.T) {
	runClientCases(t, "forwarded", []clientCase{
		{"an untrusted peer's header is ignored", "203.0.113.5:41000", []string{"for=198.51.100.7"}, "203.0.113.5"},
		{"one proxy", "10.0.0.1:41000", []string{"for=198.51.100.7"}, "198.51.100.7"},
		{"with other parameters", "10.0.0.1:41000", []string{"proto=https;for=198.51.100.7;by=10.0.0.1;host=example.com"}, "198.51.100.7"},
		{"parameter names in any case", "10.0.0.1:41000", []string{"For=198.51.100.7"}, "198.51.100.7"},
		{"a spoofed leftmost element is skipped", "10.0.0.1:41000", []string{"for=6.6.6.6, for=198.51.100.7"}, "198.51.100.7"},
		{"a chain of trusted proxies", "10.0.0.1:41000", []string{"for=6.6.6.6, for=198.51.100.7;proto=https, for=10.1.1.1"}, "198.51.100.7"},
		{"headers joined in order", "10.0.0.1:41000", []string{"for=6.6.6.6, for=198.51.100.7", "for=10.1.1.1"}, "198.51.100.7"},
		{"quoted IPv6 in brackets", "10.0.0.1:41000", []string{`for="[2001:db8:cafe::17]"`}, "2001:db8:cafe::17"},
		{"quoted IPv6 with a port", "10.0.0.1:41000", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"IPv6 with a zone: the zone is dropped", "10.0.0.1:41000", []string{`for="[fe80::1%25eth0]"`}, "fe80::1"},
		{"quoted IPv4 with a port", "10.0.0.1:41000", []string{`for="198.51.100.7:4711"`}, "198.51.100.7"},
		{"an obfuscated port", "10.0.0.1:41000", []string{`for="198.51.100.7:_p1"`}, "198.51.100.7"},
		{"an obfuscated port on IPv6", "10.0.0.1:41000", []string{`for="[2001:db8:cafe::17]:_p1"`}, "2001:db8:cafe::17"},
		{"a trusted IPv6 proxy", "[2001:db8:ffff::2]:443", []string{`for=198.51.100.7, for="[2001:db8:ffff::9]"`}, "198.51.100.7"},
		{"a quoted comma does not split elements", "10.0.0.1:41000", []string{`for=198.51.100.7;host="a,b", for=10.1.1.1`}, "198.51.100.7"},
		{"an obfuscated identifier ends the walk", "10.0.0.1:41000", []string{"for=6.6.6.6, for=_hidden"}, "10.0.0.1"},
		{"unknown ends the walk", "10.0.0.1:41000", []string{"for=6.6.6.6, for=unknown, for=10.1.1.1"}, "10.1.1.1"},
		{"an element without for= ends the walk", "10.0.0.1:41000", []string{"for=6.6.6.6, proto=https"}, "10.0.0.1"},
		{"for= twice in an element is garbage", "10.0.0.1:41000", []string{"for=6.6.6.6;for=198.51.100.7"}, "10.0.0.1"},
		{"an unclosed bracket is garbage", "10.0.0.1:41000", []string{`for=6.6.6.6, for="[2001:db8::1"`}, "10.0.0.1"},
		{"an unclosed quote is garbage", "10.0.0.1:41000", []string{`for=6.6.6.6, for="198.51.100.7`}, "10.0.0.1"},
		{"X-Forwarded-For is not read", "10.0.0.1:41000", nil, "10.0.0.1"},
	})

	c := newClientAddresses(Config{TrustedProxies: testProxies, TrustedProxyHeader: "Forwarded"})
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "10.0.0.1:41000"
	r.Header.Set("X-Forwarded-For", "6.6.6.6")
	assert.Equal(t, "10.0.0.1", c.of(r), "Forwarded mode ignores X-Forwarded-For")
}

func TestNewChecksTrustedProxies(t *testing.T) {
	cfg := testConfig()
	cfg.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal", "10.0.0.0/33", "192.0.2.10", "fe80::1%eth0", "::ffff:10.0.0.0/104"}
	cfg.TrustedProxyHeader = "X-Real-IP"
	_, err := New(cfg)
	require.Error(t, err)
	for _, want := range []string{
		`TrustedProxies[1]: "proxy.internal" is not a CIDR`,
		`TrustedProxies[2]: "10.0.0.0/33"`,
		`TrustedProxies[4]: "fe80::1%eth0"`,
		`TrustedProxyHeader "X-Real-IP": use "X-Forwarded-For" or "Forwarded"`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	for _, fine := range []string{"TrustedProxies[0]", "TrustedProxies[3]", "TrustedProxies[5]"} {
		assert.NotContains(t, err.Error(), fine)
	}
	p, err := parseTrustedProxy("::ffff:10.0.0.0/104")
	require.NoError(t, err)
	assert.Equal(t, netip.MustParsePrefix("10.0.0.0/8"), p, "IPv4 in IPv6 is IPv4")
}

// Through the handler: behind a trusted proxy, visitors are limited by
// their own address however they fill in the header; without
// TrustedProxies the header is ignored and the proxy is the client.
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	visit := func(h *harness, xff string) int {
		res, _ := h.post(t, "v1/visit", VisitRequest{URL: "https://example-plumbing.com/"}, "X-Forwarded-For", xff)
		return res.StatusCode
	}
	t.Run("trusted", func(t *testing.T) {
		cfg := testConfig()
		cfg.VisitsPerIPPerMinute = 2
		cfg.TrustedProxies = []string{"127.0.0.1", "::1"} // the test client's own address
		h := newHarness(t, cfg)
		assert.Equal(t, http.StatusOK, visit(h, "6.6.6.6, 198.51.100.1"))
		assert.Equal(t, http.StatusOK, visit(h, "7.7.7.7, 198.51.100.1"))
		assert.Equal(t, http.StatusTooManyRequests, visit(h, "8.8.8.8, 198.51.100.1"), "a new leftmost entry is not a new client")
		assert.Equal(t, http.StatusOK, visit(h, "198.51.100.2"), "another client has its own bucket")
	})
	t.Run("not trusted", func(t *testing.T) {
		cfg := testConfig()
		cfg.VisitsPerIPPerMinute = 2
		h := newHarness(t, cfg)
		assert.Equal(t, http.StatusOK, visit(h, "198.51.100.1"))
		assert.Equal(t, http.StatusOK, visit(h, "198.51.100.2"))
		assert.Equal(t, http.StatusTooManyRequests, visit(h, "198.51.100.3"), "the header is ignored")
	})
}

// FuzzClientAddress: whatever the header, the answer is the peer when the
// peer is not trusted, and otherwise an address from the header or the
// peer, never a piece of the header that is not an address.
func FuzzClientAddress(f *testing.F) {
	for _, seed := range []string{"198.51.100.7", "6.6.6.6, 198.51.100.7", "[2001:db8::1]:80", "for=_x, for=\"[::1]\"", "unknown", `"`, ",,", "for=1.2.3.4;for=5.6.7.8"} {
		f.Add("10.0.0.1:1", seed, false)
		f.Add("203.0.113.5:1", seed, true)
	}
	cs := []clientAddresses{
		newClientAddresses(Config{TrustedProxies: testProxies}),
		newClientAddresses(Config{TrustedProxies: testProxies, TrustedProxyHeader: "Forwarded"}),
	}
	f.Fuzz(func(t *testing.T, peer, header string, forwarded bool) {
		c := cs[0]
		if forwarded {
			c = cs[1]
		}
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = peer
		r.Header[c.header] = []string{header}
		got := c.of(r)
		p, ok := parseNode(peer)
		switch {
		case !ok:
			assert.Equal(t, peer, got)
		case !c.isTrusted(p):
			assert.Equal(t, p.String(), got)
		default:
			a, err := netip.ParseAddr(got)
			require.NoError(t, err, "%q is an address", got)
			assert.Equal(t, a.String(), got, "in canonical form")
			assert.False(t, strings.ContainsAny(got, "[]%\" "))
		}
	})
}
