package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// chatEvent is a chat touchpoint as dni records it: one per conversation
// and event type, with the conversation and platform among its attributes.
func chatEvent(platform, conv, typ string, src classify.Source, h int) journey.Touchpoint {
	return journey.Touchpoint{ID: journey.ChatTouchpointID(platform, conv, typ), Kind: journey.TouchChat, At: day(0).Add(time.Duration(h) * time.Hour),
		VisitorID: "v-" + conv, Source: src, Attrs: map[string]string{"event": typ, "platform": platform, AttrConversation: conv}}
}

// chatJourneys: a paid-social conversation of three events (opened,
// started, message) on day 1, an organic one of two events that runs from
// day 1 into day 2, a conversation of the same id on another platform,
// and a conversation whose only event is before the period.
func chatJourneys() []attribution.Journey {
	social, org := paidSocial, organic
	return []attribution.Journey{
		{ID: "open:v-a", Touchpoints: []journey.Touchpoint{
			chatEvent("tawk", "a", "chat_opened", social, 24+9), chatEvent("tawk", "a", "chat_started", social, 24+9),
			chatEvent("tawk", "a", "chat_message", social, 24+10)}},
		{ID: "open:v-b", Touchpoints: []journey.Touchpoint{
			chatEvent("crisp", "b", "chat_started", org, 24+23), chatEvent("crisp", "b", "chat_message", org, 48+1)}},
		{ID: "open:v-b2", Touchpoints: []journey.Touchpoint{chatEvent("intercom", "b", "chat_started", org, 48+2)}},
		{ID: "open:v-old", Touchpoints: []journey.Touchpoint{chatEvent("tawk", "old", "chat_started", social, -24+5)}},
	}
}

func TestChatsCountConversationsNotEvents(t *testing.T) {
	js := chatJourneys()
	got := rowsByKey(BySourceBetween(js, nil, nil, DimChannel, day(0), day(4)))
	require.Equal(t, 1, got["Paid Social"].Chats, "three events of one conversation are one chat")
	require.Equal(t, 2, got["Organic Search"].Chats, "one conversation over two days, and another platform's of the same id")

	s, err := BuildSeries(js, nil, SeriesOptions{From: day(0), To: day(4), Currency: "USD"})
	require.NoError(t, err)
	require.Equal(t, 3, s.Totals().Chats, "the series counts what the sources report counts")
	perDay := make([]int, len(s.Dates))
	for i := range s.Dates {
		for _, p := range s.Points[i] {
			perDay[i] += p.Chats
		}
	}
	require.Equal(t, []int{0, 2, 1, 0}, perDay, "a conversation counts on the day of its first event")

	// From day 2 on, the conversation that began on day 1 counts by its
	// first event in the period.
	got = rowsByKey(BySourceBetween(js, nil, nil, DimChannel, day(2), day(4)))
	require.Equal(t, 2, got["Organic Search"].Chats)
	require.Zero(t, got["Paid Social"].Chats)
}

func TestChatConversation(t *testing.T) {
	for _, tc := range []struct {
		tp   journey.Touchpoint
		want string
	}{
		{journey.Touchpoint{ID: "chat:tawk/c1/chat_started", Attrs: map[string]string{"platform": "tawk", AttrConversation: "c1"}}, "tawk/c1"},
		{journey.Touchpoint{ID: "chat:tawk/c1/chat_message"}, "tawk/c1"},
		{journey.Touchpoint{ID: "chat:crisp/a/b/chat_lead"}, "crisp/a/b"},
		{journey.Touchpoint{ID: "chat:odd"}, "chat:odd"},
		{journey.Touchpoint{ID: "chat:tawk//chat_lead"}, "chat:tawk//chat_lead"},
		{journey.Touchpoint{ID: "chat:/c1/chat_lead"}, "chat:/c1/chat_lead"},
		{journey.Touchpoint{ID: "x1"}, "x1"},
	} {
		require.Equal(t, tc.want, ChatConversation(tc.tp), tc.tp.ID)
	}
}

// A widget opened before its conversation existed is keyed by its
// session; it is the same chat as the conversation the session then had
// on the platform, and counts once with it.
func TestChatConversationsJoinAWidgetOpenedToItsConversation(t *testing.T) {
	ev := func(conv, typ, session string, sec int) journey.Touchpoint {
		tp := chatEvent("tawk", conv, typ, paidSearch, 24+9)
		tp.At = tp.At.Add(time.Duration(sec) * time.Second)
		tp.SessionID = session
		return tp
	}
	opened := ev("session-s1", "chat_opened", "s1", 0)
	started, message := ev("demo-1", "chat_started", "s1", 5), ev("demo-1", "chat_message", "s1", 4)
	later := ev("demo-2", "chat_started", "s1", 60)
	alone := ev("session-s2", "chat_opened", "s2", 30)
	groups := ChatConversations([]journey.Touchpoint{later, message, alone, started, opened,
		{ID: "form:x", Kind: journey.TouchForm, At: opened.At}})
	require.Equal(t, [][]journey.Touchpoint{{opened, message, started}, {alone}, {later}}, groups,
		"s1's widget joins its first conversation; s2's, without one, is a chat of its own; forms are not chats")

	js := []attribution.Journey{{ID: "open:v", Touchpoints: []journey.Touchpoint{opened, message, started, later, alone}}}
	require.Equal(t, 3, rowsByKey(BySourceBetween(js, nil, nil, DimChannel, day(0), day(4)))["Paid Search"].Chats)
	s, err := BuildSeries(js, nil, SeriesOptions{From: day(0), To: day(4)})
	require.NoError(t, err)
	require.Equal(t, 3, s.Totals().Chats)
}

// A conversation counts in every period that holds one of its events,
// counted one by one; a series over the whole range counts it once. A
// widget opened and never written in is a chat.
func TestChatsCountInEachPeriodThatHoldsAnEvent(t *testing.T) {
	js := chatJourneys()
	js = append(js, attribution.Journey{ID: "open:v-w", Touchpoints: []journey.Touchpoint{
		chatEvent("tawk", "session-s9", "chat_opened", organic, 48+5)}})
	daily := 0
	for d := range 4 {
		daily += rowsByKey(BySourceBetween(js, nil, nil, DimChannel, day(d), day(d+1)))["Organic Search"].Chats
	}
	whole := rowsByKey(BySourceBetween(js, nil, nil, DimChannel, day(0), day(4)))["Organic Search"].Chats
	require.Equal(t, 3, whole, "two conversations and a widget opened alone")
	require.Equal(t, 4, daily, "the conversation from day 1 into day 2 counts on both days")

	s, err := BuildSeries(js, nil, SeriesOptions{From: day(0), To: day(4), Currency: "USD"})
	require.NoError(t, err)
	require.Equal(t, 4, s.Totals().Chats, "the series counts each conversation once: the three organic and the paid-social one")
}
