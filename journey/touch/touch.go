// Package touch holds the records a journey is made of, as attribution
// reads them: touchpoints (visits, calls, chats, forms) and conversions.
// Package journey, which records them, names them too; attribution
// imports only this package.
package touch

import (
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/classify"
)

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
	if !ValidCurrency(c.Currency) {
		errs = append(errs, fmt.Errorf("conversion: currency %q is not a three-letter ISO 4217 code", c.Currency))
	}
	if c.Type == ConversionCall && (c.CallProvider == "" || c.CallID == "") {
		errs = append(errs, errors.New("conversion: a call_conversion names its call_provider and call_id"))
	}
	return errors.Join(errs...)
}

// ValidCurrency reports whether c is three upper-case letters, the form
// of an ISO 4217 code.
func ValidCurrency(c string) bool {
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
