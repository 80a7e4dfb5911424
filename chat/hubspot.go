package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HubSpotWebhook verifies and parses HubSpot webhook subscriptions
// (Webhooks API). X-HubSpot-Signature-v3 is the base64 HMAC-SHA256 under the
// app's client secret of method + URI + body + X-HubSpot-Request-Timestamp
// (milliseconds), with a few percent-encoded characters of the URI decoded
// first; requests older than five minutes are rejected (HubSpot developer
// docs, "Validating requests", v3 signature).
//
// Subscriptions: conversation.creation (Started; objectId is the thread id
// the tracker reported from conversationStarted), contact.creation (Lead).
// conversation.newMessage does not say who wrote the message, so it is
// ignored: only the visitor's messages may count.
type HubSpotWebhook struct {
	ClientSecret string
	Tolerance    time.Duration // default DefaultTolerance, HubSpot's five minutes
}

// Platform returns "hubspot".
func (HubSpotWebhook) Platform() string { return HubSpot }

// hubspotDecode are the encodings HubSpot decodes in the URI it signs.
var hubspotDecode = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
	"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
)

// SignHubSpot returns the X-HubSpot-Signature-v3 value: for fixtures.
func SignHubSpot(secret, method, uri string, body []byte, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + hubspotDecode.Replace(uri)))
	m.Write(body)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifyHubSpot checks a v3 signature and its timestamp.
func VerifyHubSpot(secret, method, uri string, body []byte, timestamp, signature string, now time.Time, tol time.Duration) error {
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
		return fmt.Errorf("%w: X-HubSpot-Signature-v3 %q", ErrMalformedSignature, signature)
	}
	want, _ := base64.StdEncoding.DecodeString(SignHubSpot(secret, method, uri, body, timestamp))
	if !equalMAC(got, want) {
		return ErrBadSignature
	}
	if tol <= 0 {
		tol = DefaultTolerance
	}
	return checkTime(timestamp, now, tol)
}

// Verify implements [Webhook].
func (w HubSpotWebhook) Verify(r Request, now time.Time) error {
	return VerifyHubSpot(w.ClientSecret, r.Method, r.URL, r.Body, r.Header.Get("X-HubSpot-Request-Timestamp"),
		r.Header.Get("X-HubSpot-Signature-v3"), now, w.Tolerance)
}

type hubspotEvent struct {
	SubscriptionType string `json:"subscriptionType"`
	ObjectID         id     `json:"objectId"`
	OccurredAt       int64  `json:"occurredAt"`
}

// Parse implements [Webhook]. HubSpot batches up to 100 events per request.
func (HubSpotWebhook) Parse(body []byte) ([]Event, error) {
	var hs []hubspotEvent
	if err := json.Unmarshal(body, &hs); err != nil {
		return nil, malformed(HubSpot, err)
	}
	var evs []Event
	for i, h := range hs {
		if h.SubscriptionType == "" || h.ObjectID == "" {
			return nil, malformed(HubSpot, fmt.Errorf("event %s: subscriptionType %q, objectId %q", strconv.Itoa(i), h.SubscriptionType, h.ObjectID))
		}
		ev := Event{Platform: HubSpot, At: unixTime(h.OccurredAt)}
		switch h.SubscriptionType {
		case "conversation.creation":
			ev.Type, ev.ConversationID = Started, string(h.ObjectID)
		case "contact.creation":
			ev.Type, ev.ContactID = Lead, string(h.ObjectID)
		default:
			continue
		}
		evs = append(evs, ev)
	}
	return events(evs, "hubspot: no conversation or contact creation")
}
