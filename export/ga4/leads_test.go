package ga4_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/ga4"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

// A chat the rules convert and a form the rules convert each reach GA4 as
// one generate_lead, at the rule's value, for the visitor's client id;
// the platform repeating the chat sends nothing more.
func TestChatsAndFormsReachGA4OnceEach(t *testing.T) {
	ctx := context.Background()
	mp := newStandIn(t)
	clk := dnitest.NewClock(dnitest.Start)
	sink, err := ga4.New(ga4.Config{MeasurementID: "G-TEST123", APISecret: secret, BaseURL: mp.srv.URL, Now: clk.Now})
	require.NoError(t, err)
	s := dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools:           []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		ChatConversions: []chat.Rule{{Name: "chat_lead", Types: []chat.Type{chat.Started}, Value: 5000, Currency: "USD"}},
		FormRules:       []journey.FormRule{{Name: "quote", Form: "quote", Value: 7500, Currency: "USD"}},
	}, Clock: clk, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{sink}})
	a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000"}})
	started := chat.Event{Platform: "tawk", Type: chat.Started, ConversationID: "c-1", SessionID: a.SessionID, At: clk.Now()}
	require.NoError(t, s.Service.RecordChat(ctx, []chat.Event{started}))
	require.NoError(t, s.Service.RecordChat(ctx, []chat.Event{started}), "the platform retries")
	require.NoError(t, s.Service.RecordForm(ctx, a.SessionID, dni.FormSubmission{ID: "lead-1", Name: "quote", Page: "/contact"}))
	s.DeliverAll(t)

	got := mp.bodies()
	require.Len(t, got, 2, "one event for the chat, one for the form")
	values := map[string]string{}
	for _, b := range got {
		assert.Equal(t, "1234567890.1700000000", b.ClientID)
		require.Len(t, b.Events, 1)
		assert.Equal(t, "generate_lead", b.Events[0].Name)
		values[string(b.Events[0].Params["value"])] = string(b.Events[0].Params["currency"])
	}
	assert.Equal(t, map[string]string{"50.00": `"USD"`, "75.00": `"USD"`}, values)
	assert.Zero(t, mp.dropped, "nothing GA would drop")
}
