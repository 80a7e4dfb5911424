package dni

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Page is the path of the page a form or custom event happened on.
	Page string `json:"page,omitempty"`
	// Outcome is what became of a form submission, as the page reported it
	// ("sent", "invalid"): [A-Za-z0-9_.:-], 1 to 32 characters.
	Outcome string `json:"outcome,omitempty"`
	// Props are a custom event's properties: at most 10 keys of
	// [A-Za-z0-9_.:-], 1 to 32 characters, each a string of at most 100
	// characters, a number or a boolean. Each is kept as the touchpoint
	// attribute "prop." + key.
	Props map[string]any `json:"props,omitempty"`
	// EmailSHA256 and PhoneSHA256 are the unkeyed SHA-256, 64 lower-case
	// hex digits, of a form's email address (trimmed, lower-case) and phone
	// number (E.164), hashed in the browser with the visitor's ads consent,
	// in the form the ad platforms' conversion uploads take. Like
	// EmailHash they are claims, kept on the touchpoint, linking no one.
	EmailSHA256 string `json:"email_sha256,omitempty"`
	PhoneSHA256 string `json:"phone_sha256,omitempty"`
	// EmailGoogleSHA256 is the same address hashed as Google Ads asks:
	// also without the dots before the @ of a gmail.com or googlemail.com
	// address, which the other platforms keep. The tracker sends it only
	// when it differs from EmailSHA256; Google's uploads take it instead.
	EmailGoogleSHA256 string `json:"email_google_sha256,omitempty"`
}

// Bounds of the tracker's events.
const (
	maxFormName   = 128 // characters of a form event's name
	maxPage       = 512 // characters of Page
	maxProps      = 10  // keys of Props
	maxPropString = 100 // characters of a string in Props
)

// customName, propKey and outcomeName are the names the tracker's public
// API accepts.
var (
	customName  = regexp.MustCompile(`^[\w.:-]{1,64}$`)
	propKey     = regexp.MustCompile(`^[\w.:-]{1,32}$`)
	outcomeName = regexp.MustCompile(`^[\w.:-]{1,32}$`)
)

// validate checks what an event carries besides its type's own fields,
// naming the field at fault.
func (ev Event) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidEvent, field, fmt.Sprintf(format, args...))
	}
	page := ev.Type == EventForm || ev.Type == EventCustom
	switch {
	case ev.EmailHash != "" && !isKeyedHash(ev.EmailHash):
		return bad("email_hash", `not a keyed hash: want "h:" and 64 lower-case hex digits, as journey.EmailHashID makes it`)
	case ev.Type == EventForm && !plainText(ev.Name, maxFormName):
		return bad("name", "want 1 to %d characters, no control characters", maxFormName)
	case ev.Type == EventCustom && !customName.MatchString(ev.Name):
		return bad("name", "want [A-Za-z0-9_.:-], 1 to 64 characters")
	case ev.Page != "" && !page:
		return bad("page", "only form and custom events carry one")
	case ev.Page != "" && (ev.Page[0] != '/' || !plainText(ev.Page, maxPage)):
		return bad("page", "want a path starting with /, at most %d characters", maxPage)
	case ev.Outcome != "" && ev.Type != EventForm:
		return bad("outcome", "only form events carry one")
	case ev.Outcome != "" && !outcomeName.MatchString(ev.Outcome):
		return bad("outcome", "want [A-Za-z0-9_.:-], 1 to 32 characters")
	case ev.EmailSHA256 != "" && ev.Type != EventForm:
		return bad("email_sha256", "only form events carry one")
	case ev.EmailGoogleSHA256 != "" && ev.Type != EventForm:
		return bad("email_google_sha256", "only form events carry one")
	case ev.PhoneSHA256 != "" && ev.Type != EventForm:
		return bad("phone_sha256", "only form events carry one")
	case ev.EmailSHA256 != "" && !isHex64(ev.EmailSHA256):
		return bad("email_sha256", "want 64 lower-case hex digits")
	case ev.EmailGoogleSHA256 != "" && !isHex64(ev.EmailGoogleSHA256):
		return bad("email_google_sha256", "want 64 lower-case hex digits")
	case ev.PhoneSHA256 != "" && !isHex64(ev.PhoneSHA256):
		return bad("phone_sha256", "want 64 lower-case hex digits")
	case ev.Props != nil && ev.Type != EventCustom:
		return bad("props", "only custom events carry them")
	case len(ev.Props) > maxProps:
		return bad("props", "%d keys, at most %d", len(ev.Props), maxProps)
	}
	for _, k := range slices.Sorted(maps.Keys(ev.Props)) {
		if !propKey.MatchString(k) {
			return bad("props", "key %q: want [A-Za-z0-9_.:-], 1 to 32 characters", k)
		}
		if _, ok := propText(ev.Props[k]); !ok {
			return bad("props", "%s: want a string of at most %d characters, a number or a boolean", k, maxPropString)
		}
	}
	return nil
}

// plainText reports whether s is 1 to max characters of valid UTF-8
// without control characters.
func plainText(s string, max int) bool {
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

// isHex64 reports whether s is 64 lower-case hex digits, a SHA-256.
func isHex64(s string) bool {
	return isKeyedHash("h:" + s)
}

// propText is a property's value as a touchpoint attribute: a number as
// JavaScript writes it, a boolean as true or false.
func propText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, utf8.ValidString(v) && utf8.RuneCountInString(v) <= maxPropString
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return "", false
		}
		if a := math.Abs(v); a == 0 {
			return "0", true // -0 too, as String(-0)
		} else if a >= 1e-6 && a < 1e21 {
			return strconv.FormatFloat(v, 'f', -1, 64), true
		}
		// JavaScript's exponent has no leading zero: 1e-7, not 1e-07.
		return strings.Replace(strconv.FormatFloat(v, 'g', -1, 64), "e-0", "e-", 1), true
	case int: // Go callers
		return strconv.Itoa(v), true
	}
	return "", false
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
//
// A form event goes through Config.FormRules, so its conversion is a
// claim too, as GA4's generate_lead is: one conversion at most per
// submission (its touchpoint), the rules' FirstTimeOnly, and the
// per-visitor rate limits bound what a forger gets. A host that needs
// verified form conversions reports the forms it received with
// [Service.RecordForm] and sets FormRule.Verified.
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
		if err := ev.validate(); err != nil {
			return fmt.Errorf("events[%d]: %w", i, err)
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
		for k, v := range map[string]string{"page": ev.Page, "outcome": ev.Outcome, "email_sha256": ev.EmailSHA256,
			"email_google_sha256": ev.EmailGoogleSHA256, "phone_sha256": ev.PhoneSHA256} {
			if v != "" {
				tp.Attrs[k] = v
			}
		}
		for k, v := range ev.Props {
			tp.Attrs["prop."+k], _ = propText(v)
		}
		if err := s.store.AddTouchpoint(ctx, tp); err != nil {
			return err
		}
		if kind == journey.TouchForm {
			return s.convertForm(ctx, tp) // the outcome, sent later under the same id, may qualify it
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
