package dni

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// visitorCookieOf is the VisitorCookie res sets; nil when it sets none.
func visitorCookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == VisitorCookie {
			return c
		}
	}
	return nil
}

func (h *harness) visitWithCookie(t *testing.T, req VisitRequest, cookie string) (Assignment, *http.Cookie) {
	t.Helper()
	var hdr []string
	if cookie != "" {
		hdr = []string{"Cookie", VisitorCookie + "=" + cookie}
	}
	res, body := h.post(t, "v1/visit", req, hdr...)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var a Assignment
	require.NoError(t, json.Unmarshal(body, &a))
	return a, visitorCookieOf(res)
}

func TestVisitorCookie(t *testing.T) {
	cfg := testConfig()
	cfg.Tracker.ServerCookie = true
	cfg.Tracker.CookieDomain = "example-plumbing.com"
	cfg.Tracker.VisitorLifetime = 30 * 24 * time.Hour
	h := newHarness(t, cfg)
	const page = "https://www.example-plumbing.com/"

	first, c := h.visitWithCookie(t, VisitRequest{URL: page}, "")
	t.Run("a visit sets the visitor id in an HttpOnly, Secure, Lax cookie of the visitor's lifetime", func(t *testing.T) {
		require.NotNil(t, c, "no %s cookie", VisitorCookie)
		assert.Equal(t, first.VisitorID, c.Value)
		assert.True(t, c.HttpOnly, "HttpOnly")
		assert.True(t, c.Secure, "Secure")
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, "example-plumbing.com", c.Domain)
		assert.Equal(t, 30*24*3600, c.MaxAge)
	})

	t.Run("a visit without a visitor id takes the cookie's", func(t *testing.T) {
		a, c := h.visitWithCookie(t, VisitRequest{URL: page}, first.VisitorID)
		assert.Equal(t, first.VisitorID, a.VisitorID, "Safari purged the script's storage; the server cookie brings the visitor back")
		require.NotNil(t, c)
		assert.Equal(t, first.VisitorID, c.Value, "and renews the cookie")
	})

	t.Run("the body's id wins over the cookie's, and the cookie follows it", func(t *testing.T) {
		other, _ := h.visitWithCookie(t, VisitRequest{URL: page}, "")
		require.NotEqual(t, first.VisitorID, other.VisitorID)
		a, c := h.visitWithCookie(t, VisitRequest{VisitorID: other.VisitorID, URL: page}, first.VisitorID)
		assert.Equal(t, other.VisitorID, a.VisitorID)
		require.NotNil(t, c)
		assert.Equal(t, other.VisitorID, c.Value)
	})

	// A cookie id is verified as a body id is, but one that fails is
	// ignored rather than refused: the script cannot delete it.
	for name, forged := range map[string]string{
		"made up":               "v1_AAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAA",
		"signed by another key": newVisitorIDs([][]byte{[]byte("another-key-another-key-another-k")}).issue(time.Now()),
		"reserved for callers":  "caller-14155550123",
		"not an id":             "x y",
	} {
		t.Run("a cookie id that does not verify is ignored and replaced: "+name, func(t *testing.T) {
			a, c := h.visitWithCookie(t, VisitRequest{URL: page}, forged)
			assert.NotEqual(t, forged, a.VisitorID)
			require.NoError(t, h.svc.visitorIDs.verify(a.VisitorID), "a new id is issued")
			require.NotNil(t, c)
			assert.Equal(t, a.VisitorID, c.Value)
		})
	}

	t.Run("a heartbeat renews the cookie", func(t *testing.T) {
		res, body := h.post(t, "v1/heartbeat", heartbeatRequest{VisitorID: first.VisitorID, SessionID: first.SessionID})
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		c := visitorCookieOf(res)
		require.NotNil(t, c)
		assert.Equal(t, first.VisitorID, c.Value)
		assert.Equal(t, 30*24*3600, c.MaxAge)
	})

	t.Run("a refused visit sets no cookie", func(t *testing.T) {
		res, body := h.post(t, "v1/visit", VisitRequest{VisitorID: "made-up", URL: page})
		require.Equal(t, http.StatusBadRequest, res.StatusCode, string(body))
		assert.Nil(t, visitorCookieOf(res))
	})

	t.Run("a crawler gets no cookie", func(t *testing.T) {
		res, body := h.post(t, "v1/visit", VisitRequest{URL: page}, "User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		assert.Nil(t, visitorCookieOf(res))
	})

	t.Run("v1/forget deletes the cookie", func(t *testing.T) {
		res, body := h.post(t, "v1/forget", struct{}{}, "Cookie", VisitorCookie+"="+first.VisitorID)
		require.Equal(t, http.StatusNoContent, res.StatusCode, string(body))
		c := visitorCookieOf(res)
		require.NotNil(t, c)
		assert.Equal(t, "", c.Value)
		assert.Equal(t, -1, c.MaxAge, "Max-Age=0")
		assert.Equal(t, "example-plumbing.com", c.Domain, "the same cookie: same domain and path")
		assert.Equal(t, "/", c.Path)

		res, body = h.post(t, "v1/forget", map[string]string{"visitor_id": first.VisitorID})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "the body is an empty object: %s", body)
	})
}

func TestVisitorCookieOff(t *testing.T) {
	h := newHarness(t, testConfig())
	first, c := h.visitWithCookie(t, VisitRequest{URL: "https://example-plumbing.com/"}, "")
	assert.Nil(t, c, "no cookie without Tracker.ServerCookie")
	a, c := h.visitWithCookie(t, VisitRequest{URL: "https://example-plumbing.com/"}, first.VisitorID)
	assert.NotEqual(t, first.VisitorID, a.VisitorID, "nor is one read")
	assert.Nil(t, c)
	res, body := h.post(t, "v1/forget", struct{}{})
	assert.Equal(t, http.StatusNotFound, res.StatusCode, string(body))
}
