package report

import (
	"strings"

	"github.com/attriqs/calltrack/journey"
)

// AttrConversation is the chat touchpoint attribute that names the
// conversation the event belongs to: the platform's conversation id, or
// "session-" and the session's id for a widget opened before any
// conversation existed (dni writes it with the attribute "platform").
const AttrConversation = "conversation_id"

// ChatConversation names the conversation of a chat touchpoint,
// "platform/conversation", so that the events of one conversation (opened,
// started, messages, lead) count as one chat. It reads [AttrConversation]
// and the "platform" attribute, else the touchpoint's id
// ([journey.ChatTouchpointID]: "chat:platform/conversation/type"); a
// touchpoint with neither is a conversation of its own.
func ChatConversation(tp journey.Touchpoint) string {
	platform, conv := tp.Attrs["platform"], tp.Attrs[AttrConversation]
	if platform != "" && conv != "" {
		return platform + "/" + conv
	}
	if rest, ok := strings.CutPrefix(tp.ID, "chat:"); ok {
		if i := strings.LastIndexByte(rest, '/'); i > 0 && strings.IndexByte(rest[:i], '/') > 0 {
			return rest[:i]
		}
	}
	return tp.ID
}

// conversations keeps, per chat conversation, its earliest touchpoint
// added: where and when the conversation counts.
type conversations map[string]journey.Touchpoint

func (c conversations) add(tp journey.Touchpoint) {
	k := ChatConversation(tp)
	if prev, ok := c[k]; ok && !(tp.At.Before(prev.At) || tp.At.Equal(prev.At) && tp.ID < prev.ID) {
		return
	}
	c[k] = tp
}
