package dni

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

// Every visit of a session is a page view: the count and the exit page
// change with it, the landing page stays; heartbeats are no page views.
func TestPageViewsCountEveryVisitOfTheSession(t *testing.T) {
	h := newHarness(t, testConfig())
	session := func(id string) journey.Session {
		t.Helper()
		s, err := h.svc.session(t.Context(), id)
		require.NoError(t, err)
		return s
	}
	const landing = "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"
	first := h.visit(t, VisitRequest{URL: landing})
	s := session(first.SessionID)
	assert.Equal(t, 1, s.PageViews)
	assert.Equal(t, landing, s.LandingURL)
	assert.Equal(t, landing, s.ExitURL)

	for i, page := range []string{"https://example-plumbing.com/services", "https://example-plumbing.com/contact"} {
		h.clock.add(time.Minute)
		a := h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: page})
		require.Equal(t, first.SessionID, a.SessionID)
		s = session(first.SessionID)
		assert.Equal(t, i+2, s.PageViews)
		assert.Equal(t, landing, s.LandingURL)
		assert.Equal(t, page, s.ExitURL)
	}

	h.clock.add(time.Minute)
	res, body := h.post(t, "v1/heartbeat", heartbeatRequest{VisitorID: first.VisitorID, SessionID: first.SessionID})
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	s = session(first.SessionID)
	assert.Equal(t, 3, s.PageViews, "a heartbeat is no page view")
	assert.Equal(t, "https://example-plumbing.com/contact", s.ExitURL)

	// The same page view's visit sent again (ads consent changed) is no
	// new page view.
	h.clock.add(time.Minute)
	h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: "https://example-plumbing.com/contact", Again: true})
	assert.Equal(t, 3, session(first.SessionID).PageViews, "a visit sent again is no page view")

	h.clock.add(time.Minute)
	ad := h.visit(t, VisitRequest{VisitorID: first.VisitorID, SessionID: first.SessionID, URL: "https://example-plumbing.com/?gclid=abc"})
	require.NotEqual(t, first.SessionID, ad.SessionID)
	assert.Equal(t, 1, session(ad.SessionID).PageViews, "a new session counts from one")
	assert.Equal(t, 3, session(first.SessionID).PageViews)

	// The count and exit page travel in the session's own write-behind
	// write, to the store.
	waitFor(t, "the page views stored", func() bool {
		s, err := h.svc.store.Session(t.Context(), first.SessionID)
		return err == nil && s.PageViews == 3 && s.ExitURL == "https://example-plumbing.com/contact"
	})
}
