package dni

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/store/memstore"
)

// FuzzVisitorAPI posts arbitrary bodies to the tracker's three endpoints:
// every answer is a JSON success or a 4xx naming the problem, never a
// panic or a server error.
func FuzzVisitorAPI(f *testing.F) {
	for _, seed := range []string{
		`{"url":"https://example-plumbing.com/?gclid=x","referrer":"https://www.google.com/"}`,
		`{"visitor_id":"v-1","session_id":"s-1","url":"/","referrer":""}`,
		`{"visitor_id":"v","session_id":"s","events":[{"type":"chat_started","platform":"crisp","conversation_id":"c"}]}`,
		`{"url":"\u0000","visitor_id":"<script>"}`, `[]`, `null`, `{"url":1}`, ``,
	} {
		f.Add(seed)
	}
	cfg := testConfig()
	cfg.VisitsPerIPPerMinute, cfg.VisitsPerVisitorPerMinute = -1, -1 // reach the decoders, not the limiter
	svc, err := New(cfg, WithStore(memstore.New()))
	if err != nil {
		f.Fatal(err)
	}
	h := svc.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"v1/visit", "v1/heartbeat", "v1/events"} {
			req := httptest.NewRequest(http.MethodPost, DefaultPrefix+path, strings.NewReader(body))
			req.Header.Set("User-Agent", browserUA)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Fatalf("%s %q: %d without an error message", path, body, rec.Code)
			}
		}
	})
}
