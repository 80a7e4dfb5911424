package tracker

import "testing"

// TestBrowserRefusedEventsAreDropped: a batch the backend answers 400 (it
// refuses an event for good) is dropped, not queued again, so the page
// view's later events still arrive; a batch that failed otherwise (503)
// goes again with the next one.
func TestBrowserRefusedEventsAreDropped(t *testing.T) {
	browser := startBrowser(t)
	// fetchSpy counts the page's finished fetches; the tracker's handling of
	// an answer runs in the microtasks right after, before a poll can look.
	const fetchSpy = `<script>window.fetched = 0; const f = window.fetch;
window.fetch = function () { return f.apply(this, arguments).finally(() => { fetched++; }); };</script>`
	s := newSite(t, browser, Config{DisableChat: true}, map[string]string{"/": page(fetchSpy+"{{tracker}}", simpleBody)})
	named := func(events []map[string]any, name string) bool {
		for _, e := range events {
			if e["name"] == name {
				return true
			}
		}
		return false
	}
	s.stub.set(func(st *stub) {
		st.refuseEvents = func(events []map[string]any) bool { return named(events, "refused") }
	})
	s.navigate("/")
	s.waitFor("the answer", `attriqs.ids() && attriqs.ids().session_id != ""`)
	eval[bool](s, `attriqs.track("refused")`)
	s.waitRequests("v1/events", 1)
	eval[bool](s, `attriqs.track("later")`)
	for n := 2; ; n++ {
		reqs := s.waitRequests("v1/events", n)
		last := reqs[n-1]
		if named(last.Events, "later") {
			if named(last.Events, "refused") {
				t.Fatalf("the refused event was sent again with the next batch: %v", last.Events)
			}
			break
		}
	}
	sent := 0
	for _, r := range s.stub.requests("v1/events") {
		if named(r.Events, "refused") {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("the refused event was sent %d times, want once", sent)
	}

	// A failure that is not a refusal: the batch goes again with the next.
	s.waitFor("the last answer handled", `window.fetched == 3`) // the visit and two event batches
	s.stub.set(func(st *stub) { st.status = 503 })
	eval[bool](s, `attriqs.track("retried")`)
	reqs := s.waitRequests("v1/events", len(s.stub.requests("v1/events"))+1)
	s.waitFor("the 503 handled", `window.fetched == 4`)
	if !named(reqs[len(reqs)-1].Events, "retried") {
		t.Fatalf("events %v, want the retried one", reqs[len(reqs)-1].Events)
	}
	s.stub.set(func(st *stub) { st.status = 0 })
	eval[bool](s, `attriqs.track("after")`)
	reqs = s.waitRequests("v1/events", len(reqs)+1)
	if last := reqs[len(reqs)-1].Events; !named(last, "retried") || !named(last, "after") {
		t.Errorf("the batch after a 503 carries %v, want the retried event and the new one", last)
	}
	s.noConsoleErrors()
}
