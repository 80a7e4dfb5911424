package chat

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
)

// The platforms the tracker detects, as they appear in Event.Platform and in
// the platform field of the tracker's chat events.
const (
	Intercom = "intercom"
	Drift    = "drift"
	HubSpot  = "hubspot"
	Zendesk  = "zendesk"
	Crisp    = "crisp"
	Tawk     = "tawk"
	Tidio    = "tidio"
	LiveChat = "livechat"
)

// Platforms returns the eight platform names, in the order of the package
// documentation.
func Platforms() []string {
	return []string{Intercom, Drift, HubSpot, Zendesk, Crisp, Tawk, Tidio, LiveChat}
}

// Where the tracker writes our session id into a platform, so that the
// platform's webhooks can echo it back.
const (
	// SessionAttribute is the custom attribute, session variable or
	// property name: Intercom contact attribute, Crisp session data, Tidio
	// visitor data, LiveChat session variable, HubSpot identify property,
	// Drift user attribute.
	SessionAttribute = "attriqs_session"
	// TawkAttribute is the Tawk.to attribute name (Tawk.to keys take letters,
	// digits and hyphens).
	TawkAttribute = "attriqs-session"
	// ZendeskTagPrefix prefixes the chat tag the tracker adds in the Zendesk
	// Web Widget (Classic): "attriqs_" + session id. With Messaging, the site
	// names a conversation field instead (data-zendesk-field on the script
	// tag), and ZendeskWebhook.SessionField names the same field's id.
	ZendeskTagPrefix = "attriqs_"
)

// Type is a provider-neutral chat event type. The values are those of the
// tracker's v1/events types.
type Type string

const (
	Opened  Type = "chat_opened"  // the visitor opened the widget
	Started Type = "chat_started" // a conversation began
	Message Type = "chat_message" // the visitor (never an agent or a bot) sent a message
	Lead    Type = "chat_lead"    // the platform captured an email address or phone number
)

// Valid reports whether t is one of the four types.
func (t Type) Valid() bool {
	switch t {
	case Opened, Started, Message, Lead:
		return true
	}
	return false
}

// Event is one chat interaction, from the tracker or from a platform's
// webhook. It never carries message text, names or email addresses.
//
// A server-side event is joined to a session in this order (see the
// package's Joining section): SessionID, when the platform echoed the
// attribute the tracker wrote; else ConversationID or ContactID, through
// the identity graph that earlier verified webhooks built; else the
// session that first claimed ConversationID, then ContactID, through the
// tracker.
type Event struct {
	Platform       string    `json:"platform"`
	Type           Type      `json:"type"`
	ConversationID string    `json:"conversation_id,omitempty"` // the platform's conversation (chat, thread, session) id
	ContactID      string    `json:"contact_id,omitempty"`      // the platform's visitor or contact id
	SessionID      string    `json:"session_id,omitempty"`      // ours, when the platform echoed it
	At             time.Time `json:"at"`                        // zero when the payload has no time: the recorder uses its clock
}

// ErrInvalidEvent is wrapped by every error of [Event.Validate].
var ErrInvalidEvent = errors.New("chat: invalid event")

// Validate reports every missing or invalid field, each named.
func (e Event) Validate() error {
	var errs []error
	bad := func(field, why string) { errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidEvent, field, why)) }
	if e.Platform == "" || strings.ContainsAny(e.Platform, "/: ") {
		bad("platform", fmt.Sprintf("%q is not a platform name", e.Platform))
	}
	if !e.Type.Valid() {
		bad("type", fmt.Sprintf("%q is not one of chat_opened, chat_started, chat_message, chat_lead", e.Type))
	}
	if e.SessionID != "" && sessionID(e.SessionID) == "" {
		bad("session_id", fmt.Sprintf("%q is not a session id", e.SessionID))
	}
	if e.SessionID == "" && e.ContactID == "" && e.ConversationID == "" {
		bad("session_id, contact_id and conversation_id", "are all empty: nothing to join the event by")
	}
	return errors.Join(errs...)
}

// TouchpointID is the natural id of the event's touchpoint,
// "chat:platform/conversation/type": the id dni gives the same event
// reported by the tracker, so the two are recorded once. An event without a
// conversation id uses "session-" + its session id, as dni does.
func (e Event) TouchpointID() string {
	return journey.ChatTouchpointID(e.Platform, e.JoinKey(), string(e.Type))
}

// Rule makes chat events conversions: an event matches when its type is
// one of Types and, when Platforms is not empty, its platform one of
// Platforms. The zero Rule matches nothing.
type Rule struct {
	Name      string // conversion type recorded, e.g. "chat_lead"
	Types     []Type
	Platforms []string
	Value     int64  // minor units
	Currency  string // ISO 4217
}

// Matches reports whether ev converts under r.
func (r Rule) Matches(ev Event) bool {
	ok := false
	for _, t := range r.Types {
		ok = ok || t == ev.Type
	}
	if !ok || len(r.Platforms) == 0 {
		return ok
	}
	for _, p := range r.Platforms {
		if p == ev.Platform {
			return true
		}
	}
	return false
}

// ConversionID is the natural id of the conversion ev makes under r: one per
// conversation and rule, however often the event arrives.
func (r Rule) ConversionID(ev Event) string {
	return "chat:" + ev.Platform + "/" + ev.JoinKey() + "/" + r.Name
}

// JoinKey is the conversation the event belongs to: the platform's
// conversation id or, for a widget opened before any conversation
// exists, "session-" + our session id.
func (e Event) JoinKey() string {
	if e.ConversationID != "" {
		return e.ConversationID
	}
	return "session-" + e.SessionID
}

// sessionID returns s when it has the form of our session ids
// ([A-Za-z0-9_-], 1 to 64 characters), else "": a platform field the visitor
// could edit must not name arbitrary sessions.
func sessionID(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return ""
		}
	}
	return s
}
