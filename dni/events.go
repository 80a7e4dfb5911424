package dni

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// Event types the tracker reports.
const (
	EventChatOpened  = "chat_opened"  // the visitor opened a chat widget
	EventChatStarted = "chat_started" // a conversation began
	EventChatMessage = "chat_message" // the visitor sent a message (never its text)
	EventChatLead    = "chat_lead"    // the widget captured a lead (email or phone)
	EventForm        = "form"         // a form was submitted
	EventCustom      = "custom"       // anything the site reports by name
)

// ErrInvalidEvent is returned for events the tracker could not have sent.
var ErrInvalidEvent = errors.New("dni: invalid event")

// Event is one interaction the tracker reports besides page views.
type Event struct {
	Type           string    `json:"type"`
	At             time.Time `json:"at"`
	Platform       string    `json:"platform,omitempty"`        // chat platform, e.g. "intercom"
	ConversationID string    `json:"conversation_id,omitempty"` // the platform's conversation id
	ContactID      string    `json:"contact_id,omitempty"`      // the platform's visitor or contact id
	Name           string    `json:"name,omitempty"`            // form or custom event name
	// EmailHash is the keyed hash of an address the visitor gave, when the
	// site computes one: "h:" and 64 lower-case hex digits, the HMAC-SHA256
	// of the trimmed, lower-case address under the host's key, as
	// journey.EmailHashID makes it. Anything else is refused. It is kept on
	// the event's touchpoint as a claim (attribute claimed_email_hash) and
	// links the visitor to no one: anyone can send any hash. An address the
	// host has verified is linked with [Service.Identify].
	EmailHash string `json:"email_hash,omitempty"`
}

// EventsRequest is a batch of events of one session.
type EventsRequest struct {
	VisitorID string  `json:"visitor_id"`
	SessionID string  `json:"session_id"`
	Events    []Event `json:"events"`
}

const maxEventsPerRequest = 50

// RecordEvents stores a batch of events as touchpoints of the session.
// Each event has a natural id (the platform's conversation and the event
// type, or the session, name and time), so a resent batch changes nothing.
//
// Anyone can post to v1/events, so what a batch says about who the visitor
// is, is a claim, and merges the visitor with no one: an email hash is
// checked for shape and kept on its event's touchpoint; a chat event's
// contact and conversation ids are kept as claims of the session
// ([store.Claims]), which a platform's signed webhook naming only them
// may later join ([Service.RecordChat]: the earliest claim). A chat
// touchpoint has the natural id the webhook gives the same event only when
// the conversation is the visitor's (a verified webhook linked it to them
// or, if none did, they claimed it first); a later claimant's has an id of
// its own session, so it cannot overwrite the first one's. People are
// merged on verified sources only: a call's caller number, a chat
// platform's signed webhook and the host's [Service.Identify].
func (s *Service) RecordEvents(ctx context.Context, req EventsRequest) error {
	visitor := req.VisitorID
	if visitor == "" {
		return fmt.Errorf("visitor_id: %w", orEmpty(nil))
	}
	if err := s.visitorIDs.verify(visitor); err != nil {
		return fmt.Errorf("visitor_id: %w", err) // only ids this service issued
	}
	sessionID, err := validID(req.SessionID)
	if err != nil || sessionID == "" {
		return fmt.Errorf("session_id: %w", orEmpty(err))
	}
	if len(req.Events) == 0 || len(req.Events) > maxEventsPerRequest {
		return fmt.Errorf("%w: events: send 1 to %d", ErrInvalidEvent, maxEventsPerRequest)
	}
	for i, ev := range req.Events {
		if ev.EmailHash != "" && !isKeyedHash(ev.EmailHash) {
			return fmt.Errorf(`events[%d]: %w: email_hash: not a keyed hash: want "h:" and 64 lower-case hex digits, as journey.EmailHashID makes it`, i, ErrInvalidEvent)
		}
	}
	// A session whose write is still queued behind a slow store is known.
	sess, err := s.session(ctx, sessionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("session_id: %w: no such session", ErrInvalidID)
	case err != nil:
		return err
	case sess.VisitorID != visitor:
		return fmt.Errorf("session_id: %w: belongs to another visitor", ErrInvalidID)
	}
	for i, ev := range req.Events {
		if err := s.recordEvent(ctx, sess, ev); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
	}
	return nil
}

// recordEvent records one of the tracker's events. Chat events become the
// chat package's Event, whose ids are claimed, never linked. An email hash
// is kept on the touchpoint as a claim, never linked.
func (s *Service) recordEvent(ctx context.Context, sess journey.Session, ev Event) error {
	at := s.plausibleTime(sess, ev.At)
	var claims map[string]string
	if ev.EmailHash != "" {
		claims = map[string]string{store.AttrClaimedEmailHash: ev.EmailHash}
	}
	switch ev.Type {
	case EventChatOpened, EventChatStarted, EventChatMessage, EventChatLead:
		if ev.Platform == "" {
			return fmt.Errorf("%w: platform: required for chat events", ErrInvalidEvent)
		}
		ce := chat.Event{Platform: ev.Platform, Type: chat.Type(ev.Type), ConversationID: ev.ConversationID,
			ContactID: ev.ContactID, SessionID: sess.ID, At: at}
		if err := ce.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
		if err := s.claimChat(ctx, sess, ce); err != nil {
			return err
		}
		id, err := s.browserChatTouchpointID(ctx, sess, ce)
		if err != nil {
			return err
		}
		if err := s.recordChatEvent(ctx, sess, ce, id, claims); err != nil {
			return err
		}
	case EventForm, EventCustom:
		if ev.Name == "" {
			return fmt.Errorf("%w: name: required for %s events", ErrInvalidEvent, ev.Type)
		}
		kind := journey.TouchForm
		if ev.Type == EventCustom {
			kind = journey.TouchCustom
		}
		tp := journey.Touchpoint{ID: fmt.Sprintf("%s:%s/%s/%d", ev.Type, sess.ID, ev.Name, at.UnixMilli()), Kind: kind,
			At: at, VisitorID: sess.VisitorID, SessionID: sess.ID, Source: sess.Source,
			Attrs: map[string]string{"event": ev.Type, "name": ev.Name}}
		maps.Copy(tp.Attrs, claims)
		if err := s.store.AddTouchpoint(ctx, tp); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: type %q is not one of chat_opened, chat_started, chat_message, chat_lead, form, custom", ErrInvalidEvent, ev.Type)
	}
	return nil
}

// store.AttrClaimedEmailHash is the touchpoint attribute that keeps the email
// hash a tracker event claimed.

// plausibleTime is the time an event is filed under: the browser's, unless
// its clock drifted implausibly far (more than five minutes into the future
// or before the session), then ours.
func (s *Service) plausibleTime(sess journey.Session, at time.Time) time.Time {
	now := s.now().UTC()
	at = at.UTC()
	if at.IsZero() || at.After(now.Add(5*time.Minute)) || at.Before(sess.StartedAt.Add(-5*time.Minute)) {
		return now
	}
	return at
}
