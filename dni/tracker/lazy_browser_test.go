package tracker

import "testing"

// chatSpy wraps attriqs.m once the tracker is loaded, counting the lazy
// modules that reach it.
const chatSpy = `<script>var m = attriqs.m; window.lazyRan = 0; attriqs.m = function (f) { lazyRan++; return m(f); };</script>`

// TestBrowserLazyChat: chat detection is a script of its own, inserted
// once tracking starts (never without consent), with the page's CSP nonce,
// and it runs inside the tracker through attriqs.m; DisableChat leaves it
// out.
func TestBrowserLazyChat(t *testing.T) {
	browser := startBrowser(t)
	inserted := `document.querySelectorAll('script[src*="` + ChatFile + `"]').length`

	t.Run("loaded once tracking starts, with the nonce", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/": page(`<script src="{{src}}" nonce="n0nce"></script>`+chatSpy, simpleBody)})
		s.navigate("/")
		s.waitFor("the chat module to run", "window.lazyRan === 1")
		if n := eval[int](s, inserted); n != 1 {
			t.Errorf("%d chat scripts inserted, want 1", n)
		}
		if got := eval[string](s, `document.querySelector('script[src*="`+ChatFile+`"]').nonce`); got != "n0nce" {
			t.Errorf("chat script nonce %q, want the tracker's", got)
		}
		if got, want := eval[string](s, `document.querySelector('script[src*="`+ChatFile+`"]').getAttribute("src")`),
			s.url(s.script.Chat().Src("/dni/")); got != want {
			t.Errorf("chat script src %q, want %q", got, want)
		}
	})

	t.Run("not without consent", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/": page(`<script src="{{src}}" data-consent="pending"></script>`+chatSpy, simpleBody)})
		s.navigate("/")
		// start() inserts it synchronously; the page has loaded without it.
		s.waitFor("the page to load", `document.readyState == "complete"`)
		if n := eval[int](s, inserted); n != 0 {
			t.Fatalf("%d chat scripts inserted without consent", n)
		}
		eval[bool](s, "attriqs.consent(true), true")
		s.waitFor("the chat module to run after consent", "window.lazyRan === 1")
	})

	t.Run("DisableChat", func(t *testing.T) {
		s := newSite(t, browser, Config{DisableChat: true}, map[string]string{
			"/": page(`{{tracker}}`+chatSpy, simpleBody)})
		s.navigate("/")
		s.waitRequests("v1/visit", 1)
		if n := eval[int](s, inserted); n != 0 {
			t.Errorf("%d chat scripts inserted with DisableChat", n)
		}
	})
}
