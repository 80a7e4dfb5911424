package tracker

import (
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
)

// TestBrowser runs the tracker in headless Chromium against the stub
// backend: one browser, a tab and a fresh origin per case.
func TestBrowser(t *testing.T) {
	browser := startBrowser(t)

	t.Run("formats, links, elements and two business lines", func(t *testing.T) {
		s := newSite(t, browser, Config{Selectors: []string{".phone-box"}}, map[string]string{"/": page("{{tracker}}", formatsBody)})
		// A third line whose tracking number is longer than the original:
		// its display text replaces the number.
		s.stub.set(func(s *stub) {
			s.swaps = append(s.swaps, swap{Target: "+61291234567", Number: "+611300123456", Display: "1300 123 456"})
		})
		s.navigate("/")
		s.waitFor("the swap", `document.getElementById("f1").textContent == "(800) 555-0199"`)
		s.expect(formatsWant)
		v := s.waitRequests("v1/visit", 1)
		if len(v) != 1 {
			t.Errorf("%d visits, want 1", len(v))
		}
		r := v[0]
		if !strings.HasPrefix(r.ContentType, "text/plain") || r.VisitorID != "" || r.SessionID != "" || r.URL != s.url("/") || r.Referrer != "" {
			t.Errorf("first visit = %+v, want text/plain with empty ids and the page URL", r)
		}
		if c := eval[string](s, `document.cookie`); c != "_attriqs_v=v-1" {
			t.Errorf("cookie = %q, want the visitor id", c)
		}
		if ls := eval[string](s, `localStorage.getItem("_attriqs") || ""`); !strings.Contains(ls, `"s":"s-2"`) {
			t.Errorf("localStorage = %q, want the session", ls)
		}
		s.noConsoleErrors()
	})

	t.Run("SPA insertions, no re-request, no swap loop, public swap", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", spaBody)})
		s.navigate("/")
		s.waitFor("the insertion", `window.inserted === true`)
		s.waitFor("the late numbers", `document.getElementById("late").textContent == "Call 800-555-0199"`)
		s.expect(map[string]string{
			"a":            "Call 800-555-0199",
			"late":         "Call 800-555-0199",
			"latetel@href": "tel:+18005550199",
			"chg":          "+44 20 7946 1234",
			"lateph":       "(800) 555-0199",
			"ln@href":      "tel:+18005550199",
		})
		if n := eval[int](s, `new Promise(done => {
			let n = 0;
			const o = new MutationObserver(r => { n += r.length; });
			o.observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
			setTimeout(() => { o.disconnect(); done(n); }, 300);
		})`); n != 0 {
			t.Errorf("%d mutations after the page settled: the observer reacts to its own writes", n)
		}
		if v := s.stub.requests("v1/visit"); len(v) != 1 {
			t.Errorf("%d visits, want 1: inserted numbers must not re-request", len(v))
		}
		got := eval[[]any](s, `(() => { const e = document.createElement("div");
			e.innerHTML = "<span>800</span> 555 1212 <a href='tel:8005551212'>x</a>";
			const n = attriqs.swap(e); return [n, e.textContent, e.querySelector("a").getAttribute("href")]; })()`)
		if len(got) != 3 || got[0] != float64(2) || got[1] != "800 555 0199 x" || got[2] != "tel:8005550199" {
			t.Errorf("attriqs.swap(detached) = %v, want [2 \"800 555 0199 x\" tel:8005550199]", got)
		}
		s.noConsoleErrors()
	})

	t.Run("second page view swaps from the cache before DOMContentLoaded", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/one": page("{{tracker}}", `<p id="n">Call (800) 555-1212</p>`),
			"/two": page(frameRecorder+"{{tracker}}", `<p id="n">Call (800) 555-1212</p><a id="t" href="tel:+18005551212">call</a>`+filler),
		})
		s.navigate("/one")
		s.waitFor("the first swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		s.stub.set(func(s *stub) { s.delay = 1500 * time.Millisecond }) // only the cache can swap in time
		s.navigate("/two")
		s.expect(map[string]string{"n": "Call (800) 555-0199", "t@href": "tel:+18005550199"})
		if got := eval[string](s, `window.atDCL`); got != "Call (800) 555-0199|tel:+18005550199" {
			t.Errorf("at DOMContentLoaded: %q, want the tracking number already", got)
		}
		frames := eval[[]string](s, `window.frames_`)
		for i, f := range frames {
			if strings.Contains(f, "555-1212") {
				t.Errorf("frame %d painted the original number", i)
			}
		}
		v := s.waitRequests("v1/visit", 2)
		if v[1].VisitorID != "v-1" || v[1].SessionID != "s-2" {
			t.Errorf("second visit ids %q/%q, want the first visit's v-1/s-2", v[1].VisitorID, v[1].SessionID)
		}
		eval[any](s, `new Promise(r => setTimeout(r, 1700))`) // the late answer keeps the number
		s.expect(map[string]string{"n": "Call (800) 555-0199"})
		t.Logf("frames recorded before the visit answered: %d", len(frames))
		s.noConsoleErrors()
	})

	t.Run("backend down: 500 and never answering", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			set  func(*stub)
		}{
			{"500", func(s *stub) { s.status = 500 }},
			{"hang", func(s *stub) { s.hang = true }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newSite(t, browser, Config{RequestTimeout: 300 * time.Millisecond}, map[string]string{"/": page("{{tracker}}", simpleBody)})
				s.stub.set(tc.set)
				s.navigate("/")
				s.waitRequests("v1/visit", 1)
				eval[any](s, `new Promise(r => setTimeout(r, 600))`)
				s.expect(simpleOriginal)
				if got := eval[bool](s, `typeof attriqs.swap == "function" && attriqs.ids() === null`); !got {
					t.Error("the API must stay usable, without ids")
				}
				s.noConsoleErrors()
			})
		}
	})

	t.Run("backend down on a later page view: the session's number stays", func(t *testing.T) {
		s := newSite(t, browser, Config{RequestTimeout: 300 * time.Millisecond}, map[string]string{"/": page("{{tracker}}", simpleBody)})
		s.navigate("/")
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		s.stub.set(func(s *stub) { s.status = 500 })
		s.navigate("/")
		s.waitRequests("v1/visit", 2)
		eval[any](s, `new Promise(r => setTimeout(r, 400))`)
		s.expect(map[string]string{"n": "Call (800) 555-0199", "t@href": "tel:+18005550199", "uk": "+44 20 7946 1234"})
		s.noConsoleErrors()
	})

	t.Run("hide until swapped, bounded by its timeout", func(t *testing.T) {
		cfg := Config{HideUntilSwapped: true, HideTimeout: 400 * time.Millisecond, RequestTimeout: 2 * time.Second}
		s := newSite(t, browser, cfg, map[string]string{"/": page("{{tracker}}"+opacityRecorder, simpleBody)})
		s.stub.set(func(s *stub) { s.hang = true })
		s.navigate("/")
		if got := eval[string](s, `window.opacityAfter`); got != "0" {
			t.Errorf("opacity after the script = %q, want 0 while the backend is asked", got)
		}
		s.waitFor("the timeout to show the page", `getComputedStyle(document.documentElement).opacity == "1"`)
		s.expect(simpleOriginal)

		s.stub.set(func(s *stub) { s.hang = false; s.delay = 250 * time.Millisecond })
		s.navigate("/")
		if got := eval[string](s, `window.opacityAfter`); got != "0" {
			t.Errorf("opacity after the script = %q, want 0", got)
		}
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		if got := eval[string](s, `getComputedStyle(document.documentElement).opacity`); got != "1" {
			t.Errorf("opacity after the swap = %q, want 1", got)
		}
		s.noConsoleErrors()
	})

	t.Run("crawler sees the original numbers", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", simpleBody)})
		s.userAgent(crawler)
		s.navigate("/")
		v := s.waitRequests("v1/visit", 1)
		if !strings.Contains(v[0].UserAgent, "Googlebot") {
			t.Fatalf("visit user agent %q, want the crawler's", v[0].UserAgent)
		}
		eval[any](s, `new Promise(r => setTimeout(r, 300))`)
		s.expect(simpleOriginal)
		s.noConsoleErrors()
	})

	t.Run("consent denied: no swap, no storage, no request", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/ok":   page("{{tracker}}", simpleBody),
			"/deny": page(`<script>window.attriqs = window.attriqs || []; attriqs.push(["consent", false]);</script>{{tracker}}`, simpleBody),
		})
		s.navigate("/ok") // stores ids and a cached number first
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		s.navigate("/deny")
		eval[any](s, `new Promise(r => setTimeout(r, 500))`)
		s.expect(simpleOriginal)
		if got := eval[string](s, `document.cookie + "|" + localStorage.length + "|" + sessionStorage.length`); got != "|0|0" {
			t.Errorf("cookie|localStorage|sessionStorage = %q, want all empty", got)
		}
		// The first page's visit and its final heartbeat beacon on leaving, nothing from the second.
		if v, hb, ev := len(s.stub.requests("v1/visit")), len(s.stub.requests("v1/heartbeat")), len(s.stub.requests("v1/events")); v != 1 || hb > 1 || ev != 0 {
			t.Errorf("%d visits, %d heartbeats, %d event posts; want 1, at most 1, 0", v, hb, ev)
		}
		s.noConsoleErrors()
	})

	t.Run("consent withdrawn while the visit is in flight", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", simpleBody)})
		s.stub.set(func(s *stub) { s.delay = 400 * time.Millisecond })
		s.navigate("/")
		eval[any](s, `attriqs.consent(false)`)
		s.waitRequests("v1/visit", 1)
		eval[any](s, `new Promise(r => setTimeout(r, 800))`) // the answer has arrived by now
		s.expect(simpleOriginal)
		if got := eval[string](s, `document.cookie + "|" + localStorage.length + "|" + JSON.stringify(attriqs.ids())`); got != "|0|null" {
			t.Errorf("cookie|localStorage|ids = %q after the late answer, want nothing stored", got)
		}
		s.noConsoleErrors()
	})

	t.Run("consent pending until granted, then withdrawn", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/": page(`<script src="{{src}}" data-consent="pending"></script>`, simpleBody),
		})
		s.navigate("/")
		eval[any](s, `new Promise(r => setTimeout(r, 300))`)
		s.expect(simpleOriginal)
		if n := len(s.stub.requests("")); n != 0 || eval[string](s, `document.cookie`) != "" {
			t.Fatalf("pending consent sent %d requests or set a cookie", n)
		}
		eval[any](s, `attriqs.consent(true)`)
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		s.expect(map[string]string{"t@href": "tel:+18005550199", "uk": "+44 20 7946 1234", "ph": "(800) 555-0199", "ph2": ""})
		eval[any](s, `attriqs.consent(false)`)
		withdrawn := maps.Clone(simpleOriginal)
		withdrawn["ph"] = "(800) 555-1212" // the placeholder keeps showing a number: the business line's
		s.expect(withdrawn)
		if got := eval[string](s, `document.cookie + "|" + localStorage.length + "|" + JSON.stringify(attriqs.ids())`); got != "|0|null" {
			t.Errorf("after withdrawal cookie|localStorage|ids = %q, want empty", got)
		}
		s.noConsoleErrors()
	})

	t.Run("heartbeat while visible, moved lease, beacon when hidden and on pagehide", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", simpleBody)})
		s.stub.set(func(s *stub) { s.heartbeat = 1 })
		s.navigate("/")
		hb := s.waitRequests("v1/heartbeat", 1)
		if hb[0].VisitorID != "v-1" || hb[0].SessionID != "s-2" {
			t.Errorf("heartbeat ids %q/%q, want v-1/s-2", hb[0].VisitorID, hb[0].SessionID)
		}
		s.stub.set(func(s *stub) {
			s.beatSwaps = []swap{{Target: lineUS, Number: movedUS, Display: "(800) 555-0777"}, swapUK}
		})
		s.waitFor("the moved lease", `document.getElementById("n").textContent == "Call (800) 555-0777"`)
		s.expect(map[string]string{"t@href": "tel:+18005550777", "uk": "+44 20 7946 1234", "ph": "(800) 555-0777"})

		n0 := len(s.stub.requests("v1/heartbeat"))
		eval[any](s, `Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
			document.dispatchEvent(new Event("visibilitychange"))`)
		s.waitRequests("v1/heartbeat", n0+1)                 // the beacon
		eval[any](s, `new Promise(r => setTimeout(r, 300))`) // and a heartbeat that was in flight
		n1 := len(s.stub.requests("v1/heartbeat"))
		eval[any](s, `new Promise(r => setTimeout(r, 1600))`)
		if n := len(s.stub.requests("v1/heartbeat")); n != n1 || n1 > n0+2 {
			t.Errorf("%d heartbeats while hidden, want only the beacon", n-n0)
		}
		eval[any](s, `delete document.visibilityState; document.dispatchEvent(new Event("visibilitychange"))`)
		s.waitRequests("v1/heartbeat", n1+1) // beating again
		n2 := len(s.stub.requests("v1/heartbeat"))
		s.navigate("/nowhere") // pagehide
		s.waitRequests("v1/heartbeat", n2+1)
		s.noConsoleErrors()
	})

	t.Run("module hooks; send reaches v1/events, also as a beacon", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", simpleBody)}, jsbuild.Module{Name: "probe.js", Source: `onStart(function () { window.__send = send; });
			onSession(function (ids) { (window.__sessions = window.__sessions || []).push(ids.session_id); });`})
		s.navigate("/")
		s.waitRequests("v1/visit", 1)
		s.waitFor("the session", `attriqs.ids() && attriqs.ids().session_id == "s-2"`)
		if got := eval[[]string](s, `window.__sessions`); len(got) != 1 || got[0] != "s-2" {
			t.Errorf("onSession calls %v, want [s-2]", got)
		}
		eval[any](s, `__send([{type: "chat_opened", platform: "probe"}])`)
		ev := s.waitRequests("v1/events", 1)
		e := ev[0]
		if e.VisitorID != "v-1" || e.SessionID != "s-2" || len(e.Events) != 1 || e.Events[0]["type"] != "chat_opened" || e.Events[0]["platform"] != "probe" {
			t.Fatalf("events request %+v", e)
		}
		if _, err := time.Parse(time.RFC3339, e.Events[0]["at"].(string)); err != nil {
			t.Errorf("event time: %v", err)
		}
		eval[any](s, `__send({type: "lead_captured"}); dispatchEvent(new Event("pagehide"))`)
		ev = s.waitRequests("v1/events", 2)
		if ev[1].Events[0]["type"] != "lead_captured" {
			t.Errorf("beaconed events %v", ev[1].Events)
		}
		s.noConsoleErrors()
	})

	t.Run("1000 numbers", func(t *testing.T) {
		// Correctness only; BenchmarkThousandNumbers times it.
		s := thousandNumbersSite(t, browser)
		s.perfPageView()
		s.headPageViews()
		s.noConsoleErrors()
	})
}

// BenchmarkThousandNumbers times swapping 1,000 numbers in Chromium: from
// the script's first statement to its return with a cached assignment
// (ms/swap-all, and the fastest page view as ms/swap-all-fastest), attriqs.swap of a fresh copy of the numbers (ms/rescan),
// and DOMContentLoaded with the tracker in the head against without it
// (ms/dcl-tracker, ms/dcl-none). See docs/benchmarks.md.
func BenchmarkThousandNumbers(b *testing.B) {
	browser := startBrowser(b)
	s := thousandNumbersSite(b, browser)
	var total, rescan, withTracker, without float64
	fastest := math.Inf(1)
	for b.Loop() {
		ms, re := s.perfPageView()
		fastest = min(fastest, ms)
		dclWith, dclWithout := s.headPageViews()
		total += ms
		rescan += re
		withTracker += dclWith
		without += dclWithout
	}
	n := float64(b.N)
	b.ReportMetric(total/n, "ms/swap-all")
	b.ReportMetric(fastest, "ms/swap-all-fastest") // the measure: fastest of -benchtime 5x
	b.ReportMetric(rescan/n, "ms/rescan")
	b.ReportMetric(withTracker/n, "ms/dcl-tracker")
	b.ReportMetric(without/n, "ms/dcl-none")
}

func thousandNumbersSite(t testing.TB, browser context.Context) *site {
	s := newSite(t, browser, Config{}, map[string]string{
		"/warm": page("{{tracker}}", simpleBody),
		"/perf": page("", thousandNumbers()+`{{timed}}`),
		// The usual placement: the tracker in the head swaps while the page is parsed.
		"/head": page(dclRecorder+"{{tracker}}", thousandNumbers()),
		"/base": page(dclRecorder, thousandNumbers()),
	})
	s.navigate("/warm")
	s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
	return s
}

// perfPageView loads 1,000 numbers with the script inline and a cached
// assignment, checks every number was swapped, and returns the script's
// run time and that of attriqs.swap over a fresh copy, in milliseconds.
func (s *site) perfPageView() (total, rescan float64) {
	s.t.Helper()
	s.navigate("/perf")
	res := eval[map[string]float64](s, `(() => {
		const text = document.body.textContent;
		const links = [...document.querySelectorAll("a[href^='tel:']")].filter(a => a.getAttribute("href") == "tel:+18005550199").length;
		const e = document.createElement("div"); e.innerHTML = document.getElementById("numbers").innerHTML.replaceAll("0199", "1212");
		const t = performance.now(); const n = attriqs.swap(e); const rescan = performance.now() - t;
		return {ms: window.t1 - window.t0, swapped: (text.match(/555.0199/g) || []).length,
			original: (text.match(/555.1212/g) || []).length, links, rescan, rescanned: n};
	})()`)
	if res["swapped"] != 1000 || res["original"] != 0 || res["links"] != 200 || res["rescanned"] < 1000 {
		s.t.Fatalf("after the script ran: %v, want 1000 swapped, 0 originals, 200 links", res)
	}
	return res["ms"], res["rescan"]
}

// headPageViews loads 1,000 numbers with the tracker in the head, checks
// none is left by DOMContentLoaded, then the same page without the
// tracker, and returns both DOMContentLoaded times in milliseconds.
func (s *site) headPageViews() (withTracker, without float64) {
	s.t.Helper()
	s.navigate("/head")
	if left := eval[int](s, `window.leftAtDCL`); left != 0 {
		s.t.Fatalf("%d original numbers left at DOMContentLoaded with the tracker in the head", left)
	}
	withTracker = eval[float64](s, `window.dcl`)
	s.navigate("/base")
	return withTracker, eval[float64](s, `window.dcl`)
}

const formatsBody = `
<p id="f1">(800) 555-1212</p>
<p id="f2">800.555.1212</p>
<p id="f3">800-555-1212</p>
<p id="f4">+1 800 555 1212</p>
<p id="f5">1-800-555-1212</p>
<p id="f6">+44 20 7946 0000</p>
<p id="f7">020 7946 0000</p>
<p id="f8">Call <span>800</span>-<span>555</span>-<span id="f8c">1212</span> today</p>
<p id="f9">Mixed: call 800-555-1212 or +44 (0)20 7946 0000.</p>
<p id="f10">8005551212</p>
<p id="f11">+18005551212</p>
<p id="f12">00 44 20 7946 0000</p>
<p id="f13">(800)&nbsp;555&#8209;1212</p>
<p id="f14"><b>Phone:</b> <a href="#x"><strong>(800)</strong> <em>555-1212</em></a></p>
<a id="t1" href="tel:+18005551212">Call (800) 555-1212</a>
<a id="t2" href="tel:18005551212">Call us</a>
<a id="t3" href="tel:+44-20-7946-0000">UK office</a>
<span id="p1" data-attriqs-phone>800 555 1212</span>
<div id="sel" class="phone-box"><div>800</div><div>555-1212</div></div>
<div id="blk"><div>800</div><div>555-1212</div></div>
<div data-attriqs-noswap><p id="ns1">800-555-1212</p><a id="ns2" href="tel:+18005551212">800-555-1212</a></div>
<p id="other">Order 800-555-1213, ref 18005551212345, fax 800-555-12120</p>
<textarea id="ta">800-555-1212</textarea><input id="in" value="800-555-1212">
<div id="ce" contenteditable>800-555-1212</div>
<style id="css">/* 800-555-1212 */</style>
<script id="ld" type="application/ld+json">{"@type":"Organization","telephone":"+1-800-555-1212"}</script>
<noscript id="nos">800-555-1212</noscript>
<p id="au">Sydney: (02) 9123 4567.</p>
<p id="au2">Intl: +61 2 9123 4567</p>
`

var formatsWant = map[string]string{
	"f1": "(800) 555-0199", "f2": "800.555.0199", "f3": "800-555-0199", "f4": "+1 800 555 0199",
	"f5": "1-800-555-0199", "f6": "+44 20 7946 1234", "f7": "020 7946 1234",
	"f8": "Call 800-555-0199 today", "f8c": "0199",
	"f9":  "Mixed: call 800-555-0199 or +44 (0)20 7946 1234.",
	"f10": "8005550199", "f11": "+18005550199", "f12": "00 44 20 7946 1234",
	"f13": "(800)\u00a0555\u20110199", "f14": "Phone: (800) 555-0199",
	"t1": "Call (800) 555-0199", "t1@href": "tel:+18005550199",
	"t2": "Call us", "t2@href": "tel:18005550199", "t3@href": "tel:+44-20-7946-1234",
	"p1": "800 555 0199", "sel": "800555-0199", "blk": "800555-1212",
	"ns1": "800-555-1212", "ns2": "800-555-1212", "ns2@href": "tel:+18005551212",
	"other": "Order 800-555-1213, ref 18005551212345, fax 800-555-12120",
	"ta":    "800-555-1212", "in": "800-555-1212", "ce": "800-555-1212",
	"css": "/* 800-555-1212 */", "nos": "800-555-1212",
	"ld": `{"@type":"Organization","telephone":"+1-800-555-1212"}`,
	"au": "Sydney: 1300 123 456.", "au2": "Intl: 1300 123 456",
}

const spaBody = `<p id="a">Call 800-555-1212</p><p id="chg">none</p><a id="ln" href="#">link</a><div id="box"></div>
<script>
setTimeout(() => {
	document.body.insertAdjacentHTML("beforeend", '<div id="late">Call <b>800</b>-555-1212</div><a id="latetel" href="tel:+18005551212">Call now</a>');
	setTimeout(() => { // a placeholder alone in a new block without digits
		const p = document.createElement("p");
		p.innerHTML = 'Call <span id="lateph" data-attriqs-phone="+18005551212"></span>';
		document.getElementById("box").appendChild(p);
		window.inserted = true;
	}, 100);
	document.getElementById("chg").firstChild.data = "+44 20 7946 0000";
	document.getElementById("ln").setAttribute("href", "tel:+18005551212");
}, 500);
</script>`

const simpleBody = `<p id="n">Call (800) 555-1212</p><a id="t" href="tel:+18005551212">call</a><p id="uk">+44 20 7946 0000</p>
<p>Or call <span id="ph" data-attriqs-phone="+18005551212"></span><span id="ph2" data-attriqs-phone="+18005551212"><i></i></span></p>`

var simpleOriginal = map[string]string{"n": "Call (800) 555-1212", "t@href": "tel:+18005551212", "uk": "+44 20 7946 0000", "ph": "", "ph2": ""}

// frameRecorder runs before the tracker: it records the body text at every
// animation frame and the numbers at DOMContentLoaded.
const frameRecorder = `<script>
window.frames_ = [];
(function f() { if (document.body) frames_.push(document.body.textContent); if (frames_.length < 30) requestAnimationFrame(f); })();
document.addEventListener("DOMContentLoaded", () => {
	window.atDCL = document.getElementById("n").textContent + "|" + document.getElementById("t").getAttribute("href");
});
</script>`

// dclRecorder notes the DOMContentLoaded time and the original numbers
// still on the page then.
const dclRecorder = `<script>
document.addEventListener("DOMContentLoaded", () => {
	window.dcl = performance.now();
	window.leftAtDCL = (document.body.textContent.match(/555.1212/g) || []).length;
});
</script>`

// opacityRecorder runs right after the tracker, before any answer can have
// been handled.
const opacityRecorder = `<script>window.opacityAfter = getComputedStyle(document.documentElement).opacity;</script>`

// filler makes the second page long enough to be parsed in several chunks.
var filler = strings.Repeat("<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n", 400)

func thousandNumbers() string {
	forms := []string{
		`<p>Call (800) 555-1212 now</p>`,
		`<p>Fax 800.555.1212</p>`,
		`<p>Intl +1 800 555 1212</p>`,
		`<p>Split <span>800</span>-<span>555</span>-<span>1212</span></p>`,
		`<p><a href="tel:+18005551212">800-555-1212</a></p>`,
	}
	var b strings.Builder
	b.WriteString(`<div id="numbers">`)
	for i := range 1000 {
		b.WriteString(forms[i%len(forms)])
		b.WriteString("\n")
	}
	b.WriteString(`</div>`)
	return b.String()
}
