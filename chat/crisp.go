package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// CrispWebhook verifies and parses Crisp web hooks. Crisp sends
// X-Crisp-Request-Timestamp and X-Crisp-Signature, the hex HMAC-SHA256 under
// the hook's secret of "[" + timestamp + ";" + body + "]" (Crisp "Web Hooks
// Reference (V1)", signature verification; signed on plugin hooks). The
// timestamp must lie within Tolerance of now.
//
// Events: message:send from the user (Message; Crisp's session_id is the
// conversation), session:set_email and session:set_phone (Lead). Crisp's
// session data holds [SessionAttribute], but message hooks do not carry it:
// they join by the session_id the tracker reported as conversation_id.
type CrispWebhook struct {
	Secret    string
	Tolerance time.Duration // default DefaultTolerance
}

// Platform returns "crisp".
func (CrispWebhook) Platform() string { return Crisp }

// SignCrisp returns the X-Crisp-Signature value of body sent at timestamp:
// for fixtures.
func SignCrisp(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("[" + timestamp + ";"))
	m.Write(body)
	m.Write([]byte("]"))
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyCrisp checks X-Crisp-Signature and X-Crisp-Request-Timestamp.
func VerifyCrisp(secret string, body []byte, timestamp, signature string, now time.Time, tol time.Duration) error {
	if secret == "" {
		return ErrNoSecret
	}
	if signature == "" {
		return ErrMissingSignature
	}
	if timestamp == "" {
		return ErrMissingTimestamp
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: X-Crisp-Signature %q", ErrMalformedSignature, signature)
	}
	want, _ := hex.DecodeString(SignCrisp(secret, timestamp, body))
	if !equalMAC(got, want) {
		return ErrBadSignature
	}
	if tol <= 0 {
		tol = DefaultTolerance
	}
	return checkTime(timestamp, now, tol)
}

// Verify implements [Webhook].
func (w CrispWebhook) Verify(r Request, now time.Time) error {
	return VerifyCrisp(w.Secret, r.Body, r.Header.Get("X-Crisp-Request-Timestamp"), r.Header.Get("X-Crisp-Signature"), now, w.Tolerance)
}

type crispHook struct {
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	Data      struct {
		SessionID string `json:"session_id"`
		From      string `json:"from"`
		Timestamp int64  `json:"timestamp"`
		User      struct {
			UserID string `json:"user_id"`
		} `json:"user"`
	} `json:"data"`
}

// Parse implements [Webhook].
func (CrispWebhook) Parse(body []byte) ([]Event, error) {
	var h crispHook
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, malformed(Crisp, err)
	}
	if h.Event == "" || h.Data.SessionID == "" {
		return nil, malformed(Crisp, fmt.Errorf("event %q, session_id %q", h.Event, h.Data.SessionID))
	}
	at := unixTime(h.Data.Timestamp)
	if at.IsZero() {
		at = unixTime(h.Timestamp)
	}
	ev := Event{Platform: Crisp, ConversationID: h.Data.SessionID, ContactID: h.Data.User.UserID, At: at}
	switch {
	case h.Event == "message:send" && h.Data.From == "user":
		ev.Type = Message
	case h.Event == "session:set_email" || h.Event == "session:set_phone":
		ev.Type = Lead
	default:
		return events(nil, "crisp: "+h.Event+" from "+h.Data.From)
	}
	return []Event{ev}, nil
}
