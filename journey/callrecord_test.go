package journey

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseChatTouchpointID(t *testing.T) {
	for _, tc := range []struct{ platform, conversation string }{
		{"tawk", "c1"}, {"crisp", "session/a/b"}, {"intercom", "session-s1"},
	} {
		p, c, ok := ParseChatTouchpointID(ChatTouchpointID(tc.platform, tc.conversation, "chat_lead"))
		assert.True(t, ok, tc)
		assert.Equal(t, tc.platform, p)
		assert.Equal(t, tc.conversation, c)
	}
	p, c, ok := ParseChatTouchpointID("chat:tawk/c1/")
	assert.True(t, ok, "no event type")
	assert.Equal(t, "tawk", p)
	assert.Equal(t, "c1", c)
	for _, bad := range []string{"", "chat:", "chat:odd", "chat:tawk/c1", "chat:/c1/chat_lead", "chat:tawk//chat_lead",
		"chat:tawk/", "call:tawk/c1/chat_lead", "x1"} {
		_, _, ok := ParseChatTouchpointID(bad)
		assert.False(t, ok, bad)
	}
}
