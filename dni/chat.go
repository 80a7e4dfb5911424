package dni

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

// RecordChat records chat events that a platform's webhook sent and the
// chat package verified (it implements chat.Recorder). Each event joins,
// in this order:
//   - the session the platform echoed, when it exists;
//   - else the latest session, started by the event, of the person a
//     verified webhook linked the platform's conversation or contact id
//     to (the identity graph);
//   - else the session that claimed the conversation id first (the
//     tracker reported it, see [Service.RecordEvents]), then the contact
//     id, among the claims of sessions started by the event; when several
//     visitors claimed it, this is logged at Info.
//
// An event that joins nothing is logged and skipped. The verified event
// then links its contact and conversation ids to the session's visitor,
// unless an id already belongs to another person: a chat webhook never
// merges two persons, since the session id a platform echoes was written
// by a browser too. Events that match a Config.ChatConversions rule become
// conversions: only verified events do, since anyone can post to the
// browser's v1/events.
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
		if err := s.recordChatEvent(ctx, sess, ev, ev.TouchpointID(), nil); err != nil {
			return err
		}
		if err := s.linkChat(ctx, sess, ev); err != nil {
			return err
		}
		if err := s.convertChat(ctx, sess, ev); err != nil {
			return err
		}
	}
	return nil
}

// convertChat writes the conversions the chat rules make of ev, unless
// the conversation has an outcome set by hand, which wins over the rules.
// It holds chatRules, as SetOutcome does for a chat, so that an outcome
// set meanwhile sees the conversion and retracts it at the sinks. (Two
// instances of the Service are not ordered so: an outcome set on one
// while the other converts the same conversation may leave the rule's
// conversion standing.)
func (s *Service) convertChat(ctx context.Context, sess journey.Session, ev chat.Event) error {
	s.chatRules.Lock()
	defer s.chatRules.Unlock()
	checked := false
	for _, r := range s.cfg.ChatConversions {
		if !r.Matches(ev) {
			continue
		}
		if !checked {
			if set, err := s.chatOutcomeSet(ctx, ev.Platform, ev.JoinKey()); err != nil || set {
				return err
			}
			checked = true
		}
		c := journey.Conversion{ID: r.ConversionID(ev), Type: r.Name, At: cmp.Or(ev.At, s.now()).UTC(),
			VisitorID: sess.VisitorID, SessionID: sess.ID, Value: r.Value, Currency: r.Currency}
		if err := s.putChatConversion(ctx, sess, c); err != nil {
			return err
		}
	}
	return nil
}

// putChatConversion writes a chat rule's conversion with its export
// messages, in one transaction. Its id is one per conversation and rule,
// so the same event arriving again queues nothing new. sess is the
// session as the event just read it.
func (s *Service) putChatConversion(ctx context.Context, sess journey.Session, c journey.Conversion) error {
	if s.exports == nil {
		return s.store.PutConversion(ctx, c)
	}
	return s.exports.Record(ctx, export.Event{Conversion: &c, Source: sess.Source, AdIDs: sess.AdIDs, Touch: journey.TouchChat})
}

// recordChatEvent writes the touchpoint of a session's chat event, whoever
// reported it (the tracker or the platform's webhook), under id, with the
// tracker's claims among its attributes.
func (s *Service) recordChatEvent(ctx context.Context, sess journey.Session, ev chat.Event, id string, claims map[string]string) error {
	tp := journey.Touchpoint{ID: id, Kind: journey.TouchChat, At: ev.At, VisitorID: sess.VisitorID,
		SessionID: sess.ID, Source: sess.Source, Attrs: map[string]string{
			"event": string(ev.Type), report.AttrPlatform: ev.Platform, report.AttrConversation: ev.JoinKey()}}
	maps.Copy(tp.Attrs, claims)
	return s.store.AddTouchpoint(ctx, tp)
}

// claimChat records that the tracker of sess reported ev's conversation
// and contact ids: claims, which merge no one.
func (s *Service) claimChat(ctx context.Context, sess journey.Session, ev chat.Event) error {
	ids, err := chatIDs(ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	// Our clock, not the browser's: a claimant chooses the time it posts,
	// and the earliest claim wins.
	now := s.now().UTC()
	for _, id := range ids {
		if err := s.store.PutClaim(ctx, journey.Claim{ID: id, SessionID: sess.ID, VisitorID: sess.VisitorID, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// browserChatTouchpointID is the id of the touchpoint of a chat event the
// tracker reported: the one the platform's webhook gives the same event
// ([chat.Event.TouchpointID]) when the conversation is this visitor's (a
// verified webhook linked it to them or, if none did, they claimed it
// first), else an id of this session's own, so that a later claimant
// cannot overwrite the first one's touchpoint.
func (s *Service) browserChatTouchpointID(ctx context.Context, sess journey.Session, ev chat.Event) (string, error) {
	shared := ev.TouchpointID()
	if ev.ConversationID == "" {
		return shared, nil // the conversation is "session-" + our session id
	}
	conv, err := conversationID(ev.Platform, ev.ConversationID)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	mine := false
	switch owner, err := s.store.PersonOf(ctx, conv); {
	case err == nil:
		visitor, err := s.store.PersonOf(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: sess.VisitorID})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		mine = err == nil && visitor == owner
	case errors.Is(err, store.ErrNotFound):
		claims, err := s.store.ClaimsOf(ctx, conv)
		if err != nil {
			return "", err
		}
		mine = len(claims) > 0 && claims[0].VisitorID == sess.VisitorID
	default:
		return "", err
	}
	if mine {
		return shared, nil
	}
	return shared + "/session-" + sess.ID, nil
}

// linkChat links a verified event's conversation and contact ids to the
// visitor of the session it joined. An id that already belongs to
// another person stays theirs (logged): the session may have been found
// through an id the platform echoed from a browser. The store attaches
// an id only if nobody owns it, atomically ([store.Identities.Attach]),
// so two webhooks of one conversation arriving at once cannot merge the
// persons of the two sessions they joined.
func (s *Service) linkChat(ctx context.Context, sess journey.Session, ev chat.Event) error {
	ids, err := chatIDs(ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	visitor := journey.Identifier{Kind: journey.IDVisitor, Value: sess.VisitorID}
	for _, id := range ids {
		owner, attached, err := s.store.Attach(ctx, id, visitor)
		if err != nil {
			return err
		}
		if attached {
			continue
		}
		person, err := s.store.PersonOf(ctx, visitor)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if person != owner {
			s.log.Info("dni: chat id belongs to another person; not merged", "id", ev.TouchpointID(), "kind", id.Kind, "session", sess.ID)
		}
	}
	return nil
}

// chatIDs returns the identifiers of ev's conversation and contact, the
// conversation first: it names this chat, the contact may have had others.
func chatIDs(ev chat.Event) ([]journey.Identifier, error) {
	var ids []journey.Identifier
	if ev.ConversationID != "" {
		id, err := conversationID(ev.Platform, ev.ConversationID)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if ev.ContactID != "" {
		id, err := journey.ChatContactID(ev.Platform, ev.ContactID)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// conversationID is how a chat conversation is kept in the identity graph
// and among claims, so a webhook naming only the conversation finds the
// visitor.
func conversationID(platform, conversation string) (journey.Identifier, error) {
	return journey.ChatContactID(platform, "conversation/"+conversation)
}

// chatSession finds the session a verified chat event belongs to, in the
// order [Service.RecordChat] gives.
func (s *Service) chatSession(ctx context.Context, ev chat.Event) (journey.Session, error) {
	if ev.SessionID != "" {
		if sess, err := s.session(ctx, ev.SessionID); err == nil {
			return sess, nil
		}
	}
	at := cmp.Or(ev.At, s.now())
	ids, err := chatIDs(ev)
	if err != nil {
		return journey.Session{}, store.ErrNotFound // nothing valid to join by
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
	for _, id := range ids {
		claims, err := s.store.ClaimsOf(ctx, id)
		if err != nil {
			return journey.Session{}, err
		}
		for _, c := range claims {
			sess, err := s.session(ctx, c.SessionID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return journey.Session{}, err
			}
			if sess.StartedAt.After(at) {
				continue
			}
			if n := claimants(claims); n > 1 {
				s.log.Info("dni: several visitors claimed a chat; the earliest claim joins it",
					"id", ev.TouchpointID(), "kind", id.Kind, "visitors", n, "session", sess.ID)
			}
			return sess, nil
		}
	}
	return journey.Session{}, store.ErrNotFound
}

// claimants counts the visitors among claims.
func claimants(claims []journey.Claim) int {
	seen := map[string]bool{}
	for _, c := range claims {
		seen[c.VisitorID] = true
	}
	return len(seen)
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
