package chat

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// IntercomWebhook verifies and parses Intercom webhooks. Intercom signs
// the body with the app's client secret: X-Hub-Signature is "sha1=" and the
// hex HMAC-SHA1 of the raw body (Intercom developer docs, "Webhooks":
// signed notifications). The payload carries no timestamp header, so there
// is no replay window beyond the topic's natural id.
//
// Topics: conversation.user.created (Started; the visitor opened a
// conversation), conversation.user.replied (Message; only the visitor's
// replies have this topic), contact.lead.created and contact.user.created
// with an email or phone (Lead). The contact's custom attribute
// [SessionAttribute], which the tracker writes with Intercom('update'),
// carries our session id back.
type IntercomWebhook struct {
	ClientSecret string
}

// Platform returns "intercom".
func (IntercomWebhook) Platform() string { return Intercom }

// SignIntercom returns the X-Hub-Signature value of body: for fixtures.
func SignIntercom(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyIntercom checks an X-Hub-Signature header against body.
func VerifyIntercom(secret string, body []byte, header string) error {
	if secret == "" {
		return ErrNoSecret
	}
	if header == "" {
		return ErrMissingSignature
	}
	hexSig, ok := strings.CutPrefix(header, "sha1=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || len(got) != sha1.Size {
		return fmt.Errorf("%w: X-Hub-Signature %q", ErrMalformedSignature, header)
	}
	want, _ := hex.DecodeString(strings.TrimPrefix(SignIntercom(secret, body), "sha1="))
	if !equalMAC(got, want) {
		return ErrBadSignature
	}
	return nil
}

// Verify implements [Webhook].
func (w IntercomWebhook) Verify(r Request, _ time.Time) error {
	return VerifyIntercom(w.ClientSecret, r.Body, r.Header.Get("X-Hub-Signature"))
}

type intercomNotification struct {
	Type      string `json:"type"`
	Topic     string `json:"topic"`
	CreatedAt int64  `json:"created_at"`
	Data      struct {
		Item struct {
			Type      string `json:"type"`
			ID        id     `json:"id"`
			CreatedAt int64  `json:"created_at"`
			UpdatedAt int64  `json:"updated_at"`
			Email     string `json:"email"`
			Phone     string `json:"phone"`
			Source    struct {
				Author struct {
					Type string `json:"type"`
					ID   id     `json:"id"`
				} `json:"author"`
			} `json:"source"`
			Contacts struct {
				Contacts []struct {
					ID id `json:"id"`
				} `json:"contacts"`
			} `json:"contacts"`
			CustomAttributes map[string]any `json:"custom_attributes"`
		} `json:"item"`
	} `json:"data"`
}

// Parse implements [Webhook].
func (IntercomWebhook) Parse(body []byte) ([]Event, error) {
	var n intercomNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, malformed(Intercom, err)
	}
	if n.Topic == "" || n.Data.Item.ID == "" {
		return nil, malformed(Intercom, fmt.Errorf("topic %q, item id %q", n.Topic, n.Data.Item.ID))
	}
	it := n.Data.Item
	ev := Event{Platform: Intercom, At: unixTime(n.CreatedAt), SessionID: attr(it.CustomAttributes, SessionAttribute)}
	switch n.Topic {
	case "conversation.user.created", "conversation.user.replied":
		ev.Type, ev.ConversationID = Started, string(it.ID)
		if n.Topic == "conversation.user.replied" {
			ev.Type = Message
		}
		if len(it.Contacts.Contacts) > 0 {
			ev.ContactID = string(it.Contacts.Contacts[0].ID)
		} else if a := it.Source.Author; a.Type == "user" || a.Type == "lead" || a.Type == "contact" {
			ev.ContactID = string(a.ID)
		}
	case "contact.lead.created", "contact.user.created":
		if it.Email == "" && it.Phone == "" {
			return events(nil, "intercom: contact without email or phone")
		}
		ev.Type, ev.ContactID = Lead, string(it.ID)
	default:
		return events(nil, "intercom: topic "+n.Topic)
	}
	return []Event{ev}, nil
}

// attr returns a custom attribute holding a session id, "" when absent or
// not of the form of one.
func attr(m map[string]any, key string) string {
	if s, ok := m[key].(string); ok {
		return sessionID(s)
	}
	return ""
}
