package dni

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The browser picks its events' times: fifty claims sent latest first,
// each earlier than the one before, still make one conversion of the
// session, and one of the visitor under FirstTimeOnly.
func TestBrowserFormClaimsCapIgnoresTheirOrder(t *testing.T) {
	for _, first := range []bool{false, true} {
		cfg := testConfig()
		cfg.FormRules = []journey.FormRule{{Name: "quote", Form: "quote", FirstTimeOnly: first, Value: 2500, Currency: "USD"}}
		h := newHarness(t, cfg)
		ctx := context.Background()
		a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
		t0 := h.clock.now()
		var evs []Event
		for i := range maxEventsPerRequest {
			evs = append(evs, Event{Type: EventForm, Name: "quote", At: t0.Add(time.Duration(maxEventsPerRequest-i) * time.Millisecond)})
		}
		res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: evs})
		require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
		convs, err := h.svc.store.ConversionsBetween(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, len(convs), "conversions; FirstTimeOnly %v", first)
	}
}
