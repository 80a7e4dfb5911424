package tracker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// netSpy, first in the head, records every request the page makes through
// fetch and sendBeacon, synchronously, in window.__net ("path body"), and
// spy(id...) counts the reads of inputs' values in window.__reads.
const netSpy = `<script>
window.__net = []; window.__reads = {};
const f0 = window.fetch, b0 = navigator.sendBeacon.bind(navigator);
window.fetch = function (u, o) { __net.push(new URL(u, location.href).pathname + " " + (o && typeof o.body == "string" ? o.body : "")); return f0.apply(this, arguments); };
navigator.sendBeacon = function (u, b) { __net.push(new URL(u, location.href).pathname + " " + b); return b0(u, b); };
function spy() {
	const d = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value");
	for (const id of arguments) {
		const e = document.getElementById(id);
		__reads[id] = 0;
		Object.defineProperty(e, "value", {get() { __reads[id]++; return d.get.call(e); }, set(v) { d.set.call(e, v); }});
	}
}
</script>`

// ready is a predicate: the backend's ids are known, so an event leaves at once.
const ready = `window.attriqs && attriqs.ids && attriqs.ids() !== null`

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// events waits until the stub has n events of type typ and returns all of them.
func (s *site) events(typ string, n int) []map[string]any {
	s.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var got []map[string]any
		for _, r := range s.stub.requests("v1/events") {
			for _, e := range r.Events {
				if e["type"] == typ {
					got = append(got, e)
				}
			}
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("%d %s events, want %d: %v", len(got), typ, n, got)
		case <-tick.C:
		}
	}
}

// waitPage waits until the tab shows path (and query), after a navigation
// the page started itself.
func (s *site) waitPage(path string) {
	s.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// Errors are those of a context the navigation destroyed: poll again.
		if loc, err := chromedp.Run(s.ctx, chromedp.Location()); err == nil && loc == s.url(path) {
			return
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("the tab never showed %s", path)
		case <-tick.C:
		}
	}
}

// without returns e without its "at", which the browser's clock sets.
func without(e map[string]any) map[string]any {
	o := map[string]any{}
	for k, v := range e {
		if k != "at" {
			o[k] = v
		}
	}
	return o
}

func TestFormsBrowser(t *testing.T) {
	browser := startBrowser(t)
	adsHead := netSpy + `<script src="{{src}}" data-ads-consent="granted"></script>`
	thanks := page("", `<p id="t">Thanks</p>`)

	t.Run("plain form that navigates, fields read only for the hashes", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			// Fields that match the email and phone selectors but must not be
			// read (hidden, password, card) come first.
			"/": page(adsHead, `<form id="contact" action="/thanks" method="post">
				<input type="hidden" id="hid" name="email_hidden" value="x@y.example">
				<input type="password" id="pw" name="email_pw" value="hunter2">
				<input id="cc" autocomplete="cc-number" name="card_email" value="4111111111111111">
				<input type="tel" id="cc2" autocomplete="billing cc-number" name="card" value="4111111111111111">
				<input type="email" id="em" name="email" value="  Jane.Doe@Example.COM ">
				<input type="tel" id="ph" name="phone" value="+1 (415) 555-0123">
				<input id="msg" name="message" value="hello">
				<button id="go">Send</button></form>
				<script>spy("hid", "pw", "cc", "cc2", "em", "ph", "msg")</script>`),
			"/thanks": thanks,
		})
		s.navigate("/")
		s.waitFor("the session", ready)
		eval[bool](s, `setTimeout(() => document.getElementById("go").click()), true`)
		ev := s.events("form", 1)
		want := map[string]any{"type": "form", "name": "contact", "page": "/",
			"email_sha256": sha("jane.doe@example.com"), "phone_sha256": sha("+14155550123")}
		if len(ev) != 1 || !reflect.DeepEqual(without(ev[0]), want) {
			t.Errorf("events %v, want one %v", ev, want)
		}
		s.waitPage("/thanks")

		// The reads, counted on a page that stays: the email and phone
		// fields once each, nothing else.

		s.navigate("/")
		s.waitFor("the session", ready)
		reads := eval[map[string]int](s, `document.getElementById("contact").addEventListener("submit", e => e.preventDefault()),
			document.getElementById("contact").requestSubmit(), __reads`)
		if !reflect.DeepEqual(reads, map[string]int{"hid": 0, "pw": 0, "cc": 0, "cc2": 0, "em": 1, "ph": 1, "msg": 0}) {
			t.Errorf("value reads %v, want the email and phone fields once each, nothing else", reads)
		}
		s.noConsoleErrors()
	})

	t.Run("late-inserted form, requestSubmit, opt-out attribute", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(netSpy+"{{tracker}}", `<p>late</p>`)})
		s.navigate("/")
		s.waitFor("the session", ready)
		eval[bool](s, `document.body.insertAdjacentHTML("beforeend",
			'<div data-attriqs-noform><form name="inner" action="/x"></form></div>' +
			'<form id="private" data-attriqs-noform action="/x"></form><form name="newsletter" action="/x"></form>');
			for (const f of document.forms) f.addEventListener("submit", e => e.preventDefault());
			document.forms.inner.requestSubmit(); document.forms.private.requestSubmit(); document.forms.newsletter.requestSubmit();
			true`)
		ev := s.events("form", 1)
		if len(ev) != 1 || ev[0]["name"] != "newsletter" {
			t.Errorf("events %v, want newsletter only", ev)
		}
		// The opted-out forms were submitted first: anything of theirs would
		// have been handed to the network before newsletter's.
		s.waitFor("newsletter's request", `__net.some(r => r.includes("newsletter"))`)
		if net := eval[[]string](s, `__net`); strings.Contains(strings.Join(net, "\n"), "private") || strings.Contains(strings.Join(net, "\n"), "inner") {
			t.Errorf("opted-out forms sent: %v", net)
		}
		s.noConsoleErrors()
	})

	t.Run("fetch-submitted form with its outcome, no ads consent: no field read", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/fetch": page(netSpy+"{{tracker}}", `
			<form action="/api/lead?x=1" method="post"><input type="email" id="em" name="email" value="a@b.example"><button id="go">Send</button></form>
			<script>spy("em");
			const f = document.forms[0];
			f.addEventListener("submit", e => {
				e.preventDefault();
				fetch(f.action, {method: "POST", body: new FormData(f)}).then(() => {
					window.outcome = [attriqs.formOutcome("nope", "sent"), attriqs.formOutcome(f, "not sent"), attriqs.formOutcome(f, "sent")];
				});
			});</script>`)})
		s.navigate("/fetch")
		s.waitFor("the session", ready)
		eval[bool](s, `document.getElementById("go").click(), true`)
		s.waitFor("the outcome", `window.outcome !== undefined`)
		if got := eval[[]bool](s, `window.outcome`); !reflect.DeepEqual(got, []bool{false, false, true}) {
			t.Errorf("formOutcome(unknown), (bad outcome), (form) = %v, want false false true", got)
		}
		ev := s.events("form", 2)
		want := map[string]any{"type": "form", "name": "/api/lead", "page": "/fetch"}
		if !reflect.DeepEqual(without(ev[0]), want) {
			t.Errorf("submission %v, want %v", ev[0], want)
		}
		want["outcome"] = "sent"
		if len(ev) != 2 || !reflect.DeepEqual(without(ev[1]), want) || ev[1]["at"] != ev[0]["at"] {
			t.Errorf("events %v, want the submission again, same at, with outcome sent", ev)
		}
		if n := eval[int](s, `__reads.em`); n != 0 {
			t.Errorf("email field read %d times without ads consent", n)
		}
		s.noConsoleErrors()
	})

	t.Run("form.submit() is captured and still submits", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/":       page("{{tracker}}", `<form id="legacy" action="/thanks" method="get"><input name="q" value="1"><input name="submit" value="shadow"></form>`),
			"/thanks": thanks,
		})
		s.navigate("/")
		s.waitFor("the session", ready)
		// A field named "submit" shadows form.submit; the prototype's is the one called.
		eval[bool](s, `setTimeout(() => HTMLFormElement.prototype.submit.call(document.getElementById("legacy"))), true`)
		s.waitPage("/thanks?q=1&submit=shadow")
		if ev := s.events("form", 1); len(ev) != 1 || ev[0]["name"] != "legacy" || ev[0]["page"] != "/" {
			t.Errorf("events %v, want legacy on /", ev)
		}
	})

	t.Run("a cancelled submit event and then form.submit() are one submission; no control characters in names", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/": page("{{tracker}}", `<iframe name="sink"></iframe>
				<form id="checked" action="/thanks" target="sink"></form><form name="news&#9;letter&#10;" action="/thanks" target="sink"></form>
				<script>const f = document.getElementById("checked");
				// The validation (or captcha) pattern: cancel, check, then submit().
				f.addEventListener("submit", e => { e.preventDefault(); f.submit(); });
				document.forms[1].addEventListener("submit", e => e.preventDefault());</script>`),
			"/thanks": thanks,
		})
		s.navigate("/")
		s.waitFor("the session", ready)
		// One batch: the forms' events are queued before the marker.
		eval[bool](s, `f.requestSubmit(); document.forms[1].requestSubmit(); attriqs.track("marker")`)
		s.events("custom", 1)
		var names []any
		for _, e := range s.events("form", 0) {
			names = append(names, e["name"])
		}
		if want := []any{"checked", "news letter "}; !reflect.DeepEqual(names, want) {
			t.Errorf("form events named %q, want %q", names, want)
		}
	})

	t.Run("hashes only while ads consent holds, formOutcome included", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(adsHead, `<form id="f">
			<input type="email" value="a.b@gmail.com"></form>
			<script>document.getElementById("f").addEventListener("submit", e => e.preventDefault());</script>`)})
		s.navigate("/")
		s.waitFor("the session", ready)
		const submit = `document.getElementById("f").requestSubmit()`
		// Withdrawn while the hash is being made.
		eval[bool](s, submit+`; attriqs.adsConsent(false); true`)
		ev := s.events("form", 1)
		for _, k := range []string{"email_sha256", "email_google_sha256"} {
			if _, ok := ev[0][k]; ok {
				t.Errorf("submission %v carries %s, made before ads consent was withdrawn", ev[0], k)
			}
		}
		eval[bool](s, `attriqs.adsConsent(true); `+submit+`; true`)
		ev = s.events("form", 2)
		if ev[1]["email_sha256"] != sha("a.b@gmail.com") || ev[1]["email_google_sha256"] != sha("ab@gmail.com") {
			t.Fatalf("submission %v, want the email's hashes, plain and Google's", ev[1])
		}
		eval[bool](s, `attriqs.adsConsent(false); attriqs.formOutcome(document.getElementById("f"), "sent")`)
		ev = s.events("form", 3)
		_, plain := ev[2]["email_sha256"]
		_, google := ev[2]["email_google_sha256"]
		if plain || google || ev[2]["outcome"] != "sent" || ev[2]["at"] != ev[1]["at"] {
			t.Errorf("outcome %v, want the submission again with outcome sent and without its hashes", ev[2])
		}
	})

	t.Run("hashes with ads consent equal Go's SHA-256 of the normalised values", func(t *testing.T) {
		for _, tc := range []struct {
			cfg          Config
			email, phone string
			want         map[string]any
		}{
			{Config{}, "Jane@Example.com", "00 44 20 7946 0000", map[string]any{"email_sha256": sha("jane@example.com"), "phone_sha256": sha("+442079460000")}},
			{Config{}, "not an address", "(415) 555-0123", map[string]any{}}, // national without PhoneCountryCode: not sent
			// Google's hash, the dots before the @ of gmail.com and
			// googlemail.com removed, goes too only when it differs.
			{Config{}, " Jane.M.Doe@GMail.com ", "", map[string]any{"email_sha256": sha("jane.m.doe@gmail.com"), "email_google_sha256": sha("janemdoe@gmail.com")}},
			{Config{}, "jane.doe@googlemail.com", "", map[string]any{"email_sha256": sha("jane.doe@googlemail.com"), "email_google_sha256": sha("janedoe@googlemail.com")}},
			{Config{}, "janedoe@gmail.com", "", map[string]any{"email_sha256": sha("janedoe@gmail.com")}},
			{Config{}, "jane.doe@example.com", "", map[string]any{"email_sha256": sha("jane.doe@example.com")}},
			{Config{}, "jane.doe@gmail.com.example", "", map[string]any{"email_sha256": sha("jane.doe@gmail.com.example")}},
			{Config{}, "jane.doe@notgmail.com", "", map[string]any{"email_sha256": sha("jane.doe@notgmail.com")}},
			{Config{}, "jane.doe@gmail", "", map[string]any{"email_sha256": sha("jane.doe@gmail")}},
			{Config{PhoneCountryCode: "44"}, "", "020 7946 0000", map[string]any{"phone_sha256": sha("+442079460000")}},
			{Config{PhoneCountryCode: "44"}, "", "+44 (0)20 7946 0000", map[string]any{"phone_sha256": sha("+442079460000")}},
			{Config{PhoneCountryCode: "1"}, "", "1-415-555-0123", map[string]any{"phone_sha256": sha("+14155550123")}},
			{Config{PhoneCountryCode: "1"}, "", "12", map[string]any{}},
		} {
			s := newSite(t, browser, tc.cfg, map[string]string{"/": page(adsHead, `<form id="f">
				<input autocomplete="work email" id="em"><input autocomplete="section-a tel" id="ph"></form>`)})
			s.navigate("/")
			s.waitFor("the session", ready)
			eval[bool](s, `const f = document.getElementById("f"); f.addEventListener("submit", e => e.preventDefault());
				document.getElementById("em").value = `+jsString(tc.email)+`; document.getElementById("ph").value = `+jsString(tc.phone)+`;
				f.requestSubmit(), true`)
			ev := s.events("form", 1)
			got := without(ev[0])
			delete(got, "type")
			delete(got, "name")
			delete(got, "page")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%+v: email %q phone %q: hashes %v, want %v", tc.cfg, tc.email, tc.phone, got, tc.want)
			}
		}
	})

	t.Run("track", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page("{{tracker}}", `<p>track</p>`)})
		s.navigate("/")
		s.waitFor("the session", ready)
		bad := eval[[]any](s, `[
			attriqs.track("sign up"), attriqs.track(""), attriqs.track("x".repeat(65)), attriqs.track(5), attriqs.track(["a"]),
			attriqs.track("x", [1]), attriqs.track("x", "s"), attriqs.track("x", {a: {}}), attriqs.track("x", {a: null}),
			attriqs.track("x", {a: NaN}), attriqs.track("x", {a: "x".repeat(101)}), attriqs.track("x", {"a b": 1}),
			attriqs.track("x", {["k".repeat(33)]: 1}), attriqs.track("x", Object.fromEntries([...Array(11).keys()].map(i => ["k" + i, i])))]`)
		for i, v := range bad {
			if v != false {
				t.Errorf("invalid track call %d returned %v, want false", i, v)
			}
		}
		good := eval[[]any](s, `[attriqs.track("signup", {plan: "pro", seats: 3, trial: true, note: "é".repeat(100)}),
			attriqs.track("x".repeat(64), Object.fromEntries([...Array(10).keys()].map(i => ["k" + i, i]))),
			attriqs.push(["track", "video:play"])]`)
		if !reflect.DeepEqual(good, []any{true, true, nil}) {
			t.Errorf("valid track calls returned %v, want true true (push returns nothing)", good)
		}
		ev := s.events("custom", 3)
		tenProps := map[string]any{}
		for i := range 10 {
			tenProps["k"+string(rune('0'+i))] = float64(i)
		}
		want := []map[string]any{
			{"type": "custom", "name": "signup", "props": map[string]any{"plan": "pro", "seats": float64(3), "trial": true, "note": strings.Repeat("é", 100)}},
			{"type": "custom", "name": strings.Repeat("x", 64), "props": tenProps},
			{"type": "custom", "name": "video:play", "props": map[string]any{}},
		}
		var got []map[string]any
		for _, e := range ev {
			got = append(got, without(e))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("custom events %v, want %v (and none of the invalid calls)", got, want)
		}
		s.mu.Lock()
		for _, m := range s.console {
			if m.Source != "network" { // the browser's own (favicon.ico: 404)
				t.Errorf("console output: %v", m)
			}
		}
		s.mu.Unlock()
	})

	t.Run("consent withdrawn: submissions neither read nor sent", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(adsHead,
			`<form id="f"><input type="email" id="em" value="a@b.example"></form><script>spy("em")</script>`)})
		s.navigate("/")
		s.waitFor("the session", ready)
		got := eval[[]any](s, `(async () => {
			attriqs.consent(false);
			const f = document.getElementById("f"), n = __net.length;
			f.addEventListener("submit", e => e.preventDefault());
			f.requestSubmit();
			HTMLFormElement.prototype.submit.call(document.createElement("form"));
			const r = attriqs.formOutcome(f, "sent");
			await new Promise(done => setTimeout(done, 501)); // after the tracker's event flush (timer order)
			return [r, __net.slice(n).join(), __reads.em];
		})()`)
		if want := []any{false, "", float64(0)}; !reflect.DeepEqual(got, want) {
			t.Errorf("formOutcome, requests, reads after withdrawal = %v, want %v", got, want)
		}
		if ev := s.stub.requests("v1/events"); len(ev) != 0 {
			t.Errorf("events after withdrawal: %v", ev)
		}
	})

	t.Run("consent withheld: nothing read, sent or stored", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(netSpy+`<script src="{{src}}" data-consent="pending" data-ads-consent="granted"></script>`,
			`<form id="f" action="/x"><input type="email" id="em" value="a@b.example"><input type="tel" id="ph" value="+14155550123"></form>
			<script>spy("em", "ph")</script>`)})
		s.navigate("/")
		s.waitFor("the page", `document.readyState == "complete"`)
		got := eval[[]any](s, `(async () => {
			const f = document.getElementById("f");
			f.addEventListener("submit", e => e.preventDefault());
			f.requestSubmit();
			const r = [attriqs.track("signup", {a: 1}), attriqs.formOutcome(f, "sent"), attriqs.ids()];
			window.dispatchEvent(new Event("pagehide"));
			Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
			document.dispatchEvent(new Event("visibilitychange"));
			// Timers run in order of their delay among those started before
			// (HTML timer ordering): this one runs after the tracker's
			// 500 ms event flush would have.
			await new Promise(done => setTimeout(done, 501));
			return r.concat([__net.length, __reads.em + __reads.ph, document.cookie, localStorage.length]);
		})()`)
		if want := []any{false, false, nil, float64(0), float64(0), "", float64(0)}; !reflect.DeepEqual(got, want) {
			t.Errorf("track, formOutcome, ids, requests, field reads, cookie, localStorage = %v, want %v", got, want)
		}
		if n := len(s.stub.requests("")); n != 0 {
			t.Errorf("%d requests reached the backend without consent", n)
		}
		s.noConsoleErrors()
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestPhoneCountryCodeValidate(t *testing.T) {
	for _, cc := range []string{"1", "44", "358"} {
		if err := (Config{PhoneCountryCode: cc}).Validate(); err != nil {
			t.Errorf("PhoneCountryCode %q: %v", cc, err)
		}
	}
	for _, cc := range []string{"+44", "0", "4444", "44a", " 1"} {
		err := (Config{PhoneCountryCode: cc}).Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "PhoneCountryCode") {
			t.Errorf("PhoneCountryCode %q: Validate = %v, want an error naming the field", cc, err)
		}
	}
}
