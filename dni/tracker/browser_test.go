package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
	"github.com/attriqs/calltrack/internal/testenv"
)

// The business lines of the test pages and the tracking numbers the stub
// backend leases for them.
const (
	lineUS  = "+18005551212"
	trackUS = "+18005550199"
	movedUS = "+18005550777"
	lineUK  = "+442079460000"
	trackUK = "+442079461234"
	crawler = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

var (
	swapUS = swap{Target: lineUS, Number: trackUS, Display: "(800) 555-0199"}
	swapUK = swap{Target: lineUK, Number: trackUK, Display: "020 7946 1234"}
)

type swap struct {
	Target  string `json:"target"`
	Number  string `json:"number"`
	Display string `json:"display"`
}

// request is one request the stub received, decoded strictly.
type request struct {
	Path        string
	ContentType string
	UserAgent   string
	VisitorID   string
	SessionID   string
	URL         string
	Referrer    string
	Events      []map[string]any
	AdIDs       map[string]any // the visit's ad_ids, nil when left out
	Withdrawn   bool           // the visit's ads_withdrawn
	Again       bool           // the visit's again: this page view's visit sent a second time
}

// stub implements the backend contract of the package documentation.
type stub struct {
	t    testing.TB
	done chan struct{}

	mu        sync.Mutex
	swaps     []swap        // answered to visits (and heartbeats without beatSwaps)
	beatSwaps []swap        // answered to heartbeats when set (a moved lease)
	heartbeat int           // heartbeat_s
	status    int           // non-zero: answer every API call with this status
	hang      bool          // never answer
	delay     time.Duration // answer visits after this long
	// refuse, when set, picks the visitor ids whose visits and heartbeats
	// are answered 400 naming visitor_id, as dni answers an id it did not
	// sign.
	refuse func(visitorID string) bool
	// refuseEvents, when set, picks the event batches answered 400, as dni
	// answers an event it refuses.
	refuseEvents func(events []map[string]any) bool
	reqs         []request
	nextID       int
}

func (s *stub) set(f func(s *stub)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *stub) requests(path string) []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []request
	for _, r := range s.reqs {
		if path == "" || r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct {
		VisitorID string           `json:"visitor_id"`
		SessionID string           `json:"session_id"`
		URL       string           `json:"url"`
		Referrer  string           `json:"referrer"`
		Events    []map[string]any `json:"events"`
		AdIDs     map[string]any   `json:"ad_ids"`
		Withdrawn bool             `json:"ads_withdrawn"`
		Again     bool             `json:"again"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if r.Method != http.MethodPost {
		s.t.Errorf("stub: %s %s, want POST", r.Method, r.URL.Path)
	}
	if err := dec.Decode(&body); err != nil {
		s.t.Errorf("stub: %s: body does not decode strictly: %v", r.URL.Path, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/dni/")
	if path == "v1/events" != (body.Events != nil) {
		s.t.Errorf("stub: %s: events %v in the wrong endpoint", path, body.Events)
	}
	if path != "v1/visit" && (body.URL != "" || body.Referrer != "" || body.AdIDs != nil || body.Withdrawn || body.Again) {
		s.t.Errorf("stub: %s carries visit fields", path)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, request{Path: path, ContentType: r.Header.Get("Content-Type"), UserAgent: r.UserAgent(),
		VisitorID: body.VisitorID, SessionID: body.SessionID, URL: body.URL, Referrer: body.Referrer, Events: body.Events, AdIDs: body.AdIDs, Withdrawn: body.Withdrawn, Again: body.Again})
	status, hang, delay, hb := s.status, s.hang, s.delay, s.heartbeat
	refused := path != "v1/events" && s.refuse != nil && s.refuse(body.VisitorID)
	badEvents := path == "v1/events" && s.refuseEvents != nil && s.refuseEvents(body.Events)
	swaps := s.swaps
	if path == "v1/heartbeat" && s.beatSwaps != nil {
		swaps = s.beatSwaps
	}
	vid, sid := body.VisitorID, body.SessionID
	if vid == "" {
		s.nextID++
		vid = fmt.Sprintf("v-%d", s.nextID)
	}
	if sid == "" {
		s.nextID++
		sid = fmt.Sprintf("s-%d", s.nextID)
	}
	s.mu.Unlock()

	if hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	if path == "v1/visit" && delay > 0 {
		select {
		case <-time.After(delay):
		case <-s.done:
			return
		}
	}
	if status != 0 {
		http.Error(w, "stub failure", status)
		return
	}
	if refused {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"visitor_id: dni: invalid id: not a visitor id this site issued"}`+"\n")
		return
	}
	if badEvents {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"events[0]: dni: invalid event: name: refused by the stub"}`+"\n")
		return
	}
	if path == "v1/events" {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if strings.Contains(strings.ToLower(r.UserAgent()), "bot") {
		swaps = nil // crawlers see the original numbers
	}
	if swaps == nil {
		swaps = []swap{}
	}
	if hb == 0 {
		hb = 60
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"visitor_id": vid, "session_id": sid,
		"source": map[string]string{"channel": "Direct"},
		"swaps":  swaps, "expires_at": time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339),
		"heartbeat_s": hb,
	})
}

// site is one test's origin: the built script, the stub backend and pages.
type site struct {
	t      testing.TB
	srv    *httptest.Server
	stub   *stub
	script *Script
	ctx    context.Context // the tab

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newSite serves pages (path → HTML; "{{tracker}}" becomes the script tag)
// from a fresh origin, so storage and cookies start empty, and opens a tab.
//
// Without mods the script is Build's, from the committed tracker.min.js;
// with mods, they are compiled in after js/'s own modules.
func newSite(t testing.TB, browser context.Context, cfg Config, pages map[string]string, mods ...jsbuild.Module) *site {
	t.Helper()
	build := Build
	if mods != nil {
		build = func(cfg Config) (*Script, error) { return buildWith(cfg, mods...) }
	}
	script, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := &stub{t: t, done: make(chan struct{}), swaps: []swap{swapUS, swapUK}}
	mux := http.NewServeMux()
	mux.Handle("/dni/tracker.js", script.Handler())
	if chat := script.Chat(); chat != nil {
		mux.Handle("/dni/"+ChatFile, chat.Handler())
	}
	mux.Handle("/dni/v1/", st)
	tag := `<script src="` + script.Src("/dni/") + `"></script>`
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		html, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		}
		w.Header().Set("Cache-Control", "no-store")
		html = strings.ReplaceAll(html, "{{tracker}}", tag)
		// The script inline between two time stamps in the same task: from its
		// first statement to its return (by which all numbers are swapped).
		html = strings.ReplaceAll(html, "{{timed}}", "<script>window.t0 = performance.now();\n"+string(script.Bytes())+";\nwindow.t1 = performance.now();</script>")
		fmt.Fprint(w, strings.ReplaceAll(html, "{{src}}", script.Src("/dni/")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(st.done)
		srv.Close()
	})

	tab, cancelTab := chromedp.NewContext(browser)
	ctx, cancel := context.WithDeadline(tab, tabDeadline(t))
	t.Cleanup(func() {
		cancel()
		cancelTab()
	})
	s := &site{t: t, srv: srv, stub: st, script: script, ctx: ctx}
	// Cookies ignore the port, so the origins of earlier cases share them.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			s.mu.Lock()
			s.console = append(s.console, m)
			s.mu.Unlock()
		}
	}()
	return s
}

func (s *site) url(path string) string { return s.srv.URL + path }

func (s *site) navigate(path string) {
	s.t.Helper()
	if err := chromedp.Do(s.ctx, chromedp.Navigate(s.url(path))); err != nil {
		s.t.Fatalf("navigate %s: %v", path, err)
	}
}

func (s *site) userAgent(ua string) {
	s.t.Helper()
	if _, err := chromedp.Call(s.ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua}); err != nil {
		s.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](s *site, expr string) T {
	s.t.Helper()
	v, err := chromedp.Run(s.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it holds or the tab's
// deadline passes.
//
// A poll that starts while a navigation replaces the page can be aimed at
// the old page's JavaScript context, which Chrome has just destroyed; it is
// started again on the new one.
func (s *site) waitFor(what, predicate string) {
	s.t.Helper()
	for {
		_, err := chromedp.Run(s.ctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(time.Until(tabDeadline(s.t)))))
		if err != nil && strings.Contains(err.Error(), "Cannot find context with specified id") && s.ctx.Err() == nil {
			continue
		}
		if err != nil {
			s.t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
		}
		return
	}
}

// waitRequests waits until the stub has n requests to path, or fails when
// the tab's deadline passes first.
func (s *site) waitRequests(path string, n int) []request {
	s.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r := s.stub.requests(path)
		if len(r) >= n {
			return r
		}
		select {
		case <-s.ctx.Done():
			s.t.Fatalf("%d requests to %s, want %d", len(r), path, n)
		case <-tick.C:
		}
	}
}

// noConsoleErrors fails on any exception or console error the page wrote.
// The browser's own network log lines ("Failed to load resource: 500") are
// not the script's and are left out.
func (s *site) noConsoleErrors() {
	s.t.Helper()
	// Let late messages arrive.
	eval[chromedp.Void](s, `new Promise(r => setTimeout(r, 50))`)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.console {
		if m.IsException() || m.Type == chromedp.ConsoleError && m.Source != "network" {
			s.t.Errorf("console: %s", m)
		}
	}
}

// texts returns the text (or, for "id@attr", the attribute) of elements.
func (s *site) texts(keys []string) map[string]string {
	s.t.Helper()
	b, _ := json.Marshal(keys)
	return eval[map[string]string](s, `(() => { const o = {}; for (const k of `+string(b)+`) {
		const [id, attr] = k.split("@"); const e = document.getElementById(id);
		o[k] = e ? (attr ? e.getAttribute(attr) : (attr === undefined && (e.tagName == "TEXTAREA" || e.tagName == "INPUT") ? e.value : e.textContent)) : "<missing>";
	} return o; })()`)
}

func (s *site) expect(want map[string]string) {
	s.t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	got := s.texts(keys)
	for _, k := range keys {
		if got[k] != want[k] {
			s.t.Errorf("%s = %q, want %q", k, got[k], want[k])
		}
	}
}

func page(head, body string) string {
	return "<!doctype html><html><head><meta charset=utf-8><title>t</title>" + head + "</head><body>" + body + "</body></html>"
}

// tabDeadline bounds a tab (and every wait in it) by the test's own
// deadline, less a margin so the failure names what it waited for instead
// of the test binary panicking on its timeout. Without a deadline (go test
// -timeout 0, benchmarks) a tab gets 10 minutes. Nothing here is a
// performance expectation: on a quiet machine every wait ends in
// milliseconds, on a loaded one it may take seconds.
func tabDeadline(t testing.TB) time.Time {
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok {
			return d.Add(-time.Until(d) / 10)
		}
	}
	return time.Now().Add(10 * time.Minute)
}

// startBrowser launches one headless Chromium for all browser tests.
func startBrowser(t testing.TB) context.Context {
	path := testenv.ChromiumPath(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		// Headless tabs opened side by side must not have their timers throttled.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// The first Run starts the browser, which lives as long as browser; so
	// that context takes no timeout, and a timer bounds the start instead.
	stop := time.AfterFunc(time.Until(tabDeadline(t)), cancelBrowser)
	defer stop.Stop()
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return browser
}
