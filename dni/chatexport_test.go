package dni

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// A chat the rules convert reaches the sinks once, however often the
// platform repeats the event; an outcome set by hand then retracts the
// rule's conversion at every sink that had it and sends the hand's own,
// whose later change is one adjustment.
func TestChatConversionsReachTheSinks(t *testing.T) {
	cfg := testConfig()
	cfg.ChatWebhooks = []chat.Webhook{chat.TawkWebhook{Secret: "whsec"}}
	rule := chat.Rule{Name: "chat_lead", Types: []chat.Type{chat.Started}, Value: 5000, Currency: "USD"}
	cfg.ChatConversions = []chat.Rule{rule}
	h, _, x, crm := newExportHarness(t, cfg)
	ctx := context.Background()
	a, hook := h.tawkChat(t, "c-9")
	for range 2 { // the platform retries
		require.Equal(t, http.StatusOK, hook("whsec"))
	}
	deliverAll(t, x)
	ruleID := rule.ConversionID(chat.Event{Platform: "tawk", ConversationID: "c-9"})
	require.Equal(t, []string{"capture/" + ruleID}, crm.delivered(), "the rule's conversion, once")
	m, _ := crm.message("capture/" + ruleID)
	require.NotNil(t, m.Conversion)
	assert.Equal(t, int64(5000), m.Conversion.Value)
	assert.Equal(t, a.SessionID, m.Conversion.SessionID)
	assert.Equal(t, "facebook", m.Source.Source, "the session's source travels with it")
	toldAt := m.Conversion.At

	tp := journey.ChatTouchpointID("tawk", "c-9", string(chat.Started))
	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeWon, Value: 20000, Currency: "USD"}))
	deliverAll(t, x)
	manualID := journey.ManualConversionID(tp)
	retraction := "capture/adjust:" + ruleID + "/v1"
	assert.ElementsMatch(t, []string{"capture/" + ruleID, retraction, "capture/" + manualID}, crm.delivered())
	m, ok := crm.message(retraction)
	require.True(t, ok)
	require.NotNil(t, m.Adjustment)
	assert.Equal(t, export.AdjustRetract, m.Adjustment.Type)
	assert.True(t, m.Adjustment.ConversionAt.Equal(toldAt), "the retraction names the time the sink was told: %v, not %v",
		toldAt, m.Adjustment.ConversionAt)
	m, _ = crm.message("capture/" + manualID)
	require.NotNil(t, m.Conversion)
	assert.Equal(t, int64(20000), m.Conversion.Value)
	assert.Equal(t, journey.ConversionChat, m.Conversion.Type)

	require.NoError(t, h.svc.SetOutcome(ctx, tp, Outcome{Status: OutcomeWon, Value: 30000, Currency: "USD"}))
	deliverAll(t, x)
	assert.ElementsMatch(t, []string{"capture/" + ruleID, retraction, "capture/" + manualID, "capture/adjust:" + manualID + "/v2"},
		crm.delivered(), "the second change restates the hand's conversion and retracts nothing again")
	m, _ = crm.message("capture/adjust:" + manualID + "/v2")
	require.NotNil(t, m.Adjustment)
	assert.Equal(t, export.AdjustRestate, m.Adjustment.Type)
	assert.Equal(t, int64(30000), m.Adjustment.Value)
}

// A conversation has one outcome: set again through another of its events
// (a lead page showing a later event), it changes the first one's value,
// an adjustment, instead of making a second conversion.
func TestAChatConversationHasOneOutcome(t *testing.T) {
	h, st, x, crm := newExportHarness(t, testConfig())
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=social"})
	at := h.clock.now()
	require.NoError(t, h.svc.RecordChat(ctx, []chat.Event{
		{Platform: "tawk", Type: chat.Started, ConversationID: "c-2", SessionID: a.SessionID, At: at},
		{Platform: "tawk", Type: chat.Lead, ConversationID: "c-2", SessionID: a.SessionID, At: at.Add(time.Minute)},
	}))
	started := journey.ChatTouchpointID("tawk", "c-2", string(chat.Started))
	lead := journey.ChatTouchpointID("tawk", "c-2", string(chat.Lead))
	require.NoError(t, h.svc.SetOutcome(ctx, started, Outcome{Status: OutcomeWon, Value: 8000, Currency: "USD"}))
	require.NoError(t, h.svc.SetOutcome(ctx, lead, Outcome{Status: OutcomeWon, Value: 9000, Currency: "USD"}))
	convs, err := st.ConversionsBetween(ctx, at.Add(-time.Hour), at.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, convs, 1, "one conversion for the conversation")
	assert.Equal(t, journey.ManualConversionID(started), convs[0].ID)
	assert.Equal(t, int64(9000), convs[0].Value)
	_, err = st.ManualOutcome(ctx, lead)
	assert.ErrorIs(t, err, store.ErrNotFound, "the outcome stays on the event it was first set on")
	deliverAll(t, x)
	assert.ElementsMatch(t, []string{"capture/" + journey.ManualConversionID(started), "capture/adjust:" + journey.ManualConversionID(started) + "/v2"},
		crm.delivered())
}
