package dni

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/journey"
)

// ErrInvalidIdentifier is returned by [Service.Identify] for an identifier
// it does not accept; the error names the argument and why.
var ErrInvalidIdentifier = errors.New("dni: invalid identifier")

// Identify records what the host knows about a visitor it authenticated:
// that each of ids names the person using visitorID's browser (the user
// who signed in there, the keyed hash of the address they signed in with,
// a phone number they confirmed). Each identifier is linked to the
// visitor, so people who were apart are merged and their journeys join:
// the same user on a phone and a laptop, a caller who later signs in.
//
// Identify is the host's word, and the only way besides a call's caller
// number and a chat platform's signed webhook ([Service.RecordChat]) that
// people are merged: what the browser posts to v1/events is recorded as a
// claim and merges no one. Call it only from code behind the host's own
// authentication, with the visitor id the tracker set in that signed-in
// user's browser, never with an id or identifier taken from an
// unauthenticated request.
//
// The identifiers accepted, each checked with [journey.Identifier.Validate]:
//   - user: the host's user id, as it is;
//   - email_hash: "h:" and 64 lower-case hex digits, the keyed hash
//     [journey.EmailHashID] makes (use Config.IdentityKey as its key); an
//     address in the clear is refused;
//   - phone: an E.164 number, keyed with Config.IdentityKey as a call's
//     caller number is ([journey.PhoneID]), so that the caller's calls
//     join; or its keyed form already;
//   - chat_contact: "platform:id", as [journey.ChatContactID] makes it.
//
// A visitor id is refused: two visitors join through an identifier both
// are given (a user id). Every identifier is checked before any is
// linked, and every problem is returned at once. The links are written one
// by one; repeating Identify after an error is safe, since linking twice
// changes nothing.
func (s *Service) Identify(ctx context.Context, visitorID string, ids ...journey.Identifier) error {
	var errs []error
	if visitorID == "" {
		errs = append(errs, fmt.Errorf("visitorID: %w", orEmpty(nil)))
	} else if err := s.visitorIDs.verify(visitorID); err != nil {
		errs = append(errs, fmt.Errorf("visitorID: %w", err))
	}
	if len(ids) == 0 {
		errs = append(errs, fmt.Errorf("ids: %w: none given", ErrInvalidIdentifier))
	}
	linked := make([]journey.Identifier, 0, len(ids))
	for i, id := range ids {
		id, err := s.verifiedIdentifier(id)
		if err != nil {
			errs = append(errs, fmt.Errorf("ids[%d]: %w: %w", i, ErrInvalidIdentifier, err))
			continue
		}
		linked = append(linked, id)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	visitor := journey.Identifier{Kind: journey.IDVisitor, Value: visitorID}
	for _, id := range linked {
		if _, err := s.store.Link(ctx, id, visitor); err != nil {
			return fmt.Errorf("dni: identify %s: %w", id.Kind, err)
		}
	}
	return nil
}

// verifiedIdentifier checks an identifier the host gives Identify and
// returns it as it is linked.
func (s *Service) verifiedIdentifier(id journey.Identifier) (journey.Identifier, error) {
	if err := id.Validate(); err != nil {
		return id, err
	}
	switch id.Kind {
	case journey.IDUser:
	case journey.IDEmailHash:
		if !isKeyedHash(id.Value) {
			return id, errors.New(`email_hash: not a keyed hash: want "h:" and 64 lower-case hex digits, as journey.EmailHashID makes it`)
		}
	case journey.IDPhone:
		if isKeyedHash(id.Value) {
			return id, nil
		}
		p, err := journey.PhoneID(id.Value, s.cfg.IdentityKey)
		if err != nil {
			return id, fmt.Errorf("phone: want an E.164 number or its keyed form: %w", err)
		}
		return p, nil
	case journey.IDChatContact:
		platform, contact, ok := strings.Cut(id.Value, ":")
		if !ok || platform == "" || contact == "" || platform != strings.ToLower(platform) {
			return id, errors.New(`chat_contact: want "platform:id" with a lower-case platform, as journey.ChatContactID makes it`)
		}
	default:
		return id, fmt.Errorf("kind %s: not accepted; visitors join through an identifier both are given, such as a user id", id.Kind)
	}
	return id, nil
}

// isKeyedHash reports whether v has the form journey's keyed identifiers
// have: "h:" and the 64 lower-case hex digits of an HMAC-SHA256.
func isKeyedHash(v string) bool {
	h, ok := strings.CutPrefix(v, "h:")
	if !ok || len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
