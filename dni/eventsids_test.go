package dni

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

// The events API and Identify take only visitor ids this service issued,
// as visits do: a made-up id or a caller's reserved one is refused.
func TestEventsAndIdentifyRefuseVisitorIDsNotIssued(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	for _, visitor := range []string{"made-up-visitor", "caller-14155558888"} {
		res, body := h.post(t, "v1/events", EventsRequest{VisitorID: visitor, SessionID: a.SessionID,
			Events: []Event{{Type: EventForm, Name: "quote"}}})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, visitor)
		assert.Contains(t, string(body), "visitor_id", visitor)
		err := h.svc.Identify(context.Background(), visitor, journey.Identifier{Kind: journey.IDUser, Value: "u1"})
		require.Error(t, err, visitor)
		assert.Contains(t, err.Error(), "visitorID", visitor)
	}
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID,
		Events: []Event{{Type: EventForm, Name: "quote"}}})
	assert.Equal(t, http.StatusAccepted, res.StatusCode, "the issued id is taken: %s", body)
}
