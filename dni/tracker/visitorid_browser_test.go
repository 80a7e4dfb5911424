package tracker

import (
	"strings"
	"testing"
)

// A backend that signs its visitor ids refuses the ids browsers kept from
// before (400 naming visitor_id). The script then drops its stored ids and
// visits again without them, once per page view.
func TestBrowserRefusedVisitorID(t *testing.T) {
	browser := startBrowser(t)
	// seed stores what an earlier release of the script left behind: an
	// unsigned visitor id (cookie and localStorage) with a live session
	// and its cached number.
	const seed = `<script>
localStorage.setItem("_attriqs", JSON.stringify({v: "legacy-visitor", vx: Date.now() + 864e5, s: "legacy-session",
  sl: Date.now(), sw: [{target: "+18005551212", number: "+18005550777", display: "(800) 555-0777"}], sx: Date.now() + 6e5}));
document.cookie = "_attriqs_v=legacy-visitor;path=/";
</script>`
	pages := map[string]string{"/seed": page(seed, ""), "/": page("{{tracker}}", simpleBody)}

	t.Run("visit: the old id is dropped and a new visitor starts", func(t *testing.T) {
		s := newSite(t, browser, Config{}, pages)
		s.stub.set(func(s *stub) { s.refuse = func(id string) bool { return id == "legacy-visitor" } })
		s.navigate("/seed")
		s.navigate("/")
		s.waitFor("the new lease", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		v := s.waitRequests("v1/visit", 2)
		if v[0].VisitorID != "legacy-visitor" || v[0].SessionID != "legacy-session" {
			t.Errorf("first visit ids %q/%q, want the stored ones", v[0].VisitorID, v[0].SessionID)
		}
		if v[1].VisitorID != "" || v[1].SessionID != "" || v[1].URL != s.url("/") {
			t.Errorf("second visit %+v, want a first visit of the page", v[1])
		}
		s.waitFor("the new ids stored", `document.cookie == "_attriqs_v=v-1" && JSON.parse(localStorage.getItem("_attriqs")).s == "s-2"`)
		if got := eval[string](s, `JSON.stringify(attriqs.ids())`); got != `{"visitor_id":"v-1","session_id":"s-2"}` {
			t.Errorf("ids %s, want the new visitor's", got)
		}
		eval[any](s, `new Promise(r => setTimeout(r, 300))`)
		if n := len(s.stub.requests("v1/visit")); n != 2 {
			t.Errorf("%d visits, want 2", n)
		}
		s.noConsoleErrors()
	})

	t.Run("a backend that keeps refusing is asked once more, not again and again", func(t *testing.T) {
		s := newSite(t, browser, Config{}, pages)
		s.stub.set(func(s *stub) { s.refuse = func(string) bool { return true } })
		s.navigate("/seed")
		s.navigate("/")
		s.waitRequests("v1/visit", 2)
		eval[any](s, `new Promise(r => setTimeout(r, 500))`)
		if n := len(s.stub.requests("")); n != 2 {
			t.Errorf("%d requests, want the visit and its one retry", n)
		}
		if c := eval[string](s, `document.cookie`); strings.Contains(c, "legacy") {
			t.Errorf("cookie %q: the refused id is kept", c)
		}
		s.noConsoleErrors()
	})

	t.Run("heartbeat: a refused id starts a new visitor", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", simpleBody)})
		s.stub.set(func(s *stub) { s.heartbeat = 1 })
		s.navigate("/")
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		// The backend's keys changed under the page (v-1 no longer verifies).
		s.stub.set(func(s *stub) { s.refuse = func(id string) bool { return id == "v-1" } })
		hb := s.waitRequests("v1/heartbeat", 1)
		if hb[len(hb)-1].VisitorID != "v-1" {
			t.Fatalf("heartbeat ids %+v", hb)
		}
		v := s.waitRequests("v1/visit", 2)
		if v[1].VisitorID != "" || v[1].SessionID != "" {
			t.Errorf("visit after the refused heartbeat %+v, want no ids", v[1])
		}
		s.waitFor("the new visitor", `attriqs.ids() && attriqs.ids().visitor_id == "v-3"`)
		hb = s.waitRequests("v1/heartbeat", len(s.stub.requests("v1/heartbeat"))+1)
		if last := hb[len(hb)-1]; last.VisitorID != "v-3" || last.SessionID != "s-4" {
			t.Errorf("heartbeat after the new visit %+v, want the new visitor's", last)
		}
		s.noConsoleErrors()
	})
}
