package dni

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// sessionLog is a store that notes whose sessions are written.
type sessionLog struct {
	store.Store
	mu       sync.Mutex
	visitors []string
}

func (l *sessionLog) PutSession(ctx context.Context, s journey.Session) error {
	l.mu.Lock()
	l.visitors = append(l.visitors, s.VisitorID)
	l.mu.Unlock()
	return l.Store.PutSession(ctx, s)
}

func (l *sessionLog) PutSessions(ctx context.Context, ss []journey.Session) error {
	for _, s := range ss {
		if err := l.PutSession(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// A request from a page of a site not in AllowedOrigins is refused before
// anything is done for it: no session, no lease, on every endpoint. The
// same request without the Origin header (a server, an old browser's
// same-origin request) is served.
func TestDisallowedOriginIsRefusedBeforeAnyWork(t *testing.T) {
	cfg := testConfig()
	cfg.AllowedOrigins = []string{"https://www.example-plumbing.com"}
	st := &sessionLog{Store: memstore.New()}
	h := newHarness(t, cfg, WithStore(st))
	ctx := context.Background()
	holds := func() int {
		stats, err := h.svc.PoolStats(ctx)
		require.NoError(t, err)
		n := 0
		for _, s := range stats {
			n += s.Holds
		}
		return n
	}
	visit := VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc", Referrer: "https://www.google.com/"}

	for _, path := range []string{"v1/visit", "v1/heartbeat", "v1/events"} {
		res, body := h.post(t, path, visit, "Origin", "https://evil.example")
		assert.Equal(t, http.StatusForbidden, res.StatusCode, path)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		var e apiError
		require.NoError(t, json.Unmarshal(body, &e), string(body))
		assert.Contains(t, e.Error, `"https://evil.example"`, "the error names the origin")
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
	}
	assert.Zero(t, holds(), "no lease")

	res, body := h.post(t, "v1/visit", visit)
	require.Equal(t, http.StatusOK, res.StatusCode, "without Origin: %s", body)
	var a Assignment
	require.NoError(t, json.Unmarshal(body, &a))
	assert.Positive(t, holds(), "the visit without Origin holds numbers")

	require.NoError(t, h.svc.Close(), "write every session")
	st.mu.Lock()
	defer st.mu.Unlock()
	require.NotEmpty(t, st.visitors)
	for _, v := range st.visitors {
		assert.Equal(t, a.VisitorID, v, "the only sessions written are the served visitor's")
	}
}

func TestOrigins(t *testing.T) {
	const allowed = "https://www.example-plumbing.com"
	for _, tc := range []struct {
		name      string
		publicURL string
		header    []string // pairs
		method    string   // default POST
		status    int
		cors      bool
	}{
		{name: "no Origin", status: http.StatusOK},
		{name: "an allowed origin", header: []string{"Origin", allowed}, status: http.StatusOK, cors: true},
		{name: "an allowed origin, written with its default port", header: []string{"Origin", "https://WWW.example-plumbing.com:443"}, status: http.StatusOK, cors: true},
		{name: "another origin", header: []string{"Origin", "https://evil.example"}, status: http.StatusForbidden},
		{name: "an allowed host on another scheme", header: []string{"Origin", "http://www.example-plumbing.com"}, status: http.StatusForbidden},
		{name: "an allowed host on another port", header: []string{"Origin", "https://www.example-plumbing.com:8443"}, status: http.StatusForbidden},
		{name: "a subdomain of an allowed origin", header: []string{"Origin", "https://evil.www.example-plumbing.com"}, status: http.StatusForbidden},
		{name: "null", header: []string{"Origin", "null"}, status: http.StatusForbidden},
		{name: "garbage", header: []string{"Origin", "javascript:alert(1)"}, status: http.StatusForbidden},
		{name: "the request's own origin", header: []string{"Origin", "{self}"}, status: http.StatusOK},
		{name: "the request's own host on https", header: []string{"Origin", "{self-https}"}, status: http.StatusForbidden},
		{name: "same-origin by the browser's word (behind a proxy)", header: []string{"Origin", "https://site.example", "Sec-Fetch-Site", "same-origin"}, status: http.StatusOK},
		{name: "same-site is not same-origin", header: []string{"Origin", "https://shop.site.example", "Sec-Fetch-Site", "same-site"}, status: http.StatusForbidden},
		{name: "PublicURL's origin", publicURL: "https://site.example/shop", header: []string{"Origin", "https://site.example"}, status: http.StatusOK},
		{name: "not PublicURL's origin", publicURL: "https://site.example/shop", header: []string{"Origin", "https://other.example"}, status: http.StatusForbidden},
		{name: "preflight from an allowed origin", method: http.MethodOptions, header: []string{"Origin", allowed, "Access-Control-Request-Method", "POST"}, status: http.StatusNoContent, cors: true},
		{name: "preflight from another origin", method: http.MethodOptions, header: []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}, status: http.StatusForbidden},
		{name: "preflight without Origin", method: http.MethodOptions, status: http.StatusNoContent},
		{name: "GET from another origin", method: http.MethodGet, header: []string{"Origin", "https://evil.example"}, status: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.AllowedOrigins = []string{allowed + "/"}
			cfg.PublicURL = tc.publicURL
			h := newHarness(t, cfg)
			self := h.srv.URL // http://127.0.0.1:port
			req, err := http.NewRequest(cmp.Or(tc.method, http.MethodPost), self+DefaultPrefix+"v1/visit",
				strings.NewReader(`{"url":"https://www.example-plumbing.com/"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			req.Header.Set("User-Agent", browserUA)
			for i := 0; i+1 < len(tc.header); i += 2 {
				v := strings.ReplaceAll(tc.header[i+1], "{self}", self)
				v = strings.ReplaceAll(v, "{self-https}", strings.Replace(self, "http:", "https:", 1))
				req.Header.Set(tc.header[i], v)
			}
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			if tc.cors {
				assert.Equal(t, req.Header.Get("Origin"), res.Header.Get("Access-Control-Allow-Origin"))
			} else {
				assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
			}
			assert.Contains(t, res.Header.Values("Vary"), "Origin")
		})
	}
}
