package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
)

// Kinds of event, as stored with each outbox message.
const (
	// KindConversion: the event reports a conversion (a qualified call is
	// one, with its call attached).
	KindConversion = "conversion"
	// KindCall: the event reports a call that did not (or not yet) convert.
	KindCall = "call"
	// KindAdjustment: the event changes a conversion already reported
	// (a value set by hand, a retraction).
	KindAdjustment = "adjustment"
)

// Adjustment types, as ad platforms name them.
const (
	// AdjustRestate: the conversion's value changed.
	AdjustRestate = "restate"
	// AdjustRetract: the conversion is withdrawn.
	AdjustRetract = "retract"
)

// Adjustment changes a conversion a sink was sent: each change is its own
// message, named by its Version. The exporter sends a sink an adjustment
// only once that sink has the conversion, and the adjustments of one
// conversion in version order (see "Order" in the package documentation);
// a receiver should still keep the highest Version it has seen of a
// conversion, since an operator may requeue an old one (ad platforms order
// adjustments by their time, At). Sinks that file calls rather than
// conversions (the HubSpot sink) do not take adjustments.
type Adjustment struct {
	ConversionID string `json:"conversion_id"`
	// Type is AdjustRestate or AdjustRetract.
	Type string `json:"type"`
	// Value and Currency restate the conversion; zero for a retraction.
	Value    int64  `json:"value"`
	Currency string `json:"currency,omitempty"`
	// Status is the outcome behind the change ("won", "lost", ...).
	Status string    `json:"status,omitempty"`
	At     time.Time `json:"at"`
	// ConversionAt is the time of the conversion adjusted, which some
	// platforms match the original upload by (Microsoft Ads).
	ConversionAt time.Time `json:"conversion_at,omitzero"`
	// Version counts the changes of the conversion's outcome, from 1.
	Version int64 `json:"version"`
}

// Event is what happened, as sinks receive it: a conversion, a call, or
// both (a qualified call), with the traffic source that earned it. It is
// stored as JSON in the outbox when recorded, so delivery does not depend
// on the rest of the store.
type Event struct {
	Conversion *journey.Conversion `json:"conversion,omitempty"`
	// Call carries the call's merged state, without the provider's raw body.
	Call *provider.CallEvent `json:"call,omitempty"`
	// Adjustment, when set, changes a conversion reported before; the
	// event then carries no Conversion.
	Adjustment *Adjustment `json:"adjustment,omitempty"`
	// Source is the classified source of the session the conversion or
	// call was attributed to (its campaign, click id, ...).
	Source classify.Source `json:"source"`
	// AdIDs are that session's ad platform ids and consent; zero when the
	// conversion has no session or the visitor gave no ads consent, and
	// then ad platform sinks send nothing.
	AdIDs journey.AdIDs `json:"ad_ids,omitzero"`
	// UserData is what the visitor entered that ad platforms match
	// conversions on, hashed: a form's email and phone. It is set only
	// when the session had ads consent (AdIDs.Consent); sinks check the
	// platform's own consent signals before sending it.
	UserData UserData `json:"user_data,omitzero"`
	// Touch is the kind of touchpoint the conversion came from (a call, a
	// chat or a form), whatever the rule that converted it named its type;
	// empty for a conversion the host recorded. Sinks tell the platform
	// where the conversion happened by it.
	Touch journey.TouchKind `json:"touch,omitempty"`
}

// UserData is hashed user-provided data. Each field is the unkeyed
// SHA-256, 64 lower-case hex digits, of a value normalised before hashing
// (the tracker hashes form fields in the browser; see dni.Event):
// EmailSHA256 of the address trimmed and lower-cased, PhoneSHA256 of the
// number in E.164 ("+14155550123"). Empty when not captured.
//
// EmailGoogleSHA256 is the address normalised as Google Ads asks: also
// without the dots before the @ of a gmail.com or googlemail.com address.
// Set only when that differs from EmailSHA256 (a dotted gmail address);
// Google sinks send it instead of EmailSHA256; the other sinks ignore it,
// as their platforms keep the dots.
type UserData struct {
	EmailSHA256       string `json:"email_sha256,omitempty"`
	EmailGoogleSHA256 string `json:"email_google_sha256,omitempty"`
	PhoneSHA256       string `json:"phone_sha256,omitempty"`
}

// IsZero reports whether no user data was captured.
func (u UserData) IsZero() bool { return u == UserData{} }

// Kind is [KindAdjustment] when the event carries an adjustment,
// [KindConversion] when it carries a conversion, else [KindCall].
func (ev Event) Kind() string {
	if ev.Adjustment != nil {
		return KindAdjustment
	}
	if ev.Conversion != nil {
		return KindConversion
	}
	return KindCall
}

// Message is one delivery of one event to one sink.
type Message struct {
	// ID is the idempotency key: the same for every attempt of the message,
	// so a receiver that remembers it can drop repeats. Sinks send it with
	// every request (a header, or a field the receiver stores).
	ID string
	// Sink is the name of the sink the message is for.
	Sink string
	// Attempt counts deliveries of this message, 1 for the first.
	Attempt int
	// CreatedAt is when the event was recorded.
	CreatedAt time.Time
	Event
}

// Sink delivers messages to one destination (a CRM, an ad platform, a
// webhook). Implementations must be safe for concurrent use.
//
// Deliver returns nil once the destination has the message. Delivery is at
// least once: the same message (same ID) may be delivered again after a
// crash or a lost answer, so a sink should make repeats harmless (send the
// ID as an idempotency key, or look before creating). An error marked with
// [Permanent] (or implementing Permanent() bool returning true) dead-letters
// the message at once; any other error is retried with backoff, after at
// least the delay of an error implementing RetryAfter() time.Duration.
type Sink interface {
	// Name identifies the sink in the outbox; it must not change while
	// messages for it are pending.
	Name() string
	Deliver(ctx context.Context, m Message) error
}

// Filter is an optional interface of a [Sink]: when implemented, only the
// events it accepts are queued for it (a CRM adapter that needs a caller's
// number accepts only calls).
type Filter interface {
	Accepts(ev Event) bool
}

// ErrPermanent marks errors that retrying cannot fix; see [Permanent].
var ErrPermanent = errors.New("export: permanent failure")

// Permanent marks err as not worth retrying: the message goes to the dead
// letters at once. errors.Is(Permanent(err), ErrPermanent) holds and the
// original err stays reachable through errors.Is and errors.As.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }
func (e permanentError) Permanent() bool { return true }

// IsPermanent reports whether err, or an error it wraps, says it is
// permanent.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// retryAfter returns the delay an error asks for, if any.
func retryAfter(err error) (time.Duration, bool) {
	var r interface{ RetryAfter() time.Duration }
	if errors.As(err, &r) && r.RetryAfter() > 0 {
		return r.RetryAfter(), true
	}
	return 0, false
}

// HTTPError is a non-2xx answer from an HTTP destination.
type HTTPError struct {
	Op         string // what was attempted, e.g. "hubspot: create contact"
	StatusCode int
	Body       string        // the start of the response body
	Wait       time.Duration // from Retry-After, when the answer had one
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Op, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Permanent reports 4xx answers other than 408 Request Timeout and 429
// Too Many Requests: the request itself is wrong, and sending it again
// will not change the answer.
func (e *HTTPError) Permanent() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 &&
		e.StatusCode != http.StatusRequestTimeout && e.StatusCode != http.StatusTooManyRequests
}

// RetryAfter is the wait the destination asked for, zero when it did not.
func (e *HTTPError) RetryAfter() time.Duration { return e.Wait }

// CheckResponse returns nil for a 2xx response and an [*HTTPError] for
// anything else, reading at most 1 KiB of the body into it and parsing
// Retry-After (seconds or an HTTP date, relative to now). It does not close
// the body.
func CheckResponse(op string, resp *http.Response, now time.Time) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	e := &HTTPError{Op: op, StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s > 0 {
			e.Wait = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
			e.Wait = t.Sub(now)
		}
	}
	return e
}
