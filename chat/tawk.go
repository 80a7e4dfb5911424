package chat

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// TawkWebhook verifies and parses Tawk.to webhooks. X-Tawk-Signature is the
// hex HMAC-SHA1 of the raw body under the webhook's secret key (Tawk.to
// help, "Using webhooks": verifying the signature).
//
// Events: chat:start (Started, and Message when the first message is the
// visitor's), ticket:create (Lead). chatId is the id the tracker reported
// from Tawk_API.onChatStarted, so the two join by conversation.
type TawkWebhook struct {
	Secret string
}

// Platform returns "tawk".
func (TawkWebhook) Platform() string { return Tawk }

// SignTawk returns the X-Tawk-Signature value of body: for fixtures.
func SignTawk(secret string, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyTawk checks an X-Tawk-Signature header against body.
func VerifyTawk(secret string, body []byte, signature string) error {
	if secret == "" {
		return ErrNoSecret
	}
	if signature == "" {
		return ErrMissingSignature
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha1.Size {
		return fmt.Errorf("%w: X-Tawk-Signature %q", ErrMalformedSignature, signature)
	}
	want, _ := hex.DecodeString(SignTawk(secret, body))
	if !equalMAC(got, want) {
		return ErrBadSignature
	}
	return nil
}

// Verify implements [Webhook].
func (w TawkWebhook) Verify(r Request, _ time.Time) error {
	return VerifyTawk(w.Secret, r.Body, r.Header.Get("X-Tawk-Signature"))
}

type tawkHook struct {
	Event   string    `json:"event"`
	ChatID  string    `json:"chatId"`
	Time    time.Time `json:"time"`
	Message struct {
		Sender struct {
			Type string `json:"type"`
		} `json:"sender"`
	} `json:"message"`
	Ticket struct {
		ID id `json:"id"`
	} `json:"ticket"`
}

// Parse implements [Webhook].
func (TawkWebhook) Parse(body []byte) ([]Event, error) {
	var h tawkHook
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, malformed(Tawk, err)
	}
	at := h.Time.UTC()
	switch h.Event {
	case "chat:start":
		if h.ChatID == "" {
			return nil, malformed(Tawk, fmt.Errorf("chat:start without chatId"))
		}
		evs := []Event{{Platform: Tawk, Type: Started, ConversationID: h.ChatID, At: at}}
		if h.Message.Sender.Type == "visitor" {
			evs = append(evs, Event{Platform: Tawk, Type: Message, ConversationID: h.ChatID, At: at})
		}
		return evs, nil
	case "ticket:create":
		if h.Ticket.ID == "" {
			return nil, malformed(Tawk, fmt.Errorf("ticket:create without ticket id"))
		}
		return []Event{{Platform: Tawk, Type: Lead, ConversationID: "ticket-" + string(h.Ticket.ID), At: at}}, nil
	case "":
		return nil, malformed(Tawk, fmt.Errorf("no event"))
	}
	return events(nil, "tawk: "+h.Event)
}
