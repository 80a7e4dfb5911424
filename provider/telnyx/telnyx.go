package telnyx

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// Name is the provider name in CallEvents.
const Name = "telnyx"

// Config configures a Provider.
type Config struct {
	// PublicKey verifies webhooks; see ParsePublicKey. Required.
	PublicKey ed25519.PublicKey
	// Tolerance bounds signed timestamps; default DefaultTolerance.
	Tolerance time.Duration
	// Clock defaults to time.Now.
	Clock func() time.Time
	// DefaultRegion reads numbers that are not E.164 (TeXML only).
	DefaultRegion string
	// APIKey (a v2 API key from the portal) lets the provider connect Call
	// Control calls: an inbound call.initiated is then acknowledged and the
	// caller transferred to the business line by a transfer command (see
	// RouteCall). Without it only TeXML calls are routed.
	APIKey string
	// APIBaseURL is where commands go; default DefaultAPIBaseURL.
	APIBaseURL string
	// HTTPClient sends commands; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Provider implements provider.Provider for Telnyx Call Control and TeXML
// webhooks.
type Provider struct{ cfg Config }

// New returns a Telnyx provider.
func New(cfg Config) (*Provider, error) {
	if len(cfg.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: field PublicKey: a 32-byte Ed25519 key is required", provider.ErrInvalidConfig)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.APIBaseURL == "" {
		cfg.APIBaseURL = DefaultAPIBaseURL
	} else if u, err := url.Parse(cfg.APIBaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%w: field APIBaseURL: %q is not an absolute URL", provider.ErrInvalidConfig, cfg.APIBaseURL)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "telnyx".
func (p *Provider) Name() string { return Name }

// Verify checks the Ed25519 signature and the replay window.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifySignature(p.cfg.PublicKey, r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader), r.Body, p.cfg.Clock(), p.cfg.Tolerance)
}

// Parse reads a Call Control JSON event or a TeXML form request.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	if trimmed := bytes.TrimSpace(r.Body); len(trimmed) > 0 && trimmed[0] == '{' {
		return ParseEvent(r.Body)
	}
	// TeXML posts Twilio's parameter set.
	ev, err := twilio.ParseForm(r.Body, p.cfg.DefaultRegion)
	ev.Provider = Name
	return ev, err
}

type envelope struct {
	Data struct {
		EventType  string    `json:"event_type"`
		ID         string    `json:"id"`
		OccurredAt time.Time `json:"occurred_at"`
		Payload    struct {
			CallControlID string    `json:"call_control_id"`
			CallLegID     string    `json:"call_leg_id"`
			CallSessionID string    `json:"call_session_id"`
			Direction     string    `json:"direction"`
			From          string    `json:"from"`
			To            string    `json:"to"`
			CallerIDName  string    `json:"caller_id_name"`
			StartTime     time.Time `json:"start_time"`
			EndTime       time.Time `json:"end_time"`
			HangupCause   string    `json:"hangup_cause"`
		} `json:"payload"`
	} `json:"data"`
}

var hangupCauses = map[string]provider.Status{
	"normal_clearing":   provider.StatusCompleted,
	"user_busy":         provider.StatusBusy,
	"timeout":           provider.StatusNoAnswer,
	"no_answer":         provider.StatusNoAnswer,
	"originator_cancel": provider.StatusCanceled,
}

// ParseEvent reads a Call Control v2 webhook. call.initiated is the
// inbound call, call.answered and call.hangup are status; other events, and
// every event of an outgoing leg (the one a transfer dials), are
// provider.ErrIgnoredEvent. The call id is the leg id, stable across a
// leg's events; one that [provider.CheckCallID] refuses makes the request
// malformed. A hangup's Duration is end_time − start_time as Telnyx
// reports them ([provider.Elapsed]: unknown, 0, when absurd).
func ParseEvent(body []byte) (provider.CallEvent, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	d, pl := env.Data, env.Data.Payload
	if d.EventType == "" {
		return provider.CallEvent{}, fmt.Errorf("%w: data.event_type is missing", provider.ErrMalformedPayload)
	}
	id := pl.CallLegID
	if id == "" {
		id = pl.CallControlID
	}
	if err := provider.CheckCallID("call_leg_id", id); err != nil {
		return provider.CallEvent{}, err
	}
	start, end, occurred := provider.SaneTime(pl.StartTime), provider.SaneTime(pl.EndTime), provider.SaneTime(d.OccurredAt)
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     id,
		From:       phone.Normalize(pl.From, ""),
		To:         phone.Normalize(pl.To, ""),
		CallerName: provider.CleanText(pl.CallerIDName, provider.MaxTextLen),
		OccurredAt: occurred,
		StartedAt:  start,
		Raw:        body,
	}
	switch pl.Direction {
	case "incoming":
		ev.Direction = provider.DirectionInbound
	case "outgoing":
		// The leg a transfer dials to the business line: the caller's own
		// leg carries the call, and routing this one would transfer again.
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	switch d.EventType {
	case "call.initiated":
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
		if ev.StartedAt.IsZero() {
			ev.StartedAt = occurred
		}
	case "call.answered":
		ev.Status = provider.StatusInProgress
		ev.AnsweredAt = occurred
	case "call.hangup":
		st, ok := hangupCauses[pl.HangupCause]
		if !ok {
			st = provider.StatusFailed
		}
		ev.Status = st
		ev.EndedAt = end
		if ev.EndedAt.IsZero() {
			ev.EndedAt = occurred
		}
		if st == provider.StatusCompleted {
			ev.Duration = provider.Elapsed(start, end)
		}
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

// RenderForward answers with TeXML <Dial> (TeXML copies TwiML's verbs).
// Call Control applications ignore webhook response bodies and route with
// REST commands instead; see the package documentation.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := twilio.RenderDial(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: twilio.ContentType, Body: body}, nil
}

// RenderWhisper answers with TeXML <Say>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := twilio.RenderSay(text)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: twilio.ContentType, Body: body}, nil
}

// Ack answers with an empty TeXML document, which Call Control ignores.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: twilio.ContentType, Body: twilio.EmptyResponse()}
}
