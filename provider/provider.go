package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/attriqs/calltrack/phone"
)

// Request is an inbound webhook as the verifier and parser see it: the URL
// the vendor called (scheme, host and query as configured at the vendor,
// which matters for URL-signing schemes), the headers and the raw body.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Answer is what a handler writes back to the vendor.
type Answer struct {
	ContentType string
	Body        []byte
}

// Provider is one telephony vendor's webhook dialect. Implementations are
// safe for concurrent use and do no I/O.
//
// Verify checks the request's signature and returns nil or one of the
// signature sentinels (ErrMissingSignature, ErrBadSignature, ...). Parse
// turns a verified request into a CallEvent (Kind tells an inbound call
// from a status callback); it returns ErrMalformedPayload for bodies it
// cannot read and ErrIgnoredEvent for genuine events calltrack does not
// record. Parse never panics, whatever the input. RenderForward answers an
// inbound call with the vendor's instruction to connect to f.To;
// RenderWhisper answers the vendor's fetch of a whisper document; Ack
// answers a status callback.
type Provider interface {
	Name() string
	Verify(r *Request) error
	Parse(r *Request) (CallEvent, error)
	RenderForward(f Forward, ev CallEvent) (Answer, error)
	RenderWhisper(text string) (Answer, error)
	Ack() Answer
}

// CallRecorder persists call events. It is declared here, by its consumer,
// so provider stays a leaf package; dni.Service implements it.
//
// Contract: RecordCall is idempotent per (ev.Provider, ev.CallID).
// Recording the same event twice, or a call's events in any order, must
// leave one call whose state is the Merge of all events received (use
// Merge) and everything derived from it written once. After an error the
// caller retries the same event later, so whatever part of it was
// already written must be safe to write again. Methods may be called
// concurrently.
type CallRecorder interface {
	RecordCall(ctx context.Context, ev CallEvent) error
}

// CallRecorderFunc adapts a function to CallRecorder.
type CallRecorderFunc func(ctx context.Context, ev CallEvent) error

// RecordCall calls f.
func (f CallRecorderFunc) RecordCall(ctx context.Context, ev CallEvent) error { return f(ctx, ev) }

// NumberQuery narrows a search for numbers to buy.
type NumberQuery struct {
	// Country is the ISO 3166 alpha-2 code; empty means "US".
	Country string
	// AreaCode restricts to one area code (North America).
	AreaCode string
	// Contains is a digit pattern the number must contain.
	Contains string
	// Limit caps the results; zero means the vendor's default.
	Limit int
}

// AvailableNumber is a number the vendor offers for purchase.
type AvailableNumber struct {
	Number   string // E.164
	Locality string
	Region   string
	Country  string
}

// OwnedNumber is a number bought on the account.
type OwnedNumber struct {
	// ID is the vendor's handle used to release it (Twilio's PN... sid).
	ID        string
	Number    string // E.164
	CreatedAt time.Time
}

// BuyOptions configures a number's webhooks and its fail-safe.
type BuyOptions struct {
	// VoiceURL receives the inbound-call webhook (POST).
	VoiceURL string
	// StatusCallbackURL receives status callbacks (POST).
	StatusCallbackURL string
	// FriendlyName labels the number in the vendor console.
	FriendlyName string
	// FallbackTo is the business line, E.164, the carrier connects
	// callers to by itself when VoiceURL fails (an error, a timeout, a
	// host that is down), so no caller is dropped while the application
	// is away. Each vendor does it its own way: a static forward on the
	// number (Telnyx), a fallback answer document (Twilio, SignalWire,
	// Plivo, Vonage, Bandwidth), see each package. Required: a tracking
	// number without a fail-safe drops calls when the host is down.
	FallbackTo string
	// FallbackURL serves the static answer that forwards to FallbackTo,
	// for vendors that fetch one (see each package's FallbackDocument);
	// it must not depend on this application. Empty uses the vendor's
	// own static forward where it has one and is refused otherwise.
	FallbackURL string
}

// Validate reports every unusable field of o at once, as an error
// wrapping [ErrInvalidConfig] that names each field; nil when o can be
// sent to a vendor. FallbackTo is required in E.164; VoiceURL,
// StatusCallbackURL and FallbackURL, when set, must be absolute http(s)
// URLs. needFallbackURL says the vendor has no static forward of its
// own and fetches the fail-safe document from FallbackURL, which is then
// required too. Provisioners call it first and add their own checks
// (a vendor that must be given VoiceURL, say).
func (o BuyOptions) Validate(needFallbackURL bool) error {
	var errs []error
	switch {
	case o.FallbackTo == "":
		errs = append(errs, errors.New("field FallbackTo: required: the business line, in E.164, that the carrier connects callers to when VoiceURL fails; a tracking number without a fail-safe drops calls while the host is down"))
	case phone.Normalize(o.FallbackTo, "") != o.FallbackTo:
		errs = append(errs, fmt.Errorf("field FallbackTo: %q is not an E.164 number such as +14155550100 (the business line callers reach when VoiceURL fails)", o.FallbackTo))
	}
	switch {
	case o.FallbackURL == "" && needFallbackURL:
		errs = append(errs, errors.New("field FallbackURL: required: this vendor has no static forward of its own and fetches the fail-safe document from a URL; host the vendor package's FallbackDocument(FallbackTo) on static hosting that does not depend on this application and give its URL"))
	case o.FallbackURL != "" && !WebURL(o.FallbackURL):
		errs = append(errs, fmt.Errorf("field FallbackURL: %q is not an absolute http(s) URL (where the vendor fetches the static fail-safe document, the vendor package's FallbackDocument(FallbackTo))", o.FallbackURL))
	}
	if o.VoiceURL != "" && !WebURL(o.VoiceURL) {
		errs = append(errs, fmt.Errorf("field VoiceURL: %q is not an absolute http(s) URL (the inbound-call webhook the vendor POSTs to)", o.VoiceURL))
	}
	if o.StatusCallbackURL != "" && !WebURL(o.StatusCallbackURL) {
		errs = append(errs, fmt.Errorf("field StatusCallbackURL: %q is not an absolute http(s) URL (the status-callback webhook the vendor POSTs to)", o.StatusCallbackURL))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// WebURL reports whether s is an absolute http or https URL with a host,
// the only kind a vendor can call.
func WebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// NumberProvisioner searches, buys and releases tracking numbers at a
// vendor. Release of a number that is already gone returns nil, so pool
// clean-up can be retried safely.
type NumberProvisioner interface {
	SearchNumbers(ctx context.Context, q NumberQuery) ([]AvailableNumber, error)
	BuyNumber(ctx context.Context, number string, opts BuyOptions) (OwnedNumber, error)
	ReleaseNumber(ctx context.Context, id string) error
}

// Provisioner is the whole life of a tracking number at a vendor: search,
// buy (with webhooks and the fail-safe set), configure an owned number
// again (a new URL, a new fallback), list what the account owns, release.
// Every vendor package has one; pool autoscaling drives it.
type Provisioner interface {
	NumberProvisioner
	// ConfigureNumber sets an owned number's webhooks and fail-safe.
	ConfigureNumber(ctx context.Context, id string, opts BuyOptions) error
	// ListNumbers returns the numbers the account owns.
	ListNumbers(ctx context.Context) ([]OwnedNumber, error)
}

// RecordingFetcher downloads a recording's audio. Vendors whose recording
// URLs need the account's credentials implement it on their Provider;
// others' URLs are fetched with a plain GET. Nothing calls it unless a
// call analyzer asks for the audio.
type RecordingFetcher interface {
	FetchRecording(ctx context.Context, rec Recording) (io.ReadCloser, error)
}

// GETAnswerer is implemented by providers whose vendor may call the
// answer URL with GET and the call's details in the query (Vonage's
// default for new applications). The Handler then accepts GET; Parse
// reads Request.URL's query when Request.Method is GET and the body is
// empty.
type GETAnswerer interface {
	AnswersGET() bool
}
