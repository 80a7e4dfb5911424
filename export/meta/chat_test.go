package meta_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/meta"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

// A chat a rule converts (its type is the rule's name, not
// journey.ConversionChat) reaches Meta once as a Lead with action_source
// "chat"; a form does not (a website's form is the browser pixel's).
func TestAChatTheRulesConvertReachesMetaAsAChat(t *testing.T) {
	clk := &clock{t: t0}
	c := newCAPI(t, clk.now)
	sink := newSink(t, c, func(cfg *meta.Config) { cfg.Now = clk.now })
	s := dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools:           []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		ChatConversions: []chat.Rule{{Name: "chat_lead", Types: []chat.Type{chat.Started}, Value: 5000, Currency: "USD"}},
		FormRules:       []journey.FormRule{{Name: "quote", Form: "quote", Value: 7500, Currency: "USD"}},
	}, Now: clk.now, Sinks: []export.Sink{sink}})
	ctx := context.Background()
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&fbclid=IwAR0abc",
		AdIDs: journey.AdIDs{Consent: true, FBP: "fb.1.1772445500000.987654321"}})
	started := chat.Event{Platform: "tawk", Type: chat.Started, ConversationID: "c-1", SessionID: a.SessionID, At: clk.now()}
	require.NoError(t, s.Service.RecordChat(ctx, []chat.Event{started}))
	require.NoError(t, s.Service.RecordForm(ctx, a.SessionID, dni.FormSubmission{ID: "lead-1", Name: "quote", Page: "/contact"}))
	s.Close(t)
	s.DeliverAll(t)

	kept := c.keptEvents()
	require.Len(t, kept, 1, "the chat, not the form")
	assert.Equal(t, "Lead", kept[0]["event_name"])
	assert.Equal(t, meta.ActionChat, kept[0]["action_source"])
	assert.Equal(t, 1, c.received(), "sent once")
}
