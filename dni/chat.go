package dni

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// RecordChat records chat events that a platform's webhook sent and the
// chat package verified (it implements chat.Recorder). Each event joins
// the session the platform echoed, else the latest session, started by the
// event, of the person behind the platform's contact or conversation id;
// an event that joins nothing is logged and skipped. Events that match a
// Config.ChatConversions rule become conversions: only verified events do,
// since anyone can post to the browser's v1/events.
func (s *Service) RecordChat(ctx context.Context, events []chat.Event) error {
	for i, ev := range events {
		if err := ev.Validate(); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
		}
		sess, err := s.chatSession(ctx, ev)
		if errors.Is(err, store.ErrNotFound) {
			s.log.Info("dni: chat event joins no session", "id", ev.TouchpointID())
			continue
		}
		if err != nil {
			return err
		}
		ev.SessionID, ev.At = sess.ID, s.plausibleTime(sess, ev.At)
		if err := s.recordChatEvent(ctx, sess, ev, nil); err != nil {
			return err
		}
		for _, r := range s.cfg.ChatConversions {
			if !r.Matches(ev) {
				continue
			}
			c := journey.Conversion{ID: r.ConversionID(ev), Type: r.Name, At: cmp.Or(ev.At, s.now()).UTC(),
				VisitorID: sess.VisitorID, SessionID: sess.ID, Value: r.Value, Currency: r.Currency}
			if err := s.store.PutConversion(ctx, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordChatEvent writes a chat event of a session, whoever reported it
// (the tracker or the platform's webhook): its touchpoint, by the one id
// both give it, with the tracker's claims among its attributes, and the
// links from the platform's contact and conversation to the visitor, so a
// webhook naming only those finds them.
func (s *Service) recordChatEvent(ctx context.Context, sess journey.Session, ev chat.Event, claims map[string]string) error {
	tp := journey.Touchpoint{ID: ev.TouchpointID(), Kind: journey.TouchChat, At: ev.At, VisitorID: sess.VisitorID,
		SessionID: sess.ID, Source: sess.Source, Attrs: map[string]string{
			"event": string(ev.Type), "platform": ev.Platform, "conversation_id": ev.JoinKey()}}
	maps.Copy(tp.Attrs, claims)
	if err := s.store.AddTouchpoint(ctx, tp); err != nil {
		return err
	}
	visitor := journey.Identifier{Kind: journey.IDVisitor, Value: sess.VisitorID}
	if ev.ContactID != "" {
		contact, err := journey.ChatContactID(ev.Platform, ev.ContactID)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
		if _, err := s.store.Link(ctx, contact, visitor); err != nil {
			return err
		}
	}
	if ev.ConversationID != "" {
		conv, err := conversationID(ev.Platform, ev.ConversationID)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
		}
		if _, err := s.store.Link(ctx, conv, visitor); err != nil {
			return err
		}
	}
	return nil
}

// conversationID is how a chat conversation the tracker reported is kept in
// the identity graph, so a webhook naming only the conversation finds the
// visitor.
func conversationID(platform, conversation string) (journey.Identifier, error) {
	return journey.ChatContactID(platform, "conversation/"+conversation)
}

// chatSession finds the session a verified chat event belongs to.
func (s *Service) chatSession(ctx context.Context, ev chat.Event) (journey.Session, error) {
	if ev.SessionID != "" {
		if sess, err := s.store.Session(ctx, ev.SessionID); err == nil {
			return sess, nil
		}
	}
	at := cmp.Or(ev.At, s.now())
	var ids []journey.Identifier
	if ev.ContactID != "" {
		if id, err := journey.ChatContactID(ev.Platform, ev.ContactID); err == nil {
			ids = append(ids, id)
		}
	}
	if ev.ConversationID != "" {
		if id, err := conversationID(ev.Platform, ev.ConversationID); err == nil {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		person, err := s.store.PersonOf(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return journey.Session{}, err
		}
		if sess, ok, err := s.latestSessionOf(ctx, person, at); err != nil || ok {
			return sess, err
		}
	}
	return journey.Session{}, store.ErrNotFound
}

// latestSessionOf returns the person's session that started last, no
// later than at.
func (s *Service) latestSessionOf(ctx context.Context, person string, at time.Time) (journey.Session, bool, error) {
	ids, err := s.store.Identifiers(ctx, person)
	if err != nil {
		return journey.Session{}, false, err
	}
	var best journey.Session
	for _, id := range ids {
		if id.Kind != journey.IDVisitor {
			continue
		}
		sessions, err := s.store.SessionsOfVisitor(ctx, id.Value)
		if err != nil {
			return journey.Session{}, false, err
		}
		for _, c := range sessions {
			if !c.StartedAt.After(at) && c.StartedAt.After(best.StartedAt) {
				best = c
			}
		}
	}
	return best, best.ID != "", nil
}
