package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	// AccountSID, with AuthToken, is sent as HTTP Basic auth when
	// FetchRecording downloads from the API host: needed when the account
	// enforces HTTP auth on recording media. Empty fetches without it.
	AccountSID string
	// APIBase is the host recordings are served from and the only one
	// credentials are sent to; default DefaultAPIBase.
	APIBase string
	// HTTPClient fetches recordings; default a client with a 60 s timeout.
	HTTPClient *http.Client
	// NoVoicemailDetection leaves answering-machine detection off the
	// business leg: no voicemail outcome, no detection charge.
	NoVoicemailDetection bool
}

// Provider implements provider.Provider for Twilio Programmable Voice.
type Provider struct {
	name    string
	headers []string
	verify  func(*provider.Request) error
	dialect Dialect
	cfg     Config
}

var (
	_ provider.Provider         = (*Provider)(nil)
	_ provider.RecordingFetcher = (*Provider)(nil)
)

// New returns a Twilio provider.
func New(cfg Config) (*Provider, error) {
	return NewCompatible(Compatible{Name: Name, Headers: []string{SignatureHeader}}, cfg)
}

// Compatible describes a vendor that speaks Twilio's webhook dialect (same
// parameters, TwiML-style answers) under its own name.
type Compatible struct {
	// Name is the provider name in CallEvents. Required.
	Name string
	// Headers are the signature headers, tried in order; the first present
	// one is verified. Required.
	Headers []string
	// Verify replaces Twilio's verification ([ValidateRequest] with the
	// first present header) for a vendor whose SDK verifies differently.
	Verify func(r *provider.Request) error
	// NoVoicemailDetection: the vendor's <Number> has no machineDetection.
	NoVoicemailDetection bool
}

// NewCompatible returns a provider for a Twilio-dialect vendor described
// by c. SignalWire uses this.
func NewCompatible(c Compatible, cfg Config) (*Provider, error) {
	var errs []error
	if cfg.AuthToken == "" {
		errs = append(errs, errors.New("field AuthToken: required (it is the signing key)"))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("field Name: required"))
	}
	if len(c.Headers) == 0 {
		errs = append(errs, errors.New("field Headers: at least one signature header is required"))
	}
	if cfg.APIBase != "" {
		if u, err := url.Parse(cfg.APIBase); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("field APIBase: %q is not an absolute URL", cfg.APIBase))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	p := &Provider{name: c.Name, headers: c.Headers, verify: c.Verify, cfg: cfg,
		dialect: Dialect{Callbacks: true, VoicemailDetection: !c.NoVoicemailDetection && !cfg.NoVoicemailDetection}}
	return p, nil
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.name }

// Verify checks the signature header.
func (p *Provider) Verify(r *provider.Request) error {
	if p.verify != nil {
		return p.verify(r)
	}
	header := p.headers[0]
	for _, h := range p.headers {
		if r.Header.Get(h) != "" {
			header = h
			break
		}
	}
	return ValidateRequest(p.cfg.AuthToken, r, header)
}

// Parse reads the voice webhook, a status callback, the <Dial action>
// report of the forward, the recording callback or the answering-machine
// verdict (see [ParseForm]). The verdict is reported on the business leg;
// it is filed under the caller's call named by the URL's [ParentParam]
// (or a ParentCallSid parameter) and ignored without one.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	ev, err := ParseForm(r.Body, p.cfg.DefaultRegion)
	ev.Provider = p.name
	if err != nil {
		return ev, err
	}
	form, _ := url.ParseQuery(string(r.Body)) // ParseForm read it
	if form.Get("AnsweredBy") == "" {
		return ev, nil
	}
	parent := queryParam(r.URL, ParentParam)
	if parent == "" {
		parent = form.Get("ParentCallSid")
	}
	if parent == "" || provider.CheckCallID(ParentParam, parent) != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: an answering-machine verdict without the caller's call", provider.ErrIgnoredEvent)
	}
	// Only the verdict belongs to the caller's call: the business leg's
	// numbers, status and times are not the caller's.
	return provider.CallEvent{Provider: p.name, CallID: parent, Kind: provider.KindStatus, Outcome: ev.Outcome, Raw: ev.Raw}, nil
}

func queryParam(rawURL, key string) string {
	_, query, ok := strings.Cut(rawURL, "?")
	if !ok || !strings.Contains(query, key) {
		return ""
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return ""
	}
	return q.Get(key)
}

// ParseForm turns Twilio's form parameters into a CallEvent.
//
// The voice webhook and the callbacks share one parameter set. A request
// is a callback (provider.KindStatus) when it carries DialCallStatus (the
// <Dial action> report), RecordingSid (the recording callback), AnsweredBy
// (the answering-machine verdict), CallbackSource or CallDuration, or a
// status past ringing; the inbound-call webhook otherwise, which must
// carry a known CallStatus. The inbound webhook's StirVerstat becomes the
// attestation.
//
// The <Dial action> report carries the caller's CallSid and CallStatus:
// DialCallStatus completed or answered is OutcomeAnswered with TalkTime
// DialCallDuration; busy, no-answer and failed map to themselves;
// canceled, or no-answer while the caller's own call is already
// completed, is OutcomeAbandoned (the caller hung up while the business
// line rang: calltrack never cancels a forward, so nothing else cancels
// it). AnsweredBy machine_* or fax is OutcomeVoicemail and human
// OutcomeAnswered; such a verdict's CallSid is the business leg's (see
// Provider.Parse). A completed recording callback sets Recording; one
// reporting the recording absent is provider.ErrIgnoredEvent.
//
// A CallSid that [provider.CheckCallID] refuses makes the request
// malformed; a CallDuration, DialCallDuration or RecordingDuration that
// [provider.ParseSeconds] refuses is recorded as unknown (0) and the event
// kept, so the call's status is not lost to a vendor retry.
func ParseForm(body []byte, defaultRegion string) (provider.CallEvent, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	callSid := form.Get("CallSid")
	if err := provider.CheckCallID("CallSid", callSid); err != nil {
		return provider.CallEvent{}, err
	}
	isCallback := form.Has("DialCallStatus") || form.Has("RecordingSid") || form.Has("AnsweredBy")
	status, ok := statuses[form.Get("CallStatus")]
	if !ok && !(isCallback && form.Get("CallStatus") == "") {
		return provider.CallEvent{}, fmt.Errorf("%w: field CallStatus: unknown value %q", provider.ErrMalformedPayload, form.Get("CallStatus"))
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
	isStatus := isCallback || form.Get("CallbackSource") != "" || form.Get("CallDuration") != "" || status.Rank() > provider.StatusRinging.Rank()
	if isStatus {
		ev.Kind = provider.KindStatus
	} else {
		ev.Kind = provider.KindInbound
		ev.StartedAt = ev.OccurredAt
		if a, ok := provider.ParseAttestation(form.Get("StirVerstat")); ok {
			ev.Attestation = a
		}
	}
	switch {
	case status == provider.StatusInProgress:
		ev.AnsweredAt = ev.OccurredAt
	case status.Terminal():
		ev.EndedAt = ev.OccurredAt
	}
	if form.Has("DialCallStatus") {
		ev.Outcome = dialOutcome(form.Get("DialCallStatus"), status)
		if ev.Outcome == provider.OutcomeAnswered {
			ev.TalkTime, _ = provider.ParseSeconds("DialCallDuration", form.Get("DialCallDuration"))
		}
	}
	if v := form.Get("AnsweredBy"); v != "" {
		ev.Outcome = amdOutcome(v)
	}
	if form.Has("RecordingSid") {
		rec, err := recording(form)
		if err != nil {
			return provider.CallEvent{}, err
		}
		ev.Recording = rec
	}
	return ev, nil
}

// dialOutcome maps DialCallStatus; parent is the caller's own CallStatus
// in the same request.
func dialOutcome(s string, parent provider.Status) provider.Outcome {
	switch s {
	case "completed", "answered":
		return provider.OutcomeAnswered
	case "busy":
		return provider.OutcomeBusy
	case "failed":
		return provider.OutcomeFailed
	case "canceled":
		return provider.OutcomeAbandoned
	case "no-answer":
		if parent == provider.StatusCompleted {
			return provider.OutcomeAbandoned
		}
		return provider.OutcomeNoAnswer
	}
	return provider.OutcomeUnknown
}

// amdOutcome maps AnsweredBy (Twilio's AMD: human, machine_start,
// machine_end_beep, machine_end_silence, machine_end_other, fax,
// unknown).
func amdOutcome(s string) provider.Outcome {
	switch {
	case s == "human":
		return provider.OutcomeAnswered
	case strings.HasPrefix(s, "machine_") || s == "fax":
		return provider.OutcomeVoicemail
	}
	return provider.OutcomeUnknown
}

func recording(form url.Values) (provider.Recording, error) {
	switch form.Get("RecordingStatus") {
	case "", "completed":
	default: // in-progress, absent: nothing to keep (yet)
		return provider.Recording{}, fmt.Errorf("%w: recording %s", provider.ErrIgnoredEvent, provider.CleanText(form.Get("RecordingStatus"), 32))
	}
	sid := form.Get("RecordingSid")
	if err := provider.CheckCallID("RecordingSid", sid); err != nil {
		return provider.Recording{}, err
	}
	rec := provider.Recording{ID: sid}
	if u, err := url.Parse(form.Get("RecordingUrl")); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		rec.URL = provider.CleanText(u.String(), 2048)
	}
	rec.Duration, _ = provider.ParseSeconds("RecordingDuration", form.Get("RecordingDuration")) // unknown (0) when absurd
	return rec, nil
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

// RenderForward answers with TwiML <Dial> (see [RenderDialFor]) whose
// action, recording and answering-machine callbacks point at
// f.CallbackURL, or with <Reject>.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderDialFor(p.dialect, f, ev)
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

// Ack answers a callback with an empty TwiML document.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: EmptyResponse()}
}

// FetchRecording downloads rec.URL. Requests to Config.APIBase's host
// over HTTPS carry AccountSID:AuthToken as HTTP Basic auth when AccountSID
// is set (accounts may require it for recording media); nothing else ever
// receives the credentials. The caller closes the body.
func (p *Provider) FetchRecording(ctx context.Context, rec provider.Recording) (io.ReadCloser, error) {
	u, err := url.Parse(rec.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%s: field URL: %q is not an absolute http(s) URL", p.name, rec.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if api, _ := url.Parse(p.cfg.APIBase); p.cfg.AccountSID != "" && api != nil && u.Scheme == "https" && api.Scheme == "https" && strings.EqualFold(u.Host, api.Host) {
		req.SetBasicAuth(p.cfg.AccountSID, p.cfg.AuthToken)
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: fetching recording %s: %w", p.name, rec.ID, err)
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: fetching recording %s: HTTP %d", p.name, rec.ID, resp.StatusCode)
	}
	return resp.Body, nil
}
