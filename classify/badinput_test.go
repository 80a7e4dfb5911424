package classify

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/idna"
)

func TestBadInputNeverFails(t *testing.T) {
	c, err := New(Config{})
	require.NoError(t, err)
	huge := strings.Repeat("a", 64<<10)
	cases := []struct {
		name        string
		visit       Visit
		channel     Channel
		problemLike string // a problem whose text contains this, "" for none
	}{
		{"empty visit", Visit{}, ChannelDirect, ""},
		{"garbage url", Visit{URL: "::::////????"}, ChannelDirect, "url: unreadable host"},
		{"not a url", Visit{URL: "plumber?utm_source=bing&utm_medium=cpc"}, ChannelPaidSearch, "url: not an absolute URL"},
		{"64 KB query value", Visit{URL: site + "?utm_source=google&utm_medium=cpc&utm_campaign=" + huge}, ChannelPaidSearch, "utm_campaign: longer than 512 bytes"},
		{"64 KB of parameters", Visit{URL: site + "?" + strings.Repeat("x=1&", 16<<10) + "utm_source=bing&utm_medium=cpc"}, ChannelPaidSearch, ""},
		{"invalid UTF-8", Visit{URL: site + "?utm_source=face\xffbook&utm_medium=social"}, ChannelOrganicSocial, "utm_source: invalid UTF-8"},
		{"control characters", Visit{URL: site + "?utm_source=news%00letter&utm_medium=email"}, ChannelEmail, "utm_source: control characters removed"},
		{"bad percent escape", Visit{URL: site + "?utm_source=%zz&utm_medium=cpc"}, ChannelPaidOther, "utm_source: invalid percent-encoding"},
		{"unreadable landing host", Visit{URL: "https://exa mple.com/?utm_source=bing&utm_medium=cpc"}, ChannelPaidSearch, "url: unreadable host"},
		{"referrer with bad host", Visit{URL: site, Referrer: "https://<script>/"}, ChannelUnassigned, "referrer: unreadable host"},
		{"referrer with a code point no domain may hold", Visit{URL: site, Referrer: "https://a\ufffdb.com/"}, ChannelUnassigned, "referrer: unreadable host"},
		{"referrer with unclosed IPv6", Visit{URL: site, Referrer: "https://[::1/"}, ChannelUnassigned, "referrer: unreadable host"},
		{"referrer IPv6 literal", Visit{URL: site, Referrer: "https://[2001:db8::1]:8080/"}, ChannelReferral, ""},
		{"data referrer", Visit{URL: site, Referrer: "data:text/html,hi"}, ChannelUnassigned, "referrer: not a URL"},
		{"file referrer", Visit{URL: site, Referrer: "file:///etc/passwd"}, ChannelUnassigned, "referrer: scheme"},
		{"huge referrer", Visit{URL: site, Referrer: "https://" + huge + ".com/"}, ChannelReferral, ""},
		{"whitespace only", Visit{URL: "   ", Referrer: "  \t "}, ChannelDirect, ""},
		{"empty parameter names", Visit{URL: site + "?&&=&=x&utm_source=sms"}, ChannelSMS, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s Source
			require.NotPanics(t, func() { s = c.Classify(tc.visit) })
			assert.Equal(t, tc.channel, s.Channel)
			assertSane(t, s)
			if tc.problemLike == "" {
				assert.Empty(t, s.Problems)
				return
			}
			var texts []string
			for _, p := range s.Problems {
				texts = append(texts, p.String())
			}
			assert.Contains(t, strings.Join(texts, "\n"), tc.problemLike)
		})
	}
}

// assertSane checks what must hold of every Source, whatever the input.
func assertSane(t testing.TB, s Source) {
	t.Helper()
	for _, v := range []string{s.Source, s.Medium, s.Campaign, s.Term, s.Content, s.ClickID.Value, s.ReferrerHost} {
		if !utf8.ValidString(v) {
			t.Fatalf("invalid UTF-8 in %+v", s)
		}
		if strings.IndexFunc(v, isControl) >= 0 {
			t.Fatalf("control character in %+v", s)
		}
	}
	for _, v := range []string{s.Campaign, s.Term, s.Content} {
		if len(v) > maxValueLen {
			t.Fatalf("value longer than %d bytes: %d", maxValueLen, len(v))
		}
	}
	if s.Source == "" || s.Medium == "" || s.Channel == "" || s.Rule == "" || s.Basis == "" {
		t.Fatalf("empty field in %+v", s)
	}
	if s.Source != strings.ToLower(s.Source) || s.Medium != strings.ToLower(s.Medium) {
		t.Fatalf("source or medium not lower case: %+v", s)
	}
	if s.Paid != s.Channel.Paid() {
		t.Fatalf("paid flag disagrees with channel: %+v", s)
	}
}

// FuzzClassify feeds arbitrary landing URLs and referrers through both
// modes: nothing may panic, every Source must be sane, and wherever net/url
// can read an http(s) referrer's host, ours must agree with it.
func FuzzClassify(f *testing.F) {
	for _, seed := range []struct{ url, ref string }{
		{site + "?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=Cj0KCQjw", "https://www.google.com/"},
		{site + "?fbclid=IwAR2x", "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com"},
		{site + "?msclkid=5f3e&utm_term=plumber+near+me", "https://www.bing.com/search?q=plumber"},
		{site + "?utm_source=e%2520mail&utm_medium=%zz", "android-app://com.google.android.gm/"},
		{"/relative?x=1", "https://user:pw@[2001:db8::1]:8443/p"},
		{"", "t.co/abc"},
		{site + "#/spa?utm_source=x", "https://out.reddit.com/t3_x"},
		{"https://exa\x00mple.com/?utm_source=\xff", "https://\xffbad/"},
	} {
		f.Add(seed.url, seed.ref)
	}
	strict, err := New(Config{StrictGA4: true})
	if err != nil {
		f.Fatal(err)
	}
	def, err := New(Config{Rules: nonMatchingRules(30)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, landingURL, ref string) {
		for _, c := range []*Classifier{strict, def} {
			s := c.Classify(Visit{URL: landingURL, Referrer: ref})
			assertSane(t, s)
		}
		u, err := url.Parse(strings.TrimSpace(ref))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
			return
		}
		var problems []Problem
		r, ok := scanReferrer(ref, &problems)
		if ok && r.host != "" && !strings.Contains(u.Host, "%") {
			want := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
			if ascii, err := idna.Lookup.ToASCII(want); err == nil {
				want = ascii // a Unicode host is read in its ASCII form
			}
			if r.host != want {
				t.Fatalf("referrer %q: host %q, net/url says %q", ref, r.host, want)
			}
		}
	})
}
