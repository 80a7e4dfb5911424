package provider

import (
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/phone"
)

// Ring timeout bounds shared by the vendors (Twilio accepts 5–600 s,
// Bandwidth 1–300 s); adapters clamp further if their vendor needs it.
const (
	DefaultRingTimeout = 30 * time.Second
	MinRingTimeout     = 5 * time.Second
	MaxRingTimeout     = 300 * time.Second
)

// Forward is the routing answer: connect the caller to the real business
// line. The zero value of every optional field is the safe default —
// recording off, the tracking number shown as caller id, no whisper,
// DefaultRingTimeout.
type Forward struct {
	// To is the business line in E.164. Required.
	To string
	// CallerIDPassthrough shows the caller's own number to the business
	// instead of the tracking number that was dialled.
	CallerIDPassthrough bool
	// RingTimeout is how long the business line rings before giving up;
	// zero means DefaultRingTimeout.
	RingTimeout time.Duration
	// Whisper is spoken to the business side only, before the calls are
	// bridged ("Call from Google Ads"). Vendors fetch it from WhisperURL.
	Whisper string
	// WhisperURL is where the vendor fetches the whisper document. Handlers
	// fill it in from their public URL; set it yourself only when rendering
	// without a Handler.
	WhisperURL string
	// Record turns call recording on. Off by default; when on,
	// RecordingNotice is required and is played to the caller first.
	Record bool
	// RecordingNotice is the caller-notice text ("This call may be
	// recorded"). Required when Record is true.
	RecordingNotice string
	// CallbackURL is where the vendor reports the forwarded leg (its
	// outcome: answered, busy, no answer, ...) and the recording, through
	// each vendor's own mechanism (Twilio's <Dial action>, Plivo's
	// callbackUrl, Bandwidth's transferCompleteUrl, ...). Handlers fill it
	// in with their own URL; empty renders no callbacks.
	CallbackURL string
	// Reject refuses the call at answer instead of connecting it (a caller
	// on a block list). To and every other field are then ignored.
	Reject bool
}

// Validate returns nil or an error wrapping ErrInvalidForward that names
// every problem at once.
func (f Forward) Validate() error {
	if f.Reject {
		return nil
	}
	var errs []error
	if f.To == "" {
		errs = append(errs, errors.New("field To: business number is required"))
	} else if n := phone.Normalize(f.To, ""); n != f.To {
		errs = append(errs, fmt.Errorf("field To: %q is not an E.164 number", f.To))
	}
	if f.RingTimeout != 0 && (f.RingTimeout < MinRingTimeout || f.RingTimeout > MaxRingTimeout) {
		errs = append(errs, fmt.Errorf("field RingTimeout: %s is outside %s..%s", f.RingTimeout, MinRingTimeout, MaxRingTimeout))
	}
	if f.Record && f.RecordingNotice == "" {
		errs = append(errs, errors.New("field RecordingNotice: required when Record is true (callers must be told)"))
	}
	if f.Whisper != "" && f.WhisperURL == "" {
		errs = append(errs, errors.New("field WhisperURL: required when Whisper is set (vendors fetch the whisper from it)"))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidForward, errors.Join(errs...))
}

// RingSeconds is the ring timeout in whole seconds, defaulted.
func (f Forward) RingSeconds() int {
	if f.RingTimeout == 0 {
		return int(DefaultRingTimeout / time.Second)
	}
	return int(f.RingTimeout / time.Second)
}

// CallerID is the number to present to the business line for this call:
// the caller's number with passthrough, otherwise the tracking number that
// was dialled (so staff can tell tracked calls apart).
func (f Forward) CallerID(ev CallEvent) string {
	if f.CallerIDPassthrough && ev.From != "" {
		return ev.From
	}
	return ev.To
}

// MarshalXML encodes v as a whole XML document, declaration first: the
// form of every XML answer (TwiML, Plivo XML, BXML).
func MarshalXML(v any) ([]byte, error) {
	out, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}
