package journey

import (
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey/touch"
)

// Session is one visit of one visitor: from its first page view until it
// goes quiet. It carries the traffic source it was classified with and the
// tracking number it was shown.
type Session struct {
	ID         string          `json:"id"`
	VisitorID  string          `json:"visitor_id"`
	StartedAt  time.Time       `json:"started_at"`
	LastSeenAt time.Time       `json:"last_seen_at"`
	LandingURL string          `json:"landing_url,omitempty"`
	Referrer   string          `json:"referrer,omitempty"`
	Source     classify.Source `json:"source"`
	Pool       string          `json:"pool,omitempty"`   // the pool the number came from
	Number     string          `json:"number,omitempty"` // the tracking number shown, E.164; empty when none
	// AdIDs are the ad platforms' browser ids, captured with consent.
	AdIDs AdIDs `json:"ad_ids,omitzero"`
	// PageViews counts the session's page views (its visits; LandingURL
	// is the first, ExitURL the last). Zero for a session recorded before
	// page views were counted.
	PageViews int    `json:"page_views,omitempty"`
	ExitURL   string `json:"exit_url,omitempty"`
}

// Validate reports every missing or inconsistent field, each named.
func (s Session) Validate() error {
	var errs []error
	if s.ID == "" {
		errs = append(errs, errors.New("session: id is empty"))
	}
	if s.VisitorID == "" {
		errs = append(errs, errors.New("session: visitor_id is empty"))
	}
	if s.StartedAt.IsZero() {
		errs = append(errs, errors.New("session: started_at is zero"))
	}
	if !s.LastSeenAt.IsZero() && s.LastSeenAt.Before(s.StartedAt) {
		errs = append(errs, errors.New("session: last_seen_at is before started_at"))
	}
	if s.PageViews < 0 {
		errs = append(errs, errors.New("session: page_views is negative"))
	}
	return errors.Join(errs...)
}

// Confidence says how sure a call's attribution is.
type Confidence string

const (
	// ConfidenceDedicated: the number dialled is fixed to one campaign.
	ConfidenceDedicated Confidence = "dedicated"
	// ConfidenceExact: exactly one session held the pool number at the call
	// time or within the call-grace window before it.
	ConfidenceExact Confidence = "exact"
	// ConfidenceReused: the number had been handed to more than one session
	// (pool exhaustion); the most recently active holder was chosen.
	ConfidenceReused Confidence = "reused"
	// ConfidencePoolOnly: no session held the number; the pool's own source
	// is credited.
	ConfidencePoolOnly Confidence = "pool-only"
	// ConfidenceUnknown: the number is not a tracking number we know.
	ConfidenceUnknown Confidence = "unknown"
)

// Valid reports whether c is one of the defined levels.
func (c Confidence) Valid() bool {
	switch c {
	case ConfidenceDedicated, ConfidenceExact, ConfidenceReused, ConfidencePoolOnly, ConfidenceUnknown:
		return true
	}
	return false
}

// Candidate is a session that held the dialled number near the call time.
type Candidate struct {
	SessionID string    `json:"session_id"`
	HeldFrom  time.Time `json:"held_from"`
	HeldUntil time.Time `json:"held_until"`
	Reused    bool      `json:"reused,omitempty"`
}

// Attribution links one call to the session and source that earned it.
type Attribution struct {
	Provider   string          `json:"provider"`
	CallID     string          `json:"call_id"`
	SessionID  string          `json:"session_id,omitempty"` // empty unless a session was found
	VisitorID  string          `json:"visitor_id,omitempty"`
	Source     classify.Source `json:"source"`
	Confidence Confidence      `json:"confidence"`
	// Reason explains the choice in words a person can audit.
	Reason     string      `json:"reason"`
	Candidates []Candidate `json:"candidates,omitempty"` // every holder considered, chosen one first
	StitchedAt time.Time   `json:"stitched_at"`
}

// Validate reports every missing or invalid field, each named.
func (a Attribution) Validate() error {
	var errs []error
	if a.Provider == "" || a.CallID == "" {
		errs = append(errs, errors.New("attribution: provider and call_id are required"))
	}
	if !a.Confidence.Valid() {
		errs = append(errs, fmt.Errorf("attribution: confidence %q is not a known level", a.Confidence))
	}
	if a.Reason == "" {
		errs = append(errs, errors.New("attribution: reason is empty"))
	}
	return errors.Join(errs...)
}

// IDKind is a kind of identifier that can name a person.
type IDKind string

const (
	IDVisitor     IDKind = "visitor"      // the tracker's first-party visitor id
	IDUser        IDKind = "user"         // the host application's user id (Identify)
	IDPhone       IDKind = "phone"        // a caller number, E.164 or its keyed hash
	IDEmailHash   IDKind = "email_hash"   // keyed hash of a normalised email address
	IDChatContact IDKind = "chat_contact" // a chat platform's contact id, "platform:id"
)

// Valid reports whether k is one of the defined kinds.
func (k IDKind) Valid() bool {
	switch k {
	case IDVisitor, IDUser, IDPhone, IDEmailHash, IDChatContact:
		return true
	}
	return false
}

// Identifier names a person in one way.
type Identifier struct {
	Kind  IDKind `json:"kind"`
	Value string `json:"value"`
}

func (id Identifier) String() string { return string(id.Kind) + ":" + id.Value }

// Validate reports an unknown kind or an empty value.
func (id Identifier) Validate() error {
	var errs []error
	if !id.Kind.Valid() {
		errs = append(errs, fmt.Errorf("identifier: kind %q is not a known kind", id.Kind))
	}
	if id.Value == "" {
		errs = append(errs, errors.New("identifier: value is empty"))
	}
	return errors.Join(errs...)
}

// The touchpoint and conversion records live in journey/touch, which
// attribution imports without the rest of journey (its telephony and
// phone-number packages cost a short command more to start than its
// work); they keep their names here.
type (
	TouchKind  = touch.TouchKind
	Touchpoint = touch.Touchpoint
	Conversion = touch.Conversion
)

// The kinds of touchpoints.
const (
	TouchSession    = touch.TouchSession
	TouchCall       = touch.TouchCall
	TouchChat       = touch.TouchChat
	TouchForm       = touch.TouchForm
	TouchConversion = touch.TouchConversion
	TouchCustom     = touch.TouchCustom
)

// Conversion types recorded by the library; hosts may record others.
const (
	ConversionCall     = touch.ConversionCall
	ConversionPurchase = touch.ConversionPurchase
	ConversionForm     = touch.ConversionForm
	// ConversionChat is a chat made a conversion by an outcome set by hand.
	ConversionChat = touch.ConversionChat
)
