package plivo

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "plivo"

// ContentType of Plivo XML answers.
const ContentType = "application/xml; charset=utf-8"

// Config configures a Provider.
type Config struct {
	// AuthToken is the (sub)account auth token, the signing key. Required.
	AuthToken string
	// DefaultRegion reads numbers that are neither E.164 nor international
	// digits; Plivo normally sends international digits ("14155550100").
	DefaultRegion string
	// SignatureV2 verifies callbacks by the older V2 scheme instead of
	// V3, for an account whose callbacks carry no V3 header. V2 signs
	// neither the query nor the body: anyone who has seen one signed
	// request can post any body to that URL. The scheme is chosen here,
	// never by the request, so a forger cannot strip V3 to be checked by
	// V2.
	SignatureV2 bool
}

// Provider implements provider.Provider for Plivo Voice.
type Provider struct{ cfg Config }

// New returns a Plivo provider.
func New(cfg Config) (*Provider, error) {
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("%w: field AuthToken: required (it is the signing key)", provider.ErrInvalidConfig)
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "plivo".
func (p *Provider) Name() string { return Name }

// Verify checks X-Plivo-Signature-V3 ([ValidateRequest]), or with
// Config.SignatureV2 X-Plivo-Signature-V2 ([ValidateRequestV2]).
func (p *Provider) Verify(r *provider.Request) error {
	if p.cfg.SignatureV2 {
		return ValidateRequestV2(p.cfg.AuthToken, r)
	}
	return ValidateRequest(p.cfg.AuthToken, r)
}

// Parse reads the answer_url request, the hangup_url callback, and the
// <Dial> and <Record> callbacks (see [ParseForm]).
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	return ParseForm(r.Body, p.cfg.DefaultRegion)
}

// plivoTime is the layout of StartTime, AnswerTime and EndTime (UTC).
const plivoTime = "2006-01-02 15:04:05"

var statuses = map[string]provider.Status{
	"ringing":     provider.StatusRinging,
	"in-progress": provider.StatusInProgress,
	"completed":   provider.StatusCompleted,
	"busy":        provider.StatusBusy,
	"failed":      provider.StatusFailed,
	"timeout":     provider.StatusNoAnswer,
	"no-answer":   provider.StatusNoAnswer,
	"cancel":      provider.StatusCanceled,
}

// ParseForm turns Plivo's form parameters into a CallEvent. The answer_url
// request (Event=StartApp, or a ringing call without Event) is the inbound
// call; the hangup_url request (Event=Hangup) and other callbacks are
// status. The <Dial> action and callbackUrl requests and the <Record>
// callbackUrl request, which come to the same URL, are told apart by
// their parameters (DialStatus, DialAction, RecordUrl) and become status
// events of the caller's call (see [ParseDialAction], [ParseDialEvent],
// [ParseRecording]). A CallUUID that [provider.CheckCallID] refuses makes
// the request malformed; a Duration that [provider.ParseSeconds] refuses
// is recorded as unknown (0) and the event kept.
func ParseForm(body []byte, defaultRegion string) (provider.CallEvent, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	switch {
	case form.Has("DialAction"):
		return ParseDialEvent(form, body)
	case form.Has("DialStatus"):
		return ParseDialAction(form, body)
	case form.Has("RecordUrl") || form.Has("record_url") || form.Has("RecordingID") || form.Has("recording_id"):
		return ParseRecording(form, body)
	}
	id := form.Get("CallUUID")
	if err := provider.CheckCallID("CallUUID", id); err != nil {
		return provider.CallEvent{}, err
	}
	status, ok := statuses[form.Get("CallStatus")]
	if !ok {
		return provider.CallEvent{}, fmt.Errorf("%w: unknown CallStatus %q", provider.ErrMalformedPayload, form.Get("CallStatus"))
	}
	ev := provider.CallEvent{
		Provider:    Name,
		CallID:      id,
		From:        phone.Normalize(form.Get("From"), defaultRegion),
		To:          phone.Normalize(form.Get("To"), defaultRegion),
		Status:      status,
		CallerName:  provider.CleanText(form.Get("CallerName"), provider.MaxTextLen),
		Attestation: attestation(form),
		Raw:         body,
	}
	if fwd := form.Get("ForwardedFrom"); fwd != "" {
		ev.ForwardedFrom = phone.Normalize(fwd, defaultRegion)
	}
	switch form.Get("Direction") {
	case "inbound":
		ev.Direction = provider.DirectionInbound
	case "outbound":
		ev.Direction = provider.DirectionOutbound
	}
	ev.StartedAt = parseTime(form.Get("StartTime"))
	ev.AnsweredAt = parseTime(form.Get("AnswerTime"))
	ev.EndedAt = parseTime(form.Get("EndTime"))
	ev.OccurredAt = latestOf(ev.StartedAt, ev.AnsweredAt, ev.EndedAt)
	if d := form.Get("Duration"); d != "" && status.Terminal() {
		ev.Duration, _ = provider.ParseSeconds("Duration", d) // unknown (0) when absurd; Raw keeps it
	}
	event := form.Get("Event")
	if event == "StartApp" || (event == "" && status == provider.StatusRinging && form.Get("Duration") == "") {
		ev.Kind = provider.KindInbound
	}
	return ev, nil
}

// attestation reads Plivo's STIR/SHAKEN result on a call webhook:
// STIRAttestation ("A", "B", "C") where sent, else STIRVerification,
// whose "Verified" Plivo documents as attestation A. "Not Verified"
// covers B, C and unsigned calls alike, and "Not Applicable" non-US
// calls, so neither names a level.
func attestation(form url.Values) provider.Attestation {
	if a, ok := provider.ParseAttestation(form.Get("STIRAttestation")); ok {
		return a
	}
	if strings.EqualFold(strings.TrimSpace(form.Get("STIRVerification")), "Verified") {
		return provider.AttestationFull
	}
	return ""
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(plivoTime, s)
	if err != nil {
		return time.Time{}
	}
	return provider.SaneTime(t)
}

func latestOf(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

type response struct {
	XMLName xml.Name `xml:"Response"`
	Speak   *speak   `xml:"Speak,omitempty"`
	Record  *record  `xml:"Record,omitempty"`
	Dial    *dial    `xml:"Dial,omitempty"`
	Hangup  *hangup  `xml:"Hangup,omitempty"`
}

type speak struct {
	Text string `xml:",chardata"`
}

type record struct {
	StartOnDialAnswer bool   `xml:"startOnDialAnswer,attr"`
	Redirect          bool   `xml:"redirect,attr"`
	CallbackURL       string `xml:"callbackUrl,attr,omitempty"`
	CallbackMethod    string `xml:"callbackMethod,attr,omitempty"`
}

type dial struct {
	Action         string `xml:"action,attr,omitempty"`
	Method         string `xml:"method,attr,omitempty"`
	CallbackURL    string `xml:"callbackUrl,attr,omitempty"`
	CallbackMethod string `xml:"callbackMethod,attr,omitempty"`
	CallerID       string `xml:"callerId,attr,omitempty"`
	Timeout        int    `xml:"timeout,attr"`
	ConfirmSound   string `xml:"confirmSound,attr,omitempty"`
	Number         string `xml:"Number"`
}

type hangup struct {
	Reason string `xml:"reason,attr,omitempty"`
}

// digits drops the '+': Plivo XML takes international digits.
func digits(e164 string) string { return strings.TrimPrefix(e164, "+") }

// RenderDial renders f as Plivo XML: an optional <Speak> caller notice and
// <Record startOnDialAnswer>, then <Dial> whose confirmSound URL plays the
// whisper to the business side. With f.CallbackURL, the Dial's action URL
// (DialStatus when the dial ends) and callbackUrl (answer, connected and
// hangup events of the business leg) and the Record's callbackUrl (the
// file is ready) all point there, POSTed. f.Reject renders
// <Hangup reason="rejected"/> instead.
func RenderDial(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if f.Reject {
		return provider.MarshalXML(response{Hangup: &hangup{Reason: "rejected"}})
	}
	d := &dial{
		CallerID:     digits(f.CallerID(ev)),
		Timeout:      f.RingSeconds(),
		ConfirmSound: f.WhisperURL,
		Number:       digits(f.To),
	}
	if f.CallbackURL != "" {
		d.Action, d.Method = f.CallbackURL, "POST"
		d.CallbackURL, d.CallbackMethod = f.CallbackURL, "POST"
	}
	r := response{Dial: d}
	if f.Record {
		r.Speak = &speak{Text: f.RecordingNotice}
		r.Record = &record{StartOnDialAnswer: true, Redirect: false}
		if f.CallbackURL != "" {
			r.Record.CallbackURL, r.Record.CallbackMethod = f.CallbackURL, "POST"
		}
	}
	return provider.MarshalXML(r)
}

// ParseDial reads a rendered <Dial> back as E.164 numbers.
func ParseDial(doc []byte) (to, callerID string, err error) {
	var r response
	if err := xml.Unmarshal(doc, &r); err != nil {
		return "", "", err
	}
	if r.Dial == nil {
		return "", "", provider.ErrMalformedPayload
	}
	return phone.Normalize(r.Dial.Number, ""), phone.Normalize(r.Dial.CallerID, ""), nil
}

// RenderForward answers with Plivo XML <Dial>, or <Hangup> for a
// rejected call.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderDial(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers the confirmSound fetch with <Speak>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := provider.MarshalXML(response{Speak: &speak{Text: text}})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers a callback with an empty response.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: []byte(xml.Header + "<Response></Response>")}
}

// FallbackDocument renders the static Plivo XML that forwards a caller to
// to (E.164): the document a host uploads to static hosting, independent
// of this application, and gives as BuyOptions.FallbackURL. Plivo fetches
// it as the Application's fallback_answer_url when answer_url fails. It
// dials without callerId, so the business sees the caller's own number.
func FallbackDocument(to string) ([]byte, error) {
	if to == "" || phone.Normalize(to, "") != to {
		return nil, fmt.Errorf("%w: field To: %q is not an E.164 number", provider.ErrInvalidForward, to)
	}
	return provider.MarshalXML(response{Dial: &dial{Timeout: provider.Forward{}.RingSeconds(), Number: digits(to)}})
}
