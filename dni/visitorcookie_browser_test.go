package dni

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/attriqs/calltrack/internal/testenv"
)

// The hosts of the browser test, all mapped to the test server: two
// subdomains of one site and a second site of the same owner.
const (
	wwwHost     = "www.calltrack.test"
	shopHost    = "shop.calltrack.test"
	partnerHost = "www.partner.test"
)

// visitRecord is a v1/visit request as the test server saw it.
type visitRecord struct {
	Host, VisitorID, URL string
}

// TestBrowserVisitorIdentity runs the tracker in Chromium against the real
// Service, over HTTPS so that Secure cookies are kept: one visitor across
// two subdomains (CookieDomain), the server's HttpOnly cookie out of the
// page's reach and bringing the visitor back once the page's own storage
// is wiped (Safari's 7-day purge), and link decoration carrying the
// visitor to another domain.
func TestBrowserVisitorIdentity(t *testing.T) {
	keys := [][]byte{[]byte("browser-test-key-browser-test-ke")}
	site := testConfig()
	site.VisitorKeys = keys
	site.Tracker.ServerCookie = true
	site.Tracker.CookieDomain = "calltrack.test"
	site.Tracker.LinkDomains = []string{"partner.test"}
	partner := testConfig()
	partner.VisitorKeys = keys // the owner's sites share the keys, so each verifies the other's ids
	partner.Tracker.ServerCookie = true
	siteAPI, partnerAPI := newHarness(t, site).svc.Handler(), newHarness(t, partner).svc.Handler()

	pages := map[string]string{
		"/": `<!doctype html><html><head><meta charset=utf-8><script src="/dni/tracker.js"></script></head><body>
<p>Call <span id=n>(415) 555-0000</span></p>
<a id=partner href="https://` + partnerHost + `:PORT/landing?x=1#top">partner</a>
<a id=elsewhere href="https://elsewhere.test/">elsewhere</a>
<a id=shop href="https://` + shopHost + `:PORT/">shop</a>
</body></html>`,
		// wipe does what Safari does to script-written storage after 7 days.
		"/wipe": `<!doctype html><script>localStorage.clear();
document.cookie = "_attriqs_v=;path=/;max-age=0;domain=calltrack.test";</script>`,
	}
	pages["/landing"] = pages["/"]

	var mu sync.Mutex
	var visits []visitRecord
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.Host)
		api := siteAPI
		if strings.HasSuffix(host, ".partner.test") {
			api = partnerAPI
		}
		if strings.HasPrefix(r.URL.Path, DefaultPrefix) {
			if strings.HasSuffix(r.URL.Path, "v1/visit") {
				body, _ := io.ReadAll(r.Body)
				var v VisitRequest
				_ = json.Unmarshal(body, &v)
				mu.Lock()
				visits = append(visits, visitRecord{host, v.VisitorID, v.URL})
				mu.Unlock()
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			api.ServeHTTP(w, r)
			return
		}
		html, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, port, _ := net.SplitHostPort(r.Host)
		_, _ = io.WriteString(w, strings.ReplaceAll(html, "PORT", port))
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	at := func(host, path string) string { return "https://" + host + ":" + port + path }
	lastVisit := func() visitRecord {
		mu.Lock()
		defer mu.Unlock()
		return visits[len(visits)-1]
	}

	ctx := startIdentityBrowser(t)
	open := func(t *testing.T, url string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("navigate %s: %v", url, err)
		}
	}
	// poll waits until expr is truthy and returns its value. A poll aimed
	// at a page that a navigation has just replaced is started again. The
	// helpers take the (sub)test they fail, as FailNow must run on its own
	// goroutine.
	poll := func(t *testing.T, what, expr string) string {
		t.Helper()
		for {
			v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingInterval(20*time.Millisecond)))
			if err != nil && (strings.Contains(err.Error(), "Cannot find context with specified id") ||
				strings.Contains(err.Error(), "Inspected target navigated or closed")) && ctx.Err() == nil {
				continue
			}
			if err != nil {
				t.Fatalf("waiting for %s (%s): %v", what, expr, err)
			}
			return v
		}
	}
	visitor := func(t *testing.T, what string) string {
		t.Helper()
		// The page may not have run the tracker yet (a navigation just
		// landed): attriqs undefined is "not yet", not an error.
		return poll(t, what, `window.attriqs && attriqs.ids() && attriqs.ids().visitor_id`)
	}
	cookies := func(t *testing.T) map[string]*network.Cookie {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{at(wwwHost, "/")}})
		if err != nil {
			t.Fatalf("reading cookies: %v", err)
		}
		m := map[string]*network.Cookie{}
		for _, c := range res.Cookies {
			m[c.Name] = c
		}
		return m
	}

	open(t, at(wwwHost, "/"))
	v := visitor(t, "the first visit")

	t.Run("the server sets an HttpOnly, Secure, Lax cookie on the cookie domain, out of the page's reach", func(t *testing.T) {
		cs := cookies(t)
		sc, ok := cs[VisitorCookie]
		if !ok {
			t.Fatalf("no %s cookie; cookies %v", VisitorCookie, cs)
		}
		if sc.Value != v || !sc.HTTPOnly || !sc.Secure || sc.SameSite != network.CookieSameSiteLax || sc.Domain != ".calltrack.test" || sc.Path != "/" {
			t.Errorf("server cookie %+v, want %s HttpOnly Secure Lax on .calltrack.test", sc, v)
		}
		if c, ok := cs["_attriqs_v"]; !ok || c.Value != v || c.Domain != ".calltrack.test" {
			t.Errorf("script cookie %+v, want %s on .calltrack.test", c, v)
		}
		page := evalIn[string](t, ctx, `document.cookie`)
		if strings.Contains(page, VisitorCookie) || !strings.Contains(page, "_attriqs_v="+v) {
			t.Errorf("document.cookie %q: want the script's cookie and not the server's", page)
		}
	})

	t.Run("one visitor across the subdomains", func(t *testing.T) {
		open(t, at(shopHost, "/"))
		if got := visitor(t, "the shop's visit"); got != v {
			t.Errorf("shop visitor %s, want www's %s", got, v)
		}
		if got := lastVisit(); got.Host != shopHost || got.VisitorID != v {
			t.Errorf("shop's visit %+v, want it to carry %s (from the shared script cookie)", got, v)
		}
	})

	t.Run("after Safari's purge of script storage the server cookie brings the visitor back", func(t *testing.T) {
		open(t, at(shopHost, "/wipe"))
		open(t, at(wwwHost, "/wipe"))
		if _, ok := cookies(t)["_attriqs_v"]; ok {
			t.Fatal("the script cookie survived the wipe")
		}
		open(t, at(wwwHost, "/"))
		if got := visitor(t, "the visit after the purge"); got != v {
			t.Errorf("visitor %s after the purge, want %s", got, v)
		}
		if got := lastVisit(); got.Host != wwwHost || got.VisitorID != "" {
			t.Errorf("visit %+v: want one with no visitor id in its body (the page kept nothing)", got)
		}
	})

	t.Run("link decoration carries the visitor to another domain", func(t *testing.T) {
		// Clicks that do not navigate show what is decorated.
		hrefs := evalIn[map[string]string](t, ctx, `(() => { for (const id of ["partner", "elsewhere", "shop"]) {
			const a = document.getElementById(id);
			a.addEventListener("click", e => e.preventDefault(), {once: true});
			a.click();
		} return {partner: partner.href, elsewhere: elsewhere.href, shop: shop.href}; })()`)
		if want := at(partnerHost, "/landing?x=1&_attriqs="+v+"#top"); hrefs["partner"] != want {
			t.Errorf("partner link %s, want %s", hrefs["partner"], want)
		}
		if hrefs["elsewhere"] != "https://elsewhere.test/" || hrefs["shop"] != at(shopHost, "/") {
			t.Errorf("links %v: only LinkDomains' are decorated", hrefs)
		}
		evalIn[chromedp.Void](t, ctx, `void document.getElementById("partner").click()`)
		poll(t, "the partner page", `location.hostname == "`+partnerHost+`" && location.hostname`)
		if got := visitor(t, "the partner's visit"); got != v {
			t.Errorf("partner visitor %s, want %s", got, v)
		}
		href := evalIn[string](t, ctx, `location.href`)
		if want := at(partnerHost, "/landing?x=1#top"); href != want {
			t.Errorf("address %s, want %s: the parameter removed, the rest kept", href, want)
		}
		if got := lastVisit(); got.Host != partnerHost || got.VisitorID != v || got.URL != href {
			t.Errorf("partner visit %+v, want %s at %s", got, v, href)
		}
	})

	t.Run("consent withdrawn: every visitor cookie goes, a host-only one from before CookieDomain too", func(t *testing.T) {
		open(t, at(wwwHost, "/"))
		visitor(t, "the visit")
		// The script's cookie without a domain, as it was written before the
		// site set CookieDomain.
		left := evalIn[string](t, ctx, `document.cookie = "_attriqs_v=old;path=/;max-age=999;secure;samesite=lax";
			attriqs.consent(false), document.cookie`)
		if left != "" {
			t.Errorf("document.cookie %q after consent(false), want none", left)
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, ok := cookies(t)[VisitorCookie]; !ok {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s was never deleted (v1/forget)", VisitorCookie)
			case <-tick.C:
			}
		}
	})
}

// evalIn evaluates a JavaScript expression in the tab into T.
func evalIn[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// startIdentityBrowser launches a headless Chromium that resolves the test
// hosts to the loopback address and accepts the test server's certificate.
func startIdentityBrowser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(testenv.ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP *.calltrack.test 127.0.0.1, MAP *.partner.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors", true),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-time.Until(d) / 10) // fail naming the wait, before the test binary's panic
	}
	ctx, cancel := context.WithDeadline(browser, deadline)
	t.Cleanup(cancel)
	return ctx
}
