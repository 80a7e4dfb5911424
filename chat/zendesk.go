package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ZendeskWebhook verifies and parses Zendesk webhooks. Zendesk sends
// X-Zendesk-Webhook-Signature-Timestamp and X-Zendesk-Webhook-Signature, the
// base64 HMAC-SHA256 under the webhook's signing secret of the timestamp
// followed by the body (Zendesk developer docs, "Verifying webhook
// authenticity"). The timestamp must lie within Tolerance of now.
//
// Events: zen:event-type:ticket.created for a ticket whose channel is a
// chat or messaging one (Started; the ticket is the conversation, its
// requester the contact). Our session id comes back in the tag
// [ZendeskTagPrefix]+id (Web Widget Classic chat tags) or in the ticket
// field SessionField (Messaging conversation fields), when present.
type ZendeskWebhook struct {
	Secret       string
	SessionField string // id of the conversation field named by data-zendesk-field
	Tolerance    time.Duration
}

// Platform returns "zendesk".
func (ZendeskWebhook) Platform() string { return Zendesk }

// SignZendesk returns the X-Zendesk-Webhook-Signature value of body sent at
// timestamp: for fixtures.
func SignZendesk(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyZendesk checks the signature and its timestamp (RFC 3339).
func VerifyZendesk(secret string, body []byte, timestamp, signature string, now time.Time, tol time.Duration) error {
	if secret == "" {
		return ErrNoSecret
	}
	if signature == "" {
		return ErrMissingSignature
	}
	if timestamp == "" {
		return ErrMissingTimestamp
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: X-Zendesk-Webhook-Signature %q", ErrMalformedSignature, signature)
	}
	want, _ := base64.StdEncoding.DecodeString(SignZendesk(secret, timestamp, body))
	if !equalMAC(got, want) {
		return ErrBadSignature
	}
	t, err := time.Parse(time.RFC3339, timestamp)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrMalformedSignature, timestamp)
	}
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now.Sub(t); d > tol || d < -tol {
		return ErrStaleTimestamp
	}
	return nil
}

// Verify implements [Webhook].
func (w ZendeskWebhook) Verify(r Request, now time.Time) error {
	return VerifyZendesk(w.Secret, r.Body, r.Header.Get("X-Zendesk-Webhook-Signature-Timestamp"),
		r.Header.Get("X-Zendesk-Webhook-Signature"), now, w.Tolerance)
}

type zendeskHook struct {
	Type   string    `json:"type"`
	Time   time.Time `json:"time"`
	Detail struct {
		ID           id       `json:"id"`
		RequesterID  id       `json:"requester_id"`
		Tags         []string `json:"tags"`
		CustomFields []struct {
			ID    id  `json:"id"`
			Value any `json:"value"`
		} `json:"custom_fields"`
		Via struct {
			Channel string `json:"channel"`
		} `json:"via"`
	} `json:"detail"`
}

// Parse implements [Webhook].
func (w ZendeskWebhook) Parse(body []byte) ([]Event, error) {
	var h zendeskHook
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, malformed(Zendesk, err)
	}
	if h.Type == "" {
		return nil, malformed(Zendesk, fmt.Errorf("no type"))
	}
	if h.Type != "zen:event-type:ticket.created" {
		return events(nil, "zendesk: "+h.Type)
	}
	d := h.Detail
	if d.ID == "" {
		return nil, malformed(Zendesk, fmt.Errorf("ticket.created without ticket id"))
	}
	if ch := strings.ToLower(d.Via.Channel); !strings.Contains(ch, "chat") && !strings.Contains(ch, "messaging") {
		return events(nil, "zendesk: ticket from channel "+d.Via.Channel)
	}
	ev := Event{Platform: Zendesk, Type: Started, ConversationID: string(d.ID), ContactID: string(d.RequesterID), At: h.Time.UTC()}
	for _, t := range d.Tags {
		if s, ok := strings.CutPrefix(t, ZendeskTagPrefix); ok && sessionID(s) != "" {
			ev.SessionID = s
		}
	}
	for _, f := range d.CustomFields {
		if s, ok := f.Value.(string); ok && w.SessionField != "" && string(f.ID) == w.SessionField && sessionID(s) != "" {
			ev.SessionID = s
		}
	}
	return []Event{ev}, nil
}
