package bandwidth

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "bandwidth"

// ContentType of BXML answers.
const ContentType = "application/xml; charset=utf-8"

// Config configures a Provider.
type Config struct {
	// CallbackUsername and CallbackPassword are the voice application's
	// callback credentials. Required: without them anyone can post calls.
	CallbackUsername string
	CallbackPassword string
}

// Provider implements provider.Provider for Bandwidth Voice.
type Provider struct{ cfg Config }

// New returns a Bandwidth provider.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if cfg.CallbackUsername == "" {
		errs = append(errs, errors.New("field CallbackUsername: required"))
	}
	if cfg.CallbackPassword == "" {
		errs = append(errs, errors.New("field CallbackPassword: required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	return &Provider{cfg: cfg}, nil
}

// Name returns "bandwidth".
func (p *Provider) Name() string { return Name }

// Verify checks the callback's basic-auth credentials.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifyBasicAuth(r.Header.Get(AuthorizationHeader), p.cfg.CallbackUsername, p.cfg.CallbackPassword)
}

// Parse reads a callback.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	return ParseCallback(r.Body)
}

type callback struct {
	EventType  string    `json:"eventType"`
	EventTime  time.Time `json:"eventTime"`
	CallID     string    `json:"callId"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Direction  string    `json:"direction"`
	StartTime  time.Time `json:"startTime"`
	AnswerTime time.Time `json:"answerTime"`
	EndTime    time.Time `json:"endTime"`
	Cause      string    `json:"cause"`
	Diversion  *struct {
		OrigTo string `json:"origTo"`
	} `json:"diversion"`
}

var disconnectCauses = map[string]provider.Status{
	"hangup":   provider.StatusCompleted,
	"busy":     provider.StatusBusy,
	"timeout":  provider.StatusNoAnswer,
	"cancel":   provider.StatusCanceled,
	"rejected": provider.StatusFailed,
}

// ParseCallback reads a Bandwidth voice callback. initiate is the inbound
// call; answer and disconnect are status; other events (transfer*,
// gather, redirect, ...) are provider.ErrIgnoredEvent. A disconnect with
// cause "hangup" is completed only if the call was answered (otherwise
// the caller gave up: canceled); its Duration is endTime − answerTime
// ([provider.Elapsed]: unknown, 0, when absurd). A callId that
// [provider.CheckCallID] refuses makes the request malformed.
func ParseCallback(body []byte) (provider.CallEvent, error) {
	var cb callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return provider.CallEvent{}, fmt.Errorf("%w: %v", provider.ErrMalformedPayload, err)
	}
	if cb.CallID == "" || cb.EventType == "" {
		return provider.CallEvent{}, fmt.Errorf("%w: callId and eventType are required", provider.ErrMalformedPayload)
	}
	if err := provider.CheckCallID("callId", cb.CallID); err != nil {
		return provider.CallEvent{}, err
	}
	answered, end := provider.SaneTime(cb.AnswerTime), provider.SaneTime(cb.EndTime)
	ev := provider.CallEvent{
		Provider:   Name,
		CallID:     cb.CallID,
		From:       phone.Normalize(cb.From, ""),
		To:         phone.Normalize(cb.To, ""),
		OccurredAt: provider.SaneTime(cb.EventTime),
		StartedAt:  provider.SaneTime(cb.StartTime),
		AnsweredAt: answered,
		Raw:        body,
	}
	if cb.Diversion != nil {
		ev.ForwardedFrom = phone.Normalize(cb.Diversion.OrigTo, "")
	}
	switch cb.Direction {
	case "inbound":
		ev.Direction = provider.DirectionInbound
	case "outbound":
		ev.Direction = provider.DirectionOutbound
	}
	switch cb.EventType {
	case "initiate":
		ev.Kind = provider.KindInbound
		ev.Status = provider.StatusRinging
	case "answer":
		ev.Status = provider.StatusInProgress
	case "disconnect":
		st, ok := disconnectCauses[cb.Cause]
		if !ok {
			st = provider.StatusFailed
		}
		if st == provider.StatusCompleted && answered.IsZero() {
			st = provider.StatusCanceled
		}
		ev.Status = st
		ev.EndedAt = end
		if st == provider.StatusCompleted {
			ev.Duration = provider.Elapsed(answered, end)
		}
	default:
		return provider.CallEvent{}, provider.ErrIgnoredEvent
	}
	return ev, nil
}

type response struct {
	XMLName        xml.Name        `xml:"Response"`
	SpeakSentence  *speakSentence  `xml:"SpeakSentence,omitempty"`
	StartRecording *startRecording `xml:"StartRecording,omitempty"`
	Transfer       *transfer       `xml:"Transfer,omitempty"`
}

type speakSentence struct {
	Text string `xml:",chardata"`
}

type startRecording struct{}

type transfer struct {
	TransferCallerID string      `xml:"transferCallerId,attr,omitempty"`
	CallTimeout      string      `xml:"callTimeout,attr"`
	PhoneNumber      phoneNumber `xml:"PhoneNumber"`
}

type phoneNumber struct {
	TransferAnswerURL    string `xml:"transferAnswerUrl,attr,omitempty"`
	TransferAnswerMethod string `xml:"transferAnswerMethod,attr,omitempty"`
	Value                string `xml:",chardata"`
}

// RenderTransfer renders f as BXML: with recording, a <SpeakSentence>
// caller notice and <StartRecording/>; then <Transfer> to a
// <PhoneNumber> whose transferAnswerUrl plays the whisper to the business
// side before bridging.
func RenderTransfer(f provider.Forward, ev provider.CallEvent) ([]byte, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	r := response{Transfer: &transfer{
		TransferCallerID: f.CallerID(ev),
		CallTimeout:      strconv.Itoa(f.RingSeconds()),
		PhoneNumber:      phoneNumber{Value: f.To},
	}}
	if f.WhisperURL != "" {
		r.Transfer.PhoneNumber.TransferAnswerURL = f.WhisperURL
		r.Transfer.PhoneNumber.TransferAnswerMethod = "POST"
	}
	if f.Record {
		r.SpeakSentence = &speakSentence{Text: f.RecordingNotice}
		r.StartRecording = &startRecording{}
	}
	return provider.MarshalXML(r)
}

// ParseTransfer reads a rendered <Transfer> back.
func ParseTransfer(doc []byte) (to, callerID string, err error) {
	var r response
	if err := xml.Unmarshal(doc, &r); err != nil {
		return "", "", err
	}
	if r.Transfer == nil {
		return "", "", provider.ErrMalformedPayload
	}
	return r.Transfer.PhoneNumber.Value, r.Transfer.TransferCallerID, nil
}

// RenderForward answers with BXML <Transfer>.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderTransfer(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers the transferAnswer callback with <SpeakSentence>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := provider.MarshalXML(response{SpeakSentence: &speakSentence{Text: text}})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers a callback with an empty BXML document.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: []byte(xml.Header + "<Response></Response>")}
}
