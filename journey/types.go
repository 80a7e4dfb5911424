package journey

import (
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/classify"
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

// TouchKind is the kind of a touchpoint.
type TouchKind string

const (
	TouchSession    TouchKind = "session"
	TouchCall       TouchKind = "call"
	TouchChat       TouchKind = "chat"
	TouchForm       TouchKind = "form"
	TouchConversion TouchKind = "conversion"
	TouchCustom     TouchKind = "custom"
)

// Valid reports whether k is one of the defined kinds.
func (k TouchKind) Valid() bool {
	switch k {
	case TouchSession, TouchCall, TouchChat, TouchForm, TouchConversion, TouchCustom:
		return true
	}
	return false
}

// Touchpoint is one interaction of a person with the business: a visit, a
// call, a chat, a form, a conversion. Attribution models credit
// touchpoints by their Source.
type Touchpoint struct {
	ID        string            `json:"id"` // natural id: "session:S", "call:twilio/CA…", "chat:intercom/123"
	Kind      TouchKind         `json:"kind"`
	At        time.Time         `json:"at"`
	VisitorID string            `json:"visitor_id,omitempty"`
	SessionID string            `json:"session_id,omitempty"`
	Source    classify.Source   `json:"source"`
	Attrs     map[string]string `json:"attrs,omitempty"` // kind-specific details (platform, duration, …)
}

// Validate reports every missing or invalid field, each named.
func (t Touchpoint) Validate() error {
	var errs []error
	if t.ID == "" {
		errs = append(errs, errors.New("touchpoint: id is empty"))
	}
	if !t.Kind.Valid() {
		errs = append(errs, fmt.Errorf("touchpoint: kind %q is not a known kind", t.Kind))
	}
	if t.At.IsZero() {
		errs = append(errs, errors.New("touchpoint: at is zero"))
	}
	if t.VisitorID == "" && t.SessionID == "" {
		errs = append(errs, errors.New("touchpoint: visitor_id or session_id is required"))
	}
	return errors.Join(errs...)
}

// Conversion types recorded by the library; hosts may record others.
const (
	ConversionCall     = "call_conversion"
	ConversionPurchase = "purchase"
	ConversionForm     = "form"
	// ConversionChat is a chat made a conversion by an outcome set by hand.
	ConversionChat = "chat_conversion"
)

// Conversion is one row of the transactions table: something of value that
// a person did. Value is in minor units of Currency (cents for USD), so
// that attribution can split it into credits that sum exactly.
type Conversion struct {
	ID        string    `json:"id"`   // natural id; "call:twilio/CA…" for a qualified call
	Type      string    `json:"type"` // call_conversion, purchase, form, …
	At        time.Time `json:"at"`
	VisitorID string    `json:"visitor_id,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Value     int64     `json:"value"`    // minor units
	Currency  string    `json:"currency"` // ISO 4217, e.g. "USD"
	// CallProvider and CallID name the call a call_conversion came from.
	CallProvider string `json:"call_provider,omitempty"`
	CallID       string `json:"call_id,omitempty"`
}

// Validate reports every missing or invalid field, each named.
func (c Conversion) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("conversion: id is empty"))
	}
	if c.Type == "" {
		errs = append(errs, errors.New("conversion: type is empty"))
	}
	if c.At.IsZero() {
		errs = append(errs, errors.New("conversion: at is zero"))
	}
	if c.Value < 0 {
		errs = append(errs, fmt.Errorf("conversion: value %d is negative", c.Value))
	}
	if !validCurrency(c.Currency) {
		errs = append(errs, fmt.Errorf("conversion: currency %q is not a three-letter ISO 4217 code", c.Currency))
	}
	if c.Type == ConversionCall && (c.CallProvider == "" || c.CallID == "") {
		errs = append(errs, errors.New("conversion: a call_conversion names its call_provider and call_id"))
	}
	return errors.Join(errs...)
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}
