package dni

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider/fake"
)

// A landing page's click id is kept only with ads consent: without it the
// session still says a Google Ads click brought the visitor, but not which
// click; consent given on the landing page after its visit fills the id in
// on the same session; a withdrawal forgets it. The session's touchpoint
// says the same as the session.
func TestClickIDsAreKeptOnlyWithAdsConsent(t *testing.T) {
	h, _, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	consent := journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000"}
	call := func(id, to string) {
		t.Helper()
		_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: id, From: caller, To: to, Answered: true, Duration: 2 * time.Minute})
		require.NoError(t, err)
	}

	never := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=never-told"})
	call("CA-never", never.Swaps[0].Number)

	const landing = "https://example-plumbing.com/?gclid=told-later"
	later := h.visit(t, VisitRequest{URL: landing})
	again := h.visit(t, VisitRequest{VisitorID: later.VisitorID, SessionID: later.SessionID, URL: landing, Again: true, AdIDs: consent})
	require.Equal(t, later.SessionID, again.SessionID, "consent on the landing page continues its session")
	call("CA-later", again.Swaps[0].Number)

	gone := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=withdrawn", AdIDs: consent})
	h.visit(t, VisitRequest{VisitorID: gone.VisitorID, SessionID: gone.SessionID, URL: "https://example-plumbing.com/", AdsWithdrawn: true})
	call("CA-gone", gone.Swaps[0].Number)

	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	for id, want := range map[string]string{"CA-never": "", "CA-later": "told-later", "CA-gone": ""} {
		m, ok := crm.message("capture/call:fake/" + id)
		require.True(t, ok, "%s delivered: %v", id, crm.delivered())
		assert.Equal(t, "gclid", m.Source.ClickID.Param, "%s: the kind of click is kept", id)
		assert.Equal(t, want, m.Source.ClickID.Value, id)
		assert.Equal(t, "cpc", m.Source.Medium, "%s: still a paid click", id)
	}
	for id, want := range map[string]string{never.SessionID: "", later.SessionID: "told-later", gone.SessionID: ""} {
		sess, err := h.svc.store.Session(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, sess.Source.ClickID.Value, "session %s", id)
		tp, err := h.svc.store.Touchpoint(ctx, "session:"+id)
		require.NoError(t, err)
		assert.Equal(t, want, tp.Source.ClickID.Value, "the touchpoint of session %s, which reports and exports read", id)
		assert.Equal(t, "gclid", tp.Source.ClickID.Param)
	}
}

// A form sent with ads consent and given its outcome after the consent was
// withdrawn reaches the sinks with neither the click id nor the ad ids.
func TestAnOutcomeAfterAWithdrawalSendsNoClickID(t *testing.T) {
	h, _, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=withdrawn-later",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000"}})
	require.NoError(t, h.svc.RecordForm(ctx, a.SessionID, FormSubmission{ID: "q-1", Name: "quote"}))
	h.visit(t, VisitRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, URL: "https://example-plumbing.com/", AdsWithdrawn: true})
	require.NoError(t, h.svc.Close())
	form := "form:" + a.SessionID + "/quote/id:q-1"
	require.NoError(t, h.svc.SetOutcome(ctx, form, Outcome{Status: OutcomeWon, Value: 5000, Currency: "USD"}))
	deliverAll(t, x)
	m, ok := crm.message("capture/" + journey.FormConversionID(form))
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.Equal(t, "gclid", m.Source.ClickID.Param)
	assert.Empty(t, m.Source.ClickID.Value, "the click id went with the consent")
	assert.True(t, m.AdIDs.IsZero(), "%+v", m.AdIDs)
}
