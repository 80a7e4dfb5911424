package fake

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/webhooksig"
)

// Name is the provider name in CallEvents.
const Name = "fake"

// SignatureHeader carries the signature.
const SignatureHeader = "X-Fake-Signature"

// DefaultTolerance is the accepted clock skew for signed timestamps.
const DefaultTolerance = webhooksig.DefaultTolerance

// Event types.
const (
	EventInbound = "call.inbound"
	EventStatus  = "call.status"
	// EventForward reports the forwarded leg: Outcome, and TalkS when
	// answered. It is sent to the answer's callback_url.
	EventForward = "call.forward"
	// EventRecording reports the recording: RecordingID, RecordingURL and
	// DurationS. It is sent to the answer's callback_url.
	EventRecording = "call.recording"
)

// Event is the webhook body.
type Event struct {
	Type       string    `json:"type"`
	CallID     string    `json:"call_id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Status     string    `json:"status,omitempty"`
	DurationS  int       `json:"duration_s,omitempty"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
	// Attestation is the caller's STIR/SHAKEN level on an inbound call.
	Attestation  string `json:"attestation,omitempty"`
	Outcome      string `json:"outcome,omitempty"`
	TalkS        int    `json:"talk_s,omitempty"`
	RecordingID  string `json:"recording_id,omitempty"`
	RecordingURL string `json:"recording_url,omitempty"`
}

// Answer is the routing answer body.
type Answer struct {
	Action          string `json:"action"`
	To              string `json:"to"`
	CallerID        string `json:"caller_id"`
	TimeoutS        int    `json:"timeout_s"`
	WhisperURL      string `json:"whisper_url,omitempty"`
	Say             string `json:"say,omitempty"`
	Record          bool   `json:"record"`
	RecordingNotice string `json:"recording_notice,omitempty"`
	// CallbackURL is where the fake vendor reports the forward's outcome
	// and the recording.
	CallbackURL string `json:"callback_url,omitempty"`
}

// Sign returns the X-Fake-Signature value for body at time t
// ([webhooksig.Sign]).
func Sign(secret []byte, body []byte, t time.Time) string {
	return webhooksig.Sign(secret, body, t)
}

// VerifySignature checks header against body with [webhooksig.Verify]; a
// zero tolerance means [DefaultTolerance]. It is pure: the caller supplies
// the time. A failure matches, with errors.Is, both webhooksig's sentinel and
// the provider sentinel of the same name, which handlers answer with 403.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	err := webhooksig.Verify(secret, header, body, now, tolerance)
	if err == nil {
		return nil
	}
	return &signatureError{err: err, sentinel: providerSentinel(err)}
}

// signatureError is a webhooksig failure that also is the provider sentinel
// of the same failure, since provider.Provider's contract names those.
type signatureError struct{ err, sentinel error }

func (e *signatureError) Error() string   { return e.err.Error() }
func (e *signatureError) Unwrap() []error { return []error{e.err, e.sentinel} }

func providerSentinel(err error) error {
	switch {
	case errors.Is(err, webhooksig.ErrNoSecret):
		return provider.ErrNoSecret
	case errors.Is(err, webhooksig.ErrMissingSignature):
		return provider.ErrMissingSignature
	case errors.Is(err, webhooksig.ErrMissingTimestamp):
		return provider.ErrMissingTimestamp
	case errors.Is(err, webhooksig.ErrBadSignature):
		return provider.ErrBadSignature
	case errors.Is(err, webhooksig.ErrStaleTimestamp):
		return provider.ErrStaleTimestamp
	}
	return provider.ErrMalformedSignature
}

// Config configures a Provider.
type Config struct {
	// Secret is the shared signing secret. Required.
	Secret []byte
	// Tolerance bounds signed timestamps; default DefaultTolerance.
	Tolerance time.Duration
	// Clock defaults to time.Now.
	Clock func() time.Time
}

// Provider implements provider.Provider for the fake dialect.
type Provider struct {
	cfg Config
}

// New returns a Provider.
func New(cfg Config) (*Provider, error) {
	if len(cfg.Secret) == 0 {
		return nil, fmt.Errorf("%w: field Secret: required", provider.ErrInvalidConfig)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "fake".
func (p *Provider) Name() string { return Name }

// Verify checks X-Fake-Signature.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifySignature(p.cfg.Secret, r.Header.Get(SignatureHeader), r.Body, p.cfg.Clock(), p.cfg.Tolerance)
}

// Parse reads an Event body.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	return ParseEvent(r.Body)
}

// ParseEvent turns a webhook body into a CallEvent. A call_id that
// [provider.CheckCallID] refuses makes the body malformed; a duration_s
// that [provider.ParseSeconds] refuses (negative, too long, not a number)
// is recorded as unknown (0) and the event kept, as the real adapters do.
func ParseEvent(body []byte) (provider.CallEvent, error) {
	var e struct {
		Event
		// Read as text so that an absurd value cannot fail the body or
		// overflow a time.Duration.
		DurationS json.RawMessage `json:"duration_s,omitempty"`
		TalkS     json.RawMessage `json:"talk_s,omitempty"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	if err := provider.CheckCallID("call_id", e.CallID); err != nil {
		return provider.CallEvent{}, err
	}
	occurred := provider.SaneTime(e.OccurredAt)
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     e.CallID,
		From:       phone.Normalize(e.From, ""),
		To:         phone.Normalize(e.To, ""),
		Direction:  provider.DirectionInbound,
		OccurredAt: occurred,
		Raw:        body,
	}
	switch e.Type {
	case EventInbound:
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
		ev.StartedAt = occurred
		ev.Attestation, _ = provider.ParseAttestation(e.Attestation)
	case EventForward:
		ev.Kind = provider.KindStatus
		ev.Outcome = provider.Outcome(e.Outcome)
		if ev.Outcome == provider.OutcomeUnknown || !ev.Outcome.Valid() {
			return provider.CallEvent{}, fmt.Errorf("%w: unknown outcome %q", provider.ErrMalformedPayload, e.Outcome)
		}
		if ev.Outcome == provider.OutcomeAnswered {
			ev.TalkTime = seconds("talk_s", e.TalkS)
		}
	case EventRecording:
		ev.Kind = provider.KindStatus
		if e.RecordingID == "" {
			return provider.CallEvent{}, fmt.Errorf("%w: recording_id is empty", provider.ErrMalformedPayload)
		}
		ev.Recording = provider.Recording{ID: provider.CleanText(e.RecordingID, provider.MaxTextLen),
			URL: provider.CleanText(e.RecordingURL, provider.MaxTextLen), Duration: seconds("duration_s", e.DurationS)}
	case EventStatus:
		ev.Kind = provider.KindStatus
		ev.Status = provider.Status(e.Status)
		if ev.Status.Rank() == 0 {
			return provider.CallEvent{}, fmt.Errorf("%w: unknown status %q", provider.ErrMalformedPayload, e.Status)
		}
		if ev.Status == provider.StatusInProgress {
			ev.AnsweredAt = occurred
		}
		if ev.Status.Terminal() {
			ev.EndedAt = occurred
			ev.Duration = seconds("duration_s", e.DurationS)
		}
	default:
		return provider.CallEvent{}, fmt.Errorf("%w: unknown type %q", provider.ErrMalformedPayload, e.Type)
	}
	return ev, nil
}

// seconds reads a whole number of seconds; an absurd value is unknown (0)
// and the event kept, Raw holding what was sent.
func seconds(field string, raw json.RawMessage) time.Duration {
	if d := string(raw); d != "" && d != "null" {
		v, _ := provider.ParseSeconds(field, d)
		return v
	}
	return 0
}

// RenderForward answers with a JSON Answer: "forward", or "reject" for a
// refused call.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	if err := f.Validate(); err != nil {
		return provider.Answer{}, err
	}
	if f.Reject {
		return provider.Answer{ContentType: "application/json", Body: []byte(`{"action":"reject"}`)}, nil
	}
	a := Answer{
		Action:      "forward",
		To:          f.To,
		CallerID:    f.CallerID(ev),
		TimeoutS:    f.RingSeconds(),
		WhisperURL:  f.WhisperURL,
		Record:      f.Record,
		CallbackURL: f.CallbackURL,
	}
	if f.Record {
		a.RecordingNotice = f.RecordingNotice
	}
	body, err := json.Marshal(a)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: "application/json", Body: body}, nil
}

// RenderWhisper answers a whisper fetch.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := json.Marshal(Answer{Action: "say", Say: text})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: "application/json", Body: body}, nil
}

// Ack answers a status callback.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: "application/json", Body: []byte(`{"ok":true}`)}
}
