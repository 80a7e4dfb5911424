package twilio

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "twilio"

// Config configures a Provider.
type Config struct {
	// AuthToken is the account's auth token, the signing key. Required.
	AuthToken string
	// DefaultRegion reads numbers without a country code (ISO 3166, e.g.
	// "US"); empty keeps only numbers Twilio sends in E.164.
	DefaultRegion string
}

// Provider implements provider.Provider for Twilio Programmable Voice.
type Provider struct {
	name    string
	headers []string
	cfg     Config
}

// New returns a Twilio provider.
func New(cfg Config) (*Provider, error) {
	return NewCompatible(Name, []string{SignatureHeader}, cfg)
}

// NewCompatible returns a provider for a vendor that speaks Twilio's
// webhook dialect (same parameters, same signature algorithm, TwiML-style
// answers) under its own name and signature header(s). headers are tried
// in order; the first present one is verified. SignalWire uses this.
func NewCompatible(name string, headers []string, cfg Config) (*Provider, error) {
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("%w: field AuthToken: required (it is the signing key)", provider.ErrInvalidConfig)
	}
	if name == "" || len(headers) == 0 {
		return nil, fmt.Errorf("%w: name and signature headers are required", provider.ErrInvalidConfig)
	}
	return &Provider{name: name, headers: headers, cfg: cfg}, nil
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.name }

// Verify checks the signature header.
func (p *Provider) Verify(r *provider.Request) error {
	header := p.headers[0]
	for _, h := range p.headers {
		if r.Header.Get(h) != "" {
			header = h
			break
		}
	}
	return ValidateRequest(p.cfg.AuthToken, r, header)
}

// Parse reads the voice webhook or a status callback.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	ev, err := ParseForm(r.Body, p.cfg.DefaultRegion)
	ev.Provider = p.name
	return ev, err
}

// ParseForm turns Twilio's form parameters into a CallEvent. The voice
// webhook and status callbacks share one parameter set; a request is a
// status callback when it carries CallbackSource or CallDuration or a
// status past ringing, and the inbound-call webhook otherwise. A CallSid
// that [provider.CheckCallID] refuses makes the request malformed; a
// CallDuration that [provider.ParseSeconds] refuses (negative, over
// provider.MaxCallDuration, not a number) is recorded as unknown (0) and
// the event kept, so the call's status is not lost to a vendor retry.
func ParseForm(body []byte, defaultRegion string) (provider.CallEvent, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	callSid := form.Get("CallSid")
	if err := provider.CheckCallID("CallSid", callSid); err != nil {
		return provider.CallEvent{}, err
	}
	status, ok := statuses[form.Get("CallStatus")]
	if !ok {
		return provider.CallEvent{}, fmt.Errorf("%w: unknown CallStatus %q", provider.ErrMalformedPayload, form.Get("CallStatus"))
	}
	ev := provider.CallEvent{
		Provider:      Name,
		CallID:        callSid,
		From:          phone.Normalize(form.Get("From"), defaultRegion),
		To:            phone.Normalize(form.Get("To"), defaultRegion),
		Status:        status,
		Direction:     direction(form.Get("Direction")),
		CallerName:    provider.CleanText(form.Get("CallerName"), provider.MaxTextLen),
		CallerCity:    provider.CleanText(form.Get("FromCity"), provider.MaxTextLen),
		CallerRegion:  provider.CleanText(form.Get("FromState"), provider.MaxTextLen),
		CallerCountry: provider.CleanText(form.Get("FromCountry"), provider.MaxTextLen),
		ForwardedFrom: phone.Normalize(form.Get("ForwardedFrom"), defaultRegion),
		Raw:           body,
	}
	if ts := form.Get("Timestamp"); ts != "" {
		if t, err := time.Parse(time.RFC1123Z, ts); err == nil {
			ev.OccurredAt = provider.SaneTime(t.UTC())
		}
	}
	if d := form.Get("CallDuration"); d != "" {
		ev.Duration, _ = provider.ParseSeconds("CallDuration", d) // unknown (0) when absurd; Raw keeps it
	}
	isStatus := form.Get("CallbackSource") != "" || form.Get("CallDuration") != "" || status.Rank() > provider.StatusRinging.Rank()
	if isStatus {
		ev.Kind = provider.KindStatus
	} else {
		ev.Kind = provider.KindInbound
		ev.StartedAt = ev.OccurredAt
	}
	switch {
	case status == provider.StatusInProgress:
		ev.AnsweredAt = ev.OccurredAt
	case status.Terminal():
		ev.EndedAt = ev.OccurredAt
	}
	return ev, nil
}

var statuses = map[string]provider.Status{
	"queued":      provider.StatusInitiated,
	"initiated":   provider.StatusInitiated,
	"ringing":     provider.StatusRinging,
	"in-progress": provider.StatusInProgress,
	"answered":    provider.StatusInProgress,
	"completed":   provider.StatusCompleted,
	"busy":        provider.StatusBusy,
	"no-answer":   provider.StatusNoAnswer,
	"failed":      provider.StatusFailed,
	"canceled":    provider.StatusCanceled,
}

func direction(s string) provider.Direction {
	switch {
	case s == "inbound":
		return provider.DirectionInbound
	case strings.HasPrefix(s, "outbound"):
		return provider.DirectionOutbound
	}
	return ""
}

// RenderForward answers with TwiML <Dial>.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderDial(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers with TwiML <Say>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := RenderSay(text)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers a status callback with an empty TwiML document.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: EmptyResponse()}
}
