package dni

import (
	"cmp"
	"context"
	"errors"
	"fmt"
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
		e := Event{Type: string(ev.Type), At: ev.At, Platform: ev.Platform, ConversationID: ev.ConversationID, ContactID: ev.ContactID}
		if err := s.RecordEvents(ctx, EventsRequest{VisitorID: sess.VisitorID, SessionID: sess.ID, Events: []Event{e}}); err != nil {
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
