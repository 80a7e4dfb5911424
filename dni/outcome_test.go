package dni

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

// A value set by hand: it replaces the rule's value in the conversion and
// in every attribution model, survives the call being qualified again,
// and reaches the sink that had the conversion as one adjustment per
// change; "lost" retracts it.
func TestOutcomeSetByHandWinsAndReachesExportsAsAdjustments(t *testing.T) {
	h, st, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
	placed := fake.Call{ID: "CA1", From: caller, To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute}
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", placed)
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	require.Equal(t, []string{"capture/call:fake/CA1"}, crm.delivered())
	tp := journey.CallTouchpointID(fake.Name, "CA1")
	period := func() (time.Time, time.Time) { return h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour) }

	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeWon, Value: 90000, Currency: "USD", Note: "roof job"}))
	from, to := period()
	convs, err := st.ConversionsBetween(ctx, from, to)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, int64(90000), convs[0].Value, "the value set by hand replaces the rule's 25000")
	cmp, err := h.svc.Attribute(ctx, from, to, attribution.Options{}, attribution.FirstTouch{}, attribution.Linear{})
	require.NoError(t, err)
	for _, r := range cmp.Results {
		assert.Equal(t, int64(90000), r.Value, "model %s credits the value set by hand", r.Model)
	}
	rows, err := h.svc.Sources(ctx, from, to, report.DimChannel)
	require.NoError(t, err)
	var revenue int64
	credited := map[string]int64{}
	for _, r := range rows {
		revenue += r.Revenue
		for _, m := range r.Models {
			credited[m.Model] += m.Value
		}
	}
	assert.Equal(t, int64(90000), revenue, "the sources report the value set by hand")
	require.NotEmpty(t, credited)
	for model, v := range credited {
		assert.Equal(t, int64(90000), v, "model %s credits the value set by hand across the sources", model)
	}
	series, err := h.svc.Series(ctx, report.SeriesOptions{From: from.Truncate(24 * time.Hour), To: to.Add(24 * time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, int64(90000), series.Totals().CallRevenue, "and so does the mix-model series")

	// The call qualified again (a duplicate webhook) keeps the hand's value.
	call, err := st.Call(ctx, fake.Name, "CA1")
	require.NoError(t, err)
	require.NoError(t, h.svc.RecordCall(ctx, call))
	convs, err = st.ConversionsBetween(ctx, from, to)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, int64(90000), convs[0].Value)

	deliverAll(t, x)
	m, ok := crm.message("capture/adjust:call:fake/CA1/v1")
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.Equal(t, export.Adjustment{ConversionID: "call:fake/CA1", Type: export.AdjustRestate, Value: 90000, Currency: "USD",
		Status: "won", At: m.Adjustment.At, Version: 1, ConversionAt: convs[0].At}, *m.Adjustment)
	assert.Len(t, crm.delivered(), 2, "the conversion once, then one adjustment, nothing for the re-qualification")

	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeLost, Currency: "USD"}))
	convs, err = st.ConversionsBetween(ctx, from, to)
	require.NoError(t, err)
	assert.Empty(t, convs, "lost retracts the conversion")
	require.NoError(t, h.svc.RecordCall(ctx, call))
	convs, err = st.ConversionsBetween(ctx, from, to)
	require.NoError(t, err)
	assert.Empty(t, convs, "and the rules do not bring it back")
	deliverAll(t, x)
	m, ok = crm.message("capture/adjust:call:fake/CA1/v2")
	require.True(t, ok, "delivered: %v", crm.delivered())
	assert.Equal(t, export.AdjustRetract, m.Adjustment.Type)
}

// A call the rules turned down (too short) and a spam call become
// conversions when the business says they were won; the first conversion
// is exported as a conversion, not an adjustment.
func TestOutcomeConvertsACallTheRulesTurnedDown(t *testing.T) {
	cfg := testConfig()
	cfg.Spam = journey.SpamConfig{Block: []string{"+12125550999"}}
	h, _, x, crm := newExportHarness(t, cfg)
	ctx := context.Background()
	hook := h.srv.URL + DefaultPrefix + "webhooks/fake"
	for _, c := range []fake.Call{
		{ID: "CA1", From: caller, To: printNumber, Answered: true, Duration: 10 * time.Second},
		{ID: "CA2", From: "+12125550999", To: printNumber, Answered: true, Duration: 5 * time.Minute},
	} {
		_, err := h.caller.PlaceCall(ctx, hook, c)
		require.NoError(t, err)
	}
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	require.Empty(t, crm.delivered(), "neither qualifies by the rules")
	for _, id := range []string{"CA1", "CA2"} {
		require.NoError(t, h.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, id), Outcome{Status: OutcomeQualified, Value: 5000, Currency: "USD"}))
	}
	deliverAll(t, x)
	assert.ElementsMatch(t, []string{"capture/call:fake/CA1", "capture/call:fake/CA2"}, crm.delivered())
}

func TestSetOutcomeRefusesWhatItCannotSet(t *testing.T) {
	h := newHarness(t, testConfig())
	ctx := context.Background()
	err := h.svc.SetOutcome(ctx, "call:fake/nope", Outcome{Status: OutcomeWon, Value: 1, Currency: "USD"})
	assert.ErrorIs(t, err, ErrUnknownTouchpoint)
	err = h.svc.SetOutcome(ctx, "session:s1", Outcome{Status: OutcomeWon, Value: 1, Currency: "USD"})
	assert.ErrorIs(t, err, ErrUnknownTouchpoint)
	_, err = h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: printNumber, Answered: true, Duration: time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	err = h.svc.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"), Outcome{Status: "maybe", Value: -1, Currency: "dollars"})
	assert.ErrorIs(t, err, store.ErrInvalid)
	for _, field := range []string{"status", "value", "currency"} {
		assert.ErrorContains(t, err, field)
	}
}

// A CRM sets a call's outcome over HTTP, behind the report auth.
func TestOutcomeOverHTTP(t *testing.T) {
	h := newHarness(t, testConfig(), WithReportAuth(tokenAuth))
	ctx := context.Background()
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: printNumber, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	code, body := h.report(t, http.MethodPost, "reports/outcomes", `{"touchpoint_id":"call:fake/CA1","status":"won","value":120000,"currency":"USD","note":"kitchen"}`)
	require.Equal(t, http.StatusNoContent, code, body)
	o, err := h.svc.store.ManualOutcome(ctx, "call:fake/CA1")
	require.NoError(t, err)
	assert.Equal(t, journey.OutcomeWon, o.Status)
	assert.Equal(t, int64(120000), o.Value)
	for body, want := range map[string]int{
		`{"touchpoint_id":"call:fake/none","status":"won","value":1,"currency":"USD"}`:  http.StatusNotFound,
		`{"touchpoint_id":"call:fake/CA1","status":"maybe","value":1,"currency":"USD"}`: http.StatusBadRequest,
		`{"touchpoint_id":"call:fake/CA1","stat":"won"}`:                                http.StatusBadRequest,
		`not json`: http.StatusBadRequest,
	} {
		code, msg := h.report(t, http.MethodPost, "reports/outcomes", body)
		assert.Equal(t, want, code, "%s: %s", body, msg)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+DefaultPrefix+"reports/outcomes", strings.NewReader(`{}`))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "behind the report auth")
}

// A chat's outcome set by hand replaces the conversion the chat rules
// made of the conversation, and the rules do not bring theirs back.
func TestOutcomeOfAChatWinsOverTheChatRules(t *testing.T) {
	cfg := testConfig()
	cfg.ChatWebhooks = []chat.Webhook{chat.TawkWebhook{Secret: "whsec"}}
	cfg.ChatConversions = []chat.Rule{{Name: "chat_conversation", Types: []chat.Type{chat.Started}, Value: 5000, Currency: "USD"}}
	h := newHarness(t, cfg)
	ctx := context.Background()
	a, hook := h.tawkChat(t, "c-1")
	postHook := func() { require.Equal(t, http.StatusOK, hook("whsec")) }
	postHook()
	conversions := func() []journey.Conversion {
		_, convs, err := h.svc.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID}, h.clock.now().Add(-time.Hour), h.clock.now().Add(time.Hour))
		require.NoError(t, err)
		return convs
	}
	require.Len(t, conversions(), 1, "the rule's conversion")

	tp := journey.ChatTouchpointID("tawk", "c-1", string(chat.Started))
	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeWon, Value: 20000, Currency: "USD"}))
	convs := conversions()
	require.Len(t, convs, 1, "the hand's conversion replaces the rule's")
	assert.Equal(t, journey.ManualConversionID(tp), convs[0].ID)
	assert.Equal(t, journey.ConversionChat, convs[0].Type)
	assert.Equal(t, int64(20000), convs[0].Value)
	assert.Equal(t, a.SessionID, convs[0].SessionID)

	postHook() // the platform sends the start again
	require.Len(t, conversions(), 1, "the rules leave a conversation with a hand-set outcome alone")
	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeLost, Currency: "USD"}))
	assert.Empty(t, conversions(), "lost: no conversion, neither the hand's nor the rule's")
	assert.ErrorIs(t, h.svc.SetOutcome(ctx, "session:"+a.SessionID, Outcome{Status: OutcomeWon, Value: 1, Currency: "USD"}), ErrUnknownTouchpoint,
		"a visit is not a call, chat or form")
}

func TestExportStatusOverHTTP(t *testing.T) {
	h, _, x, _ := newExportHarness(t, testConfig(), WithReportAuth(tokenAuth))
	ctx := context.Background()
	_, err := h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake", fake.Call{ID: "CA1", From: caller, To: printNumber, Answered: true, Duration: 2 * time.Minute})
	require.NoError(t, err)
	require.NoError(t, h.svc.Close())
	deliverAll(t, x)
	code, body := h.report(t, http.MethodGet, "reports/exports", "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"sink":"capture"`)
	assert.Contains(t, body, `"accepted":1`)
}
