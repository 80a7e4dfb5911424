package vonage

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "vonage"

// ContentType of NCCO answers.
const ContentType = "application/json"

// ParentParam is the query parameter RenderForward adds to the connect
// and record actions' eventUrl: the uuid of the caller's inbound leg.
// Vonage reports the forwarded leg under that leg's own uuid and the
// recording under the conversation only, so the parameter is what ties
// both back to the caller's call. MACParam binds it.
const ParentParam = "calltrack_parent"

// MachineParam marks an eventUrl whose leg runs Vonage's machine
// detection: its answered and completed events then no longer prove that
// a person answered (a voicemail answers too); the human and machine
// events decide.
const MachineParam = "calltrack_amd"

// RejectText is spoken to a refused caller before the call ends.
const RejectText = "This number cannot take your call."

// Machine detection behaviours of the connect action (Config.MachineDetection).
const (
	MachineContinue = "continue"
	MachineHangup   = "hangup"
)

// Config configures a Provider.
type Config struct {
	// SignatureSecret is the account's signature secret (Dashboard →
	// Settings), the HS256 key of signed webhooks. Required.
	SignatureSecret []byte
	// Tolerance bounds the token's iat; default DefaultTolerance.
	Tolerance time.Duration
	// Clock defaults to time.Now.
	Clock func() time.Time
	// MachineDetection turns on Vonage's standard answering-machine
	// detection on the forwarded leg, so a business voicemail ends the
	// forward as provider.OutcomeVoicemail: MachineContinue lets the
	// caller leave a message, MachineHangup ends the call. Empty (the
	// default) leaves it off.
	MachineDetection string
	// ApplicationID and PrivateKey (the application's PEM private key)
	// let FetchRecording download recordings, which Vonage serves only
	// to a JWT signed with that key. Optional.
	ApplicationID string
	PrivateKey    []byte
	// HTTPClient downloads recordings; default a client with a 60 s
	// timeout.
	HTTPClient *http.Client
}

// Provider implements provider.Provider for the Vonage Voice API, and
// provider.GETAnswerer and provider.RecordingFetcher.
type Provider struct {
	cfg Config
	key *rsa.PrivateKey
}

var (
	_ provider.GETAnswerer      = (*Provider)(nil)
	_ provider.RecordingFetcher = (*Provider)(nil)
)

// New returns a Vonage provider, reporting every configuration problem at
// once.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if len(cfg.SignatureSecret) == 0 {
		errs = append(errs, errors.New("field SignatureSecret: required (signed webhooks must be enabled)"))
	}
	switch cfg.MachineDetection {
	case "", MachineContinue, MachineHangup:
	default:
		errs = append(errs, fmt.Errorf("field MachineDetection: %q is neither %q nor %q", cfg.MachineDetection, MachineContinue, MachineHangup))
	}
	var key *rsa.PrivateKey
	if len(cfg.PrivateKey) > 0 {
		k, err := parsePrivateKey(cfg.PrivateKey)
		if err != nil {
			errs = append(errs, fmt.Errorf("field PrivateKey: %w", err))
		}
		key = k
		if cfg.ApplicationID == "" {
			errs = append(errs, errors.New("field ApplicationID: required with PrivateKey (the JWT names the application)"))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	return &Provider{cfg: cfg, key: key}, nil
}

// Name returns "vonage".
func (p *Provider) Name() string { return Name }

// AnswersGET reports true: a new Vonage application fetches its answer
// URL with GET, the call in the query.
func (p *Provider) AnswersGET() bool { return true }

// Verify checks the signed-webhook JWT and, on a report to a leg's event
// URL, the MAC binding its ParentParam and MachineParam
// (VerifyLegEventURL), which the JWT does not cover.
func (p *Provider) Verify(r *provider.Request) error {
	if err := VerifyRequest(p.cfg.SignatureSecret, r.Header.Get(AuthorizationHeader), r.Body, p.cfg.Clock(), p.cfg.Tolerance); err != nil {
		return err
	}
	_, _, _, err := p.legParams(r)
	return err
}

// legParams reads and checks the leg parameters of a request Parse would
// read as a leg report; isLeg is false for any other request.
func (p *Provider) legParams(r *provider.Request) (parent string, machine, isLeg bool, err error) {
	if r.Method == http.MethodGet && len(r.Body) == 0 {
		return "", false, false, nil // the answer by GET: ParseQuery
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", false, false, fmt.Errorf("%w: request URL: %v", provider.ErrMalformedPayload, err)
	}
	return VerifyLegEventURL(p.cfg.SignatureSecret, u.Query())
}

// Parse reads the answer webhook (JSON body, or the query of a GET), an
// event webhook of the caller's leg, or a report on the forwarded leg or
// the recording (an eventUrl carrying ParentParam, see ParseLegEvent).
// A leg report whose MACParam is missing or does not match its
// ParentParam and MachineParam is ErrBadSignature (VerifyLegEventURL), so
// Parse is safe to call without Verify's check of the URL.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	if r.Method == http.MethodGet && len(r.Body) == 0 {
		u, err := url.Parse(r.URL)
		if err != nil {
			return provider.CallEvent{}, fmt.Errorf("%w: request URL: %v", provider.ErrMalformedPayload, err)
		}
		return ParseQuery(u.RawQuery)
	}
	parent, machine, isLeg, err := p.legParams(r)
	if err != nil {
		return provider.CallEvent{}, err
	}
	if isLeg {
		return ParseLegEvent(r.Body, parent, machine)
	}
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
// and the event kept. Vonage's answer webhook carries no STIR/SHAKEN
// verdict, so Attestation stays empty.
func ParseWebhook(body []byte) (provider.CallEvent, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	ev, err := w.event()
	if err != nil {
		return provider.CallEvent{}, err
	}
	ev.Raw = body
	return ev, nil
}

// ParseQuery reads the answer webhook Vonage sends by GET (its default):
// the same fields as the JSON body, in the query. Raw keeps the query.
func ParseQuery(rawQuery string) (provider.CallEvent, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: query: %v", provider.ErrMalformedPayload, err)
	}
	w := webhook{
		UUID: q.Get("uuid"), ConversationUUID: q.Get("conversation_uuid"),
		From: q.Get("from"), To: q.Get("to"), Status: q.Get("status"), Direction: q.Get("direction"),
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"timestamp", &w.Timestamp}, {"start_time", &w.StartTime}, {"end_time", &w.EndTime}} {
		if v := q.Get(t.name); v != "" {
			// An unreadable time is unknown, as SaneTime makes an absurd one.
			*t.dst, _ = time.Parse(time.RFC3339Nano, v)
		}
	}
	if d := q.Get("duration"); d != "" {
		w.Duration = json.RawMessage(`"` + strings.ReplaceAll(d, `"`, "") + `"`)
	}
	ev, err := w.event()
	if err != nil {
		return provider.CallEvent{}, err
	}
	ev.Raw = []byte(rawQuery)
	return ev, nil
}

func (w webhook) event() (provider.CallEvent, error) {
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
		Action           string     `json:"action"`
		Text             string     `json:"text,omitempty"`
		From             string     `json:"from,omitempty"`
		Timeout          int        `json:"timeout,omitempty"`
		MachineDetection string     `json:"machineDetection,omitempty"`
		EventURL         []string   `json:"eventUrl,omitempty"`
		EventMethod      string     `json:"eventMethod,omitempty"`
		Endpoint         []Endpoint `json:"endpoint,omitempty"`
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

// RenderConnect renders f as an NCCO without machine detection (see
// Provider.RenderForward). It has no secret to sign the leg's event URL
// with (LegEventURL), so a Forward with a CallbackURL is refused: use
// Provider.RenderForward.
func RenderConnect(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if f.CallbackURL != "" && !f.Reject {
		return nil, fmt.Errorf("%w: field CallbackURL: the event URL must carry a MAC under the signature secret; use Provider.RenderForward", provider.ErrInvalidForward)
	}
	return renderNCCO(nil, f, ev, "")
}

// renderNCCO renders f: a refused call hears RejectText and the call ends
// (an NCCO ends the call when its last action ends; Vonage has no hangup
// action, and an answer it cannot read would send the call to the
// fallback answer URL, which connects it). Otherwise, with recording, a
// talk action (the caller notice) and a record action first; then connect
// to a phone endpoint whose onAnswer NCCO is the whisper. With
// f.CallbackURL, the record and connect actions report to LegEventURL by
// POST, bound to the call by secret. Vonage only presents caller ids it
// allows (your Vonage numbers, or the caller's with the feature enabled).
func renderNCCO(secret []byte, f provider.Forward, ev provider.CallEvent, machine string) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Reject {
		return json.Marshal([]Action{{Action: "talk", Text: RejectText}})
	}
	var events []string
	if f.CallbackURL != "" && ev.CallID != "" {
		u, err := LegEventURL(secret, f.CallbackURL, ev.CallID, machine != "")
		if err != nil {
			return nil, err
		}
		events = []string{u}
	}
	method := ""
	if events != nil {
		method = http.MethodPost
	}
	var ncco []Action
	if f.Record {
		ncco = append(ncco, Action{Action: "talk", Text: f.RecordingNotice}, Action{Action: "record", EventURL: events, EventMethod: method})
	}
	ep := Endpoint{Type: "phone", Number: digits(f.To)}
	if f.WhisperURL != "" {
		ep.OnAnswer = &OnAnswer{URL: f.WhisperURL}
	}
	ncco = append(ncco, Action{
		Action: "connect", From: digits(f.CallerID(ev)), Timeout: f.RingSeconds(),
		MachineDetection: machine, EventURL: events, EventMethod: method,
		Endpoint: []Endpoint{ep},
	})
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

// RenderForward answers with an NCCO, running the configured machine
// detection on the forwarded leg.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := renderNCCO(p.cfg.SignatureSecret, f, ev, p.cfg.MachineDetection)
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
