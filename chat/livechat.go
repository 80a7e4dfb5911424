package chat

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"
)

// LiveChatWebhook verifies and parses LiveChat webhooks (Configuration API
// v3.x). LiveChat does not sign: every webhook carries the secret_key set
// when it was registered, compared here in constant time (LiveChat platform
// docs, "Webhooks": secret_key).
//
// Actions: incoming_chat (Started, and Message when the thread holds a
// message of the customer), incoming_customer with an email (Lead). The
// customer's session_fields carry [SessionAttribute], which the tracker set
// with update_session_variables.
type LiveChatWebhook struct {
	SecretKey string
}

// Platform returns "livechat".
func (LiveChatWebhook) Platform() string { return LiveChat }

type liveChatSecret struct {
	SecretKey string `json:"secret_key"`
}

// VerifyLiveChat checks the payload's secret_key.
func VerifyLiveChat(secret string, body []byte) error {
	if secret == "" {
		return ErrNoSecret
	}
	var s liveChatSecret
	if err := json.Unmarshal(body, &s); err != nil {
		return fmt.Errorf("%w: body is not JSON", ErrMalformedSignature)
	}
	if s.SecretKey == "" {
		return ErrMissingSignature
	}
	if subtle.ConstantTimeCompare([]byte(s.SecretKey), []byte(secret)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Verify implements [Webhook].
func (w LiveChatWebhook) Verify(r Request, _ time.Time) error {
	return VerifyLiveChat(w.SecretKey, r.Body)
}

type liveChatUser struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	Email         string              `json:"email"`
	SessionFields []map[string]string `json:"session_fields"`
}

func (u liveChatUser) session() string {
	for _, f := range u.SessionFields {
		if v := sessionID(f[SessionAttribute]); v != "" {
			return v
		}
	}
	return ""
}

type liveChatHook struct {
	Action  string `json:"action"`
	Payload struct {
		Chat struct {
			ID     string         `json:"id"`
			Users  []liveChatUser `json:"users"`
			Thread struct {
				CreatedAt time.Time `json:"created_at"`
				Events    []struct {
					Type     string `json:"type"`
					AuthorID string `json:"author_id"`
				} `json:"events"`
			} `json:"thread"`
		} `json:"chat"`
		Customer liveChatUser `json:"customer"`
	} `json:"payload"`
}

// Parse implements [Webhook].
func (LiveChatWebhook) Parse(body []byte) ([]Event, error) {
	var h liveChatHook
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, malformed(LiveChat, err)
	}
	switch h.Action {
	case "incoming_chat":
		c := h.Payload.Chat
		if c.ID == "" {
			return nil, malformed(LiveChat, fmt.Errorf("incoming_chat without chat id"))
		}
		var customer liveChatUser
		for _, u := range c.Users {
			if u.Type == "customer" {
				customer = u
				break
			}
		}
		at := c.Thread.CreatedAt.UTC()
		base := Event{Platform: LiveChat, ConversationID: c.ID, ContactID: customer.ID, SessionID: customer.session(), At: at}
		started := base
		started.Type = Started
		evs := []Event{started}
		for _, e := range c.Thread.Events {
			if customer.ID != "" && e.AuthorID == customer.ID && (e.Type == "message" || e.Type == "rich_message" || e.Type == "file") {
				msg := base
				msg.Type = Message
				evs = append(evs, msg)
				break
			}
		}
		return evs, nil
	case "incoming_customer":
		c := h.Payload.Customer
		if c.ID == "" {
			return nil, malformed(LiveChat, fmt.Errorf("incoming_customer without customer id"))
		}
		if c.Email == "" {
			return events(nil, "livechat: customer without email")
		}
		return []Event{{Platform: LiveChat, Type: Lead, ContactID: c.ID, SessionID: c.session()}}, nil
	case "":
		return nil, malformed(LiveChat, fmt.Errorf("no action"))
	}
	return events(nil, "livechat: "+h.Action)
}
