package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/attriqs/calltrack/journey"
)

// AttrConversation is the chat touchpoint attribute that names the
// conversation the event belongs to: the platform's conversation id, or
// "session-" and the session's id for a widget opened before any
// conversation existed (dni writes it with [AttrPlatform]).
const AttrConversation = "conversation_id"

// AttrPlatform is the chat touchpoint attribute that names the chat
// platform, e.g. "tawk".
const AttrPlatform = "platform"

// ChatConversation names the conversation of a chat touchpoint,
// "platform/conversation". It reads [AttrConversation] and
// [AttrPlatform], else the touchpoint's id ([journey.ChatTouchpointID]:
// "chat:platform/conversation/type"); a touchpoint with neither is a
// conversation of its own.
func ChatConversation(tp journey.Touchpoint) string {
	platform, conv := tp.Attrs[AttrPlatform], tp.Attrs[AttrConversation]
	if platform != "" && conv != "" {
		return platform + "/" + conv
	}
	if platform, conv, ok := journey.ParseChatTouchpointID(tp.ID); ok {
		return platform + "/" + conv
	}
	return tp.ID
}

// ChatConversations groups chat touchpoints into the chats a person had,
// so that a chat counts once however many events it had (opened, started,
// messages, lead): by [ChatConversation], and a widget's events from
// before its conversation existed (keyed "session-" and the session's id)
// with the conversation that session then had on the same platform, its
// earliest when several. Touchpoints of other kinds are left out. Each
// group is ordered by time, then id; groups by their first event.
func ChatConversations(tps []journey.Touchpoint) [][]journey.Touchpoint {
	groups := map[string][]journey.Touchpoint{}
	for _, tp := range tps {
		if tp.Kind == journey.TouchChat {
			k := ChatConversation(tp)
			groups[k] = append(groups[k], tp)
		}
	}
	byTime := func(a, b journey.Touchpoint) int { return cmp.Or(a.At.Compare(b.At), strings.Compare(a.ID, b.ID)) }
	// The conversation each session had on each platform, its earliest.
	joined := map[string]journey.Touchpoint{} // "platform/session-<id>" → the conversation's first event
	for k, g := range groups {
		platform, conv, _ := strings.Cut(k, "/")
		if strings.HasPrefix(conv, "session-") {
			continue
		}
		for _, tp := range g {
			if tp.SessionID == "" {
				continue
			}
			pk := platform + "/session-" + tp.SessionID
			if prev, ok := joined[pk]; !ok || byTime(tp, prev) < 0 {
				joined[pk] = tp
			}
		}
	}
	for pk, first := range joined {
		if g, ok := groups[pk]; ok {
			k := ChatConversation(first)
			groups[k] = append(groups[k], g...)
			delete(groups, pk)
		}
	}
	out := make([][]journey.Touchpoint, 0, len(groups))
	for _, g := range groups {
		slices.SortFunc(g, byTime)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []journey.Touchpoint) int { return byTime(a[0], b[0]) })
	return out
}
