package tracker

import (
	"testing"
)

// Link decoration against the stub backend (the real one, across hosts, is
// dni's TestBrowserVisitorIdentity): what is decorated, what a decorated
// page adopts, and that the parameter always leaves the address bar.
func TestBrowserLinkDecoration(t *testing.T) {
	browser := startBrowser(t)
	body := `<a id=p href="https://shop.partner.example/a?x=1">p</a><a id=s href="https://partner.example.com/">s</a>
<a id=o href="https://other.example/">o</a><a id=self href="/next">self</a>` + simpleBody
	cfg := Config{LinkDomains: []string{"partner.example"}}
	// click clicks every link without following it and returns the hrefs.
	const click = `(() => { const o = {}; for (const a of document.links) {
		a.addEventListener("click", e => e.preventDefault(), {once: true}); a.click(); o[a.id] = a.getAttribute("href"); } return o; })()`

	t.Run("links to LinkDomains and their subdomains carry the visitor id, no others", func(t *testing.T) {
		s := newSite(t, browser, cfg, map[string]string{"/": page("{{tracker}}", body)})
		s.navigate("/")
		s.waitFor("the ids", `attriqs.ids() && attriqs.ids().visitor_id == "v-1"`)
		got := eval[map[string]string](s, click)
		want := map[string]string{"p": "https://shop.partner.example/a?x=1&_attriqs=v-1", "s": "https://partner.example.com/",
			"o": "https://other.example/", "self": "/next"}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("link %s: %q, want %q", id, got[id], w)
			}
		}
		s.noConsoleErrors()
	})

	t.Run("a new visitor adopts a well-formed id and the parameter leaves the address bar", func(t *testing.T) {
		s := newSite(t, browser, cfg, map[string]string{"/": page("{{tracker}}", body)})
		s.navigate("/?x=1&_attriqs=v-77#top")
		v := s.waitRequests("v1/visit", 1)
		if v[0].VisitorID != "v-77" || v[0].URL != s.url("/?x=1#top") {
			t.Errorf("visit %+v, want v-77 from the link, the parameter gone from the url", v[0])
		}
		if got := eval[string](s, `location.href`); got != s.url("/?x=1#top") {
			t.Errorf("address %s", got)
		}
	})

	t.Run("a visitor with an id keeps it; a malformed id is not adopted; both leave the address bar", func(t *testing.T) {
		s := newSite(t, browser, cfg, map[string]string{"/": page("{{tracker}}", body)})
		s.navigate("/")
		s.waitFor("the ids", `attriqs.ids() && attriqs.ids().visitor_id == "v-1"`)
		s.navigate("/?_attriqs=v-99")
		s.navigate("/?_attriqs=bad%20id&y=2")
		v := s.waitRequests("v1/visit", 3)
		if v[1].VisitorID != "v-1" || v[1].URL != s.url("/") {
			t.Errorf("visit %+v, want the visitor's own id and no parameter", v[1])
		}
		if v[2].VisitorID != "v-1" || v[2].URL != s.url("/?y=2") {
			t.Errorf("visit %+v, want the visitor's own id and no parameter", v[2])
		}
	})

	t.Run("without consent nothing is decorated or adopted", func(t *testing.T) {
		s := newSite(t, browser, cfg, map[string]string{"/": page(netSpy+`<script src="{{src}}" data-consent="pending"></script>`, body)})
		s.navigate("/?_attriqs=v-77")
		if got := eval[map[string]string](s, click)["p"]; got != "https://shop.partner.example/a?x=1" {
			t.Errorf("link %q: decorated without consent", got)
		}
		// The tracker requests synchronously (netSpy records the calls):
		// none by now means none.
		if net := eval[[]string](s, `__net`); len(net) != 0 {
			t.Errorf("requests without consent: %v", net)
		}
		eval[any](s, `attriqs.consent(true)`)
		v := s.waitRequests("v1/visit", 1)
		if v[0].VisitorID != "v-77" {
			t.Errorf("visit after consent %+v, want the link's id adopted", v[0])
		}
	})
}

// With ServerCookie, withdrawing consent asks the backend to delete its
// HttpOnly cookie (v1/forget, an empty object); without it nothing is
// sent. The script's own cookie is gone either way.
func TestBrowserForgetAsksTheBackend(t *testing.T) {
	browser := startBrowser(t)
	for _, sc := range []bool{true, false} {
		s := newSite(t, browser, Config{ServerCookie: sc}, map[string]string{"/": page(netSpy+"{{tracker}}", simpleBody)})
		s.navigate("/")
		s.waitFor("the ids", `attriqs.ids() && attriqs.ids().visitor_id == "v-1"`)
		// post calls fetch synchronously, which netSpy records.
		forgets := eval[int](s, `attriqs.consent(false), __net.filter(r => r.startsWith("/dni/v1/forget")).length`)
		if want := map[bool]int{true: 1, false: 0}[sc]; forgets != want {
			t.Errorf("ServerCookie %v: %d v1/forget requests, want %d", sc, forgets, want)
		}
		if sc {
			f := s.waitRequests("v1/forget", 1)
			if f[0].VisitorID != "" || f[0].SessionID != "" {
				t.Errorf("forget %+v carries ids", f[0])
			}
		}
		if c := eval[string](s, `document.cookie`); c != "" {
			t.Errorf("ServerCookie %v: cookie %q after consent(false)", sc, c)
		}
	}
}
