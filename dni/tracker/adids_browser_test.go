package tracker

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/attriqs/calltrack/journey"
)

// The ad platforms' cookies as their own scripts write them: GA's client
// id, two GA4 streams (the older GS1 and the newer GS2 session format),
// Meta's browser and click ids.
const (
	adCookies = `<script>
document.cookie = "_ga=GA1.1.1234567890.1700000000;path=/";
document.cookie = "_ga_OTHER01=GS1.1.1700000999.3.1.1700001000.0.0.0;path=/";
document.cookie = "_ga_ABC123=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0;path=/";
document.cookie = "_fbp=fb.1.1596403881668.1116446470;path=/";
document.cookie = "_fbc=fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgE;path=/";
</script>`
	// cookieSpy counts the page's reads of document.cookie from here on.
	cookieSpy = `<script>
window.cookieReads = 0;
const cookieDesc = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
Object.defineProperty(document, "cookie", {configurable: true,
  get() { window.cookieReads++; return cookieDesc.get.call(document); },
  set(v) { cookieDesc.set.call(document, v); }});
</script>`
	gtag       = `<script>window.dataLayer = window.dataLayer || []; function gtag() { dataLayer.push(arguments); }</script>`
	queueAds   = `<script>window.attriqs = window.attriqs || []; attriqs.push(["adsConsent", true]);</script>`
	clientID   = "1234567890.1700000000"
	fbp        = "fb.1.1596403881668.1116446470"
	fbc        = "fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgE"
	gs1Session = "1700000999"
	gs2Session = "1747132561"
)

// adIDsOf decodes a visit's ad_ids as the backend does, failing on a field
// journey.AdIDs does not have.
func adIDsOf(t *testing.T, r request) journey.AdIDs {
	t.Helper()
	var a journey.AdIDs
	if r.AdIDs == nil {
		return a
	}
	b, _ := json.Marshal(r.AdIDs)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Errorf("ad_ids %s: %v", b, err)
	}
	return a
}

// TestBrowserAdIDs: the tracker reads the ad platforms' ids only with the
// visitor's ads consent (attriqs.adsConsent, data-ads-consent, or Consent
// Mode's ad_user_data granted), and forwards Consent Mode's signals.
func TestBrowserAdIDs(t *testing.T) {
	browser := startBrowser(t)
	all := journey.AdIDs{Consent: true, GAClientID: clientID, GASessionID: gs1Session, FBP: fbp, FBC: fbc}
	with := func(f func(a *journey.AdIDs)) journey.AdIDs {
		a := all
		f(&a)
		return a
	}

	for _, tc := range []struct {
		name string
		cfg  Config
		head string // before the tracker's tag
		tag  string // the tracker's tag; empty: the plain one
		want journey.AdIDs
	}{
		{name: "no ads consent: nothing", head: adCookies},
		{name: "Consent Mode denying ad_user_data alone: nothing",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "denied", ad_personalization: "denied"});</script>`},
		{name: "attriqs.adsConsent queued: the ids, no signals without Consent Mode",
			head: adCookies + queueAds, want: all},
		{name: "data-ads-consent and the configured GA4 stream; Consent Mode's signals forwarded",
			cfg: Config{GAMeasurementID: "G-ABC123"},
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied"});
				gtag("consent", "update", {ad_user_data: "granted"});</script>`,
			tag: `<script src="{{src}}" data-ads-consent="granted"></script>`,
			want: with(func(a *journey.AdIDs) {
				a.GASessionID, a.AdUserData, a.AdPersonalization = gs2Session, "granted", "denied"
			})},
		{name: "ads consent given, Consent Mode denying ad_user_data: forwarded as denied",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "denied", ad_personalization: "granted"});</script>` + queueAds,
			want: with(func(a *journey.AdIDs) { a.AdUserData, a.AdPersonalization = "denied", "granted" })},
		{name: "Consent Mode granting ad_user_data counts as ads consent",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "granted", ad_personalization: "denied"});</script>`,
			want: with(func(a *journey.AdIDs) { a.AdUserData, a.AdPersonalization = "granted", "denied" })},
		{name: "a regional default's denial wins over the global default",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "denied", region: ["ES", "FR"]});
				gtag("consent", "default", {ad_user_data: "granted"});</script>`},
		{name: "a regional default's grant is not taken",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "granted", region: ["US"]});</script>`},
		{name: "an update wins over a regional denial",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "denied", region: ["ES"]});
				gtag("consent", "update", {ad_user_data: "granted"});</script>`,
			want: with(func(a *journey.AdIDs) { a.AdUserData = "granted" })},
		{name: "attriqs.adsConsent(false) wins over Consent Mode",
			head: adCookies + gtag + `<script>gtag("consent", "default", {ad_user_data: "granted"});
				window.attriqs = []; attriqs.push(["adsConsent", false]);</script>`},
		{name: "ads consent without the cookies: consent alone",
			head: queueAds, want: journey.AdIDs{Consent: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := tc.tag
			if tag == "" {
				tag = "{{tracker}}"
			}
			s := newSite(t, browser, tc.cfg, map[string]string{"/": page(tc.head+tag, simpleBody)})
			s.navigate("/")
			v := s.waitRequests("v1/visit", 1)
			if got := adIDsOf(t, v[0]); got != tc.want {
				t.Errorf("ad_ids = %+v, want %+v", got, tc.want)
			}
			if !tc.want.Consent && v[0].AdIDs != nil {
				t.Errorf("ad_ids sent without ads consent: %v", v[0].AdIDs)
			}
			s.noConsoleErrors()
		})
	}

	// The tracker's own visitor cookie is read on a first page view only
	// (localStorage holds the id after it), so a second page view shows
	// whether anything else reads cookies.
	t.Run("no ads consent: no cookie read", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/one": page(adCookies+"{{tracker}}", simpleBody),
			"/two": page(cookieSpy+"{{tracker}}", simpleBody),
			"/ads": page(cookieSpy+queueAds+"{{tracker}}", simpleBody),
		})
		s.navigate("/one")
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		s.navigate("/two")
		s.waitFor("the swap", `document.getElementById("n").textContent == "Call (800) 555-0199"`)
		v := s.waitRequests("v1/visit", 2)
		if n := eval[int](s, `window.cookieReads`); n != 0 || v[1].AdIDs != nil {
			t.Errorf("without ads consent: %d cookie reads, ad_ids %v; want none", n, v[1].AdIDs)
		}
		// The spy sees reads: with ads consent the same page view reads them.
		s.navigate("/ads")
		v = s.waitRequests("v1/visit", 3)
		if n := eval[int](s, `window.cookieReads`); n == 0 || adIDsOf(t, v[2]) != all {
			t.Errorf("with ads consent: %d cookie reads, ad_ids %v; want the ids", n, v[2].AdIDs)
		}
		s.noConsoleErrors()
	})

	t.Run("no tracking consent: nothing at all, ads consent or not", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{
			"/": page(adCookies+gtag+`<script>gtag("consent", "default", {ad_user_data: "granted"});
				window.attriqs = []; attriqs.push(["adsConsent", true]); attriqs.push(["consent", false]);</script>{{tracker}}`, simpleBody),
		})
		s.navigate("/")
		eval[any](s, `new Promise(r => setTimeout(r, 300))`)
		if n := len(s.stub.requests("")); n != 0 {
			t.Errorf("%d requests without tracking consent", n)
		}
		s.noConsoleErrors()
	})

	// Consent given after the page view's visit: the visit is sent again,
	// for the same visitor and session, with the ids; once.
	t.Run("ads consent given later: the visit again, with the ids", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(adCookies+gtag, simpleBody+`<script src="{{src}}"></script>`)})
		s.navigate("/")
		s.waitFor("the answer", `attriqs.ids() && attriqs.ids().session_id != ""`)
		if v := s.waitRequests("v1/visit", 1); v[0].AdIDs != nil {
			t.Fatalf("ad_ids before consent: %v", v[0].AdIDs)
		}
		eval[any](s, `attriqs.adsConsent(true), attriqs.adsConsent(true)`)
		v := s.waitRequests("v1/visit", 2)
		if v[1].VisitorID != "v-1" || v[1].SessionID != "s-2" || v[1].URL != s.url("/") || adIDsOf(t, v[1]) != all {
			t.Errorf("visit after consent %+v, want the first visit's ids and URL with the ad ids", v[1])
		}
		eval[any](s, `new Promise(r => setTimeout(r, 300))`)
		if n := len(s.stub.requests("v1/visit")); n != 2 {
			t.Errorf("%d visits, want 2", n)
		}
		s.noConsoleErrors()
	})

	// Consent withdrawn after the ids went: the visit again, saying so and
	// carrying none, so the server forgets the session's ids; once.
	t.Run("ads consent withdrawn: the visit again, withdrawn, without ids", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(adCookies+queueAds, simpleBody+`<script src="{{src}}"></script>`)})
		s.navigate("/")
		s.waitFor("the answer", `attriqs.ids() && attriqs.ids().session_id != ""`)
		if v := s.waitRequests("v1/visit", 1); adIDsOf(t, v[0]) != all || v[0].Withdrawn || v[0].Again {
			t.Fatalf("first visit %+v, want the ad ids", v[0])
		}
		eval[any](s, `attriqs.adsConsent(false), attriqs.adsConsent(false)`)
		v := s.waitRequests("v1/visit", 2)
		if !v[1].Withdrawn || !v[1].Again || v[1].AdIDs != nil || v[1].SessionID != "s-2" {
			t.Errorf("visit after withdrawal %+v, want ads_withdrawn, again (no new page view) and no ad ids for the same session", v[1])
		}
		eval[any](s, `attriqs.adsConsent(true)`)
		v = s.waitRequests("v1/visit", 3)
		if v[2].Withdrawn || adIDsOf(t, v[2]) != all {
			t.Errorf("visit after consent again %+v, want the ad ids", v[2])
		}
		s.noConsoleErrors()
	})

	t.Run("Consent Mode granted later: the next heartbeat is the visit with the ids", func(t *testing.T) {
		s := newSite(t, browser, Config{}, map[string]string{"/": page(adCookies+gtag+
			`<script>gtag("consent", "default", {ad_user_data: "denied"});</script>{{tracker}}`, simpleBody)})
		s.stub.set(func(s *stub) { s.heartbeat = 1 })
		s.navigate("/")
		s.waitRequests("v1/heartbeat", 1) // nothing changed: a heartbeat
		eval[any](s, `gtag("consent", "update", {ad_user_data: "granted", ad_personalization: "granted"})`)
		v := s.waitRequests("v1/visit", 2)
		want := with(func(a *journey.AdIDs) { a.AdUserData, a.AdPersonalization = "granted", "granted" })
		if v[0].AdIDs != nil || v[1].SessionID != "s-2" || adIDsOf(t, v[1]) != want {
			t.Errorf("visits %+v, want the second with the ad ids", v)
		}
		hb := len(s.stub.requests("v1/heartbeat"))
		s.waitRequests("v1/heartbeat", hb+1) // and heartbeats again after it
		if n := len(s.stub.requests("v1/visit")); n != 2 {
			t.Errorf("%d visits, want 2", n)
		}
		s.noConsoleErrors()
	})
}
