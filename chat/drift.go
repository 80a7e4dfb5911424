package chat

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"
)

// DriftWebhook verifies and parses Drift webhooks. Drift puts the app's
// verification token in every webhook body ("token"), compared here in
// constant time (Drift developer docs, "Webhooks": verification token).
//
// Types: new_conversation (Started), new_message from a contact, not from a
// user (agent) or a bot (Message), contact_identified (Lead; the contact's
// attributes carry [SessionAttribute], which the tracker set with
// setUserAttributes).
type DriftWebhook struct {
	VerificationToken string
}

// Platform returns "drift".
func (DriftWebhook) Platform() string { return Drift }

type driftHook struct {
	Token string `json:"token"`
	Type  string `json:"type"`
	Data  struct {
		ID             id    `json:"id"`
		ConversationID id    `json:"conversationId"`
		ContactID      id    `json:"contactId"`
		CreatedAt      int64 `json:"createdAt"`
		Type           string
		Author         struct {
			ID   id     `json:"id"`
			Type string `json:"type"`
			Bot  bool   `json:"bot"`
		} `json:"author"`
		Attributes map[string]any `json:"attributes"`
	} `json:"data"`
}

// VerifyDrift checks the body's verification token.
func VerifyDrift(token string, body []byte) error {
	if token == "" {
		return ErrNoSecret
	}
	var h struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("%w: body is not JSON", ErrMalformedSignature)
	}
	if h.Token == "" {
		return ErrMissingSignature
	}
	if subtle.ConstantTimeCompare([]byte(h.Token), []byte(token)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Verify implements [Webhook].
func (w DriftWebhook) Verify(r Request, _ time.Time) error {
	return VerifyDrift(w.VerificationToken, r.Body)
}

// Parse implements [Webhook].
func (DriftWebhook) Parse(body []byte) ([]Event, error) {
	var h driftHook
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, malformed(Drift, err)
	}
	d := h.Data
	at := unixTime(d.CreatedAt)
	switch h.Type {
	case "new_conversation":
		if d.ID == "" {
			return nil, malformed(Drift, fmt.Errorf("new_conversation without id"))
		}
		return []Event{{Platform: Drift, Type: Started, ConversationID: string(d.ID), ContactID: string(d.ContactID), At: at}}, nil
	case "new_message":
		if d.ConversationID == "" {
			return nil, malformed(Drift, fmt.Errorf("new_message without conversationId"))
		}
		if d.Author.Type != "contact" || d.Author.Bot || d.Type == "private_note" {
			return events(nil, "drift: message of a "+d.Author.Type)
		}
		return []Event{{Platform: Drift, Type: Message, ConversationID: string(d.ConversationID), ContactID: string(d.Author.ID), At: at}}, nil
	case "contact_identified":
		if d.ID == "" {
			return nil, malformed(Drift, fmt.Errorf("contact_identified without id"))
		}
		return []Event{{Platform: Drift, Type: Lead, ContactID: string(d.ID), SessionID: attr(d.Attributes, SessionAttribute), At: at}}, nil
	case "":
		return nil, malformed(Drift, fmt.Errorf("no type"))
	}
	return events(nil, "drift: "+h.Type)
}
