package chat_test

import (
	"testing"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// A person clicks an ad (session), comes back from an email and chats
// (the chat is a touchpoint of that session, with its source), then calls
// from organic search and the qualified call converts for $300. Every
// model credits the three, in its own way; the chat's channel (Email) gets
// what the model's rule gives a middle, lead-creating touch.
func TestChatInEveryModel(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ev := chat.Event{Platform: chat.Intercom, Type: chat.Started, ConversationID: "147", SessionID: "s-2", At: at.Add(-3 * day)}
	j := attribution.Journey{
		ID: "jane",
		Touchpoints: []journey.Touchpoint{
			{ID: "session:s-1", Kind: journey.TouchSession, At: at.Add(-10 * day), SessionID: "s-1", VisitorID: "v",
				Source: classify.Source{Channel: classify.ChannelPaidSearch}},
			{ID: ev.TouchpointID(), Kind: journey.TouchChat, At: ev.At, SessionID: ev.SessionID, VisitorID: "v",
				Source: classify.Source{Channel: classify.ChannelEmail}, Attrs: map[string]string{"platform": ev.Platform, "event": string(ev.Type)}},
			{ID: "call:twilio/CA1", Kind: journey.TouchCall, At: at.Add(-day), SessionID: "s-3", VisitorID: "v",
				Source: classify.Source{Channel: classify.ChannelOrganicSearch}, Attrs: map[string]string{"qualified": "true"}},
		},
		Conversion: &journey.Conversion{ID: "call:twilio/CA1", Type: journey.ConversionCall, At: at, Value: 30000, Currency: "USD",
			CallProvider: "twilio", CallID: "CA1"},
	}
	// A journey that did not convert, so that Markov and Shapley see a path
	// without the chat too.
	lost := attribution.Journey{ID: "lost", Touchpoints: []journey.Touchpoint{
		{ID: "session:s-9", Kind: journey.TouchSession, At: at.Add(-2 * day), SessionID: "s-9", VisitorID: "w",
			Source: classify.Source{Channel: classify.ChannelPaidSearch}},
	}}
	cmp, err := attribution.Compare([]attribution.Journey{j, lost}, attribution.Options{})
	if err != nil {
		t.Fatal(err)
	}
	chatKey := string(classify.ChannelEmail)
	// The chat's share of the $300 per model: exact where the rule fixes it,
	// -1 where it only has to be positive.
	want := map[string]int64{
		"first_touch": 0, "last_touch": 0, "last_non_direct": 0,
		"linear": 10000, "position_based": 6000,
	}
	if len(cmp.Results) != len(attribution.DefaultModels()) {
		t.Fatalf("%d results, want one per default model", len(cmp.Results))
	}
	for _, r := range cmp.Results {
		var sum, chatValue int64
		for _, g := range r.Groups {
			sum += g.Value
			if g.Key == chatKey {
				chatValue = g.Value
			}
		}
		if sum != 30000 || r.Value != 30000 {
			t.Errorf("%s: credits sum to %d (Value %d), want exactly 30000", r.Model, sum, r.Value)
		}
		w, fixed := want[r.Model]
		switch {
		case fixed && chatValue != w:
			t.Errorf("%s: the chat's channel gets %d, want %d", r.Model, chatValue, w)
		case !fixed && (chatValue <= 0 || chatValue >= 30000):
			t.Errorf("%s: the chat's channel gets %d, want a share strictly between 0 and all", r.Model, chatValue)
		}
		t.Logf("%-16s chat %5d of %d", r.Model, chatValue, sum)
	}
}
