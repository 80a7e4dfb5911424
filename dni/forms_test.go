package dni

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/report"
)

// A form event posted over v1/events becomes a conversion by rule once
// its outcome arrives; it is credited in Attribute and the Sources
// report, delivered once to the sink however often the event is resent,
// and a value set by hand replaces the rule's, reaching the sink as an
// adjustment, which the rules do not undo.
func TestFormConvertsByRuleThroughTheHTTPAPI(t *testing.T) {
	cfg := testConfig()
	cfg.FormRules = []journey.FormRule{
		{Name: "newsletter", Form: "newsletter", Currency: "USD"}, // another scope: not this form's rule
		{Name: "quote sent", Form: "quote-*", Page: "/quote", RequireOutcome: "sent", Value: 15000, Currency: "USD"},
	}
	h, st, x, crm := newExportHarness(t, cfg)
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/quote?utm_source=google&utm_medium=cpc"})
	at := h.clock.now().Add(time.Second)
	ev := Event{Type: EventForm, Name: "quote-roof", Page: "/quote/roof", At: at}
	postForm := func(ev Event) {
		t.Helper()
		res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{ev}})
		require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	}
	from, to := h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour)
	conversions := func() []journey.Conversion {
		t.Helper()
		convs, err := st.ConversionsBetween(ctx, from, to)
		require.NoError(t, err)
		return convs
	}

	postForm(ev)
	require.Empty(t, conversions(), "the rule requires the outcome sent, not reported yet")

	ev.Outcome = "sent" // attriqs.formOutcome: the same submission again
	postForm(ev)
	tpID := "form:" + a.SessionID + "/quote-roof/" + itoa(at.UnixMilli())
	require.Equal(t, []journey.Conversion{{ID: journey.FormConversionID(tpID), Type: journey.ConversionForm, At: at.UTC(),
		VisitorID: a.VisitorID, SessionID: a.SessionID, Value: 15000, Currency: "USD"}}, conversions())
	cmp, err := h.svc.Attribute(ctx, from, to, attribution.Options{}, attribution.FirstTouch{}, attribution.Linear{})
	require.NoError(t, err)
	for _, r := range cmp.Results {
		assert.Equal(t, int64(15000), r.Value, "model %s credits the form", r.Model)
	}
	rows, err := h.svc.Sources(ctx, from, to, report.DimSourceMedium)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, 1, rows[0].Forms)
	require.NotEmpty(t, rows[0].Models)
	for _, m := range rows[0].Models {
		assert.Equal(t, int64(15000), m.Value, "the sources credit the form under %s", m.Model)
	}

	deliverAll(t, x)
	postForm(ev) // resent: changes nothing
	deliverAll(t, x)
	require.Equal(t, []string{"capture/" + tpID}, crm.delivered(), "delivered once")
	m, _ := crm.message("capture/" + tpID)
	assert.Equal(t, "google", m.Source.Source)
	require.Len(t, conversions(), 1)

	require.NoError(t, h.svc.SetOutcome(ctx, tpID, Outcome{Status: OutcomeWon, Value: 90000, Currency: "USD"}))
	postForm(ev) // the rules run again: the hand's value stays
	convs := conversions()
	require.Len(t, convs, 1)
	assert.Equal(t, int64(90000), convs[0].Value)
	assert.Equal(t, journey.FormConversionID(tpID), convs[0].ID)
	deliverAll(t, x)
	adj, ok := crm.message("capture/adjust:" + tpID + "/v1")
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.Equal(t, export.Adjustment{ConversionID: tpID, Type: export.AdjustRestate, Value: 90000, Currency: "USD",
		Status: "won", At: adj.Adjustment.At, Version: 1, ConversionAt: at.UTC()}, *adj.Adjustment)
	assert.Len(t, crm.delivered(), 2, "the conversion, then one adjustment")

	require.NoError(t, h.svc.SetOutcome(ctx, tpID, Outcome{Status: OutcomeLost, Currency: "USD"}))
	postForm(ev)
	assert.Empty(t, conversions(), "lost retracts it, and the rules do not bring it back")
	deliverAll(t, x)
	adj, ok = crm.message("capture/adjust:" + tpID + "/v2")
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.Equal(t, export.AdjustRetract, adj.Adjustment.Type)
}

// A form set by hand that no rule converted is exported as a conversion
// (no sink had it), under the id the rules would have given it.
func TestFormOutcomeByHandWithoutRuleIsExportedOnce(t *testing.T) {
	h, st, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	require.NoError(t, h.svc.RecordForm(ctx, a.SessionID, FormSubmission{ID: "lead-7", Name: "contact", At: h.clock.now()}))
	tpID := "form:" + a.SessionID + "/contact/id:lead-7"
	convs, err := st.ConversionsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, convs, "no form rules")
	require.NoError(t, h.svc.SetOutcome(ctx, tpID, Outcome{Status: OutcomeQualified, Value: 3000, Currency: "USD"}))
	deliverAll(t, x)
	assert.Equal(t, []string{"capture/" + tpID}, crm.delivered())
}

// FirstTimeOnly counts a visitor's first qualifying form only; Verified
// counts the forms the host reported, never the browser's.
func TestFormRulesFirstTimeOnlyAndVerified(t *testing.T) {
	cfg := testConfig()
	cfg.FormRules = []journey.FormRule{
		{Name: "first contact", Form: "contact", FirstTimeOnly: true, Value: 1000, Currency: "USD"},
		{Name: "verified lead", Form: "lead", Verified: true, Value: 5000, Currency: "USD"},
	}
	h := newHarness(t, cfg)
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	post := func(evs ...Event) {
		t.Helper()
		res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: evs})
		require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	}
	values := func() map[string]int64 {
		t.Helper()
		convs, err := h.svc.store.ConversionsBetween(ctx, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
		require.NoError(t, err)
		out := map[string]int64{}
		for _, c := range convs {
			out[c.ID] = c.Value
		}
		return out
	}
	t0 := h.clock.now()
	post(Event{Type: EventForm, Name: "contact", At: t0.Add(time.Second)})
	post(Event{Type: EventForm, Name: "contact", At: t0.Add(2 * time.Second)})
	post(Event{Type: EventForm, Name: "contact", At: t0.Add(time.Second)}) // the first, resent
	first := "form:" + a.SessionID + "/contact/" + itoa(t0.Add(time.Second).UnixMilli())
	assert.Equal(t, map[string]int64{first: 1000}, values(), "the second contact form is not the first")

	post(Event{Type: EventForm, Name: "lead", At: t0.Add(3 * time.Second)})
	assert.Equal(t, map[string]int64{first: 1000}, values(), "the browser's lead form is a claim the verified rule ignores")
	require.NoError(t, h.svc.RecordForm(ctx, a.SessionID, FormSubmission{ID: "crm-42", Name: "lead", Page: "/quote"}))
	require.NoError(t, h.svc.RecordForm(ctx, a.SessionID, FormSubmission{ID: "crm-42", Name: "lead", Page: "/quote"}))
	lead := "form:" + a.SessionID + "/lead/id:crm-42"
	assert.Equal(t, map[string]int64{first: 1000, lead: 5000}, values(), "the host's, once however often reported")
}

func TestRecordFormRefusesBadInputNamingTheField(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	for field, f := range map[string]FormSubmission{
		"name":         {},
		"page":         {Name: "x", Page: "quote"},
		"outcome":      {Name: "x", Outcome: "sent!"},
		"email_sha256": {Name: "x", EmailSHA256: "ABC"},
		"id":           {Name: "x", ID: "a/b"},
	} {
		err := h.svc.RecordForm(ctx, a.SessionID, f)
		assert.ErrorIs(t, err, ErrInvalidEvent, field)
		assert.ErrorContains(t, err, field+":", field)
	}
	assert.ErrorIs(t, h.svc.RecordForm(ctx, "no-such-session", FormSubmission{Name: "x"}), ErrInvalidID)
	assert.ErrorIs(t, h.svc.RecordForm(ctx, "", FormSubmission{Name: "x"}), ErrInvalidID)
}

func TestFormRulesAreValidatedNamingTheField(t *testing.T) {
	cfg := testConfig()
	cfg.FormRules = []journey.FormRule{
		{Name: "ok", Currency: "USD"},
		{Name: "", Form: "[", Page: "quote", RequireOutcome: "sent ok", Value: -5, Currency: "usd"},
	}
	err := cfg.withDefaults().validate()
	require.Error(t, err)
	for _, field := range []string{"name", "form", "page", "require_outcome", "value", "currency"} {
		assert.ErrorContains(t, err, "form_rules[1]."+field+":", field)
	}
	assert.NotContains(t, err.Error(), "form_rules[0]")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestBrowserFormClaimsCountOncePerSession: fifty form events in one
// request of one session, under a rule with neither FirstTimeOnly nor
// Verified, make one conversion; the next session may make its own.
func TestBrowserFormClaimsCountOncePerSession(t *testing.T) {
	cfg := testConfig()
	cfg.FormRules = []journey.FormRule{{Name: "any quote", Form: "quote", Value: 2500, Currency: "USD"}}
	h := newHarness(t, cfg)
	ctx := context.Background()
	conversions := func() int {
		t.Helper()
		convs, err := h.svc.store.ConversionsBetween(ctx, h.clock.now().Add(-24*time.Hour), h.clock.now().Add(time.Hour))
		require.NoError(t, err)
		return len(convs)
	}
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	t0 := h.clock.now()
	var evs []Event
	for i := range maxEventsPerRequest {
		evs = append(evs, Event{Type: EventForm, Name: "quote", At: t0.Add(time.Duration(i+1) * time.Millisecond)})
	}
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: evs})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	assert.Equal(t, 1, conversions(), "one session's claims: one conversion")

	h.clock.add(2 * time.Hour) // a new session of the same visitor
	b := h.visit(t, VisitRequest{VisitorID: a.VisitorID, URL: "https://example-plumbing.com/"})
	require.NotEqual(t, a.SessionID, b.SessionID)
	res, body = h.post(t, "v1/events", EventsRequest{VisitorID: b.VisitorID, SessionID: b.SessionID,
		Events: []Event{{Type: EventForm, Name: "quote", At: h.clock.now().Add(time.Second)}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	assert.Equal(t, 2, conversions(), "another session's claim counts")
}
