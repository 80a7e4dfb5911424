package vonage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "vonage"

// ContentType of NCCO answers.
const ContentType = "application/json"

// Config configures a Provider.
type Config struct {
	// SignatureSecret is the account's signature secret (Dashboard →
	// Settings), the HS256 key of signed webhooks. Required.
	SignatureSecret []byte
	// Tolerance bounds the token's iat; default DefaultTolerance.
	Tolerance time.Duration
	// Clock defaults to time.Now.
	Clock func() time.Time
}

// Provider implements provider.Provider for the Vonage Voice API.
type Provider struct{ cfg Config }

// New returns a Vonage provider.
func New(cfg Config) (*Provider, error) {
	if len(cfg.SignatureSecret) == 0 {
		return nil, fmt.Errorf("%w: field SignatureSecret: required (signed webhooks must be enabled)", provider.ErrInvalidConfig)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "vonage".
func (p *Provider) Name() string { return Name }

// Verify checks the signed-webhook JWT.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifyRequest(p.cfg.SignatureSecret, r.Header.Get(AuthorizationHeader), r.Body, p.cfg.Clock(), p.cfg.Tolerance)
}

// Parse reads the answer webhook or an event webhook.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	return ParseWebhook(r.Body)
}

type webhook struct {
	UUID             string          `json:"uuid"`
	ConversationUUID string          `json:"conversation_uuid"`
	From             string          `json:"from"`
	To               string          `json:"to"`
	Status           string          `json:"status"`
	Direction        string          `json:"direction"`
	Timestamp        time.Time       `json:"timestamp"`
	StartTime        time.Time       `json:"start_time"`
	EndTime          time.Time       `json:"end_time"`
	Duration         json.RawMessage `json:"duration"`
}

var statuses = map[string]provider.Status{
	"started":    provider.StatusInitiated,
	"ringing":    provider.StatusRinging,
	"answered":   provider.StatusInProgress,
	"completed":  provider.StatusCompleted,
	"busy":       provider.StatusBusy,
	"timeout":    provider.StatusNoAnswer,
	"unanswered": provider.StatusNoAnswer,
	"failed":     provider.StatusFailed,
	"rejected":   provider.StatusFailed,
	"cancelled":  provider.StatusCanceled,
}

// ParseWebhook reads Vonage's JSON. The answer webhook (no status field)
// is the inbound call; event webhooks carry a status; events with other
// statuses (machine detection, input, transfer) are ErrIgnoredEvent. The
// call id is the leg's uuid; one that [provider.CheckCallID] refuses makes
// the request malformed. Vonage sends numbers as international digits. A
// duration that [provider.ParseSeconds] refuses is recorded as unknown (0)
// and the event kept.
func ParseWebhook(body []byte) (provider.CallEvent, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	if err := provider.CheckCallID("uuid", w.UUID); err != nil {
		return provider.CallEvent{}, err
	}
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     w.UUID,
		From:       phone.Normalize(w.From, ""),
		To:         phone.Normalize(w.To, ""),
		OccurredAt: provider.SaneTime(w.Timestamp),
		StartedAt:  provider.SaneTime(w.StartTime),
		EndedAt:    provider.SaneTime(w.EndTime),
		Raw:        body,
	}
	switch w.Direction {
	case "inbound":
		ev.Direction = provider.DirectionInbound
	case "outbound":
		ev.Direction = provider.DirectionOutbound
	}
	if w.Status == "" {
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
		ev.Direction = provider.DirectionInbound
		return ev, nil
	}
	st, ok := statuses[w.Status]
	if !ok {
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	ev.Status = st
	if st == provider.StatusInProgress {
		ev.AnsweredAt = ev.OccurredAt
	}
	// Documented as a string of seconds, accepted as a number too.
	if d := string(w.Duration); d != "" && d != "null" && d != `""` && st.Terminal() {
		ev.Duration, _ = provider.ParseSeconds("duration", d) // unknown (0) when absurd; Raw keeps it
	}
	return ev, nil
}

// NCCO actions calltrack emits.
type (
	// Action is one NCCO action.
	Action struct {
		Action   string     `json:"action"`
		Text     string     `json:"text,omitempty"`
		From     string     `json:"from,omitempty"`
		Timeout  int        `json:"timeout,omitempty"`
		Endpoint []Endpoint `json:"endpoint,omitempty"`
	}
	// Endpoint is a connect action's target.
	Endpoint struct {
		Type     string    `json:"type"`
		Number   string    `json:"number"`
		OnAnswer *OnAnswer `json:"onAnswer,omitempty"`
	}
	// OnAnswer names the NCCO run on the answered leg before bridging.
	OnAnswer struct {
		URL string `json:"url"`
	}
)

func digits(e164 string) string { return strings.TrimPrefix(e164, "+") }

// RenderConnect renders f as an NCCO: with recording, a talk action
// (the caller notice) and a record action first; then connect to a phone
// endpoint whose onAnswer NCCO is the whisper. Vonage only presents caller
// ids it allows (your Vonage numbers, or the caller's with the feature
// enabled).
func RenderConnect(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var ncco []Action
	if f.Record {
		ncco = append(ncco, Action{Action: "talk", Text: f.RecordingNotice}, Action{Action: "record"})
	}
	ep := Endpoint{Type: "phone", Number: digits(f.To)}
	if f.WhisperURL != "" {
		ep.OnAnswer = &OnAnswer{URL: f.WhisperURL}
	}
	ncco = append(ncco, Action{Action: "connect", From: digits(f.CallerID(ev)), Timeout: f.RingSeconds(), Endpoint: []Endpoint{ep}})
	return json.Marshal(ncco)
}

// ParseConnect reads a rendered NCCO back: the number connected and the
// caller id presented, as E.164.
func ParseConnect(doc []byte) (to, callerID string, err error) {
	var ncco []Action
	if err := json.Unmarshal(doc, &ncco); err != nil {
		return "", "", err
	}
	for _, a := range ncco {
		if a.Action == "connect" && len(a.Endpoint) == 1 {
			return phone.Normalize(a.Endpoint[0].Number, ""), phone.Normalize(a.From, ""), nil
		}
	}
	return "", "", errors.New("vonage: no connect action")
}

// RenderForward answers with an NCCO.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderConnect(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers the onAnswer fetch with a talk NCCO.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := json.Marshal([]Action{{Action: "talk", Text: text}})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers an event webhook with an empty body (Vonage wants a 2xx).
func (p *Provider) Ack() provider.Answer { return provider.Answer{} }
